package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
)

// heapProfileEnv names the environment variable that turns on heap
// profiles on demand: with it set to a path prefix, each SIGUSR1 writes the
// heap profile to <prefix>.1, <prefix>.2, ... (docs/benchmarks.md, "Memory,
// round two"). Unset, as by default, the server installs no handler and the
// signal keeps its default action. Only whoever may signal the process and
// set its environment (the operator) can take one; nothing is served over
// HTTP.
const heapProfileEnv = "LATCHKEY_HEAP_PROFILE"

// heapProfiler writes numbered heap profiles under one path prefix.
type heapProfiler struct {
	prefix string
	taken  int
	logger *slog.Logger
}

// write records the heap as of the last completed garbage collection (what
// runtime/pprof reports) without forcing one, so that a profile taken in a
// spike shows the spike's live set and every allocation up to it; diff two
// with `go tool pprof -sample_index=alloc_space -base <prefix>.1 <prefix>.2`.
func (h *heapProfiler) write() {
	h.taken++
	path := fmt.Sprintf("%s.%d", h.prefix, h.taken)
	if err := writeHeapProfile(path); err != nil {
		h.logger.Error("heap profile not written", "path", path, "err", err)
		return
	}
	h.logger.Warn("heap profile written", "path", path)
}

func writeHeapProfile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startHeapProfiles installs the SIGUSR1 handler when heapProfileEnv is set;
// it stops with ctx.
func startHeapProfiles(ctx context.Context, logger *slog.Logger) {
	prefix := os.Getenv(heapProfileEnv)
	if prefix == "" {
		return
	}
	h := &heapProfiler{prefix: prefix, logger: logger}
	if !notifyProfileSignal(ctx, h.write) {
		logger.Warn(heapProfileEnv + " is set but this platform has no SIGUSR1; no heap profiles will be written")
	}
}
