package oidc

// Concurrency and durability: SECURITY.md G2 and H3, reliability
// invariants 1-3. In process on SQLite and PostgreSQL, across two
// `latchkey serve` processes sharing PostgreSQL, and across a SIGKILL.

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// sharedBase is the public base URL of every subprocess, as behind one
// load balancer. An http base URL: the cookies carry no __Host- prefix and
// no Secure, so any cookie jar returns them (docs/security.md K6).
const sharedBase = "http://latchkey.localhost"

// TestConcurrentCodeRedemption is G2 / invariant 1: 20 parallel
// redemptions of one code, exactly one 200, the rest 400 invalid_grant,
// never a 500.
func TestConcurrentCodeRedemption(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) { raceCode(t, []*env{e}) })
}

// TestConcurrentRefresh is H3 / invariant 3: 50 parallel refreshes of one
// refresh token, exactly one winner (with a grace period, all successes
// carry one successor: no fork).
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, e *env) { raceRefresh(t, []*env{e}) })
}

func forEachBackend(t *testing.T, fn func(*testing.T, *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, envOptions{})) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, envOptions{dsn: postgresSchemaDSN(t)})) })
}

// raceCode redeems one code 20 times at once, spread over nodes.
func raceCode(t *testing.T, nodes []*env) {
	t.Helper()
	e := nodes[0]
	code := e.code(t, e.client)
	replies := parallel(20, func(i int) reply { return nodes[i%len(nodes)].exchange(t, e.client, code, nil) })
	if ok := countWinners(t, "G2 code", replies); ok != 1 {
		t.Fatalf("G2: %d of 20 parallel redemptions of one code succeeded, want exactly 1", ok)
	}
}

// raceRefresh uses one refresh token 50 times at once, spread over nodes.
func raceRefresh(t *testing.T, nodes []*env) {
	t.Helper()
	e := nodes[0]
	rt := e.offlineTokens(t, e.client).RefreshToken
	replies := parallel(50, func(i int) reply { return nodes[i%len(nodes)].refresh(t, e.client, rt, nil) })
	ok := countWinners(t, "H3 refresh", replies)
	successors := map[string]bool{}
	for _, r := range replies {
		if r.status == http.StatusOK {
			successors[r.str("refresh_token")] = true
		}
	}
	if ok == 0 || len(successors) != 1 {
		t.Fatalf("H3: %d successes with %d distinct successors among 50 parallel refreshes, want one successor", ok, len(successors))
	}
	if ok > 1 {
		t.Logf("H3: %d successes, all with the same successor (grace period)", ok)
	}
}

func parallel(n int, fn func(i int) reply) []reply {
	out := make([]reply, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			<-start
			out[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// countWinners counts 200s and requires every other reply to be 400
// invalid_grant (never 500, never a lost update).
func countWinners(t *testing.T, what string, replies []reply) int {
	t.Helper()
	ok := 0
	for _, r := range replies {
		switch {
		case r.status == http.StatusOK:
			ok++
		case r.status != http.StatusBadRequest || r.str("error") != "invalid_grant":
			t.Errorf("%s: %d %s, want 200 once and 400 invalid_grant otherwise", what, r.status, r.raw)
		}
	}
	return ok
}

// TestMultiProcessRedemption runs G2 and H3 across two `latchkey serve`
// processes on one PostgreSQL schema (invariants 1 and 3 across nodes).
func TestMultiProcessRedemption(t *testing.T) {
	t.Parallel()
	e2etest.SkipWithoutPostgres(t, "multi-process test")
	dsn := postgresSchemaDSN(t)
	cl := newCluster(t)
	p1 := cl.start(t, "process 1", "--storage", dsn, "--data-dir", t.TempDir())
	p2 := cl.start(t, "process 2", "--storage", dsn, "--data-dir", t.TempDir())
	p1.setup(t)
	p2.adoptSetup(p1)
	time.Sleep(300 * time.Millisecond) // let process 2's cache see the new clients
	nodes := []*env{p1, p2}
	t.Run("G2_20_parallel_redemptions_over_2_processes", func(t *testing.T) { raceCode(t, nodes) })
	t.Run("H3_50_parallel_refreshes_over_2_processes", func(t *testing.T) { raceRefresh(t, nodes) })
	t.Run("code_from_1_redeemed_on_2_then_refreshed_on_1", func(t *testing.T) {
		code := p1.code(t, p1.client, "scope", "openid offline_access", "prompt", "consent")
		tk := requireTokens(t, p2.exchange(t, p2.client, code, nil))
		requireTokens(t, p1.refresh(t, p1.client, tk.RefreshToken, nil))
		requireOAuthError(t, p2.refresh(t, p2.client, tk.RefreshToken, nil), http.StatusBadRequest, "invalid_grant")
	})
	cl.stopAll(t)
}

// TestSIGKILLAfterRefresh is reliability invariants 2 and 3: a process
// killed with SIGKILL right after answering a code exchange or a refresh
// must, restarted, accept the refresh token it returned and refuse the one
// it rotated away. SQLite (synchronous=FULL) always; PostgreSQL when set.
func TestSIGKILLAfterRefresh(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { sigkill(t, nil) })
	t.Run("postgres", func(t *testing.T) { sigkill(t, []string{"--storage", postgresSchemaDSN(t)}) })
}

func sigkill(t *testing.T, storage []string) {
	cl := newCluster(t)
	args := append([]string{"--data-dir", t.TempDir()}, storage...)
	p := cl.start(t, "before kill", args...)
	p.setup(t)
	code := p.code(t, p.client, "scope", "openid offline_access", "prompt", "consent")
	rt1 := requireTokens(t, p.exchange(t, p.client, code, nil)).RefreshToken
	cl.kill(t, "before kill") // right after the 200 of the code exchange
	p = cl.restart(t, "after first kill", p, args...)
	rt2 := requireTokens(t, p.refresh(t, p.client, rt1, nil)).RefreshToken
	cl.kill(t, "after first kill") // right after the 200 of the refresh
	p = cl.restart(t, "after second kill", p, args...)
	requireTokens(t, p.refresh(t, p.client, rt2, nil))
	requireOAuthError(t, p.refresh(t, p.client, rt1, nil), http.StatusBadRequest, "invalid_grant")
	cl.stopAll(t)
}

// cluster runs `latchkey serve` subprocesses sharing a master key and an
// admin token, each with the public base URL sharedBase.
type cluster struct {
	fleet   *e2etest.Fleet
	secrets *e2etest.SecretList
	procs   map[string]*e2etest.Process
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	secrets := newSecretList()
	cl := &cluster{fleet: e2etest.NewFleet(t, "oidc-admin-", secrets, "LATCHKEY_CACHE_POLL_INTERVAL=100ms"),
		secrets: secrets, procs: map[string]*e2etest.Process{}}
	t.Cleanup(func() { cl.stopAll(t) })
	return cl
}

// start runs `latchkey serve` and returns an env addressing it.
func (cl *cluster) start(t *testing.T, name string, args ...string) *env {
	t.Helper()
	p := cl.fleet.Start(t, name, append([]string{"--base-url", sharedBase}, args...)...)
	cl.procs[name] = p
	e := &env{base: sharedBase, issuer: sharedBase + "/w/" + testWS, admin: cl.fleet.Admin, clock: &e2etest.Clock{},
		logs: p.Logs, secrets: cl.secrets, dial: p.Addr}
	e.http = noRedirectClient(e.transport())
	return e
}

// restart starts a new process on the data of a killed one.
func (cl *cluster) restart(t *testing.T, name string, old *env, args ...string) *env {
	t.Helper()
	e := cl.start(t, name, args...)
	e.adoptSetup(old)
	return e
}

// kill sends SIGKILL: no shutdown, no flushing.
func (cl *cluster) kill(t *testing.T, name string) {
	t.Helper()
	p := cl.procs[name]
	p.Kill(t)
	cl.secrets.CheckLog(t, name, p.Logs.String())
}

// stopAll stops the processes still running with SIGTERM, requires a clean
// exit and checks every log for secrets (Q6).
func (cl *cluster) stopAll(t *testing.T) {
	t.Helper()
	for name, p := range cl.procs {
		p.StopAndCheckLog(t, cl.secrets)
		delete(cl.procs, name)
	}
}

// adoptSetup copies the clients and user registered through another env
// of the same database.
func (e *env) adoptSetup(from *env) {
	e.client, e.client2, e.clientPost, e.user = from.client, from.client2, from.clientPost, from.user
}
