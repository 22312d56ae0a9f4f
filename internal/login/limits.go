package login

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// Policy is the sign-in attempt budget of one kind of counter.
type Policy struct {
	// Free attempts in a Window before pauses are required.
	Free   int
	Window time.Duration
	// MaxDelay caps the pause, which doubles from one second.
	MaxDelay time.Duration
}

// Default budgets: per account name and per source address.
var (
	DefaultAccountPolicy = Policy{Free: 5, Window: 15 * time.Minute, MaxDelay: 5 * time.Minute}
	DefaultIPPolicy      = Policy{Free: 30, Window: 15 * time.Minute, MaxDelay: time.Minute}
)

// limitedError is a refused attempt and how long to wait.
type limitedError struct{ retry time.Duration }

func (e *limitedError) Error() string { return "login: too many attempts" }

// take returns the updater that spends one attempt at now, or refuses it
// while a pause is due.
func (p Policy) take(now time.Time) func(storage.LoginCounter) (storage.LoginCounter, error) {
	return func(c storage.LoginCounter) (storage.LoginCounter, error) {
		if c.WindowStart.IsZero() || !now.Before(c.WindowStart.Add(p.Window)) && !now.Before(c.NextAllowed) {
			c = storage.LoginCounter{WindowStart: now}
		}
		if now.Before(c.NextAllowed) {
			return c, &limitedError{retry: c.NextAllowed.Sub(now)}
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

// counters takes one attempt from the account and the address counters.
type counters struct {
	store   storage.Storage
	account Policy
	ip      Policy
}

func accountKey(username string) string {
	return "acct:" + strings.ToLower(strings.TrimSpace(username))
}
func ipKey(ip string) string { return "ip:" + ip }

// take returns retry > 0 when the attempt is refused.
func (c counters) take(ctx context.Context, wsID, username, ip string, now time.Time) (time.Duration, error) {
	for _, k := range []struct {
		key string
		p   Policy
	}{{ipKey(ip), c.ip}, {accountKey(username), c.account}} {
		_, err := c.store.UpdateLoginCounter(ctx, wsID, k.key, k.p.take(now))
		var le *limitedError
		if errors.As(err, &le) {
			return le.retry, nil
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// succeeded forgets the account's counter and gives the attempt back to
// the address's counter, so that only failures accumulate there: many
// people signing in behind one NAT address are not slowed down.
func (c counters) succeeded(ctx context.Context, wsID, username, ip string) error {
	if err := c.store.DeleteLoginCounter(ctx, wsID, accountKey(username)); err != nil {
		return err
	}
	_, err := c.store.UpdateLoginCounter(ctx, wsID, ipKey(ip), refund)
	return err
}

func refund(c storage.LoginCounter) (storage.LoginCounter, error) {
	if c.Attempts > 0 {
		c.Attempts--
	}
	return c, nil
}
