package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/latchkey/latchkey/internal/storage"
)

// Source reads the current version of a policy. The cached store
// implements it, so the hot path reads memory, and its change feed makes a
// new version visible to every process within the poll interval.
type Source interface {
	GetPolicy(ctx context.Context, workspaceID, id string) (storage.Policy, error)
}

// ErrUnavailable wraps a storage failure while reading a policy: the
// caller answers it like any unavailable storage (503), not as a denial.
var ErrUnavailable = errors.New("policy: storage unavailable")

// Checker evaluates an attached policy: what the authorization and token
// endpoints need. *Engine implements it.
type Checker interface {
	Check(ctx context.Context, workspaceID, id string, in Input) (Decision, error)
}

var _ Checker = (*Engine)(nil)

// maxPrograms bounds the compiled-program cache; when full it starts over.
const maxPrograms = 4096

// Engine evaluates attached policies. Compiled programs are cached per
// policy version, so a request compiles nothing once a version was seen.
type Engine struct {
	Source Source
	Logger *slog.Logger

	mu    sync.Mutex
	progs map[progKey]compiled
}

type progKey struct{ workspace, id string }

type compiled struct {
	version int
	prg     *Program
}

// Check evaluates policy id of the workspace on in. A policy that no
// longer exists or cannot be compiled denies (fail closed); every denial
// caused by an error is logged with its cause, which never reaches the
// response.
func (e *Engine) Check(ctx context.Context, workspaceID, id string, in Input) (Decision, error) {
	d, _, err := e.check(ctx, workspaceID, id, in, false)
	return d, err
}

// Explanation is a decision with the policy it came from and each rule's
// result: what the what-if tool shows.
type Explanation struct {
	Policy   storage.Policy // zero but for ID when the policy does not exist
	Decision Decision
	Rules    []RuleResult // nil when the policy could not be evaluated
}

// Explain is Check that also reports the policy and each rule's result.
func (e *Engine) Explain(ctx context.Context, workspaceID, id string, in Input) (Explanation, error) {
	d, x, err := e.check(ctx, workspaceID, id, in, true)
	x.Decision = d
	return x, err
}

func (e *Engine) check(ctx context.Context, workspaceID, id string, in Input, trace bool) (Decision, Explanation, error) {
	x := Explanation{Policy: storage.Policy{WorkspaceID: workspaceID, ID: id}}
	p, err := e.Source.GetPolicy(ctx, workspaceID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		d := Decision{Rule: -1, Message: DefaultDenyMessage, Err: fmt.Errorf("policy %q does not exist", id)}
		e.logDenial(ctx, workspaceID, id, 0, d)
		return d, x, nil
	case err != nil:
		return Decision{}, x, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	x.Policy = p
	prg, err := e.program(p)
	if err != nil {
		d := Decision{Rule: -1, Message: DefaultDenyMessage, Err: err}
		e.logDenial(ctx, workspaceID, id, p.Version, d)
		return d, x, nil
	}
	var d Decision
	if trace {
		d, x.Rules = prg.Trace(ctx, in)
	} else {
		d = prg.Evaluate(ctx, in)
	}
	if d.Err != nil {
		e.logDenial(ctx, workspaceID, id, p.Version, d)
	}
	return d, x, nil
}

func (e *Engine) program(p storage.Policy) (*Program, error) {
	k := progKey{p.WorkspaceID, p.ID}
	e.mu.Lock()
	c, ok := e.progs[k]
	e.mu.Unlock()
	if ok && c.version == p.Version {
		return c.prg, nil
	}
	prg, err := Compile(p.Rules)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.progs == nil || len(e.progs) >= maxPrograms {
		e.progs = map[progKey]compiled{}
	}
	e.progs[k] = compiled{version: p.Version, prg: prg}
	e.mu.Unlock()
	return prg, nil
}

func (e *Engine) logDenial(ctx context.Context, ws, id string, version int, d Decision) {
	if e.Logger == nil {
		return
	}
	e.Logger.WarnContext(ctx, "policy evaluation failed; request denied",
		slog.String("workspace", ws), slog.String("policy", id), slog.Int("version", version),
		slog.Any("error", d.Err))
}
