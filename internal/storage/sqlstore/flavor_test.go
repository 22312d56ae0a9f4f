package sqlstore

import (
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name, in, sqlite, postgres string
	}{
		{
			name:     "placeholders",
			in:       `SELECT a FROM t WHERE x = ? AND y = ?`,
			sqlite:   `SELECT a FROM t WHERE x = ? AND y = ?`,
			postgres: `SELECT a FROM t WHERE x = $1 AND y = $2`,
		},
		{
			name:     "ten placeholders",
			in:       `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sqlite:   `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			postgres: `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		},
		{
			name:     "question mark in a literal is kept",
			in:       `SELECT '?' || x FROM t WHERE y LIKE ? ESCAPE '\'`,
			sqlite:   `SELECT '?' || x FROM t WHERE y LIKE ? ESCAPE '\'`,
			postgres: `SELECT '?' || x FROM t WHERE y LIKE $1 ESCAPE '\'`,
		},
		{
			name:     "types",
			in:       `CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k BLOB NOT NULL, n TEXT COLLATE BINARY)`,
			sqlite:   `CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, k BLOB NOT NULL, n TEXT COLLATE BINARY)`,
			postgres: `CREATE TABLE t (id BIGSERIAL PRIMARY KEY, k BYTEA NOT NULL, n TEXT COLLATE "C")`,
		},
		{
			name:     "type names only as whole words",
			in:       `SELECT blobby, BLOBS FROM t`,
			sqlite:   `SELECT blobby, BLOBS FROM t`,
			postgres: `SELECT blobby, BLOBS FROM t`,
		},
		{
			name:     "no placeholders",
			in:       `SELECT MAX(id) FROM changes`,
			sqlite:   `SELECT MAX(id) FROM changes`,
			postgres: `SELECT MAX(id) FROM changes`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := flavorSQLite.translate(tc.in); got != tc.sqlite {
				t.Errorf("sqlite: got %q, want %q", got, tc.sqlite)
			}
			// Twice: the second answer comes from the cache.
			for range 2 {
				if got := flavorPostgres.translate(tc.in); got != tc.postgres {
					t.Errorf("postgres: got %q, want %q", got, tc.postgres)
				}
			}
		})
	}
}

// FuzzTranslate checks that numbering replaces exactly the "?" outside
// literals and leaves every other byte alone.
func FuzzTranslate(f *testing.F) {
	f.Add(`SELECT ? FROM t WHERE a = '?' AND b = ?`)
	f.Add(`'unterminated ? literal`)
	f.Add(`????`)
	f.Fuzz(func(t *testing.T, in string) {
		out := numberPlaceholders(in)
		outside := 0
		inString := false
		for i := 0; i < len(in); i++ {
			switch {
			case in[i] == '\'':
				inString = !inString
			case in[i] == '?' && !inString:
				outside++
			}
		}
		if strings.Count(out, "?") != strings.Count(in, "?")-outside {
			t.Fatalf("%q -> %q: wrong number of placeholders replaced", in, out)
		}
		if outside == 0 && out != in {
			t.Fatalf("%q changed to %q without placeholders", in, out)
		}
	})
}

func TestMigrationsParse(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("migrations = %+v", ms)
	}
	for _, m := range ms {
		for _, stmt := range m.statements {
			if strings.Contains(stmt, ";") {
				t.Errorf("%s: statement still holds a semicolon: %q", m.name, stmt)
			}
		}
	}
	if got := splitStatements("-- c\nA;\n\n-- d\nB;\n"); len(got) != 2 || got[0] != "A" || got[1] != "B" {
		t.Fatalf("splitStatements = %q", got)
	}
}
