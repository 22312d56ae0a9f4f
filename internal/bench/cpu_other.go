//go:build !unix

package bench

import "time"

// ownCPU is unknown without getrusage(2): the load generator's CPU column
// shows "-" (micros prints nothing at or below zero).
func ownCPU() time.Duration { return 0 }
