package oidc

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestPushedRequestTTLSetting: the workspace's pushed_request_ttl (RFC
// 9126 §2.2) is the expires_in of the PAR endpoint and how long the
// request_uri stays usable; values outside 10..600 s are refused by the
// admin API naming the field; 0 returns to the 60 s default.
func TestPushedRequestTTLSetting(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPushedRequestTTLSetting(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { testPushedRequestTTLSetting(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

func testPushedRequestTTLSetting(t *testing.T, e *env) {
	path := "/workspaces/" + testWS
	setTTL := func(seconds int) reply {
		return e.adminRaw(t, http.MethodPatch, path, map[string]any{"settings": map[string]any{"pushed_request_ttl": seconds}})
	}
	var view struct {
		Settings struct {
			PushedRequestTTL int `json:"pushed_request_ttl"`
		} `json:"settings"`
	}
	e.adminDo(t, http.MethodGet, path, nil, http.StatusOK, &view)
	if view.Settings.PushedRequestTTL != 60 {
		t.Fatalf("default pushed_request_ttl %d, want 60", view.Settings.PushedRequestTTL)
	}
	for _, bad := range []int{5, 601, -1} {
		r := setTTL(bad)
		if r.status != http.StatusBadRequest || !containsField(r, "settings.pushed_request_ttl") {
			t.Errorf("pushed_request_ttl %d: %d %s, want 400 naming settings.pushed_request_ttl", bad, r.status, r.raw)
		}
	}
	if r := setTTL(120); r.status != http.StatusOK {
		t.Fatalf("pushed_request_ttl 120: %d %s", r.status, r.raw)
	}
	push := func() (string, float64) {
		r := e.push(t, e.client, authParams(e.client))
		return e.requirePushed(t, r), r.json["expires_in"].(float64)
	}
	used, exp := push()
	if exp != 120 {
		t.Fatalf("expires_in %v, want 120", exp)
	}
	late, _ := push()
	e.clock.Advance(100 * time.Second) // past the default 60 s, within 120 s
	b := e.browser()
	res := e.drive(t, b, e.authorize(t, b, url.Values{"client_id": {e.client.ID}, "request_uri": {used}}), e.client.RedirectURI, flowOpts{user: &e.user})
	if res.Params.Get("code") == "" {
		t.Fatalf("request_uri refused after 100 s of 120: %v", res.Params)
	}
	e.clock.Advance(25 * time.Second) // 125 s: expired
	requireErrorPage(t, e.authorize(t, e.browser(), url.Values{"client_id": {e.client.ID}, "request_uri": {late}}), "invalid_request_uri")

	if r := setTTL(0); r.status != http.StatusOK {
		t.Fatalf("pushed_request_ttl 0: %d %s", r.status, r.raw)
	}
	if _, exp := push(); exp != 60 {
		t.Fatalf("expires_in after reset %v, want 60", exp)
	}
}

// containsField reports whether an admin API error names field.
func containsField(r reply, field string) bool {
	errs, _ := r.json["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok && m["field"] == field {
			return true
		}
	}
	return false
}
