package bench

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// TestSeedOrderedHash checks the refresh token hashes of `bench seed`:
// 32 bytes, strictly increasing with the family index (so the primary
// key is appended to), and spread over the whole key space rather than
// bunched at its start.
func TestSeedOrderedHash(t *testing.T) {
	const n = 5000
	prev := orderedHash(0, n)
	for i := 1; i < n; i++ {
		h := orderedHash(i, n)
		if len(h) != 32 {
			t.Fatalf("hash %d has %d bytes", i, len(h))
		}
		if bytes.Compare(prev, h) >= 0 {
			t.Fatalf("hash %d %x does not follow %x", i, h, prev)
		}
		prev = h
	}
	if top := binary.BigEndian.Uint64(prev); top < math.MaxUint64/n*(n-1) {
		t.Fatalf("the last of %d hashes starts with %x: not in the last slice of the key space", n, top)
	}
	if a, b := orderedHash(7, n), orderedHash(7, n); bytes.Equal(a, b) {
		t.Fatal("two draws of hash 7 are equal: not random")
	}
}
