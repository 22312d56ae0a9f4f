package grants_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// bearerFixture adds to the base fixture (workspace "acme") what the JWT
// bearer tests share:
//
//   - client "rows" (client_secret_post, jwt-bearer) with an RSA
//     certificate under kid "k1", users by username;
//   - client "other-app" with its own certificate under kid "k-other";
//   - users alice (profile "integration"), bob (no profile), carol
//     (inactive) and service user "svc-user";
//   - trusted issuer "idp" (HTTPS JWKS) allowed for client "cmic", mapping
//     claim cmicuser as tenant||username; a disabled issuer; an issuer
//     trusted by workspace "other" only.
type bearerFixture struct {
	*fixture
	idp      *jwksServer
	otherIdP *jwksServer
}

const integrationProfile = "prf-integration"

func newBearerFixture(t *testing.T) *bearerFixture {
	t.Helper()
	bearerKeys(t)
	f := &bearerFixture{fixture: newFixture(t, oauth2.AlgRS256)}
	ctx := context.Background()
	f.idp = newJWKSServer(t, jose.JSONWebKey{Key: issuerKey.Public(), KeyID: "idp-1", Algorithm: "RS256", Use: "sig"})
	f.otherIdP = newJWKSServer(t, jose.JSONWebKey{Key: issuerKey.Public(), KeyID: "idp-1", Algorithm: "RS256", Use: "sig"})
	f.enableBearer(f.idp.Server)
	// One cache must trust both test servers: they share httptest's certificate.
	now := time.Now()
	if err := f.env.Store.CreateProfile(ctx, storage.Profile{WorkspaceID: "acme", ID: integrationProfile, Name: "Integration"}); err != nil {
		t.Fatal(err)
	}
	f.user(t, "acme", storage.User{ID: "usr-alice", Username: "alice", Email: "Alice@Example.com", ExternalID: "ext-alice", Profiles: []string{integrationProfile}})
	f.user(t, "acme", storage.User{ID: "usr-bob", Username: "bob", Email: "bob@example.com"})
	carol := f.user(t, "acme", storage.User{ID: "usr-carol", Username: "carol"})
	f.setUserActive(t, carol.ID, false)
	f.user(t, "acme", storage.User{ID: "usr-svc", Username: "svc-user", ServiceUser: true})
	f.user(t, "other", storage.User{ID: "usr-svc", Username: "svc-user", ServiceUser: true})

	bearerGrant := []string{oauth2.GrantJWTBearer}
	f.client(t, storage.Client{ID: "rows", Scopes: allScopes, GrantTypes: bearerGrant, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost})
	f.uploadCert(t, "rows", "k1", selfSigned(t, rsaKeyA, "rows", 0, now.Add(-time.Hour), now.Add(365*24*time.Hour)))
	f.client(t, storage.Client{ID: "other-app", Scopes: allScopes, GrantTypes: bearerGrant, TokenEndpointAuthMethod: oauth2.AuthClientSecretPost})
	f.uploadCert(t, "other-app", "k-other", selfSigned(t, rsaKeyB, "other", 0, now.Add(-time.Hour), now.Add(365*24*time.Hour)))
	f.client(t, storage.Client{ID: "cmic", Scopes: allScopes, GrantTypes: bearerGrant})
	f.client(t, storage.Client{ID: "cmic-not-allowed", Scopes: allScopes, GrantTypes: bearerGrant})

	for _, ti := range []storage.TrustedIssuer{
		{WorkspaceID: "acme", ID: "idp", Name: "IdP", Issuer: f.idp.URL, JWKSURI: f.idp.URL + "/jwks", Audience: "cmic-app-id",
			AllowedClients: []string{"cmic"}, Enabled: true, Claim: "cmicuser", ClaimFormat: storage.ClaimFormatTenantUsername},
		{WorkspaceID: "acme", ID: "disabled-idp", Name: "Off", Issuer: "https://disabled.example", JWKSURI: f.idp.URL + "/jwks",
			AllowedClients: []string{"cmic"}, Enabled: false, Claim: "cmicuser"},
		{WorkspaceID: "other", ID: "idp", Name: "IdP of other", Issuer: f.otherIdP.URL, JWKSURI: f.otherIdP.URL + "/jwks",
			AllowedClients: []string{"cmic"}, Enabled: true, Claim: "cmicuser", ClaimFormat: storage.ClaimFormatTenantUsername},
	} {
		if err := f.env.Store.CreateTrustedIssuer(ctx, ti); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// rowsAssertion is a valid assertion of client "rows" for alice.
func (f *bearerFixture) rowsAssertion(t testing.TB, mods ...any) string {
	return sign(t, jose.RS256, rsaKeyA, "k1", bearerClaims("rows", "alice", f.tokenURL("acme"), mods...))
}

// postRows sends an assertion with client "rows"'s credentials.
func (f *bearerFixture) postRows(t testing.TB, assertion string) *http.Response {
	form := bearerForm(assertion)
	form.Set("client_id", "rows")
	form.Set("client_secret", f.secrets["rows"])
	return f.post(t, "acme", form, "", "")
}

// idpAssertion is a JWT of the trusted issuer for the CMiC service user.
func (f *bearerFixture) idpAssertion(t testing.TB, mods ...any) string {
	c := bearerClaims(f.idp.URL, "app-123", "cmic-app-id", append([]any{"cmicuser", "acme||svc-user"}, mods...)...)
	return sign(t, jose.RS256, issuerKey, "idp-1", c)
}

func (f *bearerFixture) postCMiC(t testing.TB, clientID, assertion string) *http.Response {
	return f.post(t, "acme", bearerForm(assertion), clientID, f.secrets[clientID])
}

func decodeClaims(t *testing.T, raw string) tokenClaims {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	payload, err := b64Decode(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func b64Decode(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}

// TestJWTBearerCMiCFlow: an external IdP (an HTTPS server publishing its
// JWKS) issues a JWT whose cmicuser claim is tenant||svc-user; client
// "cmic" presents it and gets our token for that service user (README
// "Users and the JWT bearer grant", the CMiC guide).
func TestJWTBearerCMiCFlow(t *testing.T) {
	f := newBearerFixture(t)
	tb := decodeToken(t, f.postCMiC(t, "cmic", f.idpAssertion(t)))
	claims, _ := verifyWithOIDC(t, f.fixture, tb.AccessToken, oauth2.AlgRS256)
	if claims.Subject != "usr-svc" || claims.ClientID != "cmic" {
		t.Fatalf("sub %q client_id %q", claims.Subject, claims.ClientID)
	}
	// The JWKS was fetched once and is cached.
	decodeToken(t, f.postCMiC(t, "cmic", f.idpAssertion(t)))
	if n := f.idp.hits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

// TestJWTBearerA5UnknownKidRefetchBounded: many assertions with random kids
// for a jwks_uri issuer cause at most one refetch per cool-down.
func TestJWTBearerA5UnknownKidRefetchBounded(t *testing.T) {
	f := newBearerFixture(t)
	for i := range 30 {
		a := sign(t, jose.RS256, issuerKey, "random-"+newJTI(), bearerClaims(f.idp.URL, "x", "cmic-app-id", "cmicuser", "acme||svc-user"))
		assertError(t, f.postCMiC(t, "cmic", a), http.StatusBadRequest, "invalid_grant")
		_ = i
	}
	if n := f.idp.hits.Load(); n > 2 {
		t.Fatalf("JWKS fetched %d times for 30 unknown kids; want at most 2 (A5)", n)
	}
}

// TestServiceUserClientCredentials: a client naming a
// service user gets client_credentials tokens whose sub is that user.
func TestServiceUserClientCredentials(t *testing.T) {
	f := newBearerFixture(t)
	f.client(t, storage.Client{ID: "cc-svc", Scopes: allScopes, ServiceUserID: "usr-svc"})
	tb := decodeToken(t, f.post(t, "acme", cc(""), "cc-svc", f.secrets["cc-svc"]))
	claims := decodeClaims(t, tb.AccessToken)
	if claims.Subject != "usr-svc" || claims.ClientID != "cc-svc" {
		t.Fatalf("sub %q client_id %q", claims.Subject, claims.ClientID)
	}
	f.setUserActive(t, "usr-svc", false)
	assertError(t, f.post(t, "acme", cc(""), "cc-svc", f.secrets["cc-svc"]), http.StatusBadRequest, "unauthorized_client")
}

// TestJWTBearerUserDisabledAfterSigning (SECURITY.md C3): an assertion
// signed while the user was active is refused once the user is disabled.
func TestJWTBearerUserDisabledAfterSigning(t *testing.T) {
	f := newBearerFixture(t)
	a := f.rowsAssertion(t)
	f.setUserActive(t, "usr-alice", false)
	e := assertError(t, f.postRows(t, a), http.StatusBadRequest, "invalid_grant")
	if e.Description != "user is disabled" {
		t.Fatalf("description %q", e.Description)
	}
	// The refused request did not spend the jti: re-enabled, it works.
	f.setUserActive(t, "usr-alice", true)
	decodeToken(t, f.postRows(t, a))
}

// TestJWTBearerC7Replay: the same assertion twice, and concurrently.
func TestJWTBearerC7Replay(t *testing.T) {
	f := newBearerFixture(t)
	a := f.rowsAssertion(t)
	decodeToken(t, f.postRows(t, a))
	e := assertError(t, f.postRows(t, a), http.StatusBadRequest, "invalid_grant")
	if e.Description != "assertion has already been used" {
		t.Fatalf("description %q", e.Description)
	}
	// Concurrent: exactly one success.
	a = f.rowsAssertion(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 8 {
		wg.Go(func() {
			form := bearerForm(a)
			form.Set("client_id", "rows")
			form.Set("client_secret", f.secrets["rows"])
			req, _ := http.NewRequest(http.MethodPost, f.tokenURL("acme"), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 1 || codes[400] != 7 {
		t.Fatalf("concurrent replay: %v", codes)
	}
	// An assertion without jti (x/oauth2/jwt) is single use too.
	a = f.rowsAssertion(t, "jti", nil)
	decodeToken(t, f.postRows(t, a))
	assertError(t, f.postRows(t, a), http.StatusBadRequest, "invalid_grant")
}

// TestJWTBearerHS256: HS256 keyed by the client secret,
// only when the client allows it.
func TestJWTBearerHS256(t *testing.T) {
	f := newBearerFixture(t)
	f.client(t, storage.Client{ID: "hs-app", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer},
		JWTBearer: &storage.JWTBearerSettings{AllowHS256: true}})
	f.client(t, storage.Client{ID: "hs-off", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer}})
	for _, tc := range []struct {
		client string
		status int
	}{{"hs-app", 200}, {"hs-off", 400}} {
		a := sign(t, jose.HS256, []byte(f.secrets[tc.client]), "", bearerClaims(tc.client, "alice", f.tokenURL("acme")))
		resp := f.post(t, "acme", bearerForm(a), tc.client, f.secrets[tc.client])
		if tc.status == 200 {
			decodeToken(t, resp)
		} else {
			assertError(t, resp, tc.status, "invalid_grant")
		}
	}
}

// TestJWTBearerUserFieldsAndAudiences covers the user field mapping and the
// accepted audiences.
func TestJWTBearerUserFieldsAndAudiences(t *testing.T) {
	f := newBearerFixture(t)
	now := time.Now()
	cert := selfSigned(t, rsaKeyA, "fields", x509.KeyUsageDigitalSignature, now.Add(-time.Hour), now.Add(time.Hour*24*365))
	cases := []struct {
		field, sub, aud string
		ok              bool
	}{
		{storage.UserFieldUsername, "alice", f.env.Issuer("acme"), true},
		{storage.UserFieldEmail, "ALICE@example.com", f.tokenURL("acme"), true},
		{storage.UserFieldUserID, "usr-alice", "fields-" + storage.UserFieldUserID, true},
		{storage.UserFieldExternalID, "ext-alice", "https://login.example.com", true},
		{storage.UserFieldUsername, "nobody", f.env.Issuer("acme"), false},
		{storage.UserFieldUsername, "carol", f.env.Issuer("acme"), false},
		{storage.UserFieldUsername, "alice", f.env.Issuer("other"), false},
		{storage.UserFieldUsername, "alice", "https://elsewhere.example", false},
	}
	for i, tc := range cases {
		id := "fields-" + tc.field
		if i >= 4 {
			id = "fields-neg-" + string(rune('a'+i))
		}
		f.client(t, storage.Client{ID: id, Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer},
			JWTBearer: &storage.JWTBearerSettings{UserField: tc.field, ExtraAudiences: []string{"https://login.example.com"}}})
		f.uploadCert(t, id, "", cert)
		a := sign(t, jose.RS256, rsaKeyA, "", bearerClaims(id, tc.sub, tc.aud))
		resp := f.post(t, "acme", bearerForm(a), "", "")
		if tc.ok {
			decodeToken(t, resp)
		} else {
			assertError(t, resp, http.StatusBadRequest, "invalid_grant")
		}
	}
}

// TestJWTBearerShortLifetime: a Salesforce-like 3 minute maximum.
func TestJWTBearerShortLifetime(t *testing.T) {
	f := newBearerFixture(t)
	now := time.Now()
	f.client(t, storage.Client{ID: "short", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer},
		JWTBearer: &storage.JWTBearerSettings{MaxAssertionLifetime: 3 * time.Minute}})
	f.uploadCert(t, "short", "", selfSigned(t, rsaKeyA, "short", 0, now.Add(-time.Hour), now.Add(time.Hour*24)))
	ok := sign(t, jose.RS256, rsaKeyA, "", bearerClaims("short", "alice", f.tokenURL("acme"), "exp", now.Add(2*time.Minute).Unix()))
	decodeToken(t, f.post(t, "acme", bearerForm(ok), "", ""))
	long := sign(t, jose.RS256, rsaKeyA, "", bearerClaims("short", "alice", f.tokenURL("acme"), "iat", now.Unix(), "exp", now.Add(10*time.Minute).Unix()))
	e := assertError(t, f.post(t, "acme", bearerForm(long), "", ""), http.StatusBadRequest, "invalid_grant")
	if e.Description != "assertion lifetime 600 s exceeds the maximum of 180 s" {
		t.Fatalf("description %q", e.Description)
	}
}

// TestJWTBearerExpiredCertificate: a certificate past its validity no
// longer verifies assertions.
func TestJWTBearerExpiredCertificate(t *testing.T) {
	f := newBearerFixture(t)
	now := time.Now()
	f.client(t, storage.Client{ID: "soon", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer}})
	f.uploadCert(t, "soon", "soon-k", selfSigned(t, rsaKeyA, "soon", 0, now.Add(-time.Hour), now.Add(2*time.Minute)))
	f.env.Clock.Advance(5 * time.Minute)
	a := sign(t, jose.RS256, rsaKeyA, "soon-k", bearerClaims("soon", "alice", f.tokenURL("acme"),
		"iat", f.env.Clock.Now().Unix(), "exp", f.env.Clock.Now().Add(time.Minute).Unix()))
	assertError(t, f.post(t, "acme", bearerForm(a), "", ""), http.StatusBadRequest, "invalid_grant")
}

// TestDiscoveryAdvertisesJWTBearer: discovery lists exactly what the token
// endpoint accepts.
func TestDiscoveryAdvertisesJWTBearer(t *testing.T) {
	f := newFixture(t, oauth2.AlgRS256)
	resp, err := http.Get(f.env.Issuer("acme") + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		GrantTypes []string `json:"grant_types_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range doc.GrantTypes {
		found = found || g == oauth2.GrantJWTBearer
	}
	if !found {
		t.Fatalf("grant_types_supported %v lacks %s", doc.GrantTypes, oauth2.GrantJWTBearer)
	}
}

// TestJWTBearerClientIDWithoutCredentials: a library that sends client_id
// next to an assertion-only request (RFC 7521 §4.1 needs client_id only
// when the client authenticates with it) gets the assertion-only shape
// when client_id is the assertion's iss; a client_id naming another client
// without credentials is a failed client authentication.
func TestJWTBearerClientIDWithoutCredentials(t *testing.T) {
	f := newBearerFixture(t)
	form := bearerForm(f.rowsAssertion(t))
	form.Set("client_id", "rows")
	tb := decodeToken(t, f.post(t, "acme", form, "", ""))
	claims, _ := verifyWithOIDC(t, f.fixture, tb.AccessToken, oauth2.AlgRS256)
	if claims.Subject != "usr-alice" || claims.ClientID != "rows" {
		t.Fatalf("sub %q client_id %q", claims.Subject, claims.ClientID)
	}
	form = bearerForm(f.rowsAssertion(t))
	form.Set("client_id", "cmic")
	assertError(t, f.post(t, "acme", form, "", ""), http.StatusUnauthorized, "invalid_client")
}

// TestAssertionOnlyShapeIsJWTBearerOnly: the assertion-only shape (RFC
// 7521 §4.1) exists for the JWT bearer grant alone. Every other grant
// given the same genuine assertion and no credentials, with or without a
// client_id equal to its iss, is a failed client authentication.
func TestAssertionOnlyShapeIsJWTBearerOnly(t *testing.T) {
	f := newBearerFixture(t)
	for _, gt := range []string{oauth2.GrantClientCredentials, oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken} {
		for _, clientID := range []string{"", "rows"} {
			t.Run(gt+" client_id="+clientID, func(t *testing.T) {
				form := bearerForm(f.rowsAssertion(t))
				form.Set("grant_type", gt)
				if clientID != "" {
					form.Set("client_id", clientID)
				}
				assertError(t, f.post(t, "acme", form, "", ""), http.StatusUnauthorized, "invalid_client")
			})
		}
	}
}
