package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[int]time.Duration{50: 50 * time.Millisecond, 90: 90 * time.Millisecond, 99: 99 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// TestLoadCountsFailuresApart: failed calls are counted, not timed, and
// the first failure is kept so the report can show it.
func TestLoadCountsFailuresApart(t *testing.T) {
	var n atomic.Int64
	boom := errors.New("boom")
	res := Load{Concurrency: 4, Duration: 100 * time.Millisecond, Do: func(context.Context) error {
		time.Sleep(time.Millisecond)
		if n.Add(1)%2 == 0 {
			return boom
		}
		return nil
	}}.Run(t.Context())
	if res.Requests == 0 || res.Failures == 0 || !errors.Is(res.FirstErr, boom) {
		t.Fatalf("requests %d failures %d first %v", res.Requests, res.Failures, res.FirstErr)
	}
	if total := int64(res.Requests + res.Failures); total > n.Load() || total < n.Load()-4 {
		t.Errorf("counted %d calls, made %d", total, n.Load())
	}
	if res.PerSecond <= 0 || res.P50 < time.Millisecond {
		t.Errorf("rate %v p50 %v", res.PerSecond, res.P50)
	}
}

func TestSignRate(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		rate, err := SignRate(t.Context(), alg, 50*time.Millisecond)
		if err != nil || rate <= 0 {
			t.Errorf("%s: rate %v err %v", alg, rate, err)
		}
	}
	if _, err := SignRate(t.Context(), "HS256", time.Millisecond); err == nil {
		t.Error("HS256 accepted for a signing key")
	}
}

// A call that returns ErrEndRun ends the run for every worker, early and
// without a failure: the rate is over the time the run really lasted.
func TestLoadEndsEarlyOnErrEndRun(t *testing.T) {
	var n atomic.Int64
	res := Load{Concurrency: 4, Duration: 10 * time.Second, Do: func(context.Context) error {
		time.Sleep(time.Millisecond)
		if n.Add(1) > 40 {
			return fmt.Errorf("inputs used up: %w", ErrEndRun)
		}
		return nil
	}}.Run(t.Context())
	if res.Failures != 0 || res.Requests < 37 || res.Requests > 40 {
		t.Fatalf("requests %d failures %d (first %v), want about 40 and none", res.Requests, res.Failures, res.FirstErr)
	}
	if res.Elapsed > 5*time.Second {
		t.Fatalf("run lasted %v: ErrEndRun did not end it", res.Elapsed)
	}
}
