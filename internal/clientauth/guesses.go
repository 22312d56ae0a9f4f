package clientauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
)

// A client that keeps presenting the same wrong secret (a replica left
// with a rotated-out secret, retrying) is not guessing: it learns nothing
// from each answer (RFC 6749 §2.3.1 asks for protection against brute
// force, which is new guesses). Pausing a client-and-address pair on its failures
// (paused) would let such a replica, behind the same address as the
// healthy ones, pause them all. So the pair's budget is charged only for
// a wrong secret the pair has not presented among its last few wrong
// ones: a guesser, whose every guess is new, spends it at once; a stale
// replica spends one token per distinct stale secret.

// recentWrongSecrets is how many distinct wrong secrets a pair is
// remembered with.
const recentWrongSecrets = 4

// maxGuessPairs bounds the pairs remembered; past it an arbitrary pair is
// forgotten (it is then charged once more for its stale secret).
const maxGuessPairs = 8192

// guessMemory remembers, per pair, keyed fingerprints of its latest wrong
// secrets. A fingerprint is the first 8 bytes of HMAC-SHA256 under a key
// drawn at start, so that nothing kept in memory helps recover a secret.
type guessMemory struct {
	once sync.Once
	key  [32]byte
	mu   sync.Mutex
	m    map[string][]uint64
}

// repeated records the wrong secret forms presented by pair and reports
// whether the pair had presented them already.
func (g *guessMemory) repeated(pair string, forms []string) bool {
	g.once.Do(func() { _, _ = rand.Read(g.key[:]) })
	fp := g.fingerprint(forms)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[string][]uint64{}
	}
	seen := g.m[pair]
	for _, s := range seen {
		if s == fp {
			return true
		}
	}
	if _, known := g.m[pair]; !known && len(g.m) >= maxGuessPairs {
		for k := range g.m { // map order: an arbitrary pair
			delete(g.m, k)
			break
		}
	}
	if len(seen) == recentWrongSecrets {
		seen = seen[1:]
	}
	g.m[pair] = append(seen[:len(seen):len(seen)], fp)
	return false
}

func (g *guessMemory) fingerprint(forms []string) uint64 {
	mac := hmac.New(sha256.New, g.key[:])
	for _, f := range forms {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		mac.Write(n[:])
		mac.Write([]byte(f))
	}
	return binary.BigEndian.Uint64(mac.Sum(nil))
}

// secretGuess marks a failure that may have been a guess at the client's
// secret: a wrong client_secret_basic or client_secret_post secret the
// pair had not presented lately, or a client_secret_jwt assertion whose
// HMAC did not verify. Only these charge the pair's budget (budget); the
// answer is unchanged. A private key or a certificate cannot be guessed,
// so their failures never pause a pair.
type secretGuess struct{ error }

func (g secretGuess) Unwrap() error { return g.error }

func isSecretGuess(err error) bool {
	var g secretGuess
	return errors.As(err, &g)
}
