package grants_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// rotationFixture is the in-process token endpoint with a code-flow client
// ("web", client_secret_basic, authorization_code and refresh_token) and
// one active user, for the refresh rotation and code redemption
// benchmarks (docs/benchmarks.md "Refresh rotation and code redemption
// profiled").
type rotationFixture struct {
	*fixture
	mux    *http.ServeMux
	secret string
}

func newRotationFixture(b *testing.B) *rotationFixture {
	b.Helper()
	f := newFixture(b, "RS256")
	web := f.client(b, storage.Client{ID: "web", Scopes: allScopes,
		GrantTypes: []string{oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken}})
	now := f.env.Clock.Now().UTC()
	if err := f.env.Store.CreateUser(context.Background(), storage.User{WorkspaceID: "acme", ID: "alice", Username: "alice",
		Active: true, CreatedAt: now, UpdatedAt: now}); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	f.handler.Mount(mux)
	return &rotationFixture{fixture: f, mux: mux, secret: f.secrets[web.ID]}
}

func benchOpaque(prefix string) string {
	var r [27]byte
	_, _ = rand.Read(r[:])
	return prefix + base64.RawURLEncoding.EncodeToString(r[:])
}

func hashOf(v string) []byte {
	s := sha256.Sum256([]byte(v))
	return s[:]
}

// families stores n token families of "web" for alice, each with its
// first refresh token, and returns the tokens.
func (f *rotationFixture) families(b *testing.B, n int, scopes []string) []string {
	b.Helper()
	now := f.env.Clock.Now().UTC()
	out := make([]string, n)
	for i := range out {
		fam := storage.TokenFamily{WorkspaceID: "acme", ID: benchOpaque("")[:22], ClientID: "web", UserID: "alice",
			Scopes: scopes, GrantType: oauth2.GrantAuthorizationCode, Refresh: true, Generation: 1,
			CreatedAt: now, RotatedAt: now, LastUsedAt: now, IdleTTL: time.Hour, ExpiresAt: now.Add(24 * time.Hour)}
		out[i] = benchOpaque(grants.RefreshTokenPrefix)
		if err := f.env.DB.CreateTokenFamily(context.Background(), fam, hashOf(out[i])); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkRefreshRotation rotates refresh tokens of many families at
// once (RunParallel, each goroutine its own family, so no rotation races
// another), with an RS256 access token only and with an ID token too.
// One op is one rotation through the whole in-process token endpoint:
// client authentication, the family's checks, the signatures and the
// group-committed rotation on SQLite (synchronous=FULL).
func BenchmarkRefreshRotation(b *testing.B) {
	for name, scopes := range map[string][]string{
		"access":   {"orders:read", "offline_access"},
		"id_token": {"openid", "orders:read", "offline_access"},
	} {
		b.Run(name, func(b *testing.B) {
			f := newRotationFixture(b)
			pool := make(chan string, 256)
			for _, rt := range f.families(b, cap(pool), scopes) {
				pool <- rt
			}
			// Many families rotating at once, as from a load generator.
			b.SetParallelism(benchParallelism)
			defer startTimedLoop(b).report(b)
			b.RunParallel(func(pb *testing.PB) {
				rt := <-pool
				for pb.Next() {
					rt = f.rotate(b, rt)
				}
			})
		})
	}
}

func (f *rotationFixture) rotate(b *testing.B, rt string) string {
	rec := httptestPost(f.mux, "/w/acme/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "web", f.secret)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return decodeRefresh(b, rec.Body.Bytes())
}

// BenchmarkCodeRedemption redeems authorization codes (with PKCE) stored
// ahead of the timer, concurrently: one op is the token request of the code
// flow, answering an access token, an ID token and a refresh token, with
// the code spent and the family recorded in one group-committed
// transaction.
func BenchmarkCodeRedemption(b *testing.B) {
	f := newRotationFixture(b)
	verifier := benchOpaque("") + benchOpaque("") // 72 characters (RFC 7636 §4.1: 43 to 128)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	now := f.env.Clock.Now().UTC()
	codes := make([]string, b.N)
	for i := range codes {
		codes[i] = benchOpaque(grants.AuthCodePrefix)
		err := f.env.DB.CreateAuthCode(context.Background(), storage.AuthCode{WorkspaceID: "acme", Hash: hashOf(codes[i]),
			FamilyID: benchOpaque("")[:22], ClientID: "web", UserID: "alice", RedirectURI: "https://app.example/cb",
			Scopes: []string{"openid", "orders:read", "offline_access"}, CodeChallenge: challenge, AuthTime: now,
			AMR: []string{"pwd"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(benchParallelism)
	defer startTimedLoop(b).report(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			code := codes[next.Add(1)-1]
			rec := httptestPost(f.mux, "/w/acme/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {"https://app.example/cb"}, "code_verifier": {verifier}}, "web", f.secret)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}

func decodeRefresh(b *testing.B, body []byte) string {
	var r struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.RefreshToken == "" {
		b.Fatalf("no refresh token in %s", body)
	}
	return r.RefreshToken
}
