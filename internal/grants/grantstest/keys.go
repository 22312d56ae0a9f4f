package grantstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/storage"
)

// sharedKeyring is the master keyring of every Env of a test binary, so
// that signing key rows made in one Env decrypt in the next (keyRows).
// Each Env still has a database and a server of its own.
var sharedKeyring = sync.OnceValues(func() (*secrets.Keyring, error) {
	return secrets.New(secrets.GenerateKey())
})

// keyRows keeps the signing key rows that the signing manager generated
// the first time an Env of this test binary created a workspace, by
// workspace ID and algorithm. Later Envs copy them rather than generate
// their own: RSA key generation was most of the time of the packages
// built on grantstest. The rows are bound to their workspace ID (the
// private key's additional data), so within one Env every workspace still
// has keys of its own; across Envs, which share nothing else, nobody can
// tell.
var keyRows struct {
	mu   sync.Mutex
	rows map[[2]string][]storage.SigningKey
}

func storedKeyRows(wsID, alg string) []storage.SigningKey {
	keyRows.mu.Lock()
	defer keyRows.mu.Unlock()
	return keyRows.rows[[2]string{wsID, alg}]
}

func keepKeyRows(wsID, alg string, rows []storage.SigningKey) {
	keyRows.mu.Lock()
	defer keyRows.mu.Unlock()
	if keyRows.rows == nil {
		keyRows.rows = make(map[[2]string][]storage.SigningKey)
	}
	keyRows.rows[[2]string{wsID, alg}] = rows
}

// ensureKeys gives workspace id an active and a next key of alg: copies
// of an earlier Env's when there are some, stamped with this Env's time,
// else keys the signing manager generates. EnsureKeys runs either way, so
// the key set is always one the manager accepts as complete.
func (e *Env) ensureKeys(t testing.TB, id, alg string) {
	t.Helper()
	ctx := context.Background()
	rows := storedKeyRows(id, alg)
	if rows != nil {
		now := e.Clock.Now().UTC()
		if _, err := e.Store.UpdateSigningKeys(ctx, id, func([]storage.SigningKey) ([]storage.SigningKey, error) {
			return restamped(rows, now), nil
		}); err != nil {
			t.Fatalf("copy signing keys %s: %v", id, err)
		}
		e.Keys.Invalidate(id)
	}
	if err := e.Keys.EnsureKeys(ctx, id, alg); err != nil {
		t.Fatalf("ensure keys %s: %v", id, err)
	}
	if rows == nil {
		made, err := e.Store.ListSigningKeys(ctx, id)
		if err != nil {
			t.Fatalf("list signing keys %s: %v", id, err)
		}
		keepKeyRows(id, alg, made)
	}
}

// restamped returns copies of rows created (and, for the active key,
// activated) at now, as EnsureKeys would have made them.
func restamped(rows []storage.SigningKey, now time.Time) []storage.SigningKey {
	out := make([]storage.SigningKey, len(rows))
	for i, k := range rows {
		k.CreatedAt = now
		if k.State == storage.KeyActive {
			k.ActivatedAt = now
		}
		out[i] = k
	}
	return out
}
