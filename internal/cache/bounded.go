package cache

import "sync/atomic"

// DefaultMaxEntries bounds each kind of cached entry (clients, users by each
// lookup field, certificates, policies, ...): enough for the clients that
// are busy at once in a large workspace, while a workspace of 100,000
// clients drawn at random cannot grow the process without limit
// (docs/benchmarks.md, "Scale").
const DefaultMaxEntries = 10_000

// bounded is a map with a size bound and CLOCK (second-chance) eviction.
// A hit only sets the entry's reference bit, atomically, so hits run
// under the Store's read lock and allocate nothing; the eviction scan
// runs under the write lock on insert, clearing reference bits until it
// finds an entry nobody read since the hand last passed it. Recently
// read entries therefore survive a stream of one-off reads, as with an
// LRU list, without the list's pointer updates on every hit.
//
// The caller guards every method with the Store's mutex: get with the
// read lock at least, the others with the write lock.
type bounded[K comparable, V any] struct {
	max  int
	m    map[K]*slot[K, V]
	ring []*slot[K, V] // the clock; slot.pos is its index here
	hand int
}

type slot[K comparable, V any] struct {
	key K
	val V
	pos int
	ref atomic.Bool
}

func newBounded[K comparable, V any](max int) bounded[K, V] {
	if max <= 0 {
		max = DefaultMaxEntries
	}
	return bounded[K, V]{max: max}
}

// get returns the value of k and marks it recently used.
func (b *bounded[K, V]) get(k K) (V, bool) {
	s, ok := b.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	// Loading first keeps a hot entry's cache line shared between cores.
	if !s.ref.Load() {
		s.ref.Store(true)
	}
	return s.val, true
}

// put stores v under k, evicting one entry when the map is full.
func (b *bounded[K, V]) put(k K, v V) {
	if s, ok := b.m[k]; ok {
		s.val = v
		return
	}
	if b.m == nil {
		b.m = map[K]*slot[K, V]{}
	}
	s := &slot[K, V]{key: k, val: v}
	if len(b.ring) < b.max {
		s.pos = len(b.ring)
		b.ring = append(b.ring, s)
		b.m[k] = s
		return
	}
	// Full: advance the hand past recently used entries (clearing their
	// bit), replace the first one that was not. At most one full turn.
	for {
		if b.hand >= len(b.ring) {
			b.hand = 0
		}
		old := b.ring[b.hand]
		if old.ref.Load() {
			old.ref.Store(false)
			b.hand++
			continue
		}
		delete(b.m, old.key)
		s.pos = b.hand
		b.ring[b.hand] = s
		b.m[k] = s
		b.hand++
		return
	}
}

// remove forgets k.
func (b *bounded[K, V]) remove(k K) {
	s, ok := b.m[k]
	if !ok {
		return
	}
	delete(b.m, k)
	last := len(b.ring) - 1
	if s.pos != last {
		moved := b.ring[last]
		moved.pos = s.pos
		b.ring[s.pos] = moved
	}
	b.ring[last] = nil
	b.ring = b.ring[:last]
}

// removeIf forgets every key for which drop is true.
func (b *bounded[K, V]) removeIf(drop func(K) bool) {
	for k := range b.m {
		if drop(k) {
			b.remove(k)
		}
	}
}

// len is the number of entries.
func (b *bounded[K, V]) len() int { return len(b.m) }

// reset forgets every entry and keeps the bound.
func (b *bounded[K, V]) reset() {
	*b = bounded[K, V]{max: b.max}
}
