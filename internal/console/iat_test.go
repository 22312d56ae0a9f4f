package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// register calls the RFC 7591 registration endpoint with an initial
// access token and returns the status and the JSON error code, if any.
func (b *browser) register(t *testing.T, token string, metadata map[string]any) (int, string) {
	t.Helper()
	body, _ := json.Marshal(metadata)
	req, _ := http.NewRequest(http.MethodPost, b.e.base+"/w/default/oauth2/register", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.Error
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Fatalf("%s lacks %q\n%s", what, want, body)
		}
	}
}

// TestInitialAccessTokenPages covers the console part of docs/security.md
// R2: the registration policy of initial access tokens is set, listed and
// revoked in the console, through the audited service calls, and a
// workspace viewer only reads it.
func TestInitialAccessTokenPages(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	const iats = ws + "/initial-access-tokens"
	resp, _ := b.post(ws+"/services/new", url.Values{"csrf_token": {tok}, "name": {"Orders"}, "identifier": {"https://api.example/orders"},
		"scopes": {"orders:read Read orders\norders:write Change orders"}})
	wantStatus(t, "create service", resp, 200)

	resp, body := b.get(iats)
	wantStatus(t, "empty list", resp, 200)
	mustContain(t, "empty list", body, `href="`+iats+`" aria-current="page">Initial access tokens</a>`, "No initial access tokens.",
		`href="`+iats+`/new"`)

	// The form starts as the narrow default policy.
	resp, body = b.get(iats + "/new")
	wantStatus(t, "new form", resp, 200)
	mustContain(t, "new form", body, `value="client_credentials" checked`, `value="authorization_code" checked`,
		`value="refresh_token" checked`, `value="`+jwtBearerGrant+`">`, `name="allow_impersonation">`,
		`name="scopes" value="orders:read">`, `name="scopes" value="openid">`, `name="auth_methods" value="private_key_jwt">`, `name="application_types" value="native">`,
		`id="max_uses" name="max_uses" min="0" required value="1"`, `id="expires_in" name="expires_in" min="0" required value="86400"`,
		"tokens <em>as users of the workspace</em>")
	if p := pageProblems(body); len(p) > 0 {
		t.Errorf("new form: %v", p)
	}

	// Problems the console finds itself: nothing typed is lost.
	resp, body = b.post(iats+"/new", url.Values{"csrf_token": {tok}, "description": {"Partner onboarding"}, "expires_in": {"soon"},
		"max_uses": {""}, "scopes": {"orders:read"}, "redirect_uri_patterns": {"https://partner.example/cb/"}})
	wantStatus(t, "unreadable numbers, no grant type", resp, 400)
	mustContain(t, "refused form", body, `id="expires_in-error"`, `id="max_uses-error"`, `id="grant_types-error"`,
		"tick at least one grant type", `value="Partner onboarding"`, `value="soon"`, `name="scopes" value="orders:read" checked`,
		">https://partner.example/cb/</textarea>", `aria-invalid="true"`)

	// Problems the service finds are shown next to their fields.
	resp, body = b.post(iats+"/new", url.Values{"csrf_token": {tok}, "description": {"Partner onboarding"}, "expires_in": {"3600"},
		"max_uses": {"2000000"}, "grant_types": {"authorization_code", jwtBearerGrant}, "scopes": {"orders:read", "nope"},
		"redirect_uri_patterns": {"https://partner.example/cb/\nhttps://partner.example/*"}})
	wantStatus(t, "policy the service refuses", resp, 400)
	mustContain(t, "refused policy", body,
		`<ul class="field-error" id="grant_types-error"><li>`+jwtBearerGrant+` issues tokens for users and requires allow_impersonation`,
		`<ul class="field-error" id="max_uses-error"><li>must be 0 (unlimited) or at most 1000000`,
		`<ul class="field-error" id="scopes-error"><li>&#34;nope&#34;: scope &#34;nope&#34; is not`, "defined by any service of the workspace",
		`<ul class="field-error" id="redirect_uri_patterns-error"><li>&#34;https://partner.example/*&#34;: wildcards are not supported`,
		`value="`+jwtBearerGrant+`" checked`, `value="client_credentials">`, `value="2000000"`)
	if p := pageProblems(body); len(p) > 0 {
		t.Errorf("refused form: %v", p)
	}
	resp, _ = b.post(iats+"/new", url.Values{"csrf_token": {"forged"}, "grant_types": {"client_credentials"}, "expires_in": {"0"}, "max_uses": {"0"}})
	wantStatus(t, "create without the CSRF token", resp, 403)

	// A valid policy: the token is shown once, with a copy button.
	resp, body = b.post(iats+"/new", url.Values{"csrf_token": {tok}, "description": {"Partner onboarding"}, "expires_in": {"3600"},
		"max_uses": {"2"}, "grant_types": {"authorization_code", "refresh_token"}, "scopes": {"orders:read"},
		"auth_methods": {"client_secret_basic"}, "application_types": {"web"}, "redirect_uri_patterns": {"https://partner.example/cb/\r\n"}})
	wantStatus(t, "create", resp, 200)
	m := regexp.MustCompile(`<code id="iat-token" class="secret" data-copy="initial access token">(lki_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("token not shown with a copy button:\n%s", body)
	}
	token := m[1]
	id := between(body, `<h2 id="created-h">New token `, `<`)
	mustContain(t, "created page", body, "Store it now", "/w/default/oauth2/register", "Partner onboarding")
	if p := pageProblems(body); len(p) > 0 {
		t.Errorf("created page: %v", p)
	}

	// The policy set in the console is the one registration enforces.
	outside := map[string]any{"grant_types": []string{"client_credentials"}, "scope": "orders:read"}
	if status, code := b.register(t, token, outside); status != 400 || code != "invalid_client_metadata" {
		t.Fatalf("registration outside the policy: %d %s", status, code)
	}
	inside := map[string]any{"grant_types": []string{"authorization_code"}, "scope": "orders:read",
		"redirect_uris": []string{"https://partner.example/cb/done"}, "token_endpoint_auth_method": "client_secret_basic"}
	if status, code := b.register(t, token, inside); status != 201 {
		t.Fatalf("registration inside the policy: %d %s", status, code)
	}

	resp, body = b.get(iats)
	wantStatus(t, "list", resp, 200)
	mustContain(t, "list", body, `<h2 id="iat-`+id+`"><code>`+id+`</code></h2>`, "<dt>Description</dt><dd>Partner onboarding</dd>",
		"<dt>Uses left</dt><dd>1</dd>", "<dt>Expires</dt><dd>20",
		"<dd><code>authorization_code</code>, <code>refresh_token</code></dd>", "<dd><code>orders:read</code></dd>",
		"<dd><code>client_secret_basic</code></dd>", "<dd><code>web</code></dd>", "<dd><code>https://partner.example/cb/</code></dd>",
		"<dt>Impersonation</dt><dd>no</dd>", `action="`+iats+`/`+id+`/delete"`)
	if strings.Contains(body, token) {
		t.Fatal("the token value is shown again in the list")
	}

	// O4: a workspace viewer reads the list and changes nothing.
	v, vtok := b.signedInViewer(t, tok)
	resp, body = v.get(iats)
	wantStatus(t, "viewer reads the list", resp, 200)
	mustContain(t, "viewer's list", body, "<code>"+id+"</code>")
	if strings.Contains(body, iats+"/new") || strings.Contains(body, "/delete") {
		t.Fatal("the viewer is offered create or delete")
	}
	resp, _ = v.get(iats + "/new")
	wantStatus(t, "O4 viewer opens the form", resp, 403)
	for _, p := range []string{iats + "/new", iats + "/" + id + "/delete"} {
		resp, _ = v.post(p, url.Values{"csrf_token": {vtok}, "confirm": {"on"}, "grant_types": {"client_credentials"},
			"expires_in": {"0"}, "max_uses": {"0"}})
		wantStatus(t, "O4 viewer posts "+p, resp, 403)
	}

	// Delete: confirmed, and the page says which token went.
	resp, _ = b.post(iats+"/"+id+"/delete", url.Values{"csrf_token": {tok}})
	wantStatus(t, "delete without confirmation", resp, 400)
	resp, body = b.post(iats+"/"+id+"/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete", resp, 200)
	mustContain(t, "after delete", body, `<p class="notice" role="status">Initial access token `+id+` (“Partner onboarding”) was deleted.`,
		"No initial access tokens.")
	if status, _ := b.register(t, token, inside); status != 401 {
		t.Fatalf("registration with a deleted token: %d", status)
	}
	resp, _ = b.post(iats+"/"+id+"/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete again", resp, 404)

	// Every change is audited, with the console user as actor.
	_, body = b.get(ws + "/audit?actor=root")
	mustContain(t, "audit log", body, "<code>initial_access_token.create</code>", "<code>initial_access_token.delete</code>",
		"initial_access_token <code>"+id+"</code>")
}
