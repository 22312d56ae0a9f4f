package sqlstore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// BenchmarkUseJTI measures the single-use gate alone, as the JWT bearer
// grant and client assertions drive it: many requests in flight, each
// spending a fresh jti that must be durable before the token is issued.
func BenchmarkUseJTI(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := Open(b.Context(), "sqlite:"+filepath.Join(b.TempDir(), "latchkey.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchUseJTI(b, s)
	})
	// PostgreSQL group-commits with one multi-row statement per batch;
	// "unbatched" is one statement (and one commit) per call, for
	// comparison, and the pool sizes show what SetMaxOpenConns buys on a
	// small machine.
	for _, c := range []struct {
		name      string
		unbatched bool
		conns     int
	}{
		{"postgres", false, 0},
		{"postgres/unbatched", true, 0},
		{"postgres/unbatched/conns=8", true, 8},
		{"postgres/unbatched/conns=16", true, 16},
	} {
		b.Run(c.name, func(b *testing.B) {
			if os.Getenv(postgresEnv) == "" {
				b.Skipf("set %s to benchmark PostgreSQL", postgresEnv)
			}
			// The backends' CPU is PostgreSQL's cost of the spends,
			// outside the Latchkey process: the benchmark's connections
			// carry their own application_name so that it can be read.
			app := newSchemaName()
			s, err := Open(b.Context(), withApplicationName(postgresSchemaDSN(b), app), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if c.conns > 0 {
				s.db.SetMaxOpenConns(c.conns)
			}
			if c.unbatched {
				s.jtiBatch = nil
			}
			before := pgBackendsCPU(b, s, app)
			benchUseJTI(b, s)
			b.ReportMetric(float64(pgBackendsCPU(b, s, app)-before)/float64(b.N), "pg-cpu-ns/op")
			st := s.db.Stats()
			b.ReportMetric(float64(st.MaxIdleClosed+st.MaxIdleTimeClosed+st.MaxLifetimeClosed), "conns-closed")
			b.ReportMetric(float64(st.OpenConnections), "conns-open")
		})
	}
}

// withApplicationName adds application_name to a PostgreSQL URL DSN.
func withApplicationName(dsn, app string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "application_name=" + app
}

// pgBackendsCPU is the user+system CPU time of the PostgreSQL backends named
// app, read from /proc (the server runs on this machine); a backend that
// exited meanwhile is not counted (the conns-closed metric says whether
// any did). Not available on other systems: the metric then reads 0.
func pgBackendsCPU(b *testing.B, s *Store, app string) time.Duration {
	rows, err := s.db.QueryContext(b.Context(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		total += pgBackendProcCPU(pid)
	}
	return total
}

// pgBackendProcCPU reads utime+stime of one process (proc(5): fields
// 14 and 15, in clock ticks of 1/100 s on Linux).
func pgBackendProcCPU(pid int) time.Duration {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// benchUseJTIParallelism is goroutines per GOMAXPROCS, like the grants
// endpoint benchmark: 16 in flight on 2 cores.
const benchUseJTIParallelism = 8

func benchUseJTI(b *testing.B, s *Store) {
	ctx := context.Background()
	if err := s.CreateWorkspace(ctx, storage.Workspace{ID: "ws", Name: "ws", Enabled: true}); err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	var next atomic.Int64
	b.SetParallelism(benchUseJTIParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	defer func() { b.ReportMetric(float64(processCPUTime()-cpu)/float64(b.N), "cpu-ns/op") }()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			j := storage.JTI{WorkspaceID: "ws", Namespace: "bench", Issuer: "app", JTI: strconv.FormatInt(next.Add(1), 36), ExpiresAt: exp}
			if err := s.UseJTI(ctx, j); err != nil {
				b.Fatal(err)
			}
		}
	})
}
