package policy

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/common/types"
	"google.golang.org/protobuf/types/known/structpb"
)

// TestWithinEstimateCoversEveryField: every string, list and map the
// variables hold is checked against estimatedInputSize, at its edge, so
// that the untracked programs run only on inputs the cost estimate
// assumed (docs/security.md Z2). A new field of a kind the check does not
// know fails here.
func TestWithinEstimateCoversEveryField(t *testing.T) {
	var in Input
	if !in.withinEstimate() {
		t.Fatal("the zero input is not within the estimate")
	}
	walkFields(t, reflect.TypeOf(in), nil, func(name string, index []int, typ reflect.Type) {
		for _, c := range sizedCases(t, name, typ) {
			var in Input
			reflect.ValueOf(&in).Elem().FieldByIndex(index).Set(c.value)
			if got := in.withinEstimate(); got != c.within {
				t.Errorf("%s %s: withinEstimate = %v, want %v", name, c.name, got, c.within)
			}
		}
	})
}

// walkFields calls leaf for every field of t that is not a nested
// variable struct (time.Time is a leaf).
func walkFields(t *testing.T, typ reflect.Type, index []int, leaf func(string, []int, reflect.Type)) {
	for i := range typ.NumField() {
		f := typ.Field(i)
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Time{}) {
			walkFields(t, f.Type, idx, leaf)
			continue
		}
		leaf(typ.Name()+"."+f.Name, idx, f.Type)
	}
}

type sizedCase struct {
	name   string
	value  reflect.Value
	within bool
}

func sizedCases(t *testing.T, field string, typ reflect.Type) []sizedCase {
	const n = estimatedInputSize
	long := strings.Repeat("x", n+1)
	edge := strings.Repeat("x", n)
	v := reflect.ValueOf
	switch {
	case typ.Kind() == reflect.String:
		return []sizedCase{{"at the size", v(edge).Convert(typ), true}, {"over the size", v(long).Convert(typ), false}}
	case typ == reflect.TypeOf([]string{}):
		return []sizedCase{
			{"at the size", v(repeatString(edge, n)), true},
			{"too many items", v(repeatString("x", n+1)), false},
			{"a long item", v([]string{long}), false},
		}
	case typ == reflect.TypeOf(map[string]string{}):
		return []sizedCase{
			{"at the size", v(mapOf(n, edge)), true},
			{"too many entries", v(mapOf(n+1, "x")), false},
			{"a long key", v(map[string]string{long: "x"}), false},
			{"a long value", v(map[string]string{"k": long}), false},
		}
	case typ == reflect.TypeOf(&structpb.Struct{}):
		return []sizedCase{
			{"at the size", v(mustStruct(t, map[string]any{"l": anyList(n, edge), "m": map[string]any{edge: edge}})), true},
			{"too many fields", v(mustStruct(t, anyMap(n+1))), false},
			{"a long key", v(mustStruct(t, map[string]any{long: 1})), false},
			{"a long string", v(mustStruct(t, map[string]any{"s": long})), false},
			{"a long list", v(mustStruct(t, map[string]any{"l": anyList(n+1, "x")})), false},
			{"a deep long string", v(mustStruct(t, map[string]any{"m": map[string]any{"l": []any{long}}})), false},
			{"a deep large map", v(mustStruct(t, map[string]any{"l": []any{anyMap(n + 1)}})), false},
		}
	case typ.Kind() == reflect.Bool || typ == reflect.TypeOf(time.Time{}):
		return nil // no size
	}
	t.Fatalf("field %s of type %s: withinEstimate does not know how to bound it", field, typ)
	return nil
}

func repeatString(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func mapOf(n int, value string) map[string]string {
	out := make(map[string]string, n)
	for i := range n {
		out[strconv.Itoa(i)] = value
	}
	return out
}

func anyList(n int, s string) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func anyMap(n int) map[string]any {
	out := make(map[string]any, n)
	for i := range n {
		out[strconv.Itoa(i)] = true
	}
	return out
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBoundedProgramOnlyWhenProven: an expression gets the untracked
// program only when its estimate, with sizes vouched for by
// withinEstimate alone and ip_in costed by its list, is within CostLimit.
func TestBoundedProgramOnlyWhenProven(t *testing.T) {
	cases := map[string]bool{
		`workspace.id + "||" + client.id`:       true,
		`client.metadata["tenant"]`:             true,
		`request.scopes.map(s, s.upperAscii())`: true,
		`!("orders:write" in request.scopes) && ip_in(request.remote_ip, ["192.0.2.0/24", "0.0.0.0/0"])`: true,
		`request.claims.groups.all(a, request.claims.groups.all(b, a != "" || b != ""))`:                 true,
		// Results whose size cel-go does not compute (a conversion, an
		// item of a split) are vouched for by the save-time estimator
		// (100) but not by inputSizeEstimator: they stay tracked.
		`string(request.time).contains("x")`:     false,
		`user.email.split("@")[0].contains("x")`: false,
		// 10^4 ip_in calls over lists of 100 ranges: within the save-time
		// estimate, not within the bound once ip_in costs its list.
		`request.scopes.all(a, request.scopes.all(b, ip_in(a, user.profiles)))`: false,
	}
	for expr, want := range cases {
		_, prg, pe := compileExpr(expr, "expression", nil)
		if pe != nil {
			t.Fatalf("%s: %s", expr, pe.message)
		}
		if got := prg.bounded != nil; got != want {
			t.Errorf("%s: bounded program = %v, want %v", expr, got, want)
		}
	}
}

// TestCostBoundBothSides: at the assumed input size the proven program
// runs untracked, and the tracked one would have cost no more than the
// estimate (the soundness the bound rests on); past it the tracked
// program runs and its run-time cost limit denies (Z2).
func TestCostBoundBothSides(t *testing.T) {
	const cond = `request.claims.groups.all(a, request.claims.groups.all(b, a != "" || b != ""))`
	ast, prg, pe := compileExpr(cond, "condition", nil)
	if pe != nil || prg.bounded == nil {
		t.Fatalf("compile: %v, bounded %v", pe, prg.bounded != nil)
	}
	est, err := env.EstimateCost(ast, inputSizeEstimator{})
	if err != nil {
		t.Fatal(err)
	}
	groups := func(n int) Input {
		var in Input
		in.Request.SetClaims(map[string]any{"groups": anyList(n, strings.Repeat("g", estimatedInputSize))})
		return in
	}
	ctx := context.Background()
	at := newEvaluation(ctx, groups(estimatedInputSize))
	defer at.close()
	if !at.bounded {
		t.Fatal("input at the assumed size is not within the estimate")
	}
	_, det, err := prg.tracked.ContextEval(ctx, at.act)
	if err != nil || det.ActualCost() == nil || *det.ActualCost() > est.Max {
		t.Fatalf("tracked at the assumed size: err %v, cost %v, estimate %d", err, det.ActualCost(), est.Max)
	}
	if out, err := at.run(&prg); err != nil || out != types.True {
		t.Fatalf("bounded at the assumed size: %v, %v", out, err)
	}
	if at.cancel != nil {
		t.Error("the bounded evaluation made a deadline timer")
	}

	p := mustCompile(t, rules(cond))
	if d := p.Evaluate(ctx, groups(estimatedInputSize)); !d.Allow || d.Err != nil {
		t.Errorf("at the assumed size: %+v", d)
	}
	over := groups(1000)
	past := newEvaluation(ctx, over)
	past.close()
	if past.bounded {
		t.Fatal("1 000 groups are within the estimate")
	}
	// 10^6 steps: the cost limit stops them, or on a loaded machine the
	// deadline (Z4) first, as in TestEvaluateCostLimit.
	if d := p.Evaluate(ctx, over); d.Allow || d.Err == nil ||
		!(strings.Contains(d.Err.Error(), "cost limit") || strings.Contains(d.Err.Error(), "deadline")) {
		t.Errorf("past the assumed size: %+v, want a cost limit denial", d)
	}
}

// TestInputEstimateCountsDerivedSizes: the save-time estimator gives
// every value of unknown size 100 items, a doubled string included, so it
// can be below the run-time cost; inputSizeEstimator lets cel-go derive
// the 200 and stays an upper bound.
func TestInputEstimateCountsDerivedSizes(t *testing.T) {
	ast, _, pe := compileExpr(`request.scopes.map(s, s + s).all(x, x.contains("y"))`, "expression", nil)
	if pe != nil {
		t.Fatal(pe.message)
	}
	saved, err1 := env.EstimateCost(ast, sizeEstimator{})
	proven, err2 := env.EstimateCost(ast, inputSizeEstimator{})
	if err1 != nil || err2 != nil || proven.Max <= saved.Max {
		t.Fatalf("save-time estimate %d, input estimate %d (%v, %v): want the input estimate higher", saved.Max, proven.Max, err1, err2)
	}
}

// TestBoundedAndTrackedAgree: the untracked program gives what the
// tracked one gives (values and errors), so a what-if trace and the
// endpoints see the same results on either path.
func TestBoundedAndTrackedAgree(t *testing.T) {
	in := Input{
		User:      User{ID: "u1", Username: "ada", Profiles: []string{"p1"}, Attributes: map[string]string{"dept": "ops"}},
		Client:    Client{ID: "app", Type: "confidential", Metadata: map[string]string{"tenant": "acme"}},
		Request:   Request{GrantType: "client_credentials", Scopes: []string{"a:read", "b:write"}, RemoteIP: "192.0.2.7"},
		Workspace: Workspace{ID: "acme"},
	}
	in.Request.SetClaims(map[string]any{"groups": []any{"x", "y"}, "n": 3})
	exprs := []string{
		`workspace.id + "||" + client.id`,
		`request.scopes.map(s, s.upperAscii())`,
		`ip_in(request.remote_ip, ["192.0.2.0/24"])`,
		`user.attributes["missing"]`,
		`client.metadata["tenant"] == "acme" && "p1" in user.profiles`,
		`request.claims.groups.exists(g, g == "y")`,
		`1 / (size(user.profiles) - 1)`,
		`request.claims.nope.x`,
		`{"t": client.metadata["tenant"], "n": request.claims.n}`,
	}
	ctx := context.Background()
	for _, expr := range exprs {
		_, prg, pe := compileExpr(expr, "expression", nil)
		if pe != nil || prg.bounded == nil {
			t.Fatalf("%s: %v, bounded %v", expr, pe, prg.bounded != nil)
		}
		fast := newEvaluation(ctx, in)
		slow := newEvaluation(ctx, in)
		slow.bounded = false
		fo, ferr := fast.run(&prg)
		so, serr := slow.run(&prg)
		fast.close()
		slow.close()
		if !fast.bounded || slow.cancel == nil {
			t.Fatalf("%s: paths not taken as meant", expr)
		}
		if errString(ferr) != errString(serr) {
			t.Errorf("%s: errors differ: %v / %v", expr, ferr, serr)
			continue
		}
		if ferr == nil && fo.Equal(so) != types.True {
			t.Errorf("%s: values differ: %v / %v", expr, fo, so)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
