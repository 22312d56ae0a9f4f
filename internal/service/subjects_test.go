package service_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
)

// TestUserAndClientIDsAreDisjoint is SECURITY.md J4 (RFC 9700 §4.15): a
// user may not take a client's ID and a client may not take a user's, so
// sub alone tells a user's token from a client's own token.
func TestUserAndClientIDsAreDisjoint(t *testing.T) {
	env, ctx := newEnv(t)
	if _, err := env.Service.CreateClient(ctx, "default", service.ClientInput{ID: "billing", Name: "Billing", Type: oauth2.ClientConfidential,
		GrantTypes: []string{oauth2.GrantClientCredentials}, TokenEndpointAuthMethod: oauth2.AuthClientSecretBasic}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Service.CreateUser(ctx, "default", service.UserInput{ID: "billing", Username: "billing"})
	if got := fieldErrors(t, err)["id"]; got == "" {
		t.Fatalf("user with a client's ID: %v", err)
	}
	if _, err := env.Service.CreateUser(ctx, "default", service.UserInput{ID: "u-ada", Username: "ada"}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Service.CreateClient(ctx, "default", service.ClientInput{ID: "u-ada", Name: "Shadow", Type: oauth2.ClientConfidential,
		GrantTypes: []string{oauth2.GrantClientCredentials}, TokenEndpointAuthMethod: oauth2.AuthClientSecretBasic})
	if got := fieldErrors(t, err)["client_id"]; got == "" {
		t.Fatalf("client with a user's ID: %v", err)
	}
}
