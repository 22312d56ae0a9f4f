package conformance

import (
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunDeviceCodeTests runs the suite of the device authorization part of
// the contract (storage.DeviceCodes, RFC 8628).
func RunDeviceCodeTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Storage)
	}{
		{"DeviceCodeLifecycle", testDeviceCodeLifecycle},
		{"DeviceCodeUserCodeUnique", testDeviceCodeUserCodeUnique},
		{"DeviceCodePolling", testDeviceCodePolling},
		{"DeviceCodeDenied", testDeviceCodeDenied},
		{"DeviceCodeExpired", testDeviceCodeExpired},
		{"DeviceCodeIsolation", testDeviceCodeIsolation},
	}
	for _, tc := range tests {
		subtest(t, tc.name, newStorage, tc.fn)
	}
	subtest(t, "ConcurrentDeviceCodeRedemption", newStorage, concurrentDeviceRedeem)
	subtest(t, "ConcurrentDeviceCodeDecision", newStorage, concurrentDeviceDecide)
}

func newDeviceCode(ws, code, userCode string, expires time.Duration) storage.DeviceCode {
	return storage.DeviceCode{
		WorkspaceID: ws, Hash: hashOf(code), UserCodeHash: hashOf(userCode), ClientID: "c1",
		Scopes: []string{"openid", "offline_access"}, Interval: 5 * time.Second,
		CreatedAt: at(0), ExpiresAt: at(expires),
	}
}

func approval() storage.DeviceDecision {
	return storage.DeviceDecision{Approved: true, UserID: "u1", SessionID: "s1", AuthTime: at(0), AMR: []string{"pwd"}, ACR: "0"}
}

func testDeviceCodeLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", 10*time.Minute)))
	got, err := s.GetDeviceCodeByUserCode(ctx, "ws", hashOf("BCDFGHJK"), at(time.Second))
	must(t, err)
	if got.Status != storage.DevicePending || got.ClientID != "c1" || got.Interval != 5*time.Second ||
		!reflect.DeepEqual(got.Scopes, []string{"openid", "offline_access"}) || got.UserID != "" || !got.LastPolledAt.IsZero() {
		t.Fatalf("pending device code %+v", got)
	}
	sameTime(t, "expires", got.ExpiresAt, at(10*time.Minute))
	// Not approved yet: nothing to redeem.
	err = s.RedeemDeviceCode(ctx, "ws", hashOf("dc1"), "c1", at(time.Second), newFamily("ws", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem a pending code")
	must(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(2*time.Second), approval()))
	wantErr(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(3*time.Second), approval()), storage.ErrNotFound, "second decision")
	_, err = s.GetDeviceCodeByUserCode(ctx, "ws", hashOf("BCDFGHJK"), at(3*time.Second))
	wantErr(t, err, storage.ErrNotFound, "user code of a decided authorization")
	got, err = s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	must(t, err)
	if got.Status != storage.DeviceApproved || got.UserID != "u1" || got.SessionID != "s1" || !reflect.DeepEqual(got.AMR, []string{"pwd"}) {
		t.Fatalf("approved device code %+v", got)
	}
	sameTime(t, "decided", got.DecidedAt, at(2*time.Second))
	sameTime(t, "auth_time", got.AuthTime, at(0))
	_, err = s.PollDeviceCode(ctx, "ws", hashOf("dc1"), storage.DevicePoll{Now: at(4 * time.Second), SlowDown: 5 * time.Second})
	wantErr(t, err, storage.ErrNotFound, "poll of an approved code")
	err = s.RedeemDeviceCode(ctx, "ws", hashOf("dc1"), "c2", at(4*time.Second), newFamily("ws", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem by another client (V5)")
	must(t, s.RedeemDeviceCode(ctx, "ws", hashOf("dc1"), "c1", at(4*time.Second), newFamily("ws", "f1"), hashOf("rt1")))
	err = s.RedeemDeviceCode(ctx, "ws", hashOf("dc1"), "c1", at(5*time.Second), newFamily("ws", "f2"), nil)
	wantErr(t, err, storage.ErrNotFound, "second redemption (V4)")
	got, err = s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	must(t, err)
	if got.Status != storage.DeviceUsed {
		t.Fatalf("status after redemption %q", got.Status)
	}
	sameTime(t, "used", got.UsedAt, at(4*time.Second))
	if _, err := s.GetTokenFamily(ctx, "ws", "f1"); err != nil {
		t.Fatalf("family recorded with the redemption: %v", err)
	}
	if _, _, err := s.GetRefreshToken(ctx, "ws", hashOf("rt1")); err != nil {
		t.Fatalf("first refresh token recorded with the redemption: %v", err)
	}
}

func testDeviceCodeUserCodeUnique(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", time.Minute)))
	wantErr(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc2", "BCDFGHJK", time.Minute)), storage.ErrAlreadyExists, "duplicate user code")
	wantErr(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "XZXZXZXZ", time.Minute)), storage.ErrAlreadyExists, "duplicate device code")
	d := newDeviceCode("ws", "dc3", "QQQQQQQQ", time.Minute)
	d.ClientID = "nope"
	wantErr(t, s.CreateDeviceCode(ctx, d), storage.ErrNotFound, "unknown client")
}

func testDeviceCodePolling(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", 10*time.Minute)))
	poll := func(d time.Duration) bool {
		t.Helper()
		tooFast, err := s.PollDeviceCode(ctx, "ws", hashOf("dc1"), storage.DevicePoll{Now: at(d), Slack: 500 * time.Millisecond, SlowDown: 5 * time.Second})
		must(t, err)
		return tooFast
	}
	if poll(time.Second) {
		t.Fatal("first poll too fast")
	}
	if poll(6*time.Second - 500*time.Millisecond) {
		t.Fatal("poll one interval (less the slack) later too fast")
	}
	if !poll(7 * time.Second) {
		t.Fatal("poll 1.5 s later not too fast (V3)")
	}
	got, err := s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	must(t, err)
	if got.Interval != 10*time.Second {
		t.Fatalf("interval after slow_down %v, want 10s", got.Interval)
	}
	// The old interval is now too fast as well (RFC 8628 §3.5 "for this
	// and all subsequent requests").
	if !poll(12 * time.Second) {
		t.Fatal("poll at the old interval not too fast")
	}
	if poll(27 * time.Second) {
		t.Fatal("poll at the new interval too fast")
	}
	got, _ = s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	if got.Interval != 15*time.Second {
		t.Fatalf("interval %v, want 15s", got.Interval)
	}
	sameTime(t, "last poll", got.LastPolledAt, at(27*time.Second))
	_, err = s.PollDeviceCode(ctx, "ws", hashOf("nope"), storage.DevicePoll{Now: at(time.Minute)})
	wantErr(t, err, storage.ErrNotFound, "poll of an unknown code")
}

func testDeviceCodeDenied(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", time.Minute)))
	must(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(time.Second), storage.DeviceDecision{UserID: "u1"}))
	got, err := s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	must(t, err)
	if got.Status != storage.DeviceDenied || got.UserID != "u1" {
		t.Fatalf("denied device code %+v", got)
	}
	err = s.RedeemDeviceCode(ctx, "ws", hashOf("dc1"), "c1", at(2*time.Second), newFamily("ws", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem a denied code")
	wantErr(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(2*time.Second), approval()), storage.ErrNotFound, "approve after denial")
}

func testDeviceCodeExpired(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", time.Minute)))
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc2", "CCCCCCCC", time.Minute)))
	_, err := s.GetDeviceCodeByUserCode(ctx, "ws", hashOf("BCDFGHJK"), at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "expired user code")
	wantErr(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(time.Minute), approval()), storage.ErrNotFound, "approve expired")
	must(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc2"), at(time.Second), approval()))
	err = s.RedeemDeviceCode(ctx, "ws", hashOf("dc2"), "c1", at(time.Minute), newFamily("ws", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem expired")
	_, err = s.DeleteExpiredAuthFlow(ctx, at(2*time.Hour))
	must(t, err)
	_, err = s.GetDeviceCode(ctx, "ws", hashOf("dc1"))
	wantErr(t, err, storage.ErrNotFound, "expired device code cleaned up")
}

// SECURITY.md V5, J3: a device code of workspace A is invisible and
// unusable through workspace B.
func testDeviceCodeIsolation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	flowFixture(t, s, "other")
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("ws", "dc1", "BCDFGHJK", time.Minute)))
	_, err := s.GetDeviceCode(ctx, "other", hashOf("dc1"))
	wantErr(t, err, storage.ErrNotFound, "get from another workspace")
	_, err = s.GetDeviceCodeByUserCode(ctx, "other", hashOf("BCDFGHJK"), at(0))
	wantErr(t, err, storage.ErrNotFound, "user code from another workspace")
	wantErr(t, s.DecideDeviceCode(ctx, "other", hashOf("dc1"), at(0), approval()), storage.ErrNotFound, "decide from another workspace")
	must(t, s.DecideDeviceCode(ctx, "ws", hashOf("dc1"), at(0), approval()))
	err = s.RedeemDeviceCode(ctx, "other", hashOf("dc1"), "c1", at(time.Second), newFamily("other", "f1"), nil)
	wantErr(t, err, storage.ErrNotFound, "redeem from another workspace")
	// The same user code may exist in another workspace.
	must(t, s.CreateDeviceCode(ctx, newDeviceCode("other", "dc9", "BCDFGHJK", time.Minute)))
}

// SECURITY.md V4, reliability invariant 1: of 20 concurrent redemptions
// of one approved device code exactly one wins.
func concurrentDeviceRedeem(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(t.Context(), newDeviceCode("ws", "dc", "BCDFGHJK", time.Hour)))
	must(t, s.DecideDeviceCode(t.Context(), "ws", hashOf("dc"), at(time.Second), approval()))
	race(t, 20, 1, storage.ErrNotFound, func(i int) error {
		return s.RedeemDeviceCode(t.Context(), "ws", hashOf("dc"), "c1", at(2*time.Second),
			newFamily("ws", "f"+string(rune('a'+i))), hashOf("rt"+string(rune('a'+i))))
	})
}

// Of concurrent decisions on one device code exactly one is recorded.
func concurrentDeviceDecide(t *testing.T, s storage.Storage) {
	flowFixture(t, s, "ws")
	must(t, s.CreateDeviceCode(t.Context(), newDeviceCode("ws", "dc", "BCDFGHJK", time.Hour)))
	race(t, 10, 1, storage.ErrNotFound, func(i int) error {
		d := approval()
		d.Approved = i%2 == 0
		return s.DecideDeviceCode(t.Context(), "ws", hashOf("dc"), at(time.Second), d)
	})
}
