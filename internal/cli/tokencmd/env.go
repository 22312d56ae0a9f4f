package tokencmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
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

// Env is the outside world of the commands: where output goes, how
// environment variables, prompts, the clock and the browser are reached.
// NewCommandWith lets an embedding program (or an end-to-end test) supply
// its own; nil fields keep the defaults of NewCommand.
type Env struct {
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
	Prompt         func(label string) ([]byte, error)
	Now            func() time.Time
	// Browser opens the authorization URL of the code flow (nil: the
	// system browser; --no-browser prints the URL to Stderr instead).
	Browser func(ctx context.Context, url string) error
}

// NewCommandWith returns "latchkey token" bound to o.
func NewCommandWith(o Env) *cobra.Command {
	e := defaultEnv()
	if o.Stdout != nil {
		e.stdout = o.Stdout
	}
	if o.Stderr != nil {
		e.stderr = o.Stderr
	}
	if o.LookupEnv != nil {
		e.lookupEnv = o.LookupEnv
	}
	if o.Prompt != nil {
		e.prompt = o.Prompt
	}
	if o.Now != nil {
		e.now = o.Now
	}
	e.browser = o.Browser
	return newCommand(e)
}
