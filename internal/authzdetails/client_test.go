package authzdetails

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// TestForClient: a client's authorization_details_types (RFC 9396 §10)
// narrows the types it may use; empty keeps the rule of its scopes, and a
// listed type of a service the client has no scope of stays refused.
func TestForClient(t *testing.T) {
	refs := []storage.ScopeRef{
		{Scope: storage.Scope{Name: "payments"}, ServiceID: "pay", ServiceAuthorizationDetailTypes: []storage.AuthorizationDetailType{
			{Type: "payment_initiation", Schema: json.RawMessage(`{"type":"object"}`)}}},
		{Scope: storage.Scope{Name: "accounts"}, ServiceID: "acc", ServiceAuthorizationDetailTypes: []storage.AuthorizationDetailType{
			{Type: "account_information", Schema: json.RawMessage(`{"type":"object"}`)}}},
	}
	pay, acc := `[{"type":"payment_initiation"}]`, `[{"type":"account_information"}]`
	for _, tc := range []struct {
		name    string
		client  storage.Client
		details string
		want    string // "" accepted
	}{
		{"empty list: any type of its services", storage.Client{Scopes: []string{"payments", "accounts"}}, acc, ""},
		{"listed type", storage.Client{Scopes: []string{"payments", "accounts"}, AuthorizationDetailsTypes: []string{"payment_initiation"}}, pay, ""},
		{"type not listed", storage.Client{Scopes: []string{"payments", "accounts"}, AuthorizationDetailsTypes: []string{"payment_initiation"}}, acc,
			"authorization_details[0].type account_information is not one of the client's registered authorization_details_types"},
		{"listed but no scope of its service", storage.Client{Scopes: []string{"payments"}, AuthorizationDetailsTypes: []string{"account_information"}}, acc,
			"authorization_details[0].type account_information belongs to a service the client may not use"},
		{"second entry not listed", storage.Client{Scopes: []string{"payments", "accounts"}, AuthorizationDetailsTypes: []string{"payment_initiation"}},
			`[{"type":"payment_initiation"},{"type":"account_information"}]`, "authorization_details[1].type account_information is not one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Parse(tc.details)
			if err != nil {
				t.Fatal(err)
			}
			err = ForClient(refs, tc.client).Validate(ds)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *oauth2.Error
			if !errors.As(err, &e) || e.Code != ErrInvalid || !strings.HasPrefix(e.Description, tc.want) {
				t.Fatalf("got %v, want invalid_authorization_details %q", err, tc.want)
			}
		})
	}
	if got := UndeclaredTypes(refs, []string{"account_information", "wire", "payment_initiation", "x"}); !slices.Equal(got, []string{"wire", "x"}) {
		t.Errorf("UndeclaredTypes = %v", got)
	}
}

// TestCompileMessageLocates: a schema that breaks the meta-schema is
// refused with the JSON Pointer of the offending member, so the console
// and the API can show where to look.
func TestCompileMessageLocates(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"object","properties":{"x":{"type":"strin"}}}`, "the schema is invalid at /properties/x/type: value must be one of"},
		{`{"required":"a"}`, "the schema is invalid at /required: got string, want array"},
		{`{"properties":{"a/b":{"minLength":-1}}}`, "the schema is invalid at /properties/a~1b/minLength:"},
		{`{"$ref":"https://example.com/s.json"}`, `"https://example.com/s.json": external schema reference`},
		{`nope`, "the schema is not valid JSON"},
	} {
		_, err := CompileSchema([]byte(tc.schema))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.schema, err, tc.want)
		}
	}
}
