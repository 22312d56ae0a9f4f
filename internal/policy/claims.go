package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"

	"github.com/latchkey/latchkey/internal/storage"
)

// Claim targets: where a mapped claim goes.
const (
	TargetAccessToken   = "access_token"
	TargetIDToken       = "id_token"
	TargetUserInfo      = "userinfo"
	TargetIntrospection = "introspection"
)

// Limits of claim mappings (docs/security.md Z5, Z6).
const (
	// MaxClaimMappings bounds the mappings of one client.
	MaxClaimMappings = 32
	// MaxClaimsSize bounds the JSON of one token's mapped claims, per
	// target: a constant over it is refused at save, a computed value over
	// it fails the request.
	MaxClaimsSize = 4 << 10
)

// reservedClaimNames are set by Latchkey itself and can never be mapped
// (RFC 7519 §4.1, RFC 9068 §2.2, RFC 8693 §4, RFC 7800, OIDC Core §2 and
// §3.3.2.11: acr, amr and c_hash of ID tokens; and "rtf", the
// refresh-token family of code-flow access tokens).
var reservedClaimNames = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"client_id": true, "scope": true, "cnf": true, "act": true, "azp": true, "nonce": true,
	"at_hash": true, "sid": true, "auth_time": true, "rtf": true, "acr": true, "amr": true, "c_hash": true,
}

// ReservedClaim reports whether name is set by Latchkey and may not be mapped.
func ReservedClaim(name string) bool { return reservedClaimNames[name] }

var claimNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$`)

// ClaimError is a refused claim mapping, written for a person. Mapping is
// 0-based; Line and Column are 1-based (0 when not about a position).
type ClaimError struct {
	Mapping int
	Name    string
	Line    int
	Column  int
	Message string
}

func (e *ClaimError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("claim %d (%q), line %d, column %d: %s", e.Mapping, e.Name, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("claim %d (%q): %s", e.Mapping, e.Name, e.Message)
}

// ClaimProgram is a compiled list of claim mappings, safe for concurrent use.
type ClaimProgram struct {
	claims []compiledClaim
}

type compiledClaim struct {
	name    string
	targets []string
	prg     exprProgram
}

// ClaimSet is the mapped claims of one request, per target.
type ClaimSet map[string]map[string]any

// CompileClaims checks a list of claim mappings as the save path does:
// names (not reserved, not repeated), targets, expression type (any JSON
// value: the result type is dyn) with its position, cost, and the size of
// constant values. The first problem is returned as a *ClaimError.
func CompileClaims(mappings []storage.ClaimMapping) (*ClaimProgram, error) {
	if len(mappings) > MaxClaimMappings {
		return nil, &ClaimError{Mapping: MaxClaimMappings, Message: fmt.Sprintf("at most %d claims may be mapped", MaxClaimMappings)}
	}
	p := &ClaimProgram{claims: make([]compiledClaim, len(mappings))}
	seen := map[string]bool{}
	static := ClaimSet{}
	for i, m := range mappings {
		if err := checkClaimHead(i, m, seen); err != nil {
			return nil, err
		}
		cc, constant, isConst, err := compileClaim(i, m)
		if err != nil {
			return nil, err
		}
		p.claims[i] = cc
		if isConst {
			for _, t := range m.Targets {
				if static[t] == nil {
					static[t] = map[string]any{}
				}
				static[t][m.Name] = constant
				if b, _ := json.Marshal(static[t]); len(b) > MaxClaimsSize {
					return nil, &ClaimError{Mapping: i, Name: m.Name, Message: fmt.Sprintf(
						"the constant claims of the %s are %d bytes of JSON, more than the limit of %d", t, len(b), MaxClaimsSize)}
				}
			}
		}
	}
	return p, nil
}

func checkClaimHead(i int, m storage.ClaimMapping, seen map[string]bool) error {
	switch {
	case !claimNameRE.MatchString(m.Name):
		return &ClaimError{Mapping: i, Name: m.Name, Message: "name must be 1 to 64 letters, digits or _ . : - and start with a letter or _"}
	case reservedClaimNames[m.Name]:
		return &ClaimError{Mapping: i, Name: m.Name, Message: "is a reserved claim that Latchkey sets itself"}
	case seen[m.Name]:
		return &ClaimError{Mapping: i, Name: m.Name, Message: "is mapped twice"}
	case len(m.Targets) == 0:
		return &ClaimError{Mapping: i, Name: m.Name, Message: "needs at least one target: access_token, id_token, userinfo or introspection"}
	}
	seen[m.Name] = true
	tseen := map[string]bool{}
	for _, t := range m.Targets {
		switch t {
		case TargetAccessToken, TargetIDToken, TargetUserInfo, TargetIntrospection:
		default:
			return &ClaimError{Mapping: i, Name: m.Name, Message: fmt.Sprintf("unknown target %q (access_token, id_token, userinfo or introspection)", t)}
		}
		if tseen[t] {
			return &ClaimError{Mapping: i, Name: m.Name, Message: fmt.Sprintf("target %q is listed twice", t)}
		}
		tseen[t] = true
	}
	return nil
}

// compileClaim type-checks one expression in the policy environment with
// the same parse and cost limits as conditions (Z2, Z3); its result may be
// any JSON value. A constant expression is evaluated once here so that an
// oversized constant is refused at save (Z6).
func compileClaim(i int, m storage.ClaimMapping) (compiledClaim, any, bool, error) {
	ast, prg, pe := compileExpr(m.Expression, "expression", nil)
	if pe != nil {
		return compiledClaim{}, nil, false, &ClaimError{Mapping: i, Name: m.Name, Line: pe.line, Column: pe.column, Message: pe.message}
	}
	cc := compiledClaim{name: m.Name, targets: m.Targets, prg: prg}
	if !isConstant(ast) {
		return cc, nil, false, nil
	}
	ev := newEvaluation(context.Background(), Input{})
	defer ev.close()
	v, err := evalClaim(&ev, &cc.prg)
	if err != nil {
		return compiledClaim{}, nil, false, &ClaimError{Mapping: i, Name: m.Name, Line: 1, Column: 1, Message: err.Error()}
	}
	return cc, v, true, nil
}

// isConstant reports whether a checked expression names no variable (no
// identifier at all), so that its value is the same on every request.
func isConstant(ast *cel.Ast) bool {
	idents := celast.MatchDescendants(celast.NavigateAST(ast.NativeRep()), celast.KindMatcher(celast.IdentKind))
	return len(idents) == 0
}

// Evaluate computes every mapped claim on in, grouped by target. Any
// evaluation error, a value that is not JSON, or a target's claims over
// MaxClaimsSize fails the whole evaluation (fail closed, Z8, Z6): the
// caller issues no token rather than one without or with truncated claims.
func (p *ClaimProgram) Evaluate(ctx context.Context, in Input) (ClaimSet, error) {
	if p == nil || len(p.claims) == 0 {
		return nil, nil
	}
	ev := newEvaluation(ctx, in)
	defer ev.close()
	out := make(ClaimSet, 1)
	if err := p.evaluate(&ev, out); err != nil {
		return nil, err
	}
	if err := checkSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// evaluate computes the claims into out (a later claim of the same name
// replaces an earlier one), sharing the caller's activation and deadline.
func (p *ClaimProgram) evaluate(ev *evaluation, out ClaimSet) error {
	for i := range p.claims {
		c := &p.claims[i]
		v, err := evalClaim(ev, &c.prg)
		if err != nil {
			return fmt.Errorf("claim %q: %w", c.name, err)
		}
		for _, t := range c.targets {
			m := out[t]
			if m == nil {
				m = make(map[string]any, len(p.claims))
				out[t] = m
			}
			m[c.name] = v
		}
	}
	return nil
}

// checkSize refuses a target whose claims exceed MaxClaimsSize of JSON
// (Z6): the request fails rather than carrying truncated claims.
func checkSize(set ClaimSet) error {
	for t, m := range set {
		// Most claims are far below the cap: an upper bound of their JSON
		// size spares the hot path an encoding.
		if sizeBound(m) <= MaxClaimsSize {
			continue
		}
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("claims of the %s: %w", t, err)
		}
		if len(b) > MaxClaimsSize {
			return fmt.Errorf("claims of the %s are %d bytes of JSON, more than the limit of %d", t, len(b), MaxClaimsSize)
		}
	}
	return nil
}

// activation binds the four variables once for every claim of a list,
// without the map a generic activation would allocate.
func activation(in Input) interpreter.Activation {
	return &inputActivation{in: in}
}

type inputActivation struct{ in Input }

func (a *inputActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "user":
		return &a.in.User, true
	case "client":
		return &a.in.Client, true
	case "request":
		return &a.in.Request, true
	case "workspace":
		return &a.in.Workspace, true
	}
	return nil, false
}

func (a *inputActivation) Parent() interpreter.Activation { return nil }

// withEvalDeadline bounds an evaluation by EvalTimeout (Z4) unless ctx
// ends sooner already, so that the owners of one request share one timer
// (made only for tracked programs: costbound.go).
func withEvalDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= EvalTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, EvalTimeout)
}

func evalClaim(ev *evaluation, p *exprProgram) (any, error) {
	out, err := ev.run(p)
	if err != nil {
		return nil, err
	}
	return jsonValue(out)
}

// jsonValue converts a CEL result to a JSON value: string, int64,
// uint64, float64 (finite), bool, nil, []any, map[string]any. Anything else
// (a timestamp, a duration, bytes, a map with non-string keys, one of the
// context objects) is an error. Integers stay integers, never float64,
// so that large ones keep every digit.
func jsonValue(v ref.Val) (any, error) {
	return jsonValueDepth(v, 0)
}

// maxJSONDepth bounds the nesting of a claim value.
const maxJSONDepth = 32

func jsonValueDepth(v ref.Val, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("result nests deeper than %d levels", maxJSONDepth)
	}
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("result %v is not a JSON number", f)
		}
		return f, nil
	case types.Null:
		return nil, nil
	case traits.Mapper:
		out := make(map[string]any, sizeHint(x))
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("result is a map with a %s key; JSON object keys are strings", k.Type().TypeName())
			}
			e, err := jsonValueDepth(x.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		out := make([]any, 0, sizeHint(x))
		for it := x.Iterator(); it.HasNext() == types.True; {
			e, err := jsonValueDepth(it.Next(), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, fmt.Errorf("result of type %s is not a JSON value", v.Type().TypeName())
}

// sizeHint is the size of a CEL list or map to preallocate for, 0 when
// it does not say.
func sizeHint(v traits.Sizer) int {
	if n, ok := v.Size().(types.Int); ok && n > 0 && n <= maxHint {
		return int(n)
	}
	return 0
}

// maxHint bounds a preallocation: a larger value is over the size cap
// (MaxClaimsSize) anyway, and grows as it is converted.
const maxHint = MaxClaimsSize

// ClaimEngine caches compiled claim programs per owner (a client or a
// service) and version (its UpdatedAt): the cached store's change feed
// hands out a new version after a change, so a request compiles nothing
// once a version was seen and never uses a stale program.
type ClaimEngine struct {
	mu    sync.Mutex
	progs map[claimKey]*ClaimProgram
}

type claimKey struct {
	workspace, kind, id string
	version             time.Time
}

// ClaimOwner is one list of claim mappings and its version: a service's
// (ServiceOwners) or a client's (ClientOwner).
type ClaimOwner struct {
	Kind     string // "client" or "service"
	ID       string
	Version  time.Time
	Mappings []storage.ClaimMapping
}

// Key names the owner in errors: "client:" or "service:" and the ID.
func (o ClaimOwner) Key() string { return o.Kind + ":" + o.ID }

// ClientOwner is the claim mappings of a client.
func ClientOwner(c storage.Client) ClaimOwner {
	return ClaimOwner{Kind: "client", ID: c.ID, Version: c.UpdatedAt, Mappings: c.ClaimMappings}
}

// ServiceOwners are the claim mappings of the services defining one of
// scopes, once per service, in scope order.
func ServiceOwners(refs []storage.ScopeRef, scopes []string) []ClaimOwner {
	var out []ClaimOwner
	for _, s := range scopes {
		for _, r := range refs {
			if r.Name != s || len(r.ServiceClaimMappings) == 0 {
				continue
			}
			if !slices.ContainsFunc(out, func(o ClaimOwner) bool { return o.ID == r.ServiceID }) {
				out = append(out, ClaimOwner{Kind: "service", ID: r.ServiceID, Version: r.ServiceUpdatedAt, Mappings: r.ServiceClaimMappings})
			}
		}
	}
	return out
}

// Program returns the compiled mappings of one owner at one version.
// Mappings were checked at save; one that no longer compiles (the
// environment changed) is an error, which fails the request closed.
func (e *ClaimEngine) Program(workspaceID string, o ClaimOwner) (*ClaimProgram, error) {
	if len(o.Mappings) == 0 {
		return nil, nil
	}
	k := claimKey{workspaceID, o.Kind, o.ID, o.Version}
	e.mu.Lock()
	p, ok := e.progs[k]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := CompileClaims(o.Mappings)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.progs == nil || len(e.progs) >= maxPrograms {
		e.progs = map[claimKey]*ClaimProgram{}
	}
	e.progs[k] = p
	e.mu.Unlock()
	return p, nil
}

// Claims is the one place mapped claims are computed: the grants (access
// and ID tokens), UserInfo and the what-if tool all call it with the
// request's Input and the owners whose mappings apply (ServiceOwners of
// the granted scopes, then ClientOwner: a later owner's claim of the same
// name wins). The merged claims of each target are capped at
// MaxClaimsSize. A nil engine compiles every time. Every owner's
// programs share one activation and at most one deadline.
func (e *ClaimEngine) Claims(ctx context.Context, workspaceID string, owners []ClaimOwner, in Input) (ClaimSet, error) {
	if e == nil {
		e = &ClaimEngine{}
	}
	var out ClaimSet
	var ev evaluation // bound on the first owner with mappings
	defer ev.close()
	for _, o := range owners {
		p, err := e.Program(workspaceID, o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
		if p == nil || len(p.claims) == 0 {
			continue
		}
		if out == nil {
			ev = newEvaluation(ctx, in)
			out = make(ClaimSet, 1)
		}
		if err := p.evaluate(&ev, out); err != nil {
			return nil, fmt.Errorf("%s: %w", o.Key(), err)
		}
	}
	if err := checkSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ClientClaims is Claims with the client's own mappings only.
func (e *ClaimEngine) ClientClaims(ctx context.Context, c storage.Client, in Input) (ClaimSet, error) {
	if len(c.ClaimMappings) == 0 {
		return nil, nil
	}
	return e.Claims(ctx, c.WorkspaceID, []ClaimOwner{ClientOwner(c)}, in)
}

// sizeBound is an upper bound of the JSON size of a JSON value (a string
// byte may take six bytes escaped; a number at most 24 as encoding/json
// writes it). It is only a bound: checkSize encodes when it is over.
func sizeBound(v any) int {
	switch x := v.(type) {
	case string:
		return stringBound(x)
	case map[string]any:
		n := 2
		for k, e := range x {
			n += stringBound(k) + 2 + sizeBound(e)
		}
		return n
	case []any:
		n := 2
		for _, e := range x {
			n += sizeBound(e) + 1
		}
		return n
	case nil, bool:
		return 5
	case float64, int64, uint64:
		return 24
	default:
		return MaxClaimsSize + 1 // unknown: encode to know
	}
}

// stringBound is sizeBound of a string, without boxing a map key into an
// interface (an allocation per key).
func stringBound(s string) int { return 6*len(s) + 2 }
