package clientauth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

func TestAssertions(t *testing.T) {
	genKeys()
	now := testNow.Unix()
	rs := func(c map[string]any) string { return assertion(t, jose.RS256, rsaKey, signOpts{kid: "rsa-1"}, c) }
	es := func(c map[string]any) string { return assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, c) }
	hs := func(alg jose.SignatureAlgorithm, c map[string]any) string {
		return assertion(t, alg, []byte(jwtSecret), signOpts{}, c)
	}
	af := assertionForm
	withID := func(a, id string) (f map[string][]string) {
		f = af(a)
		f["client_id"] = []string{id}
		return f
	}
	pubJSON, _ := pubJWK(rsaKey, "rsa-1").MarshalJSON()
	strict := func(s *storage.WorkspaceSettings) { s.StrictAssertionAudience = true }

	runCases(t, []authCase{
		{name: "private_key_jwt RS256", form: af(rs(claims("rsa-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "private_key_jwt PS256 without kid", form: af(assertion(t, jose.PS256, rsaKey, signOpts{}, claims("rsa-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "private_key_jwt ES256", form: af(es(claims("ec-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "private_key_jwt EdDSA", form: af(assertion(t, jose.EdDSA, edKey, signOpts{kid: "ed-1"}, claims("ed-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "private_key_jwt with matching client_id", form: withID(es(claims("ec-client")), "ec-client"), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "client_secret_jwt HS256", form: af(hs(jose.HS256, claims("jwt-client"))), wantMethod: oauth2.AuthClientSecretJWT},
		{name: "client_secret_jwt HS512", form: af(hs(jose.HS512, claims("jwt-client"))), wantMethod: oauth2.AuthClientSecretJWT},
		{name: "typed client-authentication+jwt accepted", form: af(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1", typ: "client-authentication+jwt"}, claims("ec-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "pinned alg used", form: af(es(claims("pinned-client"))), wantMethod: oauth2.AuthPrivateKeyJWT},

		// B3.
		{name: "B3 wrong assertion type", form: form("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "client_assertion", es(claims("ec-client"))), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_assertion_type must be"},
		{name: "B3 missing assertion type", form: form("client_assertion", es(claims("ec-client"))), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_assertion_type must be"},
		{name: "B3 type without assertion", form: form("client_assertion_type", oauth2.ClientAssertionTypeJWTBearer), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_assertion is missing"},
		{name: "repeated client_assertion", form: func() url.Values { f := af("a.b.c"); f.Add("client_assertion", "a.b.c"); return f }(), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "repeated"},

		// Group A through the assertion path.
		{name: "A1 alg none", form: af(enc(`{"alg":"none"}`) + "." + enc(claimsJSON(claims("ec-client"))) + "."), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A1 alg NONE", form: af(enc(`{"alg":"NONE"}`) + "." + enc(claimsJSON(claims("ec-client"))) + ".c2ln"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: algorithm 'none' is not allowed: the token must be signed"},
		{name: "A2 RS256 for ES256-pinned client", form: af(rs(claims("pinned-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "RS256 is not allowed for this client"},
		{name: "A2 HS256 for private_key_jwt client", form: af(hs(jose.HS256, claims("rsa-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for private_key_jwt"},
		{name: "A3 HS256 keyed by the client's public JWK", form: af(assertion(t, jose.HS256, pubJSON, signOpts{kid: "rsa-1"}, claims("rsa-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401},
		{name: "A3 HS256 keyed by RSA modulus, secret client", form: af(assertion(t, jose.HS256, rsaKey.N.Bytes(), signOpts{}, claims("jwt-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "A4 kid injection", form: af(assertion(t, jose.RS256, rsaKey, signOpts{kid: "' OR '1'='1"}, claims("rsa-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "A4 kid of another client's key", form: af(assertion(t, jose.ES256, ecKey2, signOpts{kid: "ec-1"}, claims("rsa-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "A7 embedded jwk header", form: af(assertion(t, jose.ES256, ecKey2, signOpts{headers: map[jose.HeaderKey]any{"jwk": pubJWK(ecKey2, "x")}}, claims("ec-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: header member 'jwk' is not allowed"},
		{name: "A8 crit header", form: af(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1", headers: map[jose.HeaderKey]any{"crit": []string{"exp-x"}, "exp-x": 1}}, claims("ec-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: header member 'crit' is not allowed"},
		{name: "A9 JSON serialization", form: af(`{"payload":"e30","signatures":[{"protected":"e30","signature":"AA"}]}`), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A10 JWE", form: af("a.b.c.d.e"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A11 duplicate alg", form: af(enc(`{"alg":"ES256","alg":"none"}`) + "." + enc(claimsJSON(claims("ec-client"))) + ".c2ln"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: header has the same member name twice"},
		{name: "A12 padded segment", form: af(strings.Replace(es(claims("ec-client")), ".", "=.", 1)), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: token is not a compact JWS (three base64url parts separated by dots)"},
		{name: "A14 our access token type", form: af(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1", typ: "at+jwt"}, claims("ec-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "token type is not accepted here"},
		{name: "A14 DPoP proof type", form: af(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1", typ: "dpop+jwt"}, claims("ec-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "token type is not accepted here"},
		{name: "A16 M3 100 KiB assertion", form: af(strings.Repeat("a", 100<<10)), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: token is larger than 16384 bytes"},
		{name: "A17 exp as string", form: af(es(with(claims("ec-client"), "exp", "123"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: claim 'exp' must be an integer NumericDate (seconds since 1970, not negative, not quoted)"},
		{name: "A17 aud object", form: af(es(with(claims("ec-client"), "aud", map[string]any{}))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client assertion is invalid: claim 'aud' must be a string or an array of strings"},

		// Group B.
		{name: "B1 sub missing (client_id sent)", form: withID(es(with(claims("ec-client"), "sub", nil)), "ec-client"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client_id does not match the assertion subject"},
		{name: "B1 sub missing, no client_id", form: af(es(with(claims("ec-client"), "sub", nil))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "B1 iss differs from sub", form: af(es(with(claims("ec-client"), "iss", "rsa-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "issuer is invalid"},
		{name: "B1 iss other client", form: af(es(with(claims("ec-client"), "iss", "other"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "issuer is invalid"},
		{name: "B2 client_id A with assertion for B", form: withID(es(claims("ec-client")), "rsa-client"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client_id does not match"},
		{name: "B4 aud other AS", form: af(es(with(claims("ec-client"), "aud", "https://other.example"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B4 aud other workspace", form: af(es(with(claims("ec-client"), "aud", "https://as.example/w/ws2"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B4 compat aud token endpoint", form: af(es(with(claims("ec-client"), "aud", tokenURL))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B4 compat aud array", form: af(es(with(claims("ec-client"), "aud", []string{issuer, "https://evil"}))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B4 compat aud the endpoint called", endpoint: introspectURL, form: af(es(with(claims("ec-client"), "aud", introspectURL))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B4 aud another endpoint than the one called", endpoint: introspectURL, form: af(es(with(claims("ec-client"), "aud", issuer+"/oauth2/revoke"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B4 strict refuses the endpoint called", endpoint: introspectURL, form: af(es(with(claims("ec-client"), "aud", introspectURL))), settings: strict, wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B4 strict aud issuer string", form: af(es(claims("ec-client"))), settings: strict, wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B4 strict aud array", form: af(es(with(claims("ec-client"), "aud", []string{issuer}))), settings: strict, wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B4 strict aud token endpoint", form: af(es(with(claims("ec-client"), "aud", tokenURL))), settings: strict, wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "audience is invalid"},
		{name: "B5 exp missing", form: af(es(with(claims("ec-client"), "exp", nil))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion has no expiry"},
		{name: "B5 exp 5 minutes in the past", form: af(es(with(claims("ec-client"), "exp", now-300, "iat", now-360))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion expired"},
		{name: "B5 exp one year ahead", form: af(es(with(claims("ec-client"), "exp", now+365*86400))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion lifetime 31536000 s exceeds this workspace's maximum of 3600 s"},
		{name: "B5 workspace lifetime bound", form: af(es(claims("ec-client"))), settings: func(s *storage.WorkspaceSettings) { s.MaxAssertionLifetime = time.Minute }, wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion lifetime 300 s exceeds this workspace's maximum of 60 s"},
		{name: "B5 default accepts a library's one-hour assertion", form: af(es(with(claims("ec-client"), "exp", now+3600))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B5 default refuses more than an hour", form: af(es(with(claims("ec-client"), "exp", now+3600+120))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion lifetime 3720 s exceeds this workspace's maximum of 3600 s"},
		{name: "B6 nbf 8 s ahead accepted", form: af(es(with(claims("ec-client"), "nbf", now+8, "iat", now+8))), wantMethod: oauth2.AuthPrivateKeyJWT},
		{name: "B6 nbf 70 s ahead rejected", form: af(es(with(claims("ec-client"), "nbf", now+70, "iat", now+70, "exp", now+130))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "not yet valid"},
		{name: "B7 jti missing", form: af(es(with(claims("ec-client"), "jti", nil))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion has no jti"},
		{name: "jti too long", form: af(es(with(claims("ec-client"), "jti", strings.Repeat("j", 300)))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "jti is too long"},
		{name: "B9 signed by another client's key", form: af(assertion(t, jose.RS256, rsaKey, signOpts{kid: "rsa-1"}, claims("ec-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "B10 client_secret_jwt client sends private_key_jwt", form: af(es(claims("jwt-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_jwt"},
		{name: "B10 basic client sends assertion", form: af(hs(jose.HS256, claims("basic-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_basic"},
		{name: "client_secret_jwt wrong secret", form: af(assertion(t, jose.HS256, []byte(strings.Repeat("w", 64)), signOpts{}, claims("jwt-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "unknown client", form: af(es(claims("nobody"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "client without keys", form: af(es(claims("nokeys-client"))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "A13 expired and bad signature", form: af(assertion(t, jose.ES256, ecKey2, signOpts{kid: "ec-1"}, with(claims("ec-client"), "exp", now-3600, "iat", now-3700))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "A13 expired and good signature", form: af(es(with(claims("ec-client"), "exp", now-3600, "iat", now-3700))), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "assertion expired"},
	})
}

// TestB7Replay: the same assertion twice, the same jti with a fresh
// signature, and 20 concurrent copies: exactly one success each time.
func TestB7Replay(t *testing.T) {
	e := newEnv(t)
	c := claims("ec-client")
	a := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, c)
	if _, err := e.authenticate(assertionForm(a), ""); err != nil {
		t.Fatal(err)
	}
	_, err := e.authenticate(assertionForm(a), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, "assertion has already been used")
	fresh := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, c) // new ECDSA signature, same jti
	_, err = e.authenticate(assertionForm(fresh), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, "assertion has already been used")

	concurrent := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("ec-client"))
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := e.authenticate(assertionForm(concurrent), ""); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d concurrent successes, want 1", ok.Load())
	}
}

// TestB8ForgedAssertionDoesNotBurnJTI: a bad-signature assertion carrying
// the victim's future jti fails, and the genuine one then succeeds.
func TestB8ForgedAssertionDoesNotBurnJTI(t *testing.T) {
	e := newEnv(t)
	c := claims("ec-client")
	forged := assertion(t, jose.ES256, ecKey2, signOpts{kid: "ec-1"}, c)
	_, err := e.authenticate(assertionForm(forged), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, generic)
	// Also a correctly signed one whose claims fail must not spend the jti.
	badAud := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, with(claims("ec-client"), "jti", c["jti"], "aud", "https://evil"))
	_, err = e.authenticate(assertionForm(badAud), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, "audience is invalid")
	genuine := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, c)
	if _, err := e.authenticate(assertionForm(genuine), ""); err != nil {
		t.Fatalf("genuine assertion refused after forgery: %v", err)
	}
	for k := range e.store.jtis {
		if k.Namespace != JTINamespace || k.Issuer != "ec-client" || k.WorkspaceID != wsID {
			t.Fatalf("jti recorded as %+v", k)
		}
	}
}

func TestJTIStorageFailureIsServerError(t *testing.T) {
	e := newEnv(t)
	e.store.useJTIErr = context.DeadlineExceeded
	_, err := e.authenticate(assertionForm(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("ec-client"))), "")
	wantErr(t, err, oauth2.ErrTemporarilyUnavailable, 503, "")
}

// jwksServer serves a key set that tests may swap, counting requests.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
	code int
	hits atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{body: body, code: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.WriteHeader(s.code)
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte, code int) {
	s.mu.Lock()
	s.body, s.code = body, code
	s.mu.Unlock()
}

func uriEnv(t *testing.T, srv *jwksServer) (*env, *fakeClockT) {
	e := newEnv(t)
	clock := &fakeClockT{now: testNow}
	e.auth.JWKS = ssrf.NewJWKSCache(ssrf.NewClient(ssrf.Options{AllowPrivate: true, AllowHTTP: true}), ssrf.CacheOptions{Now: clock.Now})
	e.addKeyClient("uri-client", nil, func(c *storage.Client) { c.JWKSURI = srv.URL + "/jwks" })
	return e, clock
}

type fakeClockT struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClockT) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClockT) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestJWKSURI(t *testing.T) {
	e, _ := uriEnv(t, newJWKSServer(t, jwks(pubJWK(ecKey, "ec-1"))))
	a := assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("uri-client"))
	if _, err := e.authenticate(assertionForm(a), ""); err != nil {
		t.Fatal(err)
	}
}

// TestA5UnknownKidRefetchBounded: 100 assertions with random kids cause at
// most one refetch of the jwks_uri per cool-down, and all are rejected.
func TestA5UnknownKidRefetchBounded(t *testing.T) {
	srv := newJWKSServer(t, jwks(pubJWK(ecKey, "ec-1")))
	e, _ := uriEnv(t, srv)
	for i := range 100 {
		a := assertion(t, jose.ES256, ecKey, signOpts{kid: "random-" + nextJTI()}, claims("uri-client"))
		if _, err := e.authenticate(assertionForm(a), ""); err == nil {
			t.Fatalf("assertion %d with unknown kid accepted", i)
		}
	}
	if n := srv.hits.Load(); n > 2 {
		t.Fatalf("jwks_uri fetched %d times, want at most 2 (fetch + one refetch)", n)
	}
}

// TestJWKSURIKeyRotation: a kid the cache does not know triggers one refresh
// once the cool-down has passed, so clients can rotate keys.
func TestJWKSURIKeyRotation(t *testing.T) {
	srv := newJWKSServer(t, jwks(pubJWK(ecKey, "ec-1")))
	e, clock := uriEnv(t, srv)
	if _, err := e.authenticate(assertionForm(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("uri-client"))), ""); err != nil {
		t.Fatal(err)
	}
	srv.set(jwks(pubJWK(ecKey2, "ec-2")), http.StatusOK)
	clock.add(2 * time.Minute) // past the cool-down, within the TTL
	if _, err := e.authenticate(assertionForm(assertion(t, jose.ES256, ecKey2, signOpts{kid: "ec-2"}, claims("uri-client"))), ""); err != nil {
		t.Fatalf("rotated key refused: %v", err)
	}
}

// TestL6JWKSURIFailureIsGeneric: a broken jwks_uri gives 401 invalid_client
// with a generic description.
func TestL6JWKSURIFailureIsGeneric(t *testing.T) {
	srv := newJWKSServer(t, []byte("oops"))
	srv.set([]byte("oops"), http.StatusInternalServerError)
	e, _ := uriEnv(t, srv)
	_, err := e.authenticate(assertionForm(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("uri-client"))), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, generic)
	e.auth.JWKS = nil
	_, err = e.authenticate(assertionForm(assertion(t, jose.ES256, ecKey, signOpts{kid: "ec-1"}, claims("uri-client"))), "")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, generic)
}

// TestA6JKUNeverDereferenced: a jku header pointing at a listener under test
// control is refused and the listener sees zero requests.
func TestA6JKUNeverDereferenced(t *testing.T) {
	srv := newJWKSServer(t, jwks(pubJWK(ecKey2, "attacker")))
	e := newEnv(t)
	for _, h := range []jose.HeaderKey{"jku", "x5u"} {
		a := assertion(t, jose.ES256, ecKey2, signOpts{kid: "attacker", headers: map[jose.HeaderKey]any{h: srv.URL}}, claims("ec-client"))
		_, err := e.authenticate(assertionForm(a), "")
		wantErr(t, err, oauth2.ErrInvalidClient, 401, "is not allowed")
	}
	if srv.hits.Load() != 0 {
		t.Fatal("jku/x5u was dereferenced")
	}
}

// TestAssertionDescriptions asserts the exact error_description of a
// representative failure of each class jwtx reports (structure, JSON,
// header, alg, claim types, claim checks): a fixed sentence for a person,
// with the token's own content (member names, algs, decoder messages)
// only in the logged cause.
func TestAssertionDescriptions(t *testing.T) {
	genKeys()
	now := testNow.Unix()
	es := func(c map[string]any, o signOpts) string {
		o.kid = "ec-1"
		return assertion(t, jose.ES256, ecKey, o, c)
	}
	unsigned := func(header, claims string) string { return enc(header) + "." + enc(claims) + ".c2ln" }
	good := claimsJSON(claims("ec-client"))
	const p = "client assertion is invalid: "
	cases := []struct {
		name, assertion, desc, log string
	}{
		{"size", strings.Repeat("a", 20<<10), p + "token is larger than 16384 bytes", "20480 bytes"},
		{"segments", "a.b.c.d.e", p + "token is not a compact JWS (three base64url parts separated by dots)", "4 dots instead of 2"},
		{"base64", "e." + enc(good) + ".c2ln", p + "header is not unpadded base64url", "illegal base64 data at input byte"},
		{"JSON syntax", unsigned(`{"alg":"ES256"}`, `{"sub":"ec-client",}`), p + "claim set is not a JSON object", "invalid character '}'"},
		{"duplicate member", unsigned(`{"alg":"ES256","kid":"ec-1","kid":"x\u0000"}`, good), p + "header has the same member name twice", `duplicate member "kid"`},
		{"header member", unsigned(`{"alg":"ES256","jku":"https://evil.example/jwks"}`, good), p + "header member 'jku' is not allowed", ""},
		{"alg none", unsigned(`{"alg":"nOnE"}`, good), p + "algorithm 'none' is not allowed: the token must be signed", `alg "nOnE"`},
		{"alg off the list", unsigned(`{"alg":"ES512"}`, good), p + "algorithm 'ES512' is not allowed", ""},
		{"alg unknown", unsigned(`{"alg":"<script>\"x"}`, good), p + "algorithm is not one this server accepts", `alg "<script>\"x"`},
		{"claim type", unsigned(`{"alg":"ES256"}`, `{"iss":["ec-client"]}`), p + "claim 'iss' must be a string", `value "[\"ec-client\"]"`},
		{"NumericDate", es(with(claims("ec-client"), "iat", 1.5), signOpts{}), p + "claim 'iat' must be an integer NumericDate (seconds since 1970, not negative, not quoted)", `value "1.5"`},
		{"control character", es(with(claims("ec-client"), "jti", "a\x00b"), signOpts{}), p + "claim 'jti' contains a control character", `value "a\x00b"`},
		{"typ", es(claims("ec-client"), signOpts{typ: "oauth-authz-req+jwt"}), "token type is not accepted here", ""},
		{"expired", es(with(claims("ec-client"), "exp", now-300, "iat", now-360), signOpts{}), "assertion expired", ""},
		{"not yet valid", es(with(claims("ec-client"), "nbf", now+120, "iat", now, "exp", now+180), signOpts{}), "assertion is not yet valid", ""},
		{"issued in the future", es(with(claims("ec-client"), "iat", now+120, "exp", now+180), signOpts{}), "assertion was issued in the future", ""},
		{"lifetime", es(with(claims("ec-client"), "exp", now+7200), signOpts{}), "assertion lifetime 7200 s exceeds this workspace's maximum of 3600 s", ""},
		{"issuer", es(with(claims("ec-client"), "iss", "other"), signOpts{}), "issuer is invalid", ""},
		{"audience", es(with(claims("ec-client"), "aud", "https://other.example"), signOpts{}), "audience is invalid", ""},
		{"jti", es(with(claims("ec-client"), "jti", nil), signOpts{}), "assertion has no jti", ""},
		{"exp", es(with(claims("ec-client"), "exp", nil), signOpts{}), "assertion has no expiry", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var logged bytes.Buffer
			e.auth.Logger = slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			_, err := e.authenticate(assertionForm(tc.assertion), "")
			oe := wantErr(t, err, oauth2.ErrInvalidClient, 401, "")
			if oe.Description != tc.desc {
				t.Fatalf("description %q, want %q", oe.Description, tc.desc)
			}
			if tc.log == "" {
				return
			}
			if strings.Contains(oe.Description, tc.log) || !strings.Contains(oe.Cause.Error(), tc.log) {
				t.Fatalf("detail %q: want it in the cause %q only, not in the description", tc.log, oe.Cause)
			}
			var entry struct{ Msg, Cause string }
			if err := json.Unmarshal(logged.Bytes(), &entry); err != nil || !strings.Contains(entry.Cause, tc.log) {
				t.Fatalf("log %s (%v) lacks the detail %q", logged.Bytes(), err, tc.log)
			}
		})
	}
}
