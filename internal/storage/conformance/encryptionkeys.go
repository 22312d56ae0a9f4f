package conformance

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func encKey(ws, kid string, created time.Duration) storage.EncryptionKey {
	return storage.EncryptionKey{WorkspaceID: ws, Alg: "RSA-OAEP-256", KID: kid,
		PrivateCiphertext: []byte("enc-" + kid), PublicJWK: []byte(`{"kty":"RSA","kid":"` + kid + `"}`), CreatedAt: at(created)}
}

// kidsStates renders a key list as "kid:state ..." for comparisons.
func kidsStates(keys []storage.EncryptionKey) string {
	out := ""
	for _, k := range keys {
		out += k.KID + ":" + k.State + " "
	}
	return out
}

// testEncryptionKeyRotation: a rotation makes the new key the active one
// listed first and keeps the old one as previous (RetiredAt = the new
// key's creation), the first creation after a rotation changes nothing,
// a previous key can be deleted and the active one cannot, a used kid
// or an unknown workspace is refused, rotations and deletions are change
// events, and another workspace's keys are untouched.
func testEncryptionKeyRotation(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	createWorkspace(t, s, "other")
	must(t, s.CreateEncryptionKey(ctx, encKey("ws", "k1", 0)))
	must(t, s.CreateEncryptionKey(ctx, encKey("other", "o1", 0)))
	start, err := s.LastChangeID(ctx)
	must(t, err)

	must(t, s.RotateEncryptionKey(ctx, encKey("ws", "k2", time.Hour)))
	must(t, s.RotateEncryptionKey(ctx, encKey("ws", "k3", 2*time.Hour)))
	keys, err := s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	if got := kidsStates(keys); got != "k3:active k2:previous k1:previous " {
		t.Fatalf("after two rotations: %s", got)
	}
	if string(keys[1].PrivateCiphertext) != "enc-k2" || string(keys[1].PublicJWK) != `{"kty":"RSA","kid":"k2"}` {
		t.Fatalf("previous key changed: %+v", keys[1])
	}
	sameTime(t, "k3 created", keys[0].CreatedAt, at(2*time.Hour))
	if !keys[0].RetiredAt.IsZero() {
		t.Fatalf("active key has RetiredAt %v", keys[0].RetiredAt)
	}
	sameTime(t, "k2 retired", keys[1].RetiredAt, at(2*time.Hour))
	sameTime(t, "k1 retired", keys[2].RetiredAt, at(time.Hour))

	wantErr(t, s.CreateEncryptionKey(ctx, encKey("ws", "k4", 3*time.Hour)), storage.ErrAlreadyExists, "create beside an active key")
	wantErr(t, s.RotateEncryptionKey(ctx, encKey("ws", "k2", 3*time.Hour)), storage.ErrAlreadyExists, "rotate to a used kid")
	wantErr(t, s.RotateEncryptionKey(ctx, encKey("missing", "m1", 0)), storage.ErrNotFound, "rotate in an unknown workspace")
	wantErr(t, s.DeleteEncryptionKey(ctx, "ws", "k3"), storage.ErrNotFound, "delete the active key")
	wantErr(t, s.DeleteEncryptionKey(ctx, "ws", "nope"), storage.ErrNotFound, "delete an unknown key")
	wantErr(t, s.DeleteEncryptionKey(ctx, "other", "k1"), storage.ErrNotFound, "delete another workspace's key")
	must(t, s.DeleteEncryptionKey(ctx, "ws", "k1"))
	keys, err = s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	if got := kidsStates(keys); got != "k3:active k2:previous " {
		t.Fatalf("after deleting k1: %s", got)
	}
	if keys, err = s.ListEncryptionKeys(ctx, "other"); err != nil || kidsStates(keys) != "o1:active " {
		t.Fatalf("other workspace: %s %v", kidsStates(keys), err)
	}

	changes, err := s.Changes(ctx, start, 100)
	must(t, err)
	n := 0
	for _, c := range changes {
		if c.WorkspaceID == "ws" && c.Kind == storage.ChangeKeys {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d keys changes for two rotations and one deletion, want 3 (%+v)", n, changes)
	}
	must(t, s.DeleteWorkspace(ctx, "ws"))
	createWorkspace(t, s, "ws")
	if keys, err = s.ListEncryptionKeys(ctx, "ws"); err != nil || len(keys) != 0 {
		t.Fatalf("a re-created workspace inherited keys %s %v", kidsStates(keys), err)
	}
}

// testEncryptionKeyRotationConcurrent: rotations running at once all
// succeed one after the other and leave exactly one active key.
func testEncryptionKeyRotationConcurrent(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	createWorkspace(t, s, "ws")
	must(t, s.CreateEncryptionKey(ctx, encKey("ws", "k0", 0)))
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.RotateEncryptionKey(ctx, encKey("ws", "r"+string(rune('a'+i)), time.Duration(i+1)*time.Minute))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent rotation: %v", err)
		}
	}
	keys, err := s.ListEncryptionKeys(ctx, "ws")
	must(t, err)
	active := 0
	for _, k := range keys {
		if k.State == storage.EncryptionKeyActive {
			active++
		}
	}
	if len(keys) != n+1 || active != 1 || keys[0].State != storage.EncryptionKeyActive {
		t.Fatalf("after %d concurrent rotations: %s", n, kidsStates(keys))
	}
}
