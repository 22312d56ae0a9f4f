package adminapi

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	ac "github.com/latchkey/latchkey/adminclient"
)

// componentTypes names the Go types of package adminclient that each
// schema of components/schemas describes. A schema shared by a response
// and a request maps to both types.
var componentTypes = map[string][]reflect.Type{
	"Consent":              {typeOf[ac.Consent]()},
	"AuditEvent":           {typeOf[ac.AuditEvent]()},
	"OutboxMail":           {typeOf[ac.OutboxMail]()},
	"BrowserSession":       {typeOf[ac.BrowserSession]()},
	"RefreshTokenSettings": {typeOf[ac.RefreshTokenSettings]()},
	"AdminToken":           {typeOf[ac.AdminToken]()},
	"AdminTokenCreate":     {typeOf[ac.AdminTokenCreate]()},
	"ConsoleUser":          {typeOf[ac.ConsoleUser]()},
	"ConsoleUserCreate":    {typeOf[ac.ConsoleUserCreate]()},
	"ConsoleUserUpdate":    {typeOf[ac.ConsoleUserUpdate]()},
	"SecretCodeSent":       {typeOf[ac.SecretCodeSent]()},
	"Error":                {typeOf[ac.APIError]()},
	"Settings":             {typeOf[ac.Settings](), typeOf[ac.SettingsRequest]()},
	"Branding":             {typeOf[ac.Branding](), typeOf[ac.BrandingRequest]()},
	"Workspace":            {typeOf[ac.Workspace]()},
	"WorkspaceCreate":      {typeOf[ac.WorkspaceRequest]()},
	"WorkspaceUpdate":      {typeOf[ac.WorkspaceRequest]()},
	"Scope":                {typeOf[ac.Scope]()},
	"Service":              {typeOf[ac.Service]()},
	"ServiceWrite":         {typeOf[ac.ServiceRequest]()},
	"Client":               {typeOf[ac.OAuthClient]()},
	"ClientWrite":          {typeOf[ac.OAuthClientRequest]()},
	"Key":                  {typeOf[ac.Key]()},
	"KeyList":              {typeOf[ac.List[ac.Key]]()},
	"EncryptionKey":        {typeOf[ac.EncryptionKey]()},
	"EncryptionKeyList":    {typeOf[ac.List[ac.EncryptionKey]]()},
	"InitialAccessToken":   {typeOf[ac.InitialAccessToken]()},
	"RegistrationPolicy":   {typeOf[ac.RegistrationPolicy]()},
	"User":                 {typeOf[ac.User]()},
	"UserWrite":            {typeOf[ac.UserRequest]()},
	"Profile":              {typeOf[ac.Profile]()},
	"ProfileWrite":         {typeOf[ac.ProfileRequest]()},
	"Certificate":          {typeOf[ac.Certificate]()},
	"CertificateUpload":    {typeOf[ac.CertificateUpload]()},
	"JWTBearerSettings":    {typeOf[ac.JWTBearerSettings]()},
	"TrustedIssuer":        {typeOf[ac.TrustedIssuer]()},
	"TrustedIssuerWrite":   {typeOf[ac.TrustedIssuerRequest]()},
	"Policy":               {typeOf[ac.Policy]()},
	"PolicyRule":           {typeOf[ac.PolicyRule]()},
	"PolicyWrite":          {typeOf[ac.PolicyRequest]()},
	"PolicyTemplate":       {typeOf[ac.PolicyTemplate]()},
	"PolicyTemplateParam":  {typeOf[ac.PolicyTemplateParam]()},
	"ClientPolicies":       {typeOf[ac.ClientPolicies]()},
	"PolicyRef":            {typeOf[ac.PolicyRef]()},
	"WhatIfRequest":        {typeOf[ac.WhatIfRequest]()},
	"WhatIfResult":         {typeOf[ac.WhatIfResult]()},
	"WhatIfPolicy":         {typeOf[ac.WhatIfPolicy]()},
	"WhatIfRule":           {typeOf[ac.WhatIfRule]()},
	"ClaimMappings":        {typeOf[ac.ClaimMappings]()},
	"ClaimMapping":         {typeOf[ac.ClaimMapping]()},

	"TokenExchangeSettings": {typeOf[ac.TokenExchangeSettings]()},

	"PreAuthorizationPolicy": {typeOf[ac.PreAuthorizationPolicy]()},

	"ApplyResult":      {typeOf[ac.ApplyResult]()},
	"ApplyPlan":        {typeOf[ac.Plan]()},
	"ApplyChange":      {typeOf[ac.Change]()},
	"ApplyFieldChange": {typeOf[ac.FieldChange]()},

	"AuthorizationDetailType": {typeOf[ac.AuthorizationDetailType]()},
}

// inlineTypes names the Go type of each schema written inline in an
// operation, keyed "operationId request" or "operationId <status>".
var inlineTypes = map[string]reflect.Type{
	"listWorkspaces 200":               typeOf[ac.Page[ac.Workspace]](),
	"listServices 200":                 typeOf[ac.Page[ac.Service]](),
	"listClients 200":                  typeOf[ac.Page[ac.OAuthClient]](),
	"listConsoleUsers 200":             typeOf[ac.Page[ac.ConsoleUser]](),
	"listAdminTokens 200":              typeOf[ac.List[ac.AdminToken]](),
	"listUsers 200":                    typeOf[ac.Page[ac.User]](),
	"listProfiles 200":                 typeOf[ac.Page[ac.Profile]](),
	"listTrustedIssuers 200":           typeOf[ac.Page[ac.TrustedIssuer]](),
	"listPolicies 200":                 typeOf[ac.Page[ac.Policy]](),
	"listPolicyVersions 200":           typeOf[ac.List[ac.Policy]](),
	"listPolicyTemplates 200":          typeOf[ac.List[ac.PolicyTemplate]](),
	"rollbackPolicy request":           typeOf[ac.PolicyRollback](),
	"listInitialAccessTokens 200":      typeOf[ac.List[ac.InitialAccessToken]](),
	"listClientCertificates 200":       typeOf[ac.List[ac.Certificate]](),
	"listUserConsents 200":             typeOf[ac.List[ac.Consent]](),
	"listUserSessions 200":             typeOf[ac.List[ac.BrowserSession]](),
	"listWorkspaceAudit 200":           typeOf[ac.Page[ac.AuditEvent]](),
	"listServerAudit 200":              typeOf[ac.Page[ac.AuditEvent]](),
	"listOutbox 200":                   typeOf[ac.List[ac.OutboxMail]](),
	"revealClientSecret request":       typeOf[ac.RevealSecretRequest](),
	"revealClientSecret 200":           typeOf[ac.RevealedSecret](),
	"setConsoleUserPassword request":   typeOf[ac.PasswordRequest](),
	"setUserPassword request":          typeOf[ac.PasswordRequest](),
	"sendPasswordLink 202":             typeOf[ac.PasswordLinkSent](),
	"rotateKeys request":               typeOf[ac.RotateKeysRequest](),
	"createInitialAccessToken request": typeOf[ac.InitialAccessTokenRequest](),
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// TestOpenAPIMatchesTypes holds the served OpenAPI document and the types
// of package adminclient (which the handlers encode and decode) to one
// contract: every schema's properties are the JSON fields of its Go type,
// in both directions, with matching JSON types.
func TestOpenAPIMatchesTypes(t *testing.T) {
	doc := openAPIDoc(t)
	schemas := doc.sub("components", "schemas")
	c := &contract{t: t, schemas: schemas}
	for _, name := range sortedKeys(schemas) {
		types, ok := componentTypes[name]
		if !ok {
			t.Errorf("schema %s: no Go type in componentTypes", name)
			continue
		}
		for _, typ := range types {
			c.compare(schemas.sub(name), typ, name+" ("+typ.String()+")")
		}
	}
	for name := range componentTypes {
		if schemas[name] == nil {
			t.Errorf("componentTypes names %s, which the document lacks", name)
		}
	}
	seen := c.inlineSchemas(doc.sub("paths"))
	for key := range inlineTypes {
		if !seen[key] {
			t.Errorf("inlineTypes names %q, which the document lacks", key)
		}
	}
	c.everyTypeDescribed()
}

type node map[string]any

func (n node) sub(keys ...string) node {
	for _, k := range keys {
		m, _ := n[k].(map[string]any)
		n = m
	}
	return n
}

func (n node) str(key string) string { s, _ := n[key].(string); return s }

func openAPIDoc(t *testing.T) node {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

type contract struct {
	t       *testing.T
	schemas node
	covered map[reflect.Type]bool
}

// inlineSchemas checks each operation's inline request and response
// schemas against inlineTypes and returns the keys it met.
func (c *contract) inlineSchemas(paths node) map[string]bool {
	seen := map[string]bool{}
	for _, p := range sortedKeys(paths) {
		for _, method := range []string{"get", "post", "put", "patch", "delete"} {
			op := paths.sub(p, method)
			if op == nil {
				continue
			}
			id := op.str("operationId")
			bodies := map[string]node{"request": op.sub("requestBody")}
			for status := range op.sub("responses") {
				bodies[status] = op.sub("responses", status)
			}
			for what, body := range bodies {
				schema := body.sub("content", "application/json", "schema")
				if schema == nil || schema["$ref"] != nil || schema["properties"] == nil {
					continue // none, a component (checked on its own) or free-form
				}
				key := id + " " + what
				seen[key] = true
				typ, ok := inlineTypes[key]
				if !ok {
					c.t.Errorf("%s %s: inline schema of %q has no Go type in inlineTypes", strings.ToUpper(method), p, key)
					continue
				}
				c.compare(schema, typ, key+" ("+typ.String()+")")
			}
		}
	}
	return seen
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// compare checks that schema describes values of typ.
func (c *contract) compare(schema node, typ reflect.Type, where string) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	c.cover(typ)
	if ref := schema.str("$ref"); ref != "" {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if !slices.Contains(componentTypes[name], typ) {
			c.t.Errorf("%s: Go type %s, but the schema refers to %s (%v)", where, typ, name, componentTypes[name])
		}
		return
	}
	kind := schema.str("type")
	switch {
	case kind == "object" && schema["properties"] != nil:
		c.compareObject(schema, typ, where)
	case kind == "object" && schema["additionalProperties"] != nil:
		if typ.Kind() != reflect.Map || typ.Key().Kind() != reflect.String {
			c.t.Errorf("%s: schema is a map, Go type %s", where, typ)
			return
		}
		if extra, ok := schema["additionalProperties"].(map[string]any); ok {
			c.compare(extra, typ.Elem(), where+"{}")
		}
	case kind == "object":
		if typ != rawType && typ.Kind() != reflect.Map && typ.Kind() != reflect.Interface {
			c.t.Errorf("%s: schema is a free-form object, Go type %s", where, typ)
		}
	case kind == "array":
		if typ.Kind() != reflect.Slice || typ == rawType {
			c.t.Errorf("%s: schema is an array, Go type %s", where, typ)
			return
		}
		c.compare(schema.sub("items"), typ.Elem(), where+"[]")
	case kind == "string" && schema.str("format") == "date-time":
		if typ != timeType {
			c.t.Errorf("%s: schema is a date-time, Go type %s", where, typ)
		}
	case kind == "string", kind == "integer", kind == "boolean":
		if want := simpleKinds[kind]; !slices.Contains(want, typ.Kind()) || typ == timeType {
			c.t.Errorf("%s: schema is %s, Go type %s", where, kind, typ)
		}
	default:
		c.t.Errorf("%s: schema type %q is not checked", where, kind)
	}
}

var simpleKinds = map[string][]reflect.Kind{
	"string":  {reflect.String},
	"integer": {reflect.Int, reflect.Int32, reflect.Int64},
	"boolean": {reflect.Bool},
}

// compareObject checks the properties against the JSON fields of a
// struct, in both directions.
func (c *contract) compareObject(schema node, typ reflect.Type, where string) {
	if typ.Kind() != reflect.Struct {
		c.t.Errorf("%s: schema is an object, Go type %s", where, typ)
		return
	}
	for f := range typ.Fields() {
		if f.Anonymous {
			c.cover(f.Type) // flattened into typ's document
		}
	}
	props := schema.sub("properties")
	fields := jsonFields(typ)
	for _, name := range sortedKeys(props) {
		f, ok := fields[name]
		if !ok {
			c.t.Errorf("%s: property %q has no field in %s", where, name, typ)
			continue
		}
		c.compare(props.sub(name), f.Type, where+"."+name)
	}
	for _, name := range sortedKeys(fields) {
		if props[name] == nil {
			c.t.Errorf("%s: field %s.%s (JSON %q) is not in the schema", where, typ, fields[name].Name, name)
		}
	}
}

// jsonFields are the members encoding/json gives a struct: tagged or
// exported fields, with untagged embedded structs flattened.
func jsonFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			for n, inner := range jsonFields(f.Type) {
				out[n] = inner
			}
		case name == "":
			out[f.Name] = f
		default:
			out[name] = f
		}
	}
	return out
}

func (c *contract) cover(typ reflect.Type) {
	if c.covered == nil {
		c.covered = map[reflect.Type]bool{}
	}
	c.covered[typ] = true
}

// everyTypeDescribed fails for a struct type of package adminclient with
// JSON tags that no schema describes: a document the API sends or
// accepts must be in the OpenAPI document.
func (c *contract) everyTypeDescribed() {
	described := map[string]bool{}
	for typ := range c.covered {
		if typ.PkgPath() == typeOf[ac.Client]().PkgPath() {
			name, _, _ := strings.Cut(typ.Name(), "[")
			described[name] = true
		}
	}
	for _, name := range taggedStructs(c.t, filepath.Join("..", "..", "adminclient")) {
		if !described[name] {
			c.t.Errorf("adminclient.%s is a JSON document that no schema describes", name)
		}
	}
}

// taggedStructs lists the exported struct types declared in dir that
// have a field with a json tag.
func taggedStructs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok && hasJSONTag(st) {
				names = append(names, ts.Name.Name)
			}
			return true
		})
	}
	return names
}

func hasJSONTag(st *ast.StructType) bool {
	for _, f := range st.Fields.List {
		if f.Tag != nil && strings.Contains(f.Tag.Value, `json:"`) {
			return true
		}
	}
	return false
}

// TestTypeErrorsNameRequestFields: a member of an embedded adminclient
// type is named as the document spells it, without the Go type's name.
func TestTypeErrorsNameRequestFields(t *testing.T) {
	cases := []struct {
		body string
		dst  any
		want string
	}{
		{`{"disabled":"x"}`, &consoleUserUpdate{}, "disabled: must be a boolean"},
		{`{"username":1}`, &consoleUserCreate{}, "username: must be a string"},
		{`{"trusted":"x"}`, &clientRequest{}, "trusted: must be a boolean"},
		{`{"refresh_tokens":{"idle_ttl":"x"}}`, &clientRequest{}, "refresh_tokens.idle_ttl: must be an integer"},
		{`{"settings":{"branding":{"logo_uri":1}}}`, &workspaceRequest{}, "settings.branding.logo_uri: must be a string"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		err := decodeJSON(httptest.NewRecorder(), r, tc.dst, false)
		var he *httpError
		if !errors.As(err, &he) || he.desc != tc.want {
			t.Errorf("%s: got %v, want %q", tc.body, err, tc.want)
		}
	}
}
