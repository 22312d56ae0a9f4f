package server

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestCleanupDeletesExpiredConsoleData checks that the background clean-up
// removes console sessions past the idle timeout and expired codes, and
// keeps live ones.
func TestCleanupDeletesExpiredConsoleData(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	srv, err := New(t.Context(), testConfig(t, seededDataDir(t), nil), nil, WithStderr(io.Discard),
		func(o *options) { o.now = func() time.Time { return now } })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.db.CreateAdminUser(ctx, storage.AdminUser{ID: "adm_1", Username: "root", Role: storage.RoleSuperAdmin, CreatedAt: now, UpdatedAt: now}))
	for id, seen := range map[string]time.Time{"stale": now.Add(-2 * time.Hour), "live": now.Add(-time.Minute)} {
		must(srv.db.CreateConsoleSession(ctx, storage.ConsoleSession{
			IDHash: []byte(id), AdminUserID: "adm_1", CreatedAt: seen, LastSeenAt: seen, CSRFSecret: []byte("k"),
		}))
	}
	key := storage.OneTimeCodeKey{AdminUserID: "adm_1", WorkspaceID: "default", ClientID: "c"}
	must(srv.db.PutOneTimeCode(ctx, storage.OneTimeCode{OneTimeCodeKey: key, CodeHash: []byte("h"), ExpiresAt: now.Add(-time.Second), TriesLeft: 5, CreatedAt: now.Add(-11 * time.Minute)}))

	srv.cleanup(ctx)

	if _, err := srv.db.GetConsoleSession(ctx, []byte("stale")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("stale session survived: %v", err)
	}
	if _, err := srv.db.GetConsoleSession(ctx, []byte("live")); err != nil {
		t.Errorf("live session deleted: %v", err)
	}
	if _, err := srv.db.ConsumeOneTimeCode(ctx, key, []byte("h"), now.Add(-time.Minute)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired code survived: %v", err)
	}
}
