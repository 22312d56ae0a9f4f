package conformance

import (
	"crypto/sha256"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func newOpaque(ws, value string, ttl time.Duration) storage.OpaqueToken {
	h := sha256.Sum256([]byte(value))
	return storage.OpaqueToken{
		WorkspaceID: ws, Hash: h[:], ClientID: "c1", Subject: "u1", Scope: "read write", JTI: "jti-" + value,
		Audience: []string{"https://api.example"}, FamilyID: "f1",
		Extra:    map[string]any{"tenant": "acme", "n": float64(3)},
		IssuedAt: at(0), ExpiresAt: at(ttl),
	}
}

// testOpaqueTokens: a stored opaque token reads back with every claim,
// only by its hash and workspace (SECURITY.md J3), and deleting it is
// immediate and idempotent (RFC 7009 §2.2).
func testOpaqueTokens(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	tok := newOpaque("ws", "v1", time.Hour)
	must(t, s.CreateOpaqueToken(ctx, tok))
	wantErr(t, s.CreateOpaqueToken(ctx, tok), storage.ErrAlreadyExists, "duplicate hash")
	got, err := s.GetOpaqueToken(ctx, "ws", tok.Hash)
	must(t, err)
	sameTime(t, "iat", got.IssuedAt, tok.IssuedAt)
	sameTime(t, "exp", got.ExpiresAt, tok.ExpiresAt)
	got.IssuedAt, got.ExpiresAt = tok.IssuedAt, tok.ExpiresAt
	if !reflect.DeepEqual(got, tok) {
		t.Fatalf("GetOpaqueToken = %+v, want %+v", got, tok)
	}
	_, err = s.GetOpaqueToken(ctx, "other", tok.Hash)
	wantErr(t, err, storage.ErrNotFound, "token of another workspace")
	must(t, s.DeleteOpaqueToken(ctx, "other", tok.Hash))
	_, err = s.GetOpaqueToken(ctx, "ws", tok.Hash)
	must(t, err) // another workspace's delete removed nothing

	must(t, s.DeleteOpaqueToken(ctx, "ws", tok.Hash))
	must(t, s.DeleteOpaqueToken(ctx, "ws", tok.Hash))
	_, err = s.GetOpaqueToken(ctx, "ws", tok.Hash)
	wantErr(t, err, storage.ErrNotFound, "deleted token")
	_, err = s.GetOpaqueToken(ctx, "ws", nil)
	wantErr(t, err, storage.ErrNotFound, "empty hash")
}

// testOpaqueTokensConcurrent: concurrent inserts (group-committed) all
// land, and each caller hears of its own row.
func testOpaqueTokensConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateOpaqueToken(ctx, newOpaque("ws", "c"+string(rune('A'+i)), time.Hour))
		})
	}
	wg.Wait()
	for i, err := range errs {
		must(t, err)
		_, err = s.GetOpaqueToken(ctx, "ws", newOpaque("ws", "c"+string(rune('A'+i)), time.Hour).Hash)
		must(t, err)
	}
	// A token of a workspace that does not exist fails alone.
	wantErr(t, s.CreateOpaqueToken(ctx, newOpaque("missing", "x", time.Hour)), storage.ErrNotFound, "unknown workspace")
}

// testOpaqueTokensExpire: DeleteExpired removes expired opaque tokens and
// keeps live ones.
func testOpaqueTokensExpire(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	old, live := newOpaque("ws", "old", time.Minute), newOpaque("ws", "live", 2*time.Hour)
	must(t, s.CreateOpaqueToken(ctx, old))
	must(t, s.CreateOpaqueToken(ctx, live))
	_, err := s.DeleteExpired(ctx, at(time.Hour))
	must(t, err)
	_, err = s.GetOpaqueToken(ctx, "ws", old.Hash)
	wantErr(t, err, storage.ErrNotFound, "expired opaque token")
	_, err = s.GetOpaqueToken(ctx, "ws", live.Hash)
	must(t, err)
}
