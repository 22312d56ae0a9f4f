package sqlstore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
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
			s, err := Open(b.Context(), postgresSchemaDSN(b), nil)
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
			benchUseJTI(b, s)
			st := s.db.Stats()
			b.ReportMetric(float64(st.MaxIdleClosed+st.MaxIdleTimeClosed+st.MaxLifetimeClosed), "conns-closed")
			b.ReportMetric(float64(st.OpenConnections), "conns-open")
		})
	}
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
