package console_test

import (
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/declarative"
)

// The settings page links to the workspace's configuration document, a
// YAML download that parses as a document of the workspace and holds no
// secret.
func TestConsoleExportConfig(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	b.setupAdmin(t)
	resp, body := b.get("/console/w/default/settings")
	wantStatus(t, "settings", resp, 200)
	if !strings.Contains(body, `href="/console/w/default/export" download`) {
		t.Fatalf("settings page has no export link:\n%s", body)
	}
	resp, body = b.get("/console/w/default/export")
	wantStatus(t, "export", resp, 200)
	if ct := resp.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="default.yaml"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	doc, err := declarative.Parse([]byte(body))
	if err != nil || doc.WorkspaceID() != "default" {
		t.Fatalf("download is not the workspace's document: %v\n%s", err, body)
	}
	resp, _ = b.get("/console/w/nope/export")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown workspace: %d", resp.StatusCode)
	}
	anon := e.browser()
	resp, _ = anon.get("/console/w/default/export")
	if strings.Contains(resp.Header.Get("Content-Type"), "yaml") {
		t.Fatal("export without a session")
	}
}
