package adminapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

type linkMailbox struct{ to, body string }

func (m *linkMailbox) SendMail(_ context.Context, to, _, body string) error {
	m.to, m.body = to, body
	return nil
}

// TestUserSignInRoutes covers the user sign-in admin routes: password (204),
// password link (202, never echoing the link), consents and sessions.
func TestUserSignInRoutes(t *testing.T) {
	a := newAPI(t)
	m := &linkMailbox{}
	a.env.Service.Mailer = m
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u1", "username": "alice", "email": "alice@example.com", "active": true}), 201)
	a.want(a.do("PUT", ws+"/users/u1/password", map[string]any{"password": "short"}), 400)
	a.want(a.do("PUT", ws+"/users/u1/password", map[string]any{"password": "correct-horse"}), 204)
	a.want(a.do("PUT", ws+"/users/nobody/password", map[string]any{"password": "correct-horse"}), 404)
	r := a.want(a.do("POST", ws+"/users/u1/password-link", nil), 202)
	if r.body["sent_to"] != "alice@example.com" || strings.Contains(string(r.raw), "lkpw_") ||
		!strings.Contains(m.body, "http://lk.test/w/default/password/set?token=lkpw_") {
		t.Fatalf("password link: %s / mail %q", r.raw, m.body)
	}

	ctx := context.Background()
	now := time.Now()
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "web", "name": "web", "grant_types": []string{"authorization_code"},
		"redirect_uris": []string{"https://app.example/cb"}, "trusted": true, "post_logout_redirect_uris": []string{"https://app.example/bye"},
		"refresh_tokens": map[string]any{"grace_period": 10}}), 201)
	c := a.want(a.do("GET", ws+"/clients/web", nil), 200)
	if c.body["trusted"] != true || c.body["require_pkce"] != true || c.body["refresh_tokens"].(map[string]any)["grace_period"] != float64(10) {
		t.Fatalf("client flow settings: %s", c.raw)
	}
	if err := a.env.Store.PutConsent(ctx, storage.Consent{WorkspaceID: "default", UserID: "u1", ClientID: "web",
		Scopes: []string{"openid"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := a.env.Store.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "default", ID: "s1", IDHash: []byte("h"),
		UserID: "u1", AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r = a.want(a.do("GET", ws+"/users/u1/consents", nil), 200)
	if items := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["client_id"] != "web" {
		t.Fatalf("consents %s", r.raw)
	}
	a.want(a.do("DELETE", ws+"/users/u1/consents/web", nil), 204)
	a.want(a.do("DELETE", ws+"/users/u1/consents/web", nil), 404)
	r = a.want(a.do("GET", ws+"/users/u1/sessions", nil), 200)
	if items := r.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != "s1" {
		t.Fatalf("sessions %s", r.raw)
	}
	a.want(a.do("DELETE", ws+"/users/u1/sessions/other", nil), 404)
	a.want(a.do("DELETE", ws+"/users/u1/sessions/s1", nil), 204)
	a.want(a.do("DELETE", ws+"/users/u1/sessions", nil), 204)
}
