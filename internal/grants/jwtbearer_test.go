package grants_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2/jwt"

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

func mustRun(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed: skipping the guide test that needs it", name)
	}
}

func readPrivateKey(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			t.Fatalf("no private key in %s", path)
		}
		if block.Type == "PRIVATE KEY" {
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		if block.Type == "RSA PRIVATE KEY" {
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
}

// TestJWTBearerServiceNowGuide follows seed guide 003 literally: a JKS
// keystore from keytool, the certificate exported and converted to PEM
// with openssl, uploaded with a chosen kid (the "verifier map"); the
// assertion carries that kid, aud = iss = client_id, sub = the user's
// email (user field = email); the request sends client_id, client_secret,
// grant_type and assertion.
func TestJWTBearerServiceNowGuide(t *testing.T) {
	requireTool(t, "keytool")
	requireTool(t, "openssl")
	f := newBearerFixture(t)
	dir := t.TempDir()
	mustRun(t, dir, "keytool", "-genkey", "-alias", "snclient", "-keyalg", "RSA", "-keysize", "2048", "-validity", "365",
		"-keystore", "snclient.keystore", "-storepass", "abcd1234", "-keypass", "abcd1234", "-dname", "CN=snclient, O=Example")
	mustRun(t, dir, "keytool", "-exportcert", "-alias", "snclient", "-keystore", "snclient.keystore", "-storepass", "abcd1234", "-file", "snclient.cer")
	mustRun(t, dir, "openssl", "x509", "-inform", "der", "-in", "snclient.cer", "-out", "certificate.pem")
	// The private key, to sign as ServiceNow would: convert the keystore
	// to PKCS#12 (a no-op for modern JDKs) and extract the key.
	mustRun(t, dir, "keytool", "-importkeystore", "-srckeystore", "snclient.keystore", "-srcstorepass", "abcd1234",
		"-destkeystore", "snclient.p12", "-deststoretype", "PKCS12", "-deststorepass", "abcd1234", "-noprompt")
	mustRun(t, dir, "openssl", "pkcs12", "-in", "snclient.p12", "-nocerts", "-nodes", "-passin", "pass:abcd1234", "-out", "key.pem")
	pemCert, err := os.ReadFile(filepath.Join(dir, "certificate.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key := readPrivateKey(t, filepath.Join(dir, "key.pem"))

	const kid = "sn-verifier-1"
	f.client(t, storage.Client{ID: "servicenow-app", Scopes: allScopes, GrantTypes: []string{oauth2.GrantJWTBearer},
		TokenEndpointAuthMethod: oauth2.AuthClientSecretPost,
		JWTBearer:               &storage.JWTBearerSettings{UserField: storage.UserFieldEmail}})
	f.uploadCert(t, "servicenow-app", kid, pemCert)

	assertion := sign(t, jose.RS256, key, kid, bearerClaims("servicenow-app", "alice@example.com", "servicenow-app"))
	form := url.Values{
		"client_id": {"servicenow-app"}, "client_secret": {f.secrets["servicenow-app"]},
		"grant_type": {oauth2.GrantJWTBearer}, "assertion": {assertion},
	}
	tb := decodeToken(t, f.post(t, "acme", form, "", ""))
	if tb.AccessToken == "" || tb.ExpiresIn <= 0 || *tb.Scope != strings.Join(allScopes, " ") {
		t.Fatalf("response: %+v", tb)
	}
	claims, _ := verifyWithOIDC(t, f.fixture, tb.AccessToken, oauth2.AlgRS256)
	if claims.Subject != "usr-alice" || claims.ClientID != "servicenow-app" {
		t.Fatalf("token sub %q client_id %q; want the user and the client", claims.Subject, claims.ClientID)
	}
	// The ServiceNow client sends client credentials: a wrong secret fails
	// even with a valid assertion (RFC 7521 §4.1).
	form.Set("client_secret", "wrong")
	form.Set("assertion", sign(t, jose.RS256, key, kid, bearerClaims("servicenow-app", "alice@example.com", "servicenow-app")))
	assertError(t, f.post(t, "acme", form, "", ""), http.StatusUnauthorized, "invalid_client")
}

// TestJWTBearerSalesforceGuide follows seed guide 000: a certificate from
// openssl req -x509 with Digital Signature key usage, and an assertion-only
// request made by golang.org/x/oauth2/jwt with its defaults (iss = the
// client_id, aud = the token URL, exp = iat + 1h, no jti). Pre-authorization
// by profile admits alice and refuses bob.
func TestJWTBearerSalesforceGuide(t *testing.T) {
	requireTool(t, "openssl")
	f := newBearerFixture(t)
	dir := t.TempDir()
	mustRun(t, dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", "server.key", "-out", "server.crt",
		"-days", "365", "-nodes", "-subj", "/CN=salesforce-app", "-addext", "keyUsage=digitalSignature")
	crt, err := os.ReadFile(filepath.Join(dir, "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	f.client(t, storage.Client{ID: "sf-app", Scopes: []string{"orders:read"}, GrantTypes: []string{oauth2.GrantJWTBearer},
		JWTBearer: &storage.JWTBearerSettings{PreAuth: storage.PreAuthAdminApproved, AllowedProfiles: []string{integrationProfile}}})
	f.uploadCert(t, "sf-app", "", crt)

	cfg := func(sub string) *jwt.Config {
		return &jwt.Config{Email: "sf-app", PrivateKey: keyPEM, Subject: sub, TokenURL: f.tokenURL("acme"), Scopes: []string{"orders:read"}}
	}
	tok, err := cfg("alice").TokenSource(context.Background()).Token()
	if err != nil {
		t.Fatalf("x/oauth2/jwt: %v", err)
	}
	claims, _ := verifyWithOIDC(t, f.fixture, tok.AccessToken, oauth2.AlgRS256)
	if claims.Subject != "usr-alice" || claims.ClientID != "sf-app" || claims.Scope != "orders:read" || tok.TokenType != "Bearer" {
		t.Fatalf("claims %+v, token type %q", claims, tok.TokenType)
	}
	if tok.RefreshToken != "" {
		t.Fatal("no refresh token unless the client enables it")
	}
	_, err = cfg("bob").TokenSource(context.Background()).Token()
	// x/oauth2/jwt reports the error body as text.
	if err == nil || !strings.Contains(err.Error(), `"error":"invalid_grant","error_description":"user is not pre-authorized for this app"`) {
		t.Fatalf("bob: got %v", err)
	}
}

// TestJWTBearerCMiCFlow: an external IdP (an HTTPS server publishing its
// JWKS) issues a JWT whose cmicuser claim is tenant||svc-user; client
// "cmic" presents it and gets our token for that service user (issue 3
// points 7 and 8).
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

// TestServiceUserClientCredentials is issue 3 point 8: a client naming a
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

// TestJWTBearerHS256 is issue 3 point 4: HS256 keyed by the client secret,
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
// accepted audiences (issue 3 points 4, 5).
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
