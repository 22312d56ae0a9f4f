package ratelimit

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time                { return c.t }
func (c *clock) add(d time.Duration)           { c.t = c.t.Add(d) }
func newClock() *clock                         { return &clock{t: time.Unix(1_800_000_000, 0)} }
func allow(l *Limiter, k string) bool          { ok, _ := l.Allow(k); return ok }
func retry(l *Limiter, k string) time.Duration { _, d := l.Allow(k); return d }

func TestBurstThenRefill(t *testing.T) {
	c := newClock()
	l := New(1, 3, c.now) // 1 token/s, burst 3
	for i := range 3 {
		if !allow(l, "a") {
			t.Fatalf("request %d denied within burst", i)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != time.Second {
		t.Fatalf("over burst: ok=%v wait=%v, want false 1s", ok, wait)
	}
	c.add(500 * time.Millisecond)
	if d := retry(l, "a"); d != 500*time.Millisecond {
		t.Fatalf("retryAfter = %v, want 500ms", d)
	}
	c.add(500 * time.Millisecond)
	if !allow(l, "a") {
		t.Fatal("token not refilled after 1s")
	}
	c.add(time.Hour)
	for range 3 {
		if !allow(l, "a") {
			t.Fatal("refill must reach the burst")
		}
	}
	if allow(l, "a") {
		t.Fatal("refill must not exceed the burst")
	}
}

func TestKeysAreIndependent(t *testing.T) {
	c := newClock()
	l := New(0.1, 1, c.now)
	if !allow(l, "client-a") || allow(l, "client-a") {
		t.Fatal("client-a budget wrong")
	}
	if !allow(l, "client-b") {
		t.Fatal("client-b limited by client-a's failures (N1)")
	}
}

func TestZeroRateNeverRefills(t *testing.T) {
	c := newClock()
	l := New(0, 1, c.now)
	allow(l, "k")
	c.add(24 * time.Hour)
	if ok, d := l.Allow("k"); ok || d != noRefillWait {
		t.Fatalf("ok=%v d=%v", ok, d)
	}
}

// TestBoundedUnderRandomKeys: random keys never grow the map beyond the
// bound, and a key under steady use keeps its (empty) bucket, so an attacker
// cannot reset a victim's budget by flooding other keys.
func TestBoundedUnderRandomKeys(t *testing.T) {
	c := newClock()
	l := NewWithMaxKeys(1, 2, 100, c.now)
	allow(l, "victim")
	allow(l, "victim")
	for i := range 10000 {
		allow(l, "random-"+strconv.Itoa(i))
		if i%50 == 0 && allow(l, "victim") {
			t.Fatal("victim bucket was reset by eviction")
		}
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("buckets = %d, want 100", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	l := New(0, 100, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if allow(l, "shared") {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if granted != 100 {
		t.Fatalf("granted %d, want exactly the burst of 100", granted)
	}
}

// TestWaitSpendsNothing (docs/security.md R8): Wait reports a spent budget
// without spending, so requests that succeed never use the budget up.
func TestWaitSpendsNothing(t *testing.T) {
	c := newClock()
	l := New(1, 2, c.now)
	for range 10 {
		if d := l.Wait("k"); d != 0 {
			t.Fatalf("Wait on an unused key = %v, want 0", d)
		}
	}
	if l.Len() != 0 {
		t.Fatalf("Wait created %d buckets", l.Len())
	}
	allow(l, "k")
	allow(l, "k")
	if d := l.Wait("k"); d != time.Second {
		t.Fatalf("Wait on a spent budget = %v, want 1s", d)
	}
	c.add(time.Second)
	if d := l.Wait("k"); d != 0 {
		t.Fatalf("Wait after refill = %v, want 0", d)
	}
	if !allow(l, "k") {
		t.Fatal("Wait spent the refilled token")
	}
}

func TestRefundAndReset(t *testing.T) {
	c := newClock()
	l := New(0, 2, c.now)
	granted := func() int {
		n := 0
		for range 5 {
			if allow(l, "k") {
				n++
			}
		}
		return n
	}
	if n := granted(); n != 2 {
		t.Fatalf("granted %d, want the burst of 2", n)
	}
	l.Refund("k")
	if n := granted(); n != 1 {
		t.Fatalf("after one Refund: granted %d, want 1", n)
	}
	l.Refund("k")
	l.Refund("k")
	l.Refund("k")
	if n := granted(); n != 2 {
		t.Fatalf("after three Refunds: granted %d, want the burst of 2", n)
	}
	l.Reset("k")
	if n := granted(); n != 2 {
		t.Fatalf("after Reset: granted %d, want the burst of 2", n)
	}
	if AdminTokenKey("192.0.2.1") == AdminTokenKey("192.0.2.2") {
		t.Fatal("AdminTokenKey must differ per address")
	}
}
