package service

import (
	"regexp"
	"testing"
)

// TestNewClientIDAlphabet draws many IDs: a base64url ID starts with '-' once
// in 64, and the CLI then read it as a flag (a CI failure of
// TestClientSecretByCodeCLI). Generated IDs use letters and digits only.
func TestNewClientIDAlphabet(t *testing.T) {
	pattern := regexp.MustCompile(`^[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 5000 {
		id := newClientID()
		if !pattern.MatchString(id) {
			t.Fatalf("generated client_id %q is not 26 lowercase base32 characters", id)
		}
		if seen[id] {
			t.Fatalf("generated client_id %q twice", id)
		}
		seen[id] = true
	}
}
