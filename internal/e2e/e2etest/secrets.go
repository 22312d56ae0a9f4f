package e2etest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// RandomToken is n random bytes, base64url without padding.
func RandomToken(n int) string { return base64.RawURLEncoding.EncodeToString(RandomBytes(n)) }

// Clock is the server's clock: the wall clock plus an offset that tests
// advance, so that "later" (code expiry, max_age, key retirement) needs
// no sleep. The zero value is the wall clock.
type Clock struct{ offset atomic.Int64 }

// Now is the wall clock plus every Advance so far.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// SyncBuffer collects log output written from the server's goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SecretList remembers every secret value a test handled (admin and
// client secrets, passwords, codes, tokens) to prove none of them reached
// a server's log (SECURITY.md Q6).
type SecretList struct {
	// Rows names the SECURITY.md rows a leak breaks in failure messages;
	// "" means "Q6".
	Rows string

	mu     sync.Mutex
	values []string
}

// Add remembers v.
func (s *SecretList) Add(v string) {
	if len(v) < 16 { // nothing this short is a secret we issue
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = append(s.values, v)
}

// AddToken remembers a JWT and, separately, its signature: a log line
// holding only the signature would leak the token just the same.
func (s *SecretList) AddToken(raw string) {
	s.Add(raw)
	if i := strings.LastIndexByte(raw, '.'); i >= 0 {
		s.Add(raw[i+1:])
	}
}

// CheckLog fails t when log contains a remembered secret. It also makes
// sure the log was captured at all, so the check cannot pass by looking
// at nothing.
func (s *SecretList) CheckLog(t testing.TB, who, log string) {
	t.Helper()
	rows := s.Rows
	if rows == "" {
		rows = "Q6"
	}
	if !strings.Contains(log, "latchkey listening") {
		t.Errorf("%s log was not captured (no \"latchkey listening\" line); the %s check is void", who, rows)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		if strings.Contains(log, v) {
			t.Errorf("%s: %s log contains a secret value (%s...)", rows, who, v[:8])
		}
	}
}
