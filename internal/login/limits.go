package login

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Policy is the failed sign-in budget of one kind of counter.
type Policy struct {
	// Free failures in a Window before pauses are required.
	Free   int
	Window time.Duration
	// MaxDelay caps the pause, which doubles from one second.
	MaxDelay time.Duration
}

// Default budgets (docs/security.md R9, R10). Only failures count.
var (
	// DefaultAccountPolicy budgets an account name typed in browsers
	// without a device cookie for it.
	DefaultAccountPolicy = Policy{Free: 5, Window: 15 * time.Minute, MaxDelay: 5 * time.Minute}
	// DefaultIPPolicy is sized for an office behind one NAT address: 200
	// failures in 15 minutes before pauses, while the account counters
	// still hold any one account to 5.
	DefaultIPPolicy = Policy{Free: 200, Window: 15 * time.Minute, MaxDelay: time.Minute}
	// DefaultDevicePolicy budgets a browser holding a device cookie for
	// the account: 5 failures a day, after which the cookie is ignored
	// and the browser counts as unknown.
	DefaultDevicePolicy = Policy{Free: 5, Window: 24 * time.Hour, MaxDelay: 5 * time.Minute}
)

// maxQueueWait bounds how long an attempt waits for earlier attempts on the
// same counter to finish before it is refused with 429.
const maxQueueWait = 10 * time.Second

// fresh reports whether c has nothing to say at now: never used, or its
// window and last pause are over.
func (p Policy) fresh(c storage.LoginCounter, now time.Time) bool {
	return c.WindowStart.IsZero() || !now.Before(c.WindowStart.Add(p.Window)) && !now.Before(c.NextAllowed)
}

// pause is how long an attempt must wait at now; 0 when it may be made.
func (p Policy) pause(c storage.LoginCounter, now time.Time) time.Duration {
	if p.fresh(c, now) || !now.Before(c.NextAllowed) {
		return 0
	}
	return c.NextAllowed.Sub(now)
}

// failures is the number of failures c holds in its window at now.
func (p Policy) failures(c storage.LoginCounter, now time.Time) int {
	if p.fresh(c, now) {
		return 0
	}
	return c.Attempts
}

// inFlight is how many attempts may be checked at once in this process:
// the free failures left, at least one. Parallel guesses therefore cannot
// pass the budget, while parallel successes only queue.
func (p Policy) inFlight(c storage.LoginCounter, now time.Time) int {
	return max(1, p.Free-p.failures(c, now))
}

// record returns the updater that counts one failure at now and requires a
// pause once the free failures are used up.
func (p Policy) record(now time.Time) func(storage.LoginCounter) (storage.LoginCounter, error) {
	return func(c storage.LoginCounter) (storage.LoginCounter, error) {
		if p.fresh(c, now) {
			c = storage.LoginCounter{WindowStart: now}
		}
		c.Attempts++
		c.LastAt = now
		if c.Attempts >= p.Free {
			c.NextAllowed = now.Add(p.delay(c.Attempts - p.Free))
		}
		c.ExpiresAt = c.WindowStart.Add(p.Window)
		if c.NextAllowed.After(c.ExpiresAt) {
			c.ExpiresAt = c.NextAllowed
		}
		return c, nil
	}
}

// delay is 1 s doubled n times, capped.
func (p Policy) delay(n int) time.Duration {
	d := time.Duration(math.Pow(2, float64(min(n, 30)))) * time.Second
	return min(d, p.MaxDelay)
}

func accountKey(username string) string {
	return "acct:" + strings.ToLower(strings.TrimSpace(username))
}
func ipKey(ip string) string { return "ip:" + ip }
func deviceKey(userID, deviceID string) string {
	return "dev:" + userID + ":" + deviceID
}

// counter is one counter an attempt is checked against.
type counter struct {
	key    string
	policy Policy
	// resetOnSuccess forgets the counter after a successful sign-in (the
	// account's or the device's counter, not the address's).
	resetOnSuccess bool
	read           storage.LoginCounter
}

// CounterStore holds the sign-in attempt counters (SECURITY.md K7).
type CounterStore interface {
	// UpdateLoginCounter runs updater under a row lock and writes the result.
	UpdateLoginCounter(ctx context.Context, workspaceID, key string, updater func(storage.LoginCounter) (storage.LoginCounter, error)) (storage.LoginCounter, error)
	// GetLoginCounter reads a counter without locking or writing it.
	GetLoginCounter(ctx context.Context, workspaceID, key string) (storage.LoginCounter, error)
	DeleteLoginCounter(ctx context.Context, workspaceID, key string) error
}

// counters checks attempts against the stored counters. A check only
// reads; failures write; a success writes only to forget an account or
// device counter that holds failures (docs/security.md R9).
type counters struct {
	store CounterStore
	gates *gates
	now   func() time.Time
}

// attempt is an admitted sign-in attempt; done must be called once.
type attempt struct {
	c       counters
	wsID    string
	checked []counter
	leave   []func()
}

// admit waits until the attempt may be checked against every counter in
// order: no pause due and fewer attempts in flight in this process than
// the counter has free failures left. retry > 0 refuses the attempt.
func (c counters) admit(ctx context.Context, wsID string, list []counter) (*attempt, time.Duration, error) {
	a := &attempt{c: c, wsID: wsID}
	deadline := c.now().Add(maxQueueWait)
	for _, ct := range list {
		retry, err := a.enter(ctx, ct, deadline)
		if retry > 0 || err != nil {
			a.release()
			return nil, retry, err
		}
	}
	return a, 0, nil
}

// enter admits the attempt to one counter, waiting while it is full.
func (a *attempt) enter(ctx context.Context, ct counter, deadline time.Time) (time.Duration, error) {
	for {
		cur, err := a.c.read(ctx, a.wsID, ct.key)
		if err != nil {
			return 0, err
		}
		now := a.c.now()
		if wait := ct.policy.pause(cur, now); wait > 0 {
			return wait, nil
		}
		leave, wake := a.c.gates.enter(a.wsID+"\x00"+ct.key, ct.policy.inFlight(cur, now))
		if leave != nil {
			// A failure recorded between the read and the gate would
			// leave the limit computed from a stale count: read again
			// inside the gate and start over when the count moved, so
			// parallel guesses never pass the budget (SECURITY.md K7).
			again, err := a.c.read(ctx, a.wsID, ct.key)
			if err != nil {
				leave()
				return 0, err
			}
			if ct.policy.failures(again, now) != ct.policy.failures(cur, now) || again.NextAllowed != cur.NextAllowed {
				leave()
				continue
			}
			ct.read = cur
			a.checked = append(a.checked, ct)
			a.leave = append(a.leave, leave)
			return 0, nil
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return time.Second, nil
		}
		timer := time.NewTimer(left)
		select {
		case <-wake:
			timer.Stop()
		case <-timer.C:
			return time.Second, nil
		case <-ctx.Done():
			// The browser gave up waiting: not a storage failure.
			timer.Stop()
			return time.Second, nil
		}
	}
}

func (a *attempt) release() {
	for _, leave := range a.leave {
		leave()
	}
	a.leave = nil
}

// failed counts a failure on every counter and releases the attempt.
func (a *attempt) failed(ctx context.Context) error {
	defer a.release()
	now := a.c.now()
	for _, ct := range a.checked {
		if _, err := a.c.store.UpdateLoginCounter(ctx, a.wsID, ct.key, ct.policy.record(now)); err != nil {
			return err
		}
	}
	return nil
}

// succeeded forgets the account's or device's failures, if it had any,
// and releases the attempt. The address's counter is left alone: a
// success neither costs nor refunds it.
func (a *attempt) succeeded(ctx context.Context) error {
	defer a.release()
	for _, ct := range a.checked {
		if ct.resetOnSuccess && ct.read.Attempts > 0 {
			if err := a.c.store.DeleteLoginCounter(ctx, a.wsID, ct.key); err != nil {
				return err
			}
		}
	}
	return nil
}

// abandon releases an attempt that was neither a success nor a failure
// (a storage error).
func (a *attempt) abandon() { a.release() }

// read returns the stored counter, a zero one when none exists.
func (c counters) read(ctx context.Context, wsID, key string) (storage.LoginCounter, error) {
	cur, err := c.store.GetLoginCounter(ctx, wsID, key)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.LoginCounter{}, nil
	}
	return cur, err
}

// gates counts the attempts in flight per counter in this process, so that
// parallel attempts cannot all read a counter before any failure is
// written. With several processes each admits up to the free failures
// left (per-process limits, SECURITY.md N4).
type gates struct {
	mu sync.Mutex
	m  map[string]*gate
}

type gate struct {
	inFlight int
	wake     chan struct{} // closed when an attempt leaves
}

// enter admits one attempt when fewer than limit are in flight and returns
// the function that lets it leave; otherwise it returns a channel closed
// when one leaves.
func (g *gates) enter(key string, limit int) (leave func(), wake <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string]*gate{}
	}
	gt := g.m[key]
	if gt == nil {
		gt = &gate{wake: make(chan struct{})}
		g.m[key] = gt
	}
	if gt.inFlight >= limit {
		return nil, gt.wake
	}
	gt.inFlight++
	var once sync.Once
	return func() { once.Do(func() { g.leave(key, gt) }) }, nil
}

func (g *gates) leave(key string, gt *gate) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gt.inFlight--
	close(gt.wake)
	gt.wake = make(chan struct{})
	if gt.inFlight == 0 && g.m[key] == gt {
		delete(g.m, key)
	}
}
