package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunConsoleTests runs the suite of the console part of storage (admin
// users, sessions, one-time codes, audit log, outbox) against stores made
// by newStorage.
func RunConsoleTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"AdminUserCRUD", testAdminUserCRUD},
		{"AdminUserPagination", testAdminUserPagination},
		{"ConsoleSessions", testConsoleSessions},
		{"OneTimeCodes", testOneTimeCodes},
		{"OneTimeCodesConcurrent", testOneTimeCodesConcurrent},
		{"OneTimeCodeHolders", testOneTimeCodeHolders},
		{"AuditEvents", testAuditEvents},
		{"AuditWorkspaceIsolation", testAuditWorkspaceIsolation},
		{"AuditQuery", testAuditQuery},
		{"GetMail", testGetMail},
		{"MailOutbox", testMailOutbox},
		{"DeleteExpiredConsoleData", testDeleteExpiredConsole},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
}

func newAdminUser(id, username string) storage.AdminUser {
	return storage.AdminUser{
		ID: id, Username: username, Email: username + "@example.com", DisplayName: "User " + id,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", Role: storage.RoleWorkspaceAdmin,
		Workspaces: []string{"acme", "beta"}, CreatedAt: at(0), UpdatedAt: at(0),
	}
}

func createAdminUser(t *testing.T, s storage.Storage, id, username string) storage.AdminUser {
	t.Helper()
	u := newAdminUser(id, username)
	must(t, s.CreateAdminUser(t.Context(), u))
	return u
}

func testAdminUserCRUD(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	u := createAdminUser(t, s, "au1", "alice")
	got, err := s.GetAdminUser(ctx, "au1")
	must(t, err)
	sameTime(t, "created", got.CreatedAt, u.CreatedAt)
	got.CreatedAt, got.UpdatedAt = u.CreatedAt, u.UpdatedAt
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("GetAdminUser = %+v, want %+v", got, u)
	}
	byName, err := s.GetAdminUserByUsername(ctx, "alice")
	must(t, err)
	if byName.ID != "au1" {
		t.Fatalf("GetAdminUserByUsername = %q", byName.ID)
	}
	wantErr(t, s.CreateAdminUser(ctx, newAdminUser("au1", "other")), storage.ErrAlreadyExists, "duplicate admin ID")
	wantErr(t, s.CreateAdminUser(ctx, newAdminUser("au2", "alice")), storage.ErrAlreadyExists, "duplicate username")
	_, err = s.GetAdminUserByUsername(ctx, "ALICE")
	wantErr(t, err, storage.ErrNotFound, "username lookup is exact")

	updated, err := s.UpdateAdminUser(ctx, "au1", func(u storage.AdminUser) (storage.AdminUser, error) {
		u.Role, u.Workspaces, u.Disabled = storage.RoleSuperAdmin, nil, true
		return u, nil
	})
	must(t, err)
	got, err = s.GetAdminUser(ctx, "au1")
	must(t, err)
	if got.Role != storage.RoleSuperAdmin || !got.Disabled || got.Workspaces != nil || !reflect.DeepEqual(got, updated) {
		t.Fatalf("after update: %+v (returned %+v)", got, updated)
	}
	boom := errors.New("boom")
	_, err = s.UpdateAdminUser(ctx, "au1", func(u storage.AdminUser) (storage.AdminUser, error) { return u, boom })
	wantErr(t, err, boom, "updater error passes through")
	_, err = s.UpdateAdminUser(ctx, "nope", func(u storage.AdminUser) (storage.AdminUser, error) { return u, nil })
	wantErr(t, err, storage.ErrNotFound, "update missing admin user")

	createAdminUser(t, s, "au2", "bob")
	n, err := s.CountAdminUsers(ctx, "")
	must(t, err)
	supers, err := s.CountAdminUsers(ctx, storage.RoleSuperAdmin)
	must(t, err)
	if n != 2 || supers != 1 {
		t.Fatalf("CountAdminUsers = %d all, %d super; want 2, 1", n, supers)
	}
	must(t, s.DeleteAdminUser(ctx, "au1"))
	wantErr(t, s.DeleteAdminUser(ctx, "au1"), storage.ErrNotFound, "delete twice")
	_, err = s.GetAdminUser(ctx, "au1")
	wantErr(t, err, storage.ErrNotFound, "get deleted admin user")
}

func testAdminUserPagination(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for i := range 5 {
		createAdminUser(t, s, fmt.Sprintf("u%d", i), fmt.Sprintf("name%d", i))
	}
	var ids []string
	after := ""
	for {
		p, err := s.ListAdminUsers(ctx, storage.ListOptions{After: after, Limit: 2})
		must(t, err)
		for _, u := range p.Items {
			ids = append(ids, u.ID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if !reflect.DeepEqual(ids, []string{"u0", "u1", "u2", "u3", "u4"}) {
		t.Fatalf("paged IDs = %v", ids)
	}
	p, err := s.ListAdminUsers(ctx, storage.ListOptions{Query: "NAME3"})
	must(t, err)
	if len(p.Items) != 1 || p.Items[0].ID != "u3" {
		t.Fatalf("query NAME3 = %+v", p.Items)
	}
}

func testConsoleSessions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createAdminUser(t, s, "au1", "alice")
	sess := storage.ConsoleSession{IDHash: []byte("hash-1"), AdminUserID: "au1", CreatedAt: at(0), LastSeenAt: at(0), CSRFSecret: []byte("csrf")}
	must(t, s.CreateConsoleSession(ctx, sess))
	wantErr(t, s.CreateConsoleSession(ctx, sess), storage.ErrAlreadyExists, "duplicate session")
	orphan := sess
	orphan.IDHash, orphan.AdminUserID = []byte("hash-x"), "nobody"
	wantErr(t, s.CreateConsoleSession(ctx, orphan), storage.ErrNotFound, "session of unknown admin user")

	got, err := s.GetConsoleSession(ctx, []byte("hash-1"))
	must(t, err)
	sameTime(t, "last seen", got.LastSeenAt, at(0))
	if got.AdminUserID != "au1" || string(got.CSRFSecret) != "csrf" {
		t.Fatalf("GetConsoleSession = %+v", got)
	}
	must(t, s.TouchConsoleSession(ctx, []byte("hash-1"), at(time.Minute)))
	got, err = s.GetConsoleSession(ctx, []byte("hash-1"))
	must(t, err)
	sameTime(t, "touched", got.LastSeenAt, at(time.Minute))
	wantErr(t, s.TouchConsoleSession(ctx, []byte("nope"), at(0)), storage.ErrNotFound, "touch missing session")

	must(t, s.DeleteConsoleSession(ctx, []byte("hash-1")))
	_, err = s.GetConsoleSession(ctx, []byte("hash-1"))
	wantErr(t, err, storage.ErrNotFound, "deleted session")

	for _, h := range []string{"a", "b"} {
		sess.IDHash = []byte(h)
		must(t, s.CreateConsoleSession(ctx, sess))
	}
	must(t, s.DeleteAdminUserSessions(ctx, "au1"))
	_, err = s.GetConsoleSession(ctx, []byte("a"))
	wantErr(t, err, storage.ErrNotFound, "sessions of a signed-out user")

	// Deleting the user removes its sessions.
	sess.IDHash = []byte("c")
	must(t, s.CreateConsoleSession(ctx, sess))
	must(t, s.DeleteAdminUser(ctx, "au1"))
	_, err = s.GetConsoleSession(ctx, []byte("c"))
	wantErr(t, err, storage.ErrNotFound, "session of a deleted user")
}

func putCode(t *testing.T, s storage.Storage, key storage.OneTimeCodeKey, hash string, tries int, expires time.Time) {
	t.Helper()
	must(t, s.PutOneTimeCode(t.Context(), storage.OneTimeCode{
		OneTimeCodeKey: key, CodeHash: []byte(hash), ExpiresAt: expires, TriesLeft: tries, CreatedAt: at(0),
	}))
}

func testOneTimeCodes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createAdminUser(t, s, "au1", "alice")
	key := storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "acme", ClientID: "c1"}
	putCode(t, s, key, "right", 3, at(10*time.Minute))

	left, err := s.ConsumeOneTimeCode(ctx, key, []byte("wrong"), at(time.Minute))
	wantErr(t, err, storage.ErrWrongCode, "wrong code")
	if left != 2 {
		t.Fatalf("tries left after one wrong guess = %d, want 2", left)
	}
	other := key
	other.ClientID = "c2"
	_, err = s.ConsumeOneTimeCode(ctx, other, []byte("right"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "code of another client")
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("right"), at(11*time.Minute))
	wantErr(t, err, storage.ErrNotFound, "expired code")
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("right"), at(time.Minute))
	must(t, err)
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("right"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "code used twice")

	// Tries run out: even the right code then fails.
	putCode(t, s, key, "right", 2, at(10*time.Minute))
	for range 2 {
		_, err = s.ConsumeOneTimeCode(ctx, key, []byte("wrong"), at(time.Minute))
		wantErr(t, err, storage.ErrWrongCode, "wrong code")
	}
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("right"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "code without tries left")

	// A new code replaces the old one and resets the tries.
	putCode(t, s, key, "old", 5, at(10*time.Minute))
	putCode(t, s, key, "new", 5, at(10*time.Minute))
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("old"), at(time.Minute))
	wantErr(t, err, storage.ErrWrongCode, "replaced code")
	_, err = s.ConsumeOneTimeCode(ctx, key, []byte("new"), at(time.Minute))
	must(t, err)
}

// Parallel wrong guesses spend exactly one try each: never more guesses
// than tries (SECURITY.md K7: counters increment atomically).
func testOneTimeCodesConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createAdminUser(t, s, "au1", "alice")
	key := storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "acme", ClientID: "c1"}
	putCode(t, s, key, "right", 5, at(10*time.Minute))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for range 20 {
		wg.Go(func() {
			_, err := s.ConsumeOneTimeCode(ctx, key, []byte("wrong"), at(time.Minute))
			if errors.Is(err, storage.ErrWrongCode) {
				mu.Lock()
				wrong++
				mu.Unlock()
			} else if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	if wrong != 5 {
		t.Fatalf("%d guesses were compared, want exactly 5", wrong)
	}
}

func audit(ws, actor, action, targetType, targetID string) storage.AuditEvent {
	return storage.AuditEvent{
		Time: at(0), ActorKind: storage.ActorConsole, ActorID: "id-" + actor, ActorName: actor, IP: "192.0.2.1",
		WorkspaceID: ws, Action: action, TargetType: targetType, TargetID: targetID,
		Details: json.RawMessage(`{"fields":["name"]}`),
	}
}

func testAuditEvents(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.AppendAuditEvent(ctx, audit("acme", "alice", "client.create", "client", "c1")))
	must(t, s.AppendAuditEvent(ctx, audit("acme", "bob", "client.update", "client", "c1")))
	must(t, s.AppendAuditEvent(ctx, audit("acme", "alice", "client.create", "client", "c2")))
	must(t, s.AppendAuditEvent(ctx, audit("acme", "alice", "service.create", "service", "c1")))
	if err := s.AppendAuditEvent(ctx, storage.AuditEvent{Action: "x", Details: json.RawMessage(`{`)}); err == nil {
		t.Fatal("invalid details JSON accepted")
	}

	all, err := s.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: "acme"})
	must(t, err)
	if len(all.Items) != 4 || all.Items[0].Action != "service.create" || all.Items[3].Action != "client.create" {
		t.Fatalf("events not newest first: %+v", all.Items)
	}
	e := all.Items[3]
	sameTime(t, "audit time", e.Time, at(0))
	if e.ActorName != "alice" || e.IP != "192.0.2.1" || string(e.Details) != `{"fields":["name"]}` || e.ID == 0 {
		t.Fatalf("event round trip: %+v", e)
	}
	cases := []struct {
		f    storage.AuditFilter
		want int
	}{
		{storage.AuditFilter{WorkspaceID: "acme", Actor: "alice"}, 3},
		{storage.AuditFilter{WorkspaceID: "acme", Actor: "id-bob"}, 1},
		{storage.AuditFilter{WorkspaceID: "acme", TargetType: "client", TargetID: "c1"}, 2},
		{storage.AuditFilter{WorkspaceID: "acme", Action: "client.create"}, 2},
		{storage.AuditFilter{WorkspaceID: "acme", Before: all.Items[1].ID}, 2},
	}
	for i, c := range cases {
		p, err := s.ListAuditEvents(ctx, c.f)
		must(t, err)
		if len(p.Items) != c.want {
			t.Errorf("case %d: %d events, want %d", i, len(p.Items), c.want)
		}
	}
	var seen []int64
	before := int64(0)
	for {
		p, err := s.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: "acme", Limit: 3, Before: before})
		must(t, err)
		for _, e := range p.Items {
			seen = append(seen, e.ID)
		}
		if p.Next == 0 {
			break
		}
		before = p.Next
	}
	if len(seen) != 4 {
		t.Fatalf("paging saw %d events, want 4", len(seen))
	}
}

// An audit listing of one workspace never shows another's events
// (SECURITY.md J3, O1).
func testAuditWorkspaceIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.AppendAuditEvent(ctx, audit("acme", "alice", "client.create", "client", "c1")))
	must(t, s.AppendAuditEvent(ctx, audit("beta", "alice", "client.create", "client", "c1")))
	must(t, s.AppendAuditEvent(ctx, audit("", "root", "console_user.create", "console_user", "u1")))
	for _, ws := range []string{"acme", "beta", ""} {
		p, err := s.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: ws, TargetID: "c1"})
		must(t, err)
		for _, e := range p.Items {
			if e.WorkspaceID != ws {
				t.Fatalf("listing of %q returned an event of %q", ws, e.WorkspaceID)
			}
		}
	}
	p, err := s.ListAuditEvents(ctx, storage.AuditFilter{AllWorkspaces: true})
	must(t, err)
	if len(p.Items) != 3 {
		t.Fatalf("all workspaces: %d events, want 3", len(p.Items))
	}
}

func testMailOutbox(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	m := storage.Mail{ID: "m1", To: "a@example.com", Subject: "Code", Body: "123456", CreatedAt: at(0)}
	must(t, s.EnqueueMail(ctx, m))
	wantErr(t, s.EnqueueMail(ctx, m), storage.ErrAlreadyExists, "duplicate mail")
	m2 := m
	m2.ID, m2.CreatedAt = "m2", at(time.Second)
	must(t, s.EnqueueMail(ctx, m2))
	must(t, s.MarkMail(ctx, "m1", at(time.Minute), ""))
	must(t, s.MarkMail(ctx, "m2", time.Time{}, "connection refused"))
	wantErr(t, s.MarkMail(ctx, "nope", at(0), ""), storage.ErrNotFound, "mark missing mail")
	list, err := s.ListMail(ctx, 10)
	must(t, err)
	if len(list) != 2 || list[0].ID != "m2" || list[0].Error != "connection refused" || !list[0].SentAt.IsZero() {
		t.Fatalf("ListMail = %+v", list)
	}
	sameTime(t, "sent", list[1].SentAt, at(time.Minute))
	if list[1].Body != "123456" || list[1].To != "a@example.com" {
		t.Fatalf("mail round trip: %+v", list[1])
	}
}

func testDeleteExpiredConsole(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createAdminUser(t, s, "au1", "alice")
	sessions := []storage.ConsoleSession{
		{IDHash: []byte("fresh"), CreatedAt: at(0), LastSeenAt: at(time.Hour)},
		{IDHash: []byte("idle"), CreatedAt: at(0), LastSeenAt: at(0)},
		{IDHash: []byte("old"), CreatedAt: at(-24 * time.Hour), LastSeenAt: at(time.Hour)},
	}
	for _, cs := range sessions {
		cs.AdminUserID, cs.CSRFSecret = "au1", []byte("x")
		must(t, s.CreateConsoleSession(ctx, cs))
	}
	putCode(t, s, storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "w", ClientID: "expired"}, "h", 5, at(time.Minute))
	putCode(t, s, storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "w", ClientID: "live"}, "h", 5, at(time.Hour))
	n, err := s.DeleteExpiredConsoleData(ctx, at(30*time.Minute), at(-12*time.Hour), at(30*time.Minute))
	must(t, err)
	if n != 3 {
		t.Fatalf("deleted %d rows, want 3", n)
	}
	if _, err := s.GetConsoleSession(ctx, []byte("fresh")); err != nil {
		t.Fatalf("fresh session deleted: %v", err)
	}
	_, err = s.ConsumeOneTimeCode(ctx, storage.OneTimeCodeKey{AdminUserID: "au1", WorkspaceID: "w", ClientID: "live"}, []byte("h"), at(31*time.Minute))
	must(t, err)
}
