package clientauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// fakeStore implements ClientStore, the two storage methods clientauth
// uses, and nothing else.
type fakeStore struct {
	mu        sync.Mutex
	clients   map[string]storage.Client // key: ws + "/" + id
	jtis      map[storage.JTI]bool
	getErr    error
	useJTIErr error
	gets      int
}

var _ ClientStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{clients: map[string]storage.Client{}, jtis: map[storage.JTI]bool{}}
}

func (s *fakeStore) GetClient(_ context.Context, ws, id string) (storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.getErr != nil {
		return storage.Client{}, s.getErr
	}
	c, ok := s.clients[ws+"/"+id]
	if !ok {
		return storage.Client{}, storage.ErrNotFound
	}
	return c, nil
}

// UseJTI is atomic under the mutex, like the real single-use gate.
func (s *fakeStore) UseJTI(_ context.Context, j storage.JTI) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.useJTIErr != nil {
		return s.useJTIErr
	}
	key := j
	key.ExpiresAt = time.Time{}
	if s.jtis[key] {
		return storage.ErrAlreadyExists
	}
	s.jtis[key] = true
	return nil
}

var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKey    *ecdsa.PrivateKey
	ecKey2   *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func genKeys() {
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if ecKey2, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

const (
	wsID          = "ws1"
	issuer        = "https://as.example/w/ws1"
	tokenURL      = issuer + "/oauth2/token"
	introspectURL = issuer + "/oauth2/introspect"
	basicSecret   = "s3:cr+t%25x/y=" // D5: ':', '+', '%'
	postSecret    = "post-secret-0123456789abcdefghijklmnopqrstu"
	jwtSecret     = "jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH" // 64+ bytes: HS512 ok
)

var testNow = time.Unix(1_800_000_000, 0)

type env struct {
	store *fakeStore
	kr    *secrets.Keyring
	auth  *Authenticator
	ws    storage.Workspace
	now   time.Time
	// endpoint is the URL of the endpoint being called when it is not the
	// token endpoint (Request.Endpoint).
	endpoint string
}

func newEnv(t *testing.T) *env { return newEnvForFuzz(t) }

func newEnvForFuzz(t testing.TB) *env {
	t.Helper()
	genKeys()
	kr, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: newFakeStore(), kr: kr, ws: storage.Workspace{ID: wsID, Enabled: true}, now: testNow}
	e.auth = &Authenticator{Store: e.store, Keyring: kr, Now: func() time.Time { return e.now }, Logger: slog.New(slog.DiscardHandler)}
	e.addSecretClient(t, wsID, "basic-client", oauth2.AuthClientSecretBasic, basicSecret, nil)
	e.addSecretClient(t, wsID, "post-client", oauth2.AuthClientSecretPost, postSecret, nil)
	e.addSecretClient(t, wsID, "jwt-client", oauth2.AuthClientSecretJWT, jwtSecret, nil)
	e.addSecretClient(t, wsID, "disabled-client", oauth2.AuthClientSecretBasic, basicSecret, func(c *storage.Client) { c.Enabled = false })
	e.addSecretClient(t, wsID, "expired-client", oauth2.AuthClientSecretPost, postSecret, func(c *storage.Client) { c.SecretExpiresAt = testNow.Add(-time.Minute) })
	e.addSecretClient(t, "ws2", "other-ws-client", oauth2.AuthClientSecretPost, postSecret, nil)
	e.addKeyClient("rsa-client", jwks(pubJWK(rsaKey, "rsa-1")), nil)
	e.addKeyClient("ec-client", jwks(pubJWK(ecKey, "ec-1")), nil)
	e.addKeyClient("ed-client", jwks(pubJWK(edKey, "ed-1")), nil)
	e.addKeyClient("pinned-client", jwks(pubJWK(ecKey, "ec-1"), pubJWK(rsaKey, "rsa-1")), func(c *storage.Client) { c.TokenEndpointAuthSigningAlg = "ES256" })
	e.addKeyClient("nokeys-client", nil, nil)
	e.put(storage.Client{WorkspaceID: wsID, ID: "public-client", Enabled: true, Type: oauth2.ClientPublic, TokenEndpointAuthMethod: oauth2.AuthNone})
	e.put(storage.Client{WorkspaceID: wsID, ID: "confidential-none", Enabled: true, Type: oauth2.ClientConfidential, TokenEndpointAuthMethod: oauth2.AuthNone})
	return e
}

func (e *env) put(c storage.Client) {
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	e.store.clients[c.WorkspaceID+"/"+c.ID] = c
}

func (e *env) addSecretClient(t testing.TB, ws, id, method, secret string, mod func(*storage.Client)) {
	t.Helper()
	ct, err := e.kr.Encrypt([]byte(secret), secretAAD(ws, id))
	if err != nil {
		t.Fatal(err)
	}
	c := storage.Client{WorkspaceID: ws, ID: id, Enabled: true, Type: oauth2.ClientConfidential, TokenEndpointAuthMethod: method, SecretCiphertext: ct}
	if mod != nil {
		mod(&c)
	}
	e.put(c)
}

func (e *env) addKeyClient(id string, set []byte, mod func(*storage.Client)) {
	c := storage.Client{WorkspaceID: wsID, ID: id, Enabled: true, Type: oauth2.ClientConfidential, TokenEndpointAuthMethod: oauth2.AuthPrivateKeyJWT, JWKS: set}
	if mod != nil {
		mod(&c)
	}
	e.put(c)
}

func (e *env) request(form url.Values, authz string) Request {
	return Request{Workspace: e.ws, Issuer: issuer, TokenEndpoint: tokenURL, Endpoint: e.endpoint, Form: form, Authorization: authz}
}

func (e *env) authenticate(form url.Values, authz string) (Result, error) {
	return e.auth.Authenticate(context.Background(), e.request(form, authz), "192.0.2.1")
}

func pubJWK(k crypto.Signer, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"}
}

func jwks(keys ...jose.JSONWebKey) []byte {
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		panic(err)
	}
	return b
}

// basic encodes per RFC 6749 §2.3.1 (form-urlencode, then base64).
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// rawBasic encodes without the form-urlencoding step, as many clients do.
func rawBasic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

var jtiCounter struct {
	sync.Mutex
	n int
}

func nextJTI() string {
	jtiCounter.Lock()
	defer jtiCounter.Unlock()
	jtiCounter.n++
	return "jti-" + strconv.Itoa(jtiCounter.n)
}

// claims returns valid assertion claims for client id.
func claims(id string) map[string]any {
	return map[string]any{
		"iss": id, "sub": id, "aud": issuer, "jti": nextJTI(),
		"iat": testNow.Unix(), "exp": testNow.Add(5 * time.Minute).Unix(),
	}
}

type signOpts struct {
	kid     string
	typ     string
	headers map[jose.HeaderKey]any
}

func assertion(t testing.TB, alg jose.SignatureAlgorithm, key any, o signOpts, c map[string]any) string {
	t.Helper()
	so := &jose.SignerOptions{}
	if o.typ != "" {
		so = so.WithType(jose.ContentType(o.typ))
	}
	for k, v := range o.headers {
		so = so.WithHeader(k, v)
	}
	var sk any = key
	if o.kid != "" {
		sk = jose.JSONWebKey{Key: key, KeyID: o.kid}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: sk}, so)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(c)
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

func assertionForm(a string) url.Values {
	return url.Values{"client_assertion_type": {oauth2.ClientAssertionTypeJWTBearer}, "client_assertion": {a}}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
			continue
		}
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// wantErr checks the protocol error's code, status and (substring of) description.
func wantErr(t *testing.T, err error, code oauth2.ErrorCode, status int, desc string) *oauth2.Error {
	t.Helper()
	var e *oauth2.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *oauth2.Error", err, err)
	}
	if e.Code != code || e.HTTPStatus() != status {
		t.Fatalf("error = %s/%d %q, want %s/%d", e.Code, e.HTTPStatus(), e.Description, code, status)
	}
	if desc != "" && !containsStr(e.Description, desc) {
		t.Fatalf("description %q does not contain %q", e.Description, desc)
	}
	return e
}

func containsStr(s, sub string) bool {
	return strings.Contains(s, sub)
}

func newLimiter(e *env) *ratelimit.Limiter {
	return ratelimit.New(0.01, 3, func() time.Time { return e.now })
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func claimsJSON(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}
