package console_test

import (
	"bytes"
	"encoding/pem"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// upload posts a certificate file as multipart/form-data.
func (b *browser) upload(path, tok, filename string, data []byte) (*http.Response, string) {
	b.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf_token", tok)
	fw, _ := mw.CreateFormFile("certificate", filename)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(resp.Body)
	return resp, out.String()
}

// signedInViewer creates the workspace_viewer "viewer" of the default
// workspace with the admin's browser and returns the viewer's browser,
// signed in, and its CSRF token.
func (b *browser) signedInViewer(t *testing.T, adminCSRF string) (*browser, string) {
	t.Helper()
	resp, _ := b.post("/console/users", url.Values{"csrf_token": {adminCSRF}, "username": {"viewer"}, "password": {"viewer password 1"},
		"role": {"workspace_viewer"}, "workspaces": {"default"}})
	wantStatus(t, "create viewer", resp, 200)
	v := b.e.browser()
	_, body := v.get("/console/signin")
	resp, body = v.post("/console/signin", url.Values{"csrf_token": {csrf(t, body)}, "username": {"viewer"}, "password": {"viewer password 1"}})
	wantStatus(t, "viewer signs in", resp, 200)
	return v, csrf(t, body)
}

// TestDirectoryPages covers the directory in the console: users and profiles,
// certificates and JWT bearer settings on the OAuth tab, trusted issuers.
func TestDirectoryPages(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"

	resp, _ := b.post(ws+"/profiles", url.Values{"csrf_token": {tok}, "id": {"integration"}, "name": {"Integration"}})
	wantStatus(t, "create profile", resp, 200)
	resp, body := b.post(ws+"/profiles", url.Values{"csrf_token": {tok}, "name": {""}})
	wantStatus(t, "profile without a name", resp, 400)
	if !strings.Contains(body, "<code>name</code>") {
		t.Fatal("validation does not name the field")
	}

	resp, body = b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"svc-user"}, "email": {"svc@example.com"},
		"active": {"on"}, "service_user": {"on"}, "profiles": {"integration"}, "attr_key": {"tenant", ""}, "attr_value": {"acme", ""}})
	wantStatus(t, "create user", resp, 200)
	userPath := resp.Request.URL.Path
	if !strings.Contains(body, `value="integration" checked`) || !strings.Contains(body, `value="acme"`) || !strings.Contains(body, `name="service_user" checked`) {
		t.Fatal("profile, attribute or service-user flag not saved")
	}
	userID := userPath[strings.LastIndex(userPath, "/")+1:]
	resp, _ = b.post(ws+"/users/new", url.Values{"csrf_token": {tok}, "username": {"svc-user"}})
	wantStatus(t, "duplicate username", resp, 409)
	_, body = b.get(ws + "/users?q=svc")
	if !strings.Contains(body, "svc-user") || !strings.Contains(body, "service user") {
		t.Fatal("search does not list the user")
	}

	resp, _ = b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"CMDB"}, "type": {"web"}, "redirect_uri": {"https://cmdb.example/cb"}})
	wantStatus(t, "create client", resp, 200)
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	// The JWT bearer grant is one of the grant types of the OAuth form.
	resp, _ = b.post(client+"/oauth", url.Values{"csrf_token": {tok}, "application_type": {"web"}, "grant_types": {"authorization_code", jwtBearerGrant},
		"response_types": {"code"}, "redirect_uris": {"https://cmdb.example/cb"}, "require_pkce": {"on"}, "token_endpoint_auth_method": {"client_secret_basic"}})
	wantStatus(t, "enable the JWT bearer grant", resp, 200)

	// Certificates: DER upload, PEM upload with an expiry warning, garbage.
	resp, body = b.upload(client+"/certificates", tok, "cert.der", e2etest.SelfSignedCert(t, "cmdb-der", time.Now().Add(365*24*time.Hour)))
	wantStatus(t, "upload DER", resp, 200)
	for _, want := range []string{"CN=cmdb-der", "RSA 2048", "Certificate added"} {
		if !strings.Contains(body, want) {
			t.Fatalf("certificate page lacks %q", want)
		}
	}
	soon := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e2etest.SelfSignedCert(t, "cmdb-soon", time.Now().Add(10*24*time.Hour))})
	resp, body = b.upload(client+"/certificates", tok, "cert.pem", soon)
	wantStatus(t, "upload PEM", resp, 200)
	if !regexp.MustCompile(`certificate expires in (9|10) days`).MatchString(body) {
		t.Fatal("no expiry warning for a certificate expiring in 10 days")
	}
	resp, body = b.upload(client+"/certificates", tok, "key.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	wantStatus(t, "upload a private key", resp, 400)
	if !strings.Contains(body, "<code>certificate</code>") {
		t.Fatal("refusal does not name the field")
	}
	kids := regexp.MustCompile(`/certificates/([^/"]+)/delete`).FindAllStringSubmatch(body, -1)
	if len(kids) != 2 {
		t.Fatalf("want 2 certificates listed, got %d", len(kids))
	}
	resp, body = b.post(client+"/certificates/"+kids[0][1]+"/delete", url.Values{"csrf_token": {tok}})
	wantStatus(t, "remove certificate", resp, 200)
	if strings.Contains(body, "/certificates/"+kids[0][1]+"/delete") || !strings.Contains(body, "/certificates/"+kids[1][1]+"/delete") {
		t.Fatal("certificate not removed")
	}

	// JWT bearer settings.
	resp, body = b.post(client+"/jwt-bearer", url.Values{"csrf_token": {tok}, "user_field": {"username"},
		"pre_auth": {"admin_approved"}, "allowed_profiles": {"integration"}, "extra_audiences": {"https://login.example"},
		"max_assertion_lifetime": {"300"}, "service_user_id": {userID}})
	wantStatus(t, "save JWT bearer", resp, 200)
	for _, want := range []string{`value="` + jwtBearerGrant + `" checked`, `value="admin_approved" checked`, `name="allowed_profiles" value="integration" checked`,
		"https://login.example", `value="300"`, `value="` + userID + `" selected`} {
		if !strings.Contains(body, want) {
			t.Fatalf("JWT bearer form lacks %q\n%s", want, body[strings.Index(body, "jwt-h"):])
		}
	}
	// docs/security.md R1: "all users" is shown with a warning, the
	// admin-approved choice without one.
	if !strings.Contains(body, `data-pre-auth-warning hidden>`) || !strings.Contains(body, "only the selected profiles and users") {
		t.Fatal("warning shown, or the current choice not stated, for admin approved users")
	}
	// The settings are the profiles policy template, shown read only.
	if !strings.Contains(body, `id="pre-auth-policy"`) || !strings.Contains(body, "<code>profiles=integration</code>") ||
		!strings.Contains(body, "user.profiles.exists(p, p in [&#34;integration&#34;])") {
		t.Fatal("the pre-authorization policy the settings are is not shown")
	}
	resp, body = b.post(client+"/jwt-bearer", url.Values{"csrf_token": {tok}, "user_field": {"username"},
		"pre_auth": {"all_users"}, "max_assertion_lifetime": {"300"}})
	wantStatus(t, "save JWT bearer for all users", resp, 200)
	if !strings.Contains(body, `data-pre-auth-warning>`) || !strings.Contains(body, "can obtain tokens as any user of the workspace") ||
		!strings.Contains(body, "Currently: <strong>all users of the workspace") {
		t.Fatal("no visible warning while all users may self-authorize")
	}
	if !strings.Contains(body, "<code>all_users=true</code>") {
		t.Fatal("all users is not shown as the profiles template with all_users=true")
	}
	resp, body = b.post(client+"/jwt-bearer", url.Values{"csrf_token": {tok}, "user_field": {"shoe_size"}, "max_assertion_lifetime": {"soon"}})
	wantStatus(t, "bad JWT bearer settings", resp, 400)
	if !strings.Contains(body, "max_assertion_lifetime") {
		t.Fatal("validation does not name the field")
	}

	// Trusted issuers.
	resp, body = b.post(ws+"/trusted-issuers/new", url.Values{"csrf_token": {tok}, "name": {"CMiC"}, "issuer": {"https://idp.example"},
		"jwks_uri": {"https://idp.example/jwks"}, "claim": {"cmicuser"}, "claim_format": {"tenant||username"}, "enabled": {"on"}})
	wantStatus(t, "create trusted issuer", resp, 200)
	if !strings.Contains(body, "https://idp.example") || !strings.Contains(body, "<option selected>tenant||username</option>") {
		t.Fatal("trusted issuer not saved")
	}
	resp, body = b.post(ws+"/trusted-issuers/new", url.Values{"csrf_token": {tok}, "name": {"bad"}, "issuer": {"x"}, "claim_format": {"plain"}})
	wantStatus(t, "trusted issuer without keys", resp, 400)
	if !strings.Contains(body, "jwks") {
		t.Fatal("refusal does not name the keys")
	}
	_, body = b.get(ws + "/trusted-issuers")
	if !strings.Contains(body, "CMiC") {
		t.Fatal("list lacks the issuer")
	}

	// O4: a viewer reads these pages and changes nothing.
	v, vtok := b.signedInViewer(t, tok)
	for _, p := range []string{ws + "/users", userPath, ws + "/profiles", ws + "/trusted-issuers", client + "/oauth"} {
		resp, _ = v.get(p)
		wantStatus(t, "viewer reads "+p, resp, 200)
	}
	for _, p := range []string{ws + "/users/new", userPath, userPath + "/delete", ws + "/profiles", client + "/jwt-bearer", client + "/certificates", ws + "/trusted-issuers/new"} {
		resp, _ = v.post(p, url.Values{"csrf_token": {vtok}, "confirm": {"on"}})
		wantStatus(t, "O4 viewer posts "+p, resp, 403)
	}
}
