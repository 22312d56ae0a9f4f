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
