package keyscmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/latchkey/latchkey/internal/keystore"
)

// env is what the commands take from outside; tests replace it.
type env struct {
	stdout    io.Writer
	lookupEnv func(string) (string, bool)
	prompt    func(label string) ([]byte, error)
	now       func() time.Time
}

// NewCommand returns "latchkey keys".
func NewCommand() *cobra.Command {
	return newCommand(&env{stdout: os.Stdout, lookupEnv: os.LookupEnv, prompt: terminalPrompt, now: time.Now})
}

func newCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Make and inspect signing keys and certificates (PEM, DER, PKCS#12, JKS)"}
	cmd.AddCommand(e.newKeyCommand(), e.inspectCommand())
	return cmd
}

type newOptions struct {
	typ, subject, outDir, name, alias, storepass, keypass, curve string
	bits, days                                                   int
	force                                                        bool
}

func (e *env) newKeyCommand() *cobra.Command {
	var o newOptions
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Make a key pair and a self-signed certificate, written as .key .pem .crt .p12 and .jks",
		Args:  cobra.NoArgs,
		RunE:  func(_ *cobra.Command, _ []string) error { return e.newKey(o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.typ, "type", "rsa", "key type: rsa or ec")
	fs.IntVar(&o.bits, "bits", 2048, "RSA key size (2048 or more)")
	fs.StringVar(&o.curve, "curve", "P-256", "EC curve: P-256 or P-384")
	fs.StringVar(&o.subject, "subject", "", `certificate subject, e.g. "CN=my-integration,O=Example,C=US" (required)`)
	fs.IntVar(&o.days, "days", 365, "certificate validity in days")
	fs.StringVar(&o.outDir, "out-dir", ".", "directory to write the files to")
	fs.StringVar(&o.name, "name", "", "base file name (default: the alias)")
	fs.StringVar(&o.alias, "alias", "latchkey", "JKS alias (keytool -alias)")
	fs.StringVar(&o.storepass, "storepass", "prompt", "PKCS#12 and JKS store password: env:NAME, file:PATH or prompt")
	fs.StringVar(&o.keypass, "keypass", "", "JKS key entry password (default: the store password)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing files")
	return cmd
}

func (e *env) newKey(o newOptions) error {
	subject, err := keystore.ParseSubject(o.subject)
	if err != nil {
		return err
	}
	storePass, err := e.secret(o.storepass, "store password")
	if err != nil {
		return err
	}
	keyPass, err := e.secret(o.keypass, "key password")
	if err != nil {
		return err
	}
	k, err := keystore.Generate(keystore.GenerateOptions{Type: o.typ, Bits: o.bits, Curve: o.curve, Subject: subject, Days: o.days, Now: e.now()})
	if err != nil {
		return err
	}
	files, err := k.WriteAll(keystore.WriteOptions{
		Dir: o.outDir, Name: firstNonEmpty(o.name, o.alias), Alias: o.alias,
		StorePass: storePass, KeyPass: keyPass, Now: e.now(), Overwrite: o.force,
	})
	if err != nil {
		return err
	}
	return e.printNew(k, files)
}

func (e *env) printNew(k *keystore.Contents, files []string) error {
	fmt.Fprintf(e.stdout, "Wrote:\n  %s\n", strings.Join(files, "\n  "))
	fmt.Fprintf(e.stdout, "Subject:   %s\nExpires:   %s\nx5t#S256:  %s\n", k.Certificate.Subject, k.Certificate.NotAfter.Format(time.RFC3339), keystore.X5TS256(k.Certificate))
	_, err := fmt.Fprintln(e.stdout, "Upload the .pem (or .crt) certificate to the authorization server; keep .key, .p12 and .jks private.")
	return err
}

func (e *env) inspectCommand() *cobra.Command {
	var alias, password, keypass, output string
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Describe a key/certificate file, check the upload rules, print x5t#S256 and the JWK",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return e.inspect(args[0], alias, password, keypass, output)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&alias, "alias", "", "JKS alias")
	fs.StringVar(&password, "password", "", "store password (PKCS#12, JKS): env:NAME, file:PATH or prompt")
	fs.StringVar(&keypass, "keypass", "", "JKS key entry password (default: the store password)")
	fs.StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}

func (e *env) inspect(path, alias, password, keypass, output string) error {
	storePass, err := e.secret(password, "store password")
	if err != nil {
		return err
	}
	keyPass, err := e.secret(keypass, "key password")
	if err != nil {
		return err
	}
	r, err := keystore.Inspect(path, keystore.Options{Alias: alias, StorePassword: storePass, KeyPassword: keyPass}, e.now())
	if err != nil {
		return err
	}
	if output == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	_, err = io.WriteString(e.stdout, r.Text())
	return err
}

// secret resolves env:NAME, file:PATH or prompt. A bare value is refused:
// it would be visible in the shell history and the process list.
func (e *env) secret(ref, label string) ([]byte, error) {
	switch {
	case ref == "":
		return nil, nil
	case ref == "prompt":
		return e.prompt(label)
	case strings.HasPrefix(ref, "env:"):
		v, ok := e.lookupEnv(strings.TrimPrefix(ref, "env:"))
		if !ok {
			return nil, fmt.Errorf("%s: environment variable %s is not set", label, strings.TrimPrefix(ref, "env:"))
		}
		return []byte(v), nil
	case strings.HasPrefix(ref, "file:"):
		b, err := os.ReadFile(strings.TrimPrefix(ref, "file:"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		return []byte(strings.TrimRight(string(b), "\r\n")), nil
	}
	return nil, fmt.Errorf("%s: give env:NAME, file:PATH or prompt", label)
}

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

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Env is the outside world of the commands. NewCommandWith lets an
// embedding program (or an end-to-end test) supply its own; nil fields
// keep the defaults of NewCommand.
type Env struct {
	Stdout    io.Writer
	LookupEnv func(string) (string, bool)
	Prompt    func(label string) ([]byte, error)
	Now       func() time.Time
}

// NewCommandWith returns "latchkey keys" bound to o.
func NewCommandWith(o Env) *cobra.Command {
	e := &env{stdout: os.Stdout, lookupEnv: os.LookupEnv, prompt: terminalPrompt, now: time.Now}
	if o.Stdout != nil {
		e.stdout = o.Stdout
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
	return newCommand(e)
}
