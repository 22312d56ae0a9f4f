// Package authzdetails implements Rich Authorization Requests (RFC 9396):
// the authorization_details parameter, its validation against the types
// the workspace's services declare (each with a JSON Schema), narrowing on
// refresh and the words the consent page shows.
//
// A type belongs to one service. A client may use it when it is allowed
// at least one of that service's scopes: authorization details refine what
// a service grants, so a client that may not use the service at all may
// not ask for its details either.
package authzdetails

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Protocol names (RFC 9396).
const (
	// Param is the request parameter (§2) and the token response member
	// (§7.1).
	Param = "authorization_details"
	// Claim is the access token and introspection member (§9.1, §9.2).
	Claim = "authorization_details"
	// ErrInvalid is the error of §5.
	ErrInvalid oauth2.ErrorCode = "invalid_authorization_details"
)

// Limits.
const (
	// MaxParamLen bounds the parameter before it is parsed.
	MaxParamLen = 16 << 10
	// MaxEntries bounds the entries of one request.
	MaxEntries = 32
	// MaxTypesPerService bounds the declared types of a service.
	MaxTypesPerService = 32
	// MaxSchemaLen bounds one type's JSON Schema document.
	MaxSchemaLen = 32 << 10
	// MaxDescriptionLen bounds a type's description.
	MaxDescriptionLen = 1000
)

// typePattern is a type name: a short identifier or URI (§2 "type": a
// string; Latchkey keeps it printable and without spaces).
var typePattern = regexp.MustCompile(`^[A-Za-z0-9_.:/~-]{1,128}$`)

// Detail is one entry of authorization_details: its type and the whole
// object, as sent.
type Detail struct {
	Type   string
	Raw    json.RawMessage
	Fields map[string]any
}

// invalid is invalid_authorization_details with a description.
func invalid(format string, args ...any) error {
	return &oauth2.Error{Code: ErrInvalid, Description: fmt.Sprintf(format, args...)}
}

// Parse reads the parameter (§2): a JSON array of one or more objects,
// each with a string "type". It checks the shape only; Catalog.Validate
// checks the types and schemas.
func Parse(raw string) ([]Detail, error) {
	if len(raw) > MaxParamLen {
		return nil, invalid("authorization_details is longer than %d bytes", MaxParamLen)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var entries []json.RawMessage
	if err := dec.Decode(&entries); err != nil {
		return nil, invalid("authorization_details must be a JSON array of objects")
	}
	if dec.More() {
		return nil, invalid("authorization_details must be a single JSON array")
	}
	if _, err := dec.Token(); err == nil {
		return nil, invalid("authorization_details must be a single JSON array")
	}
	switch {
	case len(entries) == 0:
		return nil, invalid("authorization_details must not be empty")
	case len(entries) > MaxEntries:
		return nil, invalid("authorization_details has more than %d entries", MaxEntries)
	}
	out := make([]Detail, 0, len(entries))
	for i, e := range entries {
		d, err := parseEntry(i, e)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func parseEntry(i int, e json.RawMessage) (Detail, error) {
	dec := json.NewDecoder(bytes.NewReader(e))
	dec.UseNumber()
	var fields map[string]any
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return Detail{}, invalid("authorization_details[%d] must be a JSON object", i)
	}
	t, ok := fields["type"].(string)
	switch {
	case !ok:
		return Detail{}, invalid("authorization_details[%d].type is missing or not a string", i)
	case !typePattern.MatchString(t):
		return Detail{}, invalid("authorization_details[%d].type is not a valid type name", i)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, e); err != nil {
		return Detail{}, invalid("authorization_details[%d] must be a JSON object", i)
	}
	return Detail{Type: t, Raw: compact.Bytes(), Fields: fields}, nil
}

// Encode is the details as one compact JSON array, for storage, tokens
// and responses; nil for none.
func Encode(ds []Detail) json.RawMessage {
	if len(ds) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d.Raw)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// Decode reads details stored by Encode; nil or empty is none.
func Decode(raw json.RawMessage) ([]Detail, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	return Parse(string(raw))
}

// entry is one declared type as a client sees it.
type entry struct {
	storage.AuthorizationDetailType
	service string
	allowed bool
}

// Catalog is the types of a workspace's services and whether a client may
// use each.
type Catalog struct {
	types map[string]entry
	// only, when not empty, is the client's authorization_details_types
	// (RFC 9396 §10): the types it registered to use.
	only []string
}

// ForClient is the catalog of the workspace's scope list for client c:
// the types of the services c is allowed a scope of, narrowed to c's
// authorization_details_types when it registered any (RFC 9396 §10). The
// registered list narrows and never widens: a type of a service the
// client may not use stays refused even when listed.
func ForClient(refs []storage.ScopeRef, c storage.Client) *Catalog {
	cat := NewCatalog(refs, c.Scopes)
	cat.only = c.AuthorizationDetailsTypes
	return cat
}

// NewCatalog builds the catalog of the workspace's scope list (whose
// services carry their types) for a client allowed clientScopes.
func NewCatalog(refs []storage.ScopeRef, clientScopes []string) *Catalog {
	c := &Catalog{types: map[string]entry{}}
	for _, r := range refs {
		allowed := slices.Contains(clientScopes, r.Name)
		for _, t := range r.ServiceAuthorizationDetailTypes {
			e, ok := c.types[t.Type]
			if !ok {
				e = entry{AuthorizationDetailType: t, service: r.ServiceID}
			}
			if e.service == r.ServiceID {
				e.allowed = e.allowed || allowed
				c.types[t.Type] = e
			}
		}
	}
	return c
}

// Validate checks every entry (§5): a known type of a service the client
// may use, valid against the type's schema. The common fields of §2.2
// (locations, actions, datatypes, identifier, privileges) have their
// shapes checked here and are otherwise left to the schema.
func (c *Catalog) Validate(ds []Detail) error {
	for i, d := range ds {
		e, ok := c.types[d.Type]
		if !ok {
			return invalid("authorization_details[%d].type %s is not a supported type", i, d.Type)
		}
		if !e.allowed {
			return invalid("authorization_details[%d].type %s belongs to a service the client may not use", i, d.Type)
		}
		if len(c.only) > 0 && !slices.Contains(c.only, d.Type) {
			return invalid("authorization_details[%d].type %s is not one of the client's registered authorization_details_types", i, d.Type)
		}
		if err := checkCommonFields(i, d); err != nil {
			return err
		}
		sch, err := compiled(e.Schema)
		if err != nil {
			// Refused when saved; a stored schema that no longer compiles
			// is the server's fault, not the client's.
			return fmt.Errorf("authzdetails: schema of type %q: %w", d.Type, err)
		}
		if err := validateInstance(sch, d.Raw); err != nil {
			return invalid("authorization_details[%d] (type %s): %s", i, d.Type, err)
		}
	}
	return nil
}

// checkCommonFields: §2.2 defines locations, actions, datatypes and
// privileges as arrays of strings and identifier as a string.
func checkCommonFields(i int, d Detail) error {
	for _, name := range []string{"locations", "actions", "datatypes", "privileges"} {
		v, ok := d.Fields[name]
		if !ok {
			continue
		}
		arr, isArr := v.([]any)
		if !isArr {
			return invalid("authorization_details[%d].%s must be an array of strings (RFC 9396 §2.2)", i, name)
		}
		for _, x := range arr {
			if _, isStr := x.(string); !isStr {
				return invalid("authorization_details[%d].%s must be an array of strings (RFC 9396 §2.2)", i, name)
			}
		}
	}
	if v, ok := d.Fields["identifier"]; ok {
		if _, isStr := v.(string); !isStr {
			return invalid("authorization_details[%d].identifier must be a string (RFC 9396 §2.2)", i)
		}
	}
	return nil
}

// Known reports whether the catalog declares typ.
func (c *Catalog) Known(typ string) bool {
	_, ok := c.types[typ]
	return ok
}

// Description is the declared description of typ ("" when unknown).
func (c *Catalog) Description(typ string) string {
	return c.types[typ].Description
}

// SupportedTypes is the union of the types the workspace's services
// declare, sorted: discovery's authorization_details_types_supported
// (§10).
func SupportedTypes(refs []storage.ScopeRef) []string {
	var out []string
	for _, r := range refs {
		for _, t := range r.ServiceAuthorizationDetailTypes {
			if !slices.Contains(out, t.Type) {
				out = append(out, t.Type)
			}
		}
	}
	slices.Sort(out)
	return out
}

// UndeclaredTypes returns the entries of types that no service of the
// workspace declares (refs is its scope list), in their order: a client
// may only register types the workspace supports (RFC 9396 §10).
func UndeclaredTypes(refs []storage.ScopeRef, types []string) []string {
	supported := SupportedTypes(refs)
	var out []string
	for _, t := range types {
		if !slices.Contains(supported, t) {
			out = append(out, t)
		}
	}
	return out
}

// Narrow returns the details of requested when each is one of granted
// (§7: a refresh, or a code redemption, may ask for a subset of what was
// granted, never more). Entries are compared as JSON values, so key order
// and spacing do not matter; a narrower variant of an entry counts as
// different and is refused, since whether it is narrower depends on the
// type's semantics.
func Narrow(requested, granted []Detail) ([]Detail, error) {
	for i, r := range requested {
		if !slices.ContainsFunc(granted, func(g Detail) bool { return sameJSON(r.Fields, g.Fields) }) {
			return nil, invalid("authorization_details[%d] (type %s) was not granted: a refresh may only ask for granted details", i, r.Type)
		}
	}
	return requested, nil
}

// Equal reports whether two lists hold the same entries, as JSON values.
func Equal(a, b []Detail) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameJSON(a[i].Fields, b[i].Fields) {
			return false
		}
	}
	return true
}

// sameJSON compares decoded JSON values (json.Number compared as text
// after normalising through their float value when both parse).
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, errx := x.Float64()
		fy, erry := y.Float64()
		return errx == nil && erry == nil && fx == fy
	default:
		return a == b
	}
}
