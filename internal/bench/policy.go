package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ScenarioPolicy measures client_credentials for one client twice in the
// same workspace: plain, then with a machine token policy of two rules and
// three mapped claims into the access token, configured through the admin
// API as an operator would (docs/benchmarks.md "Policies and mapped
// claims"; the same policy and claims as the in-process
// BenchmarkClientCredentialsPolicyAndClaims). The two rows' server CPU per
// request differ by what the policy and the claims cost over HTTP.
const ScenarioPolicy = "policy"

// benchPolicy admits any scope but bench:write from any address, through
// the two built-in checks the machine token policy template list uses
// most (a scope test and ip_in), and refuses everything else.
var benchPolicy = map[string]any{
	"id": "bench-machine", "name": "Bench machine token policy", "kind": "machine",
	"rules": []map[string]string{
		{"condition": `!("bench:write" in request.scopes) && ip_in(request.remote_ip, ["192.0.2.0/24", "0.0.0.0/0", "::/0"])`, "outcome": "allow"},
		{"condition": "true", "outcome": "deny", "message": "not for this client"},
	},
}

// benchClaims are three mapped claims of the kinds operators write: a
// concatenation (the CMiC tenant||username pattern), a metadata read and
// a list comprehension.
var benchClaims = map[string]any{"claims": []map[string]any{
	{"name": "cmicuser", "expression": `workspace.id + "||" + client.id`, "targets": []string{"access_token"}},
	{"name": "tenant", "expression": `client.metadata["tenant"]`, "targets": []string{"access_token"}},
	{"name": "perms", "expression": `request.scopes.map(s, s.upperAscii())`, "targets": []string{"access_token"}},
}}

// RunPolicy measures, for each algorithm, client_credentials without and
// with the policy and claims; rows "client_credentials" and
// "client_credentials+policy", both against the raw signing rate of the
// same run.
func RunPolicy(ctx context.Context, cfg Config, algs []string, signFor time.Duration, progress io.Writer) ([]Row, error) {
	var rows []Row
	for i, alg := range algs {
		rates, err := SignRates(ctx, alg, signFor)
		if err != nil {
			return rows, err
		}
		f, err := NewFixture(ctx, cfg, fmt.Sprintf("bench-policy-%d", i), alg)
		if err != nil {
			return rows, err
		}
		if err := f.addWriteScope(ctx); err != nil {
			return rows, err
		}
		first := len(rows)
		fmt.Fprintf(progress, "measuring client_credentials %s without a policy...\n", alg)
		rows = append(rows, Row{Scenario: "client_credentials", Alg: alg, Result: f.readScopeTokens().Run(ctx), RawSign: fastest(rates), RawByBackend: rates})
		if err := f.attachPolicyAndClaims(ctx); err != nil {
			return rows, err
		}
		fmt.Fprintf(progress, "measuring client_credentials %s with a machine token policy and three mapped claims...\n", alg)
		rows = append(rows, Row{Scenario: "client_credentials+policy", Alg: alg, Result: f.readScopeTokens().Run(ctx), RawSign: fastest(rates), RawByBackend: rates})
		if err := f.Close(ctx); err != nil {
			return rows, err
		}
		if err := remeasure(ctx, rows[first:], alg, rates, signFor); err != nil {
			return rows, err
		}
	}
	return rows, nil
}

// addWriteScope gives the service and the client a second scope,
// bench:write, the one the policy refuses, so that the refusal can be
// proven with a real token request.
func (f *Fixture) addWriteScope(ctx context.Context) error {
	ws := "/workspaces/" + f.Workspace
	if err := f.admin(ctx, http.MethodPatch, ws+"/services/bench-api", map[string]any{"scopes": []map[string]string{
		{"name": "bench:read", "description": "read"}, {"name": "bench:write", "description": "write"}}}, nil); err != nil {
		return fmt.Errorf("bench: add scope bench:write to the service: %w", err)
	}
	if err := f.admin(ctx, http.MethodPatch, ws+"/clients/"+f.ClientID, map[string]any{"scopes": []string{"bench:read", "bench:write"}}, nil); err != nil {
		return fmt.Errorf("bench: add scope bench:write to the client: %w", err)
	}
	return nil
}

// readScopeTokens is the client_credentials load asking for bench:read,
// the scope the policy admits.
func (f *Fixture) readScopeTokens() Load {
	return f.load(func(ctx context.Context) error {
		return f.post(ctx, f.tokenPath, true, "grant_type=client_credentials&scope=bench%3Aread", nil)
	})
}

// attachPolicyAndClaims gives the fixture's client benchPolicy and
// benchClaims, then proves both are in force: bench:write is refused and
// a bench:read token carries the three claims.
func (f *Fixture) attachPolicyAndClaims(ctx context.Context) error {
	ws, id := "/workspaces/"+f.Workspace, "/clients/"+f.ClientID
	steps := []struct {
		method, path string
		body         any
	}{
		{http.MethodPatch, ws + id, map[string]any{"metadata": map[string]string{"tenant": "acme"}}},
		{http.MethodPost, ws + "/policies", benchPolicy},
		{http.MethodPut, ws + id + "/policies", map[string]string{"machine_policy_id": "bench-machine"}},
		{http.MethodPut, ws + id + "/claims", benchClaims},
	}
	for _, s := range steps {
		if err := f.admin(ctx, s.method, s.path, s.body, nil); err != nil {
			return fmt.Errorf("bench: %s %s: %w", s.method, s.path, err)
		}
	}
	return f.checkPolicyAndClaims(ctx)
}

func (f *Fixture) checkPolicyAndClaims(ctx context.Context) error {
	_, err := postForm(ctx, f.client, func(ctx context.Context) (*http.Request, error) {
		return f.formRequest(ctx, f.tokenPath, "grant_type=client_credentials&scope=bench%3Awrite", true)
	})
	if err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
		return fmt.Errorf("bench: the machine token policy did not refuse bench:write: %v", err)
	}
	tok, err := f.tokenFor(ctx, "grant_type=client_credentials&scope=bench%3Aread")
	if err != nil {
		return err
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("bench: access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("bench: access token payload: %w", err)
	}
	for _, want := range []string{`"cmicuser":"` + f.Workspace + `||` + f.ClientID + `"`, `"tenant":"acme"`, `"perms":["BENCH:READ"]`} {
		if !bytes.Contains(payload, []byte(want)) {
			return fmt.Errorf("bench: access token lacks %s: %.300s", want, payload)
		}
	}
	return nil
}
