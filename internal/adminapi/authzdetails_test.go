package adminapi_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestServiceDetailTypesRoundTrip: a service's RFC 9396 types are shown
// by the API, refused when their schema does not compile, and survive
// configuration as code: export, apply to a fresh server, export again
// gives the same document, and a second apply changes nothing.
func TestServiceDetailTypesRoundTrip(t *testing.T) {
	a := newAPI(t)
	types := []map[string]any{{"type": "payment_initiation", "description": "Initiate a payment",
		"schema": json.RawMessage(`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
			`"required":["instructedAmount"],"properties":{"instructedAmount":{"type":"object",` +
			`"properties":{"currency":{"type":"string","pattern":"^[A-Z]{3}$"},"amount":{"type":"string"}}}}}`)}}
	a.want(a.do("POST", ws+"/services", map[string]any{"id": "pay", "name": "Payments", "identifier": "https://pay.example",
		"scopes": []map[string]string{{"name": "payments"}}, "authorization_detail_types": types}), 201)
	r := a.want(a.do("GET", ws+"/services/pay", nil), 200)
	if !strings.Contains(string(r.raw), `"authorization_detail_types":[{"type":"payment_initiation"`) {
		t.Fatalf("service view: %s", r.raw)
	}
	bad := a.want(a.do("PATCH", ws+"/services/pay", map[string]any{"authorization_detail_types": []map[string]any{
		{"type": "payment_initiation", "schema": map[string]any{"type": "objekt"}}}}), 400)
	if !strings.Contains(string(bad.raw), "authorization_detail_types[0].schema") {
		t.Fatalf("invalid schema: %s", bad.raw)
	}

	doc := a.export()
	if !strings.Contains(doc, "payment_initiation") || !strings.Contains(doc, "instructedAmount") {
		t.Fatalf("export lacks the types:\n%s", doc)
	}
	b := newAPI(t)
	if r := b.want(b.apply(doc, ""), 200); r.body["applied"] != true {
		t.Fatalf("not applied: %s", r.raw)
	}
	if got := b.export(); got != doc {
		t.Fatalf("export after apply differs:\n--- first\n%s\n--- second\n%s", doc, got)
	}
	var res struct {
		Plans []struct {
			Changes []any `json:"changes"`
		} `json:"plans"`
	}
	_ = json.Unmarshal(b.want(b.apply(doc, ""), 200).raw, &res)
	if len(res.Plans) != 1 || len(res.Plans[0].Changes) != 0 {
		t.Fatalf("second apply changed something: %+v", res)
	}
}
