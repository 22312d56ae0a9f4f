package conformance

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunLogoutQueueTests runs the suite of the back-channel logout queue
// (storage.LogoutQueue; OpenID Connect Back-Channel Logout 1.0 §2.5).
func RunLogoutQueueTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"LogoutQueuedWithSessionEnd", testLogoutQueuedWithSessionEnd},
		{"LogoutQueuedForUserSessions", testLogoutQueuedForUserSessions},
		{"LogoutClaimLeaseRetry", testLogoutClaimLeaseRetry},
		{"LogoutQueueIsolation", testLogoutQueueIsolation},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
	subtest(t, "ConcurrentLogoutClaims", newStorage, concurrentLogoutClaims)
}

// logoutFixture creates, in ws, user u1 with sessions s1 and s2, client
// c1 with a back-channel URI and c2 without one, and families of both
// clients in s1 and of c1 in s2 and without a session.
func logoutFixture(t *testing.T, s storage.Storage, ws string) {
	t.Helper()
	ctx := t.Context()
	createWorkspace(t, s, ws)
	must(t, s.CreateUser(ctx, newUser(ws, "u1", "alice", "alice@example.com")))
	c1 := newClient(ws, "c1")
	c1.BackchannelLogoutURI = "https://rp.example.com/logout"
	must(t, s.CreateClient(ctx, c1))
	must(t, s.CreateClient(ctx, newClient(ws, "c2")))
	for i, sid := range []string{"s1", "s2"} {
		must(t, s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: ws, ID: sid, IDHash: hashOf(ws + sid),
			UserID: "u1", AuthTime: at(0), CreatedAt: at(time.Duration(i) * time.Second), ExpiresAt: at(time.Hour)}))
	}
	for _, f := range []struct{ id, client, sid string }{
		{"f1", "c1", "s1"}, {"f1b", "c1", "s1"}, {"f2", "c2", "s1"}, {"f3", "c1", "s2"}, {"f4", "c1", ""},
	} {
		fam := newFamily(ws, f.id)
		fam.ClientID, fam.SessionID = f.client, f.sid
		must(t, s.CreateTokenFamily(ctx, fam, nil))
	}
}

func testLogoutQueuedWithSessionEnd(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	logoutFixture(t, s, "ws")
	clients, err := s.SessionClients(ctx, "ws", "u1", "s1")
	must(t, err)
	if !reflect.DeepEqual(clients, []string{"c1", "c2"}) {
		t.Fatalf("SessionClients(s1) = %v", clients)
	}
	clients, err = s.SessionClients(ctx, "ws", "u1", "nope")
	must(t, err)
	if len(clients) != 0 {
		t.Fatalf("SessionClients(unknown) = %v", clients)
	}
	must(t, s.DeleteBrowserSession(ctx, "ws", "s1"))
	wantErr(t, s.DeleteBrowserSession(ctx, "ws", "s1"), storage.ErrNotFound, "second delete")
	msgs, err := s.ListLogoutMessages(ctx, "ws")
	must(t, err)
	// One message for c1 (two families, one session), none for c2 (no
	// back-channel URI), none for s2.
	if len(msgs) != 1 || msgs[0].ClientID != "c1" || msgs[0].SessionID != "s1" || msgs[0].UserID != "u1" ||
		msgs[0].ID == "" || msgs[0].Attempts != 0 || msgs[0].Claim != "" {
		t.Fatalf("queued %+v", msgs)
	}
}

func testLogoutQueuedForUserSessions(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	logoutFixture(t, s, "ws")
	n, err := s.DeleteUserBrowserSessions(ctx, "ws", "u1")
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d sessions, want 2", n)
	}
	msgs, err := s.ListLogoutMessages(ctx, "ws")
	must(t, err)
	var sids []string
	for _, m := range msgs {
		if m.ClientID != "c1" {
			t.Fatalf("message for %s", m.ClientID)
		}
		sids = append(sids, m.SessionID)
	}
	if len(sids) != 2 || sids[0] == sids[1] {
		t.Fatalf("queued sessions %v", sids)
	}
	// Deleting the client drops its messages.
	must(t, s.DeleteClient(ctx, "ws", "c1"))
	msgs, err = s.ListLogoutMessages(ctx, "ws")
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("messages of a deleted client: %+v", msgs)
	}
}

func testLogoutClaimLeaseRetry(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	logoutFixture(t, s, "ws")
	must(t, s.DeleteBrowserSession(ctx, "ws", "s1"))
	now := time.Now().Add(time.Minute)
	got, err := s.ClaimLogoutMessages(ctx, now, 30*time.Second, 10)
	must(t, err)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].Claim == "" {
		t.Fatalf("claimed %+v", got)
	}
	m := got[0]
	// Leased: nobody else gets it until the lease ends.
	again, err := s.ClaimLogoutMessages(ctx, now.Add(29*time.Second), 30*time.Second, 10)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed a leased message: %+v", again)
	}
	must(t, s.RetryLogoutMessage(ctx, m, now.Add(10*time.Second), "status 500"))
	wantErr(t, s.RetryLogoutMessage(ctx, m, now, "x"), storage.ErrNotFound, "retry with a spent claim")
	wantErr(t, s.DeleteLogoutMessage(ctx, m), storage.ErrNotFound, "delete with a spent claim")
	none, err := s.ClaimLogoutMessages(ctx, now.Add(9*time.Second), 30*time.Second, 10)
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("claimed before next attempt: %+v", none)
	}
	got, err = s.ClaimLogoutMessages(ctx, now.Add(10*time.Second), 30*time.Second, 10)
	must(t, err)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "status 500" || got[0].ID != m.ID {
		t.Fatalf("second claim %+v", got)
	}
	// A lease that ran out (the process died) is claimed again.
	lost := got[0]
	got, err = s.ClaimLogoutMessages(ctx, now.Add(41*time.Second), 30*time.Second, 10)
	must(t, err)
	if len(got) != 1 || got[0].Attempts != 3 {
		t.Fatalf("claim after a lost lease %+v", got)
	}
	wantErr(t, s.DeleteLogoutMessage(ctx, lost), storage.ErrNotFound, "delete with a lost lease")
	must(t, s.DeleteLogoutMessage(ctx, got[0]))
	msgs, err := s.ListLogoutMessages(ctx, "ws")
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("left %+v", msgs)
	}
}

func testLogoutQueueIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	logoutFixture(t, s, "ws")
	logoutFixture(t, s, "other")
	must(t, s.DeleteBrowserSession(ctx, "other", "s1"))
	msgs, err := s.ListLogoutMessages(ctx, "ws")
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("another workspace's messages: %+v", msgs)
	}
	clients, err := s.SessionClients(ctx, "other", "u1", "s2")
	must(t, err)
	if !reflect.DeepEqual(clients, []string{"c1"}) {
		t.Fatalf("SessionClients = %v", clients)
	}
	msgs, err = s.ListLogoutMessages(ctx, "bad\x00id")
	must(t, err)
	if len(msgs) != 0 {
		t.Fatalf("listed %+v", msgs)
	}
}

// concurrentLogoutClaims: claimers racing over many messages each get
// distinct messages, and every message is claimed exactly once.
func concurrentLogoutClaims(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateUser(ctx, newUser("ws", "u1", "alice", "alice@example.com")))
	c1 := newClient("ws", "c1")
	c1.BackchannelLogoutURI = "https://rp.example.com/logout"
	must(t, s.CreateClient(ctx, c1))
	const sessions = 12
	for i := range sessions {
		sid := "s" + string(rune('a'+i))
		must(t, s.CreateBrowserSession(ctx, storage.BrowserSession{WorkspaceID: "ws", ID: sid, IDHash: hashOf(sid),
			UserID: "u1", AuthTime: at(0), CreatedAt: at(0), ExpiresAt: at(time.Hour)}))
		fam := newFamily("ws", "f"+sid)
		fam.SessionID = sid
		must(t, s.CreateTokenFamily(ctx, fam, nil))
	}
	_, err := s.DeleteUserBrowserSessions(ctx, "ws", "u1")
	must(t, err)
	now := time.Now().Add(time.Minute)
	var mu sync.Mutex
	seen := map[string]int{}
	parallel(6, func(int) {
		got, err := s.ClaimLogoutMessages(ctx, now, time.Minute, sessions)
		if err != nil {
			t.Errorf("claim: %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, m := range got {
			seen[m.ID]++
		}
	})
	if len(seen) != sessions {
		t.Fatalf("claimed %d distinct messages, want %d", len(seen), sessions)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %s claimed %d times", id, n)
		}
	}
}
