package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/storage"
)

func rules(conds ...string) []storage.PolicyRule {
	out := make([]storage.PolicyRule, len(conds))
	for i, c := range conds {
		out[i] = storage.PolicyRule{Condition: c, Outcome: storage.PolicyAllow}
	}
	return out
}

func TestCompileRefusedWithPosition(t *testing.T) {
	cases := []struct {
		name       string
		rules      []storage.PolicyRule
		rule, line int
		col        int
		contains   string
	}{
		{"undeclared variable", rules("true", "env.HOME == ''"), 1, 1, 1, "undeclared reference"},
		{"undeclared function (Z9)", rules(`http.get("http://127.0.0.1:1") == ""`), 0, 1, 1, "undeclared reference"},
		{"unknown field", rules("true", "true", "user.emal == 'x'"), 2, 1, 5, "undefined field"},
		{"syntax error on line 2", rules("true &&\n  user.id ==="), 0, 2, 13, "Syntax error"},
		{"string result (Z7)", rules(`"true"`), 0, 1, 1, "must be a bool"},
		{"int result (Z7)", rules(`1`), 0, 1, 1, "must be a bool"},
		{"null result (Z7)", rules(`null`), 0, 1, 1, "must be a bool"},
		{"type mismatch", rules(`user.active == "true"`), 0, 1, 13, "no matching overload"},
		{"empty condition", rules(""), 0, 0, 0, "condition is empty"},
		{"bad outcome", []storage.PolicyRule{{Condition: "true", Outcome: "maybe"}}, 0, 0, 0, "outcome must be"},
		{"too large (Z3)", rules(strings.Repeat("true && ", 1000) + "true"), 0, 0, 0, "longer than"},
		{"too deep (Z3)", rules(strings.Repeat("(", 1000) + "true" + strings.Repeat(")", 1000)), 0, 0, 0, ""},
		{"no rules", nil, 0, 0, 0, "at least one rule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile(tc.rules)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CompileError", err)
			}
			if ce.Rule != tc.rule {
				t.Errorf("rule = %d, want %d (%v)", ce.Rule, tc.rule, err)
			}
			if tc.line != 0 && (ce.Line != tc.line || ce.Column != tc.col) {
				t.Errorf("position = %d:%d, want %d:%d (%v)", ce.Line, ce.Column, tc.line, tc.col, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tc.contains)
			}
		})
	}
}

func mustCompile(t *testing.T, r []storage.PolicyRule) *Program {
	t.Helper()
	p, err := Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluateFirstMatchDecides(t *testing.T) {
	p := mustCompile(t, []storage.PolicyRule{
		{Condition: `user.username == "mallory"`, Outcome: "deny", Message: "not you"},
		{Condition: `"admins" in user.profiles`, Outcome: "allow"},
	})
	ctx := context.Background()
	if d := p.Evaluate(ctx, Input{User: User{Username: "mallory", Profiles: []string{"admins"}}}); d.Allow || d.Message != "not you" || d.Rule != 0 {
		t.Errorf("mallory: %+v", d)
	}
	if d := p.Evaluate(ctx, Input{User: User{Username: "alice", Profiles: []string{"admins"}}}); !d.Allow || d.Rule != 1 {
		t.Errorf("alice: %+v", d)
	}
	// No rule matched: deny.
	if d := p.Evaluate(ctx, Input{User: User{Username: "bob"}}); d.Allow || d.Rule != -1 || d.Message != DefaultDenyMessage {
		t.Errorf("bob: %+v", d)
	}
}

func TestEvaluateFailsClosed(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		rule storage.PolicyRule
	}{
		{"allow rule over absent attribute", storage.PolicyRule{Condition: `user.attributes["dept"] == "x"`, Outcome: "allow"}},
		{"deny rule over absent attribute", storage.PolicyRule{Condition: `user.attributes["dept"] != "x"`, Outcome: "deny"}},
		{"division by zero", storage.PolicyRule{Condition: `1 / size(user.profiles) == 1`, Outcome: "deny"}},
		{"int overflow", storage.PolicyRule{Condition: `9223372036854775807 + size(user.profiles) + 1 > 0`, Outcome: "deny"}},
		{"absent claim", storage.PolicyRule{Condition: `request.claims.tenant == "acme"`, Outcome: "deny"}},
		{"claim of the wrong type", storage.PolicyRule{Condition: `request.claims.n + 1 > 0`, Outcome: "deny"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The final allow must not be reached: an error denies.
			p := mustCompile(t, []storage.PolicyRule{tc.rule, {Condition: "true", Outcome: "allow"}})
			d := p.Evaluate(ctx, Input{})
			if d.Allow || d.Err == nil || d.Message != DefaultDenyMessage {
				t.Errorf("decision = %+v, want deny with an error", d)
			}
		})
	}
}

func TestCostRefusedAtSave(t *testing.T) {
	// Z2: eight nested comprehensions over ten elements is 10^8 steps:
	// the static estimate refuses it at save.
	cond := "[0,1,2,3,4,5,6,7,8,9]"
	expr := "true"
	for i := 0; i < 8; i++ {
		expr = cond + ".all(x" + string(rune('a'+i)) + ", " + expr + ")"
	}
	_, err := Compile([]storage.PolicyRule{{Condition: expr, Outcome: "deny"}})
	if err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Fatalf("err = %v, want the cost estimate refusal", err)
	}
}

func TestEvaluateCostLimit(t *testing.T) {
	// Z2: two nested loops over a claim array pass the save-time estimate
	// (inputs assumed small) but cost 10^6 steps over 1 000 elements: the
	// run-time cost limit or the deadline (Z4), whichever comes first,
	// aborts them, and the request is denied.
	p := mustCompile(t, []storage.PolicyRule{
		{Condition: `request.claims.groups.all(a, request.claims.groups.all(b, a != "" || b != ""))`, Outcome: "deny"},
		{Condition: "true", Outcome: "allow"},
	})
	groups := make([]any, 1000)
	for i := range groups {
		groups[i] = "g"
	}
	var in Input
	in.Request.SetClaims(map[string]any{"groups": groups})
	// The error below proves the abort; the wall-clock bound only catches
	// an evaluation left to run its 10^6 steps, with room for a loaded CI
	// machine (the 50 ms deadline can be overrun by scheduling alone).
	start := time.Now()
	d := p.Evaluate(context.Background(), in)
	if el := time.Since(start); el > time.Second {
		t.Errorf("evaluation took %v", el)
	}
	if d.Allow || d.Err == nil || !(strings.Contains(d.Err.Error(), "cost limit") || strings.Contains(d.Err.Error(), "deadline")) {
		t.Errorf("decision = %+v, want deny with a cost limit or deadline error", d)
	}
}

func TestInjectionStaysData(t *testing.T) {
	// Z1: attributes are bound as variables, never spliced into source.
	p, err := Render("email-domain", map[string]string{"domain": "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	prg := mustCompile(t, p)
	for _, email := range []string{`" || true || "`, `') || true || ('`, `1 == 1`} {
		if d := prg.Evaluate(context.Background(), Input{User: User{Email: email}}); d.Allow {
			t.Errorf("email %q allowed", email)
		}
	}
}

func TestTemplates(t *testing.T) {
	noon := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)   // a Wednesday
	sunday := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC) // a Sunday
	cases := []struct {
		template string
		params   map[string]string
		allow    Input
		deny     Input
	}{
		{"profiles", map[string]string{"profiles": "sales, ops"},
			Input{User: User{Profiles: []string{"ops"}}}, Input{User: User{Profiles: []string{"dev"}}}},
		{"email-domain", map[string]string{"domain": "example.com"},
			Input{User: User{Email: "Ann@Example.COM"}}, Input{User: User{Email: "ann@example.com.evil.org"}}},
		{"ip-ranges", map[string]string{"cidrs": "10.0.0.0/8,2001:db8::/32"},
			Input{Request: Request{RemoteIP: "10.1.2.3"}}, Input{Request: Request{RemoteIP: "192.168.1.1"}}},
		{"ip-ranges", map[string]string{"cidrs": "2001:db8::/32"},
			Input{Request: Request{RemoteIP: "2001:db8::1"}}, Input{Request: Request{RemoteIP: "not an ip"}}},
		{"service-users-only", nil,
			Input{User: User{ServiceUser: true}}, Input{User: User{}}},
		{"time-window", map[string]string{"hours": "9-17", "weekdays": "mon,tue,wed,thu,fri"},
			Input{Request: Request{Time: noon}}, Input{Request: Request{Time: sunday}}},
		{"time-window", map[string]string{"hours": "9-12"},
			Input{Request: Request{Time: noon.Add(-time.Hour)}}, Input{Request: Request{Time: noon}}},
	}
	for _, tc := range cases {
		t.Run(tc.template, func(t *testing.T) {
			r, err := Render(tc.template, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			if last := r[len(r)-1]; last.Condition != "true" || last.Outcome != storage.PolicyAllow {
				t.Errorf("last rule = %+v, want a final allow", last)
			}
			p := mustCompile(t, r)
			if d := p.Evaluate(context.Background(), tc.allow); !d.Allow {
				t.Errorf("allow case denied: %+v", d)
			}
			if d := p.Evaluate(context.Background(), tc.deny); d.Allow || d.Message == "" || d.Message == DefaultDenyMessage || d.Err != nil {
				t.Errorf("deny case: %+v", d)
			}
		})
	}
}

func TestRenderRefusesBadParams(t *testing.T) {
	cases := []struct {
		template string
		params   map[string]string
	}{
		{"nope", nil},
		{"profiles", nil},
		{"profiles", map[string]string{"profiles": `a"]) || true || (["`}},
		{"email-domain", map[string]string{"domain": "exa mple.com"}},
		{"ip-ranges", map[string]string{"cidrs": "10.0.0.0/33"}},
		{"time-window", map[string]string{"hours": "17-9"}},
		{"time-window", map[string]string{"hours": "9-17", "weekdays": "funday"}},
		{"service-users-only", map[string]string{"x": "y"}},
	}
	for _, tc := range cases {
		if _, err := Render(tc.template, tc.params); err == nil {
			t.Errorf("%s %v: no error", tc.template, tc.params)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"true", `user.email.endsWith("@x")`, `ip_in(request.remote_ip, ["10.0.0.0/8"])`, "((((", `"a" + 1`, `[1,2].all(x, x > 0)`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cond string) {
		p, err := Compile([]storage.PolicyRule{{Condition: cond, Outcome: "deny"}})
		if err != nil {
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, not *CompileError", err)
			}
			return
		}
		p.Evaluate(context.Background(), Input{})
	})
}

func TestClaims(t *testing.T) {
	p := mustCompile(t, []storage.PolicyRule{{Condition: `"tenant" in request.claims && request.claims.tenant == "acme"`, Outcome: "allow"}})
	var in Input
	in.Request.SetClaims(map[string]any{"tenant": "acme", "n": 1.0})
	if d := p.Evaluate(context.Background(), in); !d.Allow {
		t.Errorf("acme: %+v", d)
	}
	in.Request.SetClaims(map[string]any{"tenant": "other"})
	if d := p.Evaluate(context.Background(), in); d.Allow {
		t.Errorf("other: %+v", d)
	}
}

func TestEvaluateDeadline(t *testing.T) {
	// Z4: evaluation runs under a deadline (EvalTimeout, or the request's
	// own if sooner); a comprehension checks it and aborts: deny. The rule
	// has a proven cost bound, but a context already done takes the
	// tracked path (costbound.go), so the abort holds for it too.
	p := mustCompile(t, []storage.PolicyRule{
		{Condition: "[0,1,2,3,4,5,6,7,8,9].all(x, [0,1,2,3,4,5,6,7,8,9].all(y, [0,1,2,3,4,5,6,7,8,9].all(z, true)))", Outcome: "deny"},
		{Condition: "true", Outcome: "allow"},
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d := p.Evaluate(ctx, Input{})
	if d.Allow || d.Err == nil {
		t.Fatalf("decision = %+v, want deny with an error", d)
	}
	if d := p.Evaluate(context.Background(), Input{}); d.Allow || d.Err != nil || d.Rule != 0 {
		t.Fatalf("without a deadline: %+v", d)
	}
}
