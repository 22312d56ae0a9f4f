package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// External is another product's token endpoint, measured with the same
// load generator as Latchkey so that the two compare like for like
// (scripts/bench-oidc-provider.sh runs node oidc-provider this way).
type External struct {
	Name         string // the product, for the table ("oidc-provider")
	TokenURL     string
	ClientID     string
	ClientSecret string
	// PID is the server's process: its CPU time is read from
	// /proc/PID/stat, as the product publishes no process_cpu_seconds_total.
	PID int
}

// RunExternal measures client_credentials (client_secret_basic) against
// ext for cfg.Duration, requiring a JWT access token in every answer, and
// reads the result against the raw signing rate of alg on this machine.
func RunExternal(ctx context.Context, cfg Config, ext External, alg string, signFor time.Duration, progress io.Writer) (Row, error) {
	f, err := ExternalFixture(cfg, ext)
	if err != nil {
		return Row{}, err
	}
	defer f.wire.close()
	rates, err := SignRates(ctx, alg, signFor)
	if err != nil {
		return Row{}, err
	}
	fmt.Fprintf(progress, "measuring client_credentials %s on %s...\n", alg, ext.Name)
	row := Row{Scenario: "client_credentials (" + ext.Name + ")", Alg: alg, Result: f.ClientCredentials().Run(ctx)}
	after, err := SignRates(ctx, alg, signFor)
	if err != nil {
		return Row{}, err
	}
	mean := map[string]float64{}
	for backend, b := range rates {
		mean[backend] = (b + after[backend]) / 2
	}
	row.RawByBackend, row.RawSign = mean, fastest(mean)
	return row, nil
}

// ExternalFixture is a Fixture for another server's token endpoint: no
// workspace, no admin API, CPU read from /proc.
func ExternalFixture(cfg Config, ext External) (*Fixture, error) {
	u, err := url.Parse(ext.TokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bench: token URL %q is not an http(s) URL", ext.TokenURL)
	}
	if u.Scheme == "https" {
		return nil, errors.New("bench: the load generator speaks plain HTTP/1.1 only; run the other server on http://127.0.0.1")
	}
	f := &Fixture{cfg: cfg, client: cfg.httpClient(), Issuer: u.Scheme + "://" + u.Host, tokenPath: u.EscapedPath(),
		ClientID: ext.ClientID, ClientSecret: ext.ClientSecret, checkToken: requireJWT}
	f.meter = func(context.Context) cpuSample { return cpuSample{Server: procCPU(ext.PID), Client: ownCPU()} }
	cfg.NetHTTP = false
	f.cfg = cfg
	if err := f.useWire(); err != nil {
		return nil, err
	}
	return f, nil
}

// requireJWT refuses a token response whose access token is not a JWS
// compact serialization, so an opaque token never passes for a signature.
func requireJWT(body []byte) error {
	const key = `"access_token":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return fmt.Errorf("bench: no access_token in %.200s", body)
	}
	tok, _, _ := bytes.Cut(body[i+len(key):], []byte(`"`))
	if bytes.Count(tok, []byte(".")) != 2 {
		return fmt.Errorf("bench: the access token is not a JWT: %.60s", tok)
	}
	return nil
}

// procCPU is the user plus system CPU time of process pid from
// /proc/pid/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux),
// or -1 when it cannot be read.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The command name (field 2) is parenthesised and may hold spaces.
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return -1
	}
	fields := strings.Fields(rest) // fields[0] is field 3 of the file
	if len(fields) < 13 {
		return -1
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
