package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// cpuSample is the CPU time used so far by the server (from its /metrics)
// and by this process (the load generator). Server is -1 when the server
// does not publish process_cpu_seconds_total (another product, or
// /metrics unreachable).
type cpuSample struct {
	Server time.Duration
	Client time.Duration
}

// sampleCPU reads both clocks. On a machine shared by server and load
// generator the rate alone hides where the cores went; the split tells the
// server's cost per request apart from the generator's.
func sampleCPU(ctx context.Context, c *http.Client, server string) cpuSample {
	return cpuSample{Server: serverCPU(ctx, c, server), Client: ownCPU()}
}

// serverCPU is process_cpu_seconds_total of the Prometheus process
// collector at server/metrics, or -1.
func serverCPU(ctx context.Context, c *http.Client, server string) time.Duration {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+"/metrics", nil)
	if err != nil {
		return -1
	}
	resp, err := c.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_cpu_seconds_total "); ok {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || s < 0 {
				return -1
			}
			return time.Duration(s * float64(time.Second))
		}
	}
	return -1
}

// CPUPerRequest is what one successful request cost: server CPU (0 when
// unknown) and load generator CPU, from the samples around the run.
type CPUPerRequest struct {
	Server, Client time.Duration
}

func perRequest(before, after cpuSample, requests int) CPUPerRequest {
	if requests == 0 {
		return CPUPerRequest{}
	}
	var p CPUPerRequest
	if before.Server >= 0 && after.Server >= before.Server {
		p.Server = (after.Server - before.Server) / time.Duration(requests)
	}
	p.Client = (after.Client - before.Client) / time.Duration(requests)
	return p
}

// micros formats a per-request CPU time, or "-" when unknown.
func micros(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fµs", float64(d.Nanoseconds())/1000)
}
