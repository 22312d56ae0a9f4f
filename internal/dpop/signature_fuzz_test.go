package dpop

import (
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
)

// FuzzVerifySignatureMatchesGoJose is the differential test of the proof
// signature check against go-jose's verifier: for every algorithm of
// DefaultAlgs, any payload and any signature bytes, verifySignature
// accepts exactly what go-jose's JSONWebSignature.Verify accepts. The
// seeds are valid signatures, so that mutations explore the edge of
// acceptance (a bit flipped, a byte cut or added, R or S changed).
func FuzzVerifySignatureMatchesGoJose(f *testing.F) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys := []struct {
		alg  jose.SignatureAlgorithm
		priv crypto.Signer
	}{{jose.ES256, ec256}, {jose.ES384, ec384}, {jose.RS256, rsaKey}, {jose.PS256, rsaKey}, {jose.EdDSA, edKey}}
	for i, k := range keys {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, nil)
		if err != nil {
			f.Fatal(err)
		}
		payload := []byte(`{"jti":"seed","htm":"POST"}`)
		jws, err := signer.Sign(payload)
		if err != nil {
			f.Fatal(err)
		}
		compact, err := jws.CompactSerialize()
		if err != nil {
			f.Fatal(err)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(compact[strings.LastIndex(compact, ".")+1:])
		// The header go-jose wrote is the one rebuilt below ({"alg":...}).
		f.Add(uint8(i), payload, sig)
		f.Add(uint8(i), payload, append([]byte{0}, sig...))
	}
	f.Fuzz(func(t *testing.T, which uint8, payload, sig []byte) {
		k := keys[int(which)%len(keys)]
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + string(k.alg) + `"}`))
		input := header + "." + base64.RawURLEncoding.EncodeToString(payload)
		jws, err := jose.ParseSignedCompact(input+"."+base64.RawURLEncoding.EncodeToString(sig), []jose.SignatureAlgorithm{k.alg})
		if err != nil {
			t.Fatalf("go-jose refused to parse a well-formed compact JWS: %v", err)
		}
		_, verr := jws.Verify(k.priv.Public())
		goJose := verr == nil
		if ours := verifySignature(string(k.alg), k.priv.Public(), input, sig); ours != goJose {
			t.Fatalf("%s: verifySignature %v, go-jose %v (signature %x)", k.alg, ours, goJose, sig)
		}
	})
}
