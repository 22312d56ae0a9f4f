package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestInvalidateUserPassword: expiring a password makes the old one fail
// at once and signs the user out everywhere (SECURITY.md H9); service
// users and unknown users are refused.
func TestInvalidateUserPassword(t *testing.T) {
	env, ctx := newEnv(t)
	now := time.Now()
	for _, u := range []storage.User{
		{WorkspaceID: "default", ID: "u1", Username: "alice", Active: true, CreatedAt: now, UpdatedAt: now},
		{WorkspaceID: "default", ID: "svc", Username: "robot", Active: true, ServiceUser: true, CreatedAt: now, UpdatedAt: now},
	} {
		if err := env.Store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Service.SetUserPassword(ctx, "default", "u1", "correct-horse"); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "default", ID: "s1", IDHash: []byte("0123456789abcdef0123456789abcdef"),
		UserID: "u1", AuthTime: now, AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := env.Service.InvalidateUserPassword(ctx, "default", "u1"); err != nil {
		t.Fatal(err)
	}
	p, err := env.Store.GetUserPassword(ctx, "default", "u1")
	if err != nil || service.VerifyPassword(p.Hash, "correct-horse") {
		t.Fatalf("the old password still verifies (%v)", err)
	}
	if list, err := env.Service.ListUserSessions(ctx, "default", "u1"); err != nil || len(list) != 0 {
		t.Fatalf("sessions after expiry: %v %v", list, err)
	}
	if err := env.Service.InvalidateUserPassword(ctx, "default", "svc"); !errors.Is(err, service.ErrConflict) {
		t.Errorf("service user: %v, want a conflict", err)
	}
	if err := env.Service.InvalidateUserPassword(ctx, "default", "nobody"); !errors.Is(err, service.ErrNotFound) {
		t.Errorf("unknown user: %v, want not found", err)
	}
	page, err := env.Service.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: "default", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range page.Items {
		found = found || ev.Action == service.AuditUserPasswordInvalidate && ev.TargetID == "u1"
	}
	if !found {
		t.Error("no audit event for the expiry")
	}
}
