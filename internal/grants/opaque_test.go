package grants_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// TestClientCredentialsOpaque: an opaque-token client's token is an
// lkat_ value whose row (hash only, docs/security.md G8) holds the claims
// a JWT would carry, with the client's lifetime.
func TestClientCredentialsOpaque(t *testing.T) {
	f := newFixture(t, "RS256")
	f.client(t, storage.Client{ID: "svc-opaque", Scopes: allScopes, AccessTokenFormat: storage.AccessTokenOpaque,
		AccessTokenTTL: 5 * time.Minute})
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	rec := httptestPost(mux, "/w/acme/oauth2/token", cc("orders:read"), "svc-opaque", f.secrets["svc-opaque"])
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if !tokens.IsOpaque(resp.AccessToken) || strings.Contains(resp.AccessToken, ".") || resp.ExpiresIn != 300 {
		t.Fatalf("token %q expires_in %d, want an opaque token for 300 s", resp.AccessToken, resp.ExpiresIn)
	}
	row, err := f.env.DB.GetOpaqueToken(t.Context(), "acme", tokens.OpaqueHash(resp.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if row.ClientID != "svc-opaque" || row.Subject != "svc-opaque" || row.Scope != "orders:read" ||
		len(row.Audience) != 1 || row.Audience[0] != ordersAPI || row.ExpiresAt.Sub(row.IssuedAt) != 5*time.Minute || row.JTI == "" {
		t.Fatalf("stored row %+v", row)
	}
}

// BenchmarkTokenEndpointClientCredentialsOpaque is
// BenchmarkTokenEndpointClientCredentials for an opaque-token client: no
// signature, one group-committed insert per token (SQLite), with 16
// concurrent requests per core.
func BenchmarkTokenEndpointClientCredentialsOpaque(b *testing.B) {
	f := newFixture(b, "RS256")
	f.client(b, storage.Client{ID: "svc-opaque", Scopes: allScopes, AccessTokenFormat: storage.AccessTokenOpaque})
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	// Many concurrent clients, as at a busy token endpoint: their inserts
	// share commits (group commit), which is what this measures.
	b.SetParallelism(16)
	benchTokens(b, mux, cc("orders:read"), "svc-opaque", f.secrets["svc-opaque"])
}

// TestJWTBearerOpaque: the JWT bearer grant honours the client's opaque
// format too; the stored row names the asserted user.
func TestJWTBearerOpaque(t *testing.T) {
	f := newBearerFixture(t)
	if _, err := f.env.Store.UpdateClient(t.Context(), "acme", "cmic", func(c storage.Client) (storage.Client, error) {
		c.AccessTokenFormat = storage.AccessTokenOpaque
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	tb := decodeToken(t, f.postCMiC(t, "cmic", f.idpAssertion(t)))
	if !tokens.IsOpaque(tb.AccessToken) {
		t.Fatalf("JWT bearer token %q is not opaque", tb.AccessToken)
	}
	row, err := f.env.DB.GetOpaqueToken(t.Context(), "acme", tokens.OpaqueHash(tb.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	if row.Subject != "usr-svc" || row.ClientID != "cmic" {
		t.Fatalf("stored row sub %q client %q", row.Subject, row.ClientID)
	}
}
