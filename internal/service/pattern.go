package service

import (
	"regexp"
	"sync"
)

// lazyPattern is a regular expression compiled on its first use. The
// syntax checks of IDs and names repeat a character class up to 255
// times, which compiles into programs of about 100 kB each; compiled at
// package initialisation they held 1.2 MB of every process, the CLI's
// and an idle server's included (docs/benchmarks.md "Memory, round
// three"). TestPatternsCompile compiles each one.
type lazyPattern struct{ compiled func() *regexp.Regexp }

func lazyRegexp(expr string) lazyPattern {
	return lazyPattern{sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
}

// MatchString reports whether s matches the pattern.
func (p lazyPattern) MatchString(s string) bool { return p.compiled().MatchString(s) }
