package grants_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// Test keys are generated once per test binary: RSA generation is slow.
var (
	bearerKeysOnce sync.Once
	rsaKeyA        *rsa.PrivateKey // the "rows" client's certificate key
	rsaKeyB        *rsa.PrivateKey // another client's / the attacker's key
	ecKeyA         *ecdsa.PrivateKey
	issuerKey      *rsa.PrivateKey // the trusted external issuer's key
)

func bearerKeys(t testing.TB) {
	t.Helper()
	bearerKeysOnce.Do(func() {
		rsaKeyA, _ = rsa.GenerateKey(rand.Reader, 2048)
		rsaKeyB, _ = rsa.GenerateKey(rand.Reader, 2048)
		ecKeyA, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		issuerKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	})
}

// selfSigned makes a DER certificate for key, valid from nb to na.
func selfSigned(t testing.TB, key crypto.Signer, cn string, usage x509.KeyUsage, nb, na time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    nb, NotAfter: na,
		KeyUsage: usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// uploadCert validates and stores a certificate the way the admin API does.
func (f *fixture) uploadCert(t testing.TB, clientID, kid string, data []byte) storage.ClientCertificate {
	t.Helper()
	cert, err := service.ParseCertificate(data, f.env.Clock.Now())
	if err != nil {
		t.Fatalf("certificate refused: %v", err)
	}
	thumb := service.Thumbprint(cert.Raw)
	if kid == "" {
		kid = thumb
	}
	c := storage.ClientCertificate{
		WorkspaceID: "acme", ClientID: clientID, KID: kid, DER: cert.Raw,
		Subject: cert.Subject.String(), Issuer: cert.Issuer.String(), Serial: cert.SerialNumber.Text(16),
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, ThumbprintS256: thumb, CreatedAt: f.env.Clock.Now(),
	}
	if err := f.env.Store.CreateClientCertificate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) user(t testing.TB, ws string, u storage.User) storage.User {
	t.Helper()
	u.WorkspaceID = ws
	u.Active = true
	now := f.env.Clock.Now().UTC()
	u.CreatedAt, u.UpdatedAt = now, now
	if err := f.env.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fixture) setUserActive(t testing.TB, id string, active bool) {
	t.Helper()
	if _, err := f.env.Store.UpdateUser(context.Background(), "acme", id, func(u storage.User) (storage.User, error) {
		u.Active = active
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// enableBearer wires the grant's dependencies into the fixture's handler:
// the keyring (HS256) and an SSRF-safe JWKS cache that trusts the test TLS
// servers' certificate and allows loopback (tests only).
func (f *fixture) enableBearer(tlsSrv *httptest.Server) {
	opts := ssrf.Options{AllowPrivate: true}
	if tlsSrv != nil {
		opts.RootCAs = x509.NewCertPool()
		opts.RootCAs.AddCert(tlsSrv.Certificate())
	}
	f.handler.JWTBearer.Secrets = f.env.Keyring
	f.handler.JWTBearer.JWKS = ssrf.NewJWKSCache(ssrf.NewClient(opts), ssrf.CacheOptions{})
}

func bearerForm(assertion string) url.Values {
	return url.Values{"grant_type": {oauth2.GrantJWTBearer}, "assertion": {assertion}}
}

var jtiCounter atomic.Int64

func newJTI() string {
	return "jti-" + strconv.FormatInt(jtiCounter.Add(1), 10) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// claims builds a claim set; mods set (value) or delete (nil) members.
func bearerClaims(iss, sub, aud string, mods ...any) map[string]any {
	now := time.Now()
	m := map[string]any{
		"iss": iss, "sub": sub, "aud": aud, "jti": newJTI(),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for i := 0; i+1 < len(mods); i += 2 {
		k := mods[i].(string)
		if mods[i+1] == nil {
			delete(m, k)
		} else {
			m[k] = mods[i+1]
		}
	}
	return m
}

// sign makes a compact JWS with go-jose.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// craft signs an arbitrary header and payload with RS256 (key) or, for
// HS256, with hmacKey, so that malformed headers can be tested.
func craft(t testing.TB, header, payload string, key *rsa.PrivateKey) string {
	t.Helper()
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func claimsJSON(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

// jwksServer is an HTTPS JWKS endpoint that counts its fetches.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	body []byte
}

func newJWKSServer(t testing.TB, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(keys...)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...jose.JSONWebKey) {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// publicPEM is the PEM of key's public key: the bytes an attacker would use
// as an HMAC secret (A3, C4).
func publicPEM(t testing.TB, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
