package admincmd_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

// TestPolicyTestCommand: "latchkey admin policies test" shows each rule's
// result and the decision, then, once the request is allowed, the claims
// of the token it would get; --output json is the API's answer.
func TestPolicyTestCommand(t *testing.T) {
	env := servicetest.New(t)
	env.Service.WhatIfRunner = &grants.Handler{Store: env.Store, BaseURL: "http://lk.test", Policies: &policy.Engine{Source: env.Store}}
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token}, BaseURL: "http://lk.test"}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	mustRun(t, srv, "policies", "create", "--id", "net", "--name", "Office network", "--kind", "machine",
		"--template", "ip-ranges", "--param", "cidrs=10.0.0.0/8")
	mustRun(t, srv, "clients", "create", "--client-id", "app", "--name", "App", "--grant-type", "client_credentials")
	mustRun(t, srv, "clients", "update", "app", "--machine-policy", "net")

	out := mustRun(t, srv, "policies", "test", "--client", "app", "--ip", "192.0.2.1")
	contains(t, out, "DENIED: unauthorized_client", "Policy net (Office network, machine policy, version 1): deny",
		"RULE", "matched", "not_reached")
	if strings.Contains(out, "Access token claims") {
		t.Fatalf("a denied request shows claims:\n%s", out)
	}
	out = mustRun(t, srv, "policies", "test", "--client", "app", "--ip", "10.1.2.3")
	contains(t, out, "Decision:", "ALLOWED", ": allow", "Access token claims:", `"client_id": "app"`)

	out = mustRun(t, srv, "--output", "json", "policies", "test", "--client", "app", "--ip", "10.1.2.3")
	var res struct {
		Allowed bool `json:"allowed"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.Allowed {
		t.Fatalf("json output %q (%v)", out, err)
	}
	if _, err := run(t, srv, "policies", "test", "--ip", "10.1.2.3"); err == nil || !strings.Contains(err.Error(), "--client is required") {
		t.Fatalf("missing --client: %v", err)
	}
	if out, err := run(t, srv, "policies", "test", "--client", "app", "--ip", "not-an-ip"); err == nil || !strings.Contains(out+err.Error(), "remote_ip") {
		t.Fatalf("bad --ip: %q %v", out, err)
	}

	// The JWT bearer grant: the pre-authorization is its own stage, the
	// client's settings as the profiles template.
	mustRun(t, srv, "profiles", "create", "--id", "sales", "--name", "Sales")
	mustRun(t, srv, "users", "create", "--id", "ann", "--username", "ann", "--profile", "sales")
	mustRun(t, srv, "users", "create", "--id", "bob", "--username", "bob")
	mustRun(t, srv, "jwt-bearer", "set", "app", "--pre-auth", "admin_approved", "--allowed-profile", "sales")
	const bearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	out = mustRun(t, srv, "policies", "test", "--client", "app", "--user", "bob", "--grant-type", bearer)
	contains(t, out, "DENIED: invalid_grant: user is not pre-authorized for this app",
		"JWT bearer pre-authorization (profiles template, profiles=sales): deny", `user.profiles.exists(p, p in ["sales"])`)
	out = mustRun(t, srv, "policies", "test", "--client", "app", "--user", "ann", "--grant-type", bearer)
	contains(t, out, "ALLOWED", "JWT bearer pre-authorization (profiles template, profiles=sales): allow")
}
