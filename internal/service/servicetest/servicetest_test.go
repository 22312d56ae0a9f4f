package servicetest

import (
	"testing"

	"github.com/latchkey/latchkey/internal/service"
)

// The cheap fixture hash is one that the production verifier accepts for
// the right password only.
func TestPasswordHashVerifies(t *testing.T) {
	hash := PasswordHash("correct-horse")
	if !service.VerifyPassword(hash, "correct-horse") {
		t.Fatalf("VerifyPassword refused the right password for %s", hash)
	}
	if service.VerifyPassword(hash, "wrong-horse") {
		t.Fatal("VerifyPassword accepted a wrong password")
	}
}
