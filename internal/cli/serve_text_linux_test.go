//go:build linux

package cli

import (
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// smapsFixture is smaps(5) text in the kernel's layout: the executable's
// text and read-only data, its relocated read-only page (one anonymous
// copy), its writable data, a library and the heap.
const smapsFixture = `00400000-00402000 r--p 00000000 fe:00 99 /opt/latch key/latchkey
Rss:                   8 kB
Anonymous:             0 kB
00402000-01430000 r-xp 00002000 fe:00 99 /opt/latch key/latchkey
Rss:               16568 kB
Anonymous:             0 kB
FilePmdMapped:     14336 kB
01430000-025a2000 r--p 01030000 fe:00 99 /opt/latch key/latchkey
Anonymous:             0 kB
025a2000-025a3000 r--p 021a1000 fe:00 99 /opt/latch key/latchkey
Anonymous:             4 kB
025a3000-0268f000 rw-p 021a2000 fe:00 99 /opt/latch key/latchkey
Anonymous:           248 kB
7f0000000000-7f0000010000 r-xp 00000000 fe:00 12 /usr/lib/libcrypto.so.3
Anonymous:             0 kB
180e9000-1810a000 rw-p 00000000 00:00 0                                  [heap]
Anonymous:             8 kB
`

// TestCleanExecMappings: only the executable's read-only mappings
// without a copied page are released; a path with a space is one path.
func TestCleanExecMappings(t *testing.T) {
	got, err := cleanExecMappings(strings.NewReader(smapsFixture), "/opt/latch key/latchkey")
	if err != nil {
		t.Fatal(err)
	}
	want := []execMapping{{0x400000, 0x402000}, {0x402000, 0x1430000}, {0x1430000, 0x25a2000}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
	if got, _ := cleanExecMappings(strings.NewReader(smapsFixture), "/opt/latch"); len(got) != 0 {
		t.Fatalf("a path prefix matched: %x", got)
	}
}

// TestReleaseStartupPagesKeepsRunning releases the test binary's own
// start-up pages, then runs code and reads data from them again: they
// fault back in unchanged.
func TestReleaseStartupPagesKeepsRunning(t *testing.T) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Skip("no /proc/self/exe:", err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip("no smaps:", err)
	}
	maps, err := cleanExecMappings(f, exe)
	f.Close()
	if err != nil || len(maps) == 0 {
		t.Fatalf("no clean mapping of %s found (err %v)", exe, err)
	}
	before, rssBefore := smapsFixture, rssFileKiB(t)
	releaseStartupPages(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if rssAfter := rssFileKiB(t); rssAfter >= rssBefore {
		t.Errorf("RssFile %d kB after the release, %d kB before: nothing released", rssAfter, rssBefore)
	}
	if smapsFixture != before {
		t.Fatal("read-only data changed")
	}
	got, err := cleanExecMappings(strings.NewReader(smapsFixture), "/opt/latch key/latchkey")
	if err != nil || len(got) != 3 {
		t.Fatalf("code run after the release gave %x, %v", got, err)
	}
}

// rssFileKiB is this process's file-backed resident memory.
func rssFileKiB(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}
