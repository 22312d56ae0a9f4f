package sqlstore

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// flavor is one SQL dialect. Queries are written once in the SQLite dialect
// and translated for the others (the Dex storage/sql approach).
type flavor struct {
	name string
	// driver is the database/sql driver name.
	driver string
	// forUpdate is appended to SELECTs that read a row an updater is going
	// to rewrite. SQLite has no row locks: its IMMEDIATE transactions
	// already hold the write lock.
	forUpdate string
	// replacements rewrite type names and clauses, in order.
	replacements []replacement
	// numberedPlaceholders turns "?" into "$1", "$2", ...
	numberedPlaceholders bool
	// translated caches translate's results (nil: nothing to translate).
	translated *translationCache
}

// translationCache remembers translated queries: the regular expressions
// cost more than a cached PostgreSQL statement runs (about an eighth of
// the CPU of a token request on PostgreSQL), and nearly every query is a
// constant. Queries built at run time (IN lists of varying length) vary
// little, but the cache stops growing at maxTranslations all the same.
type translationCache struct {
	m sync.Map // SQLite query → translated query
	n atomic.Int64
}

const maxTranslations = 4096

type replacement struct {
	re   *regexp.Regexp
	with string
}

func word(s string) *regexp.Regexp {
	return regexp.MustCompile(`\b` + s + `\b`)
}

var (
	flavorSQLite = flavor{
		name:   "sqlite",
		driver: "sqlite",
	}
	flavorPostgres = flavor{
		name:      "postgres",
		driver:    "pgx",
		forUpdate: " FOR UPDATE",
		replacements: []replacement{
			{word(`INTEGER PRIMARY KEY AUTOINCREMENT`), "BIGSERIAL PRIMARY KEY"},
			{word(`BLOB`), "BYTEA"},
			// SQLite's default BINARY collation compares bytes; "C" is the
			// PostgreSQL equivalent, so keyset pagination orders IDs the
			// same way on both backends whatever the database locale.
			{word(`COLLATE BINARY`), `COLLATE "C"`},
		},
		numberedPlaceholders: true,
		translated:           &translationCache{},
	}
)

// translate rewrites a query written for SQLite into this flavor. It does
// not parse SQL: the queries of this package contain no "?" inside string
// literals, which TestTranslate pins down for the cases that matter.
func (f flavor) translate(query string) string {
	if f.translated == nil {
		return f.rewrite(query)
	}
	if q, ok := f.translated.m.Load(query); ok {
		return q.(string)
	}
	q := f.rewrite(query)
	if f.translated.n.Add(1) <= maxTranslations {
		f.translated.m.Store(query, q)
	}
	return q
}

// rewrite is translate without the cache.
func (f flavor) rewrite(query string) string {
	for _, r := range f.replacements {
		query = r.re.ReplaceAllString(query, r.with)
	}
	if !f.numberedPlaceholders {
		return query
	}
	return numberPlaceholders(query)
}

// numberPlaceholders replaces each "?" outside single-quoted literals with
// $1, $2, ... in order.
func numberPlaceholders(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
