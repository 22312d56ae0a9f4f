package conformance

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// RunConcurrencyTests checks the atomicity the Storage contract promises
// under parallel callers.
func RunConcurrencyTests(t *testing.T, newStorage func(t *testing.T) storage.Storage) {
	subtest(t, "UseJTIOnce", newStorage, concurrentUseJTI)
	subtest(t, "UpdateClientNoLostUpdate", newStorage, concurrentUpdateClient)
	subtest(t, "UpdateSigningKeysSerialize", newStorage, concurrentRotations)
	subtest(t, "ConsumeInitialAccessToken", newStorage, concurrentConsume)
}

// parallel runs fn(i) for i in [0, n) at once and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// SECURITY.md B7: 20 concurrent uses of one jti, exactly one wins.
func concurrentUseJTI(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	j := storage.JTI{WorkspaceID: "ws", Namespace: "client_assertion", Issuer: "app", JTI: "race", ExpiresAt: time.Now().Add(time.Hour)}
	var ok, dup atomic.Int32
	var other sync.Map
	parallel(20, func(i int) {
		switch err := s.UseJTI(t.Context(), j); {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, storage.ErrAlreadyExists):
			dup.Add(1)
		default:
			other.Store(i, err)
		}
	})
	other.Range(func(k, v any) bool { t.Errorf("goroutine %v: %v", k, v); return true })
	if ok.Load() != 1 || dup.Load() != 19 {
		t.Fatalf("B7: %d successes and %d ErrAlreadyExists, want 1 and 19", ok.Load(), dup.Load())
	}
}

// Read-modify-write through the updater loses no increment.
func concurrentUpdateClient(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	c := newClient("ws", "app")
	c.Metadata = map[string]string{"counter": "0"}
	must(t, s.CreateClient(t.Context(), c))
	const workers, each = 10, 5
	errs := make(chan error, workers*each)
	parallel(workers, func(int) {
		for range each {
			_, err := s.UpdateClient(t.Context(), "ws", "app", func(c storage.Client) (storage.Client, error) {
				n, err := strconv.Atoi(c.Metadata["counter"])
				if err != nil {
					return c, err
				}
				c.Metadata["counter"] = strconv.Itoa(n + 1)
				return c, nil
			})
			if err != nil {
				errs <- err
			}
		}
	})
	close(errs)
	for err := range errs {
		t.Errorf("UpdateClient: %v", err)
	}
	got, err := s.GetClient(t.Context(), "ws", "app")
	must(t, err)
	if got.Metadata["counter"] != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d (lost updates)", got.Metadata["counter"], workers*each)
	}
}

// Reliability invariant 5: concurrent rotations serialize. Each rotation
// derives the new KID from the set it read, so two rotations that saw the
// same set would write the same KID and one of them would fail.
func concurrentRotations(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	_, err := s.UpdateSigningKeys(t.Context(), "ws", func([]storage.SigningKey) ([]storage.SigningKey, error) {
		return []storage.SigningKey{newKey("ws", "k00", storage.KeyActive, 0)}, nil
	})
	must(t, err)
	const rotations = 8
	errs := make(chan error, rotations)
	parallel(rotations, func(int) {
		_, err := s.UpdateSigningKeys(t.Context(), "ws", rotate)
		if err != nil {
			errs <- err
		}
	})
	close(errs)
	for err := range errs {
		t.Errorf("rotation: %v", err)
	}
	keys, err := s.ListSigningKeys(t.Context(), "ws")
	must(t, err)
	if len(keys) != rotations+1 {
		t.Fatalf("%d keys after %d rotations, want %d: %v", len(keys), rotations, rotations+1, kids(keys))
	}
	active := 0
	for _, k := range keys {
		if k.State == storage.KeyActive {
			active++
		}
	}
	if active != 1 {
		t.Fatalf("%d active keys, want exactly 1", active)
	}
}

// rotate retires the active key and activates a new one whose KID is the
// size of the set it saw.
func rotate(cur []storage.SigningKey) ([]storage.SigningKey, error) {
	for i := range cur {
		if cur[i].State == storage.KeyActive {
			cur[i].State = storage.KeyRetired
		}
	}
	k := newKey("ws", fmt.Sprintf("k%02d", len(cur)), storage.KeyActive, time.Duration(len(cur))*time.Minute)
	return append(cur, k), nil
}

// RFC 7591 §3: a token with 3 uses admits exactly 3 of 20 parallel
// registrations.
func concurrentConsume(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	now := time.Now()
	must(t, s.CreateInitialAccessToken(t.Context(), storage.InitialAccessToken{
		WorkspaceID: "ws", ID: "iat", Hash: []byte("h"), ExpiresAt: now.Add(time.Hour), UsesLeft: 3, CreatedAt: now,
	}))
	var ok, gone atomic.Int32
	var other sync.Map
	parallel(20, func(i int) {
		switch _, err := s.ConsumeInitialAccessToken(t.Context(), "ws", []byte("h"), now); {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, storage.ErrNotFound):
			gone.Add(1)
		default:
			other.Store(i, err)
		}
	})
	other.Range(func(k, v any) bool { t.Errorf("goroutine %v: %v", k, v); return true })
	if ok.Load() != 3 || gone.Load() != 17 {
		t.Fatalf("%d successes and %d ErrNotFound, want 3 and 17", ok.Load(), gone.Load())
	}
}
