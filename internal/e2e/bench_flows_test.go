package e2e

import (
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/bench"
	"github.com/latchkey/latchkey/internal/config"
)

// TestBenchFlowsRunClean is docs/security.md R9 end to end: `latchkey
// bench --flows` (a sign-in per flow, 8 browsers at once, one address)
// against a fresh server completes every flow, with no 429 from the
// sign-in limits. The server keeps the default sign-in limits (the e2e
// configuration raises them for the other scenarios). It runs for six
// seconds of load, so it lives here rather than in the server package.
func TestBenchFlowsRunClean(t *testing.T) {
	lk := startInstanceEnv(t, "", map[string]string{"LATCHKEY_LIMITS_FAILED_AUTH_BURST": strconv.Itoa(config.DefaultFailedAuthBurst)})
	bcfg := bench.Config{Server: lk.base, AdminToken: lk.admin, Concurrency: 8, Duration: 3 * time.Second, NetHTTP: true}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	rows, err := bench.RunFlows(ctx, bcfg, "ES256", io.Discard)
	if err != nil {
		t.Fatalf("bench --flows: %v", err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want authcode_flow and refresh_token", len(rows))
	}
	for _, row := range rows {
		if row.Result.Failures != 0 || row.Result.Requests == 0 {
			t.Errorf("%s: %d requests, %d failures (first: %v)", row.Scenario, row.Result.Requests, row.Result.Failures, row.Result.FirstErr)
		}
	}
}
