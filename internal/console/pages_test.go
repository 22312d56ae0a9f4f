package console

import "testing"

// Pages are parsed on first render (render.go); this keeps the check that
// every page template parses, which parsing them all at start used to do,
// and that names outside the page set are refused.
func TestEveryPageParses(t *testing.T) {
	p := &pages{}
	names := pageNames()
	if len(names) < 10 {
		t.Fatalf("only %d console pages found: %v", len(names), names)
	}
	for _, n := range names {
		if _, err := p.get(n); err != nil {
			t.Errorf("page %s: %v", n, err)
		}
	}
	for _, bad := range []string{"layout", "_nav", "../console", "nope", ""} {
		if _, err := p.get(bad); err == nil {
			t.Errorf("page %q accepted", bad)
		}
	}
}
