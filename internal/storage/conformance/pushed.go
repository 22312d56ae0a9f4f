package conformance

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func newPushed(ws, client, value string, ttl time.Duration) storage.PushedRequest {
	h := sha256.Sum256([]byte(value))
	return storage.PushedRequest{
		WorkspaceID: ws, Hash: h[:], ClientID: client,
		Params: map[string][]string{
			"response_type": {"code"}, "client_id": {client}, "scope": {"openid read"},
			"state": {"s-" + value}, "claims": {`{"id_token":{"acr":null}}`},
		},
		CreatedAt: at(0), ExpiresAt: at(ttl),
	}
}

// testPushedRequests: a pushed request reads back once, only by its
// client, only before it expires, only in its workspace (RFC 9126 §4,
// §7.1), and cascades with its client.
func testPushedRequests(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	must(t, s.CreateClient(ctx, newClient("ws", "c1")))
	must(t, s.CreateClient(ctx, newClient("ws", "c2")))
	must(t, s.CreateClient(ctx, newClient("other", "c1")))

	p := newPushed("ws", "c1", "v1", time.Minute)
	must(t, s.CreatePushedRequest(ctx, p))
	wantErr(t, s.CreatePushedRequest(ctx, p), storage.ErrAlreadyExists, "duplicate hash")
	wantErr(t, s.CreatePushedRequest(ctx, newPushed("ws", "nobody", "v9", time.Minute)), storage.ErrNotFound, "unknown client")

	_, err := s.ConsumePushedRequest(ctx, "ws", "c2", p.Hash, at(time.Second))
	wantErr(t, err, storage.ErrNotFound, "another client")
	_, err = s.ConsumePushedRequest(ctx, "other", "c1", p.Hash, at(time.Second))
	wantErr(t, err, storage.ErrNotFound, "another workspace")
	_, err = s.ConsumePushedRequest(ctx, "ws", "c1", p.Hash, at(time.Minute))
	wantErr(t, err, storage.ErrNotFound, "expired")

	got, err := s.ConsumePushedRequest(ctx, "ws", "c1", p.Hash, at(time.Second))
	must(t, err)
	sameTime(t, "created", got.CreatedAt, p.CreatedAt)
	sameTime(t, "expires", got.ExpiresAt, p.ExpiresAt)
	got.CreatedAt, got.ExpiresAt = p.CreatedAt, p.ExpiresAt
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("ConsumePushedRequest = %+v, want %+v", got, p)
	}
	_, err = s.ConsumePushedRequest(ctx, "ws", "c1", p.Hash, at(time.Second))
	wantErr(t, err, storage.ErrNotFound, "second use")
	_, err = s.ConsumePushedRequest(ctx, "ws", "c1", nil, at(time.Second))
	wantErr(t, err, storage.ErrNotFound, "empty hash")

	// Cascade: a deleted client's pushed requests go with it.
	q := newPushed("ws", "c2", "v2", time.Minute)
	must(t, s.CreatePushedRequest(ctx, q))
	must(t, s.DeleteClient(ctx, "ws", "c2"))
	must(t, s.CreateClient(ctx, newClient("ws", "c2")))
	_, err = s.ConsumePushedRequest(ctx, "ws", "c2", q.Hash, at(time.Second))
	wantErr(t, err, storage.ErrNotFound, "request of a deleted client")

	// DeleteExpired removes expired requests and keeps live ones.
	old := newPushed("ws", "c1", "old", time.Second)
	live := newPushed("ws", "c1", "live", time.Hour)
	must(t, s.CreatePushedRequest(ctx, old))
	must(t, s.CreatePushedRequest(ctx, live))
	if _, err := s.DeleteExpired(ctx, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = s.ConsumePushedRequest(ctx, "ws", "c1", old.Hash, at(0))
	wantErr(t, err, storage.ErrNotFound, "expired request after DeleteExpired")
	_, err = s.ConsumePushedRequest(ctx, "ws", "c1", live.Hash, at(time.Minute))
	must(t, err)
}

// testPushedRequestsConcurrent: of many concurrent uses of one
// request_uri exactly one succeeds (RFC 9126 §4 one-time use).
func testPushedRequestsConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateClient(ctx, newClient("ws", "c1")))
	p := newPushed("ws", "c1", "race", time.Hour)
	must(t, s.CreatePushedRequest(ctx, p))
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := s.ConsumePushedRequest(ctx, "ws", "c1", p.Hash, at(time.Second))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, storage.ErrNotFound):
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent consume: %v", err)
	}
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d concurrent consumes succeeded, want exactly 1", n)
	}
}

// testEncryptionKeys: one key per workspace and alg, the first creation
// wins (concurrently too), reads return it as stored, and it goes with
// its workspace.
func testEncryptionKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	keys, err := s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("new workspace has keys %v", keys)
	}
	mk := func(kid string) storage.EncryptionKey {
		return storage.EncryptionKey{WorkspaceID: "ws", Alg: "RSA-OAEP-256", KID: kid,
			PrivateCiphertext: []byte("enc-" + kid), PublicJWK: []byte(`{"kty":"RSA","kid":"` + kid + `"}`), CreatedAt: at(0)}
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.CreateEncryptionKey(ctx, mk(string(rune('a'+i))))
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, storage.ErrAlreadyExists):
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent creations won, want 1", wins.Load())
	}
	keys, err = s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	if len(keys) != 1 || string(keys[0].PrivateCiphertext) != "enc-"+keys[0].KID || keys[0].Alg != "RSA-OAEP-256" {
		t.Fatalf("keys %+v", keys)
	}
	sameTime(t, "created", keys[0].CreatedAt, at(0))
	wantErr(t, s.CreateEncryptionKey(ctx, storage.EncryptionKey{WorkspaceID: "missing", Alg: "RSA-OAEP-256", KID: "x",
		PrivateCiphertext: []byte("x"), PublicJWK: []byte("{}"), CreatedAt: at(0)}), storage.ErrNotFound, "unknown workspace")
	must(t, s.DeleteWorkspace(ctx, "ws"))
	createWorkspace(t, s, "ws")
	keys, err = s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	if len(keys) != 0 {
		t.Fatalf("a re-created workspace inherited keys %v", keys)
	}
}
