package clientauth

import (
	"fmt"
	"testing"
)

// A pair remembers its last recentWrongSecrets wrong secrets, and the
// memory holds at most maxGuessPairs pairs.
func TestGuessMemory(t *testing.T) {
	var g guessMemory
	if g.repeated("p", []string{"a"}) || !g.repeated("p", []string{"a"}) {
		t.Fatal("a secret presented twice is a repeat, once is not")
	}
	if g.repeated("other", []string{"a"}) {
		t.Fatal("pairs share their memory")
	}
	if g.repeated("p", []string{"a", "b"}) {
		t.Fatal("the Basic readings of another secret are a repeat")
	}
	for i := range recentWrongSecrets {
		g.repeated("p", []string{fmt.Sprint(i)})
	}
	if g.repeated("p", []string{"a"}) {
		t.Fatal("a secret older than the last few is still remembered")
	}
	for i := range maxGuessPairs + 10 {
		g.repeated(fmt.Sprint("pair-", i), []string{"x"})
	}
	if n := len(g.m); n > maxGuessPairs {
		t.Fatalf("%d pairs remembered, bound %d", n, maxGuessPairs)
	}
}
