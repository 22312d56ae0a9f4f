package e2e

import (
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// TestMain removes the latchkey binary the multi-process tests built.
func TestMain(m *testing.M) { e2etest.Main(m) }
