package admincmd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/cli/admincmd"
	"github.com/latchkey/latchkey/internal/service/servicetest"
)

const token = "cli-test-token"

func server(t *testing.T) *httptest.Server {
	t.Helper()
	env := servicetest.New(t)
	mux := http.NewServeMux()
	(&adminapi.Handler{Service: env.Service, Auth: adminapi.Auth{Static: token}, BaseURL: "http://lk.test"}).Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// run executes "admin args..." against srv and returns stdout.
func run(t *testing.T, srv *httptest.Server, args ...string) (string, error) {
	t.Helper()
	cmd := admincmd.NewCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--server", srv.URL, "--token", token}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func mustRun(t *testing.T, srv *httptest.Server, args ...string) string {
	t.Helper()
	out, err := run(t, srv, args...)
	if err != nil {
		t.Fatalf("admin %v: %v\n%s", args, err, out)
	}
	return out
}

func contains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestWorkspaces(t *testing.T) {
	srv := server(t)
	contains(t, mustRun(t, srv, "workspaces", "create", "acme", "--name", "Acme", "--access-token-ttl", "10m", "--signing-alg", "ES256"),
		"acme", "Acme", "10m0s", "http://lk.test/w/acme")
	contains(t, mustRun(t, srv, "workspaces", "list"), "ID", "NAME", "acme", "default")
	contains(t, mustRun(t, srv, "workspaces", "update", "acme", "--name", "Acme Corp"), "Acme Corp", "10m0s")
	contains(t, mustRun(t, srv, "workspaces", "get", "acme"), "Acme Corp")
	contains(t, mustRun(t, srv, "workspaces", "delete", "acme"), "deleted workspace acme")
	_, err := run(t, srv, "workspaces", "get", "acme")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestJSONOutputIsTheAPIResponse(t *testing.T) {
	srv := server(t)
	out := mustRun(t, srv, "--output", "json", "workspaces", "get", "default")
	req, _ := http.NewRequest("GET", srv.URL+"/admin/v1/workspaces/default", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var direct bytes.Buffer
	_, _ = direct.ReadFrom(res.Body)
	if out != direct.String() {
		t.Fatalf("--output json must print the API JSON unchanged:\n%s\nvs\n%s", out, direct.String())
	}
}

func TestServicesAndClients(t *testing.T) {
	srv := server(t)
	contains(t, mustRun(t, srv, "services", "create", "--id", "api", "--name", "API", "--identifier", "https://api.example",
		"--scope", "read=Read things", "--scope", "write"), "api", "https://api.example", "read", "Read things", "write")
	contains(t, mustRun(t, srv, "services", "list"), "api", "read,write")
	contains(t, mustRun(t, srv, "services", "get", "api"), "Read things")

	out := mustRun(t, srv, "-o", "json", "clients", "create", "--name", "Backend", "--scope", "read", "--metadata", "team=core")
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created.ClientSecret) != 43 {
		t.Fatalf("create json: %v %s", err, out)
	}
	id := created.ClientID
	contains(t, mustRun(t, srv, "clients", "list"), "CLIENT ID", id, "Backend", "client_secret_basic")
	get := mustRun(t, srv, "clients", "get", id)
	contains(t, get, "Backend", "team")
	if strings.Contains(get, created.ClientSecret) {
		t.Fatal("get must not print the secret")
	}
	contains(t, mustRun(t, srv, "clients", "update", id, "--description", "billing"), "billing", "Backend")
	contains(t, mustRun(t, srv, "clients", "disable", id), "Enabled:", "no")
	contains(t, mustRun(t, srv, "clients", "enable", id), "yes")
	rot := mustRun(t, srv, "clients", "rotate-secret", id)
	contains(t, rot, "Client secret:", "shown only once")
	if strings.Contains(rot, created.ClientSecret) {
		t.Fatal("rotation must print a new secret")
	}
	contains(t, mustRun(t, srv, "clients", "delete", id), "deleted client")
	contains(t, mustRun(t, srv, "services", "delete", "api"), "deleted service api")
}

func TestClientJWKSFile(t *testing.T) {
	srv := server(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k1"}]}`
	if err := os.WriteFile(path, []byte(jwks), 0o600); err != nil {
		t.Fatal(err)
	}
	contains(t, mustRun(t, srv, "clients", "create", "--name", "Signer", "--jwks-file", path), "private_key_jwt", "inline JWKS")
}

func TestValidationErrorsArePrinted(t *testing.T) {
	srv := server(t)
	_, err := run(t, srv, "clients", "create", "--name", "Web", "--grant-type", "authorization_code",
		"--redirect-uri", "http://app.example/cb")
	if err == nil || !strings.Contains(err.Error(), "redirect_uris[0]: must use https (or http on a loopback address)") {
		t.Fatalf("got %v", err)
	}
}

func TestKeysAndInitialAccessTokens(t *testing.T) {
	srv := server(t)
	contains(t, mustRun(t, srv, "keys", "list"), "KID", "active", "next")
	out := mustRun(t, srv, "keys", "rotate", "--alg", "EdDSA")
	contains(t, out, "retired", "EdDSA")
	var kid string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "retired" {
			kid = f[0]
		}
	}
	// Key IDs are base64url thumbprints: about 1 in 64 begins with '-', so
	// the ID goes after "--", as the CLI's hint tells users to do.
	contains(t, mustRun(t, srv, "keys", "remove", "--", kid), "removed key "+kid)

	contains(t, mustRun(t, srv, "initial-access-tokens", "create", "--description", "ci", "--max-uses", "3"), "lki_", "ci", "3")
	out = mustRun(t, srv, "-o", "json", "iat", "list")
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("%v %s", err, out)
	}
	contains(t, mustRun(t, srv, "initial-access-tokens", "list"), list.Items[0].ID, "ci")
	contains(t, mustRun(t, srv, "initial-access-tokens", "delete", list.Items[0].ID), "deleted")
}

func TestGlobalFlagErrors(t *testing.T) {
	srv := server(t)
	cases := map[string][]string{
		"bad output":     {"--output", "yaml", "workspaces", "list"},
		"bad server":     {"--server", "ftp://x", "workspaces", "list"},
		"wrong token":    {"--token", "nope", "workspaces", "list"},
		"missing arg":    {"clients", "get"},
		"bad scope flag": {"services", "create", "--name", "x", "--identifier", "y", "--scope", "=desc"},
		"bad metadata":   {"clients", "create", "--name", "x", "--metadata", "novalue"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := run(t, srv, args...); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	if _, err := run(t, srv, "--token", "", "workspaces", "list"); err == nil || !strings.Contains(err.Error(), "LATCHKEY_ADMIN_TOKEN") {
		t.Fatalf("missing token: %v", err)
	}
}

func TestWorkspaceFlag(t *testing.T) {
	srv := server(t)
	mustRun(t, srv, "workspaces", "create", "b", "--name", "B")
	mustRun(t, srv, "-w", "b", "services", "create", "--id", "only-b", "--name", "B API", "--identifier", "https://b")
	if out := mustRun(t, srv, "services", "list"); strings.Contains(out, "only-b") {
		t.Fatal("default workspace must not list b's services")
	}
	contains(t, mustRun(t, srv, "--workspace", "b", "services", "list"), "only-b")
}
