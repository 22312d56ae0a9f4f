package login

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// TestPolicy is K7: free attempts, then doubling pauses up to the cap,
// and a fresh window once the last pause is over.
func TestPolicy(t *testing.T) {
	p := Policy{Free: 3, Window: 10 * time.Minute, MaxDelay: 4 * time.Second}
	now := time.Unix(1_800_000_000, 0)
	var c storage.LoginCounter
	take := func(at time.Time) error {
		n, err := p.take(at)(c)
		if err == nil {
			c = n
		}
		return err
	}
	for i := range 3 {
		if err := take(now); err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
	}
	var le *limitedError
	if err := take(now); !errors.As(err, &le) || le.retry != time.Second {
		t.Fatalf("4th attempt at once: %v", err)
	}
	if err := take(now.Add(time.Second)); err != nil {
		t.Fatalf("after the pause: %v", err)
	}
	if err := take(now.Add(2 * time.Second)); !errors.As(err, &le) || le.retry != time.Second {
		t.Fatalf("pause should have doubled to 2s: %v", err)
	}
	if d := p.delay(40); d != 4*time.Second {
		t.Fatalf("delay not capped: %v", d)
	}
	if err := take(now.Add(11 * time.Minute)); err != nil || c.Attempts != 1 {
		t.Fatalf("new window: %v attempts %d", err, c.Attempts)
	}
}
