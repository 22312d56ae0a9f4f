package sqlstore

import (
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

func TestSQLiteMigrationEncryptionKeyRotation(t *testing.T) {
	testMigrationEncryptionKeyRotation(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
}

func TestPostgresMigrationEncryptionKeyRotation(t *testing.T) {
	testMigrationEncryptionKeyRotation(t, postgresSchemaDSN(t))
}

// testMigrationEncryptionKeyRotation seeds a request object encryption
// key as version 19 stored it (encryption_keys, one per workspace and
// alg) and checks that migration 20 keeps it, private part and JWK
// unchanged, as the workspace's active key, which a rotation then
// demotes.
func testMigrationEncryptionKeyRotation(t *testing.T, dsn string) {
	ctx := t.Context()
	s, err := Open(ctx, dsn, nil, WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migrateTo(t, s, 19)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.reader().exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO workspaces (id, name, enabled, settings, created_at, updated_at) VALUES ('ws', 'ws', TRUE, '{}', 0, 0)`)
	exec(`INSERT INTO encryption_keys (workspace_id, alg, kid, private_enc, public_jwk, created_at) VALUES ('ws', 'RSA-OAEP-256', 'old', ?, '{"kid":"old"}', 1000)`,
		[]byte("sealed"))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	keys, err := s.ListEncryptionKeys(ctx, "ws")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].KID != "old" || keys[0].State != storage.EncryptionKeyActive || keys[0].Alg != "RSA-OAEP-256" ||
		string(keys[0].PrivateCiphertext) != "sealed" || string(keys[0].PublicJWK) != `{"kid":"old"}` || keys[0].CreatedAt.UnixMilli() != 1000 {
		t.Fatalf("migrated keys %+v", keys)
	}
	k := storage.EncryptionKey{WorkspaceID: "ws", Alg: "RSA-OAEP-256", KID: "new", PrivateCiphertext: []byte("x"), PublicJWK: []byte(`{}`),
		CreatedAt: keys[0].CreatedAt.Add(1000)}
	if err := s.RotateEncryptionKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if keys, err = s.ListEncryptionKeys(ctx, "ws"); err != nil || len(keys) != 2 || keys[0].KID != "new" || keys[1].State != storage.EncryptionKeyPrevious {
		t.Fatalf("after rotation: %+v %v", keys, err)
	}
}
