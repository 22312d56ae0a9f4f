package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/declarative"
)

// decodeBody runs decodeJSON on body into dst and returns its 400
// description ("" when it decoded).
func decodeBody(t *testing.T, body string, dst any) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	err := decodeJSON(httptest.NewRecorder(), r, dst, false)
	if err == nil {
		return ""
	}
	var he *httpError
	if !errors.As(err, &he) || he.status != http.StatusBadRequest || he.code != codeInvalidRequest {
		t.Fatalf("decode %s: %v, want a 400 invalid_request", body, err)
	}
	return he.desc
}

// embeddedOuter has a member promoted from an embedded struct, one from
// an embedded pointer, and one whose tag shadows a deeper field.
type embeddedOuter struct {
	Name string `json:"name"`
	embeddedInner
	*EmbeddedPtr
	Plain int
}

type embeddedInner struct {
	Trusted *bool  `json:"trusted,omitempty"`
	Name    string `json:"name"` // hidden by the shallower name
	Deep    struct {
		Level string `json:"level"`
	} `json:"deep"`
}

type EmbeddedPtr struct {
	Colour string `json:"colour"`
	Skip   string `json:"-"`
	//lint:ignore SA5008 the name "-" on purpose: member resolution must match encoding/json's for it
	Dash string `json:"-,"`
}

// TestDecodeMemberNames covers docs/security.md M5: decodeJSON refuses
// duplicate member names (after unescaping) in any object at any depth,
// and a member name that matches a field only case-insensitively, while
// map keys, which are data, may differ by case alone.
func TestDecodeMemberNames(t *testing.T) {
	cases := []struct {
		name string
		body string
		dst  func() any
		want string // "" = decodes
	}{
		{"duplicate at top level", `{"name":"x","role":"workspace_viewer","role":"super_admin"}`,
			func() any { return new(adminclient.AdminTokenCreate) }, `duplicate member "role" in the request body`},
		{"duplicate by escape", `{"name":"x","role":"workspace_viewer","r\u006fle":"super_admin"}`,
			func() any { return new(adminclient.AdminTokenCreate) }, `duplicate member "role" in the request body`},
		{"duplicate nested", `{"name":"c","refresh_tokens":{"always":true,"always":false}}`,
			func() any { return new(clientRequest) }, `duplicate member "refresh_tokens.always" in the request body`},
		{"duplicate in an array element", `{"name":"p","rules":[{"condition":"true","outcome":"allow"},{"condition":"true","outcome":"allow","outcome":"deny"}]}`,
			func() any { return new(policyRequest) }, `duplicate member "rules.outcome" in the request body`},
		{"duplicate map key", `{"name":"c","metadata":{"team":"a","team":"b"}}`,
			func() any { return new(clientRequest) }, `duplicate member "metadata.team" in the request body`},
		{"duplicate inside raw JSON", `{"name":"c","jwks":{"keys":[{"kty":"EC","kty":"RSA"}]}}`,
			func() any { return new(clientRequest) }, `duplicate member "jwks.keys.kty" in the request body`},
		{"case variant at top level", `{"NAME":"x"}`,
			func() any { return new(clientRequest) }, `unknown field "NAME" (member names are case-sensitive; did you mean "name"?)`},
		{"case variant beside the exact name", `{"name":"x","role":"workspace_viewer","Role":"super_admin"}`,
			func() any { return new(adminclient.AdminTokenCreate) }, `unknown field "Role" (member names are case-sensitive; did you mean "role"?)`},
		{"case variant of a bool", `{"may_impersonate":false,"MAY_IMPERSONATE":true}`,
			func() any { return new(tokenExchangeRequest) }, `unknown field "MAY_IMPERSONATE" (member names are case-sensitive; did you mean "may_impersonate"?)`},
		{"case variant nested", `{"name":"c","refresh_tokens":{"Always":true}}`,
			func() any { return new(clientRequest) }, `unknown field "refresh_tokens.Always" (member names are case-sensitive; did you mean "always"?)`},
		{"case variant in an array element", `{"name":"p","rules":[{"Condition":"true","outcome":"allow"}]}`,
			func() any { return new(policyRequest) }, `unknown field "rules.Condition"`},
		{"case variant in an embedded struct", `{"name":"c","Trusted":true}`,
			func() any { return new(clientRequest) }, `unknown field "Trusted" (member names are case-sensitive; did you mean "trusted"?)`},
		{"case variant through pointers", `{"settings":{"Branding":{}}}`,
			func() any { return new(workspaceRequest) }, `unknown field "settings.Branding" (member names are case-sensitive; did you mean "branding"?)`},
		{"Kelvin sign folds to k", `{"name":"c","metadata":{},"jw\u212As":null}`,
			func() any { return new(clientRequest) }, `did you mean "jwks"?`},
		{"case variant in a local embedded struct", `{"name":"n","TRUSTED":true}`,
			func() any { return new(embeddedOuter) }, `did you mean "trusted"?`},
		{"case variant in an embedded pointer", `{"Colour":"red"}`,
			func() any { return new(embeddedOuter) }, `did you mean "colour"?`},
		{"case variant of an untagged field", `{"plain":1}`,
			func() any { return new(embeddedOuter) }, `did you mean "Plain"?`},
		{"case variant under an embedded struct's member", `{"deep":{"LEVEL":"x"}}`,
			func() any { return new(embeddedOuter) }, `unknown field "deep.LEVEL"`},
		{"unknown field keeps its message", `{"name":"x","admin":true}`,
			func() any { return new(clientRequest) }, `unknown field 'admin': the request may only carry the documented members`},
		{"malformed keeps its message", `{"name":"x",}`,
			func() any { return new(clientRequest) }, `malformed JSON at byte`},
		{"trailing keeps its message", `{"name":"x"} {"name":"x"}`,
			func() any { return new(clientRequest) }, `single JSON object`},

		{"map keys differing by case", `{"name":"c","metadata":{"a":"1","A":"2"}}`,
			func() any { return new(clientRequest) }, ""},
		{"attribute keys differing by case", `{"username":"u","attributes":{"dept":"x","DEPT":"y"}}`,
			func() any { return new(userRequest) }, ""},
		{"raw JSON keys differing by case", `{"name":"c","jwks":{"keys":[{"kty":"EC","KTY":"x"}]}}`,
			func() any { return new(clientRequest) }, ""},
		{"same name in sibling objects", `{"name":"p","rules":[{"condition":"a","outcome":"allow"},{"condition":"b","outcome":"deny"}]}`,
			func() any { return new(policyRequest) }, ""},
		{"client", `{"client_id":"c1","name":"C","grant_types":["client_credentials"],"metadata":{"team":"core"},"trusted":true,"refresh_tokens":{"always":true,"idle_ttl":60}}`,
			func() any { return new(clientRequest) }, ""},
		{"admin token", `{"name":"ci","role":"workspace_admin","workspaces":["default"],"expires_in":3600}`,
			func() any { return new(adminclient.AdminTokenCreate) }, ""},
		{"workspace", `{"id":"w","name":"W","settings":{"access_token_ttl":300,"branding":{}}}`,
			func() any { return new(workspaceRequest) }, ""},
		{"token exchange", `{"subject_token_types":["urn:ietf:params:oauth:token-type:access_token"],"may_impersonate":true}`,
			func() any { return new(tokenExchangeRequest) }, ""},
		{"escaped exact name", `{"n\u0061me":"x"}`,
			func() any { return new(clientRequest) }, ""},
		{"local embedded", `{"name":"n","trusted":true,"deep":{"level":"x"},"colour":"red","-":"d","Plain":1}`,
			func() any { return new(embeddedOuter) }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decodeBody(t, c.body, c.dst())
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("decode %s: got %q, want %q", c.body, got, c.want)
			}
		})
	}
}

// The last value of a name wins in encoding/json: the refused bodies
// above are the ones that would have been applied otherwise.
func TestDecodeMemberNamesAppliedValue(t *testing.T) {
	var req adminclient.AdminTokenCreate
	if desc := decodeBody(t, `{"name":"x","role":"workspace_viewer"}`, &req); desc != "" || req.Role != "workspace_viewer" {
		t.Fatalf("got %q %+v", desc, req)
	}
	var cr clientRequest
	if desc := decodeBody(t, `{"name":"c","metadata":{"a":"1","A":"2"}}`, &cr); desc != "" || len(*cr.Metadata) != 2 {
		t.Fatalf("got %q %+v", desc, cr.Metadata)
	}
}

// TestMemberFieldsMatchEncodingJSON checks structMembers against
// encoding/json itself: a name decodes with DisallowUnknownFields exactly
// when it is a field name or folds to one.
func TestMemberFieldsMatchEncodingJSON(t *testing.T) {
	type Shared struct {
		A string // ambiguous with Other.A at depth 1: dropped
		B string
	}
	type Other struct {
		A string
		C string `json:"c"`
	}
	type Tagged struct {
		Bee string `json:"B"` // the tagged B wins over Shared.B
	}
	type conflicts struct {
		Shared
		Other
		*Tagged
		D string `json:"d,omitempty"`
		E string `json:",omitempty"`
		F string `json:"f,string"`
		//lint:ignore SA5008 an invalid tag name on purpose: encoding/json then uses the Go name
		G string `json:"bad\"tag"`
		h string
	}
	types := []reflect.Type{
		reflect.TypeFor[conflicts](), reflect.TypeFor[embeddedOuter](), reflect.TypeFor[clientRequest](),
		reflect.TypeFor[workspaceRequest](), reflect.TypeFor[declarative.Document](),
	}
	names := []string{"a", "A", "b", "B", "c", "C", "d", "D", "e", "E", "f", "F", "g", "G", "h", "H", "-", "name", "NAME",
		"trusted", "Trusted", "colour", "Colour", "skip", "Skip", "dash", "Dash", "plain", "Plain", "deep", "level",
		"client_id", "CLIENT_ID", "refresh_tokens", "refresh_Tokens", "ClientFlow", "settings", "kind", "Kind", "items"}
	_ = conflicts{h: ""}
	for _, typ := range types {
		m := structMembers(typ)
		for _, n := range names {
			body, _ := json.Marshal(map[string]any{n: nil})
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			v1 := dec.Decode(reflect.New(typ).Interface()) == nil
			_, exact := m.exact[n]
			_, folded := m.folded[foldName(n)]
			if v1 != (exact || folded) {
				t.Errorf("%v member %q: encoding/json accepts %v, exact %v, folded %v", typ, n, v1, exact, folded)
			}
		}
	}
}

// TestMemberCheckLinear: a body of many members and objects is read in
// one pass (docs/security.md M5 keeps the cost linear in the body).
func TestMemberCheckLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"name":"c","metadata":{`)
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":"v"`)
	}
	b.WriteString(`}}`)
	var cr clientRequest
	if desc := decodeBody(t, b.String(), &cr); desc != "" || len(*cr.Metadata) != 20000 {
		t.Fatalf("got %q, %d keys", desc, len(*cr.Metadata))
	}
}

// TestApplyDocumentMembers: the apply document's own members follow the
// same rules in both forms.
func TestApplyDocumentMembers(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"json case variant", `{"apiVersion":"latchkey/v1","kind":"Workspace","KIND":"List","workspace":{"id":"default"}}`,
			`unknown field "KIND" (member names are case-sensitive; did you mean "kind"?)`},
		{"json duplicate", `{"apiVersion":"latchkey/v1","kind":"Workspace","workspace":{"id":"default"},"kind":"List"}`,
			`duplicate member "kind" in the request body`},
		{"json nested item", `{"apiVersion":"latchkey/v1","kind":"List","items":[{"apiVersion":"latchkey/v1","kind":"Workspace","workspace":{"id":"a"},"Clients":[]}]}`,
			`unknown field "items.Clients"`},
		{"yaml case variant", "apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: default}\nClients: []\n",
			`unknown field "Clients" (member names are case-sensitive; did you mean "clients"?)`},
		{"yaml duplicate", "apiVersion: latchkey/v1\nkind: Workspace\nkind: List\n", `already defined`},
		{"json", `{"apiVersion":"latchkey/v1","kind":"Workspace","workspace":{"id":"default","name":"D","NAME":"x"}}`, ""},
		{"yaml", "apiVersion: latchkey/v1\nkind: Workspace\nworkspace: {id: default}\nclients: [{client_id: c, name: C}]\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseDocument([]byte(c.body))
			var he *httpError
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("parse: %v", err)
			case c.want != "" && (!errors.As(err, &he) || he.status != http.StatusBadRequest || !strings.Contains(he.desc, c.want)):
				t.Fatalf("parse: %v, want %q", err, c.want)
			}
		})
	}
}
