package oidc

import (
	"net/http"
	"testing"
)

// TestPolicyContextAtAuthorizationAndRefresh: the policy context's
// user.authentication (from the sign-in session, then the token family at
// refresh), client.application_type and request.resources (RFC 8707
// resource parameters at the authorization endpoint) decide through the
// real endpoints; a malformed resource is invalid_target.
func TestPolicyContextAtAuthorizationAndRefresh(t *testing.T) {
	forEachBackend(t, testPolicyContext)
}

func testPolicyContext(t *testing.T, e *env) {
	ws := "/workspaces/" + testWS
	e.adminDo(t, http.MethodPost, ws+"/policies", map[string]any{
		"id": "context", "name": "Context", "kind": "user",
		"rules": []map[string]any{
			{"condition": `"https://blocked.example/api" in request.resources`, "outcome": "deny", "message": "this resource is blocked"},
			{"condition": `!("pwd" in user.authentication.methods)`, "outcome": "deny", "message": "sign in with a password"},
			{"condition": `int(user.authentication.time) == 0 || request.time - user.authentication.time > duration("1h")`,
				"outcome": "deny", "message": "sign in again"},
			{"condition": `client.application_type != "web"`, "outcome": "deny", "message": "web applications only"},
			{"condition": "true", "outcome": "allow"},
		},
	}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPut, ws+"/clients/"+e.client.ID+"/policies",
		map[string]any{"user_policy_id": "context"}, http.StatusOK, nil)

	// request.resources: a listed resource is denied with the message.
	params := authParams(e.client, "scope", "openid offline_access", "prompt", "consent")
	params.Add("resource", "https://ok.example/api")
	params.Add("resource", "https://blocked.example/api")
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{user: &e.user})
	e.requireRedirectError(t, res, params.Get("state"), "access_denied")
	if got := res.Params.Get("error_description"); got != "this resource is blocked" {
		t.Fatalf("error_description = %q", got)
	}

	// RFC 8707 §2: a resource with a fragment is invalid_target.
	params = authParams(e.client, "resource", "https://ok.example/api#frag")
	b = e.browser()
	res = e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{user: &e.user})
	e.requireRedirectError(t, res, params.Get("state"), "invalid_target")

	// user.authentication (pwd, just now) and client.application_type
	// (web, inferred) admit the flow; the refresh sees the same sign-in
	// through the token family, so it is admitted too.
	tk, _, _ := e.fullFlow(t, e.client, "scope", "openid offline_access", "prompt", "consent", "resource", "https://ok.example/api")
	if tk.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	e.secrets.Add(tk.RefreshToken)
	next := requireTokens(t, e.refresh(t, e.client, tk.RefreshToken, nil))
	e.secrets.Add(next.RefreshToken)

	// Storing another application type changes the decision at refresh.
	e.adminDo(t, http.MethodPatch, ws+"/clients/"+e.client.ID, map[string]any{"application_type": "web"}, http.StatusOK, nil)
	next = requireTokens(t, e.refresh(t, e.client, next.RefreshToken, nil))
	e.secrets.Add(next.RefreshToken)
	e.adminDo(t, http.MethodPatch, ws+"/policies/context", map[string]any{
		"rules": []map[string]any{
			{"condition": `int(user.authentication.time) != 0 && client.application_type == "spa"`, "outcome": "allow"},
			{"condition": "true", "outcome": "deny", "message": "single-page applications only"},
		},
	}, http.StatusOK, nil)
	r := e.refresh(t, e.client, next.RefreshToken, nil)
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	if got := r.str("error_description"); got != "single-page applications only" {
		t.Fatalf("refresh error_description = %q", got)
	}
}
