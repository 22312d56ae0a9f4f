package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// rsaBits is the RSA modulus size of generated keys (FAPI 2.0 Security
// Profile §5.4.1 item 2: at least 2048).
const rsaBits = 2048

// ErrUnsupportedAlg is returned for an algorithm outside oauth2.SigningAlgs.
var ErrUnsupportedAlg = errors.New("signing: unsupported signing algorithm")

// ValidAlg reports whether alg is one a workspace may sign with.
func ValidAlg(alg string) bool { return slices.Contains(oauth2.SigningAlgs, alg) }

// KeyAAD is the additional data that binds an encrypted private key to its
// workspace and kid.
func KeyAAD(wsID, kid string) []byte {
	return []byte("signing-key\x00" + wsID + "\x00" + kid)
}

// generatePrivate creates a key pair for alg.
func generatePrivate(alg string) (crypto.Signer, error) {
	switch alg {
	case oauth2.AlgRS256, oauth2.AlgPS256:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case oauth2.AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case oauth2.AlgEdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
}

// publicJWK returns the published form of pub: use "sig", alg, and the
// RFC 7638 thumbprint as kid.
func publicJWK(pub crypto.PublicKey, alg string) (jose.JSONWebKey, error) {
	jwk := jose.JSONWebKey{Key: pub, Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing: thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return jwk, nil
}

// newStoredKey generates a key for alg and returns it ready to store, with
// its private part encrypted under kr. The caller sets its State.
func newStoredKey(kr *secrets.Keyring, wsID, alg string, now time.Time) (storage.SigningKey, error) {
	priv, err := generatePrivate(alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	jwk, err := publicJWK(priv.Public(), alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	pub, err := jwk.MarshalJSON()
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("signing: encode public key: %w", err)
	}
	ct, err := encryptPrivate(kr, wsID, jwk.KeyID, priv)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{
		WorkspaceID: wsID, KID: jwk.KeyID, Alg: alg,
		PrivateCiphertext: ct, PublicJWK: pub, CreatedAt: now,
	}, nil
}

func encryptPrivate(kr *secrets.Keyring, wsID, kid string, priv crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signing: encode private key: %w", err)
	}
	defer clear(der)
	ct, err := kr.Encrypt(der, KeyAAD(wsID, kid))
	if err != nil {
		return nil, fmt.Errorf("signing: encrypt private key: %w", err)
	}
	return ct, nil
}

// decryptPrivate opens a stored private key and checks that it is the key
// the row claims to be: right algorithm family, and a public part whose
// thumbprint is the kid.
func decryptPrivate(kr *secrets.Keyring, k storage.SigningKey) (crypto.Signer, error) {
	der, err := kr.Decrypt(k.PrivateCiphertext, KeyAAD(k.WorkspaceID, k.KID))
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", k.KID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: parse private key: %w", k.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok || !keyFitsAlg(priv.Public(), k.Alg) {
		return nil, fmt.Errorf("signing: key %s does not fit alg %s", k.KID, k.Alg)
	}
	jwk, err := publicJWK(priv.Public(), k.Alg)
	if err != nil || jwk.KeyID != k.KID {
		return nil, fmt.Errorf("signing: key %s: private key does not match its kid", k.KID)
	}
	return priv, nil
}

// parsePublic parses a stored public JWK and checks it against its row. A
// JWK holding private members is refused, so it can never be published
// (SECURITY.md O6).
func parsePublic(k storage.SigningKey) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(k.PublicJWK); err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("signing: key %s: parse public JWK: %w", k.KID, err)
	}
	switch {
	case !jwk.IsPublic():
		return jose.JSONWebKey{}, fmt.Errorf("signing: key %s: stored JWK is not a public key", k.KID)
	case jwk.KeyID != k.KID || jwk.Algorithm != k.Alg:
		return jose.JSONWebKey{}, fmt.Errorf("signing: key %s: stored JWK does not match its row", k.KID)
	case !keyFitsAlg(jwk.Key, k.Alg):
		return jose.JSONWebKey{}, fmt.Errorf("signing: key %s does not fit alg %s", k.KID, k.Alg)
	}
	jwk.Use = "sig"
	return jwk, nil
}

// keyFitsAlg reports whether pub is a key that alg may use (RFC 8725 §3.1:
// each key is used with exactly one algorithm family).
func keyFitsAlg(pub crypto.PublicKey, alg string) bool {
	switch alg {
	case oauth2.AlgRS256, oauth2.AlgPS256:
		k, ok := pub.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= rsaBits
	case oauth2.AlgES256:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve == elliptic.P256()
	case oauth2.AlgEdDSA:
		_, ok := pub.(ed25519.PublicKey)
		return ok
	}
	return false
}
