package policy

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"github.com/latchkey/latchkey/internal/storage"
)

// Limits of the save path and of evaluation (docs/security.md Z2-Z4).
const (
	// MaxExpressionSize bounds one condition, in bytes, before parsing.
	MaxExpressionSize = 4 << 10
	// MaxRules bounds the rules of one policy.
	MaxRules = 64
	// MaxMessageSize bounds a rule's deny message.
	MaxMessageSize = 512
	// CostLimit is the run-time cost budget of one rule (Kubernetes uses
	// 1 000 000 per call as its reference; policies are far simpler).
	CostLimit = 100_000
	// parserRecursionLimit bounds nesting depth (Z3).
	parserRecursionLimit = 32
)

// env is the one CEL environment of saved expressions; it is immutable
// and safe to share. generatedEnv declares the same variables and
// helpers without the size bound, for rules Latchkey renders itself from
// validated settings (the JWT bearer pre-authorization, preauth.go),
// whose lists may be longer than an expression a person writes.
var (
	env          = mustEnv(MaxExpressionSize)
	generatedEnv = mustEnv(-1)
)

func mustEnv(sizeLimit int) *cel.Env {
	e, err := cel.NewEnv(
		ext.NativeTypes(reflect.TypeOf(User{}), reflect.TypeOf(Client{}), reflect.TypeOf(Request{}),
			reflect.TypeOf(Workspace{}), reflect.TypeOf(Authentication{}), ext.ParseStructTags(true)),
		ext.Strings(),
		cel.Variable("user", cel.ObjectType("policy.User")),
		cel.Variable("client", cel.ObjectType("policy.Client")),
		cel.Variable("request", cel.ObjectType("policy.Request")),
		cel.Variable("workspace", cel.ObjectType("policy.Workspace")),
		cel.Function("ip_in",
			cel.Overload("ip_in_string_list", []*cel.Type{cel.StringType, cel.ListType(cel.StringType)}, cel.BoolType,
				cel.BinaryBinding(ipIn))),
		cel.ParserExpressionSizeLimit(sizeLimit),
		cel.ParserRecursionLimit(parserRecursionLimit),
	)
	if err != nil {
		panic(err)
	}
	return e
}

// ipIn is the ip_in helper: an unparsable address or range never matches.
// The list is read element by element, without converting it to a Go
// slice, so a call allocates nothing.
func ipIn(ipv, cidrs ref.Val) ref.Val {
	s, ok := ipv.(types.String)
	if !ok {
		return types.Bool(false)
	}
	ip, err := netip.ParseAddr(string(s))
	if err != nil {
		return types.Bool(false)
	}
	ip = ip.Unmap()
	list, ok := cidrs.(traits.Lister)
	if !ok {
		return types.NewErr("ip_in: the second argument is not a list")
	}
	for it := list.Iterator(); it.HasNext() == types.True; {
		c, ok := it.Next().(types.String)
		if !ok {
			return types.NewErr("ip_in: the list holds a value that is not a string")
		}
		p, err := netip.ParsePrefix(string(c))
		if err == nil && p.Contains(ip) {
			return types.Bool(true)
		}
	}
	return types.Bool(false)
}

// CompileError is a refused policy: which rule and where, written for a
// person. Rule is 0-based; Line and Column are 1-based (0 when the error
// is not about a position).
type CompileError struct {
	Rule    int
	Line    int
	Column  int
	Message string
}

func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("rule %d, line %d, column %d: %s", e.Rule, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("rule %d: %s", e.Rule, e.Message)
}

// Program is a compiled policy, safe for concurrent use.
type Program struct {
	rules []compiledRule
}

type compiledRule struct {
	prg     exprProgram
	allow   bool
	message string
}

// Compile type-checks every rule of a policy and returns its program. The
// first problem found is returned as a *CompileError.
func Compile(rules []storage.PolicyRule) (*Program, error) {
	if len(rules) == 0 {
		return nil, &CompileError{Rule: 0, Message: "a policy needs at least one rule"}
	}
	if len(rules) > MaxRules {
		return nil, &CompileError{Rule: MaxRules, Message: fmt.Sprintf("a policy may have at most %d rules", MaxRules)}
	}
	p := &Program{rules: make([]compiledRule, len(rules))}
	for i, r := range rules {
		cr, err := compileRule(i, r)
		if err != nil {
			return nil, err
		}
		p.rules[i] = cr
	}
	return p, nil
}

func compileRule(i int, r storage.PolicyRule) (compiledRule, error) {
	if r.Outcome != storage.PolicyAllow && r.Outcome != storage.PolicyDeny {
		return compiledRule{}, &CompileError{Rule: i, Message: `outcome must be "allow" or "deny"`}
	}
	if len(r.Message) > MaxMessageSize {
		return compiledRule{}, &CompileError{Rule: i, Message: fmt.Sprintf("message is longer than %d bytes", MaxMessageSize)}
	}
	if !validMessage(r.Message) {
		return compiledRule{}, &CompileError{Rule: i, Message: `message may hold printable ASCII only, without '"' or '\' (RFC 6749 §5.2 error_description)`}
	}
	if strings.TrimSpace(r.Condition) == "" {
		return compiledRule{}, &CompileError{Rule: i, Message: `condition is empty (use "true" to match always)`}
	}
	_, prg, pe := compileExpr(r.Condition, "condition", cel.BoolType)
	if pe != nil {
		return compiledRule{}, &CompileError{Rule: i, Line: pe.line, Column: pe.column, Message: pe.message}
	}
	return compiledRule{prg: prg, allow: r.Outcome == storage.PolicyAllow, message: r.Message}, nil
}

// exprError is a refused expression: where (1-based; 0 when not about a
// position) and why, for CompileError and ClaimError.
type exprError struct {
	line, column int
	message      string
}

// compileExpr is the one compile path of conditions and claim
// expressions: size checked before the parser allocates anything (Z3),
// type check with the first error's position, the result type (want; nil
// accepts any, as claims do: their values are checked as JSON when
// computed), the static cost estimate (Z2) and the program with the
// run-time cost limit, with its untracked twin when the cost bound is
// proven (costbound.go). what names the expression in messages.
func compileExpr(expr, what string, want *cel.Type) (*cel.Ast, exprProgram, *exprError) {
	if len(expr) > MaxExpressionSize {
		return nil, exprProgram{}, &exprError{message: fmt.Sprintf("%s is longer than %d bytes", what, MaxExpressionSize)}
	}
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		if errs := iss.Errors(); len(errs) > 0 {
			e := errs[0]
			return nil, exprProgram{}, &exprError{line: e.Location.Line(), column: e.Location.Column() + 1, message: e.Message}
		}
		return nil, exprProgram{}, &exprError{message: iss.Err().Error()}
	}
	if want != nil && !ast.OutputType().IsExactType(want) {
		return nil, exprProgram{}, &exprError{line: 1, column: 1, message: fmt.Sprintf("%s must be a %s expression, not %s", what, want, ast.OutputType())}
	}
	// Z2: refuse at save what is certainly too expensive, with input
	// lists and strings assumed of estimatedInputSize; the run-time cost
	// limit catches larger inputs.
	if est, err := env.EstimateCost(ast, sizeEstimator{}); err == nil && est.Max > CostLimit {
		return nil, exprProgram{}, &exprError{line: 1, column: 1, message: fmt.Sprintf(
			"%s may cost up to %d steps, more than the limit of %d (nested loops over lists?)", what, est.Max, CostLimit)}
	}
	prg, err := env.Program(ast, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100),
		cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, exprProgram{}, &exprError{message: err.Error()}
	}
	return ast, exprProgram{tracked: prg, bounded: boundedProgram(ast)}, nil
}

// validMessage reports whether m can be an error_description as is
// (RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E).
func validMessage(m string) bool {
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// estimatedInputSize is the size the save-time cost estimate assumes for
// lists, maps and strings of the input.
const estimatedInputSize = 100

// sizeEstimator gives input values estimatedInputSize for the static cost
// estimate and leaves call costs to cel-go's defaults.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: estimatedInputSize}
}

func (sizeEstimator) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
