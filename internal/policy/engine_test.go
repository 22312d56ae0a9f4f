package policy

import (
	"context"
	"errors"
	"testing"

	"github.com/latchkey/latchkey/internal/storage"
)

type fakeSource struct {
	p     storage.Policy
	err   error
	reads int
}

func (f *fakeSource) GetPolicy(_ context.Context, ws, id string) (storage.Policy, error) {
	f.reads++
	if f.err != nil {
		return storage.Policy{}, f.err
	}
	if ws != f.p.WorkspaceID || id != f.p.ID {
		return storage.Policy{}, storage.ErrNotFound
	}
	return f.p, nil
}

func TestEngine(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{p: storage.Policy{WorkspaceID: "ws", ID: "p", Version: 1,
		Rules: []storage.PolicyRule{{Condition: "true", Outcome: "deny", Message: "v1"}}}}
	e := &Engine{Source: src}
	d, err := e.Check(ctx, "ws", "p", Input{})
	if err != nil || d.Allow || d.Message != "v1" {
		t.Fatalf("v1: %+v %v", d, err)
	}
	first := e.progs[progKey{"ws", "p"}].prg
	if d, _ := e.Check(ctx, "ws", "p", Input{}); d.Message != "v1" || e.progs[progKey{"ws", "p"}].prg != first {
		t.Fatalf("the program of version 1 was not reused: %+v", d)
	}
	// A new version is compiled once and replaces the old program.
	src.p.Version, src.p.Rules = 2, []storage.PolicyRule{{Condition: "true", Outcome: "allow"}}
	if d, _ := e.Check(ctx, "ws", "p", Input{}); !d.Allow {
		t.Fatalf("v2: %+v", d)
	}
	if len(e.progs) != 1 || e.progs[progKey{"ws", "p"}].version != 2 {
		t.Fatalf("program cache: %+v", e.progs)
	}
	// A policy that no longer exists denies (fail closed).
	if d, err := e.Check(ctx, "other", "p", Input{}); err != nil || d.Allow || d.Err == nil {
		t.Fatalf("missing policy: %+v %v", d, err)
	}
	// A stored policy that does not compile denies.
	src.p.Version, src.p.Rules = 3, []storage.PolicyRule{{Condition: "nope", Outcome: "allow"}}
	if d, err := e.Check(ctx, "ws", "p", Input{}); err != nil || d.Allow || d.Err == nil {
		t.Fatalf("broken policy: %+v %v", d, err)
	}
	// A storage failure is an error, neither allow nor deny.
	src.err = errors.New("db down")
	if _, err := e.Check(ctx, "ws", "p", Input{}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("storage failure: %v", err)
	}
}
