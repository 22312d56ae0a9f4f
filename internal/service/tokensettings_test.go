package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestClientTokenSettings: the access token format is one of two, the ID
// token lifetime has the access token bounds, and "jwt" is stored as the
// default.
func TestClientTokenSettings(t *testing.T) {
	env, ctx := newEnv(t)
	bad := []struct {
		name  string
		in    service.TokenSettings
		field string
		want  string
	}{
		{"unknown format", service.TokenSettings{AccessTokenFormat: "reference"}, "access_token_format", `must be "jwt"`},
		{"id token ttl too short", service.TokenSettings{IDTokenTTL: time.Second}, "id_token_ttl", "between 1m0s and 24h0m0s"},
		{"id token ttl too long", service.TokenSettings{IDTokenTTL: 25 * time.Hour}, "id_token_ttl", "between"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", TokenSettings: tc.in})
			if fe := fieldErrors(t, err); !strings.Contains(fe[tc.field], tc.want) {
				t.Fatalf("want %q on %s, got %v", tc.want, tc.field, fe)
			}
		})
	}
	c, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n",
		TokenSettings: service.TokenSettings{AccessTokenFormat: storage.AccessTokenJWT, IDTokenTTL: 10 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessTokenFormat != "" || c.OpaqueAccessTokens() || c.IDTokenTTL != 10*time.Minute {
		t.Fatalf("created %q %v", c.AccessTokenFormat, c.IDTokenTTL)
	}
	opaque := storage.AccessTokenOpaque
	u, err := env.Service.UpdateClient(ctx, "default", c.ID, service.ClientPatch{TokenSettingsPatch: service.TokenSettingsPatch{AccessTokenFormat: &opaque}})
	if err != nil {
		t.Fatal(err)
	}
	if !u.OpaqueAccessTokens() || u.IDTokenTTL != 10*time.Minute {
		t.Fatalf("updated %q %v: the patch must change only the format", u.AccessTokenFormat, u.IDTokenTTL)
	}
}
