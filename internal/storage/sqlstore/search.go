package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey/internal/storage"
)

// Search semantics of every list (storage.ListOptions.Query): a row matches
// when one of its search fields starts with the query, ignoring the case of
// the letters A–Z (emails, stored lower-cased, of every letter); a full ID
// is one such prefix, so an exact ID always finds its row. "%", "_" and "\"
// are ordinary characters. A substring match cannot
// use an index (a leading-wildcard LIKE scans every row: 931 ms over
// 1,000,000 users, docs/benchmarks.md "Scale"); a prefix is a range of an
// index in byte order, the same on SQLite (BINARY) and PostgreSQL
// (COLLATE "C", what "COLLATE BINARY" translates to), so both stores
// answer the same rows in the same order.

// searchField is one field a list query matches by prefix.
type searchField struct {
	// expr is the column or expression compared; a large table has an
	// index on (workspace_id, expr, id) for it (migration 0019).
	expr string
	// fold normalises the query as expr normalises the stored value; nil
	// compares the query as typed.
	fold func(string) string
}

var (
	// searchID matches IDs ignoring ASCII case.
	searchID = searchLower("id")
	// searchName matches names ignoring ASCII case. lower() folds only
	// A–Z on SQLite and under PostgreSQL's "C" collation alike.
	searchName = searchLower("name")
)

// searchLower matches col ignoring the case of A–Z.
func searchLower(col string) searchField {
	return searchField{expr: "lower(" + col + " COLLATE BINARY)", fold: asciiLower}
}

// asciiLower folds A–Z only, as SQL lower() does on both stores here.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// prefixRange returns the range [lo, hi) of the strings that start with p
// in byte (= code point) order: hi is p with its last code point
// incremented. ok is false when no such string bounds the range (p is
// empty or only U+10FFFF), and then the range is [lo, ∞).
func prefixRange(p string) (lo, hi string, ok bool) {
	for s := p; s != ""; {
		r, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
		switch {
		case r == utf8.MaxRune:
			continue // carry into the previous code point
		case r == 0xD7FF:
			r = 0xE000 // skip the surrogates, which UTF-8 cannot encode
		default:
			r++
		}
		return p, s + string(r), true
	}
	return p, "", false
}

// condition returns the SQL condition and arguments matching query on f.
func (f searchField) condition(query string) (string, []any) {
	if f.fold != nil {
		query = f.fold(query)
	}
	lo, hi, bounded := prefixRange(query)
	if !bounded {
		return f.expr + " >= ?", []any{lo}
	}
	return "(" + f.expr + " >= ? AND " + f.expr + " < ?)", []any{lo, hi}
}

// anyField is the OR of the fields' conditions.
func anyField(fields []searchField, query string) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("(")
	for i, f := range fields {
		if i > 0 {
			b.WriteString(" OR ")
		}
		cond, a := f.condition(query)
		b.WriteString(cond)
		args = append(args, a...)
	}
	b.WriteString(")")
	return b.String(), args
}

// listTable describes one searchable table for searchPage.
type listTable struct {
	op     string // names the operation in errors
	table  string
	cols   string // the selected columns
	where  string // the rows listed, e.g. "workspace_id = ?" or "1 = 1"
	args   []any  // where's arguments
	fields []searchField
}

// searchWindowPerRow is how many rows, per row of the page, the first
// step of searchPage reads in ID order.
const searchWindowPerRow = 20

// searchPage returns one page of t's rows matching opts.Query, ordered by
// ID, in two bounded steps, since the plan that is fast depends on how
// many rows match:
//
//  1. A query matching many rows fills a page within the first rows in
//     ID order: read the next searchWindowPerRow × (limit+1) rows by the
//     primary key and filter them. A full page there is the answer.
//  2. Otherwise fewer than one row in twenty matches past that window:
//     each field's index yields its matches as a range, and the union,
//     sorted, gives the rest of the page. The window's end is known, so
//     step 2 starts after it and the two steps never overlap.
//
// Either step alone is slow at one end: step 1 reads the whole table when
// nothing matches, step 2 sorts every row when everything does.
func searchPage[T any](ctx context.Context, s *Store, t listTable, opts storage.ListOptions,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) string) (storage.Page[T], error) {
	limit := clampLimit(opts.Limit)
	window := searchWindowPerRow * (limit + 1)
	match, matchArgs := anyField(t.fields, opts.Query)

	// after adds the listed rows' arguments and the page's start to q.
	after := func(q string, args []any) (string, []any) {
		args = append(append([]any{}, t.args...), args...)
		if opts.After != "" {
			q += " AND id > ?"
			args = append(args, opts.After)
		}
		return q, args
	}
	// Where the window ends: the ID of its last row, if the table goes on.
	q, args := after(`SELECT id FROM `+t.table+` WHERE `+t.where, nil)
	q += " ORDER BY id LIMIT 1 OFFSET ?"
	args = append(args, window-1)
	if checkArgs(t.op, args) != nil || checkArgs(t.op, matchArgs) != nil {
		return storage.Page[T]{}, nil // no stored row holds such text (text.go)
	}
	var windowEnd string
	full := true
	switch err := s.reader().queryRow(ctx, q, args...).Scan(&windowEnd); {
	case errors.Is(err, sql.ErrNoRows):
		full = false // the window reaches the end of the table
	case err != nil:
		return storage.Page[T]{}, mapError(t.op, err)
	}

	// Step 1: the window by primary key, filtered. The LIMIT inside keeps
	// both planners from turning it into an index search of step 2.
	inner, args := after(`SELECT `+t.cols+` FROM `+t.table+` WHERE `+t.where, nil)
	if full {
		inner += " AND id <= ?"
		args = append(args, windowEnd)
	}
	inner += " ORDER BY id LIMIT ?"
	args = append(args, window)
	q = `SELECT ` + t.cols + ` FROM (` + inner + `) w WHERE ` + match + ` ORDER BY id LIMIT ?`
	args = append(append(args, matchArgs...), limit+1)
	items, err := queryItems(ctx, s, t.op, q, args, scan)
	if err != nil || !full || len(items) > limit {
		return finishPage(items, limit, id), err
	}

	// Step 2: past the window, through each field's index. Each branch
	// keeps only its first rows by ID (a top-N sort of its matches), so
	// the union never holds more than need rows per field. It sorts by
	// "id || ''", which no index provides: ordered by plain id, both
	// planners prefer walking the primary key in ID order and filtering,
	// expecting to meet need matches early, which reads the whole
	// workspace when few rows match (the case step 2 exists for).
	need := limit + 1 - len(items)
	var branches []string
	args = append([]any{}, t.args...)
	for i, f := range t.fields {
		cond, a := f.condition(opts.Query)
		branches = append(branches, `SELECT id FROM (SELECT id FROM `+t.table+` WHERE `+t.where+` AND id > ? AND `+cond+
			` ORDER BY id || '' LIMIT ?) b`+strconv.Itoa(i))
		args = append(append(append(args, t.args...), windowEnd), a...)
		args = append(args, need)
	}
	q = `SELECT ` + t.cols + ` FROM ` + t.table + ` WHERE ` + t.where + ` AND id IN (SELECT id FROM (` +
		strings.Join(branches, " UNION ") + `) u ORDER BY id LIMIT ?) ORDER BY id`
	args = append(args, need)
	more, err := queryItems(ctx, s, t.op, q, args, scan)
	return finishPage(append(items, more...), limit, id), err
}

// queryItems runs q and scans every row.
func queryItems[T any](ctx context.Context, s *Store, op, q string, args []any,
	scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	items, err := connItems(ctx, s.reader(), q, args, scan)
	return items, mapError(op, err)
}

// connItems runs q on c (the pool or a transaction) and scans every row.
// The rows are closed when it returns, so a transaction may run its next
// statement on the items.
func connItems[T any](ctx context.Context, c conn, q string, args []any,
	scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []T
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, rows.Err()
}
