package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/dpop"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// memJTI is an in-memory single-use store for unit tests (the real one is
// storage UseJTI, covered by the conformance suite and the e2e tests).
type memJTI struct {
	mu   sync.Mutex
	seen map[storage.JTI]bool
}

func (m *memJTI) UseJTI(_ context.Context, j storage.JTI) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j.ExpiresAt = time.Time{}
	if m.seen[j] {
		return storage.ErrAlreadyExists
	}
	if m.seen == nil {
		m.seen = map[storage.JTI]bool{}
	}
	m.seen[j] = true
	return nil
}

const tokenURL = "https://as.example/w/acme/oauth2/token"

var now = time.Unix(1_800_000_000, 0)

func newVerifier() *dpop.Verifier {
	return &dpop.Verifier{Store: &memJTI{}, Nonces: &dpop.Nonces{Secret: make([]byte, 32)}, Now: func() time.Time { return now }}
}

func signer(t testing.TB) *dpop.ProofSigner {
	t.Helper()
	s, err := dpop.NewProofSigner(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sign builds a proof from raw header and claims with key (to forge any
// shape the ProofSigner would not).
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, header map[string]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: map[jose.HeaderKey]any{}}
	for k, v := range header {
		opts.ExtraHeaders[jose.HeaderKey(k)] = v
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func claims(extra map[string]any) map[string]any {
	c := map[string]any{"jti": base64.RawURLEncoding.EncodeToString([]byte(time.Now().String())), "htm": "POST", "htu": tokenURL, "iat": now.Unix()}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func wantCode(t *testing.T, err error, code oauth2.ErrorCode) {
	t.Helper()
	var e *oauth2.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if e.Description == "" || strings.ContainsAny(e.Description, "\"\\") {
		t.Fatalf("description %q is empty or not wire-safe", e.Description)
	}
}

func TestVerifyAccepts(t *testing.T) {
	v, s := newVerifier(), signer(t)
	for _, uri := range []string{tokenURL, "HTTPS://AS.EXAMPLE:443/w/acme/oauth2/token", tokenURL + "?x=1", tokenURL + "#f", "https://as.example/w/acme/oauth2/./token"} {
		proof, err := s.Proof("POST", uri, "", "", now.Add(-5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		p, err := v.Verify(context.Background(), []string{proof}, dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL})
		if err != nil {
			t.Fatalf("htu %q: %v", uri, err)
		}
		if p.JKT != s.JKT() || len(p.JKT) != 43 {
			t.Fatalf("jkt %q, want %q", p.JKT, s.JKT())
		}
	}
}

// TestVerifyRefuses is the table of SECURITY.md S1–S7 at the unit level;
// internal/e2e/dpop_test.go repeats them through a real server.
func TestVerifyRefuses(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	pub := jose.JSONWebKey{Key: ec.Public()}
	priv := jose.JSONWebKey{Key: ec}
	good := map[string]any{"typ": "dpop+jwt", "jwk": pub}
	hdr := func(k string, v any) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "jwk": pub}
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
		return h
	}
	cases := []struct {
		name  string
		proof string
		req   func(*dpop.Request)
		code  oauth2.ErrorCode
	}{
		{"typ missing", sign(t, ec, jose.ES256, hdr("typ", nil), claims(nil)), nil, dpop.ErrInvalidProof},
		{"typ JWT", sign(t, ec, jose.ES256, hdr("typ", "JWT"), claims(nil)), nil, dpop.ErrInvalidProof},
		{"typ at+jwt", sign(t, ec, jose.ES256, hdr("typ", "at+jwt"), claims(nil)), nil, dpop.ErrInvalidProof},
		{"typ upper case", sign(t, ec, jose.ES256, hdr("typ", "DPOP+JWT"), claims(nil)), nil, dpop.ErrInvalidProof},
		{"jwk missing", sign(t, ec, jose.ES256, hdr("jwk", nil), claims(nil)), nil, dpop.ErrInvalidProof},
		{"private jwk", sign(t, ec, jose.ES256, hdr("jwk", priv), claims(nil)), nil, dpop.ErrInvalidProof},
		{"jku", sign(t, ec, jose.ES256, hdr("jku", "http://127.0.0.1:1/jwks"), claims(nil)), nil, dpop.ErrInvalidProof},
		{"symmetric HS256", sign(t, []byte(strings.Repeat("k", 32)), jose.HS256, hdr("jwk", map[string]string{"kty": "oct", "k": "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s"}), claims(nil)), nil, dpop.ErrInvalidProof},
		{"ES256 alg with P-384 key", sign(t, ec384, jose.ES384, hdr("jwk", jose.JSONWebKey{Key: ec.Public()}), claims(nil)), nil, dpop.ErrInvalidProof},
		{"RSA-1024", sign(t, rsa1024, jose.RS256, hdr("jwk", jose.JSONWebKey{Key: rsa1024.Public()}), claims(nil)), nil, dpop.ErrInvalidProof},
		{"alg not allowed", sign(t, ec384, jose.ES384, hdr("jwk", jose.JSONWebKey{Key: ec384.Public()}), claims(nil)), func(r *dpop.Request) {}, dpop.ErrInvalidProof},
		{"signed by another key", sign(t, other, jose.ES256, good, claims(nil)), nil, dpop.ErrInvalidProof},
		{"htm GET", sign(t, ec, jose.ES256, good, claims(map[string]any{"htm": "GET"})), nil, dpop.ErrInvalidProof},
		{"htu other path", sign(t, ec, jose.ES256, good, claims(map[string]any{"htu": "https://as.example/w/acme/oauth2/par"})), nil, dpop.ErrInvalidProof},
		{"htu other tenant", sign(t, ec, jose.ES256, good, claims(map[string]any{"htu": "https://as.example/w/other/oauth2/token"})), nil, dpop.ErrInvalidProof},
		{"htu trailing slash", sign(t, ec, jose.ES256, good, claims(map[string]any{"htu": tokenURL + "/"})), nil, dpop.ErrInvalidProof},
		{"htu other host", sign(t, ec, jose.ES256, good, claims(map[string]any{"htu": "https://evil/w/acme/oauth2/token"})), nil, dpop.ErrInvalidProof},
		{"iat 600 s old", sign(t, ec, jose.ES256, good, claims(map[string]any{"iat": now.Unix() - 600})), nil, dpop.ErrInvalidProof},
		{"iat 600 s ahead", sign(t, ec, jose.ES256, good, claims(map[string]any{"iat": now.Unix() + 600})), nil, dpop.ErrInvalidProof},
		{"iat string", sign(t, ec, jose.ES256, good, claims(map[string]any{"iat": "1800000000"})), nil, dpop.ErrInvalidProof},
		{"iat fraction", sign(t, ec, jose.ES256, good, claims(map[string]any{"iat": 1800000000.5})), nil, dpop.ErrInvalidProof},
		{"jti missing", sign(t, ec, jose.ES256, good, claims(map[string]any{"jti": nil})), nil, dpop.ErrInvalidProof},
		{"jti too long", sign(t, ec, jose.ES256, good, claims(map[string]any{"jti": strings.Repeat("j", 257)})), nil, dpop.ErrInvalidProof},
		{"htm missing", sign(t, ec, jose.ES256, good, claims(map[string]any{"htm": nil})), nil, dpop.ErrInvalidProof},
		{"htu missing", sign(t, ec, jose.ES256, good, claims(map[string]any{"htu": nil})), nil, dpop.ErrInvalidProof},
		{"iat missing", sign(t, ec, jose.ES256, good, claims(map[string]any{"iat": nil})), nil, dpop.ErrInvalidProof},
		{"ath missing", sign(t, ec, jose.ES256, good, claims(nil)), func(r *dpop.Request) { r.AccessToken = "at" }, dpop.ErrInvalidProof},
		{"ath of another token", sign(t, ec, jose.ES256, good, claims(map[string]any{"ath": dpop.ATH("other")})), func(r *dpop.Request) { r.AccessToken = "at" }, dpop.ErrInvalidProof},
		{"ath padded", sign(t, ec, jose.ES256, good, claims(map[string]any{"ath": dpop.ATH("at") + "="})), func(r *dpop.Request) { r.AccessToken = "at" }, dpop.ErrInvalidProof},
		{"nonce missing", sign(t, ec, jose.ES256, good, claims(nil)), func(r *dpop.Request) { r.RequireNonce = true }, dpop.ErrUseNonce},
		{"nonce forged", sign(t, ec, jose.ES256, good, claims(map[string]any{"nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})), func(r *dpop.Request) { r.RequireNonce = true }, dpop.ErrUseNonce},
		{"nonce of other tenant", sign(t, ec, jose.ES256, good, claims(map[string]any{"nonce": (&dpop.Nonces{Secret: make([]byte, 32)}).Issue("other", now)})), func(r *dpop.Request) { r.RequireNonce = true }, dpop.ErrUseNonce},
		{"nonce expired", sign(t, ec, jose.ES256, good, claims(map[string]any{"nonce": (&dpop.Nonces{Secret: make([]byte, 32)}).Issue("acme", now.Add(-10*time.Minute))})), func(r *dpop.Request) { r.RequireNonce = true }, dpop.ErrUseNonce},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, nil, dpop.ErrInvalidProof},
		{"two proofs joined", sign(t, ec, jose.ES256, good, claims(nil)) + "," + sign(t, ec, jose.ES256, good, claims(nil)), nil, dpop.ErrInvalidProof},
		{"oversized", strings.Repeat("a", 64<<10), nil, dpop.ErrInvalidProof},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.", nil, dpop.ErrInvalidProof},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVerifier()
			if c.name == "alg not allowed" {
				v.Algs = []string{"ES256"}
			}
			req := dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL}
			if c.req != nil {
				c.req(&req)
			}
			_, err := v.Verify(context.Background(), []string{c.proof}, req)
			wantCode(t, err, c.code)
		})
	}
}

func TestVerifyHeaderCount(t *testing.T) {
	v, s := newVerifier(), signer(t)
	p, _ := s.Proof("POST", tokenURL, "", "", now)
	for _, values := range [][]string{nil, {p, p}} {
		_, err := v.Verify(context.Background(), values, dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL})
		wantCode(t, err, dpop.ErrInvalidProof)
	}
}

// TestReplay: a proof is accepted once (S7); a forged proof with the
// victim's jti does not burn it (B8).
func TestReplay(t *testing.T) {
	v, s := newVerifier(), signer(t)
	req := dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL}
	p, _ := s.Proof("POST", tokenURL, "", "", now)
	var c map[string]any
	parts := strings.Split(p, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &c)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged := sign(t, ec, jose.ES256, map[string]any{"typ": "dpop+jwt", "jwk": jose.JSONWebKey{Key: ec.Public()}}, c)
	forged = forged[:strings.LastIndex(forged, ".")] + "." + parts[2] // the victim's signature does not verify
	if _, err := v.Verify(context.Background(), []string{forged}, req); err == nil {
		t.Fatal("forged proof accepted")
	}
	if _, err := v.Verify(context.Background(), []string{p}, req); err != nil {
		t.Fatalf("genuine proof after a forged one: %v", err)
	}
	_, err := v.Verify(context.Background(), []string{p}, req)
	wantCode(t, err, dpop.ErrInvalidProof)
}

func TestNonces(t *testing.T) {
	v, s := newVerifier(), signer(t)
	n := v.Nonces.Issue("acme", now.Add(-2*time.Minute))
	p, _ := s.Proof("POST", tokenURL, n, "", now)
	if _, err := v.Verify(context.Background(), []string{p}, dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL, RequireNonce: true}); err != nil {
		t.Fatalf("fresh nonce refused: %v", err)
	}
	other := &dpop.Nonces{Secret: []byte(strings.Repeat("x", 32))}
	if err := other.Check("acme", n, now); !dpop.IsUseNonce(err) {
		t.Fatalf("nonce under another secret: %v", err)
	}
}

func TestNormalizeURI(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Example.COM:443/a/%7Eb?q#f": "https://example.com/a/~b",
		"http://example.com:80":              "http://example.com/",
		"http://example.com:8080/a/../b":     "http://example.com:8080/b",
		"https://[::1]:443/x":                "https://[::1]/x",
		"https://[::1]:8443/x%2f":            "https://[::1]:8443/x%2F",
	} {
		got, err := dpop.NormalizeURI(in)
		if err != nil || got != want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/token", "ftp://x/y", "https://user@x/y", "mailto:x"} {
		if _, err := dpop.NormalizeURI(bad); err == nil {
			t.Errorf("NormalizeURI(%q) accepted", bad)
		}
	}
}

func FuzzVerify(f *testing.F) {
	s := signer(f)
	p, _ := s.Proof("POST", tokenURL, "", "at", now)
	f.Add(p)
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Repeat(".", 100))
	v := &dpop.Verifier{Store: &memJTI{}, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, proof string) {
		_, err := v.Verify(context.Background(), []string{proof}, dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL, AccessToken: "at"})
		if err != nil && !dpop.IsProofError(err) {
			t.Fatalf("non-protocol error %v", err)
		}
	})
}

// BenchmarkVerify is the cost a DPoP proof adds to a request (ES256
// verification plus parsing; the jti write is the store's).
func BenchmarkVerify(b *testing.B) {
	s := signer(b)
	v := &dpop.Verifier{Store: &memJTI{}, Now: func() time.Time { return now }}
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i], _ = s.Proof("POST", tokenURL, "", "", now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := v.Verify(context.Background(), []string{proofs[i]}, dpop.Request{WorkspaceID: "acme", Method: "POST", URI: tokenURL}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkES256Verify is one bare ES256 verification with go-jose, the
// yardstick of the speed goal.
func BenchmarkES256Verify(b *testing.B) {
	s := signer(b)
	p, _ := s.Proof("POST", tokenURL, "", "", now)
	jws, _ := jose.ParseSignedCompact(p, []jose.SignatureAlgorithm{jose.ES256})
	key := jws.Signatures[0].Header.JSONWebKey
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	for i := 0; i < b.N; i++ {
		if _, err := jws.Verify(key); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports the process CPU time per operation (less sensitive
// than ns/op to other load on a shared machine); call the result when
// the loop ends.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() { b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op") }
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
