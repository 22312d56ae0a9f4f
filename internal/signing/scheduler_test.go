package signing

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

func workspace(id, alg string) storage.Workspace {
	return storage.Workspace{ID: id, Enabled: true, Settings: storage.WorkspaceSettings{SigningAlg: alg}}
}

// TestMaintainRotationSchedule: rotation happens when the active key has
// served its period and the next key has been published for PublishLead
// (P2); retired keys are purged after RetireUntil.
func TestMaintainRotationSchedule(t *testing.T) {
	m, store, c := setup(t, oauth2.AlgEdDSA)
	w := workspace(ws, oauth2.AlgEdDSA)
	const period = 5 * time.Minute // shorter than PublishLead (10m)
	ctx := t.Context()
	maintain := func() {
		t.Helper()
		if err := m.Maintain(ctx, w, period); err != nil {
			t.Fatal(err)
		}
	}
	first := one(t, store.snapshot(ws), storage.KeyActive)

	c.Advance(period)
	maintain()
	if one(t, store.snapshot(ws), storage.KeyActive).KID != first.KID {
		t.Fatal("rotated before the next key was published for PublishLead")
	}
	c.Advance(5 * time.Minute) // next key now published for 10m
	maintain()
	keys := store.snapshot(ws)
	if one(t, keys, storage.KeyRetired).KID != first.KID {
		t.Fatal("due rotation did not happen")
	}
	second := one(t, keys, storage.KeyActive)

	maintain() // nothing due: no change
	if len(store.snapshot(ws)) != 3 || one(t, store.snapshot(ws), storage.KeyActive).KID != second.KID {
		t.Fatal("rotated twice")
	}

	c.Advance(testTTL + RetireSkew) // first key's tokens all expired
	maintain()
	for _, k := range store.snapshot(ws) {
		if k.KID == first.KID {
			t.Fatal("retired key not purged after RetireUntil")
		}
	}
}

func TestMaintainPeriodZeroNeverRotates(t *testing.T) {
	m, store, c := setup(t, oauth2.AlgES256)
	_, before := store.counts()
	c.Advance(1000 * time.Hour)
	if err := m.Maintain(t.Context(), workspace(ws, oauth2.AlgES256), 0); err != nil {
		t.Fatal(err)
	}
	if _, after := store.counts(); after != before {
		t.Fatal("maintenance wrote although nothing was due")
	}
}

func TestMaintainUsesWorkspaceAlgAndRepairs(t *testing.T) {
	store, c := newMemStore(), newClock()
	m := newTestManager(t, store, testKeyring(t), c)
	if err := m.Maintain(t.Context(), workspace("fresh", oauth2.AlgPS256), time.Hour); err != nil {
		t.Fatal(err)
	}
	keys := store.snapshot("fresh")
	if one(t, keys, storage.KeyActive).Alg != oauth2.AlgPS256 || one(t, keys, storage.KeyNext).Alg != oauth2.AlgPS256 {
		t.Fatalf("keys: %+v", keys)
	}
	// A changed SigningAlg setting reaches the next key at the next
	// scheduled rotation, so it is published before it signs.
	c.Advance(time.Hour)
	if err := m.Maintain(t.Context(), workspace("fresh", oauth2.AlgEdDSA), time.Hour); err != nil {
		t.Fatal(err)
	}
	keys = store.snapshot("fresh")
	if one(t, keys, storage.KeyActive).Alg != oauth2.AlgPS256 || one(t, keys, storage.KeyNext).Alg != oauth2.AlgEdDSA {
		t.Fatalf("keys: %+v", keys)
	}
}

// TestMaintainReencrypts: after a master key rotation the scheduler moves
// private keys to the new master key (P3, D8).
func TestMaintainReencrypts(t *testing.T) {
	oldKey, newKey := secrets.GenerateKey(), secrets.GenerateKey()
	oldRing, _ := secrets.New(oldKey)
	newRing, _ := secrets.New(newKey, oldKey)
	store, c := newMemStore(), newClock()
	if err := newTestManager(t, store, oldRing, c).EnsureKeys(t.Context(), ws, oauth2.AlgES256); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, store, newRing, c)
	if err := m.Maintain(t.Context(), workspace(ws, oauth2.AlgES256), 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range store.snapshot(ws) {
		if !newRing.IsCurrent(k.PrivateCiphertext) {
			t.Fatal("private key not re-encrypted under the new master key")
		}
	}
	newOnly, _ := secrets.New(newKey)
	if _, err := newTestManager(t, store, newOnly, c).Signer(t.Context(), ws); err != nil {
		t.Fatalf("signing after dropping the old master key: %v", err)
	}
}

// TestRunSchedulerAcrossProcesses: several managers run the scheduler on
// one store; every workspace (listed over several pages) rotates once.
func TestRunSchedulerAcrossProcesses(t *testing.T) {
	store, c := newMemStore(), newClock()
	kr := testKeyring(t)
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		store.workspaces = append(store.workspaces, workspace(id, oauth2.AlgEdDSA))
		if err := newTestManager(t, store, kr, c).EnsureKeys(t.Context(), id, oauth2.AlgEdDSA); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 3 {
		m := newTestManager(t, store, kr, c)
		wg.Go(func() { m.RunScheduler(ctx, time.Millisecond, func(string) time.Duration { return time.Hour }) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for !allRotated(store, ids) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let more passes run: they must not rotate again
	cancel()
	wg.Wait()
	for _, id := range ids {
		keys := store.snapshot(id)
		if len(keys) != 3 || len(byState(keys, storage.KeyRetired)) != 1 {
			t.Fatalf("workspace %s: %d keys, want exactly one rotation: %+v", id, len(keys), keys)
		}
	}
}

func allRotated(store *memStore, ids []string) bool {
	for _, id := range ids {
		if len(byState(store.snapshot(id), storage.KeyRetired)) == 0 {
			return false
		}
	}
	return true
}
