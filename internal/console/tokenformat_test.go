package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestOAuthTabTokenFormat: the OAuth tab saves the access token format
// and the ID token lifetime, shows them, and refuses an out-of-range
// lifetime naming the field.
func TestOAuthTabTokenFormat(t *testing.T) {
	e := startServer(t)
	b := e.browser()
	tok := b.setupAdmin(t)
	resp, _ := b.post("/console/w/default/clients/new", url.Values{"csrf_token": {tok}, "name": {"Svc"}, "type": {"service"}})
	wantStatus(t, "create client", resp, 200)
	client := strings.TrimSuffix(resp.Request.URL.Path, "/overview")
	form := func(format, idTTL string) url.Values {
		return url.Values{"csrf_token": {tok}, "grant_types": {"client_credentials"},
			"token_endpoint_auth_method": {"client_secret_basic"}, "access_token_format": {format}, "id_token_ttl": {idTTL}}
	}
	resp, body := b.post(client+"/oauth", form("opaque", "600"))
	wantStatus(t, "save opaque", resp, 200)
	if !strings.Contains(body, `<option value="opaque" selected>`) || !strings.Contains(body, `id="id_token_ttl" name="id_token_ttl" min="0" value="600"`) {
		t.Fatal("opaque format or ID token lifetime not shown as saved")
	}
	resp, body = b.post(client+"/oauth", form("jwt", "5"))
	wantStatus(t, "ID token lifetime too short", resp, 400)
	if !strings.Contains(body, "id_token_ttl") {
		t.Fatal("validation message does not name id_token_ttl")
	}
}
