//go:build unix

package bench

import (
	"syscall"
	"time"
)

// ownCPU is the user plus system CPU time of this process.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
