//go:build !linux

package cli

import "log/slog"

// releaseStartupPages is Linux-only (smaps and madvise); elsewhere the
// executable's pages stay mapped as the system left them.
func releaseStartupPages(*slog.Logger) {}
