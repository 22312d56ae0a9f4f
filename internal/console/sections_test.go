package console_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// eachBackend runs fn against a server on SQLite and one on PostgreSQL
// (skipped without LATCHKEY_TEST_POSTGRES_DSN).
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, startServer(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, startServerDSN(t, e2etest.PostgresSchemaDSN(t, "console"))) })
}

// TestSectionSavesKeepOtherFields: each section of the OAuth tab saves
// only its own fields. Saving the JWT bearer section (which has no grant
// type control of its own any more) and the sign-in section leaves
// "trusted", the access token lifetime and the grant types as the OAuth
// form saved them; saving the OAuth form leaves the sign-in section's
// post-logout URIs.
func TestSectionSavesKeepOtherFields(t *testing.T) {
	eachBackend(t, testSectionSavesKeepOtherFields)
}

func testSectionSavesKeepOtherFields(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	resp, body := b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"}, "client_id": {"web-app"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "create client", resp, 200)
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	if client != ws+"/clients/web-app" || !strings.Contains(body, `id="client-secret"`) {
		t.Fatalf("creation: at %s; secret shown: %v", client, strings.Contains(body, `id="client-secret"`))
	}
	_, body = b.get(client + "/oauth")
	if strings.Contains(body, "enable_jwt_bearer") || strings.Count(body, `value="`+jwtBearerGrant+`"`) != 1 {
		t.Error("the JWT bearer grant has more than one control")
	}
	_, body = b.get(client + "/overview")
	if strings.Contains(body, `id="client-secret"`) {
		t.Error("the secret is shown again after creation")
	}

	resp, _ = b.post(client+"/oauth", url.Values{"csrf_token": {tok}, "application_type": {"web"}, "trusted": {"on"},
		"grant_types": {"authorization_code", jwtBearerGrant}, "response_types": {"code"}, "redirect_uris": {"https://app.example/cb"},
		"require_pkce": {"on"}, "token_endpoint_auth_method": {"client_secret_basic"}, "access_token_ttl": {"900"}})
	wantStatus(t, "save OAuth form", resp, 200)
	resp, _ = b.post(client+"/authflow", url.Values{"csrf_token": {tok}, "subject_format": {"id"},
		"post_logout_redirect_uris": {"https://app.example/bye"}})
	wantStatus(t, "save sign-in section", resp, 200)
	resp, body = b.post(client+"/jwt-bearer", url.Values{"csrf_token": {tok}, "user_field": {"username"}, "pre_auth": {"admin_approved"}})
	wantStatus(t, "save JWT bearer section", resp, 200)
	for _, want := range []string{`name="trusted" checked`, `name="access_token_ttl" min="0" value="900"`,
		`value="` + jwtBearerGrant + `" checked`, "https://app.example/bye", "JWT bearer settings saved"} {
		if !strings.Contains(body, want) {
			t.Errorf("after the JWT bearer save the page lacks %q", want)
		}
	}
	resp, body = b.post(client+"/oauth", url.Values{"csrf_token": {tok}, "application_type": {"web"}, "trusted": {"on"},
		"grant_types": {"authorization_code", jwtBearerGrant}, "response_types": {"code"}, "redirect_uris": {"https://app.example/cb"},
		"require_pkce": {"on"}, "token_endpoint_auth_method": {"client_secret_basic"}, "access_token_ttl": {"1200"}})
	wantStatus(t, "save OAuth form again", resp, 200)
	if !strings.Contains(body, "https://app.example/bye") || !strings.Contains(body, `value="admin_approved" checked`) {
		t.Error("saving the OAuth form changed another section")
	}
	if !strings.Contains(body, `<main id="main" data-url="`+client+`/oauth"`) {
		t.Error("a saved tab does not name its own address")
	}
}

// TestConsoleGapsRefusals: every refused input of the new console forms
// answers with a status and a message naming the field or the reason,
// never a 500.
func TestConsoleGapsRefusals(t *testing.T) {
	eachBackend(t, testConsoleGapsRefusals)
}

func testConsoleGapsRefusals(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	resp, _ := b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"alice"}, "email": {"alice@example.com"}, "active": {"on"}})
	wantStatus(t, "create user", resp, 200)
	alice := resp.Request.URL.Path
	resp, _ = b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"robot"}, "active": {"on"}, "service_user": {"on"}})
	wantStatus(t, "create service user", resp, 200)
	robot := resp.Request.URL.Path
	_, body := b.get(ws + "/keys")
	active := regexp.MustCompile(`<td class="mono">([^<]+)</td><td>[^<]*</td><td><span class="badge">active`).FindStringSubmatch(body)
	if active == nil {
		t.Fatal("no active key listed")
	}

	for _, c := range []struct {
		name, path string
		form       url.Values
		status     int
		want       string
	}{
		{"chosen client ID taken", ws + "/clients/new", url.Values{"name": {"A"}, "type": {"service"}, "client_id": {"dup"}}, 200, ""},
		{"passwords differ", alice + "/password", url.Values{"password": {"long enough 1"}, "password_again": {"long enough 2"}}, 400, "<code>password_again</code>"},
		{"password too short", alice + "/password", url.Values{"password": {"short"}, "password_again": {"short"}}, 400, "<code>password</code>"},
		{"service user password", robot + "/password", url.Values{"password": {"long enough 1"}, "password_again": {"long enough 1"}}, 409, "service user"},
		{"expire without confirm", alice + "/password-expire", url.Values{}, 400, "<code>confirm</code>"},
		{"link for a service user", robot + "/password-link", url.Values{}, 409, "service user"},
		{"unknown user", ws + "/users/nobody/password-expire", url.Values{"confirm": {"on"}}, 404, "nobody"},
		{"unknown session", alice + "/sessions/revoke", url.Values{"session_id": {"nope"}}, 404, "nope"},
		{"unknown consent", alice + "/consents/revoke", url.Values{"client_id": {"nope"}}, 404, "nope"},
		{"workspace state", ws + "/state/explode", url.Values{}, 404, "Unknown action"},
		{"disable without confirm", ws + "/state/disable", url.Values{}, 400, "confirm"},
		{"remove key without confirm", ws + "/keys/" + active[1] + "/delete", url.Values{}, 400, "confirm"},
		{"remove the active key", ws + "/keys/" + active[1] + "/delete", url.Values{"confirm": {"on"}}, 409, "rotate the keys first"},
		{"remove an unknown key", ws + "/keys/nope/delete", url.Values{"confirm": {"on"}}, 404, "nope"},
		{"rotation period not a number", ws + "/settings", url.Values{"name": {"Default"}, "key_rotation_period_hours": {"soon"}}, 400, "<code>settings.key_rotation_period</code>"},
		{"assertion lifetime too short", ws + "/settings", url.Values{"name": {"Default"}, "key_rotation_period_hours": {"0"}, "max_assertion_lifetime": {"5"}}, 400, "<code>settings.max_assertion_lifetime</code>"},
		{"chosen client ID taken again", ws + "/clients/new", url.Values{"name": {"B"}, "type": {"service"}, "client_id": {"dup"}}, 409, "dup"},
		{"chosen client ID invalid", ws + "/clients/new", url.Values{"name": {"C"}, "type": {"service"}, "client_id": {"has space"}}, 400, "<code>client_id</code>"},
	} {
		c.form.Set("csrf_token", tok)
		resp, body := b.post(c.path, c.form)
		// The refusal itself: the page's alert (field errors name the
		// field in <code>).
		alert := between(body, `role="alert">`, `</div>`)
		if resp.StatusCode != c.status || !strings.Contains(alert, c.want) {
			t.Errorf("%s: status %d, want %d with %q\n%s", c.name, resp.StatusCode, c.status, c.want, between(body, `<main`, `</main>`))
		}
	}

	// O4: a viewer changes none of it.
	v, vtok := b.signedInViewer(t, tok)
	for _, p := range []string{alice + "/password", alice + "/password-link", alice + "/password-expire", alice + "/sessions/revoke",
		alice + "/consents/revoke", ws + "/state/disable", ws + "/keys/" + active[1] + "/delete"} {
		resp, _ := v.post(p, url.Values{"csrf_token": {vtok}, "confirm": {"on"}})
		wantStatus(t, "O4 viewer posts "+p, resp, 403)
	}
	_, body = v.get(alice)
	if strings.Contains(body, `id="set-password"`) || strings.Contains(body, `id="expire-password"`) {
		t.Error("a viewer is offered password actions")
	}
}

// TestDeleteConfirmation: a delete lands on the list with a confirmation
// naming what was deleted; the page names only known kinds of things.
func TestDeleteConfirmation(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	resp, _ := b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Billing <app>"}, "type": {"service"}, "client_id": {"billing"}})
	wantStatus(t, "create client", resp, 200)
	resp, body := b.post(ws+"/clients/billing/action/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	wantStatus(t, "delete client", resp, 200)
	if !strings.Contains(body, "Deleted the client “Billing &lt;app&gt; (billing)”.") {
		t.Errorf("no confirmation naming the client:\n%s", between(body, `<main`, `</main>`))
	}
	resp, _ = b.post(ws+"/profiles", url.Values{"csrf_token": {tok}, "id": {"ops"}, "name": {"Operations"}})
	wantStatus(t, "create profile", resp, 200)
	_, body = b.post(ws+"/profiles/ops/delete", url.Values{"csrf_token": {tok}, "confirm": {"on"}})
	if !strings.Contains(body, "Deleted the profile “Operations (ops)”.") {
		t.Error("no confirmation naming the profile")
	}
	_, body = b.get(ws + "/clients?deleted=everything&name=x")
	if strings.Contains(body, "Deleted the") {
		t.Error("a link names an unknown kind of deleted thing")
	}
}
