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

// Evaluate runs the rules in order: the first whose condition is true
// decides; none matching denies. Any evaluation error denies (Z8).
func (p *Program) Evaluate(ctx context.Context, in Input) Decision {
	ctx, cancel := context.WithTimeout(ctx, EvalTimeout)
	defer cancel()
	in = in.normalized()
	vars := map[string]any{
		"user":      &in.User,
		"client":    &in.Client,
		"request":   &in.Request,
		"workspace": &in.Workspace,
	}
	for i, r := range p.rules {
		out, _, err := r.prg.ContextEval(ctx, vars)
		if err != nil {
			return Decision{Rule: -1, Message: DefaultDenyMessage, Err: fmt.Errorf("rule %d: %w", i, err)}
		}
		b, ok := out.(types.Bool)
		if !ok {
			return Decision{Rule: -1, Message: DefaultDenyMessage, Err: fmt.Errorf("rule %d: result is %s, not bool", i, out.Type())}
		}
		if !b {
			continue
		}
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
