package signing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// DefaultSchedulerInterval is used when RunScheduler gets a non-positive
// interval.
const DefaultSchedulerInterval = time.Minute

// RunScheduler maintains every workspace's keys until ctx ends: once at
// start and then every interval it
//   - creates a missing active or next key (EnsureKeys with the workspace's
//     SigningAlg setting),
//   - rotates when the active key is at least period(wsID) old (period 0
//     disables scheduled rotation) and the next key has been published for
//     at least PublishLead (SECURITY.md P2),
//   - deletes retired keys whose RetireUntil has passed,
//   - re-encrypts private keys not under the current master key.
//
// Several processes may run it at once: each step is idempotent or a
// compare-and-swap (see Rotate).
func (m *Manager) RunScheduler(ctx context.Context, interval time.Duration, period func(wsID string) time.Duration) {
	if interval <= 0 {
		interval = DefaultSchedulerInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		m.schedulePass(ctx, period)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// schedulePass maintains every workspace once, page by page.
func (m *Manager) schedulePass(ctx context.Context, period func(wsID string) time.Duration) {
	opts := storage.ListOptions{Limit: storage.MaxPageSize}
	for ctx.Err() == nil {
		page, err := m.store.ListWorkspaces(ctx, opts)
		if err != nil {
			m.logPassError(ctx, "", err)
			return
		}
		for _, ws := range page.Items {
			if err := m.Maintain(ctx, ws, period(ws.ID)); err != nil {
				m.logPassError(ctx, ws.ID, err)
			}
		}
		if page.Next == "" {
			return
		}
		opts.After = page.Next
	}
}

func (m *Manager) logPassError(ctx context.Context, wsID string, err error) {
	if ctx.Err() != nil {
		return // shutting down
	}
	m.log.Error("key maintenance failed", "workspace", wsID, "err", err)
}

// Maintain runs one scheduler step for one workspace (see RunScheduler).
func (m *Manager) Maintain(ctx context.Context, ws storage.Workspace, period time.Duration) error {
	keys, err := m.store.ListSigningKeys(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	alg := ws.Settings.SigningAlg
	if !ValidAlg(alg) {
		alg = defaultAlg(keys)
	}
	v := viewOf(keys)
	if !v.complete() {
		return m.EnsureKeys(ctx, ws.ID, alg)
	}
	// The steps are independent: one failing must not hold back the others.
	errPurge := m.purgeRetired(ctx, ws.ID, keys)
	errReencrypt := m.reencrypt(ctx, ws.ID, keys)
	var errRotate error
	if m.rotationDue(keys, v, period) {
		_, errRotate = m.rotate(ctx, ws.ID, alg, v)
	}
	return errors.Join(errPurge, errReencrypt, errRotate)
}

// rotationDue: the active key has served period, and the next key has been
// published long enough for cached JWKS copies to include it.
func (m *Manager) rotationDue(keys []storage.SigningKey, v view, period time.Duration) bool {
	if period <= 0 {
		return false
	}
	now := m.opts.Now()
	active, next := keys[indexKID(keys, v.active)], keys[indexKID(keys, v.next)]
	since := active.ActivatedAt
	if since.IsZero() {
		since = active.CreatedAt
	}
	return now.Sub(since) >= period && now.Sub(next.CreatedAt) >= m.opts.PublishLead
}

// purgeRetired deletes retired keys past RetireUntil: every token they
// signed has expired.
func (m *Manager) purgeRetired(ctx context.Context, wsID string, keys []storage.SigningKey) error {
	if !hasExpiredRetired(keys, m.opts.Now()) {
		return nil
	}
	_, err := m.mutate(ctx, wsID, "", 0, func(cur []storage.SigningKey, _ *supply, now time.Time) ([]storage.SigningKey, error) {
		if !hasExpiredRetired(cur, now) {
			return nil, errNoChange
		}
		out := cur[:0]
		for _, k := range cur {
			if !retiredExpired(k, now) {
				out = append(out, k)
			}
		}
		return out, nil
	})
	return err
}

func hasExpiredRetired(keys []storage.SigningKey, now time.Time) bool {
	for _, k := range keys {
		if retiredExpired(k, now) {
			return true
		}
	}
	return false
}

func retiredExpired(k storage.SigningKey, now time.Time) bool {
	return k.State == storage.KeyRetired && !k.RetireUntil.IsZero() && !now.Before(k.RetireUntil)
}

// reencrypt moves private keys encrypted under an older master key to the
// current one, so the old master key can eventually be dropped.
func (m *Manager) reencrypt(ctx context.Context, wsID string, keys []storage.SigningKey) error {
	if !m.hasStale(keys) {
		return nil
	}
	_, err := m.mutate(ctx, wsID, "", 0, func(cur []storage.SigningKey, _ *supply, _ time.Time) ([]storage.SigningKey, error) {
		changed := 0
		for i := range cur {
			if m.reencryptKey(&cur[i]) {
				changed++
			}
		}
		if changed == 0 {
			return nil, errNoChange
		}
		return cur, nil
	})
	return err
}

func (m *Manager) hasStale(keys []storage.SigningKey) bool {
	for _, k := range keys {
		if !m.kr.IsCurrent(k.PrivateCiphertext) {
			return true
		}
	}
	return false
}

// reencryptKey re-encrypts k under the current master key and reports
// whether it did. A key no master key opens is logged and left as it is:
// it cannot sign either way, and it must not block the other keys.
func (m *Manager) reencryptKey(k *storage.SigningKey) bool {
	if m.kr.IsCurrent(k.PrivateCiphertext) {
		return false
	}
	priv, err := decryptPrivate(m.kr, *k)
	if err == nil {
		var ct []byte
		if ct, err = encryptPrivate(m.kr, k.WorkspaceID, k.KID, priv); err == nil {
			k.PrivateCiphertext = ct
			return true
		}
	}
	m.log.Error("cannot re-encrypt signing key", "workspace", k.WorkspaceID, "kid", k.KID, "err", err)
	return false
}
