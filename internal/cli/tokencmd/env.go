package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// env is what the commands take from the outside world; tests replace it.
type env struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	prompt         func(label string) ([]byte, error)
	now            func() time.Time
	// browser opens the authorization URL (nil: the system browser).
	browser func(ctx context.Context, url string) error
}

func defaultEnv() *env {
	return &env{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv, prompt: terminalPrompt, now: time.Now}
}

func (e *env) getenv(k string) string {
	v, _ := e.lookupEnv(k)
	return v
}

// terminalPrompt reads a secret from the terminal without echo.
func terminalPrompt(label string) ([]byte, error) {
	fd := int(os.Stdin.Fd()) // #nosec G115 -- file descriptors fit in int
	if !term.IsTerminal(fd) {
		return nil, errors.New(label + ": prompt needs a terminal; use env:NAME or file:PATH instead")
	}
	fmt.Fprintf(os.Stderr, "%s: ", label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	return b, err
}
