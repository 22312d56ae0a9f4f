package policy

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// BenchmarkThreeClaims is the hot-path cost of three mapped claims, with
// the program cached as in production (docs/benchmarks.md "Policies and
// mapped claims"; with BenchmarkMachinePolicy, the budget of at most
// 20 µs of server CPU per client_credentials request).
func BenchmarkThreeClaims(b *testing.B) {
	c := storage.Client{WorkspaceID: "acme", ID: "app", UpdatedAt: time.Now(), ClaimMappings: []storage.ClaimMapping{
		{Name: "cmicuser", Expression: `workspace.id + "||" + user.username`, Targets: []string{TargetAccessToken}},
		{Name: "tenant", Expression: `client.metadata["tenant"]`, Targets: []string{TargetAccessToken}},
		{Name: "perms", Expression: `request.scopes.map(s, s.upperAscii())`, Targets: []string{TargetAccessToken}},
	}}
	in := Input{
		User:      User{ID: "u1", Username: "svc-cmic", ServiceUser: true, Active: true},
		Client:    Client{ID: "app", Type: "confidential", Metadata: map[string]string{"tenant": "acme"}},
		Request:   Request{GrantType: "client_credentials", Scopes: []string{"api:read"}, RemoteIP: "10.1.2.3", Time: time.Now()},
		Workspace: Workspace{ID: "acme"},
	}
	var e ClaimEngine
	ctx := context.Background()
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		set, err := e.ClientClaims(ctx, c, in)
		if err != nil || set[TargetAccessToken]["cmicuser"] != "acme||svc-cmic" {
			b.Fatalf("%v %v", set, err)
		}
	}
}
