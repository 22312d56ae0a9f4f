package service

import (
	"runtime"
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

// TestDerivationMemoryCollected: a collection runs after a derivation
// has returned (so the next heap is sized without its 19 MiB), and the
// goroutine that ran it is gone once nothing more was asked.
func TestDerivationMemoryCollected(t *testing.T) {
	_ = HashPassword("correct horse")
	returned := time.Now()
	deadline := returned.Add(5 * time.Second)
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if time.Unix(0, int64(ms.LastGC)).After(returned) && !hashCollectRunning.Load() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no collection after the derivation returned (last %s, collector running %v)",
				time.Unix(0, int64(ms.LastGC)).Sub(returned), hashCollectRunning.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
