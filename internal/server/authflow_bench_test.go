package server

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"testing"

	"github.com/latchkey/latchkey/internal/config"
)

// The flow benchmarks run on SQLite, and on PostgreSQL too when
// LATCHKEY_TEST_POSTGRES_DSN is set (each run in a fresh schema).
func benchStores(b *testing.B) map[string]func(b *testing.B) *flowFixture {
	stores := map[string]func(b *testing.B) *flowFixture{
		"sqlite": func(b *testing.B) *flowFixture { return newFlowFixture(b) },
	}
	if dsn := os.Getenv("LATCHKEY_TEST_POSTGRES_DSN"); dsn != "" {
		stores["postgres"] = func(b *testing.B) *flowFixture {
			cfg := testConfig(b, b.TempDir(), nil)
			cfg.Storage = postgresSchema(b, dsn)
			cfg.StorageDriver = config.DriverPostgres
			return newFlowFixtureWith(b, cfg)
		}
	}
	return stores
}

// postgresSchema creates a schema dropped after the benchmark and returns
// a DSN that selects it.
func postgresSchema(b testing.TB, base string) string {
	b.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	schema := "lk_bench_" + hex.EncodeToString(r[:])
	if _, err := db.ExecContext(b.Context(), "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// BenchmarkAuthCodeFlow measures complete authorization code flows per
// second through the real server on loopback: authorize
// → sign in (argon2id) → consent remembered → code → token exchange with
// PKCE. "session" reuses the browser session, so it skips the sign-in.
func BenchmarkAuthCodeFlow(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name+"/signin", func(b *testing.B) { benchmarkFlow(b, open(b), true) })
		b.Run(name+"/session", func(b *testing.B) { benchmarkFlow(b, open(b), false) })
	}
}

func benchmarkFlow(b *testing.B, f *flowFixture, fresh bool) {
	verifier, challenge := pkce()
	f.authorize(b, "openid offline_access", challenge, "s") // remembers the consent
	b.ResetTimer()
	for range b.N {
		if fresh {
			jar, _ := cookiejar.New(nil)
			f.browser.Jar = jar
		}
		code := f.authorize(b, "openid offline_access", challenge, "s")
		f.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
			"code_verifier": {verifier}}, http.StatusOK)
	}
}

// BenchmarkRefresh measures refresh token rotations per second: each
// iteration redeems the current refresh token and keeps the new one.
func BenchmarkRefresh(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			f := open(b)
			verifier, challenge := pkce()
			code := f.authorize(b, "openid offline_access", challenge, "s")
			rt := f.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {flowRedirect},
				"code_verifier": {verifier}}, http.StatusOK).RefreshToken
			b.ResetTimer()
			for range b.N {
				rt = f.token(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, http.StatusOK).RefreshToken
			}
		})
	}
}
