package oauthclient

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestOpenJWTResponse: the allowlist and checks of openJWTResponse on
// JWEs built here (the end-to-end cases against Latchkey are in
// lke2e TestEncryptedJARMAgainstLatchkey).
func TestOpenJWTResponse(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	const inner = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"
	encrypt := func(alg jose.KeyAlgorithm, to any, plain string, opts *jose.EncrypterOptions) string {
		t.Helper()
		e, err := jose.NewEncrypter(jose.A128GCM, jose.Recipient{Algorithm: alg, Key: to}, opts)
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.Encrypt([]byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := o.CompactSerialize()
		return s
	}
	cases := []struct {
		name string
		raw  string
		s    Secured
		want string // "" = inner returned
	}{
		{"signed only", inner, Secured{}, ""},
		{"signed only, encryption required", inner, Secured{RequireEncryption: true}, "not encrypted"},
		{"RSA-OAEP-256", encrypt(jose.RSA_OAEP_256, &rsaKey.PublicKey, inner, nil), Secured{DecryptionKey: rsaKey}, ""},
		{"ECDH-ES+A128KW", encrypt(jose.ECDH_ES_A128KW, &ecKey.PublicKey, inner, nil), Secured{DecryptionKey: ecKey}, ""},
		{"no key", encrypt(jose.RSA_OAEP_256, &rsaKey.PublicKey, inner, nil), Secured{}, "give the client's decryption key"},
		{"Ed25519 key", encrypt(jose.RSA_OAEP_256, &rsaKey.PublicKey, inner, nil), Secured{DecryptionKey: edKey}, "cannot decrypt"},
		{"wrong key", encrypt(jose.ECDH_ES, &ecKey.PublicKey, inner, nil), Secured{DecryptionKey: rsaKey}, "cannot be decrypted"},
		{"RSA1_5 refused", encrypt(jose.RSA1_5, &rsaKey.PublicKey, inner, nil), Secured{DecryptionKey: rsaKey}, "encrypted JWT authorization response"},
		{"zip refused", encrypt(jose.RSA_OAEP_256, &rsaKey.PublicKey, inner, (&jose.EncrypterOptions{Compression: jose.DEFLATE})), Secured{DecryptionKey: rsaKey}, "compressed"},
		{"not a nested JWT", encrypt(jose.RSA_OAEP_256, &rsaKey.PublicKey, "code=abc", nil), Secured{DecryptionKey: rsaKey}, "does not hold a signed JWT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := openJWTResponse(tc.raw, tc.s)
			if tc.want == "" {
				if err != nil || got != inner {
					t.Fatalf("got %q, %v; want the inner JWT", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %q, %v; want an error saying %q", got, err, tc.want)
			}
		})
	}
}
