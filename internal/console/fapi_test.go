package console_test

import (
	"net/url"
	"testing"
)

// TestWorkspaceFAPISetting: the settings page's FAPI 2.0 select stores
// the profile and leaves other settings alone; under the profile a
// client_secret_basic client is refused at creation; turning the profile
// on while such a client exists is refused with the client named
// (docs/fapi.md).
func TestWorkspaceFAPISetting(t *testing.T) {
	eachBackend(t, testWorkspaceFAPISetting)
}

func testWorkspaceFAPISetting(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	ws := "/console/w/default"

	resp, body := b.get(ws + "/settings")
	wantStatus(t, "settings page", resp, 200)
	mustContain(t, "settings page", body, `id="fapi_profile" name="fapi_profile"`, `<option value="" selected>Off</option>`)

	resp, body = b.post(ws+"/settings/fapi", url.Values{"csrf_token": {tok}, "fapi_profile": {"fapi2-security"}})
	wantStatus(t, "turn FAPI on", resp, 200)
	mustContain(t, "FAPI on", body, "FAPI 2.0 setting saved", `<option value="fapi2-security" selected>`, `id="name" name="name" value="Default"`)

	resp, body = b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"}, "client_id": {"web-app"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "client_secret_basic client under FAPI 2.0", resp, 400)
	mustContain(t, "creation refused", body, "token_endpoint_auth_method", "FAPI 2.0")

	resp, _ = b.post(ws+"/settings/fapi", url.Values{"csrf_token": {tok}, "fapi_profile": {""}})
	wantStatus(t, "turn FAPI off", resp, 200)
	resp, _ = b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"}, "client_id": {"web-app"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "create client with FAPI off", resp, 200)

	resp, body = b.post(ws+"/settings/fapi", url.Values{"csrf_token": {tok}, "fapi_profile": {"fapi2-message-signing"}})
	wantStatus(t, "FAPI refused while a client breaks it", resp, 400)
	mustContain(t, "refusal", body, "fapi_clients", "web-app", `<option value="" selected>Off</option>`)
}
