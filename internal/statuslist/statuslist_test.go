package statuslist

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
)

// TestEncodeExample: the draft's example list (§4.1): 16 entries, bits
// 0, 3, 4, 5, 7, 8, 9, 13, 15 set, is the byte array B9 A3.
func TestEncodeExample(t *testing.T) {
	lst, err := Encode(16, []int64{0, 3, 4, 5, 7, 8, 9, 13, 15, 99, -1})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Decode(lst)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 2 || raw[0] != 0xB9 || raw[1] != 0xA3 {
		t.Fatalf("byte array %x, want b9a3", raw)
	}
	for i, want := range []byte{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1} {
		if got, ok := Bit(raw, 1, int64(i)); !ok || got != want {
			t.Errorf("status[%d] = %d, %v; want %d", i, got, ok, want)
		}
	}
	if _, ok := Bit(raw, 1, 16); ok {
		t.Error("index beyond the list reported")
	}
	if got, ok := Bit([]byte{0xC9}, 2, 3); !ok || got != 3 {
		t.Errorf("2-bit entry 3 of c9 = %d", got)
	}
	if _, ok := Bit(raw, 3, 0); ok {
		t.Error("bits 3 accepted")
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, lst := range []string{"!!", "eJw", "AAAA"} {
		if _, err := Decode(lst); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) = %v, want ErrMalformed", lst, err)
		}
	}
	big, err := Encode(8*(MaxDecoded+8), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(big); !errors.Is(err, ErrMalformed) {
		t.Errorf("a list larger than MaxDecoded: %v", err)
	}
}

func TestClaimRoundTrip(t *testing.T) {
	const iss = "https://lk.example/w/acme"
	for _, idx := range []int64{0, 1, ListSize - 1, ListSize, 3*ListSize + 17} {
		b, _ := json.Marshal(Claim(iss, idx))
		var decoded any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		got, ok := GlobalIndex(iss, decoded)
		if !ok || got != idx {
			t.Errorf("index %d: claim %s gives %d, %v", idx, b, got, ok)
		}
		if _, ok := GlobalIndex("https://lk.example/w/other", decoded); ok {
			t.Errorf("index %d: accepted for another issuer", idx)
		}
	}
	for _, bad := range []string{`{}`, `{"status_list":{"idx":-1,"uri":"https://lk.example/w/acme/statuslists/0"}}`,
		`{"status_list":{"idx":1.5,"uri":"https://lk.example/w/acme/statuslists/0"}}`,
		`{"status_list":{"idx":1048576,"uri":"https://lk.example/w/acme/statuslists/0"}}`,
		`{"status_list":{"idx":1,"uri":"https://lk.example/w/acme/statuslists/01"}}`,
		`{"status_list":{"idx":"1","uri":"https://lk.example/w/acme/statuslists/0"}}`} {
		var decoded any
		_ = json.Unmarshal([]byte(bad), &decoded)
		if _, ok := GlobalIndex("https://lk.example/w/acme", decoded); ok {
			t.Errorf("claim %s accepted", bad)
		}
	}
}

type fakeReserver struct {
	mu    sync.Mutex
	next  int64
	calls int
}

func (f *fakeReserver) ReserveStatusIndexes(_ context.Context, _ string, n int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	first := f.next
	f.next += n
	return first, nil
}

// TestAllocatorBlocks: indexes are unique across goroutines and cost one
// reservation per block.
func TestAllocatorBlocks(t *testing.T) {
	r := &fakeReserver{}
	a := &Allocator{Store: r, Block: 10}
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				idx, err := a.Next(t.Context(), "ws")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[idx] {
					t.Errorf("index %d handed out twice", idx)
				}
				seen[idx] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 100 || r.calls != 10 {
		t.Fatalf("%d indexes from %d reservations, want 100 from 10", len(seen), r.calls)
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0", "1", "01", "-1", "9999999", "", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ParseList(s)
		if ok && (n < 0 || n >= MaxLists || URI("", n) != Path+s) {
			t.Fatalf("ParseList(%q) = %d: not canonical", s, n)
		}
	})
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(64, []int64{1, 63})
	for _, s := range []string{good, "", "eJwDAAAAAAE", "AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lst string) {
		raw, err := Decode(lst)
		if err == nil && len(raw) > MaxDecoded {
			t.Fatalf("decoded %d bytes", len(raw))
		}
	})
}

func FuzzReference(f *testing.F) {
	f.Add(`{"status_list":{"idx":5,"uri":"https://lk.example/w/a/statuslists/0"}}`)
	f.Add(`{"status_list":{"idx":1e300,"uri":"x"}}`)
	f.Fuzz(func(t *testing.T, claim string) {
		var v any
		if json.Unmarshal([]byte(claim), &v) != nil {
			return
		}
		if _, idx, ok := Reference(v); ok && idx < 0 {
			t.Fatalf("negative index from %s", claim)
		}
		if idx, ok := GlobalIndex("https://lk.example/w/a", v); ok && idx < 0 {
			t.Fatalf("negative global index from %s", claim)
		}
	})
}
