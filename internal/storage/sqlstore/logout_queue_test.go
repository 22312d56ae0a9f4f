package sqlstore

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestSQLiteLogoutQueue(t *testing.T) {
	conformance.RunLogoutQueueTests(t, newSQLite)
}

func TestPostgresLogoutQueue(t *testing.T) {
	t.Parallel()
	conformance.RunLogoutQueueTests(t, newPostgres)
}
