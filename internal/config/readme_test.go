package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEHasReference keeps the README's configuration reference true:
// it must contain the table Reference generates (regenerate it with
// `latchkey config reference`).
func TestREADMEHasReference(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(Reference()), "\n") {
		if !strings.Contains(string(readme), line) {
			t.Errorf("README.md lacks this line of `latchkey config reference`:\n%s", line)
		}
	}
}
