package service

import (
	"testing"
	"time"
)

// TestArgon2idWaitsForASlot: a key derivation does not start while every
// slot is taken (argonSlots), and starts as soon as one is given back, so
// no more than GOMAXPROCS derivations hold their 19 MiB at once.
func TestArgon2idWaitsForASlot(t *testing.T) {
	hash := HashPassword("correct horse")
	saved := argonSlots
	argonSlots = make(chan struct{}, 1)
	t.Cleanup(func() { argonSlots = saved })

	argonSlots <- struct{}{} // the one slot is busy
	done := make(chan bool, 1)
	go func() { done <- VerifyPassword(hash, "correct horse") }()
	select {
	case <-done:
		t.Fatal("a derivation ran while every slot was taken")
	case <-time.After(200 * time.Millisecond):
	}
	<-argonSlots // give the slot back
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the password did not verify")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the derivation did not start once a slot was free")
	}
}
