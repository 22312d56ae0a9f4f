package device

import (
	"time"

	"github.com/latchkey/latchkey/internal/ratelimit"
)

// Limits are the budgets of user-code entry (RFC 8628 §5.1: "the
// authorization server SHOULD rate-limit user code attempts"; SECURITY.md
// V2). A wrong code spends one token of the source address's, the signed-in
// user's and the workspace's bucket; an entry that finds a code spends
// nothing there but one token of that code's own bucket, so a code shown
// on a device cannot be entered (and decided on) by many browsers. When any
// bucket is empty the page answers 429 with Retry-After before looking
// anything up.
type Limits struct {
	// PerIP and PerUser: wrong codes per source address and per signed-in
	// user (default 10 at once, then one per 6 s).
	PerIP, PerUser Budget
	// PerWorkspace: wrong codes in one workspace from everywhere (default
	// 200 at once, then 2 per second).
	PerWorkspace Budget
	// PerCode: entries of one code found (default 10 at once, then one
	// per minute).
	PerCode Budget
	// PerClient: device authorization requests of one client (default 20
	// at once, then one per 3 s), so that a public client's identifier
	// alone cannot fill the database with pending codes (SECURITY.md N1).
	PerClient Budget
}

// Budget is a token bucket: Burst at once, refilled at Rate per second.
type Budget struct {
	Burst int
	Rate  float64
}

// Default budgets.
var (
	DefaultPerIP        = Budget{Burst: 10, Rate: 1.0 / 6}
	DefaultPerUser      = Budget{Burst: 10, Rate: 1.0 / 6}
	DefaultPerWorkspace = Budget{Burst: 200, Rate: 2}
	DefaultPerCode      = Budget{Burst: 10, Rate: 1.0 / 60}
	DefaultPerClient    = Budget{Burst: 20, Rate: 1.0 / 3}
)

// limiters are the buckets. They are per process (docs/security.md: the
// budget across N processes is N times this; each process still stops a
// guesser long before a code's 2^34.5 space is searched).
type limiters struct {
	ip, user, workspace, code, client *ratelimit.Limiter
}

func budgetOr(b, def Budget) Budget {
	if b.Burst > 0 {
		return b
	}
	return def
}

func newLimiters(l Limits, now func() time.Time) limiters {
	mk := func(b, def Budget) *ratelimit.Limiter {
		b = budgetOr(b, def)
		return ratelimit.New(b.Rate, b.Burst, now)
	}
	return limiters{
		ip: mk(l.PerIP, DefaultPerIP), user: mk(l.PerUser, DefaultPerUser),
		workspace: mk(l.PerWorkspace, DefaultPerWorkspace), code: mk(l.PerCode, DefaultPerCode),
		client: mk(l.PerClient, DefaultPerClient),
	}
}

// entryKeys are the bucket keys of one entry.
type entryKeys struct{ ip, user, workspace string }

func keysOf(wsID, userID, remoteIP string) entryKeys {
	return entryKeys{ip: wsID + "\x00" + remoteIP, user: wsID + "\x00" + userID, workspace: wsID}
}

// wait reports how long until an entry may be tried: 0 when every budget
// of wrong codes has a token left. Nothing is spent.
func (l limiters) wait(k entryKeys) time.Duration {
	return max(l.ip.Wait(k.ip), l.user.Wait(k.user), l.workspace.Wait(k.workspace))
}

// wrong spends one token of each budget of wrong codes.
func (l limiters) wrong(k entryKeys) {
	l.ip.Allow(k.ip)
	l.user.Allow(k.user)
	l.workspace.Allow(k.workspace)
}

// found spends one entry of a found code; false (and the wait) when its
// budget is spent.
func (l limiters) found(wsID string, hash []byte) (bool, time.Duration) {
	return l.code.Allow(wsID + "\x00" + string(hash))
}
