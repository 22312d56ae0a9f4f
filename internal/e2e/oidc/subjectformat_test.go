package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// TestSubjectFormats runs each client subject format (README "Client
// settings", docs/authorization-flow.md "Subject formats") through the
// real server: the code flow with golang.org/x/oauth2 and go-oidc, a
// refresh, the JWT bearer grant and client_credentials for a service user
// all name the user the same way in the access token, the ID token,
// UserInfo and introspection, on SQLite and PostgreSQL.
func TestSubjectFormats(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testSubjectFormats)
}

func testSubjectFormats(t *testing.T, e *env) {
	svc := e.createServiceUser(t, "svc-batch", "svc-batch@example.test")
	signer := e2etest.NewAssertionSigner(t)
	var pairwiseSubs []string
	for _, tc := range []struct {
		format  string
		user    string // the expected sub of e.user ("" for pairwise)
		service string // of svc
		warned  bool
	}{
		{"id", e.user.ID, svc.ID, false},
		{"username", e.user.Username, svc.Username, true},
		{"email", e.user.Email, svc.Email, true},
		{"pairwise", "", "", false},
	} {
		t.Run(tc.format, func(t *testing.T) {
			c, created := e.subjectClient(t, "sf-"+tc.format, tc.format, svc.ID, signer)
			if warned := len(created.Warnings) > 0; warned != tc.warned || created.SubjectFormat != tc.format {
				t.Fatalf("create answered subject_format %q warnings %q, want %q warned=%v", created.SubjectFormat, created.Warnings, tc.format, tc.warned)
			}
			sub := e.requireCodeFlowSubject(t, c)
			bearer := e.requireBearerSubject(t, c, signer, e.user.Username)
			service := e.requireClientCredentialsSubject(t, c)
			if bearer != sub {
				t.Errorf("JWT bearer sub %q, code flow sub %q", bearer, sub)
			}
			if tc.format != "pairwise" {
				if sub != tc.user || service != tc.service {
					t.Fatalf("sub %q and service user sub %q, want %q and %q", sub, service, tc.user, tc.service)
				}
				return
			}
			if slices.Contains([]string{e.user.ID, e.user.Username, e.user.Email}, sub) || service == svc.ID || service == sub {
				t.Fatalf("pairwise subs %q / %q reveal or share an identifier", sub, service)
			}
			pairwiseSubs = append(pairwiseSubs, sub)
		})
	}
	if len(pairwiseSubs) != 1 {
		t.Fatal("the pairwise case did not run")
	}
}

// TestSubjectFormatEmailWithoutAddress: under subject_format email a user
// without an e-mail address gets invalid_grant from every grant, never a
// token with an empty sub.
func TestSubjectFormatEmailWithoutAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	svc := e.createServiceUser(t, "svc-nomail", "")
	signer := e2etest.NewAssertionSigner(t)
	bob := e.createUser(t, testWS, "bob", "")
	c, _ := e.subjectClient(t, "sf-nomail", "email", svc.ID, signer, bob.ID)
	const want = "the user has no e-mail address, which this client uses as subject"

	res := e.codeFlowIn(t, e.browser(), authParams(c), flowOpts{user: &bob})
	r := e.exchange(t, c, res.Params.Get("code"), nil)
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	if r.str("error_description") != want {
		t.Errorf("code: error_description %q, want %q", r.str("error_description"), want)
	}
	r = e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {jwtBearerGrant},
		"assertion": {signer.Assertion(t, c.ID, bob.Username, e.issuer+"/oauth2/token")}})
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	if r.str("error_description") != want {
		t.Errorf("JWT bearer: error_description %q, want %q", r.str("error_description"), want)
	}
	r = e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {"client_credentials"}})
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	if r.str("error_description") != want {
		t.Errorf("client_credentials: error_description %q, want %q", r.str("error_description"), want)
	}
}

// TestSubjectFormatAdminAPI: subject_format and the older subject_type
// are one setting (either may be written, the other follows, both given
// must agree), unknown values are refused with the field named, and
// username and email answer a warning on every read.
func TestSubjectFormatAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	path := "/workspaces/" + testWS + "/clients"
	base := func(id string, extra map[string]any) map[string]any {
		b := clientSpec{ID: id, RedirectURIs: []string{rpRedirect}}.body()
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	type view struct {
		SubjectType   string   `json:"subject_type"`
		SubjectFormat string   `json:"subject_format"`
		Warnings      []string `json:"warnings"`
	}
	for _, tc := range []struct {
		name             string
		body             map[string]any
		typ, format      string
		warned           bool
		status           int
		errField, errMsg string
	}{
		{"default", nil, "public", "id", false, http.StatusCreated, "", ""},
		{"legacy pairwise", map[string]any{"subject_type": "pairwise"}, "pairwise", "pairwise", false, http.StatusCreated, "", ""},
		{"pairwise format", map[string]any{"subject_format": "pairwise"}, "pairwise", "pairwise", false, http.StatusCreated, "", ""},
		{"email", map[string]any{"subject_format": "email"}, "public", "email", true, http.StatusCreated, "", ""},
		{"username with public", map[string]any{"subject_format": "username", "subject_type": "public"}, "public", "username", true, http.StatusCreated, "", ""},
		{"unknown format", map[string]any{"subject_format": "nickname"}, "", "", false, http.StatusBadRequest,
			"subject_format", "must be one of id, username, email, pairwise"},
		{"contradiction", map[string]any{"subject_format": "email", "subject_type": "pairwise"}, "", "", false, http.StatusBadRequest,
			"subject_format", `"email" contradicts subject_type "pairwise": send one of the two, or pairwise for both`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "api-" + strings.ReplaceAll(tc.name, " ", "-")
			r := e.adminRaw(t, http.MethodPost, path, base(id, tc.body))
			if r.status != tc.status {
				t.Fatalf("create: %d %s, want %d", r.status, r.raw, tc.status)
			}
			if tc.status != http.StatusCreated {
				if !strings.Contains(string(r.raw), `"`+tc.errField+`"`) || !strings.Contains(string(r.raw), jsonText(tc.errMsg)) {
					t.Fatalf("error %s does not name %s with %q", r.raw, tc.errField, tc.errMsg)
				}
				return
			}
			var got view
			e.adminDo(t, http.MethodGet, path+"/"+id, nil, http.StatusOK, &got)
			if got.SubjectType != tc.typ || got.SubjectFormat != tc.format || (len(got.Warnings) > 0) != tc.warned {
				t.Fatalf("read back %+v, want type %q format %q warned=%v", got, tc.typ, tc.format, tc.warned)
			}
		})
	}
	t.Run("patching one moves the other", func(t *testing.T) {
		var got view
		e.adminDo(t, http.MethodPatch, path+"/api-legacy-pairwise", map[string]any{"subject_format": "username"}, http.StatusOK, &got)
		if got.SubjectType != "public" || got.SubjectFormat != "username" || len(got.Warnings) != 1 {
			t.Fatalf("after subject_format username: %+v", got)
		}
		got = view{} // a response without warnings leaves the member out
		e.adminDo(t, http.MethodPatch, path+"/api-legacy-pairwise", map[string]any{"subject_type": "pairwise"}, http.StatusOK, &got)
		if got.SubjectType != "pairwise" || got.SubjectFormat != "pairwise" || len(got.Warnings) != 0 {
			t.Fatalf("after subject_type pairwise: %+v", got)
		}
		e.adminDo(t, http.MethodPatch, path+"/api-legacy-pairwise", map[string]any{"subject_type": "public"}, http.StatusOK, &got)
		if got.SubjectType != "public" || got.SubjectFormat != "id" {
			t.Fatalf("after subject_type public: %+v", got)
		}
	})
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// subjectClientView is what the subject tests read of a client response.
type subjectClientView struct {
	SubjectFormat string   `json:"subject_format"`
	Warnings      []string `json:"warnings"`
}

// subjectClient registers a confidential client with every grant that
// issues user tokens, the given subject format, the service user for
// client_credentials and signer's certificate for JWT bearer assertions
// about e.user (and the extra users).
func (e *env) subjectClient(t *testing.T, id, format, serviceUserID string, signer e2etest.AssertionSigner, users ...string) (clientCreds, subjectClientView) {
	t.Helper()
	b := clientSpec{ID: id, RedirectURIs: []string{rpRedirect}}.body()
	b["subject_format"] = format
	b["grant_types"] = []string{"authorization_code", "refresh_token", "client_credentials", jwtBearerGrant}
	var out struct {
		subjectClientView
		Secret string `json:"client_secret"`
	}
	e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/clients", b, http.StatusCreated, &out)
	e.secrets.Add(out.Secret)
	c := clientCreds{ID: id, Secret: out.Secret, RedirectURI: rpRedirect, AuthMethod: "client_secret_basic"}
	e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/clients/"+id+"/certificates",
		map[string]any{"certificate": signer.CertPEM, "kid": "e2e"}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPut, "/workspaces/"+testWS+"/clients/"+id+"/jwt-bearer", map[string]any{
		"pre_auth": "admin_approved", "allowed_users": append([]string{e.user.ID}, users...), "service_user_id": serviceUserID,
	}, http.StatusOK, nil)
	return c, out.subjectClientView
}

// createServiceUser creates an active service user.
func (e *env) createServiceUser(t *testing.T, username, email string) testUser {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.adminDo(t, http.MethodPost, "/workspaces/"+testWS+"/users",
		map[string]any{"username": username, "email": email, "service_user": true}, http.StatusCreated, &out)
	return testUser{ID: out.ID, Username: username, Email: email}
}

// requireCodeFlowSubject signs e.user in for c, exchanges the code with
// golang.org/x/oauth2, verifies the ID token with go-oidc, and requires
// the same sub in the access token, UserInfo, introspection of both
// tokens, and the tokens of a refresh. It returns that sub.
func (e *env) requireCodeFlowSubject(t *testing.T, c clientCreds) string {
	t.Helper()
	params := authParams(c, "scope", "openid offline_access")
	res := e.codeFlowIn(t, e.browser(), params, flowOpts{user: &e.user})
	conf := &oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: c.RedirectURI,
		Endpoint: oauth2.Endpoint{TokenURL: e.issuer + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	ctx := e.oauth2Context(t)
	tok, err := conf.Exchange(ctx, res.Params.Get("code"))
	if err != nil {
		t.Fatalf("golang.org/x/oauth2 Exchange: %v", err)
	}
	e.secrets.AddToken(tok.AccessToken)
	e.secrets.Add(tok.RefreshToken)
	raw, _ := tok.Extra("id_token").(string)
	e.secrets.AddToken(raw)
	sub := e.verifyIDToken(t, c.ID, raw, params.Get("nonce"), tok.AccessToken).Subject
	info := e.userinfo(t, http.MethodGet, tok.AccessToken, false)
	got := map[string]string{
		"access token":               accessTokenSub(t, tok.AccessToken),
		"UserInfo":                   info.str("sub"),
		"introspection (access)":     e.introspectSub(t, c, tok.AccessToken),
		"introspection (refresh)":    e.introspectSub(t, c, tok.RefreshToken),
		"access token after refresh": accessTokenSub(t, requireTokens(t, e.refresh(t, c, tok.RefreshToken, nil)).AccessToken),
	}
	for where, s := range got {
		if s != sub {
			t.Errorf("%s sub %q, ID token sub %q", where, s, sub)
		}
	}
	return sub
}

// requireBearerSubject gets a token for username with a JWT bearer
// assertion signed by c and returns its sub, requiring introspection to
// agree.
func (e *env) requireBearerSubject(t *testing.T, c clientCreds, signer e2etest.AssertionSigner, username string) string {
	t.Helper()
	a := signer.Assertion(t, c.ID, username, e.issuer+"/oauth2/token")
	e.secrets.AddToken(a)
	tk := requireTokens(t, e.postForm(t, "/oauth2/token", c, url.Values{"grant_type": {jwtBearerGrant}, "assertion": {a}}))
	sub := accessTokenSub(t, tk.AccessToken)
	if in := e.introspectSub(t, c, tk.AccessToken); in != sub {
		t.Errorf("JWT bearer: introspection sub %q, token sub %q", in, sub)
	}
	return sub
}

// requireClientCredentialsSubject gets a client_credentials token with
// golang.org/x/oauth2/clientcredentials (c acts as its service user) and
// returns its sub, requiring introspection to agree.
func (e *env) requireClientCredentialsSubject(t *testing.T, c clientCreds) string {
	t.Helper()
	conf := clientcredentials.Config{ClientID: c.ID, ClientSecret: c.Secret, TokenURL: e.issuer + "/oauth2/token",
		Scopes: []string{"api:read"}, AuthStyle: oauth2.AuthStyleInHeader}
	tok, err := conf.Token(e.oauth2Context(t))
	if err != nil {
		t.Fatalf("client_credentials: %v", err)
	}
	e.secrets.AddToken(tok.AccessToken)
	sub := accessTokenSub(t, tok.AccessToken)
	if in := e.introspectSub(t, c, tok.AccessToken); in != sub {
		t.Errorf("client_credentials: introspection sub %q, token sub %q", in, sub)
	}
	if sub == c.ID {
		t.Fatal("the service user's token carries the client's sub")
	}
	return sub
}

// oauth2Context makes golang.org/x/oauth2 use the env's transport.
func (e *env) oauth2Context(t *testing.T) context.Context {
	return context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: e.transport(), Timeout: 10 * time.Second})
}

// introspectSub is the sub introspection answers for an active token.
func (e *env) introspectSub(t *testing.T, c clientCreds, tok string) string {
	t.Helper()
	r := e.postForm(t, "/oauth2/introspect", c, url.Values{"token": {tok}})
	if active, _ := r.json["active"].(bool); r.status != http.StatusOK || !active {
		t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	return r.str("sub")
}

// accessTokenSub reads sub from a JWT access token's payload (the
// signature is checked by introspection in the same tests).
func accessTokenSub(t *testing.T, raw string) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Sub string `json:"sub"`
	}
	if err != nil || json.Unmarshal(b, &claims) != nil || claims.Sub == "" {
		t.Fatalf("access token payload without sub: %v", err)
	}
	return claims.Sub
}
