package publish

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/statuslist"
	"github.com/latchkey/latchkey/internal/storage"
)

type fakeStore struct {
	mu      sync.Mutex
	revoked []int64
	reads   int
}

func (f *fakeStore) GetWorkspace(context.Context, string) (storage.Workspace, error) {
	return storage.Workspace{ID: "acme", Enabled: true}, nil
}

func (f *fakeStore) RevokedStatuses(_ context.Context, _ string, from, to int64, _ time.Time) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var out []int64
	for _, i := range f.revoked {
		if i >= from && i < to {
			out = append(out, i)
		}
	}
	return out, nil
}

func (f *fakeStore) ReservedStatusIndexes(context.Context, string) (int64, error) { return 0, nil }

type fakeKeys struct{ s signing.Signer }

func (k fakeKeys) Signer(context.Context, string) (signing.Signer, error) { return k.s, nil }

// bitOf decodes a Status List Token (without verifying it: the e2e tests
// verify against the JWKS) and returns the bit of position idx.
func bitOf(t *testing.T, tok string, idx int64) byte {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	raw, err := statuslist.Decode(c.StatusList.Lst)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := statuslist.Bit(raw, c.StatusList.Bits, idx)
	if !ok {
		t.Fatalf("index %d outside the list", idx)
	}
	return b
}

// TestRebuildBound: a built token is served for RebuildInterval, then
// rebuilt; Invalidate rebuilds at once; indexes of list 1 land in list
// 1 only.
func TestRebuildBound(t *testing.T) {
	s, err := signing.EphemeralSigner("ES256")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	st := &fakeStore{}
	p := &Publisher{Store: st, Keys: fakeKeys{s}, BaseURL: "https://lk.example", Now: func() time.Time { return now }}
	ctx := t.Context()
	tok, err := p.Token(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	if bitOf(t, tok, 7) != 0 {
		t.Fatal("bit set before revocation")
	}
	st.mu.Lock()
	st.revoked = []int64{7, statuslist.ListSize + 3}
	st.mu.Unlock()
	now = now.Add(DefaultRebuildInterval - time.Second)
	if tok, _ = p.Token(ctx, "acme", 0); bitOf(t, tok, 7) != 0 || st.reads != 1 {
		t.Fatalf("within the rebuild interval: bit %d after %d reads, want the cached list", bitOf(t, tok, 7), st.reads)
	}
	now = now.Add(time.Second)
	if tok, _ = p.Token(ctx, "acme", 0); bitOf(t, tok, 7) != 1 || bitOf(t, tok, 3) != 0 {
		t.Fatal("after the rebuild interval the revocation is not in list 0")
	}
	if tok, _ = p.Token(ctx, "acme", 1); bitOf(t, tok, 3) != 1 || bitOf(t, tok, 7) != 0 {
		t.Fatal("list 1 does not hold global index ListSize+3 at 3")
	}
	st.mu.Lock()
	st.revoked = append(st.revoked, 9)
	st.mu.Unlock()
	p.Invalidate("acme")
	if tok, _ = p.Token(ctx, "acme", 0); bitOf(t, tok, 9) != 1 {
		t.Fatal("Invalidate did not rebuild the list")
	}
}
