package declarative

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `apiVersion: latchkey/v1
kind: Workspace
workspace:
  id: acme
  name: Acme
  settings: {access_token_ttl: 600}
clients:
  - client_id: web
    name: Web
    client_secret: env:WEB_SECRET
    metadata: {team: "payments"}
  - client_id: api
    name: API
users:
  - {id: bob, username: bob}
`

func TestParseAndRender(t *testing.T) {
	d, err := Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if d.WorkspaceID() != "acme" || len(d.Clients) != 2 || d.Workspace["settings"].(map[string]any)["access_token_ttl"] != int64(600) {
		t.Fatalf("parsed %+v", d)
	}
	d.Sort()
	if d.Clients[0]["client_id"] != "api" {
		t.Fatalf("not sorted: %v", d.Clients)
	}
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	out := string(y)
	if !strings.HasPrefix(out, "apiVersion: latchkey/v1\nkind: Workspace\nworkspace:\n  id: acme\n  name: Acme\n") {
		t.Fatalf("layout:\n%s", out)
	}
	if strings.Index(out, "users:") > strings.Index(out, "clients:") {
		t.Fatalf("collections out of order:\n%s", out)
	}
	again, err := Parse(y)
	if err != nil {
		t.Fatal(err)
	}
	y2, _ := again.YAML()
	if string(y2) != out {
		t.Fatalf("render → parse → render differs:\n%s\n%s", out, y2)
	}
	js, _ := d.JSON()
	fromJSON, err := Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	if y3, _ := fromJSON.YAML(); string(y3) != out {
		t.Fatalf("JSON round trip differs:\n%s", y3)
	}
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: acme}\n"
	cases := []struct{ doc, want string }{
		{"", "empty"},
		{"- a\n- b\n", "document"},
		{"apiVersion: latchkey/v2\nkind: Workspace\nworkspace: {id: a}\n", `apiVersion: must be "latchkey/v1"`},
		{"apiVersion: latchkey/v1\nkind: Workspace\n", "workspace: is required"},
		{"apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {name: x}\n", "workspace.id: is required"},
		{head + "services:\n  - {name: s}\n", "services[0].id: is required"},
		{head + "profiles:\n  - {id: p}\n  - {id: p}\n", "profiles[p]: is named twice"},
		{head + "users:\n  - {id: u, client_secret: env:X}\n", "users[u].client_secret: only clients have a secret"},
		{head + "---\n" + head, "more than one YAML document"},
		{"apiVersion: latchkey/v1\nkind: List\nworkspace: {id: a}\n", "resources belong in items"},
		{"apiVersion: latchkey/v1\nkind: List\nitems:\n  - {workspace: {id: a}}\n  - {workspace: {id: a}}\n", `workspace "a" is named twice`},
		{"apiVersion: latchkey/v1\nkind: List\nitems:\n  - {kind: List}\n", "items[0].kind"},
		{head + "a: &a [1,2]\n", "unknown member"},
		{"{1: 2}", "string keys"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
	if _, err := Parse(make([]byte, MaxDocumentBytes+1)); err == nil {
		t.Error("oversized document accepted")
	}
}

func TestResolveSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	_ = os.WriteFile(path, []byte("from-file\n"), 0o600)
	env := map[string]string{"WEB_SECRET": "from-env"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	doc := func(ref string) *Document {
		d, err := Parse([]byte(strings.Replace(sample, "env:WEB_SECRET", ref, 1)))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := doc("env:WEB_SECRET")
	if err := ResolveSecrets(d, getenv, os.ReadFile); err != nil || d.Clients[0][secretKey] != "value:from-env" {
		t.Fatalf("env: %v %v", err, d.Clients[0][secretKey])
	}
	d = doc("file:" + path)
	if err := ResolveSecrets(d, getenv, os.ReadFile); err != nil || d.Clients[0][secretKey] != "value:from-file" {
		t.Fatalf("file: %v %v", err, d.Clients[0][secretKey])
	}
	for ref, want := range map[string]string{
		"env:NOPE":                  "clients[web].client_secret: environment variable NOPE is not set",
		"file:" + path + "-missing": "clients[web].client_secret: cannot read",
		"hunter2":                   "never written in the file",
		"value:literal":             "never written in the file",
	} {
		err := ResolveSecrets(doc(ref), getenv, os.ReadFile)
		var de *Error
		if !errors.As(err, &de) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", ref, err, want)
		}
	}
}

func TestEqualTreatsAbsentAsZero(t *testing.T) {
	for _, v := range []any{nil, "", false, int64(0), 0.0, []any{}, map[string]any{}} {
		if !equal(v, nil) {
			t.Errorf("%#v should equal an absent member", v)
		}
	}
	if equal("x", nil) || equal([]any{"a"}, []any{"b"}) || !equal([]any{"a"}, []any{"a"}) {
		t.Error("equal")
	}
}

// FuzzParse: no document panics the parser, and whatever it accepts
// renders and parses back to the same rendering.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("apiVersion: latchkey/v1\nkind: List\nitems: [{workspace: {id: a}}]\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		d.Sort()
		y, err := d.YAML()
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		again, err := Parse(y)
		if err != nil {
			t.Fatalf("rendered document does not parse: %v\n%s", err, y)
		}
		y2, _ := again.YAML()
		if string(y2) != string(y) {
			t.Fatalf("render → parse → render differs:\n%s\n%s", y, y2)
		}
	})
}
