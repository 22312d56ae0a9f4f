package tokencmd

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secret references. A secret given on the command line is one of these,
// never the bare value (which would land in shell history and ps output).
const (
	refEnv     = "env:"
	refFile    = "file:"
	refPrompt  = "prompt"
	refLiteral = "literal:"
)

// checkRef validates a reference before it is stored; literal values are
// accepted only with --store-secret.
func checkRef(ref string, storeSecret bool) (string, error) {
	switch {
	case ref == "", ref == refPrompt:
		return ref, nil
	case strings.HasPrefix(ref, refEnv) && len(ref) > len(refEnv), strings.HasPrefix(ref, refFile) && len(ref) > len(refFile):
		return ref, nil
	case strings.HasPrefix(ref, refLiteral) && storeSecret:
		return ref, nil
	case storeSecret:
		return refLiteral + ref, nil
	}
	return "", errors.New("secrets are given as env:NAME, file:PATH or prompt; to store a value in clear in the config file, add --store-secret")
}

// resolveSecret reads the secret a reference points at. label names it in
// the prompt.
func (e *env) resolveSecret(ref, label string) (string, error) {
	switch {
	case ref == "":
		return "", nil
	case ref == refPrompt:
		b, err := e.prompt(label)
		return string(b), err
	case strings.HasPrefix(ref, refEnv):
		v, ok := e.lookupEnv(strings.TrimPrefix(ref, refEnv))
		if !ok {
			return "", fmt.Errorf("%s: environment variable %s is not set", label, strings.TrimPrefix(ref, refEnv))
		}
		return v, nil
	case strings.HasPrefix(ref, refFile):
		b, err := os.ReadFile(strings.TrimPrefix(ref, refFile))
		if err != nil {
			return "", fmt.Errorf("%s: %w", label, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case strings.HasPrefix(ref, refLiteral):
		return strings.TrimPrefix(ref, refLiteral), nil
	}
	return "", fmt.Errorf("%s: %q is not env:NAME, file:PATH, prompt or literal:VALUE", label, redactRef(ref))
}

// redactRef shows a reference without a literal secret.
func redactRef(ref string) string {
	if strings.HasPrefix(ref, refLiteral) {
		return refLiteral + "***"
	}
	if ref == "" || ref == refPrompt || strings.HasPrefix(ref, refEnv) || strings.HasPrefix(ref, refFile) {
		return ref
	}
	return "***"
}
