package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/bench"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// TestCleanupUnderHTTPLoad measures the token endpoint's latency during the
// background clean-up (docs/benchmarks.md, "Clean-up under load, round
// two"): a real server on loopback with SQLite, a backlog of
// LATCHKEY_CLEANUP_HTTP_ROWS expired jtis (random values) plus a tenth as
// many expired token families (each with its refresh token) and expired
// authorization codes, and 16 goroutines sending JWT bearer token requests
// (each writes its assertion's jti), first for 10 s without a clean-up and
// then for as long as the server's clean-up (cleanup: jtis, auth flow,
// console) runs. It prints p50/p99 of both and the ratio, for each of
// LATCHKEY_CLEANUP_HTTP_REPEATS (default 3) backlogs in turn. Skipped unless
// LATCHKEY_CLEANUP_HTTP_ROWS is set.
func TestCleanupUnderHTTPLoad(t *testing.T) {
	rows, _ := strconv.Atoi(os.Getenv("LATCHKEY_CLEANUP_HTTP_ROWS"))
	if rows <= 0 {
		t.Skip("set LATCHKEY_CLEANUP_HTTP_ROWS (e.g. 300000) to measure")
	}
	repeats, _ := strconv.Atoi(os.Getenv("LATCHKEY_CLEANUP_HTTP_REPEATS"))
	if repeats <= 0 {
		repeats = 3
	}
	ctx := t.Context()
	admin := strings.Repeat("c", 40)
	cfg := testConfig(t, t.TempDir(), map[string]string{"LATCHKEY_ADMIN_TOKEN": admin})
	r := start(t, cfg)
	seeder, err := sqlstore.Open(ctx, cfg.Storage, nil, sqlstore.WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer seeder.Close()
	t.Logf("| repeat | backlog | clean-up took | without: p50 / p99 (requests) | during: p50 / p99 (requests) | p99 during ÷ without |")
	for i := range repeats {
		// A fresh fixture each time: the end of the previous run cut its
		// client's connections mid-request.
		lc := newLoadClient(t, r, admin, "cleanup-load-"+strconv.Itoa(i))
		seedExpiredBacklog(t, seeder.DB(), lc.fx, rows)
		base := lc.run(ctx, 10*time.Second, 60_000, nil)
		var took time.Duration
		// Assertions for up to three minutes at the rate without.
		during := lc.run(ctx, 3*time.Minute, min(int(base.PerSecond*180), 400_000), func() {
			start := time.Now()
			r.srv.cleanup(ctx)
			took = time.Since(start)
		})
		left := countExpired(t, seeder.DB(), "jti_replay", lc.fx.Workspace)
		if left != 0 || base.Failures+during.Failures != 0 {
			t.Errorf("after clean-up %d expired jtis left; %d + %d failed requests (first: %v %v)",
				left, base.Failures, during.Failures, base.FirstErr, during.FirstErr)
		}
		t.Logf("| %d | %d jtis | %s (load for %s) | %.2f / %.2f ms (%d) | %.2f / %.2f ms (%d) | %.2f |", i+1, rows,
			took.Round(time.Millisecond), during.Elapsed.Round(time.Millisecond), msOf(base.P50), msOf(base.P99), base.Requests,
			msOf(during.P50), msOf(during.P99), during.Requests, float64(during.P99)/float64(base.P99))
	}
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadClient sends JWT bearer token requests for one fixture client.
type loadClient struct {
	fx  *bench.Fixture
	key *ecdsa.PrivateKey
}

func newLoadClient(t *testing.T, r *running, admin, ws string) *loadClient {
	t.Helper()
	ctx := t.Context()
	base := "http://" + r.srv.Addr()
	fx, err := bench.NewFixture(ctx, bench.Config{Server: base, AdminToken: admin, Concurrency: 16}, ws, "ES256")
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	enableJWTBearerFor(t, base, admin, fx, key)
	return &loadClient{fx: fx, key: key}
}

// run sends token requests with n pre-signed assertions from 16
// goroutines for d, or, when while is set, for as long as while runs (at
// most d), and returns the latencies. A run whose assertions run out ends
// early (its Elapsed says when).
func (lc *loadClient) run(ctx context.Context, d time.Duration, n int, while func()) bench.Result {
	pool, err := lc.fx.AssertionPool(jose.SigningKey{Algorithm: jose.ES256, Key: lc.key}, "load", "cleanup-user", n)
	if err != nil {
		panic(err) // signing with a freshly generated key does not fail
	}
	load := lc.fx.JWTBearer(pool)
	load.Duration = d
	if while == nil {
		return load.Run(ctx)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan bench.Result, 1)
	go func() { done <- load.Run(runCtx) }()
	while()
	stop()
	return <-done
}

// enableJWTBearerFor lets fx's client use the JWT bearer grant (RFC 7523)
// with assertions signed by key for the user "cleanup-user".
func enableJWTBearerFor(t *testing.T, base, admin string, fx *bench.Fixture, key *ecdsa.PrivateKey) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cleanup-load"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ws := "/admin/v1/workspaces/" + fx.Workspace
	client := ws + "/clients/" + url.PathEscape(fx.ClientID)
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPatch, client, map[string]any{"grant_types": []string{"client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer"}}},
		{http.MethodPost, client + "/certificates", map[string]any{"certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), "kid": "load"}},
		{http.MethodPost, ws + "/users", map[string]any{"id": "cleanup-user", "username": "cleanup-user"}},
		{http.MethodPut, client + "/jwt-bearer", map[string]any{"pre_auth": "admin_approved", "allowed_users": []string{"cleanup-user"}}},
	} {
		adminCall(t, base, admin, call.method, call.path, call.body)
	}
}

func adminCall(t *testing.T, base, admin, method, path string, body any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// seedExpiredBacklog inserts, in fx's workspace, jtis expired jtis with
// random values, and a tenth as many token families expired for more than
// familyMarkRetention (each with one refresh token, deleted with it) and
// authorization codes expired for more than an hour: what the clean-up
// finds after a busy period.
func seedExpiredBacklog(t *testing.T, db *sql.DB, fx *bench.Fixture, jtis int) {
	t.Helper()
	ctx := t.Context()
	ws := fx.Workspace
	longAgo := time.Now().Add(-30 * time.Hour).UnixMilli()
	inChunks(t, db, jtis, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO jti_replay (workspace_id, namespace, issuer, jti, expires_at) VALUES (?, ?, ?, ?, ?)`,
			ws, "client_assertion", fx.ClientID, rand.Text(), longAgo)
		return err
	})
	inChunks(t, db, jtis/10, func(tx *sql.Tx) error {
		family := rand.Text()
		if _, err := tx.ExecContext(ctx, `INSERT INTO token_families (workspace_id, id, client_id, user_id, generation, created_at,
rotated_at, last_used_at, expires_at, idle_ttl_ms, revoked_at, successor_sealed, data) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, 0, 0, NULL, '{}')`,
			ws, family, fx.ClientID, "cleanup-user", longAgo, longAgo, longAgo, longAgo); err != nil {
			return err
		}
		hash := sha256.Sum256([]byte(family))
		if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_tokens (workspace_id, hash, family_id, generation, created_at) VALUES (?, ?, ?, 1, ?)`,
			ws, hash[:], family, longAgo); err != nil {
			return err
		}
		code := sha256.Sum256([]byte("code" + family))
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_codes (workspace_id, hash, family_id, client_id, user_id, created_at, expires_at, used_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, 0, '{}')`, ws, code[:], family, fx.ClientID, "cleanup-user", longAgo, longAgo)
		return err
	})
}

// inChunks runs insert n times, in transactions of 10,000.
func inChunks(t *testing.T, db *sql.DB, n int, insert func(tx *sql.Tx) error) {
	t.Helper()
	for from := 0; from < n; from += 10_000 {
		tx, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for range min(10_000, n-from) {
			if err := insert(tx); err != nil {
				_ = tx.Rollback()
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// countExpired counts ws's rows of table that expired before now.
func countExpired(t *testing.T, db *sql.DB, table, ws string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table+` WHERE workspace_id = ? AND expires_at < ?`,
		ws, time.Now().UnixMilli()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
