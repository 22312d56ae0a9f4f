package sqlstore

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestSQLiteStatusLists(t *testing.T) {
	conformance.RunStatusListTests(t, newSQLite)
}

func TestPostgresStatusLists(t *testing.T) {
	t.Parallel()
	conformance.RunStatusListTests(t, newPostgres)
}
