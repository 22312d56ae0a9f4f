package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ProofSigner builds DPoP proofs with one key: the client side of RFC 9449
// §4 (used by `latchkey token --dpop`, the tests and the documentation's
// example).
type ProofSigner struct {
	signer jose.Signer
	jwk    jose.JSONWebKey
	jkt    string
}

// NewProofSigner returns a signer for key (*ecdsa.PrivateKey,
// *rsa.PrivateKey or ed25519.PrivateKey) with alg, or, for a nil key, a
// freshly generated P-256 key with ES256.
func NewProofSigner(key crypto.Signer, alg jose.SignatureAlgorithm) (*ProofSigner, error) {
	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("dpop: generate key: %w", err)
		}
		key, alg = k, jose.ES256
	}
	if alg == "" {
		alg = defaultAlg(key)
	}
	pub := jose.JSONWebKey{Key: key.Public()}
	jkt, err := Thumbprint(pub)
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(Type)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("dpop: signer: %w", err)
	}
	return &ProofSigner{signer: s, jwk: pub, jkt: jkt}, nil
}

func defaultAlg(key crypto.Signer) jose.SignatureAlgorithm {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return jose.PS256
	case ed25519.PrivateKey:
		return jose.EdDSA
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P384() {
			return jose.ES384
		}
	}
	return jose.ES256
}

// JKT is the thumbprint of the signer's public key (cnf.jkt, dpop_jkt).
func (p *ProofSigner) JKT() string { return p.jkt }

// Proof returns a proof for method and uri at now; nonce and accessToken
// (whose hash becomes ath) are optional.
func (p *ProofSigner) Proof(method, uri, nonce, accessToken string, now time.Time) (string, error) {
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // crypto/rand.Read never fails (Go 1.24+).
	claims := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]), "htm": method, "htu": uri, "iat": now.Unix(),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		claims["ath"] = ATH(accessToken)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("dpop: encode proof: %w", err)
	}
	jws, err := p.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop: sign proof: %w", err)
	}
	return jws.CompactSerialize()
}
