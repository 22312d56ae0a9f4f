package admincmd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/mail"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

// serverEnv is server with its service environment, to seed storage.
func serverEnv(t *testing.T) (*httptest.Server, *servicetest.Env) {
	t.Helper()
	env := servicetest.New(t)
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token}, BaseURL: "http://lk.test"}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, env
}

func seedAuditEvents(t *testing.T, env *servicetest.Env, base time.Time, n int) {
	t.Helper()
	for i := range n {
		e := storage.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), ActorKind: storage.ActorConsole,
			ActorID: "id-alice", ActorName: "alice", WorkspaceID: "default", Action: "client.update", TargetType: "client", TargetID: "c1"}
		if i%2 == 1 {
			e.ActorID, e.ActorName, e.Action, e.TargetID = "id-bob", "bob", "client.create", "c2"
		}
		if err := env.Store.AppendAuditEvent(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditListCLI(t *testing.T) {
	srv, env := serverEnv(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seedAuditEvents(t, env, base, 6)
	out := mustRun(t, srv, "audit", "list", "--actor", "bob", "--since", "2026-03-01T12:02:00Z", "--until", "2026-03-01T12:10:00Z")
	contains(t, out, "TIME", "ACTOR", "console:bob", "client.create", "client/c2", "2026-03-01T12:05:00Z", "2026-03-01T12:03:00Z")
	if strings.Contains(out, "12:01:00") || strings.Contains(out, "alice") {
		t.Fatalf("filters not applied:\n%s", out)
	}
	// --json prints the API's page; --client and --action filter.
	out = mustRun(t, srv, "audit", "list", "--client", "c1", "--action", "client.update", "--json")
	var page struct {
		Items []struct {
			Action   string `json:"action"`
			TargetID string `json:"target_id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Items) != 3 {
		t.Fatalf("json: %v %s", err, out)
	}
	// Paging: the printed next page token lists the rest.
	out = mustRun(t, srv, "audit", "list", "--actor", "alice", "--limit", "2")
	_, tok, ok := strings.Cut(out, "--page-token ")
	if !ok {
		t.Fatalf("no next page:\n%s", out)
	}
	out = mustRun(t, srv, "audit", "list", "--actor", "alice", "--limit", "2", "--page-token", strings.TrimSpace(tok))
	contains(t, out, "2026-03-01T12:00:00Z")
	// An age is accepted for --since; the seeded past events are older.
	if out := mustRun(t, srv, "audit", "list", "--since", "1h", "--actor", "alice"); strings.Contains(out, "2026-03-01") {
		t.Fatalf("--since 1h listed old events:\n%s", out)
	}
	// The server-wide log needs --all-workspaces and lists the same events.
	contains(t, mustRun(t, srv, "audit", "list", "--all-workspaces", "--actor", "bob"), "client/c2")

	for name, args := range map[string][]string{
		"bad since":      {"audit", "list", "--since", "yesterday"},
		"reversed range": {"audit", "list", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-01T00:00:00Z"},
		"bad limit":      {"audit", "list", "--limit", "9999"},
		"foreign token":  {"audit", "list", "--actor", "bob", "--page-token", strings.TrimSpace(tok)},
		"negative age":   {"audit", "export", "--until", "-5m"},
	} {
		if _, err := run(t, srv, args...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAuditExportCLI(t *testing.T) {
	srv, env := serverEnv(t)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	seedAuditEvents(t, env, base, 1203) // three pages of 500 and more
	out := mustRun(t, srv, "audit", "export", "--until", "2026-03-03T00:00:00Z")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1203 {
		t.Fatalf("exported %d lines, want 1203", len(lines))
	}
	seen := map[int64]bool{}
	last := int64(1 << 62)
	for i, line := range lines {
		var e struct {
			ID     int64     `json:"id"`
			Time   time.Time `json:"time"`
			Action string    `json:"action"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Action == "" {
			t.Fatalf("line %d is not an event: %v %q", i, err, line)
		}
		if seen[e.ID] || e.ID >= last {
			t.Fatalf("line %d: id %d repeated or out of order", i, e.ID)
		}
		seen[e.ID], last = true, e.ID
	}
	// --file writes the same lines to a private file; filters apply.
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	mustRun(t, srv, "audit", "export", "--actor", "bob", "--until", "2026-03-03T00:00:00Z", "--file", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode %v", st.Mode().Perm())
	}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		if !strings.Contains(sc.Text(), `"actor_name":"bob"`) {
			t.Fatalf("filtered export holds %s", sc.Text())
		}
	}
	if n != 601 {
		t.Fatalf("bob's export has %d lines, want 601", n)
	}
}

func TestOutboxCLI(t *testing.T) {
	srv, env := serverEnv(t)
	ctx := context.Background()
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, m := range []storage.Mail{
		{ID: "m1", To: "ops@example.com", Subject: "Your code", Body: "Your code is 123456", CreatedAt: created},
		{ID: "m2", To: "alice@example.com", Subject: "Choose a password", Body: "https://lk.test/w/default/password/set?t=x", CreatedAt: created.Add(time.Minute)},
	} {
		if err := env.Store.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Store.MarkMail(ctx, "m2", created.Add(2*time.Minute), ""); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, srv, "outbox", "list")
	contains(t, out, "ID", "SUBJECT", "m1", "ops@example.com", "Your code", "not sent", "m2", "sent 2026-03-01T12:02:00Z")
	if strings.Index(out, "m2") > strings.Index(out, "m1") {
		t.Fatalf("not newest first:\n%s", out)
	}
	contains(t, mustRun(t, srv, "outbox", "show", "m1"), "To:", "ops@example.com", "Your code is 123456")
	contains(t, mustRun(t, srv, "-o", "json", "outbox", "show", "m2"), `"body":"https://lk.test/w/default/password/set?t=x"`)
	if _, err := run(t, srv, "outbox", "show", "nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing message: %v", err)
	}
	if out := mustRun(t, srv, "outbox", "list", "--limit", "1"); strings.Contains(out, "m1") {
		t.Fatalf("--limit 1:\n%s", out)
	}
}

// TestExpirePasswordLinkThroughOutboxCLI is the path of an administrator
// without a mail server: expire a user's password, send the set-password
// link, and read the link from the outbox, all from the CLI.
func TestExpirePasswordLinkThroughOutboxCLI(t *testing.T) {
	srv, env := serverEnv(t)
	env.Service.Mailer = &mail.Outbox{Store: env.Store}
	mustRun(t, srv, "users", "create", "--id", "alice", "--username", "alice", "--email", "alice@example.com")
	contains(t, mustRun(t, srv, "users", "expire-password", "alice"), "password expired for user alice")
	contains(t, mustRun(t, srv, "users", "expire-password", "alice", "--send-link"), "link sent to alice@example.com")
	out := mustRun(t, srv, "-o", "json", "outbox", "list")
	var list struct {
		Items []struct {
			ID   string `json:"id"`
			To   string `json:"to"`
			Body string `json:"body"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) != 1 || list.Items[0].To != "alice@example.com" {
		t.Fatalf("outbox: %v %s", err, out)
	}
	contains(t, mustRun(t, srv, "outbox", "show", list.Items[0].ID), "http://lk.test/w/default/password/set?token=lkpw_")
	contains(t, mustRun(t, srv, "audit", "list", "--action", "user.password.expire"), "user/alice")
	// The plain set-password link lands in the outbox too.
	mustRun(t, srv, "users", "send-password-link", "alice")
	if out := mustRun(t, srv, "outbox", "list"); strings.Count(out, "alice@example.com") != 2 {
		t.Fatalf("outbox after send-password-link:\n%s", out)
	}
	if _, err := run(t, srv, "users", "expire-password", "nobody"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing user: %v", err)
	}
}
