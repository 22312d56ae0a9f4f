package authzdetails

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// Problem is one reason a service's declared types are refused: the field
// (as "authorization_detail_types[i].schema") and a message for people.
type Problem struct {
	Field, Rule, Message string
}

// CheckTypes validates a service's declared types before they are saved:
// a valid, unique type name, a bounded description and a JSON Schema that
// compiles without external references.
func CheckTypes(ts []storage.AuthorizationDetailType) []Problem {
	var out []Problem
	if len(ts) > MaxTypesPerService {
		return []Problem{{"authorization_detail_types", "max_items", fmt.Sprintf("at most %d types", MaxTypesPerService)}}
	}
	seen := map[string]bool{}
	for i, t := range ts {
		f := fmt.Sprintf("authorization_detail_types[%d]", i)
		switch {
		case !typePattern.MatchString(t.Type):
			out = append(out, Problem{f + ".type", "pattern", "must be 1-128 letters, digits or '_', '.', ':', '/', '~', '-'"})
		case seen[t.Type]:
			out = append(out, Problem{f + ".type", "unique", fmt.Sprintf("duplicate type %q", t.Type)})
		}
		seen[t.Type] = true
		if len(t.Description) > MaxDescriptionLen {
			out = append(out, Problem{f + ".description", "max_length", fmt.Sprintf("at most %d characters", MaxDescriptionLen)})
		}
		if _, err := CompileSchema(t.Schema); err != nil {
			out = append(out, Problem{f + ".schema", "json_schema", err.Error()})
		}
	}
	return out
}

// View is one authorization detail as the consent page shows it: the
// type's description (or its name) and its fields as a readable list.
type View struct {
	Type, Description string
	Fields            []FieldView
}

// FieldView is one field: a dotted name and its value in words.
type FieldView struct{ Name, Value string }

// Views describes ds for people with the catalog's descriptions.
func Views(ds []Detail, c *Catalog) []View {
	out := make([]View, 0, len(ds))
	for _, d := range ds {
		v := View{Type: d.Type, Description: c.Description(d.Type)}
		if v.Description == "" {
			v.Description = d.Type
		}
		keys := make([]string, 0, len(d.Fields))
		for k := range d.Fields {
			if k != "type" {
				keys = append(keys, k)
			}
		}
		// The common fields of RFC 9396 §2.2 first, then the type's own.
		common := []string{"actions", "locations", "datatypes", "identifier", "privileges"}
		sort.SliceStable(keys, func(i, j int) bool {
			ci, cj := slices.Index(common, keys[i]), slices.Index(common, keys[j])
			switch {
			case ci >= 0 && cj >= 0:
				return ci < cj
			case ci >= 0 || cj >= 0:
				return ci >= 0
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			v.Fields = appendField(v.Fields, k, d.Fields[k])
		}
		out = append(out, v)
	}
	return out
}

// appendField flattens objects into dotted names and lists scalars.
func appendField(out []FieldView, name string, val any) []FieldView {
	switch x := val.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = appendField(out, name+"."+k, x[k])
		}
		return out
	case []any:
		if allScalars(x) {
			parts := make([]string, len(x))
			for i, e := range x {
				parts[i] = scalar(e)
			}
			return append(out, FieldView{name, strings.Join(parts, ", ")})
		}
		for i, e := range x {
			out = appendField(out, fmt.Sprintf("%s[%d]", name, i), e)
		}
		return out
	}
	return append(out, FieldView{name, scalar(val)})
}

func allScalars(xs []any) bool {
	for _, x := range xs {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "yes"
		}
		return "no"
	}
	return fmt.Sprint(v)
}
