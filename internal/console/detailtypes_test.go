package console_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestServiceDetailTypesEditor: the service page's RFC 9396 types editor
// adds, edits and removes types; a schema that does not compile is
// refused next to its field with the compiler's location and nothing is
// saved; a type another service declares is refused in the section's
// alert; saving the section leaves the service's name, scopes and claims
// alone, and saving the service form leaves the types. The client's
// Protocols tab lists the declared types to tick; its save stores only
// authorization_details_types. A viewer changes nothing. On SQLite and
// PostgreSQL.
func TestServiceDetailTypesEditor(t *testing.T) {
	eachBackend(t, testServiceDetailTypesEditor)
}

func testServiceDetailTypesEditor(t *testing.T, e *env) {
	b := e.browser()
	tok := b.setupAdmin(t)
	const ws = "/console/w/default"
	const svc = ws + "/services/pay"
	resp, _ := b.post(ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"pay"}, "name": {"Payments"},
		"identifier": {"https://pay.example"}, "scopes": {"payments Make payments"}})
	wantStatus(t, "create service", resp, 200)
	resp, _ = b.post(svc+"/claims", url.Values{"csrf_token": {tok}, "op": {"claim-save"}, "claim_name": {"tier"},
		"claim_expression": {`"gold"`}, "claim_target_0": {"access_token"}})
	wantStatus(t, "service claims", resp, 200)

	// "Add a type" shows a new row with a starting schema, saving nothing.
	resp, body := b.post(svc+"/authorization-details", url.Values{"csrf_token": {tok}, "op": {"detail-add"}})
	wantStatus(t, "add a row", resp, 200)
	if !strings.Contains(body, `id="detail-0-type"`) || !strings.Contains(body, `{&#34;type&#34;: &#34;object&#34;}`) {
		t.Fatalf("no new row:\n%s", between(body, `id="detail-types-h"`, `</form>`))
	}

	bad := url.Values{"csrf_token": {tok}, "op": {"detail-save"}, "detail_type": {"payment_initiation", "has space"},
		"detail_description": {"Initiate a payment", ""},
		"detail_schema":      {`{"type":"object","properties":{"amount":{"type":"strin"}}}`, `{"type":"object"}`}}
	resp, body = b.post(svc+"/authorization-details", bad)
	wantStatus(t, "save a bad schema", resp, 400)
	section := between(body, `id="detail-types-h"`, `</form>`)
	for _, want := range []string{
		`<ul class="field-error" id="detail-0-schema-error"><li>the schema is invalid at /properties/amount/type: value must be one of`,
		`aria-invalid="true" aria-describedby="detail-0-schema-error"`,
		`id="detail-1-type-error"><li>must be 1-128 letters`,
		`value="has space"`, "&#34;strin&#34;", // what was typed is kept
	} {
		if !strings.Contains(section, want) {
			t.Errorf("refused save: the section lacks %q\n%s", want, section)
		}
	}
	if !strings.Contains(between(body, `role="alert">`, `</div>`), "Nothing was saved") {
		t.Error("refused save: no page alert")
	}
	for _, pr := range pageProblems(body) {
		t.Errorf("refused page: %s", pr)
	}
	_, body = b.get(svc)
	if strings.Contains(body, "payment_initiation") {
		t.Fatal("a refused save stored a type")
	}

	good := url.Values{"csrf_token": {tok}, "op": {"detail-save"}, "detail_type": {"payment_initiation", "refund"},
		"detail_description": {"Initiate a payment", "Refund a payment"},
		"detail_schema":      {`{"type":"object","required":["amount"],"properties":{"amount":{"type":"string"}}}`, `{"type":"object"}`}}
	resp, body = b.post(svc+"/authorization-details", good)
	wantStatus(t, "save types", resp, 200)
	for _, want := range []string{"Authorization details types saved.", `value="payment_initiation"`, `value="refund"`,
		"payments Make payments", `value="tier"`, `value="Payments"`} {
		if !strings.Contains(body, want) {
			t.Errorf("after saving the types the page lacks %q", want)
		}
	}
	// Edit: remove the second row, then save what is left.
	resp, body = b.post(svc+"/authorization-details", url.Values{"csrf_token": {tok}, "op": {"detail-remove-1"},
		"detail_type": good["detail_type"], "detail_description": good["detail_description"], "detail_schema": good["detail_schema"]})
	wantStatus(t, "remove a row", resp, 200)
	if strings.Contains(between(body, `id="detail-types-h"`, `</form>`), `value="refund"`) {
		t.Error("the removed row is still shown")
	}
	resp, _ = b.post(svc+"/authorization-details", url.Values{"csrf_token": {tok}, "op": {"detail-save"}, "detail_type": {"payment_initiation"},
		"detail_description": {"Pay now"}, "detail_schema": good["detail_schema"][:1]})
	wantStatus(t, "save the edit", resp, 200)

	// The service form saves its fields only.
	resp, body = b.post(svc, url.Values{"csrf_token": {tok}, "name": {"Payments API"}, "identifier": {"https://pay.example"},
		"scopes": {"payments Make payments"}})
	wantStatus(t, "save the service form", resp, 200)
	if !strings.Contains(body, `value="payment_initiation"`) || !strings.Contains(body, `value="Pay now"`) || strings.Contains(body, `value="refund"`) {
		t.Errorf("saving the service form changed the types:\n%s", between(body, `id="detail-types-h"`, `</form>`))
	}

	// A name another service declares: the section's alert, 409.
	resp, _ = b.post(ws+"/services/new", url.Values{"csrf_token": {tok}, "id": {"acc"}, "name": {"Accounts"},
		"identifier": {"https://acc.example"}, "scopes": {"accounts"}})
	wantStatus(t, "create a second service", resp, 200)
	resp, body = b.post(ws+"/services/acc/authorization-details", url.Values{"csrf_token": {tok}, "op": {"detail-save"},
		"detail_type": {"payment_initiation"}, "detail_description": {""}, "detail_schema": {`{}`}})
	wantStatus(t, "a type of another service", resp, 409)
	if a := between(body, `id="detail-types-error">`, `</p>`); !strings.Contains(a, `&#34;payment_initiation&#34; is already declared by service &#34;pay&#34;`) {
		t.Errorf("collision alert %q", a)
	}

	// The client's Protocols tab: tick the type.
	resp, _ = b.post(ws+"/clients/new", url.Values{"csrf_token": {tok}, "name": {"Machine"}, "type": {"service"}, "client_id": {"m1"}})
	wantStatus(t, "create client", resp, 200)
	const client = ws + "/clients/m1"
	resp, _ = b.post(client+"/protocols/dpop", url.Values{"csrf_token": {tok}, "dpop_bound_access_tokens": {"on"}})
	wantStatus(t, "save DPoP", resp, 200)
	_, body = b.get(client + "/protocols")
	if !strings.Contains(body, `name="authorization_details_types" value="payment_initiation">`) || !strings.Contains(body, "(service Payments API)") {
		t.Fatalf("the Protocols tab does not offer the type:\n%s", between(body, `id="adt-h"`, `</form>`))
	}
	resp, body = b.post(client+"/protocols/authorization-details", url.Values{"csrf_token": {tok}, "authorization_details_types": {"payment_initiation"}})
	wantStatus(t, "tick the type", resp, 200)
	if !strings.Contains(body, "Authorization details types saved.") ||
		!strings.Contains(body, `value="payment_initiation" checked`) || !strings.Contains(body, `name="dpop_bound_access_tokens" checked`) {
		t.Errorf("after ticking: saved %v, checked %v, DPoP kept %v", strings.Contains(body, "types saved"),
			strings.Contains(body, `value="payment_initiation" checked`), strings.Contains(body, `name="dpop_bound_access_tokens" checked`))
	}
	resp, body = b.post(client+"/protocols/authorization-details", url.Values{"csrf_token": {tok}, "authorization_details_types": {"wire"}})
	wantStatus(t, "an undeclared type", resp, 400)
	if fe := between(body, `id="authorization_details_types-error">`, `</ul>`); !strings.Contains(fe, `no service of the workspace declares &#34;wire&#34;`) {
		t.Errorf("undeclared type: field error %q", fe)
	}
	_, body = b.get(client + "/protocols")
	if !strings.Contains(body, `value="payment_initiation" checked`) {
		t.Error("a refused save changed the client's list")
	}

	// O4: a viewer changes neither.
	v, vtok := b.signedInViewer(t, tok)
	for _, p := range []string{svc + "/authorization-details", client + "/protocols/authorization-details"} {
		resp, _ := v.post(p, url.Values{"csrf_token": {vtok}, "op": {"detail-save"}})
		wantStatus(t, "O4 viewer posts "+p, resp, 403)
	}
	_, body = v.get(svc)
	if strings.Contains(between(body, `id="detail-types-h"`, `</form>`), "Save authorization details types</button>") {
		t.Error("a viewer is offered the save button")
	}
}
