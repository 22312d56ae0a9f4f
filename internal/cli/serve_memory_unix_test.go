//go:build unix

package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHeapProfileOnSIGUSR1 sends the test process SIGUSR1 twice with
// LATCHKEY_HEAP_PROFILE set and expects two numbered gzip-compressed
// profiles (the pprof format). Without the handler the signal's default
// action would end the test binary.
func TestHeapProfileOnSIGUSR1(t *testing.T) {
	prefix := filepath.Join(t.TempDir(), "heap")
	t.Setenv(heapProfileEnv, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startHeapProfiles(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for n := 1; n <= 2; n++ {
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("%s.%d", prefix, n)
		if !waitForProfile(path) {
			t.Fatalf("no heap profile at %s after SIGUSR1", path)
		}
	}
}

// waitForProfile reports whether a gzip stream (as runtime/pprof writes)
// starts at path within five seconds.
func waitForProfile(path string) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		raw, err := os.ReadFile(path)
		if err == nil && bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) && len(raw) > 20 {
			return true
		}
	}
	return false
}
