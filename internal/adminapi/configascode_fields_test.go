package adminapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/declarative"
	"github.com/latchkey/latchkey/internal/storage"
)

// notExported are the fields of storage.Client that configuration as
// code deliberately leaves out, each with its reason. Every other field
// must change the exported document (the client's JSON or one of its
// sub-resources), so that a field added to clients cannot be forgotten by
// export and apply.
var notExported = map[string]string{
	"WorkspaceID":                 "the document's workspace",
	"CreatedAt":                   "response-only time",
	"UpdatedAt":                   "response-only time",
	"SecretCiphertext":            "secret: never exported, applied by reference (client_secret: env:NAME)",
	"SecretRotatedAt":             "secret metadata",
	"SecretExpiresAt":             "dynamic registration bookkeeping (RFC 7591 §3.2.1)",
	"RegistrationAccessTokenHash": "secret (RFC 7592 registration access token)",
	"Dynamic":                     "dynamic registration bookkeeping",
	"InitialAccessTokenID":        "dynamic registration bookkeeping",
	"RegistrationPolicy":          "dynamic registration snapshot of an initial access token's policy",
	"SubjectType":                 "derived: the API answers subject_type from subject_format, which is exported",
	"Extra":                       "raw RFC 7591 metadata of later features that the admin API neither shows nor sets",
}

// clientDocument is what export makes of c: the JSON of every view a
// client's routes answer, without response-only members.
func clientDocument(t *testing.T, c storage.Client) map[string]any {
	t.Helper()
	views := map[string]any{
		"client":         clientView(c),
		"jwt_bearer":     jwtBearerView(c),
		"policies":       clientPoliciesView(c),
		"claims":         claimMappingsView(c.ClaimMappings),
		"token_exchange": tokenExchangeView(c),
	}
	out := map[string]any{}
	for name, v := range views {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s view: %v", name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			if declarative.IsClientResponseOnly(k) {
				delete(m, k)
			}
		}
		out[name] = m
	}
	return out
}

// fill sets v to a non-zero value; alt picks a second one: a pointer to
// the zero value (so a *bool whose nil reads as true still shows) and, for
// strings, a value views do not read as their default.
func fill(v reflect.Value, alt bool) {
	switch v.Kind() {
	case reflect.String:
		if alt {
			v.SetString("opaque")
			return
		}
		v.SetString("x-value")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(time.Hour)) // a whole number of seconds as a Duration too
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(`{"keys":[]}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), alt)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, alt)
		fill(e, alt)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if !alt {
			fill(p.Elem(), alt)
		}
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), alt)
			}
		}
	}
}

// leaves lists the paths of the settable fields of t, descending into
// structs (not times) so that each nested setting is checked on its own.
func leaves(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name := prefix + f.Name
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[time.Time]() {
			out = append(out, leaves(f.Type, name+".")...)
			continue
		}
		out = append(out, name)
	}
	return out
}

func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, p := range strings.Split(path, ".") {
		v = v.FieldByName(p)
	}
	return v
}

// TestExportCoversEveryClientField fails when a field of storage.Client
// neither changes the exported document nor is listed in notExported.
func TestExportCoversEveryClientField(t *testing.T) {
	base := clientDocument(t, storage.Client{ID: "c1", Name: "C"})
	for _, path := range leaves(reflect.TypeFor[storage.Client](), "") {
		top, _, _ := strings.Cut(path, ".")
		if _, ok := notExported[path]; ok {
			continue
		}
		if _, ok := notExported[top]; ok {
			continue
		}
		if path == "ID" || path == "Name" {
			continue // the client_id and name members
		}
		shown := false
		for _, alt := range []bool{false, true} {
			c := storage.Client{ID: "c1", Name: "C"}
			fill(fieldByPath(reflect.ValueOf(&c).Elem(), path), alt)
			if !reflect.DeepEqual(clientDocument(t, c), base) {
				shown = true
			}
		}
		if !shown {
			t.Errorf("storage.Client.%s is neither in the exported document (a view of the client's routes) nor listed in notExported with a reason", path)
		}
	}
	for name := range notExported {
		if !slices.Contains(leaves(reflect.TypeFor[storage.Client](), ""), name) && reflect.ValueOf(storage.Client{}).FieldByName(name) == (reflect.Value{}) {
			t.Errorf("notExported names %s, which storage.Client no longer has", name)
		}
	}
}
