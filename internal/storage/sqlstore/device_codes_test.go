package sqlstore

import (
	"testing"

	"github.com/latchkey/latchkey/internal/storage/conformance"
)

func TestSQLiteDeviceCodes(t *testing.T) {
	conformance.RunDeviceCodeTests(t, newSQLite)
}

func TestPostgresDeviceCodes(t *testing.T) {
	t.Parallel()
	conformance.RunDeviceCodeTests(t, newPostgres)
}
