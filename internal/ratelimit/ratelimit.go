package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// DefaultMaxKeys bounds the number of buckets a Limiter keeps.
const DefaultMaxKeys = 10000

// noRefillWait is the retry hint when the rate is zero (buckets never refill).
const noRefillWait = time.Hour

// Limiter is a set of token buckets: each key may spend burst tokens at once,
// refilled at rate tokens per second. Safe for concurrent use.
type Limiter struct {
	rate    float64
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element // values are *bucket
	lru     list.List                // front = most recently used
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// New returns a limiter with rate tokens per second and the given burst,
// keeping at most DefaultMaxKeys buckets. now is the clock (nil = time.Now).
func New(rate float64, burst int, now func() time.Time) *Limiter {
	return NewWithMaxKeys(rate, burst, DefaultMaxKeys, now)
}

// NewWithMaxKeys is New with an explicit bucket bound (minimum 1).
func NewWithMaxKeys(rate float64, burst, maxKeys int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		rate:    math.Max(rate, 0),
		burst:   float64(max(burst, 1)),
		maxKeys: max(maxKeys, 1),
		now:     now,
		buckets: map[string]*list.Element{},
	}
}

// Allow spends one token of key's bucket. When the bucket is empty it
// returns false and how long until a token is available.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key, now)
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// Wait reports how long until key's bucket holds a token, without
// spending one: 0 when a token is available now. It lets a caller refuse a
// request whose failure budget is spent before doing any work, while a
// request that then succeeds spends nothing (docs/security.md R8). A key
// without a bucket is full and gets no bucket.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.buckets[key]
	if !ok {
		return 0
	}
	b := el.Value.(*bucket)
	l.refill(b, l.now())
	if b.tokens >= 1 {
		return 0
	}
	return l.wait(b)
}

// Refund gives back one token spent by Allow (capped at the burst), for
// callers that spend before an attempt so that parallel attempts cannot
// pass the budget, and refund the attempts that succeed.
func (l *Limiter) Refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.buckets[key]; ok {
		b := el.Value.(*bucket)
		b.tokens = math.Min(l.burst, b.tokens+1)
	}
}

// Reset forgets key's bucket: its next request starts with a full burst.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.buckets[key]; ok {
		l.lru.Remove(el)
		delete(l.buckets, key)
	}
}

// AdminTokenKey is the bucket of failed admin-token presentations from one
// remote address. The admin API and the console's first-admin page share
// it: both guess at the same credential (docs/security.md R8).
func AdminTokenKey(remoteIP string) string { return "admin-token\x00" + remoteIP }

// Len reports how many buckets are held (for tests and metrics).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// bucket finds or creates key's bucket and marks it most recently used.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
	if el, ok := l.buckets[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*bucket)
	}
	if len(l.buckets) >= l.maxKeys {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.buckets, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, tokens: l.burst, last: now}
	l.buckets[key] = l.lru.PushFront(b)
	return b
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.last = now
}

func (l *Limiter) wait(b *bucket) time.Duration {
	if l.rate == 0 {
		return noRefillWait
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
