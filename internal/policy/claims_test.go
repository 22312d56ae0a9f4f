package policy

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

func mapping(name, expr string, targets ...string) storage.ClaimMapping {
	if len(targets) == 0 {
		targets = []string{TargetAccessToken}
	}
	return storage.ClaimMapping{Name: name, Expression: expr, Targets: targets}
}

func TestClaimsReservedRefused(t *testing.T) {
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope",
		"cnf", "act", "azp", "nonce", "at_hash", "sid", "auth_time", "rtf", "acr", "amr", "c_hash"} {
		t.Run(name, func(t *testing.T) {
			_, err := CompileClaims([]storage.ClaimMapping{mapping(name, `"x"`)})
			var ce *ClaimError
			if !errors.As(err, &ce) || !strings.Contains(ce.Message, "reserved") {
				t.Fatalf("CompileClaims(%q) = %v, want reserved refusal", name, err)
			}
		})
	}
}

func TestClaimsCompileRefused(t *testing.T) {
	tests := map[string]struct {
		m          []storage.ClaimMapping
		line, col  int
		wantSubstr string
	}{
		"syntax":        {[]storage.ClaimMapping{mapping("a", "user.username +")}, 1, 16, "Syntax error"},
		"undeclared":    {[]storage.ClaimMapping{mapping("a", "\n  http.get('x')")}, 2, 3, "undeclared"},
		"unknown field": {[]storage.ClaimMapping{mapping("a", "user.nope")}, 1, 5, "undefined field"},
		"bad name":      {[]storage.ClaimMapping{mapping("a b", `"x"`)}, 0, 0, "name must be"},
		"twice":         {[]storage.ClaimMapping{mapping("a", `"x"`), mapping("a", `"y"`)}, 0, 0, "mapped twice"},
		"no target":     {[]storage.ClaimMapping{{Name: "a", Expression: `"x"`}}, 0, 0, "at least one target"},
		"bad target":    {[]storage.ClaimMapping{mapping("a", `"x"`, "cookie")}, 0, 0, "unknown target"},
		"static too big": {[]storage.ClaimMapping{mapping("a", `"`+strings.Repeat("x", 3000)+`"`),
			mapping("b", `"`+strings.Repeat("y", 2000)+`"`)}, 0, 0, "more than the limit"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := CompileClaims(tc.m)
			var ce *ClaimError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *ClaimError", err)
			}
			if ce.Line != tc.line || ce.Column != tc.col || !strings.Contains(ce.Message, tc.wantSubstr) {
				t.Fatalf("got line %d col %d %q, want %d %d containing %q", ce.Line, ce.Column, ce.Message, tc.line, tc.col, tc.wantSubstr)
			}
		})
	}
}

func TestClaimsEvaluate(t *testing.T) {
	p, err := CompileClaims([]storage.ClaimMapping{
		mapping("cmicuser", `workspace.id + "||" + user.username`, TargetAccessToken, TargetIntrospection),
		mapping("roles", `user.profiles`, TargetIDToken),
		mapping("meta", `{"n": 1, "ok": true, "ip": request.remote_ip}`, TargetUserInfo),
	})
	if err != nil {
		t.Fatal(err)
	}
	set, err := p.Evaluate(context.Background(), Input{User: User{Username: "svc-cmic", Profiles: []string{"p1"}},
		Workspace: Workspace{ID: "acme"}, Request: Request{RemoteIP: "10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := set[TargetAccessToken]["cmicuser"]; got != "acme||svc-cmic" {
		t.Errorf("cmicuser = %v", got)
	}
	if got := set[TargetIntrospection]["cmicuser"]; got != "acme||svc-cmic" {
		t.Errorf("introspection cmicuser = %v", got)
	}
	if got, _ := set[TargetIDToken]["roles"].([]any); len(got) != 1 || got[0] != "p1" {
		t.Errorf("roles = %v", set[TargetIDToken]["roles"])
	}
	if got, _ := set[TargetUserInfo]["meta"].(map[string]any); got["n"] != int64(1) || got["ok"] != true || got["ip"] != "10.0.0.1" {
		t.Errorf("meta = %v", set[TargetUserInfo]["meta"])
	}
}

func TestClaimsEvaluateFailsClosed(t *testing.T) {
	tests := map[string]storage.ClaimMapping{
		"missing attribute": mapping("a", `user.attributes["tenant"]`),
		"division by zero":  mapping("a", `1 / (size(user.profiles) - size(user.profiles))`),
		"too large at run":  mapping("a", `user.email`),
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := CompileClaims([]storage.ClaimMapping{m})
			if err != nil {
				t.Fatal(err)
			}
			if set, err := p.Evaluate(context.Background(), Input{User: User{Username: "u", Email: strings.Repeat("e", MaxClaimsSize)}}); err == nil {
				t.Fatalf("Evaluate = %v, want error", set)
			}
		})
	}
}

func TestClaimEngineCachesPerVersion(t *testing.T) {
	var e ClaimEngine
	c := storage.Client{WorkspaceID: "w", ID: "c", ClaimMappings: []storage.ClaimMapping{mapping("a", `"one"`)}}
	set, err := e.ClientClaims(context.Background(), c, Input{})
	if err != nil || set[TargetAccessToken]["a"] != "one" {
		t.Fatalf("first = %v, %v", set, err)
	}
	c.ClaimMappings = []storage.ClaimMapping{mapping("a", `"two"`)}
	c.UpdatedAt = c.UpdatedAt.Add(1)
	set, err = e.ClientClaims(context.Background(), c, Input{})
	if err != nil || set[TargetAccessToken]["a"] != "two" {
		t.Fatalf("after change = %v, %v", set, err)
	}
}

func FuzzCompileClaims(f *testing.F) {
	f.Add("cmicuser", `workspace.id + "||" + user.username`, "access_token")
	f.Add("sub", `"x"`, "id_token")
	f.Add("a", `[[[[`, "userinfo")
	f.Fuzz(func(t *testing.T, name, expr, target string) {
		p, err := CompileClaims([]storage.ClaimMapping{{Name: name, Expression: expr, Targets: []string{target}}})
		if err != nil {
			var ce *ClaimError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ClaimError", err)
			}
			return
		}
		_, _ = p.Evaluate(context.Background(), Input{})
	})
}

func TestSizeBoundIsAnUpperBound(t *testing.T) {
	for _, v := range []any{"", "plain", "\x00<>&\u2028\"\\", map[string]any{"a": []any{1.5e300, -1.0, true, nil, "x"}},
		[]any{map[string]any{}, []any{}}, float64(-1234567890123456789)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := sizeBound(v); got < len(b) {
			t.Errorf("sizeBound(%#v) = %d < %d (%s)", v, got, len(b), b)
		}
	}
}

func TestClaimsJSONValues(t *testing.T) {
	ok := map[string]any{
		`9007199254740993`:         int64(9007199254740993),
		`18446744073709551615u`:    uint64(18446744073709551615),
		`2.5`:                      2.5,
		`null`:                     nil,
		`{"a": [1, "b"], "c": {}}`: map[string]any{"a": []any{int64(1), "b"}, "c": map[string]any{}},
	}
	for expr, want := range ok {
		p, err := CompileClaims([]storage.ClaimMapping{mapping("a", expr)})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		set, err := p.Evaluate(context.Background(), Input{})
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got, _ := json.Marshal(set[TargetAccessToken]["a"]); string(got) != mustJSON(t, want) {
			t.Errorf("%s = %s, want %s", expr, got, mustJSON(t, want))
		}
	}
	// Not JSON: refused at save when constant, an error at run time otherwise.
	for _, expr := range []string{`timestamp("2020-01-01T00:00:00Z")`, `b"x"`, `{1: "a"}`, `duration("1s")`, `[0.0 / 0.0]`} {
		if _, err := CompileClaims([]storage.ClaimMapping{mapping("a", expr)}); err == nil || !strings.Contains(err.Error(), "JSON") {
			t.Errorf("%s: err = %v, want a JSON refusal", expr, err)
		}
	}
	p, err := CompileClaims([]storage.ClaimMapping{mapping("a", `user`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Evaluate(context.Background(), Input{}); err == nil {
		t.Error("a context object as claim value must fail")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
