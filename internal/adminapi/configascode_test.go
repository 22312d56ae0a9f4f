package adminapi_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

// seedConfig fills the default workspace with resources of every kind,
// their sub-resources and references between them.
func (a *api) seedConfig() {
	a.t.Helper()
	a.seedService()
	a.want(a.do("POST", ws+"/profiles", map[string]any{"id": "staff", "name": "Staff"}), 201)
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "svc-cmic", "username": "svc-cmic", "service_user": true, "profiles": []string{"staff"}}), 201)
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "staff-only", "name": "Staff only", "kind": "user",
		"rules": []map[string]any{{"condition": `"staff" in user.profiles`, "outcome": "allow"}}}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "billing-api", "name": "Billing",
		"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}}), 201)
	a.want(a.do("PUT", ws+"/clients/billing-api/claims", map[string]any{"claims": []map[string]any{
		{"name": "cmicuser", "expression": `"acme||" + client.id`, "targets": []string{"access_token"}}}}), 200)
	a.want(a.do("PUT", ws+"/clients/billing-api/policies", map[string]any{"user_policy_id": "staff-only"}), 200)
	a.want(a.do("POST", ws+"/policies", map[string]any{"id": "internal-only", "name": "Internal", "kind": "access",
		"rules": []map[string]any{{"condition": `client.id == "billing-api"`, "outcome": "allow"}}}), 201)
	a.want(a.do("PUT", ws+"/services/api/access-policy", map[string]any{"policy_id": "internal-only"}), 200)
	a.want(a.do("PUT", ws+"/default-user-policy", map[string]any{"policy_id": "staff-only"}), 200)
}

func (a *api) export() string {
	a.t.Helper()
	return string(a.want(a.do("GET", ws+"/export", nil), 200).raw)
}

func (a *api) apply(doc, query string) resp {
	a.t.Helper()
	return a.do("POST", ws+"/apply"+query, doc)
}

func auditCount(t *testing.T, a *api) int {
	t.Helper()
	page, err := a.env.Store.ListAuditEvents(context.Background(), storage.AuditFilter{WorkspaceID: "default", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

// Export, apply to a fresh server, export again: the same bytes. A
// second apply changes nothing and writes no audit event.
func TestExportApplyRoundTrip(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	doc := a.export()
	for _, want := range []string{"apiVersion: latchkey/v1", "kind: Workspace", "client_id: billing-api",
		"default_user_policy: staff-only", "access_policy: internal-only", "user_policy_id: staff-only", "cmicuser"} {
		if !strings.Contains(doc, want) {
			t.Errorf("export lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "client_secret:") || strings.Contains(doc, "created_at") {
		t.Errorf("export holds a secret or a time:\n%s", doc)
	}

	b := newAPI(t)
	r := b.want(b.apply(doc, ""), 200)
	if r.body["applied"] != true {
		t.Fatalf("not applied: %s", r.raw)
	}
	if got := b.export(); got != doc {
		t.Fatalf("export after apply differs:\n--- first\n%s\n--- second\n%s", doc, got)
	}
	before := auditCount(t, b)
	r = b.want(b.apply(doc, ""), 200)
	var res struct {
		Plans []struct {
			Changes []any `json:"changes"`
		} `json:"plans"`
		Diff string `json:"diff"`
	}
	_ = json.Unmarshal(r.raw, &res)
	if len(res.Plans) != 1 || len(res.Plans[0].Changes) != 0 {
		t.Fatalf("second apply changed something: %s", r.raw)
	}
	if after := auditCount(t, b); after != before {
		t.Fatalf("second apply wrote %d audit events", after-before)
	}
}

// A file with one invalid client changes nothing, and the error names the
// client and the member.
func TestApplyInvalidClientWritesNothing(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	doc := a.export()
	before := auditCount(t, a)
	bad := strings.Replace(doc, "profiles:\n  - id: staff\n", "profiles:\n  - id: new-profile\n    name: New\n  - id: staff\n", 1)
	bad = strings.Replace(bad, "clients:\n", `clients:
  - client_id: broken-app
    name: Broken
    grant_types: [authorization_code]
    redirect_uris: ["not a url"]
`, 1)
	for _, q := range []string{"", "?dry_run=true"} {
		r := a.want(a.apply(bad, q), 400)
		fields := map[string]bool{}
		for _, e := range r.body["errors"].([]any) {
			fields[e.(map[string]any)["field"].(string)] = true
		}
		if !fields["clients[broken-app].redirect_uris[0]"] {
			t.Fatalf("%q: error does not name clients[broken-app].redirect_uris[0]: %s", q, r.raw)
		}
		if !strings.Contains(r.body["error_description"].(string), "clients[broken-app].redirect_uris[0]") {
			t.Fatalf("description does not name the member: %s", r.raw)
		}
	}
	a.want(a.do("GET", ws+"/profiles/new-profile", nil), 404)
	a.want(a.do("GET", ws+"/clients/broken-app", nil), 404)
	if got := a.export(); got != doc {
		t.Fatalf("a refused apply changed the workspace:\n%s", got)
	}
	if after := auditCount(t, a); after != before {
		t.Fatalf("a refused apply wrote %d audit events", after-before)
	}
}

// Document errors found before the server is asked name the member too.
func TestApplyDocumentErrors(t *testing.T) {
	a := newAPI(t)
	head := "apiVersion: latchkey/v1\nkind: Workspace\nworkspace:\n  id: default\n"
	cases := []struct{ name, doc, want string }{
		{"version", "apiVersion: v9\nkind: Workspace\nworkspace: {id: default}\n", "apiVersion"},
		{"kind", "apiVersion: latchkey/v1\nkind: Thing\n", "kind"},
		{"unknown member", head + "widgets: []\n", "widgets"},
		{"no id", head + "clients:\n  - name: x\n", "clients[0].client_id"},
		{"twice", head + "users:\n  - {id: a}\n  - {id: a}\n", "users[a]: is named twice"},
		{"other workspace", "apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: other}\n", "workspace.id"},
		{"not yaml", "{{{", "not valid YAML"},
		{"env on server", head + "clients:\n  - {client_id: billing-api, client_secret: 'env:X'}\n", "clients[billing-api].client_secret"},
		{"literal secret", head + "clients:\n  - {client_id: billing-api, client_secret: hunter2}\n", "a secret is never written in the file"},
		{"unknown client member", head + "clients:\n  - {client_id: c1, name: C, colour: red}\n", "clients[c1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.want(a.apply(c.doc, ""), 400)
			if !strings.Contains(string(r.raw), c.want) {
				t.Fatalf("error lacks %q: %s", c.want, r.raw)
			}
		})
	}
	a.want(a.apply(head, "?dry_run=maybe"), 400)
	a.want(a.apply(head, "?prune=true&prune=false"), 400)
}

// --prune deletes exactly what the file does not name, and only with it.
func TestApplyPrune(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	doc := a.export()
	a.want(a.do("POST", ws+"/users", map[string]any{"id": "old", "username": "old"}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "old-app", "name": "Old", "grant_types": []string{"client_credentials"}}), 201)

	r := a.want(a.apply(doc, ""), 200)
	if strings.Contains(string(r.raw), `"delete"`) {
		t.Fatalf("apply without prune deletes: %s", r.raw)
	}
	a.want(a.do("GET", ws+"/users/old", nil), 200)

	r = a.want(a.apply(doc, "?prune=true&dry_run=true"), 200)
	diff := r.body["diff"].(string)
	if !strings.Contains(diff, "- users[old]") || !strings.Contains(diff, "- clients[old-app]") || strings.Count(diff, "\n  - ") != 2 {
		t.Fatalf("dry run diff: %q", diff)
	}
	if r.body["applied"] != false {
		t.Fatalf("dry run applied: %s", r.raw)
	}
	a.want(a.do("GET", ws+"/users/old", nil), 200)

	a.want(a.apply(doc, "?prune=true"), 200)
	a.want(a.do("GET", ws+"/users/old", nil), 404)
	a.want(a.do("GET", ws+"/clients/old-app", nil), 404)
	if got := a.export(); got != doc {
		t.Fatalf("after prune:\n%s\nwant\n%s", got, doc)
	}
}

// A field-level diff names each changed member; an update changes only it.
func TestApplyDiff(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	doc := a.export()
	changed := strings.Replace(doc, "name: Billing", "name: Billing v2", 1)
	changed = strings.Replace(changed, "access_token_ttl: 3600", "access_token_ttl: 600", 1)
	r := a.want(a.apply(changed, "?dry_run=true"), 200)
	diff := r.body["diff"].(string)
	for _, want := range []string{`~ clients[billing-api].name: "Billing" → "Billing v2"`, "~ workspace.settings.access_token_ttl: 3600 → 600"} {
		if !strings.Contains(diff, want) {
			t.Fatalf("diff lacks %q:\n%s", want, diff)
		}
	}
	a.want(a.apply(changed, ""), 200)
	if got := a.export(); got != changed {
		t.Fatalf("after apply:\n%s", got)
	}
}

// A client secret is given by value (the CLI resolves env: and file:),
// set, compared without being shown, and never exported.
func TestApplyClientSecret(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	doc := a.export()
	secret := strings.Repeat("s3cret-", 6)
	withSecret := strings.Replace(doc, "  - client_id: billing-api\n", "  - client_id: billing-api\n    client_secret: 'value:"+secret+"'\n", 1)
	r := a.want(a.apply(withSecret, ""), 200)
	if strings.Contains(string(r.raw), secret) {
		t.Fatalf("answer shows the secret: %s", r.raw)
	}
	ok, err := a.env.Service.ClientSecretEquals(context.Background(), "default", "billing-api", secret)
	if err != nil || !ok {
		t.Fatalf("secret not set: %v %v", ok, err)
	}
	if got := a.export(); got != doc || strings.Contains(got, secret) {
		t.Fatalf("export shows the secret or changed:\n%s", got)
	}
	r = a.want(a.apply(withSecret, ""), 200)
	if strings.Contains(string(r.raw), `"op"`) {
		t.Fatalf("same secret applied twice changes it: %s", r.raw)
	}
	short := strings.Replace(doc, "  - client_id: billing-api\n", "  - client_id: billing-api\n    client_secret: 'value:short'\n", 1)
	r = a.want(a.apply(short, ""), 400)
	if !strings.Contains(string(r.raw), "clients[billing-api].client_secret") {
		t.Fatalf("short secret error: %s", r.raw)
	}
}

// Export is a read (a viewer token may), apply a write (it may not); a
// workspace token cannot use the server-wide routes.
func TestConfigAsCodeRoles(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	_, viewer := a.createAdminToken(map[string]any{"name": "viewer", "role": "workspace_viewer", "workspaces": []string{"default"}})
	_, wsAdmin := a.createAdminToken(map[string]any{"name": "ops", "role": "workspace_admin", "workspaces": []string{"default"}})
	doc := a.export()
	a.want(a.doAuth("GET", ws+"/export", nil, "Bearer "+viewer), 200)
	a.want(a.doAuth("POST", ws+"/apply", doc, "Bearer "+viewer), 403)
	a.want(a.doAuth("POST", ws+"/apply", doc, "Bearer "+wsAdmin), 200)
	a.want(a.doAuth("GET", "/admin/v1/export", nil, "Bearer "+wsAdmin), 403)
	a.want(a.doAuth("POST", "/admin/v1/apply", doc, "Bearer "+wsAdmin), 403)
	a.want(a.doAuth("GET", ws+"/export", nil, ""), 401)
}

// The server-wide routes export every workspace as a List and create the
// workspaces a document names.
func TestApplyAllCreatesWorkspaces(t *testing.T) {
	a := newAPI(t)
	a.seedConfig()
	a.want(a.do("POST", "/admin/v1/workspaces", map[string]any{"id": "acme", "name": "Acme"}), 201)
	a.want(a.do("POST", "/admin/v1/workspaces/acme/profiles", map[string]any{"id": "ops", "name": "Ops"}), 201)
	all := string(a.want(a.do("GET", "/admin/v1/export", nil), 200).raw)
	if !strings.Contains(all, "kind: List") || !strings.Contains(all, "id: acme") {
		t.Fatalf("export all:\n%s", all)
	}
	b := newAPI(t)
	b.want(b.do("POST", "/admin/v1/apply", all), 200)
	if got := string(b.want(b.do("GET", "/admin/v1/export", nil), 200).raw); got != all {
		t.Fatalf("export all after apply differs:\n%s\nwant\n%s", got, all)
	}
	r := b.want(b.do("POST", "/admin/v1/apply", all), 200)
	if strings.Contains(string(r.raw), `"op"`) {
		t.Fatalf("second apply changes: %s", r.raw)
	}
	js := b.want(b.doAccept("GET", ws+"/export", "application/json"), 200)
	if js.body["apiVersion"] != "latchkey/v1" {
		t.Fatalf("JSON export: %s", js.raw)
	}
}

func (a *api) doAccept(method, path, accept string) resp {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, a.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// References in both directions (a trusted issuer names a client whose
// JWT bearer settings name the issuer), certificates and a service user
// survive export → apply → export.
func TestExportApplyReferencesAndCertificates(t *testing.T) {
	certKeys()
	a := newAPI(t)
	a.seedConfig()
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "cmic", "name": "CMiC",
		"grant_types": []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "scopes": []string{"read"}}), 201)
	der := makeCert(t, rsa2048, x509.KeyUsageDigitalSignature, time.Now().Add(365*24*time.Hour))
	a.want(a.do("POST", ws+"/clients/cmic/certificates", map[string]any{"certificate": pemOf("CERTIFICATE", der), "kid": "sn-kid"}), 201)
	a.want(a.do("POST", ws+"/trusted-issuers", map[string]any{
		"id": "idp", "name": "IdP", "issuer": "https://idp.example.com", "jwks_uri": "https://idp.example.com/jwks",
		"audience": "app-123", "allowed_clients": []string{"cmic"}, "claim": "cmicuser", "claim_format": "tenant||username",
	}), 201)
	a.want(a.do("PUT", ws+"/clients/cmic/jwt-bearer", map[string]any{"user_field": "email", "max_assertion_lifetime": 180,
		"service_user_id": "svc-cmic", "allowed_trusted_issuers": []string{"idp"}, "pre_auth": "all_users"}), 200)
	doc := a.export()
	for _, want := range []string{"trusted_issuers:", "allowed_trusted_issuers:", "kid: sn-kid", "BEGIN CERTIFICATE", "service_user_id: svc-cmic"} {
		if !strings.Contains(doc, want) {
			t.Fatalf("export lacks %q:\n%s", want, doc)
		}
	}
	b := newAPI(t)
	if r := b.apply(doc, ""); r.status != 200 {
		t.Fatalf("apply: %s\n%s", r.raw, doc)
	}
	if got := b.export(); got != doc {
		t.Fatalf("export after apply differs:\n%s\nwant\n%s", got, doc)
	}
	r := b.want(b.apply(doc, ""), 200)
	if strings.Contains(string(r.raw), `"op"`) {
		t.Fatalf("second apply changes: %s", r.raw)
	}
	// Dropping the certificate from the file removes it.
	start := strings.Index(doc, "    certificates:")
	end := strings.Index(doc[start:], "    client_uri:")
	noCert := doc[:start] + "    certificates: []\n" + doc[start+end:]
	r = b.want(b.apply(noCert, "?dry_run=true"), 200)
	if !strings.Contains(r.body["diff"].(string), "clients[cmic].certificates[sn-kid]") {
		t.Fatalf("diff: %s", r.raw)
	}
	b.want(b.apply(noCert, ""), 200)
	b.want(b.do("DELETE", ws+"/clients/cmic/certificates/sn-kid", nil), 404)
}

// A hand-written file that leaves most members out, builds a policy from
// a template and sets a member to null is idempotent too: the second apply
// changes nothing.
func TestApplyHandWrittenIsIdempotent(t *testing.T) {
	a := newAPI(t)
	doc := `apiVersion: latchkey/v1
kind: Workspace
workspace:
  id: default
  settings: {access_token_ttl: 900, branding: {display_name: Acme}}
policies:
  - id: machines
    name: Service users
    kind: machine
    template: service-users-only
services:
  - id: orders
    name: Orders
    identifier: https://orders.example
    scopes: [{name: orders.read}]
clients:
  - client_id: batch
    name: Batch
    description: null
    grant_types: [client_credentials]
    scopes: [orders.read]
    policies: {machine_policy_id: machines}
`
	r := a.want(a.apply(doc, ""), 200)
	if !strings.Contains(r.body["diff"].(string), "+ clients[batch]") {
		t.Fatalf("first apply: %s", r.raw)
	}
	r = a.want(a.apply(doc, ""), 200)
	if strings.Contains(string(r.raw), `"op"`) {
		t.Fatalf("second apply changes: %s", r.raw)
	}
	var ws struct {
		Settings struct {
			AccessTokenTTL int `json:"access_token_ttl"`
			Branding       struct {
				DisplayName string `json:"display_name"`
			} `json:"branding"`
		} `json:"settings"`
	}
	_ = json.Unmarshal(a.want(a.do("GET", ws0, nil), 200).raw, &ws)
	if ws.Settings.AccessTokenTTL != 900 || ws.Settings.Branding.DisplayName != "Acme" {
		t.Fatalf("settings not applied: %+v", ws)
	}
}

const ws0 = ws
