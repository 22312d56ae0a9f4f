package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// sharedBaseURL is the public base URL both processes are configured
// with, as if they stood behind one load balancer: every issuer, iss and
// assertion audience is built from it, never from the process's address.
const sharedBaseURL = "http://latchkey.lb.test"

// pollFor is how long a cross-process effect may take to show: the
// default cache poll interval is 500ms.
const pollFor = 2 * time.Second

// buildBinary builds cmd/latchkey from the module root into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	gomod, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(dir, "latchkey")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/latchkey")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/latchkey: %v\n%s", err, out)
	}
	return bin
}

// process is one `latchkey serve` child process.
type process struct {
	name string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
	once sync.Once
}

// startProcess runs `latchkey serve` on a free loopback port and returns
// an instance addressing it once it listens.
func startProcess(t *testing.T, name, bin, dsn string, env []string, leaks *secretList) (*instance, *process) {
	t.Helper()
	p := &process{name: name, logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--base-url", sharedBaseURL,
		"--storage", dsn, "--data-dir", t.TempDir(), "--log-level", "debug")
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })
	addr := p.waitListening(t)
	return &instance{base: "http://" + addr, public: sharedBaseURL, leaks: leaks, client: &httpClient{leaks: leaks}}, p
}

// waitListening returns the address from the "latchkey listening" log line.
func (p *process) waitListening(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "latchkey listening" && line.Addr != "" {
				return line.Addr
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("%s exited before listening: %v\n%s", p.name, err, p.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not listen within 30s:\n%s", p.name, p.logs.String())
	return ""
}

// stop sends SIGTERM and requires a clean exit (status 0) within
// stopTimeout. Safe to call twice.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.once.Do(func() { p.terminate(t) })
}

func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM %s: %v", p.name, err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("%s exit after SIGTERM: %v, want status 0\n%s", p.name, err, p.logs.String())
		}
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within %s of SIGTERM", p.name, stopTimeout)
	}
}

// childEnv is the environment of both processes: the parent's without any
// LATCHKEY_* setting, plus the shared master key and admin token.
func childEnv(masterKey, adminToken string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"LATCHKEY_MASTER_KEYS="+masterKey,
		"LATCHKEY_ADMIN_TOKEN="+adminToken,
		// Every request comes from 127.0.0.1 and many fail on purpose.
		"LATCHKEY_LIMITS_FAILED_AUTH_BURST=100000",
	)
}

// TestMultiProcess starts two `latchkey serve` processes on one
// PostgreSQL schema and proves that revocation, deactivation and client
// assertion replay protection hold across them (issue 2 point 11;
// reliability invariants 4 and 6; SECURITY.md B7 "node 1 then node 2").
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv(postgresEnv) == "" {
		t.Skipf("multi-process test skipped: it needs PostgreSQL; set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", postgresEnv)
	}
	dsn := postgresSchemaDSN(t)
	bin := buildBinary(t, t.TempDir())
	leaks := &secretList{}
	admin := "e2e-admin-" + randomToken(32)
	leaks.add(admin)
	masterKey := base64.StdEncoding.EncodeToString(randomBytes(32))
	leaks.add(masterKey)
	env := childEnv(masterKey, admin)
	p1, proc1 := startProcess(t, "process 1", bin, dsn, env, leaks)
	p2, proc2 := startProcess(t, "process 2", bin, dsn, env, leaks)
	p1.admin, p2.admin = admin, admin
	const ws = "default"

	p1.createService(t, ws, "api", "https://api.example", "api:read")
	gw := p1.gatewayClient(t, ws)
	c := p1.secretClient(t, ws, "client_secret_basic", "api:read")
	cred := basic{c.ClientID, c.ClientSecret}

	t.Run("client created on 1 gets a token from 2", func(t *testing.T) {
		tok := eventually(t, func() (string, bool) {
			tok, err := p2.fetchToken(t, ccConfig(p2.wsURL(ws)+"/oauth2/token", c, oauth2.AuthStyleInHeader, nil, nil))
			if err != nil {
				return "", false
			}
			return tok.AccessToken, true
		})
		// Signed by process 2, verified with process 1's JWKS.
		verifyAt(t, p1, ws, tok)
	})
	for _, dir := range []struct {
		name       string
		issue, rev *instance
		check      *instance
	}{
		{"revoked on 1 inactive on 2", p1, p1, p2},
		{"revoked on 2 inactive on 1", p2, p2, p1},
	} {
		t.Run(dir.name, func(t *testing.T) {
			tok := dir.issue.secretToken(t, ws, c)
			wantActive(t, dir.check.introspect(t, ws, tok, cred), true) // warms the checker's caches
			dir.rev.revoke(t, ws, tok, cred)
			// Invariant 6: no cache outlives a revocation on another node.
			wantActive(t, dir.check.introspect(t, ws, tok, cred), false)
		})
	}
	k := newECKey(t, "ec-mp")
	pk := p1.createClient(t, ws, map[string]any{
		"name": "pk", "token_endpoint_auth_method": "private_key_jwt", "scopes": []string{"api:read"},
		"jwks": publicJWKS(t, k),
	})
	issuer := p1.issuer(ws)
	t.Run("B7 assertion accepted by 1 is a replay at 2", func(t *testing.T) {
		assertion := signAssertion(t, k.signingKey(), pk.ClientID, issuer)
		p1.mustToken(t, assertionConfig(p1.wsURL(ws)+"/oauth2/token", pk.ClientID, assertion))
		_, err := p2.fetchToken(t, assertionConfig(p2.wsURL(ws)+"/oauth2/token", pk.ClientID, assertion))
		wantOAuthError(t, err, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("B7 20 concurrent identical assertions over both", func(t *testing.T) {
		assertion := signAssertion(t, k.signingKey(), pk.ClientID, issuer)
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {pk.ClientID},
			"client_assertion_type": {clientAssertionType}, "client_assertion": {assertion}}
		statuses := make([]reply, 20)
		var wg sync.WaitGroup
		for i := range statuses {
			target := []*instance{p1, p2}[i%2]
			wg.Go(func() { statuses[i] = target.client.postForm(t, target.wsURL(ws)+"/oauth2/token", form, basic{}) })
		}
		wg.Wait()
		ok := 0
		for _, r := range statuses {
			switch {
			case r.status == http.StatusOK:
				ok++
				p1.leaks.addToken(r.str("access_token"))
			case r.status != http.StatusUnauthorized || r.str("error") != "invalid_client":
				t.Errorf("concurrent replay: %d %s, want 200 once and 401 invalid_client otherwise", r.status, r.raw)
			}
		}
		if ok != 1 {
			t.Fatalf("B7: %d of 20 concurrent identical assertions succeeded, want exactly 1", ok)
		}
	})
	t.Run("O3 disabled on 1 refused on 2", func(t *testing.T) {
		d := p1.secretClient(t, ws, "client_secret_basic", "api:read")
		tok := eventually(t, func() (string, bool) {
			tok, err := p2.fetchToken(t, ccConfig(p2.wsURL(ws)+"/oauth2/token", d, oauth2.AuthStyleInHeader, nil, nil))
			if err != nil {
				return "", false
			}
			return tok.AccessToken, true
		})
		wantActive(t, p2.introspect(t, ws, tok, gw), true)
		p1.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/clients/"+d.ClientID+"/disable", nil, http.StatusOK, nil)
		eventually(t, func() (string, bool) {
			r := p2.client.postForm(t, p2.wsURL(ws)+"/oauth2/introspect", url.Values{"token": {tok}}, gw)
			return "", r.status == http.StatusOK && r.json["active"] == false
		})
		eventually(t, func() (string, bool) {
			_, err := p2.fetchToken(t, ccConfig(p2.wsURL(ws)+"/oauth2/token", d, oauth2.AuthStyleInHeader, nil, nil))
			return "", err != nil
		})
	})
	t.Run("P2 rotation on 1 reaches 2", func(t *testing.T) {
		old := p2.secretToken(t, ws, c)
		var keys struct {
			Items []keyInfo `json:"items"`
		}
		p1.adminOK(t, http.MethodPost, "/workspaces/"+ws+"/keys/rotate", map[string]any{}, http.StatusOK, &keys)
		active := keyInState(keys.Items, "active")
		fresh := eventually(t, func() (string, bool) {
			tok := p2.secretToken(t, ws, c)
			return tok, jwtHeader(t, tok)["kid"] == active
		})
		for _, lk := range []*instance{p1, p2} {
			verifyAt(t, lk, ws, old)
			verifyAt(t, lk, ws, fresh)
		}
	})

	// Graceful shutdown: SIGTERM, exit status 0 (issue 2 point 13).
	proc1.stop(t)
	proc2.stop(t)
	leaks.checkLog(t, proc1.name, proc1.logs.String())
	leaks.checkLog(t, proc2.name, proc2.logs.String())
}

// verifyAt verifies tok with go-oidc against lk's JWKS; the issuer is the
// shared public one.
func verifyAt(t *testing.T, lk *instance, ws, tok string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	verifyWithKeySet(t, ctx, lk.issuer(ws), oidc.NewRemoteKeySet(ctx, lk.wsURL(ws)+"/oauth2/jwks"), tok, "RS256")
}

// eventually polls fn until it reports true, for at most pollFor, and
// returns its value.
func eventually(t *testing.T, fn func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(pollFor)
	for {
		v, ok := fn()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached within %s", pollFor)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
