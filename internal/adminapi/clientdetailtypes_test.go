package adminapi_test

import (
	"strings"
	"testing"
)

// TestClientDetailTypesRoundTrip: a client's RFC 9396 §10
// authorization_details_types is in the client view, refused (400 naming
// the field) when no service declares a type, cleared by an empty list,
// and carried by export and apply onto an empty server (services are
// applied before the clients whose types they declare).
func TestClientDetailTypesRoundTrip(t *testing.T) {
	a := newAPI(t)
	a.want(a.do("POST", ws+"/services", map[string]any{"id": "pay", "name": "Payments", "identifier": "https://pay.example",
		"scopes": []map[string]string{{"name": "payments"}}, "authorization_detail_types": []map[string]any{
			{"type": "payment_initiation", "schema": map[string]any{"type": "object"}}}}), 201)
	a.want(a.do("POST", ws+"/clients", map[string]any{"client_id": "payer", "name": "Payer", "scopes": []string{"payments"},
		"authorization_details_types": []string{"payment_initiation"}}), 201)
	r := a.want(a.do("GET", ws+"/clients/payer", nil), 200)
	if !strings.Contains(string(r.raw), `"authorization_details_types":["payment_initiation"]`) {
		t.Fatalf("client view: %s", r.raw)
	}
	bad := a.want(a.do("PATCH", ws+"/clients/payer", map[string]any{"authorization_details_types": []string{"wire"}}), 400)
	if !strings.Contains(string(bad.raw), `"field":"authorization_details_types"`) || !strings.Contains(string(bad.raw), `declares \"wire\"`) {
		t.Fatalf("undeclared type: %s", bad.raw)
	}
	doc := a.export()
	if !strings.Contains(doc, "authorization_details_types:") {
		t.Fatalf("export lacks the client's types:\n%s", doc)
	}
	b := newAPI(t)
	if r := b.want(b.apply(doc, ""), 200); r.body["applied"] != true {
		t.Fatalf("not applied: %s", r.raw)
	}
	if got := b.export(); got != doc {
		t.Fatalf("export after apply differs:\n--- first\n%s\n--- second\n%s", doc, got)
	}
	a.want(a.do("PATCH", ws+"/clients/payer", map[string]any{"authorization_details_types": []string{}}), 200)
	if r := a.want(a.do("GET", ws+"/clients/payer", nil), 200); !strings.Contains(string(r.raw), `"authorization_details_types":[]`) {
		t.Fatalf("cleared list: %s", r.raw)
	}
}
