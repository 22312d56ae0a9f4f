package service

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106 §4; OWASP's minimum of 19 MiB, 2 passes,
// 1 lane). Stored with each hash, so raising them later keeps old hashes
// verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
	// maxArgonMemoryKiB bounds what a stored hash may ask for.
	maxArgonMemoryKiB = 1 << 20
)

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt)
	key := argon2id([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches the PHC hash. A
// malformed hash never matches.
func VerifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m == 0 || m > maxArgonMemoryKiB || t == 0 || t > 10 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2id([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// argonSlots bounds the argon2id derivations running at once to the
// processors Go runs on. Each holds its memory parameter (19 MiB) live for
// tens of milliseconds and uses one processor throughout, so more at once
// buy no throughput, only memory: a burst of sign-ins (every attempt,
// for an unknown user too, derives a key, K8) pinned 19 MiB each, and the
// garbage collector, sizing the next heap from that peak, kept the
// server's heap at 66-182 MB for the rest of a load (docs/benchmarks.md
// "Memory, round two"). Waiting here costs a sign-in nothing it would not
// have waited for a processor anyway.
var argonSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func argon2id(password, salt []byte, time, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	derivationsInFlight.Add(1)
	defer func() {
		if derivationsInFlight.Add(-1) == 0 {
			collectHashMemory()
		}
	}()
	argonSlots <- struct{}{}
	defer func() { <-argonSlots }()
	return argon2.IDKey(password, salt, time, memoryKiB, threads, keyLen)
}

// Once a derivation returns, its 19 MiB are garbage, but the collector
// sizes each next heap at three times (GOGC=200, internal/cli) what was
// live at its last cycle: a cycle that ran during a derivation lets the
// heap grow by up to 114 MiB of ordinary request garbage before the
// next one, and the pages stay resident long after (docs/benchmarks.md
// "Memory, round three"). So when the last derivation in flight (waiting
// or running) returns, one collection runs in the background and sizes
// the heap again from what is really live; the freed blocks stay with
// the runtime for the next derivation (no page faults, unlike a memory
// limit). The argon2id blocks hold no pointers, so such a cycle marks
// only the few megabytes of the ordinary heap. A collection after every
// derivation cost a sign-in flood a quarter more CPU (measured there);
// at the end of a burst it costs nothing measurable. Requests arriving
// while a cycle runs are folded into one more cycle after it.
var (
	derivationsInFlight atomic.Int32 // waiting for a slot or running
	hashCollectWanted   atomic.Bool
	hashCollectRunning  atomic.Bool
)

func collectHashMemory() {
	hashCollectWanted.Store(true)
	if hashCollectRunning.CompareAndSwap(false, true) {
		go runHashCollections()
	}
}

// runHashCollections collects until no request is left; it holds no
// goroutine between bursts of sign-ins.
func runHashCollections() {
	for {
		for hashCollectWanted.Swap(false) {
			runtime.GC()
		}
		hashCollectRunning.Store(false)
		// A request that came after the last Swap but before the Store
		// found the collector running and left; take it over unless a
		// new collector already did.
		if !hashCollectWanted.Load() || !hashCollectRunning.CompareAndSwap(false, true) {
			return
		}
	}
}

// DummyPasswordHash is verified against when a username does not exist,
// so that unknown and known users take about the same time (SECURITY.md
// K8). It is computed on first use, not at start-up: argon2id costs 19 MiB
// and tens of milliseconds, which every CLI invocation would otherwise pay.
var DummyPasswordHash = sync.OnceValue(func() string {
	return HashPassword("latchkey-dummy-password-for-timing")
})
