package login

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestPolicy is K7 with R9: free failures, then doubling pauses up to the
// cap, and a fresh window once the last pause is over. Only recorded
// failures change the counter.
func TestPolicy(t *testing.T) {
	p := Policy{Free: 3, Window: 10 * time.Minute, MaxDelay: 4 * time.Second}
	now := time.Unix(1_800_000_000, 0)
	var c storage.LoginCounter
	fail := func(at time.Time) {
		n, err := p.record(at)(c)
		if err != nil {
			t.Fatal(err)
		}
		c = n
	}
	for i := range 3 {
		if d := p.pause(c, now); d != 0 {
			t.Fatalf("before failure %d: pause %v", i+1, d)
		}
		if n := p.inFlight(c, now); n != 3-i {
			t.Fatalf("before failure %d: %d in flight allowed, want %d", i+1, n, 3-i)
		}
		fail(now)
	}
	if d := p.pause(c, now); d != time.Second {
		t.Fatalf("after the free failures: pause %v, want 1s", d)
	}
	if n := p.inFlight(c, now.Add(time.Second)); n != 1 {
		t.Fatalf("past the free failures: %d in flight allowed, want 1", n)
	}
	fail(now.Add(time.Second))
	if d := p.pause(c, now.Add(time.Second)); d != 2*time.Second {
		t.Fatalf("pause should have doubled to 2s: %v", d)
	}
	if d := p.delay(40); d != 4*time.Second {
		t.Fatalf("delay not capped: %v", d)
	}
	if p.failures(c, now.Add(11*time.Minute)) != 0 || p.pause(c, now.Add(11*time.Minute)) != 0 {
		t.Fatal("the window is over: the counter must be fresh")
	}
	fail(now.Add(11 * time.Minute))
	if c.Attempts != 1 {
		t.Fatalf("new window: attempts %d, want 1", c.Attempts)
	}
}

// TestGatesBoundInFlight: no more attempts than the limit are in flight at
// once for one key; a leaving attempt wakes the waiters.
func TestGatesBoundInFlight(t *testing.T) {
	var g gates
	leave1, _ := g.enter("k", 2)
	leave2, _ := g.enter("k", 2)
	if leave1 == nil || leave2 == nil {
		t.Fatal("two attempts must enter a gate of two")
	}
	leave3, wake := g.enter("k", 2)
	if leave3 != nil || wake == nil {
		t.Fatal("a third attempt entered a gate of two")
	}
	if other, _ := g.enter("other", 2); other == nil {
		t.Fatal("keys must be independent")
	}
	leave1()
	leave1() // leaving twice counts once
	select {
	case <-wake:
	default:
		t.Fatal("leaving did not wake the waiter")
	}
	leave3, _ = g.enter("k", 2)
	if leave3 == nil {
		t.Fatal("an attempt must enter once one left")
	}
	if again, _ := g.enter("k", 2); again != nil {
		t.Fatal("leaving twice freed two places")
	}
}
