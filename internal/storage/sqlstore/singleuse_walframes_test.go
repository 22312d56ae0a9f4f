package sqlstore

import (
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

// jtiLayouts are the jti_replay layouts TestJTIReplayWALFrames compares:
// today's (0001_init.sql), WITHOUT ROWID, and WITHOUT ROWID with the
// proof's issued-at second leading the key (one batch's rows would share
// leaf pages if a second held fewer rows than a page).
var jtiLayouts = []struct{ name, ddl string }{
	{"rowid table (today)", `CREATE TABLE jti_replay (workspace_id TEXT NOT NULL, namespace TEXT NOT NULL, iat BIGINT NOT NULL,
 issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, namespace, issuer, jti))`},
	{"WITHOUT ROWID", `CREATE TABLE jti_replay (workspace_id TEXT NOT NULL, namespace TEXT NOT NULL, iat BIGINT NOT NULL,
 issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, namespace, issuer, jti)) WITHOUT ROWID`},
	{"WITHOUT ROWID, iat second first", `CREATE TABLE jti_replay (workspace_id TEXT NOT NULL, namespace TEXT NOT NULL, iat BIGINT NOT NULL,
 issuer TEXT NOT NULL, jti TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (workspace_id, namespace, iat, issuer, jti)) WITHOUT ROWID`},
}

// TestJTIReplayWALFrames counts the WAL frames (pages written) of one
// group commit of 8 DPoP spends for each layout of jtiLayouts, with
// random jtis from 100 clients at 3,000 and at 50 proofs per second, in
// the steady state of a table of 4,000 to 12,000 rows
// (docs/benchmarks.md, "DPoP proof cost, round three"). A commit's CPU
// is mostly its frame writes and its fsync. Skipped unless
// LATCHKEY_WALFRAMES is set.
func TestJTIReplayWALFrames(t *testing.T) {
	if os.Getenv("LATCHKEY_WALFRAMES") == "" {
		t.Skip("set LATCHKEY_WALFRAMES=1 to measure")
	}
	issuers := make([]string, 100)
	for i := range issuers {
		issuers[i] = walRandomB64(32) + " https://as.example/w/acme/oauth2/token"
	}
	for _, rate := range []int{3000, 50} {
		for _, l := range jtiLayouts {
			t.Logf("| %s | %d proofs/s | %.1f WAL frames per commit of 8 |", l.name, rate, walFramesPerBatch(t, l.ddl, issuers, rate))
		}
	}
}

// walFramesPerBatch fills a fresh table in batches of 8 and returns the
// mean WAL growth per commit, in frames, over the last 1,000 batches.
func walFramesPerBatch(t *testing.T, ddl string, issuers []string, rate int) float64 {
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA journal_mode=WAL`, `PRAGMA wal_autocheckpoint=0`, ddl,
		`CREATE INDEX jti_replay_expires ON jti_replay (expires_at)`} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	const frame = 4096 + 24 // page and frame header
	var frames, n int64
	for batch := range 1500 {
		before := walSize(t, path)
		tx, err := db.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 8 {
			n++
			iat := 1_800_000_000 + n/int64(rate)
			if _, err := tx.ExecContext(t.Context(), `INSERT INTO jti_replay VALUES (?, ?, ?, ?, ?, ?)`,
				"acme", "dpop", iat, issuers[n%int64(len(issuers))], walRandomB64(16), (iat+61)*1000); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if batch >= 500 {
			frames += walSize(t, path) - before
		}
	}
	return float64(frames) / frame / 1000
}

func walSize(t *testing.T, db string) int64 {
	fi, err := os.Stat(db + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func walRandomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
