package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/bench"
)

func newBenchCommand() *cobra.Command {
	var (
		cfg        bench.Config
		algs       string
		introspect bool
		markdown   bool
		signFor    time.Duration
		jwtBearer  bool
		jwtAlgs    string
		flows      bool
		flowsAlg   string
		ext        bench.External
		extAlg     string
		scale      bench.Scale
		scenarios  string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a running server: token and introspection requests/s and latency",
		Long: `bench drives a running Latchkey over HTTP with N concurrent clients for D
seconds per scenario and prints requests/s and p50/p90/p99 latency. For each
algorithm it creates a throwaway workspace (bench-N) with one service and one
client through the admin API, and measures the raw signing rate of a key of
the same algorithm on this machine, so results read as a ratio to it.

It also prints what one request cost in CPU: the server's (from the
process_cpu_seconds_total of its /metrics) and this load generator's. "CPU
ratio" is the raw operation's CPU time over the server's CPU per request: on a
machine that the generator shares with the server, it is the server's
efficiency with the generator's share left out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ext.TokenURL != "" {
				return runExternalBench(cmd, cfg, ext, extAlg, signFor, markdown)
			}
			if !cmd.Flags().Changed("admin-token") {
				cfg.AdminToken = os.Getenv("LATCHKEY_ADMIN_TOKEN") // not a flag default: keeps it out of --help
			}
			if cfg.AdminToken == "" {
				return usageError{fmt.Errorf("an admin token is required (--admin-token or LATCHKEY_ADMIN_TOKEN)")}
			}
			r := benchRun{cfg: cfg, scenarios: splitList(scenarios), algs: splitList(algs), introspect: introspect,
				signFor: signFor, jwtAlgs: splitList(jwtAlgs), flowsAlg: flowsAlg, scale: scale}
			if err := r.resolveScenarios(jwtBearer, flows); err != nil {
				return err
			}
			rows, err := r.run(cmd)
			if err != nil {
				return err
			}
			return bench.WriteTable(cmd.OutOrStdout(), cfg, rows, markdown)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Server, "server", envOr("LATCHKEY_SERVER", "http://127.0.0.1:8080"), "server base URL (env LATCHKEY_SERVER)")
	f.StringVar(&cfg.AdminToken, "admin-token", "", "admin API token (env LATCHKEY_ADMIN_TOKEN)")
	f.IntVarP(&cfg.Concurrency, "concurrency", "c", 16, "concurrent clients")
	f.DurationVarP(&cfg.Duration, "duration", "d", 10*time.Second, "duration of each scenario")
	f.StringVar(&algs, "algs", "RS256,ES256,PS256,EdDSA", "signing algorithms to measure, comma-separated")
	f.BoolVar(&introspect, "introspect", true, "also measure introspection")
	f.BoolVar(&markdown, "markdown", false, "print a Markdown table (for docs/benchmarks.md)")
	f.DurationVar(&signFor, "sign-for", 3*time.Second, "how long to measure the raw signing rate")
	f.StringVar(&scenarios, "scenario", bench.ScenarioClientCredentials, "scenarios to measure, comma-separated: "+
		strings.Join(bench.Scenarios, ", ")+" (client_credentials includes introspection unless --introspect=false; "+
		"policy is client_credentials in --algs without and then with a machine token policy and three mapped claims; "+
		"refresh, code and flow are the rotation, the code redemption alone and the signed-in browser's flow, in --flows-alg)")
	f.BoolVar(&jwtBearer, "jwt-bearer", false, "also measure the JWT bearer grant (RS256 assertions; use --algs '' for it alone); alias of --scenario jwt_bearer")
	f.StringVar(&jwtAlgs, "jwt-bearer-algs", "RS256,ES256,EdDSA", "access token algorithms of the JWT bearer scenario")
	f.BoolVar(&flows, "flows", false, "also measure authorization code flows in fresh browsers (sign-in, remembered consent, code, tokens) and refresh token rotation; alias of --scenario signin_flow")
	f.StringVar(&flowsAlg, "flows-alg", "RS256", "signing algorithm of the flow scenarios")
	f.BoolVar(&cfg.NetHTTP, "net-http", false, "send the timed requests with Go's net/http client instead of the lean HTTP/1.1 client (costs the shared CPU more)")
	f.StringVar(&scale.Workspace, "scale-workspace", "", "also measure client_credentials over the clients 'latchkey bench seed' put in this workspace, one at random per request")
	f.IntVar(&scale.Clients, "scale-clients", 100_000, "how many clients the seed created")
	f.StringVar(&scale.Key, "scale-key", "", "the seed's key (env "+envSeedKey+")")
	f.StringVar(&scale.Alg, "scale-alg", "RS256", "the seeded workspace's signing algorithm (for the raw rate)")
	f.StringVar(&ext.TokenURL, "external-token-url", "", "measure another product's token endpoint instead (client_credentials, client_secret_basic, JWT access tokens); no admin token needed")
	f.StringVar(&ext.Name, "external-name", "external", "the other product's name in the table")
	f.StringVar(&ext.ClientID, "external-client-id", "", "client ID at the external token endpoint")
	f.StringVar(&ext.ClientSecret, "external-client-secret", "", "client secret at the external token endpoint (env LATCHKEY_BENCH_EXTERNAL_SECRET)")
	f.IntVar(&ext.PID, "external-pid", 0, "process ID of the external server, whose CPU time is read from /proc")
	f.StringVar(&extAlg, "external-alg", "RS256", "signing algorithm the external server uses for access tokens (for the raw rate)")
	cmd.AddCommand(newBenchSeedCommand())
	return cmd
}

// runExternalBench measures another product's client_credentials with the
// same load generator and prints its row.
func runExternalBench(cmd *cobra.Command, cfg bench.Config, ext bench.External, alg string, signFor time.Duration, markdown bool) error {
	if ext.ClientSecret == "" {
		ext.ClientSecret = os.Getenv("LATCHKEY_BENCH_EXTERNAL_SECRET")
	}
	if ext.ClientID == "" || ext.ClientSecret == "" {
		return usageError{fmt.Errorf("--external-token-url needs --external-client-id and a secret (--external-client-secret or LATCHKEY_BENCH_EXTERNAL_SECRET)")}
	}
	row, err := bench.RunExternal(cmd.Context(), cfg, ext, alg, signFor, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	return bench.WriteTable(cmd.OutOrStdout(), cfg, []bench.Row{row}, markdown)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// splitList splits a comma-separated flag, dropping empty items, so that
// an empty --algs measures no client_credentials scenario.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
