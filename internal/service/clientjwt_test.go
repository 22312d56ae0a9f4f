package service_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestJWTBearerRefreshTokensSetting: refresh tokens on the JWT bearer grant
// are only accepted for a client that may redeem them (the refresh_token
// grant type), and a JWT bearer client may hold that grant type without
// the code flow.
func TestJWTBearerRefreshTokensSetting(t *testing.T) {
	env, ctx := newEnv(t)
	bearerOnly := []string{oauth2.GrantJWTBearer}
	withRefresh := []string{oauth2.GrantJWTBearer, oauth2.GrantRefreshToken}
	tests := []struct {
		name      string
		grants    []string
		refresh   bool
		wantField string // "" = accepted
	}{
		{"flag on without refresh_token grant", bearerOnly, true, "refresh_tokens"},
		{"flag on with refresh_token grant", withRefresh, true, ""},
		{"flag off without refresh_token grant", bearerOnly, false, ""},
		{"flag off with refresh_token grant", withRefresh, false, ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "jb" + string(rune('a'+i))
			if _, err := env.Service.CreateClient(ctx, "default", service.ClientInput{ID: id, Name: id, GrantTypes: tc.grants}); err != nil {
				t.Fatalf("create client: %v", err)
			}
			c, err := env.Service.SetClientJWTBearer(ctx, "default", id,
				service.ClientJWTInput{Settings: storage.JWTBearerSettings{RefreshTokens: tc.refresh}})
			if tc.wantField != "" {
				msg := fieldErrors(t, err)[tc.wantField]
				if !strings.Contains(msg, "requires the refresh_token grant type") {
					t.Fatalf("error on %s = %q, want it to name the refresh_token grant type (all: %v)", tc.wantField, msg, err)
				}
				stored, err := env.Service.GetClient(ctx, "default", id)
				if err != nil {
					t.Fatal(err)
				}
				if service.EffectiveJWTBearer(stored).RefreshTokens {
					t.Fatal("a refused setting was stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.JWTBearer == nil || c.JWTBearer.RefreshTokens != tc.refresh {
				t.Fatalf("stored settings %+v, want refresh_tokens %v", c.JWTBearer, tc.refresh)
			}
		})
	}
}
