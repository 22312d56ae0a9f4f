package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/google/cel-go/common/types"
)

// EvalTimeout bounds the wall-clock time of one policy evaluation (Z4).
const EvalTimeout = 50 * time.Millisecond

// DefaultDenyMessage is shown when no rule matched, or a matching deny rule
// has no message.
const DefaultDenyMessage = "access denied by policy"

// Decision is the result of a policy.
type Decision struct {
	Allow bool
	// Rule is the index of the deciding rule, -1 when none matched or
	// evaluation failed.
	Rule int
	// Message is the deny message for the person; empty on allow.
	Message string
	// Err is why evaluation failed (the decision is then a deny); it is
	// for logs only, never for the response.
	Err error
}

// Rule results of a trace.
const (
	RuleMatched    = "matched"
	RuleNotMatched = "not_matched"
	RuleError      = "error"
	RuleNotReached = "not_reached"
)

// RuleResult is what one rule did during an evaluation: the what-if tool
// shows it. Error is the evaluation failure of an errored rule.
type RuleResult struct {
	Result string
	Error  string
}

// Evaluate runs the rules in order: the first whose condition is true
// decides; none matching denies. Any evaluation error denies (Z8).
func (p *Program) Evaluate(ctx context.Context, in Input) Decision {
	return p.evaluate(ctx, in, nil)
}

// Trace is Evaluate that also reports each rule's result, for the what-if
// tool: the same loop decides, so the trace is what the endpoints do.
func (p *Program) Trace(ctx context.Context, in Input) (Decision, []RuleResult) {
	trace := make([]RuleResult, len(p.rules))
	for i := range trace {
		trace[i].Result = RuleNotReached
	}
	return p.evaluate(ctx, in, trace), trace
}

// evaluate is Evaluate, recording each rule's result into trace when it is
// not nil.
func (p *Program) evaluate(ctx context.Context, in Input, trace []RuleResult) Decision {
	// One activation binds the four variables for every rule; a deadline
	// is made only if a rule needs the tracked program (costbound.go), and
	// then it is the caller's when that ends sooner (docs/benchmarks.md
	// "Policies and mapped claims").
	ev := newEvaluation(ctx, in)
	defer ev.close()
	record := func(i int, result string, err error) {
		if trace != nil {
			trace[i].Result = result
			if err != nil {
				trace[i].Error = err.Error()
			}
		}
	}
	for i := range p.rules {
		r := &p.rules[i]
		out, err := ev.run(&r.prg)
		if err != nil {
			record(i, RuleError, err)
			return Decision{Rule: -1, Message: DefaultDenyMessage, Err: fmt.Errorf("rule %d: %w", i, err)}
		}
		b, ok := out.(types.Bool)
		if !ok {
			err := fmt.Errorf("result is %s, not bool", out.Type())
			record(i, RuleError, err)
			return Decision{Rule: -1, Message: DefaultDenyMessage, Err: fmt.Errorf("rule %d: %w", i, err)}
		}
		if !b {
			record(i, RuleNotMatched, nil)
			continue
		}
		record(i, RuleMatched, nil)
		if r.allow {
			return Decision{Allow: true, Rule: i}
		}
		msg := r.message
		if msg == "" {
			msg = DefaultDenyMessage
		}
		return Decision{Rule: i, Message: msg}
	}
	return Decision{Rule: -1, Message: DefaultDenyMessage}
}
