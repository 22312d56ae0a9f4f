package jwtx

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	rsaKey2  *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

// testKeys generates the keys once per test binary: RSA generation is slow.
func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsaKey2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// craft signs an arbitrary header and claim set by hand, so tests can send
// headers go-jose would never produce (duplicates, crit, jku) with a valid
// signature: the rejection must come from the structural checks.
func craft(t testing.TB, header, claims string, key any) string {
	t.Helper()
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(rawSign(t, input, key))
}

func rawSign(t testing.TB, input string, key any) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(input))
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return sig
	case ed25519.PrivateKey:
		return ed25519.Sign(k, []byte(input))
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		return m.Sum(nil)
	case nil:
		return nil
	}
	t.Fatalf("unsupported key %T", key)
	return nil
}

// sign uses go-jose to sign claims, the way a real client would.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	var sk any = key
	if kid != "" {
		sk = jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(alg)}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: sk}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pubJWK(key crypto.Signer, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: key.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
}

var testNow = time.Unix(1_800_000_000, 0)

func goodClaims() map[string]any {
	return map[string]any{
		"iss": "client-1", "sub": "client-1", "aud": "https://as.example/w/default",
		"jti": "jti-1", "iat": testNow.Unix(), "exp": testNow.Add(5 * time.Minute).Unix(),
	}
}

func expected() Expected {
	return Expected{
		Issuer: "client-1", Subject: "client-1",
		Audiences:  []string{"https://as.example/w/default"},
		Now:        testNow,
		RequireJTI: true, RequireExp: true,
		MaxLifetime: 10 * time.Minute,
		RejectTypes: []string{"at+jwt", "application/dpop+jwt", "oauth-authz-req+jwt", "logout+jwt"},
	}
}

var asym = []string{"RS256", "PS256", "ES256", "EdDSA"}

func claimsJSON(t testing.TB, m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hdr(alg, extra string) string { return fmt.Sprintf(`{"alg":%q%s}`, alg, extra) }

// assertDescription checks err against its sentinel, its exact public
// description, and that the description is fit for error_description
// (RFC 6749 §5.2: printable ASCII without '"' and '\'); wantLog, when
// set, must appear in Error() (the logged text) and never in Describe.
func assertDescription(t *testing.T, err error, kind error, want, wantLog string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("error %q is not %q", err, kind)
	}
	got := Describe(err)
	if got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if !fitForErrorDescription(got) {
		t.Errorf("Describe = %q has characters outside RFC 6749 §5.2 error_description", got)
	}
	if wantLog == "" {
		return
	}
	if !strings.Contains(err.Error(), wantLog) {
		t.Errorf("Error() = %q does not contain the detail %q", err.Error(), wantLog)
	}
	if strings.Contains(got, wantLog) {
		t.Errorf("Describe = %q carries the detail %q", got, wantLog)
	}
}

// fitForErrorDescription: RFC 6749 §5.2 allows %x20-21 / %x23-5B / %x5D-7E.
func fitForErrorDescription(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}
