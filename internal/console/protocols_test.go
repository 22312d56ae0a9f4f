package console_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

const tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"

// clientJWKS is a JWKS with one EC P-256 public key (signing, and
// encryption with ECDH-ES).
func clientJWKS(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// protocolsFixture creates the web client "web-app" (redirect
// https://app.example/cb, the token exchange grant, an inline JWKS and an
// access token lifetime of 900 s) and the trusted issuer "ti1".
func protocolsFixture(t *testing.T, b *browser, tok string) (ws, client string) {
	ws = "/console/w/default"
	resp, _ := b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Web"}, "type": {"web"}, "client_id": {"web-app"},
		"redirect_uri": {"https://app.example/cb"}})
	wantStatus(t, "create client", resp, 200)
	client = ws + "/clients/web-app"
	resp, _ = b.post(ws+"/trusted-issuers/new", url.Values{"csrf_token": {tok}, "id": {"ti1"}, "name": {"Partner IdP"}, "issuer": {"https://idp.example"},
		"jwks_uri": {"https://idp.example/jwks"}, "claim": {"sub"}, "claim_format": {"plain"}, "enabled": {"on"}})
	wantStatus(t, "create trusted issuer", resp, 200)
	resp, body := b.post(client+"/oauth", url.Values{"csrf_token": {tok}, "application_type": {"web"}, "trusted": {"on"},
		"grant_types": {"authorization_code", tokenExchangeGrant}, "response_types": {"code"}, "redirect_uris": {"https://app.example/cb"},
		"require_pkce": {"on"}, "token_endpoint_auth_method": {"client_secret_basic"}, "access_token_ttl": {"900"},
		"jwks": {clientJWKS(t)}})
	if resp.StatusCode != 200 {
		t.Fatalf("save OAuth form: %d\n%s", resp.StatusCode, between(body, `<main`, `</main>`))
	}
	return ws, client
}

// TestProtocolSectionsKeepOtherFields: each section of the client's
// Protocols tab (DPoP, PAR/JAR/JARM, token exchange, logout channels)
// and the workspace's protocol section save only their own fields: the
// OAuth tab's settings and the other sections stay as saved, and the
// page shows each stored value in its one control.
func TestProtocolSectionsKeepOtherFields(t *testing.T) {
	eachBackend(t, testProtocolSectionsKeepOtherFields)
}

func testProtocolSectionsKeepOtherFields(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	ws, client := protocolsFixture(t, b, tok)
	p := client + "/protocols"

	resp, body := b.get(p)
	wantStatus(t, "Protocols tab", resp, 200)
	mustContain(t, "Protocols tab", body, `aria-current="page">Protocols</a>`, `id="impersonate-warning" data-warning-for="may_impersonate" hidden`)

	resp, body = b.post(p+"/dpop", url.Values{"csrf_token": {tok}, "dpop_bound_access_tokens": {"on"}})
	wantStatus(t, "save DPoP", resp, 200)
	mustContain(t, "after the DPoP save", body, "DPoP settings saved", `name="dpop_bound_access_tokens" checked`, `data-url="`+p+`"`)

	resp, body = b.post(p+"/signed-requests", url.Values{"csrf_token": {tok}, "require_pushed_authorization_requests": {"on"},
		"request_object_signing_alg": {"ES256"}, "authorization_signed_response_alg": {""},
		"authorization_encrypted_response_alg": {"ECDH-ES"}, "authorization_encrypted_response_enc": {"A256GCM"}})
	if resp.StatusCode != 200 {
		t.Fatalf("save signed requests: %d\n%s", resp.StatusCode, between(body, `<main`, `</main>`))
	}
	mustContain(t, "after the signed-requests save", body, "Pushed and signed request settings saved",
		`name="require_pushed_authorization_requests" checked`, `<option selected>ES256</option>`,
		`<option selected>ECDH-ES</option>`, `<option selected>A256GCM</option>`, `name="dpop_bound_access_tokens" checked`)

	resp, body = b.post(p+"/token-exchange", url.Values{"csrf_token": {tok},
		"subject_token_types": {"urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt"},
		"allowed_issuers":     {"ti1"}, "allowed_audiences": {"https://orders.example\nhttps://billing.example"},
		"may_impersonate": {"on"}, "may_delegate": {"on"}})
	if resp.StatusCode != 200 {
		t.Fatalf("save token exchange: %d\n%s", resp.StatusCode, between(body, `<main`, `</main>`))
	}
	mustContain(t, "after the token exchange save", body, "Token exchange settings saved",
		`value="urn:ietf:params:oauth:token-type:access_token" checked`, `value="urn:ietf:params:oauth:token-type:jwt" checked`,
		`value="ti1" checked`, "https://orders.example\nhttps://billing.example", `name="may_impersonate" checked`,
		`name="may_delegate" checked`, `id="impersonate-warning" data-warning-for="may_impersonate">`,
		`name="require_pushed_authorization_requests" checked`, `name="dpop_bound_access_tokens" checked`)
	if strings.Contains(body, `value="urn:ietf:params:oauth:token-type:id_token" checked`) {
		t.Error("an unticked subject token type was stored")
	}

	resp, body = b.post(p+"/logout-channels", url.Values{"csrf_token": {tok}, "frontchannel_logout_uri": {"https://app.example/fc"},
		"frontchannel_logout_session_required": {"on"}, "backchannel_logout_uri": {""}})
	if resp.StatusCode != 200 {
		t.Fatalf("save logout channels: %d\n%s", resp.StatusCode, between(body, `<main`, `</main>`))
	}
	mustContain(t, "after the logout save", body, "Logout channel settings saved", `value="https://app.example/fc"`,
		`name="frontchannel_logout_session_required" checked`, `name="may_delegate" checked`, `<option selected>ES256</option>`)

	// Turning DPoP off leaves the other sections alone.
	resp, body = b.post(p+"/dpop", url.Values{"csrf_token": {tok}})
	wantStatus(t, "DPoP off", resp, 200)
	if strings.Contains(body, `name="dpop_bound_access_tokens" checked`) {
		t.Error("DPoP still required after unticking it")
	}
	mustContain(t, "after DPoP off", body, `name="require_pushed_authorization_requests" checked`, `value="ti1" checked`,
		`name="may_impersonate" checked`, `value="https://app.example/fc"`)

	// The OAuth tab kept its own settings.
	_, body = b.get(client + "/oauth")
	mustContain(t, "OAuth tab after the protocol saves", body, `name="trusted" checked`, `name="access_token_ttl" min="0" value="900"`,
		`value="`+tokenExchangeGrant+`" checked`)

	// Workspace: the protocol section saves only its two settings.
	resp, body = b.post(ws+"/settings/protocols", url.Values{"csrf_token": {tok}, "dpop_nonce": {"on"}, "require_pushed_authorization_requests": {"on"}})
	wantStatus(t, "save workspace protocols", resp, 200)
	mustContain(t, "workspace protocols", body, "Protocol settings saved", `name="dpop_nonce" checked`,
		`name="require_pushed_authorization_requests" checked`, `id="name" name="name" value="Default"`, `data-url="`+ws+`/settings"`)
	resp, body = b.post(ws+"/settings", url.Values{"csrf_token": {tok}, "name": {"Renamed"}, "key_rotation_period_hours": {"0"},
		"key_rotation_period_hours_was": {"0"}})
	wantStatus(t, "save workspace settings", resp, 200)
	mustContain(t, "main settings save", body, `name="dpop_nonce" checked`, `name="require_pushed_authorization_requests" checked`, `value="Renamed"`)
	resp, body = b.post(ws+"/settings/protocols", url.Values{"csrf_token": {tok}})
	wantStatus(t, "workspace protocols off", resp, 200)
	if strings.Contains(body, `name="dpop_nonce" checked`) || !strings.Contains(body, `value="Renamed"`) {
		t.Error("unticking the workspace protocol settings did not store them, or changed the name")
	}
}

// TestProtocolSectionsRefusals: every refused value of the Protocols tab
// answers 400 with the field named in the page's alert and its message
// next to the field (aria-invalid, aria-describedby); unknown sections
// are 404 and viewers change nothing (403).
func TestProtocolSectionsRefusals(t *testing.T) {
	eachBackend(t, testProtocolSectionsRefusals)
}

func testProtocolSectionsRefusals(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	ws, client := protocolsFixture(t, b, tok)
	p := client + "/protocols"
	resp, _ := b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"SPA"}, "type": {"spa"}, "client_id": {"spa"},
		"redirect_uri": {"https://spa.example/cb"}})
	wantStatus(t, "create public client", resp, 200)
	spa := ws + "/clients/spa/protocols"

	// A refused section shows what was sent, without script too.
	keptInput := map[string]string{
		"back-channel logout not https": `value="http://app.example/bc"`,
		"unknown trusted issuer":        `value="nope" checked`,
		"audience not an identifier":    "ok.example",
		"CIBA push mode":                `<option selected>push</option>`,
		"request object alg none":       `<option selected>none</option>`,
	}
	for _, c := range []struct {
		name, path string
		form       url.Values
		field      string // the form field the message sits next to
		want       string // in the page's alert
	}{
		{"request object alg none", p + "/signed-requests", url.Values{"request_object_signing_alg": {"none"}}, "request_object_signing_alg", "<code>request_object_signing_alg</code>"},
		{"request object alg HMAC", p + "/signed-requests", url.Values{"request_object_signing_alg": {"HS256"}}, "request_object_signing_alg", "never HMAC"},
		{"request objects without keys", spa + "/signed-requests", url.Values{"request_object_signing_alg": {"ES256"}}, "request_object_signing_alg", "requires jwks"},
		{"JARM alg not the workspace's", p + "/signed-requests", url.Values{"authorization_signed_response_alg": {"PS512"}}, "authorization_signed_response_alg", "<code>authorization_signed_response_alg</code>"},
		{"JARM encryption alg unknown", p + "/signed-requests", url.Values{"authorization_encrypted_response_alg": {"RSA1_5"}}, "authorization_encrypted_response_alg", "<code>authorization_encrypted_response_alg</code>"},
		{"JARM enc without alg", p + "/signed-requests", url.Values{"authorization_encrypted_response_alg": {""}, "authorization_encrypted_response_enc": {"A128GCM"}}, "authorization_encrypted_response_enc", "requires authorization_encrypted_response_alg"},
		{"JARM encryption to a key the client lacks", p + "/signed-requests", url.Values{"authorization_encrypted_response_alg": {"RSA-OAEP-256"}}, "authorization_encrypted_response_alg", "no key"},
		{"unknown subject token type", p + "/token-exchange", url.Values{"subject_token_types": {"urn:example:bogus"}, "may_delegate": {"on"}}, "subject_token_types", "<code>subject_token_types"},
		{"unknown trusted issuer", p + "/token-exchange", url.Values{"subject_token_types": {"urn:ietf:params:oauth:token-type:jwt"}, "allowed_issuers": {"nope"}, "may_delegate": {"on"}}, "allowed_issuers", "nope"},
		{"audience not an identifier", p + "/token-exchange", url.Values{"allowed_audiences": {"ok.example\nbad\x07zebra"}, "may_delegate": {"on"}}, "allowed_audiences", "<code>allowed_audiences[1]</code>"},
		{"refresh tokens without the grant", p + "/token-exchange", url.Values{"may_delegate": {"on"}, "refresh_tokens": {"on"}}, "refresh_tokens", "<code>refresh_tokens</code>"},
		{"token exchange for a public client", spa + "/token-exchange", url.Values{"may_impersonate": {"on"}}, "token_exchange", "confidential"},
		{"back-channel logout not https", p + "/logout-channels", url.Values{"backchannel_logout_uri": {"http://app.example/bc"}}, "backchannel_logout_uri", "<code>backchannel_logout_uri</code>"},
		{"front-channel logout elsewhere", p + "/logout-channels", url.Values{"frontchannel_logout_uri": {"https://elsewhere.example/fc"}}, "frontchannel_logout_uri", "redirect URIs"},
		{"CIBA push mode", p + "/ciba", url.Values{"backchannel_token_delivery_mode": {"push"}}, "backchannel_token_delivery_mode", "push mode is not supported"},
		{"CIBA ping without endpoint", p + "/ciba", url.Values{"backchannel_token_delivery_mode": {"ping"}, "backchannel_client_notification_endpoint": {""}}, "backchannel_client_notification_endpoint", "ping mode"},
		{"mTLS subject for a secret client", p + "/mtls", url.Values{"tls_client_auth_subject_dn": {"CN=app"}}, "tls_client_auth_subject_dn", "<code>tls_client_auth_subject_dn</code>"},
	} {
		c.form.Set("csrf_token", tok)
		resp, body := b.post(c.path, c.form)
		alert := between(body, `role="alert"><strong>Please fix:</strong>`, `</div>`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(alert, c.want) {
			t.Errorf("%s: status %d, want 400 with %q in the alert\n%s", c.name, resp.StatusCode, c.want, alert)
			continue
		}
		if kept := keptInput[c.name]; kept != "" && !strings.Contains(between(body, `<main`, `</main>`), kept) {
			t.Errorf("%s: the refused form does not show the value sent (%q)", c.name, kept)
		}
		if !strings.Contains(body, `<ul class="field-error" id="`+c.field+`-error">`) {
			t.Errorf("%s: no message next to %s", c.name, c.field)
		}
		if c.field != "token_exchange" && c.field != "subject_token_types" && c.field != "allowed_issuers" &&
			!strings.Contains(body, `aria-invalid="true" aria-describedby="`+c.field+`-error"`) {
			t.Errorf("%s: %s not marked invalid", c.name, c.field)
		}
	}
	// A refused save changed nothing.
	_, body := b.get(p)
	for _, bad := range []string{`<option selected>none</option>`, `value="nope" checked`, "zebra", "http://app.example/bc"} {
		if strings.Contains(body, bad) {
			t.Errorf("a refused value was stored: %q", bad)
		}
	}

	resp, _ = b.post(p+"/explode", url.Values{"csrf_token": {tok}})
	wantStatus(t, "unknown section", resp, 404)
	resp, _ = b.post(ws+"/clients/nobody/protocols/dpop", url.Values{"csrf_token": {tok}, "dpop_bound_access_tokens": {"on"}})
	wantStatus(t, "unknown client", resp, 404)

	// O4: a viewer reads the tab without save buttons and changes nothing.
	v, vtok := b.signedInViewer(t, tok)
	resp, body = v.get(p)
	wantStatus(t, "viewer reads the Protocols tab", resp, 200)
	if strings.Contains(body, "Save DPoP settings") || strings.Contains(body, "Save token exchange settings") {
		t.Error("a viewer is offered save buttons")
	}
	for _, path := range []string{p + "/dpop", p + "/signed-requests", p + "/token-exchange", p + "/logout-channels", p + "/mtls", p + "/ciba",
		ws + "/settings/protocols"} {
		resp, _ := v.post(path, url.Values{"csrf_token": {vtok}, "dpop_bound_access_tokens": {"on"}, "may_impersonate": {"on"}, "dpop_nonce": {"on"}})
		wantStatus(t, "viewer posts "+path, resp, http.StatusForbidden)
	}
	_, body = b.get(p)
	if strings.Contains(body, `name="dpop_bound_access_tokens" checked`) || strings.Contains(body, `name="may_impersonate" checked`) {
		t.Error("a viewer's post changed the client")
	}
}
