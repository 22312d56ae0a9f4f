package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
)

// TestVerifyEveryAlg: the signature check (verifySignature) accepts a
// proof that go-jose signed for every algorithm of DefaultAlgs, gives the
// key's go-jose RFC 7638 thumbprint as JKT, and refuses the same proof
// with its signature altered, truncated, extended, re-encoded
// non-canonically or taken from another key.
func TestVerifyEveryAlg(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	req := dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL}
	for _, c := range []struct {
		alg  jose.SignatureAlgorithm
		key  crypto.Signer
		jwk  any // as sent in the header
		want any // the public key the thumbprint is of
	}{
		{jose.ES256, ec256, jose.JSONWebKey{Key: ec256.Public()}, ec256.Public()},
		{jose.ES384, ec384, jose.JSONWebKey{Key: ec384.Public()}, ec384.Public()},
		{jose.RS256, rsaKey, jose.JSONWebKey{Key: rsaKey.Public()}, rsaKey.Public()},
		{jose.PS256, rsaKey, jose.JSONWebKey{Key: rsaKey.Public()}, rsaKey.Public()},
		{jose.EdDSA, edKey, jose.JSONWebKey{Key: edKey.Public()}, edKey.Public()},
		// n with a leading zero octet: the same key, so the same
		// thumbprint (RFC 7638 §3.3 uses the minimal encoding).
		{jose.RS256, rsaKey, map[string]string{
			"kty": "RSA", "e": "AQAB",
			"n": base64.RawURLEncoding.EncodeToString(append([]byte{0}, rsaKey.N.Bytes()...)),
		}, rsaKey.Public()},
	} {
		t.Run(string(c.alg), func(t *testing.T) {
			wantJKT, err := dpop.Thumbprint(jose.JSONWebKey{Key: c.want})
			if err != nil {
				t.Fatal(err)
			}
			hdr := map[string]any{"typ": "dpop+jwt", "jwk": c.jwk}
			proof := sign(t, c.key, c.alg, hdr, claims(nil))
			p, err := newVerifier().Verify(context.Background(), []string{proof}, req)
			if err != nil {
				t.Fatalf("valid %s proof refused: %v", c.alg, err)
			}
			if p.JKT != wantJKT || p.Alg != string(c.alg) {
				t.Fatalf("jkt %q alg %q, want %q %s", p.JKT, p.Alg, wantJKT, c.alg)
			}
			for name, bad := range alteredSignatures(t, proof, sign(t, other, jose.ES256, hdr, claims(nil))) {
				_, err := newVerifier().Verify(context.Background(), []string{bad}, req)
				if err == nil {
					t.Fatalf("%s: accepted", name)
				}
				wantCode(t, err, dpop.ErrInvalidProof)
			}
		})
	}
}

// alteredSignatures returns proof with its signature part changed in
// every way a verifier must notice; foreign is a proof by another key.
func alteredSignatures(t *testing.T, proof, foreign string) map[string]string {
	t.Helper()
	cut := strings.LastIndex(proof, ".")
	input, sigPart := proof[:cut+1], proof[cut+1:]
	sig, err := base64.RawURLEncoding.DecodeString(sigPart)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), sig...)
	flipped[len(flipped)/2] ^= 1
	enc := base64.RawURLEncoding.EncodeToString
	out := map[string]string{
		"bit flipped":       input + enc(flipped),
		"truncated":         input + enc(sig[:len(sig)-1]),
		"extended":          input + enc(append(append([]byte(nil), sig...), 0)),
		"empty":             input,
		"other key's":       input + foreign[strings.LastIndex(foreign, ".")+1:],
		"payload tampered":  strings.Replace(input, ".", ".e", 1) + sigPart,
		"header tampered":   "e" + input + sigPart,
		"no signature part": input[:len(input)-1],
	}
	if pad := (4 - len(sigPart)%4) % 4; pad > 0 {
		out["padded base64"] = input + sigPart + strings.Repeat("=", pad)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// A non-canonical encoding of the same bytes (unused low bits set),
	// where the length leaves any: strict base64url refuses it.
	if rem := len(sig) % 3; rem != 0 {
		last := sigPart[len(sigPart)-1]
		idx := strings.IndexByte(alphabet, last)
		out["non-canonical base64"] = input + sigPart[:len(sigPart)-1] + string(alphabet[idx|1])
	}
	return out
}
