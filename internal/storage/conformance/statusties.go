package conformance

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// concurrentStatusFamilies: ties recorded at once (a backend may
// group-commit them, as sqlstore does) are each written before their
// caller is answered, and a tie to an unknown workspace fails alone,
// without failing the ties it may share a commit with.
func concurrentStatusFamilies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	flowFixture(t, s, "ws")
	must(t, s.CreateTokenFamily(ctx, newFamily("ws", "f1"), hashOf("rt1")))
	const n = 30
	errs := make([]error, n+1)
	parallel(n+1, func(i int) {
		ws := "ws"
		if i == n {
			ws = "no-such-workspace"
		}
		errs[i] = s.RecordStatusFamily(ctx, ws, int64(i), "f1", at(time.Hour), at(0))
	})
	for i, err := range errs[:n] {
		if err != nil {
			t.Fatalf("tie %d: %v", i, err)
		}
	}
	if errs[n] == nil {
		t.Fatal("a tie in an unknown workspace was accepted")
	}
	must(t, s.RevokeTokenFamily(ctx, "ws", "f1", at(time.Minute)))
	got, err := s.RevokedStatuses(ctx, "ws", 0, 1024, at(0))
	must(t, err)
	if len(got) != n {
		t.Fatalf("after revoking the family %d indexes are revoked, want %d: %v", len(got), n, got)
	}
	for i, idx := range got {
		if idx != int64(i) {
			t.Fatalf("revoked indexes %v, want 0..%d", got, n-1)
		}
	}
}
