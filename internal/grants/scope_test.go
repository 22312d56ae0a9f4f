package grants

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

const (
	testIssuer = "https://as.example/w/acme"
	ordersAPI  = "https://orders.example/api"
	billingAPI = "https://billing.example"
	emptyAPI   = "urn:example:empty"
)

var testRefs = []storage.ScopeRef{
	{Scope: storage.Scope{Name: "billing:read"}, ServiceIdentifier: billingAPI},
	{Scope: storage.Scope{Name: "orders:read"}, ServiceIdentifier: ordersAPI},
	{Scope: storage.Scope{Name: "orders:write"}, ServiceIdentifier: ordersAPI},
	{Scope: storage.Scope{Name: "secret:admin"}, ServiceIdentifier: "https://admin.example"},
}

func TestResolveScopes(t *testing.T) {
	client := storage.Client{Scopes: []string{"orders:read", "orders:write", "billing:read", "deleted:scope"}}
	tests := []struct {
		name      string
		form      url.Values
		scopes    []string
		audience  []string
		errCode   oauth2.ErrorCode
		errSubstr string
	}{
		{name: "default is every allowed scope that exists",
			form:     url.Values{},
			scopes:   []string{"billing:read", "orders:read", "orders:write"},
			audience: []string{billingAPI, ordersAPI}},
		{name: "empty scope parameter means default",
			form:     url.Values{"scope": {"  "}},
			scopes:   []string{"billing:read", "orders:read", "orders:write"},
			audience: []string{billingAPI, ordersAPI}},
		{name: "subset, duplicates and extra spaces",
			form:     url.Values{"scope": {"orders:read  orders:read"}},
			scopes:   []string{"orders:read"},
			audience: []string{ordersAPI}},
		{name: "D7 scope beyond the client's allowed scopes",
			form:    url.Values{"scope": {"orders:read secret:admin"}},
			errCode: oauth2.ErrInvalidScope, errSubstr: "'secret:admin'"},
		{name: "D7 allowed scope that no longer exists",
			form:    url.Values{"scope": {"deleted:scope"}},
			errCode: oauth2.ErrInvalidScope, errSubstr: "'deleted:scope'"},
		{name: "invalid scope characters",
			form:    url.Values{"scope": {"orders:read\"x"}},
			errCode: oauth2.ErrInvalidScope},
		{name: "resource narrows the default",
			form:     url.Values{"resource": {ordersAPI}},
			scopes:   []string{"orders:read", "orders:write"},
			audience: []string{ordersAPI}},
		{name: "two resources keep request order",
			form:     url.Values{"resource": {ordersAPI, billingAPI, ordersAPI}},
			scopes:   []string{"billing:read", "orders:read", "orders:write"},
			audience: []string{ordersAPI, billingAPI}},
		{name: "scope outside the requested resource",
			form:    url.Values{"resource": {ordersAPI}, "scope": {"billing:read"}},
			errCode: oauth2.ErrInvalidScope, errSubstr: "requested resources"},
		{name: "resource without a granted scope",
			form:    url.Values{"resource": {ordersAPI, billingAPI}, "scope": {"orders:read"}},
			errCode: oauth2.ErrInvalidTarget, errSubstr: billingAPI},
		{name: "resource the client has no scope at",
			form:    url.Values{"resource": {"https://admin.example"}},
			errCode: oauth2.ErrInvalidTarget},
		{name: "relative resource",
			form:    url.Values{"resource": {"/api"}},
			errCode: oauth2.ErrInvalidTarget, errSubstr: "absolute URI"},
		{name: "resource with fragment",
			form:    url.Values{"resource": {ordersAPI + "#x"}},
			errCode: oauth2.ErrInvalidTarget, errSubstr: "fragment"},
		{name: "empty resource",
			form:    url.Values{"resource": {""}},
			errCode: oauth2.ErrInvalidTarget},
		{name: "unknown resource",
			form:    url.Values{"resource": {"https://unknown.example"}},
			errCode: oauth2.ErrInvalidTarget, errSubstr: "not a service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := resolveForm(client, testRefs, tc.form)
			if tc.errCode != "" {
				assertProtocolError(t, err, tc.errCode, tc.errSubstr)
				return
			}
			if err != nil {
				t.Fatalf("resolveForm: %v", err)
			}
			if !slices.Equal(g.scopes, tc.scopes) || !slices.Equal(g.audience, tc.audience) {
				t.Fatalf("got scopes %q aud %q, want %q %q", g.scopes, g.audience, tc.scopes, tc.audience)
			}
		})
	}
}

// TestResolveScopesNoScopeAudience covers Q5: a client allowed no scope
// still gets an audience-restricted token, whose audience is the issuer.
func TestResolveScopesNoScopeAudience(t *testing.T) {
	g, err := resolveForm(storage.Client{}, testRefs, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.scopes) != 0 || !slices.Equal(g.audience, []string{testIssuer}) {
		t.Fatalf("got scopes %q aud %q", g.scopes, g.audience)
	}
}

// resolveForm runs the scope policy as client_credentials does: the
// parameters are parsed from the form, then resolved against the catalog.
func resolveForm(client storage.Client, refs []storage.ScopeRef, form url.Values) (scopeGrant, error) {
	p, err := parseScopeParams(form)
	if err != nil {
		return scopeGrant{}, err
	}
	return resolveScopes(client, storage.NewScopeIndex(refs), p, testIssuer)
}

func assertProtocolError(t *testing.T, err error, code oauth2.ErrorCode, substr string) {
	t.Helper()
	var e *oauth2.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *oauth2.Error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Description, code)
	}
	if substr != "" && !strings.Contains(e.Description, substr) {
		t.Fatalf("description %q does not contain %q", e.Description, substr)
	}
}

// FuzzResolveScopes checks that no scope/resource input panics, that every
// error is invalid_scope or invalid_target, and that a grant never exceeds
// the client's allowed scopes and always has an audience (D7, Q5).
func FuzzResolveScopes(f *testing.F) {
	f.Add("orders:read orders:write", ordersAPI, "")
	f.Add("", billingAPI, ordersAPI)
	f.Add("  billing:read\t", "urn:x", "#")
	f.Add("secret:admin", "https://admin.example", "")
	client := storage.Client{Scopes: []string{"orders:read", "orders:write", "billing:read"}}
	f.Fuzz(func(t *testing.T, scope, res1, res2 string) {
		form := url.Values{"scope": {scope}}
		for _, r := range []string{res1, res2} {
			if r != "" {
				form.Add("resource", r)
			}
		}
		g, err := resolveForm(client, testRefs, form)
		if err != nil {
			var e *oauth2.Error
			if !errors.As(err, &e) || (e.Code != oauth2.ErrInvalidScope && e.Code != oauth2.ErrInvalidTarget) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, s := range g.scopes {
			if !slices.Contains(client.Scopes, s) {
				t.Fatalf("granted %q beyond the client's scopes", s)
			}
		}
		if len(g.audience) == 0 {
			t.Fatal("empty audience")
		}
	})
}
