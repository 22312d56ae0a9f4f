package server

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// firstStart is a data directory as a server's first start leaves it
// (master key file; database with the default workspace and its signing
// keys), made once per test binary. Tests that are not about the first
// start begin from a copy (seededDataDir): generating the default
// workspace's two RSA keys on every start was most of this package's CPU
// time. TestFirstStartArtifacts and the other first-start tests still use
// an empty directory.
var firstStart struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	moreParallel()
	code := m.Run()
	if firstStart.dir != "" {
		_ = os.RemoveAll(firstStart.dir)
	}
	os.Exit(code)
}

// moreParallel lets four parallel tests run at once unless -test.parallel
// was given: the default (GOMAXPROCS, 2 on small machines) leaves the CPU
// idle while the parallel tests wait on timers and connections (net/http's
// wait before closing a refused connection, sign-in round trips).
func moreParallel() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(4, runtime.GOMAXPROCS(0))))
	}
}

// seededDataDir returns a fresh temporary data directory holding a copy
// of firstStart.
func seededDataDir(t testing.TB) string {
	t.Helper()
	firstStart.once.Do(func() { firstStart.dir, firstStart.err = makeFirstStart(t) })
	if firstStart.err != nil {
		t.Fatalf("first-start data directory: %v", firstStart.err)
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(firstStart.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(firstStart.dir, e.Name()), filepath.Join(dir, e.Name()))
		}
	}
	return dir
}

// makeFirstStart starts a server on a new directory and stops it. It is
// given an admin token, so that no bootstrap token is stored: a server
// started on a copy generates and prints its own, as on a first start.
func makeFirstStart(t testing.TB) (string, error) {
	dir, err := os.MkdirTemp("", "latchkey-server-test-")
	if err != nil {
		return "", err
	}
	cfg := testConfig(t, dir, map[string]string{"LATCHKEY_ADMIN_TOKEN": strings.Repeat("s", 40)})
	srv, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler), WithStderr(io.Discard))
	if err != nil {
		return dir, err
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	return dir, srv.Run(stopped) // shuts down at once and closes the database
}

// copyFile copies one file with its permissions (the master key file is
// 0600, and the server refuses one readable by others).
func copyFile(t testing.TB, from, to string) {
	t.Helper()
	fi, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}
