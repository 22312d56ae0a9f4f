package sqlstore

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey/internal/storage"
)

// listQuery builds the WHERE/ORDER/LIMIT tail of a keyset-paginated list
// ordered by id. base must end in a WHERE clause (e.g. "... WHERE
// workspace_id = ?" or "... WHERE 1 = 1"); args are its arguments. It
// fetches one row more than the page so the caller knows whether a next
// page exists.
func listQuery(base string, args []any, opts storage.ListOptions) (string, []any, int) {
	limit := clampLimit(opts.Limit)
	var b strings.Builder
	b.WriteString(base)
	if opts.After != "" {
		b.WriteString(" AND id > ?")
		args = append(args, opts.After)
	}
	if opts.Query != "" {
		// A prefix of the ID or the name (search.go). The small tables
		// listed here are read in ID order and filtered; clients and
		// users, which grow large, go through searchPage instead.
		cond, condArgs := anyField([]searchField{searchID, searchName}, opts.Query)
		b.WriteString(" AND " + cond)
		args = append(args, condArgs...)
	}
	b.WriteString(" ORDER BY id LIMIT ?")
	args = append(args, limit+1)
	return b.String(), args, limit
}

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return storage.DefaultPageSize
	case n > storage.MaxPageSize:
		return storage.MaxPageSize
	}
	return n
}

// finishPage trims the extra row fetched by listQuery and sets Next.
func finishPage[T any](items []T, limit int, id func(T) string) storage.Page[T] {
	if len(items) <= limit {
		return storage.Page[T]{Items: items}
	}
	items = items[:limit]
	return storage.Page[T]{Items: items, Next: id(items[limit-1])}
}

// listPage runs a page query built by listQuery and scans its rows; op
// names the operation in errors. Every List* of the store goes through it.
func listPage[T any](ctx context.Context, s *Store, op, q string, args []any, limit int,
	scan func(interface{ Scan(...any) error }) (T, error), id func(T) string) (storage.Page[T], error) {
	if checkArgs(op, args) != nil {
		return storage.Page[T]{}, nil // no stored row holds such text (text.go)
	}
	rows, err := s.reader().query(ctx, q, args...)
	if err != nil {
		return storage.Page[T]{}, mapError(op, err)
	}
	defer rows.Close()
	var items []T
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return storage.Page[T]{}, mapError(op, err)
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return storage.Page[T]{}, mapError(op, err)
	}
	return finishPage(items, limit, id), nil
}
