package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServerCPUFromMetrics(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		want       time.Duration
	}{
		{"process collector", "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n" +
			"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.34\nprocess_open_fds 9\n", 200, 12340 * time.Millisecond},
		{"no process collector", "go_goroutines 7\n", 200, -1},
		{"not a number", "process_cpu_seconds_total many\n", 200, -1},
		{"negative", "process_cpu_seconds_total -1\n", 200, -1},
		{"metrics not served", "", 404, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/metrics" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			if got := serverCPU(t.Context(), srv.Client(), srv.URL+"/"); got != tc.want {
				t.Fatalf("serverCPU = %v, want %v", got, tc.want)
			}
		})
	}
	if got := serverCPU(t.Context(), http.DefaultClient, "http://127.0.0.1:1"); got != -1 {
		t.Fatalf("unreachable server: %v, want -1", got)
	}
}

func TestPerRequest(t *testing.T) {
	before := cpuSample{Server: time.Second, Client: 100 * time.Millisecond}
	after := cpuSample{Server: 3 * time.Second, Client: 300 * time.Millisecond}
	if got := perRequest(before, after, 1000); got != (CPUPerRequest{Server: 2 * time.Millisecond, Client: 200 * time.Microsecond}) {
		t.Fatalf("perRequest = %+v", got)
	}
	if got := perRequest(cpuSample{Server: -1}, after, 1000); got.Server != 0 {
		t.Fatalf("unknown server CPU must stay unknown, got %v", got.Server)
	}
	if got := perRequest(before, after, 0); got != (CPUPerRequest{}) {
		t.Fatalf("no requests: %+v", got)
	}
	r := Row{RawSign: 1000, Result: Result{CPU: CPUPerRequest{Server: 4 * time.Millisecond}}}
	if r.RawCPU() <= 0 || r.CPURatio() != float64(r.RawCPU())/float64(4*time.Millisecond) {
		t.Fatalf("RawCPU %v, CPURatio %v", r.RawCPU(), r.CPURatio())
	}
}
