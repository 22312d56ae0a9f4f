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
	subtest(t, "UpdateClientCompareAndSwap", newStorage, concurrentClientSwap)
	subtest(t, "UpdateSigningKeysSerialize", newStorage, concurrentRotations)
	subtest(t, "ConsumeInitialAccessToken", newStorage, concurrentConsume)
	subtest(t, "CreateClientWithInitialAccessToken", newStorage, concurrentRegister)
	subtest(t, "WorkspaceDeletionsNarrowAdminToken", newStorage, concurrentWorkspaceDeletionsNarrowToken)
	subtest(t, "AdminTokenCreateRacesWorkspaceDelete", newStorage, concurrentAdminTokenCreateAndWorkspaceDelete)
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
// race runs op from n goroutines at once and requires exactly winners of
// them to succeed and every other one to fail with loserErr (the
// single-use gate's answer); any other error fails the test.
func race(t *testing.T, n, winners int, loserErr error, op func(i int) error) {
	t.Helper()
	var ok, lost atomic.Int32
	var other sync.Map
	parallel(n, func(i int) {
		switch err := op(i); {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, loserErr):
			lost.Add(1)
		default:
			other.Store(i, err)
		}
	})
	other.Range(func(k, v any) bool { t.Errorf("goroutine %v: %v", k, v); return true })
	if ok.Load() != int32(winners) || lost.Load() != int32(n-winners) {
		t.Fatalf("%d successes and %d %v, want %d and %d", ok.Load(), lost.Load(), loserErr, winners, n-winners)
	}
}

func concurrentUseJTI(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	j := storage.JTI{WorkspaceID: "ws", Namespace: "client_assertion", Issuer: "app", JTI: "race", ExpiresAt: time.Now().Add(time.Hour)}
	// B7: exactly one use of a jti wins.
	race(t, 20, 1, storage.ErrAlreadyExists, func(int) error { return s.UseJTI(t.Context(), j) })
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

// errSwapped is the updater's answer when the value it expects is gone.
var errSwapped = errors.New("conformance: value already swapped")

// An updater that refuses unless the row still holds the value it
// expects is a compare-and-swap: of concurrent callers expecting the same
// value exactly one succeeds, and the row holds its value. Dynamic client
// registration rotates registration access tokens this way (RFC 7592 §3,
// package dcr), a single-use gate that must hold in the database.
func concurrentClientSwap(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	c := newClient("ws", "app")
	c.RegistrationAccessTokenHash = []byte("old")
	must(t, s.CreateClient(t.Context(), c))
	var winner atomic.Value
	race(t, 20, 1, errSwapped, func(i int) error {
		next := []byte("new-" + strconv.Itoa(i))
		_, err := s.UpdateClient(t.Context(), "ws", "app", func(c storage.Client) (storage.Client, error) {
			if string(c.RegistrationAccessTokenHash) != "old" {
				return c, errSwapped
			}
			c.RegistrationAccessTokenHash = next
			return c, nil
		})
		if err == nil {
			winner.Store(string(next))
		}
		return err
	})
	got, err := s.GetClient(t.Context(), "ws", "app")
	must(t, err)
	if string(got.RegistrationAccessTokenHash) != winner.Load() {
		t.Fatalf("stored %q, want the winner's %q", got.RegistrationAccessTokenHash, winner.Load())
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
	race(t, 20, 3, storage.ErrNotFound, func(int) error {
		_, err := s.ConsumeInitialAccessToken(t.Context(), "ws", []byte("h"), now)
		return err
	})
}

// docs/security.md R3: a one-use token admits exactly one of 20 parallel
// registrations, and exactly one client exists afterwards.
func concurrentRegister(t *testing.T, s storage.Storage) {
	createWorkspace(t, s, "ws")
	now := time.Now()
	must(t, s.CreateInitialAccessToken(t.Context(), storage.InitialAccessToken{
		WorkspaceID: "ws", ID: "iat", Hash: []byte("h"), ExpiresAt: now.Add(time.Hour), UsesLeft: 1, CreatedAt: now,
	}))
	race(t, 20, 1, storage.ErrNotFound, func(i int) error {
		c := storage.Client{WorkspaceID: "ws", ID: "c" + strconv.Itoa(i), Name: "c", Enabled: true, Type: "confidential",
			Dynamic: true, CreatedAt: now, UpdatedAt: now}
		return s.CreateClientWithInitialAccessToken(t.Context(), c, []byte("h"), now)
	})
	page, err := s.ListClients(t.Context(), "ws", storage.ListOptions{})
	must(t, err)
	if len(page.Items) != 1 {
		t.Fatalf("%d clients after the race, want 1", len(page.Items))
	}
}
