package e2e

import (
	"io"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/bench"
)

// TestBenchScenarios runs the scenarios of `latchkey bench` briefly against a real server, with the lean
// HTTP/1.1 load generator and with net/http's client: each must complete
// requests and none may fail, so the figures in docs/benchmarks.md come
// from requests the server actually answered with 200.
func TestBenchScenarios(t *testing.T) {
	lk := startInstance(t, "")
	for _, netHTTP := range []bool{false, true} {
		name := map[bool]string{false: "wire", true: "net-http"}[netHTTP]
		t.Run(name, func(t *testing.T) {
			cfg := bench.Config{Server: lk.base, AdminToken: lk.admin, Concurrency: 2, Duration: 300 * time.Millisecond, NetHTTP: netHTTP}
			rows, err := bench.Run(t.Context(), cfg, bench.Plan{Algs: []string{"ES256"}, Introspect: true, SignFor: 50 * time.Millisecond}, io.Discard)
			if err != nil {
				t.Fatalf("bench.Run: %v", err)
			}
			more, err := bench.RunJWTBearer(t.Context(), cfg, []string{"ES256"}, 50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatalf("bench.RunJWTBearer: %v", err)
			}
			rows = append(rows, more...)
			// The grant scenarios (docs/benchmarks.md): rotations without and with an
			// ID token, code redemption alone, the signed-in flow.
			more, err = bench.RunRefresh(t.Context(), cfg, "ES256", 50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatalf("bench.RunRefresh: %v", err)
			}
			rows = append(rows, more...)
			codeCfg := cfg
			codeCfg.MaxCodes = 200
			code, err := bench.RunCode(t.Context(), codeCfg, "ES256", 50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatalf("bench.RunCode: %v", err)
			}
			flow, err := bench.RunFlow(t.Context(), cfg, "ES256", 50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatalf("bench.RunFlow: %v", err)
			}
			rows = append(rows, code, flow)
			// The policy scenario proves the policy and the claims are in
			// force before it measures (bench.attachPolicyAndClaims).
			more, err = bench.RunPolicy(t.Context(), cfg, []string{"ES256"}, 50*time.Millisecond, io.Discard)
			if err != nil {
				t.Fatalf("bench.RunPolicy: %v", err)
			}
			rows = append(rows, more...)
			if len(rows) != 9 {
				t.Fatalf("%d rows, want client_credentials, introspection, jwt_bearer, refresh, refresh_id_token, code, flow, "+
					"client_credentials and client_credentials+policy", len(rows))
			}
			for _, r := range rows {
				if r.Result.Failures != 0 || r.Result.Requests == 0 {
					t.Errorf("%s %s: %d requests, %d failures (first: %v)", r.Scenario, r.Alg, r.Result.Requests, r.Result.Failures, r.Result.FirstErr)
				}
				if r.RawSign <= 0 {
					t.Errorf("%s %s: no raw signing rate", r.Scenario, r.Alg)
				}
				// The server's CPU comes from its /metrics, the
				// generator's from this process.
				if r.Result.CPU.Server <= 0 || r.Result.CPU.Client <= 0 || r.CPURatio() <= 0 {
					t.Errorf("%s %s: CPU per request not measured: %+v", r.Scenario, r.Alg, r.Result.CPU)
				}
			}
		})
	}
}
