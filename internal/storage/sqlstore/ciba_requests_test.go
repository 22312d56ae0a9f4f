package sqlstore

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestSQLiteCIBARequests(t *testing.T) {
	conformance.RunCIBATests(t, newSQLite)
}

func TestPostgresCIBARequests(t *testing.T) {
	t.Parallel()
	conformance.RunCIBATests(t, newPostgres)
}
