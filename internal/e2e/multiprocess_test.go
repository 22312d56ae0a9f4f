package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// sharedBaseURL is the public base URL both processes are configured
// with, as if they stood behind one load balancer: every issuer, iss and
// assertion audience is built from it, never from the process's address.
const sharedBaseURL = "http://latchkey.lb.test"

// pollFor is how long a cross-process effect may take to show: the
// default cache poll interval is 500ms.
const pollFor = 2 * time.Second

// startProcessPair starts two `latchkey serve` processes on one fresh
// PostgreSQL schema, sharing a master key, an admin token and the public
// base URL sharedBaseURL. Without PostgreSQL it skips the test, saying
// that what needs it.
func startProcessPair(t *testing.T, what string) (p1, p2 *instance, procs [2]*e2etest.Process) {
	t.Helper()
	e2etest.SkipWithoutPostgres(t, what)
	dsn := postgresSchemaDSN(t)
	leaks := &e2etest.SecretList{}
	fleet := e2etest.NewFleet(t, "e2e-admin-", leaks)
	var nodes [2]*instance
	for i := range nodes {
		procs[i] = fleet.Start(t, fmt.Sprintf("process %d", i+1),
			"--base-url", sharedBaseURL, "--storage", dsn, "--data-dir", t.TempDir())
		nodes[i] = &instance{base: "http://" + procs[i].Addr, public: sharedBaseURL, admin: fleet.Admin,
			leaks: leaks, client: &httpClient{leaks: leaks}}
	}
	return nodes[0], nodes[1], procs
}

// TestMultiProcess starts two `latchkey serve` processes on one
// PostgreSQL schema and proves that revocation, deactivation and client
// assertion replay protection hold across them (reliability invariants 4 and 6; SECURITY.md B7 "node 1 then node 2").
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	p1, p2, procs := startProcessPair(t, "multi-process test")
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
	t.Run("opaque token issued by 1 revoked at 2 inactive at 1", func(t *testing.T) {
		opaqueAcrossProcesses(t, p1, p2, ws)
	})
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
				p1.leaks.AddToken(r.str("access_token"))
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

	// Graceful shutdown: SIGTERM, exit status 0.
	for _, p := range procs {
		p.StopAndCheckLog(t, p1.leaks)
	}
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
