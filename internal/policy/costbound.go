package policy

import (
	"context"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"
	"google.golang.org/protobuf/types/known/structpb"
)

// The run-time cost tracker and the deadline (docs/security.md Z2, Z4)
// are needed only when an evaluation could exceed CostLimit. cel-go's
// static estimate is an upper bound of the tracker's run-time cost for
// every input whose values have at most the sizes the estimator gave
// (cel-go keeps checker/cost.go and interpreter/runtimecost.go in step
// and tests est.Min <= actual <= est.Max). So an expression whose
// estimate under inputSizeEstimator is within CostLimit gets a second
// program without the tracker, and a request whose every input value is
// within estimatedInputSize (withinEstimate) runs that one: the tracker
// could not have stopped it. Any other request runs the tracked program
// under the deadline, as before.

// exprProgram is one compiled expression: tracked has the run-time cost
// limit and interrupt checks (Z2, Z4); bounded, nil unless the estimate
// proves the bound, has neither.
type exprProgram struct {
	tracked cel.Program
	bounded cel.Program
}

// rootVariables are the variables inputSizeEstimator vouches for.
var rootVariables = map[string]bool{"user": true, "client": true, "request": true, "workspace": true}

// inputSizeEstimator is sizeEstimator restricted to what withinEstimate
// checks at run time: the values reached from the four variables by
// fields, list items, map keys and map values (a node whose path starts
// at a variable). Every other value of a size cel-go does not compute
// itself (a function result without a result size, say) stays unbounded,
// which makes the expression's estimate unbounded: it keeps the tracker.
// ip_in costs 1 plus the size of its list, since it parses every range
// (cel-go would count 1 for a function it does not know); counting more
// than the tracker does keeps the estimate an upper bound.
type inputSizeEstimator struct{}

func (inputSizeEstimator) EstimateSize(n checker.AstNode) *checker.SizeEstimate {
	if p := n.Path(); len(p) > 0 && rootVariables[p[0]] {
		return &checker.SizeEstimate{Min: 0, Max: estimatedInputSize}
	}
	return nil
}

func (inputSizeEstimator) EstimateCallCost(_, overloadID string, _ *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	if overloadID != "ip_in_string_list" || len(args) != 2 {
		return nil
	}
	n := uint64(1<<63 - 1) // a list of unknown size: unbounded
	if sz := args[1].ComputedSize(); sz != nil {
		n = sz.Max
	} else if sz := (inputSizeEstimator{}).EstimateSize(args[1]); sz != nil {
		n = sz.Max
	}
	return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: n + 1}}
}

// boundedProgram is the untracked program of ast when its estimate
// proves that no input within estimatedInputSize makes it cost more
// than CostLimit, else nil.
func boundedProgram(ast *cel.Ast) cel.Program {
	est, err := env.EstimateCost(ast, inputSizeEstimator{})
	if err != nil || est.Max > CostLimit {
		return nil
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil
	}
	return prg
}

// withinEstimate reports whether every string, list and map the
// variables hold, at any depth, has at most estimatedInputSize bytes,
// items or entries (bytes bound CEL's size in code points). It names
// every sized field of the four variables;
// TestWithinEstimateCoversEveryField fails when a new one is missed.
func (in *Input) withinEstimate() bool {
	u, c, r := &in.User, &in.Client, &in.Request
	return stringsWithin(u.ID, u.Username, u.Email, c.ID, c.Type, c.ApplicationType,
		r.GrantType, r.RemoteIP, r.AuthMethod, in.Workspace.ID) &&
		listWithin(u.Profiles) && listWithin(u.Authentication.Methods) && listWithin(c.GrantTypes) &&
		listWithin(r.Scopes) && listWithin(r.Resources) && listWithin(r.Audience) &&
		mapWithin(u.Attributes) && mapWithin(c.Metadata) && structWithin(r.Claims)
}

func stringsWithin(ss ...string) bool {
	for _, s := range ss {
		if len(s) > estimatedInputSize {
			return false
		}
	}
	return true
}

func listWithin(l []string) bool {
	return len(l) <= estimatedInputSize && stringsWithin(l...)
}

func mapWithin(m map[string]string) bool {
	if len(m) > estimatedInputSize {
		return false
	}
	for k, v := range m {
		if len(k) > estimatedInputSize || len(v) > estimatedInputSize {
			return false
		}
	}
	return true
}

func structWithin(s *structpb.Struct) bool {
	if s == nil {
		return true
	}
	if len(s.Fields) > estimatedInputSize {
		return false
	}
	for k, v := range s.Fields {
		if len(k) > estimatedInputSize || !valueWithin(v) {
			return false
		}
	}
	return true
}

func valueWithin(v *structpb.Value) bool {
	switch x := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return len(x.StringValue) <= estimatedInputSize
	case *structpb.Value_ListValue:
		vs := x.ListValue.GetValues()
		if len(vs) > estimatedInputSize {
			return false
		}
		for _, e := range vs {
			if !valueWithin(e) {
				return false
			}
		}
		return true
	case *structpb.Value_StructValue:
		return structWithin(x.StructValue)
	}
	return true
}

// evaluation is the state one request's evaluations share: the
// activation binding the variables once, whether its inputs are within
// the estimate, and the deadline, made only when a tracked program runs
// (so that a request whose programs are all bounded makes no timer).
type evaluation struct {
	ctx     context.Context
	cancel  context.CancelFunc
	act     interpreter.Activation
	bounded bool
}

// newEvaluation binds in (normalized) for the evaluations of one
// request. A context that is already done takes the tracked path, whose
// loops notice it (Z4).
func newEvaluation(ctx context.Context, in Input) evaluation {
	n := in.normalized()
	return evaluation{ctx: ctx, act: activation(n), bounded: ctx.Err() == nil && n.withinEstimate()}
}

// run evaluates one expression: untracked when its bound is proven for
// these inputs, else with the tracker under the deadline.
func (ev *evaluation) run(p *exprProgram) (ref.Val, error) {
	if ev.bounded && p.bounded != nil {
		out, _, err := p.bounded.Eval(ev.act)
		return out, err
	}
	if ev.cancel == nil {
		ev.ctx, ev.cancel = withEvalDeadline(ev.ctx)
	}
	out, _, err := p.tracked.ContextEval(ev.ctx, ev.act)
	return out, err
}

// close stops the deadline, if one was made.
func (ev *evaluation) close() {
	if ev.cancel != nil {
		ev.cancel()
	}
}
