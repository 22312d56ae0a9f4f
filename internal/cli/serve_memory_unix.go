//go:build unix

package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// notifyProfileSignal calls take on every SIGUSR1 until ctx ends.
func notifyProfileSignal(ctx context.Context, take func()) bool {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				take()
			}
		}
	}()
	return true
}
