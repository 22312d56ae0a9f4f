package signing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// maxUpdateAttempts bounds how often an update is retried when the key set
// changed so that it needs more freshly generated keys than were prepared.
const maxUpdateAttempts = 3

var (
	// errNoChange aborts an update whose work another process already did.
	errNoChange = errors.New("signing: key set already in the wanted state")
	// errNeedKeys aborts an update that needs more fresh keys than prepared.
	errNeedKeys = errors.New("signing: more fresh keys needed")
)

// EnsureKeys gives the workspace an active and a next key of alg when it
// lacks them. A workspace that already has both is left unchanged, so it is
// safe to call on every start and from several processes at once.
func (m *Manager) EnsureKeys(ctx context.Context, wsID, alg string) error {
	if !ValidAlg(alg) {
		return fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	cur, err := m.store.ListSigningKeys(ctx, wsID)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	v := viewOf(cur)
	if v.complete() {
		return nil
	}
	changed, err := m.mutate(ctx, wsID, alg, v.missing(), ensureSet)
	if changed {
		m.log.Info("signing keys created", "workspace", wsID, "alg", alg)
	}
	return err
}

// Rotate moves the workspace one step through the key life cycle: the next
// key becomes active, the active key is retired (published until now +
// MaxTokenTTL + RetireSkew), and a new next key of alg is created ("" = the
// algorithm of the newest key). Changing alg therefore takes effect at the
// following rotation: the new key is published before it signs (P2).
//
// Rotate is an explicit, admin-requested rotation: it promotes the next key
// even when that key was published for less than PublishLead. Relying
// parties that cached the JWKS before the next key appeared may then reject
// new tokens until they refetch; the admin asked for the rotation now (for
// instance because the active key is suspect) and gets it, with a warning
// in the log. The scheduler never does this. When the workspace has no next
// key at all, a fresh key is created and activated at once.
//
// Concurrent calls from several processes that saw the same active key
// produce one rotation: the others find the key set changed and do nothing.
func (m *Manager) Rotate(ctx context.Context, wsID, alg string) error {
	if alg != "" && !ValidAlg(alg) {
		return fmt.Errorf("%w: %q", ErrUnsupportedAlg, alg)
	}
	cur, err := m.store.ListSigningKeys(ctx, wsID)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	seen := viewOf(cur)
	m.warnEarlyPromotion(wsID, cur, seen)
	_, err = m.rotate(ctx, wsID, cmp.Or(alg, defaultAlg(cur)), seen)
	return err
}

// rotate performs one rotation if the key set still looks like seen.
func (m *Manager) rotate(ctx context.Context, wsID, alg string, seen view) (bool, error) {
	retireFor := m.opts.MaxTokenTTL(wsID)
	if retireFor <= 0 {
		retireFor = DefaultMaxTokenTTL
	}
	retireFor += RetireSkew
	changed, err := m.mutate(ctx, wsID, alg, seen.rotationNeeds(),
		func(cur []storage.SigningKey, s *supply, now time.Time) ([]storage.SigningKey, error) {
			return rotateSet(cur, seen, s, now, retireFor)
		})
	if changed {
		m.log.Info("signing keys rotated", "workspace", wsID, "previous_kid", seen.active, "alg", alg)
	}
	return changed, err
}

// RemoveKey deletes a key at once (emergency, SECURITY.md P4): it leaves
// the JWKS, so tokens it signed no longer verify. Removing the active key
// promotes the next key immediately (or a fresh key when there is none)
// and creates a new next key, so the workspace can keep signing.
func (m *Manager) RemoveKey(ctx context.Context, wsID, kid string) error {
	cur, err := m.store.ListSigningKeys(ctx, wsID)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	i := indexKID(cur, kid)
	if i < 0 {
		return fmt.Errorf("signing: key %q: %w", kid, storage.ErrNotFound)
	}
	removed := cur[i]
	rest := slices.Delete(slices.Clone(cur), i, i+1)
	need := 0
	if removed.State == storage.KeyActive {
		need = viewOf(rest).missing()
	}
	alg := cmp.Or(viewOf(rest).nextAlg(rest), removed.Alg)
	_, err = m.mutate(ctx, wsID, alg, need,
		func(cur []storage.SigningKey, s *supply, now time.Time) ([]storage.SigningKey, error) {
			return removeFromSet(cur, kid, s, now)
		})
	if err == nil {
		m.log.Warn("signing key removed", "workspace", wsID, "kid", kid, "state", removed.State)
	}
	return err
}

// mutate applies fn to the workspace's key set in one storage transaction,
// with need freshly generated keys of alg at hand. Keys are generated
// before the transaction because the updater may run more than once and
// RSA generation is slow. It reports whether the set changed.
func (m *Manager) mutate(ctx context.Context, wsID, alg string, need int,
	fn func(cur []storage.SigningKey, s *supply, now time.Time) ([]storage.SigningKey, error),
) (bool, error) {
	for range maxUpdateAttempts {
		s, err := m.generate(wsID, alg, need)
		if err != nil {
			return false, err
		}
		_, err = m.store.UpdateSigningKeys(ctx, wsID, func(cur []storage.SigningKey) ([]storage.SigningKey, error) {
			s.reset()
			return fn(slices.Clone(cur), s, m.opts.Now().UTC())
		})
		switch {
		case errors.Is(err, errNoChange):
			return false, nil
		case errors.Is(err, errNeedKeys):
			need = s.wanted
			continue
		case err != nil:
			return false, fmt.Errorf("signing: update keys: %w", err)
		}
		m.Invalidate(wsID)
		return true, nil
	}
	return false, errors.New("signing: the key set kept changing during the update; try again")
}

func (m *Manager) generate(wsID, alg string, n int) (*supply, error) {
	s := &supply{keys: make([]storage.SigningKey, 0, n)}
	for range n {
		k, err := newStoredKey(m.kr, wsID, alg, m.opts.Now().UTC())
		if err != nil {
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	return s, nil
}

func (m *Manager) warnEarlyPromotion(wsID string, cur []storage.SigningKey, seen view) {
	if seen.next == "" {
		m.log.Warn("no next key: rotation activates a key that relying parties have not seen", "workspace", wsID)
		return
	}
	next := cur[indexKID(cur, seen.next)]
	if age := m.opts.Now().Sub(next.CreatedAt); age < m.opts.PublishLead {
		m.log.Warn("rotation activates a next key published for less than the publish lead",
			"workspace", wsID, "kid", next.KID, "published_for", age.Round(time.Second).String(),
			"publish_lead", m.opts.PublishLead.String())
	}
}

// ensureSet adds the active and next keys the set lacks.
func ensureSet(cur []storage.SigningKey, s *supply, now time.Time) ([]storage.SigningKey, error) {
	v := viewOf(cur)
	if v.complete() {
		return nil, errNoChange
	}
	return fillSet(cur, v, s, now)
}

// rotateSet performs one rotation, or errNoChange when the set is no
// longer the one the caller saw (another process rotated first).
func rotateSet(cur []storage.SigningKey, seen view, s *supply, now time.Time, retireFor time.Duration) ([]storage.SigningKey, error) {
	if viewOf(cur) != seen {
		return nil, errNoChange
	}
	for i := range cur {
		switch {
		case cur[i].State == storage.KeyActive:
			retire(&cur[i], now, retireFor)
		case cur[i].KID == seen.next:
			activate(&cur[i], now)
		}
	}
	if seen.next == "" {
		k, err := s.take(storage.KeyActive, now)
		if err != nil {
			return nil, err
		}
		cur = append(cur, k)
	}
	k, err := s.take(storage.KeyNext, now)
	if err != nil {
		return nil, err
	}
	return append(cur, k), nil
}

// removeFromSet deletes kid and, when it was the active key, restores an
// active and a next key.
func removeFromSet(cur []storage.SigningKey, kid string, s *supply, now time.Time) ([]storage.SigningKey, error) {
	i := indexKID(cur, kid)
	if i < 0 {
		return nil, errNoChange
	}
	wasActive := cur[i].State == storage.KeyActive
	cur = slices.Delete(cur, i, i+1)
	if !wasActive {
		return cur, nil
	}
	return fillSet(cur, viewOf(cur), s, now)
}

// fillSet gives a set without an active or next key what it lacks: the next
// key is promoted when there is no active key, and fresh keys fill the
// rest.
func fillSet(cur []storage.SigningKey, v view, s *supply, now time.Time) ([]storage.SigningKey, error) {
	if v.active == "" && v.next != "" {
		activate(&cur[indexKID(cur, v.next)], now)
		v.active, v.next = v.next, ""
	}
	for _, state := range v.missingStates() {
		k, err := s.take(state, now)
		if err != nil {
			return nil, err
		}
		cur = append(cur, k)
	}
	return cur, nil
}

func retire(k *storage.SigningKey, now time.Time, retireFor time.Duration) {
	k.State = storage.KeyRetired
	k.RetiredAt = now
	k.RetireUntil = now.Add(retireFor)
}

func activate(k *storage.SigningKey, now time.Time) {
	k.State = storage.KeyActive
	k.ActivatedAt = now
}

// supply hands out keys generated before the transaction.
type supply struct {
	keys   []storage.SigningKey
	used   int
	wanted int
}

func (s *supply) reset() { s.used, s.wanted = 0, 0 }

func (s *supply) take(state string, now time.Time) (storage.SigningKey, error) {
	s.wanted++
	if s.used >= len(s.keys) {
		return storage.SigningKey{}, errNeedKeys
	}
	k := s.keys[s.used]
	s.used++
	k.State = state
	if state == storage.KeyActive {
		k.ActivatedAt = now
	}
	return k, nil
}

// view is what a rotation decision depends on: the kids of the active key
// and of the next key that would be promoted ("" when absent).
type view struct{ active, next string }

// viewOf picks the newest active key and the longest-published next key.
func viewOf(keys []storage.SigningKey) view {
	var v view
	var activeAt, nextAt time.Time
	for _, k := range keys {
		switch k.State {
		case storage.KeyActive:
			if v.active == "" || k.ActivatedAt.After(activeAt) {
				v.active, activeAt = k.KID, k.ActivatedAt
			}
		case storage.KeyNext:
			if v.next == "" || k.CreatedAt.Before(nextAt) {
				v.next, nextAt = k.KID, k.CreatedAt
			}
		}
	}
	return v
}

func (v view) complete() bool { return v.active != "" && v.next != "" }

func (v view) missing() int { return len(v.missingStates()) }

// missingStates lists the states fillSet must create keys for, assuming
// it promotes the next key when there is no active one.
func (v view) missingStates() []string {
	switch {
	case v.active == "" && v.next == "":
		return []string{storage.KeyActive, storage.KeyNext}
	case v.active == "" || v.next == "":
		return []string{storage.KeyNext}
	}
	return nil
}

// rotationNeeds is how many fresh keys a rotation from v creates.
func (v view) rotationNeeds() int {
	if v.next == "" {
		return 2
	}
	return 1
}

func (v view) nextAlg(keys []storage.SigningKey) string {
	if i := indexKID(keys, v.next); v.next != "" && i >= 0 {
		return keys[i].Alg
	}
	return ""
}

// defaultAlg is the algorithm of the newest key: the next key, else the
// active key, else the newest retired key; RS256 for an empty set.
func defaultAlg(keys []storage.SigningKey) string {
	v := viewOf(keys)
	for _, kid := range []string{v.next, v.active} {
		if i := indexKID(keys, kid); kid != "" && i >= 0 {
			return keys[i].Alg
		}
	}
	var alg string
	var newest time.Time
	for _, k := range keys {
		if ValidAlg(k.Alg) && (alg == "" || k.CreatedAt.After(newest)) {
			alg, newest = k.Alg, k.CreatedAt
		}
	}
	return cmp.Or(alg, oauth2.AlgRS256)
}

func indexKID(keys []storage.SigningKey, kid string) int {
	return slices.IndexFunc(keys, func(k storage.SigningKey) bool { return k.KID == kid })
}
