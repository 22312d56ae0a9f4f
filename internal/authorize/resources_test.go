package authorize

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
)

// TestCheckResources: RFC 8707 §2 resource parameters at the
// authorization endpoint, one row per rule.
func TestCheckResources(t *testing.T) {
	many := make([]string, maxResources+1)
	for i := range many {
		many[i] = "https://api.example/" + strings.Repeat("x", i+1)
	}
	cases := []struct {
		name string
		vals []string
		want []string // nil with ok false: invalid_target
		ok   bool
	}{
		{"none", nil, nil, true},
		{"one", []string{"https://api.example/orders"}, []string{"https://api.example/orders"}, true},
		{"repeats dropped", []string{"urn:example:api", "https://a.example", "urn:example:api"}, []string{"urn:example:api", "https://a.example"}, true},
		{"fragment", []string{"https://api.example/orders#x"}, nil, false},
		{"relative", []string{"/orders"}, nil, false},
		{"no scheme", []string{"api.example"}, nil, false},
		{"empty", []string{""}, nil, false},
		{"too many", many, nil, false},
	}
	for _, tc := range cases {
		v := &validated{}
		err := checkResources(context.Background(), nil, url.Values{"resource": tc.vals}, v)
		if !tc.ok {
			if e := oauth2.AsError(err); err == nil || e.Code != oauth2.ErrInvalidTarget {
				t.Errorf("%s: err = %v, want invalid_target", tc.name, err)
			}
			continue
		}
		if err != nil || strings.Join(v.req.Resources, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %v %v, want %v", tc.name, v.req.Resources, err, tc.want)
		}
	}
}

// FuzzCheckResources: any input is either refused with invalid_target or
// kept as absolute URIs without fragments; nothing panics.
func FuzzCheckResources(f *testing.F) {
	for _, s := range []string{"https://api.example/x", "urn:a:b", "#", "https://a.example#f", "%zz", "http://[::1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := &validated{}
		err := checkResources(context.Background(), nil, url.Values{"resource": {s, s}}, v)
		if err != nil {
			if oauth2.AsError(err).Code != oauth2.ErrInvalidTarget {
				t.Fatalf("error %v is not invalid_target", err)
			}
			return
		}
		if len(v.req.Resources) != 1 || strings.Contains(s, "#") {
			t.Fatalf("accepted %q as %v", s, v.req.Resources)
		}
		if u, err := url.Parse(s); err != nil || !u.IsAbs() {
			t.Fatalf("accepted non-absolute %q", s)
		}
	})
}
