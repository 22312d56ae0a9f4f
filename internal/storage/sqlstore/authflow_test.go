package sqlstore

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestSQLiteAuthFlow(t *testing.T) {
	conformance.RunAuthFlowTests(t, newSQLite)
	conformance.RunAuthFlowIsolationTests(t, newSQLite)
}

func TestSQLiteMemoryAuthFlow(t *testing.T) {
	conformance.RunAuthFlowTests(t, newSQLiteMemory)
}

func TestPostgresAuthFlow(t *testing.T) {
	t.Parallel()
	conformance.RunAuthFlowTests(t, newPostgres)
	conformance.RunAuthFlowIsolationTests(t, newPostgres)
}
