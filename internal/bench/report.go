package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one measured scenario.
type Row struct {
	Scenario string
	Alg      string
	Result   Result
	RawSign  float64 // raw signatures/s of a key of Alg on this machine, fastest backend
	// RawByBackend is the raw rate of each crypto backend ("go",
	// "openssl"); RawSign is the fastest of them.
	RawByBackend map[string]float64
}

// Ratio is the scenario's rate as a fraction of the raw signing rate.
func (r Row) Ratio() float64 {
	if r.RawSign == 0 {
		return 0
	}
	return r.Result.PerSecond / r.RawSign
}

// RawCPU is the CPU time of one raw operation: the raw rate is measured
// with every core busy (parallelRate), so one operation costs GOMAXPROCS
// core-seconds divided by the rate.
func (r Row) RawCPU() time.Duration {
	if r.RawSign == 0 {
		return 0
	}
	return time.Duration(float64(runtime.GOMAXPROCS(0)) * float64(time.Second) / r.RawSign)
}

// CPURatio is the raw operation's CPU time as a fraction of the server's
// CPU time per request: the share of the server's work that was the
// unavoidable cryptography. Unlike Ratio it does not count the load
// generator's CPU, which on a shared machine competes with the server.
// 0 when the server's CPU is unknown.
func (r Row) CPURatio() float64 {
	if r.Result.CPU.Server == 0 {
		return 0
	}
	return float64(r.RawCPU()) / float64(r.Result.CPU.Server)
}

// Plan selects what Run measures.
type Plan struct {
	Algs       []string
	Introspect bool          // also measure introspection (with the first alg's token)
	SignFor    time.Duration // how long to measure the raw signing rate
}

// Run measures client_credentials for each algorithm (and introspection when
// asked) against the server in cfg, each with a fresh workspace.
func Run(ctx context.Context, cfg Config, plan Plan, progress io.Writer) ([]Row, error) {
	var rows []Row
	for i, alg := range plan.Algs {
		rates, err := SignRates(ctx, alg, plan.SignFor)
		if err != nil {
			return rows, err
		}
		raw := fastest(rates)
		f, err := NewFixture(ctx, cfg, fmt.Sprintf("bench-%d", i), alg)
		if err != nil {
			return rows, err
		}
		fmt.Fprintf(progress, "measuring client_credentials %s (raw signing %.0f/s)...\n", alg, raw)
		first := len(rows)
		rows = append(rows, Row{Scenario: "client_credentials", Alg: alg, Result: f.ClientCredentials().Run(ctx), RawSign: raw, RawByBackend: rates})
		if plan.Introspect && i == 0 {
			row, err := introspectRow(ctx, f, alg, rates, progress)
			if err != nil {
				return rows, err
			}
			rows = append(rows, row)
		}
		if err := f.Close(ctx); err != nil {
			return rows, err
		}
		if err := remeasure(ctx, rows[first:], alg, rates, plan.SignFor); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// remeasure takes the raw signing rate again after the scenarios and
// reports the mean of both measurements, so that a change in machine load
// during the run skews numerator and denominator alike.
func remeasure(ctx context.Context, rows []Row, alg string, before map[string]float64, d time.Duration) error {
	after, err := SignRates(ctx, alg, d)
	if err != nil {
		return err
	}
	mean := map[string]float64{}
	for backend, b := range before {
		mean[backend] = (b + after[backend]) / 2
	}
	for i := range rows {
		rows[i].RawByBackend = mean
		rows[i].RawSign = fastest(mean)
	}
	return nil
}

func introspectRow(ctx context.Context, f *Fixture, alg string, rates map[string]float64, progress io.Writer) (Row, error) {
	tok, err := f.Token(ctx)
	if err != nil {
		return Row{}, err
	}
	fmt.Fprintf(progress, "measuring introspection of a %s access token...\n", alg)
	return Row{Scenario: "introspection", Alg: alg, Result: f.Introspect(tok).Run(ctx), RawSign: fastest(rates), RawByBackend: rates}, nil
}

// WriteTable prints rows as an aligned table; markdown selects a Markdown
// table for docs/benchmarks.md.
func WriteTable(w io.Writer, cfg Config, rows []Row, markdown bool) error {
	head := []string{"scenario", "alg", "req/s", "p50", "p90", "p99", "failures", "raw sign/s (go / openssl)", "ratio",
		"raw CPU/op", "server CPU/req", "client CPU/req", "CPU ratio", "idle / steal"}
	if markdown {
		fmt.Fprintf(w, "Machine: %d cores (GOMAXPROCS %d), %s/%s; %d concurrent clients, %s per scenario.\n\n",
			runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, cfg.Concurrency, cfg.Duration)
		fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
		fmt.Fprintln(w, "|"+strings.Repeat("---|", len(head)))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !markdown {
		fmt.Fprintln(tw, strings.Join(head, "\t"))
	}
	for _, r := range rows {
		cells := []string{r.Scenario, r.Alg, fmt.Sprintf("%.0f", r.Result.PerSecond), ms(r.Result.P50), ms(r.Result.P90),
			ms(r.Result.P99), fmt.Sprint(r.Result.Failures), rawCell(r), fmt.Sprintf("%.2f", r.Ratio()),
			micros(r.RawCPU()), micros(r.Result.CPU.Server), micros(r.Result.CPU.Client), ratio(r.CPURatio()), machineCell(r.Result.Machine)}
		if markdown {
			fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
		} else {
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	for _, r := range rows {
		if r.Result.FirstErr != nil {
			fmt.Fprintf(w, "\n%s %s: first failure: %v\n", r.Scenario, r.Alg, r.Result.FirstErr)
		}
	}
	return tw.Flush()
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// rawCell shows the raw rate of each backend, Go's first; the ratio is
// taken against the fastest.
func rawCell(r Row) string {
	if len(r.RawByBackend) == 0 {
		return fmt.Sprintf("%.0f", r.RawSign)
	}
	ssl := "n/a"
	if v, ok := r.RawByBackend["openssl"]; ok {
		ssl = fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.0f / %s", r.RawByBackend["go"], ssl)
}

// machineCell shows the machine's idle and stolen CPU during the run.
func machineCell(m MachineShare) string {
	if !m.Known {
		return "-"
	}
	return fmt.Sprintf("%.0f%% / %.1f%%", 100*m.Idle, 100*m.Steal)
}
