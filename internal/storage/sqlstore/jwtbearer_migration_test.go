package sqlstore

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

func TestSQLiteMigrationJWTBearerDefault(t *testing.T) {
	testMigrationJWTBearerDefault(t, "sqlite:"+filepath.Join(t.TempDir(), "latchkey.db"))
}

func TestPostgresMigrationJWTBearerDefault(t *testing.T) {
	testMigrationJWTBearerDefault(t, postgresSchemaDSN(t))
}

// migrateTo applies the embedded migrations up to version last.
func migrateTo(t *testing.T, s *Store, last int) {
	t.Helper()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, m := range ms[:last] {
		if err := s.applyMigration(t.Context(), c, m); err != nil {
			t.Fatal(err)
		}
	}
}

// testMigrationJWTBearerDefault seeds clients as version 5 stored them,
// runs migration 6 and checks docs/security.md R1: admin-created clients
// keep "all users" explicitly, dynamically registered ones become "admin
// approved" with their lists kept, everything else is untouched, each
// change has an audit event, and old initial access tokens get the
// default policy.
func testMigrationJWTBearerDefault(t *testing.T, dsn string) {
	ctx := t.Context()
	s, err := Open(ctx, dsn, nil, WithoutMigrate())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	migrateTo(t, s, 5)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.reader().exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO workspaces (id, name, enabled, settings, created_at, updated_at) VALUES ('ws', 'ws', TRUE, '{}', 0, 0)`)
	const jb = `"urn:ietf:params:oauth:grant-type:jwt-bearer"`
	seed := map[string]string{
		"admin-default":  `{"type":"confidential","grant_types":[` + jb + `],"future_field":{"kept":1}}`,
		"admin-empty":    `{"type":"confidential","grant_types":[` + jb + `],"jwt_bearer":{"user_field":"email"}}`,
		"admin-approved": `{"type":"confidential","grant_types":[` + jb + `],"jwt_bearer":{"pre_auth":"admin_approved","allowed_users":["u1"]}}`,
		"admin-all":      `{"type":"confidential","grant_types":[` + jb + `],"jwt_bearer":{"pre_auth":"all_users"}}`,
		"admin-cc":       `{"type":"confidential","grant_types":["client_credentials"]}`,
		"dyn-default":    `{"type":"confidential","dynamic":true,"grant_types":[` + jb + `]}`,
		"dyn-all":        `{"type":"confidential","dynamic":true,"grant_types":[` + jb + `],"jwt_bearer":{"pre_auth":"all_users","allowed_profiles":["p1"]}}`,
		"dyn-approved":   `{"type":"confidential","dynamic":true,"grant_types":[` + jb + `],"jwt_bearer":{"pre_auth":"admin_approved"}}`,
	}
	for id, data := range seed {
		exec(`INSERT INTO clients (workspace_id, id, name, enabled, created_at, updated_at, data) VALUES ('ws', ?, ?, TRUE, 0, 0, ?)`, id, id, data)
	}
	exec(`INSERT INTO initial_access_tokens (workspace_id, id, hash, description, expires_at, uses_left, created_at) VALUES ('ws', 'old', ?, '', 0, -1, 0)`, []byte("h"))

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	want := map[string]string{ // client -> pre_auth after migration; "" = document unchanged
		"admin-default": storage.PreAuthAllUsers, "admin-empty": storage.PreAuthAllUsers,
		"dyn-default": storage.PreAuthAdminApproved, "dyn-all": storage.PreAuthAdminApproved,
	}
	for id, before := range seed {
		c, err := s.GetClient(ctx, "ws", id)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		var raw string
		if err := s.reader().queryRow(ctx, `SELECT data FROM clients WHERE workspace_id = 'ws' AND id = ?`, id).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if want[id] == "" {
			if raw != before {
				t.Errorf("%s changed: %s", id, raw)
			}
			continue
		}
		if c.JWTBearer == nil || c.JWTBearer.PreAuth != want[id] {
			t.Errorf("%s: jwt_bearer = %+v, want pre_auth %s", id, c.JWTBearer, want[id])
		}
	}
	if c, _ := s.GetClient(ctx, "ws", "admin-empty"); c.JWTBearer.UserField != "email" {
		t.Errorf("admin-empty lost its user field: %+v", c.JWTBearer)
	}
	if c, _ := s.GetClient(ctx, "ws", "dyn-all"); len(c.JWTBearer.AllowedProfiles) != 1 {
		t.Errorf("dyn-all lost its allowed profiles: %+v", c.JWTBearer)
	}
	var doc map[string]json.RawMessage
	var raw string
	if err := s.reader().queryRow(ctx, `SELECT data FROM clients WHERE id = 'admin-default'`).Scan(&raw); err != nil || json.Unmarshal([]byte(raw), &doc) != nil {
		t.Fatalf("read admin-default: %v", err)
	}
	if string(doc["future_field"]) != `{"kept":1}` {
		t.Errorf("unknown member lost: %s", raw)
	}

	events, err := s.ListAuditEvents(ctx, storage.AuditFilter{WorkspaceID: "ws"})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]string{}
	for _, e := range events.Items {
		var d struct {
			PreAuth string `json:"pre_auth"`
		}
		_ = json.Unmarshal(e.Details, &d)
		if e.Action != migrationAuditAction || e.ActorKind != storage.ActorSystem || e.TargetType != "client" {
			t.Errorf("unexpected audit event %+v", e)
		}
		audited[e.TargetID] = d.PreAuth
	}
	if len(audited) != len(want) {
		t.Errorf("audited %v, want %v", audited, want)
	}
	for id, p := range want {
		if audited[id] != p {
			t.Errorf("audit of %s: pre_auth %q, want %q", id, audited[id], p)
		}
	}

	tok, err := s.GetInitialAccessTokenByHash(ctx, "ws", []byte("h"))
	if err != nil || len(tok.Policy.GrantTypes) != 0 || tok.Policy.AllowImpersonation {
		t.Fatalf("old token after migration: %+v %v (want the empty, i.e. default, policy)", tok, err)
	}
}
