package oauthclient

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
)

// OpenSystemBrowser opens u with the platform's opener: xdg-open (Linux and
// BSDs), open (macOS) or rundll32's URL handler (Windows). It does not wait
// for the browser. The URL is passed as one argument, never through a shell.
func OpenSystemBrowser(_ context.Context, u string) error {
	name, args := browserCommand(runtime.GOOS, u)
	cmd := exec.Command(name, args...) // #nosec G204 -- fixed program, URL as a single argument
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("oauthclient: starting %s: %w", name, err)
	}
	go func() { _ = cmd.Wait() }() // reap the opener
	return nil
}

func browserCommand(goos, u string) (string, []string) {
	switch goos {
	case "darwin":
		return "open", []string{u}
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", u}
	}
	return "xdg-open", []string{u}
}
