package adminapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestExpireUserPassword: the old password stops working at once, the
// user's browser sessions end, the change is audited, and unknown or
// service users are refused.
func TestExpireUserPassword(t *testing.T) {
	a := newAPI(t)
	ctx := context.Background()
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "u1", "username": "alice", "email": "alice@example.com", "active": true}), 201)
	a.want(a.do("PUT", ws+"/users/u1/password", map[string]any{"password": "correct-horse"}), 204)
	now := time.Now()
	if err := a.env.Store.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "default", ID: "s1", IDHash: []byte("h"),
		UserID: "u1", AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a.want(a.do("POST", ws+"/users/u1/password/expire", nil), 204)
	pw, err := a.env.Store.GetUserPassword(ctx, "default", "u1")
	if err != nil || service.VerifyPassword(pw.Hash, "correct-horse") {
		t.Fatalf("old password still works (err %v)", err)
	}
	r := a.want(a.do("GET", ws+"/users/u1/sessions", nil), 200)
	if items := r.body["items"].([]any); len(items) != 0 {
		t.Fatalf("sessions survive expiry: %s", r.raw)
	}
	r = a.want(a.do("GET", ws+"/audit?action="+service.AuditUserPasswordInvalidate, nil), 200)
	if e := auditItems(t, r); len(e) != 1 || e[0]["target_id"] != "u1" {
		t.Fatalf("expiry not audited: %s", r.raw)
	}
	a.want(a.do("POST", ws+"/users/nobody/password/expire", nil), 404)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "svc", "username": "svc", "service_user": true, "active": true}), 201)
	r = a.want(a.do("POST", ws+"/users/svc/password/expire", nil), 409)
	if r.body["error"] != "conflict" {
		t.Fatalf("service user: %s", r.raw)
	}
	_, viewer := a.createAdminToken(map[string]any{"name": "v", "role": "workspace_viewer", "workspaces": []string{"default"}})
	a.want(a.doAuth("POST", ws+"/users/u1/password/expire", nil, "Bearer "+viewer), 403)
}
