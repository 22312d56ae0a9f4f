package e2e

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/cli/admincmd"
	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// parityRow is one row of the README's table "Admin surface: API, CLI and
// console": each cell holds one or more `code` spans.
type parityRow struct {
	line             int
	resource, action string
	api, cli, pages  []string
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// readParityTable parses the table of the README section heading.
func readParityTable(t *testing.T, readme, heading string) []parityRow {
	t.Helper()
	f, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []parityRow
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			in = strings.TrimSpace(strings.TrimLeft(line, "#")) == heading
			continue
		case !in || !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.HasPrefix(line, "| Resource"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 5 {
			t.Errorf("README.md:%d: %d cells, want 5 (resource, action, API, CLI, console)", n, len(cells))
			continue
		}
		spans := func(cell string) []string {
			var out []string
			for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
				out = append(out, m[1])
			}
			return out
		}
		rows = append(rows, parityRow{line: n, resource: strings.TrimSpace(cells[0]), action: strings.TrimSpace(cells[1]),
			api: spans(cells[2]), cli: spans(cells[3]), pages: spans(cells[4])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// findCommand walks "latchkey admin words..." down the cobra tree: words
// are subcommands until the first flag (--name, which must exist on the
// command reached). It returns what is wrong, or "".
func findCommand(root *cobra.Command, line string) string {
	words := strings.Fields(line)
	if len(words) < 3 || words[0] != "latchkey" || words[1] != "admin" {
		return "does not start with \"latchkey admin\""
	}
	cmd := root
	i := 2
	for ; i < len(words) && !strings.HasPrefix(words[i], "-"); i++ {
		next := slices.IndexFunc(cmd.Commands(), func(c *cobra.Command) bool { return c.Name() == words[i] })
		if next < 0 {
			return "no subcommand " + strings.Join(words[:i+1], " ")
		}
		cmd = cmd.Commands()[next]
	}
	if !cmd.Runnable() {
		return strings.Join(words[:i], " ") + " does nothing by itself"
	}
	for _, w := range words[i:] {
		name, _, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		if !strings.HasPrefix(w, "--") || (cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil) {
			return strings.Join(words[:i], " ") + " has no flag " + w
		}
	}
	return ""
}

// requiredParity are resource and action words every table must keep: the
// powers that were once missing from one surface.
var requiredParity = [][2]string{
	{"audit log", "list"}, {"mail outbox", "list"}, {"mail outbox", "show"},
	{"initial access tokens", "create"}, {"signing keys", "remove"},
	{"users", "sessions"}, {"users", "consents"}, {"users", "set password"}, {"users", "expire password"},
	{"users", "set-password link"}, {"workspaces", "enable, disable"}, {"workspaces", "key rotation period"},
	{"services", "update"}, {"profiles", "update"}, {"clients", "sign-in"}, {"clients", "refresh token"},
	{"clients", "logo URIs"},
}

// TestAdminSurfaceParity walks the README's table of admin powers: every
// row must name an API route the server serves, a CLI command (and flags)
// that exists, and a console page a signed-in super admin can open on a
// running server.
func TestAdminSurfaceParity(t *testing.T) {
	rows := readParityTable(t, filepath.Join("..", "..", "README.md"), "Admin surface: API, CLI and console")
	if len(rows) < 40 {
		t.Fatalf("the parity table has %d rows; is the section still in README.md?", len(rows))
	}
	for _, req := range requiredParity {
		if !slices.ContainsFunc(rows, func(r parityRow) bool {
			return r.resource == req[0] && strings.Contains(r.action, req[1])
		}) {
			t.Errorf("the parity table has no row %q / %q", req[0], req[1])
		}
	}

	lk := startInstance(t, "")
	pages := lk.parityFixtures(t)
	routes := adminapi.RoutePatterns()
	root := admincmd.NewCommand()
	// The checks can fail: a page, command, flag or route that does not
	// exist is caught.
	if st := pages.get(t, "/console/w/{ws}/no-such-page"); st != http.StatusNotFound {
		t.Errorf("a missing console page answered %d, want 404", st)
	}
	if st := pages.get(t, "/console/w/{ws}/clients/no-such-client/overview"); st != http.StatusNotFound {
		t.Errorf("a missing client's page answered %d, want 404", st)
	}
	for _, bad := range []string{"latchkey admin audit purge", "latchkey admin audit list --no-such-flag", "latchkey admin audit",
		"latchkey token get"} {
		if findCommand(root, bad) == "" {
			t.Errorf("findCommand accepted %q", bad)
		}
	}
	if slices.Contains(routes, "GET /admin/v1/workspaces/{ws}/no-such-route") {
		t.Error("route list accepts anything")
	}
	seenPage := map[string]int{}
	for _, r := range rows {
		where := "README.md:" + strconv.Itoa(r.line) + " (" + r.resource + " / " + r.action + ")"
		if len(r.api) == 0 || len(r.cli) == 0 || len(r.pages) == 0 {
			t.Errorf("%s: missing on a surface: %d API routes, %d CLI commands, %d console pages", where, len(r.api), len(r.cli), len(r.pages))
		}
		for _, route := range r.api {
			if !slices.Contains(routes, route) {
				t.Errorf("%s: the admin API does not serve %s", where, route)
			}
		}
		for _, c := range r.cli {
			if problem := findCommand(root, c); problem != "" {
				t.Errorf("%s: CLI %q: %s", where, c, problem)
			}
		}
		for _, p := range r.pages {
			status, ok := seenPage[p]
			if !ok {
				status = pages.get(t, p)
				seenPage[p] = status
			}
			if status != http.StatusOK {
				t.Errorf("%s: console page %s answered %d", where, p, status)
			}
		}
	}
}

// consolePages opens console pages as a signed-in super admin.
type consolePages struct {
	lk   *instance
	http *http.Client
	// ids replaces the placeholders of the table's console paths.
	ids *strings.Replacer
}

// parityFixtures creates one object of each kind the table's console
// paths name, and a console super admin, signed in.
func (lk *instance) parityFixtures(t *testing.T) *consolePages {
	t.Helper()
	ws := "/workspaces/default"
	lk.adminOK(t, "POST", ws+"/services", map[string]any{"id": "api", "name": "API", "identifier": "https://api.example",
		"scopes": []map[string]string{{"name": "read"}}}, 201, nil)
	lk.adminOK(t, "POST", ws+"/clients", map[string]any{"client_id": "web", "name": "Web", "grant_types": []string{"authorization_code"},
		"redirect_uris": []string{"https://app.example/cb"}, "scopes": []string{"read"}}, 201, nil)
	lk.adminOK(t, "POST", ws+"/users", map[string]any{"id": "u1", "username": "alice", "email": "alice@example.com", "active": true}, 201, nil)
	lk.adminOK(t, "POST", ws+"/profiles", map[string]any{"id": "staff", "name": "Staff"}, 201, nil)
	lk.adminOK(t, "POST", ws+"/trusted-issuers", map[string]any{"id": "idp", "name": "IdP", "issuer": "https://idp.example.com",
		"jwks_uri": "https://idp.example.com/jwks", "claim": "sub"}, 201, nil)
	lk.adminOK(t, "POST", ws+"/policies", map[string]any{"id": "svc", "name": "Service users", "kind": "machine",
		"template": "service-users-only"}, 201, nil)
	password := "parity-" + e2etest.RandomToken(16)
	lk.leaks.Add(password)
	var admin struct {
		ID string `json:"id"`
	}
	lk.adminOK(t, "POST", "/console-users", map[string]any{"username": "parity", "password": password, "role": "super_admin"}, 201, &admin)

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &consolePages{lk: lk, http: &http.Client{Jar: jar}, ids: strings.NewReplacer(
		"{ws}", "default", "{client}", "web", "{service}", "api", "{user}", "u1", "{profile}", "staff",
		"{issuer}", "idp", "{policy}", "svc", "{console_user}", admin.ID)}
	resp, err := p.http.Get(lk.base + "/console/signin")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := csrfInput.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("console sign-in form: %d, no csrf_token", resp.StatusCode)
	}
	resp, err = p.http.PostForm(lk.base+"/console/signin", url.Values{"csrf_token": {string(m[1])}, "username": {"parity"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.HasSuffix(resp.Request.URL.Path, "/signin") {
		t.Fatalf("console sign-in: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return p
}

// get opens the console page path (placeholders replaced), following
// redirects, and returns the final status; a page that sends the signed-in
// admin back to the sign-in page counts as 401.
func (p *consolePages) get(t *testing.T, path string) int {
	t.Helper()
	resp, err := p.http.Get(p.lk.base + p.ids.Replace(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if strings.HasSuffix(resp.Request.URL.Path, "/signin") {
		return http.StatusUnauthorized
	}
	return resp.StatusCode
}
