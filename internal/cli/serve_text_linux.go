//go:build linux

package cli

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseStartupPages drops this process's mappings of its own executable's
// read-only pages once start-up is over, so that the pages only start-up
// touched (package initialisation, migrations, bootstrap) stop counting in
// its resident memory; the pages the server goes on using fault straight
// back in from the page cache, no disk read. With the executable cached
// in 4 KiB pages (installed with cp, install or a package manager) idle
// RSS falls by about 13 MB (docs/benchmarks.md "Memory, round three").
// Mappings holding a copied-on-write page (relocated read-only data) are
// left alone: dropping them would lose the copy.
func releaseStartupPages(logger *slog.Logger) {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return
	}
	defer f.Close()
	maps, err := cleanExecMappings(f, exe)
	if err != nil {
		logger.Debug("executable pages kept", "error", err)
		return
	}
	var released uintptr
	for _, m := range maps {
		// MADV_DONTNEED on a private file mapping whose pages all
		// still equal the file only unmaps them (madvise(2)).
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED); errno == 0 {
			released += m.end - m.start
		}
	}
	logger.Debug("start-up pages of the executable released", "mapped_bytes", released)
}

// execMapping is an address range [start, end).
type execMapping struct{ start, end uintptr }

// cleanExecMappings reads smaps(5) text and returns the read-only
// private mappings of the file exe that hold no anonymous (copied) page.
func cleanExecMappings(r io.Reader, exe string) ([]execMapping, error) {
	var out []execMapping
	var cur *execMapping
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if m, perms, path, ok := parseMapsHeader(line); ok {
			cur = nil
			if path == exe && (perms == "r-xp" || perms == "r--p") {
				out = append(out, m)
				cur = &out[len(out)-1]
			}
			continue
		}
		if cur != nil {
			if kb, ok := strings.CutPrefix(line, "Anonymous:"); ok && strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")) != "0" {
				out = out[:len(out)-1]
				cur = nil
			}
		}
	}
	return out, sc.Err()
}

// parseMapsHeader parses a mapping's first line in maps(5) form:
// "start-end perms offset dev inode [path]"; the path may hold spaces.
func parseMapsHeader(line string) (m execMapping, perms, path string, ok bool) {
	fields := strings.SplitN(line, " ", 6)
	if len(fields) < 5 || len(fields[1]) != 4 {
		return m, "", "", false
	}
	lo, hi, found := strings.Cut(fields[0], "-")
	if !found {
		return m, "", "", false
	}
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return m, "", "", false
	}
	if len(fields) == 6 {
		path = strings.TrimLeft(fields[5], " ")
	}
	return execMapping{uintptr(start), uintptr(end)}, fields[1], path, true
}
