package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunCIBATests runs the suite of the backchannel authentication part of
// the contract (storage.CIBARequests, CIBA Core 1.0).
func RunCIBATests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"CIBALifecycle", testCIBALifecycle},
		{"CIBAPolling", testCIBAPolling},
		{"CIBALink", testCIBALink},
		{"CIBADeniedAndExpired", testCIBADeniedAndExpired},
		{"CIBAIsolation", testCIBAIsolation},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
	subtest(t, "ConcurrentCIBARedemption", newStorage, concurrentCIBARedeem)
	subtest(t, "ConcurrentCIBALink", newStorage, concurrentCIBALink)
}

func newCIBA(ws, id, link string, expires time.Duration) storage.CIBARequest {
	return storage.CIBARequest{
		WorkspaceID: ws, Hash: hashOf(id), LinkHash: hashOf(link), ClientID: "c1", UserID: "u1",
		Scopes: []string{"openid", "offline_access"}, BindingMessage: "W4SCT", DeliveryMode: "ping",
		PingSecret: "nt", NotificationEndpoint: "https://rp.example.com/cb", Interval: 5 * time.Second,
		CreatedAt: at(0), ExpiresAt: at(expires),
	}
}

func testCIBALifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l1", 10*time.Minute)))
	wantErr(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l2", time.Minute)), storage.ErrAlreadyExists, "duplicate id")
	wantErr(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r2", "l1", time.Minute)), storage.ErrAlreadyExists, "duplicate link")
	bad := newCIBA("ws", "r3", "l3", time.Minute)
	bad.UserID = "nobody"
	wantErr(t, s.CreateCIBARequest(ctx, bad), storage.ErrNotFound, "unknown user")
	got, err := s.GetCIBARequest(ctx, "ws", hashOf("r1"))
	must(t, err)
	if got.Status != storage.DevicePending || got.UserID != "u1" || got.BindingMessage != "W4SCT" || got.DeliveryMode != "ping" ||
		got.PingSecret != "nt" || got.NotificationEndpoint != "https://rp.example.com/cb" ||
		!reflect.DeepEqual(got.Scopes, []string{"openid", "offline_access"}) || got.Interval != 5*time.Second {
		t.Fatalf("pending request %+v", got)
	}
	list, err := s.ListPendingCIBARequests(ctx, "ws", "u1", at(time.Second))
	must(t, err)
	if len(list) != 1 || string(list[0].Hash) != string(hashOf("r1")) {
		t.Fatalf("pending list %+v", list)
	}
	wantErr(t, s.RedeemCIBARequest(ctx, "ws", hashOf("r1"), "c1", at(time.Second), newFamily("ws", "f1"), nil), storage.ErrNotFound, "redeem pending")
	other := approval()
	other.UserID = "u2"
	wantErr(t, s.DecideCIBARequest(ctx, "ws", hashOf("r1"), at(time.Second), other), storage.ErrNotFound, "decision by another user")
	must(t, s.DecideCIBARequest(ctx, "ws", hashOf("r1"), at(2*time.Second), approval()))
	wantErr(t, s.DecideCIBARequest(ctx, "ws", hashOf("r1"), at(3*time.Second), approval()), storage.ErrNotFound, "second decision")
	list, err = s.ListPendingCIBARequests(ctx, "ws", "u1", at(3*time.Second))
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("decided request still listed: %+v", list)
	}
	got, err = s.GetCIBARequest(ctx, "ws", hashOf("r1"))
	must(t, err)
	if got.Status != storage.DeviceApproved || got.SessionID != "s1" || !reflect.DeepEqual(got.AMR, []string{"pwd"}) {
		t.Fatalf("approved request %+v", got)
	}
	sameTime(t, "decided", got.DecidedAt, at(2*time.Second))
	wantErr(t, s.RedeemCIBARequest(ctx, "ws", hashOf("r1"), "c2", at(4*time.Second), newFamily("ws", "f1"), nil), storage.ErrNotFound, "redeem by another client")
	must(t, s.RedeemCIBARequest(ctx, "ws", hashOf("r1"), "c1", at(4*time.Second), newFamily("ws", "f1"), hashOf("rt1")))
	wantErr(t, s.RedeemCIBARequest(ctx, "ws", hashOf("r1"), "c1", at(5*time.Second), newFamily("ws", "f2"), nil), storage.ErrNotFound, "second redemption")
	got, _ = s.GetCIBARequest(ctx, "ws", hashOf("r1"))
	if got.Status != storage.DeviceUsed {
		t.Fatalf("status after redemption %q", got.Status)
	}
	if _, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt1")); err != nil {
		t.Fatalf("refresh token recorded with the redemption: %v", err)
	}
}

func testCIBAPolling(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l1", 10*time.Minute)))
	poll := func(d time.Duration) bool {
		t.Helper()
		tooFast, err := s.PollCIBARequest(ctx, "ws", hashOf("r1"), storage.DevicePoll{Now: at(d), Slack: 500 * time.Millisecond, SlowDown: 5 * time.Second})
		must(t, err)
		return tooFast
	}
	if poll(time.Second) || poll(6*time.Second) {
		t.Fatal("polls one interval apart too fast")
	}
	if !poll(7 * time.Second) {
		t.Fatal("poll 1 s later not too fast")
	}
	got, _ := s.GetCIBARequest(ctx, "ws", hashOf("r1"))
	if got.Interval != 10*time.Second {
		t.Fatalf("interval after slow_down %v", got.Interval)
	}
	must(t, s.DecideCIBARequest(ctx, "ws", hashOf("r1"), at(8*time.Second), approval()))
	_, err := s.PollCIBARequest(ctx, "ws", hashOf("r1"), storage.DevicePoll{Now: at(time.Minute)})
	wantErr(t, err, storage.ErrNotFound, "poll of a decided request")
}

func testCIBALink(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l1", 10*time.Minute)))
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r2", "l2", 10*time.Minute)))
	got, err := s.UseCIBALink(ctx, "ws", hashOf("l1"), at(time.Second))
	must(t, err)
	if string(got.Hash) != string(hashOf("r1")) {
		t.Fatal("link led to another request")
	}
	sameTime(t, "link used", got.LinkUsedAt, at(time.Second))
	_, err = s.UseCIBALink(ctx, "ws", hashOf("l1"), at(2*time.Second))
	wantErr(t, err, storage.ErrNotFound, "second use of a link")
	must(t, s.DecideCIBARequest(ctx, "ws", hashOf("r2"), at(time.Second), storage.DeviceDecision{UserID: "u1"}))
	_, err = s.UseCIBALink(ctx, "ws", hashOf("l2"), at(2*time.Second))
	wantErr(t, err, storage.ErrNotFound, "link of a decided request")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r3", "l3", time.Minute)))
	_, err = s.UseCIBALink(ctx, "ws", hashOf("l3"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "link of an expired request")
}

func testCIBADeniedAndExpired(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l1", time.Minute)))
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r2", "l2", time.Minute)))
	must(t, s.DecideCIBARequest(ctx, "ws", hashOf("r1"), at(time.Second), storage.DeviceDecision{UserID: "u1"}))
	got, _ := s.GetCIBARequest(ctx, "ws", hashOf("r1"))
	if got.Status != storage.DeviceDenied {
		t.Fatalf("denied status %q", got.Status)
	}
	wantErr(t, s.RedeemCIBARequest(ctx, "ws", hashOf("r1"), "c1", at(2*time.Second), newFamily("ws", "f1"), nil), storage.ErrNotFound, "redeem denied")
	wantErr(t, s.DecideCIBARequest(ctx, "ws", hashOf("r2"), at(time.Minute), approval()), storage.ErrNotFound, "approve expired")
	list, err := s.ListPendingCIBARequests(ctx, "ws", "u1", at(time.Minute))
	must(t, err)
	if len(list) != 0 {
		t.Fatal("expired request listed")
	}
	_, err = s.DeleteExpiredAuthFlow(ctx, at(2*time.Hour))
	must(t, err)
	_, err = s.GetCIBARequest(ctx, "ws", hashOf("r2"))
	wantErr(t, err, storage.ErrNotFound, "expired request cleaned up")
}

func testCIBAIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	flowFixture(t, s, "other")
	must(t, s.CreateCIBARequest(ctx, newCIBA("ws", "r1", "l1", time.Minute)))
	_, err := s.GetCIBARequest(ctx, "other", hashOf("r1"))
	wantErr(t, err, storage.ErrNotFound, "get from another workspace")
	_, err = s.UseCIBALink(ctx, "other", hashOf("l1"), at(0))
	wantErr(t, err, storage.ErrNotFound, "link from another workspace")
	wantErr(t, s.DecideCIBARequest(ctx, "other", hashOf("r1"), at(0), approval()), storage.ErrNotFound, "decide from another workspace")
	list, err := s.ListPendingCIBARequests(ctx, "other", "u1", at(0))
	must(t, err)
	if len(list) != 0 {
		t.Fatal("request listed in another workspace")
	}
}

// Reliability invariant 1: of 20 concurrent redemptions of one approved
// request exactly one wins.
func concurrentCIBARedeem(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(t.Context(), newCIBA("ws", "r", "l", time.Hour)))
	must(t, s.DecideCIBARequest(t.Context(), "ws", hashOf("r"), at(time.Second), approval()))
	race(t, 20, 1, storage.ErrNotFound, func(i int) error {
		return s.RedeemCIBARequest(t.Context(), "ws", hashOf("r"), "c1", at(2*time.Second),
			newFamily("ws", "f"+string(rune('a'+i))), hashOf("rt"+string(rune('a'+i))))
	})
}

// Of concurrent uses of one emailed link exactly one succeeds.
func concurrentCIBALink(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	must(t, s.CreateCIBARequest(t.Context(), newCIBA("ws", "r", "l", time.Hour)))
	race(t, 10, 1, storage.ErrNotFound, func(int) error {
		_, err := s.UseCIBALink(t.Context(), "ws", hashOf("l"), at(time.Second))
		return err
	})
}
