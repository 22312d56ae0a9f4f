package grants_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// BenchmarkClientCredentialsPolicyAndClaims measures what a machine token
// policy and three mapped claims add to an in-process client_credentials
// request (docs/benchmarks.md "Policies and mapped claims"): "plain" is
// the client without them, "policy+claims" the same client with both,
// programs cached as in production. ES256, whose signature is cheapest,
// shows the added cost best; the difference of the two is the added
// server CPU per request.
func BenchmarkClientCredentialsPolicyAndClaims(b *testing.B) {
	for _, tc := range []struct {
		name string
		rich bool
	}{{"plain", false}, {"policy+claims", true}} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b, oauth2.AlgES256)
			ctx := context.Background()
			c := storage.Client{ID: "svc-rich", Scopes: allScopes, Metadata: map[string]string{"tenant": "acme"}}
			if tc.rich {
				now := time.Now()
				if err := f.env.Store.CreatePolicy(ctx, storage.Policy{WorkspaceID: "acme", ID: "machine", Name: "Machine",
					Kind: storage.PolicyKindMachine, Version: 1, CreatedAt: now, UpdatedAt: now, Rules: []storage.PolicyRule{
						{Condition: `!("orders:write" in request.scopes) && ip_in(request.remote_ip, ["192.0.2.0/24", "0.0.0.0/0"])`, Outcome: storage.PolicyAllow},
						{Condition: "true", Outcome: storage.PolicyDeny, Message: "not for this client"},
					}}); err != nil {
					b.Fatal(err)
				}
				c.MachinePolicyID = "machine"
				c.ClaimMappings = []storage.ClaimMapping{
					{Name: "cmicuser", Expression: `workspace.id + "||" + client.id`, Targets: []string{policy.TargetAccessToken}},
					{Name: "tenant", Expression: `client.metadata["tenant"]`, Targets: []string{policy.TargetAccessToken}},
					{Name: "perms", Expression: `request.scopes.map(s, s.upperAscii())`, Targets: []string{policy.TargetAccessToken}},
				}
				f.handler.Policies = &policy.Engine{Source: f.env.Store}
				f.handler.Claims = &policy.ClaimEngine{}
			}
			f.client(b, c)
			mux := http.NewServeMux()
			f.handler.Mount(mux)
			if tc.rich {
				// The policy and the claims are in force.
				if rec := httptestPost(mux, "/w/acme/oauth2/token", cc("orders:write"), c.ID, f.secrets[c.ID]); rec.Code != http.StatusBadRequest {
					b.Fatalf("policy not applied: %d %s", rec.Code, rec.Body)
				}
				rec := httptestPost(mux, "/w/acme/oauth2/token", cc("orders:read"), c.ID, f.secrets[c.ID])
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &tok)
				parts := strings.Split(tok.AccessToken, ".")
				if len(parts) != 3 {
					b.Fatalf("token request: %d %s", rec.Code, rec.Body)
				}
				payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
				if !containsAll(string(payload), `"cmicuser":"acme||svc-rich"`, `"tenant":"acme"`, `"perms":["ORDERS:READ"]`) {
					b.Fatalf("mapped claims missing: %s", payload)
				}
			}
			benchTokens(b, mux, cc("orders:read"), c.ID, f.secrets[c.ID])
		})
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
