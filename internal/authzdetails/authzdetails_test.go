package authzdetails

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const paymentSchema = `{"type":"object","required":["type","instructedAmount"],"additionalProperties":false,
 "properties":{"type":{"const":"payment_initiation"},"actions":{"type":"array","items":{"enum":["initiate","status"]}},
 "instructedAmount":{"type":"object","required":["currency","amount"],"additionalProperties":false,
   "properties":{"currency":{"type":"string","pattern":"^[A-Z]{3}$"},"amount":{"type":"string","pattern":"^[0-9]+(\\.[0-9]{1,2})?$"}}}}}`

func catalog(clientScopes ...string) *Catalog {
	refs := []storage.ScopeRef{
		{Scope: storage.Scope{Name: "payments"}, ServiceID: "pay", ServiceAuthorizationDetailTypes: []storage.AuthorizationDetailType{
			{Type: "payment_initiation", Description: "Initiate a payment", Schema: json.RawMessage(paymentSchema)}}},
		{Scope: storage.Scope{Name: "accounts"}, ServiceID: "acc", ServiceAuthorizationDetailTypes: []storage.AuthorizationDetailType{
			{Type: "account_information", Schema: json.RawMessage(`{"type":"object"}`)}}},
	}
	return NewCatalog(refs, clientScopes)
}

// TestValidate: every RFC 9396 §5 failure is invalid_authorization_details
// with a description naming the entry and, for schema failures, the field.
func TestValidate(t *testing.T) {
	ok := `{"type":"payment_initiation","actions":["initiate"],"instructedAmount":{"currency":"EUR","amount":"123.50"}}`
	for _, tc := range []struct{ name, raw, want string }{
		{"valid", "[" + ok + "]", ""},
		{"not JSON", "nope", "must be a JSON array"},
		{"object, not array", ok, "must be a JSON array"},
		{"trailing data", "[" + ok + "] []", "single JSON array"},
		{"empty", "[]", "must not be empty"},
		{"null entry", "[null]", "authorization_details[0] must be a JSON object"},
		{"number type", `[{"type":1}]`, "authorization_details[0].type is missing"},
		{"unknown type", `[{"type":"x"}]`, "authorization_details[0].type x is not a supported type"},
		{"other service", `[{"type":"account_information"}]`, "authorization_details[0].type account_information belongs to a service the client may not use"},
		{"bad amount", `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1.234"}}]`, "field instructedAmount/amount"},
		{"missing field", `[{"type":"payment_initiation"}]`, "the object: missing property 'instructedAmount'"},
		{"unknown field", `[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1"},"x":1}]`, "additional properties 'x' not allowed"},
		{"actions not strings", `[{"type":"payment_initiation","actions":[1]}]`, "authorization_details[0].actions must be an array of strings"},
		{"identifier not a string", `[{"type":"payment_initiation","identifier":{}}]`, "authorization_details[0].identifier must be a string"},
		{"second entry", "[" + ok + `,{"type":"payment_initiation","instructedAmount":{}}]`, "authorization_details[1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse(tc.raw)
			if err == nil {
				err = catalog("payments").Validate(ds)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var e *oauth2.Error
			if !errors.As(err, &e) || e.Code != ErrInvalid || !strings.Contains(e.Description, tc.want) {
				t.Fatalf("got %v, want invalid_authorization_details containing %q", err, tc.want)
			}
		})
	}
}

// TestNarrow: a subset of the granted entries (as JSON values) passes;
// anything else is refused (RFC 9396 §6.1, §7).
func TestNarrow(t *testing.T) {
	granted, err := Parse(`[{"type":"a","n":1.0,"x":["p","q"]},{"type":"b"}]`)
	if err != nil {
		t.Fatal(err)
	}
	for raw, ok := range map[string]bool{
		`[{"x":["p","q"],"type":"a","n":1}]`:              true,
		`[{"type":"b"}]`:                                  true,
		`[{"type":"b"},{"type":"a","n":1,"x":["p","q"]}]`: true,
		`[{"type":"a","n":2,"x":["p","q"]}]`:              false,
		`[{"type":"a","n":1,"x":["q","p"]}]`:              false,
		`[{"type":"a","n":1}]`:                            false,
		`[{"type":"c"}]`:                                  false,
	} {
		req, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Narrow(req, granted); (err == nil) != ok {
			t.Errorf("Narrow(%s) = %v, want ok=%v", raw, err, ok)
		}
	}
}

// TestCheckTypes: schemas are compiled at save time; external references
// are refused (no file or network access).
func TestCheckTypes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema string
		want   string
	}{
		{"valid", paymentSchema, ""},
		{"not JSON", `{`, "not valid JSON"},
		{"not an object", `[]`, "must be a JSON object"},
		{"bad keyword", `{"type":12}`, "authorization_detail_types[0].schema"},
		{"file ref", `{"$ref":"file:///etc/passwd"}`, "authorization_detail_types[0].schema"},
		{"http ref", `{"$ref":"https://example.com/s.json"}`, "authorization_detail_types[0].schema"},
		{"empty", ``, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := CheckTypes([]storage.AuthorizationDetailType{{Type: "t", Schema: json.RawMessage(tc.schema)}})
			if tc.want == "" {
				if len(ps) != 0 {
					t.Fatal(ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Field+" "+ps[0].Message, tc.want) {
				t.Fatalf("got %+v, want a problem mentioning %q", ps, tc.want)
			}
		})
	}
	dup := CheckTypes([]storage.AuthorizationDetailType{{Type: "t", Schema: json.RawMessage(`{}`)}, {Type: "t", Schema: json.RawMessage(`{}`)}})
	if len(dup) != 1 || dup[0].Rule != "unique" {
		t.Fatalf("duplicate types: %+v", dup)
	}
}

// TestViews: the consent page's words for the RFC 9396 §1 payment.
func TestViews(t *testing.T) {
	ds, err := Parse(`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"123.50"},"actions":["initiate","status"],"creditorName":"Merchant A"}]`)
	if err != nil {
		t.Fatal(err)
	}
	v := Views(ds, catalog("payments"))
	if len(v) != 1 || v[0].Description != "Initiate a payment" {
		t.Fatalf("views %+v", v)
	}
	want := []FieldView{{"actions", "initiate, status"}, {"creditorName", "Merchant A"},
		{"instructedAmount.amount", "123.50"}, {"instructedAmount.currency", "EUR"}}
	if len(v[0].Fields) != len(want) {
		t.Fatalf("fields %+v, want %+v", v[0].Fields, want)
	}
	for i := range want {
		if v[0].Fields[i] != want[i] {
			t.Fatalf("fields %+v, want %+v", v[0].Fields, want)
		}
	}
}

// FuzzParse: the parser never panics; what it accepts re-encodes to a
// value it accepts again, equal entry for entry, and validation of it
// never panics either.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"1"}}]`,
		`[]`, `[{}]`, `{"type":"x"}`, `[{"type":"a","actions":[1,2]}]`, `[{"type":"a"}] x`, `[{"type":"a","n":1e400}]`} {
		f.Add(s)
	}
	c := catalog("payments", "accounts")
	f.Fuzz(func(t *testing.T, raw string) {
		ds, err := Parse(raw)
		if err != nil {
			var e *oauth2.Error
			if !errors.As(err, &e) || e.Code != ErrInvalid || e.Description == "" {
				t.Fatalf("error %v is not invalid_authorization_details with a description", err)
			}
			return
		}
		again, err := Decode(Encode(ds))
		if err != nil || !Equal(ds, again) {
			t.Fatalf("re-encoding %q: %v", raw, err)
		}
		if err := c.Validate(ds); err != nil {
			var e *oauth2.Error
			if !errors.As(err, &e) {
				t.Fatalf("validation error %v is not a protocol error", err)
			}
		}
		_ = Views(ds, c)
	})
}
