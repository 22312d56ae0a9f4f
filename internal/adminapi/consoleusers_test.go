package adminapi_test

import (
	"context"
	"crypto/sha256"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

const cu = "/admin/v1/console-users"

func TestConsoleUsers(t *testing.T) {
	a := newAPI(t)
	r := a.want(a.do("POST", cu, map[string]any{
		"username": "Alice", "email": "alice@example.com", "password": "correct horse battery", "role": "super_admin",
	}), 201)
	id, _ := r.body["id"].(string)
	if r.body["username"] != "alice" || r.body["password"] != nil || r.body["password_hash"] != nil || id == "" {
		t.Fatalf("create: %s", r.raw)
	}
	a.want(a.do("GET", cu+"/"+id, nil), 200)
	r = a.want(a.do("GET", cu, nil), 200)
	if items, _ := r.body["items"].([]any); len(items) != 1 {
		t.Fatalf("list: %s", r.raw)
	}
	// Validation names the field and the rule, as the console shows it.
	r = a.want(a.do("POST", cu, map[string]any{"username": "bob", "password": "short", "role": "workspace_viewer"}), 400)
	if !strings.Contains(string(r.raw), `"field":"password"`) || !strings.Contains(string(r.raw), `"field":"workspaces"`) {
		t.Fatalf("validation: %s", r.raw)
	}
	a.want(a.do("POST", cu, map[string]any{"username": "alice", "password": "correct horse battery", "role": "super_admin"}), 409)

	r = a.want(a.do("POST", cu, map[string]any{
		"username": "bob", "password": "correct horse battery", "role": "workspace_viewer", "workspaces": []string{"default"},
	}), 201)
	bob := r.body["id"].(string)
	r = a.want(a.do("PATCH", cu+"/"+bob, map[string]any{"role": "workspace_admin", "disabled": true}), 200)
	if r.body["role"] != "workspace_admin" || r.body["disabled"] != true {
		t.Fatalf("update: %s", r.raw)
	}
	a.want(a.do("PUT", cu+"/"+bob+"/password", map[string]any{"password": "another good password"}), 204)
	if _, err := a.env.Service.AuthenticateConsoleUser(context.Background(), "bob", "another good password"); err == nil {
		t.Fatal("a disabled user signed in")
	}
	a.want(a.do("PATCH", cu+"/"+bob, map[string]any{"disabled": false}), 200)
	if _, err := a.env.Service.AuthenticateConsoleUser(context.Background(), "bob", "another good password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	a.want(a.do("DELETE", cu+"/"+bob, nil), 204)
	a.want(a.do("DELETE", cu+"/"+bob, nil), 404)
	// SECURITY.md O4: the last enabled super admin stays.
	a.want(a.do("PATCH", cu+"/"+id, map[string]any{"disabled": true}), 409)
	a.want(a.do("DELETE", cu+"/"+id, nil), 409)
}

func TestConsoleUserErrors(t *testing.T) {
	a := newAPI(t)
	id := a.want(a.do("POST", cu, map[string]any{
		"username": "alice", "password": "correct horse battery", "role": "super_admin",
	}), 201).body["id"].(string)
	viewer := a.want(a.do("POST", cu, map[string]any{
		"username": "vera", "password": "correct horse battery", "role": "workspace_viewer", "workspaces": []string{"default"},
	}), 201).body["id"].(string)
	cases := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"no token (O4)", "GET", cu, nil, 401},
		{"unknown user", "GET", cu + "/adm_nope", nil, 404},
		{"id is server-assigned", "POST", cu, map[string]any{"id": "x", "username": "x", "password": "correct horse battery", "role": "super_admin"}, 400},
		{"username is fixed", "PATCH", cu + "/" + id, map[string]any{"username": "mallory"}, 400},
		{"password has its own route", "PATCH", cu + "/" + id, map[string]any{"password": "correct horse battery 2"}, 400},
		{"unknown field", "PATCH", cu + "/" + id, map[string]any{"password_hash": "x"}, 400},
		{"bad role", "PATCH", cu + "/" + viewer, map[string]any{"role": "root"}, 400},
		{"unknown workspace", "POST", cu, map[string]any{"username": "v", "password": "correct horse battery", "role": "workspace_viewer", "workspaces": []string{"nope"}}, 400},
		{"short password", "PUT", cu + "/" + id + "/password", map[string]any{"password": "short"}, 400},
		{"password of unknown user", "PUT", cu + "/adm_nope/password", map[string]any{"password": "correct horse battery"}, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := "Bearer " + adminToken
			if tc.status == 401 {
				auth = ""
			}
			sub := *a
			sub.t = t
			sub.want(sub.doAuth(tc.method, tc.path, tc.body, auth), tc.status)
		})
	}
}

// mailbox is a service.Mailer that keeps the messages.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

func (m *mailbox) SendMail(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = append(m.msgs, to+"\n"+subject+"\n"+body)
	return nil
}

var codeRe = regexp.MustCompile(`code is (\d{6})`)

func (m *mailbox) lastCode(t *testing.T) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.msgs) == 0 {
		t.Fatal("no mail sent")
	}
	c := codeRe.FindStringSubmatch(m.msgs[len(m.msgs)-1])
	if c == nil {
		t.Fatalf("no code in %q", m.msgs[len(m.msgs)-1])
	}
	return c[1]
}

// TestSecretViewByCode is the API side of the console's "View secret"
// button: a code to the contact e-mail, then the secret,
// audited; codes are bound to the token that asked for them.
func TestSecretViewByCode(t *testing.T) {
	a := newAPI(t)
	mb := &mailbox{}
	a.env.Service.Mailer = mb
	r := a.want(a.do("POST", ws+"/clients", map[string]any{
		"name": "svc", "contact_email": "owner@example.com", "grant_types": []string{"client_credentials"},
	}), 201)
	id, secret := r.body["client_id"].(string), r.body["client_secret"].(string)
	base := ws + "/clients/" + id + "/secret"

	a.want(a.do("POST", base+"/reveal", map[string]any{"code": "000000"}), 400) // no code requested yet
	r = a.want(a.do("POST", base+"/code", nil), 202)
	if r.body["sent_to"] != "owner@example.com" || r.body["expires_in"] != float64(600) || r.body["tries"] != float64(5) {
		t.Fatalf("code: %s", r.raw)
	}
	code := mb.lastCode(t)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = a.want(a.do("POST", base+"/reveal", map[string]any{"code": wrong}), 400)
	if !strings.Contains(string(r.raw), "4 tries left") {
		t.Fatalf("wrong code: %s", r.raw)
	}
	// Another admin token cannot spend this token's code.
	sum := sha256.Sum256([]byte("other-token"))
	if err := a.env.Store.CreateAdminToken(context.Background(), storage.AdminToken{ID: "t2", Name: "other", Hash: sum[:], CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	a.want(a.doAuth("POST", base+"/reveal", map[string]any{"code": code}, "Bearer other-token"), 400)

	r = a.want(a.do("POST", base+"/reveal", map[string]any{"code": code}), 200)
	if r.body["client_secret"] != secret || r.body["client_id"] != id {
		t.Fatalf("reveal: %s", r.raw)
	}
	a.want(a.do("POST", base+"/reveal", map[string]any{"code": code}), 400) // used up

	page, err := a.env.Service.ListAuditEvents(context.Background(), storage.AuditFilter{WorkspaceID: "default", TargetType: service.TargetClient, TargetID: id})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range page.Items {
		seen[e.Action] = true
		if strings.Contains(string(e.Details), secret) {
			t.Fatalf("audit details hold the secret: %s", e.Details)
		}
	}
	for _, want := range []string{service.AuditSecretCodeSent, service.AuditSecretCodeWrong, service.AuditSecretView} {
		if !seen[want] {
			t.Errorf("audit lacks %s: %v", want, seen)
		}
	}
}

func TestSecretCodeErrors(t *testing.T) {
	a := newAPI(t)
	a.env.Service.Mailer = &mailbox{}
	pub := a.want(a.do("POST", ws+"/clients", map[string]any{
		"name": "spa", "contact_email": "o@example.com", "type": "public", "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"https://app.example/cb"},
	}), 201).body["client_id"].(string)
	noMail := a.want(a.do("POST", ws+"/clients", map[string]any{"name": "svc", "grant_types": []string{"client_credentials"}}), 201).body["client_id"].(string)
	cases := []struct {
		name, path string
		body       any
		status     int
	}{
		{"unknown client", ws + "/clients/nope/secret/code", nil, 404},
		{"unknown workspace", "/admin/v1/workspaces/nope/clients/x/secret/code", nil, 404},
		{"public client has no secret", ws + "/clients/" + pub + "/secret/code", nil, 409},
		{"no contact e-mail", ws + "/clients/" + noMail + "/secret/code", nil, 409},
		{"reveal without body", ws + "/clients/" + noMail + "/secret/reveal", nil, 400},
		{"reveal with unknown field", ws + "/clients/" + noMail + "/secret/reveal", map[string]any{"code": "1", "x": 1}, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub := *a
			sub.t = t
			sub.want(sub.do("POST", tc.path, tc.body), tc.status)
		})
	}
}
