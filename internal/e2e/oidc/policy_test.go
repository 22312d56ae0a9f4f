package oidc

import (
	"net/http"
	"testing"
)

// TestUserPolicyAuthorizationAndRefresh: a user policy attached to a client
// decides after sign-in and before consent (access_denied redirected to the
// client with the rule's message), and again at every refresh: a user who
// left the allowed profile gets invalid_grant with the message.
func TestUserPolicyAuthorizationAndRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	ws := "/workspaces/" + testWS
	e.adminDo(t, http.MethodPost, ws+"/profiles", map[string]any{"id": "staff", "name": "Staff"}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPost, ws+"/policies", map[string]any{
		"id": "staff-only", "name": "Staff only", "kind": "user",
		"template": "profiles", "params": map[string]string{"profiles": "staff"},
	}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPut, ws+"/clients/"+e.client.ID+"/policies",
		map[string]any{"user_policy_id": "staff-only"}, http.StatusOK, nil)
	const msg = "your account is not in a profile allowed to use this application"

	// Not in the profile: access_denied at the authorization endpoint.
	params := authParams(e.client, "scope", "openid offline_access", "prompt", "consent")
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{user: &e.user})
	e.requireRedirectError(t, res, params.Get("state"), "access_denied")
	if got := res.Params.Get("error_description"); got != msg {
		t.Fatalf("error_description = %q, want %q", got, msg)
	}

	// In the profile: the flow completes and a refresh works.
	e.adminDo(t, http.MethodPatch, ws+"/users/"+e.user.ID, map[string]any{"profiles": []string{"staff"}}, http.StatusOK, nil)
	tk, _, _ := e.fullFlow(t, e.client, "scope", "openid offline_access", "prompt", "consent")
	if tk.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	e.secrets.Add(tk.RefreshToken)
	next := requireTokens(t, e.refresh(t, e.client, tk.RefreshToken, nil))
	e.secrets.Add(next.RefreshToken)

	// Left the profile: the refresh is refused with the rule's message.
	e.adminDo(t, http.MethodPatch, ws+"/users/"+e.user.ID, map[string]any{"profiles": []string{}}, http.StatusOK, nil)
	r := e.refresh(t, e.client, next.RefreshToken, nil)
	requireOAuthError(t, r, http.StatusBadRequest, "invalid_grant")
	if got := r.str("error_description"); got != msg {
		t.Fatalf("refresh error_description = %q, want %q", got, msg)
	}

	// The workspace default applies to a client without its own user policy.
	e.adminDo(t, http.MethodPut, ws+"/default-user-policy", map[string]any{"policy_id": "staff-only"}, http.StatusOK, nil)
	params = authParams(e.client2, "prompt", "consent")
	b = e.browser()
	res = e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{user: &e.user})
	e.requireRedirectError(t, res, params.Get("state"), "access_denied")
	// Still the default: it cannot be deleted.
	e.adminDo(t, http.MethodDelete, ws+"/policies/staff-only", nil, http.StatusConflict, nil)
}

// TestAccessPolicyAuthorization: the access policy of a requested scope's
// service decides after sign-in (access_denied with the rule's message);
// a request without that service's scopes is unaffected.
func TestAccessPolicyAuthorization(t *testing.T) {
	e := newEnv(t, envOptions{})
	ws := "/workspaces/" + testWS
	e.adminDo(t, http.MethodPost, ws+"/policies", map[string]any{
		"id": "example-staff", "name": "Example staff", "kind": "access",
		"template": "email-domain", "params": map[string]string{"domain": "staff.example.test"},
	}, http.StatusCreated, nil)
	e.adminDo(t, http.MethodPut, ws+"/services/api/access-policy", map[string]any{"policy_id": "example-staff"}, http.StatusOK, nil)

	params := authParams(e.client, "scope", "openid api:read", "prompt", "consent")
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, params), params.Get("redirect_uri"), flowOpts{user: &e.user})
	e.requireRedirectError(t, res, params.Get("state"), "access_denied")
	if got := res.Params.Get("error_description"); got != "sign in with an email address of an allowed domain" {
		t.Fatalf("error_description = %q", got)
	}
	e.fullFlow(t, e.client, "scope", "openid", "prompt", "consent")
}
