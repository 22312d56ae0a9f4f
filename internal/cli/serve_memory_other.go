//go:build !unix

package cli

import "context"

// notifyProfileSignal reports that there is no SIGUSR1 to listen for.
func notifyProfileSignal(context.Context, func()) bool { return false }
