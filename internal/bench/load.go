package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ErrEndRun, returned (or wrapped) by Load.Do, ends the run early for
// every worker (a scenario that ran out of single-use inputs, for
// instance). It is not a failure: the rate is measured over the time the
// run lasted.
var ErrEndRun = errors.New("bench: end of run")

// Load describes one load run: Concurrency workers call Do in a loop for
// Duration. Do must return an error for any response that is not a success,
// so that failures are counted rather than timed as successes.
type Load struct {
	Concurrency int
	Duration    time.Duration
	Do          func(ctx context.Context) error
	// meter, when set, samples server and generator CPU around the run.
	meter func(ctx context.Context) cpuSample
}

// Result is what a run measured.
type Result struct {
	Requests  int
	Failures  int
	FirstErr  error
	Elapsed   time.Duration
	PerSecond float64
	P50       time.Duration
	P90       time.Duration
	P99       time.Duration
	CPU       CPUPerRequest // zero when the load had no meter
	// Machine is how the whole machine's CPU went during the run.
	Machine MachineShare
}

// Run executes the load and returns its measurements. Latencies of failed
// requests are not counted in the percentiles.
func (l Load) Run(ctx context.Context) Result {
	var before cpuSample
	if l.meter != nil {
		before = l.meter(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	// A worker that meets ErrEndRun cancels the run for all of them.
	ctx, end := context.WithCancelCause(ctx)
	defer end(nil)
	do := l.Do
	l.Do = func(ctx context.Context) error {
		err := do(ctx)
		if errors.Is(err, ErrEndRun) {
			end(ErrEndRun)
		}
		return err
	}
	workers := max(l.Concurrency, 1)
	lat := make([][]time.Duration, workers)
	fails := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	ticks := readMachineTicks()
	start := time.Now()
	for i := range workers {
		wg.Go(func() { lat[i], fails[i], errs[i] = l.worker(ctx) })
	}
	wg.Wait()
	res := summarize(lat, fails, errs, time.Since(start))
	res.Machine = shareBetween(ticks, readMachineTicks())
	if l.meter != nil {
		// The run's context has ended; the last sample must not fail for it.
		res.CPU = perRequest(before, l.meter(context.WithoutCancel(ctx)), res.Requests)
	}
	return res
}

func (l Load) worker(ctx context.Context) (lat []time.Duration, fails int, firstErr error) {
	lat = make([]time.Duration, 0, 4096)
	for !runEnded(ctx) {
		t0 := time.Now()
		err := l.Do(ctx)
		if err != nil {
			if errors.Is(err, ErrEndRun) || runEnded(ctx) && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
				break // the run ended mid-request; not a failure
			}
			fails++
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, fails, firstErr
}

func summarize(lat [][]time.Duration, fails []int, errs []error, elapsed time.Duration) Result {
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Requests: len(all), Elapsed: elapsed}
	for i := range fails {
		r.Failures += fails[i]
		if r.FirstErr == nil {
			r.FirstErr = errs[i]
		}
	}
	if elapsed > 0 {
		r.PerSecond = float64(len(all)) / elapsed.Seconds()
	}
	r.P50, r.P90, r.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	return r
}

// percentile returns the p-th percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// postForm sends one form POST and fails on any status other than 200.
// The body is drained so the connection is reused.
func postForm(ctx context.Context, c *http.Client, req func(ctx context.Context) (*http.Request, error)) ([]byte, error) {
	r, err := req(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s answered %d: %.200s", r.URL.Path, resp.StatusCode, body)
	}
	return body, nil
}
