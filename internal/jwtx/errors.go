package jwtx

import (
	"errors"
	"fmt"
	"slices"
)

// Error is a failure to parse, verify or validate a token. It keeps two
// texts apart: the public description, a fixed sentence written for the
// developer who built the token and safe to send as error_description
// (Describe returns it), and the detail, which says what exactly was found
// and may echo the token's own content (a member name, a kid, a decoder
// message). The detail appears only in Error(), which callers log with the
// request ID and never write to the wire: token content is attacker input.
//
// Public descriptions quote names with single quotes: RFC 6749 §5.2 keeps
// '"' and '\' out of error_description.
type Error struct {
	kind   error  // the sentinel it matches with errors.Is; nil for a sentinel
	public string // fixed sentence for error_description
	detail string // for the log only
	alg    string // the refused header alg of an ErrAlgorithm from Parse
}

// RefusedAlg returns the header alg that Parse refused (ErrAlgorithm), ""
// for any other error. It is token content: a caller compares it with
// the algorithms it knows and names only those (Describe names a refused
// alg only when it is a registered one).
func RefusedAlg(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.alg
	}
	return ""
}

// Error returns the public description followed by the detail, for logs.
func (e *Error) Error() string {
	if e.detail == "" {
		return e.public
	}
	return e.public + ": " + e.detail
}

// Unwrap returns the sentinel the error is a case of.
func (e *Error) Unwrap() error { return e.kind }

// Describe returns the public description of err: a fixed sentence for a
// person, safe as error_description, never the detail. An error this
// package did not produce gets a generic sentence rather than its text,
// which may come from a library.
func Describe(err error) string {
	var le *LifetimeError
	if errors.As(err, &le) {
		return le.Error() // both numbers are the server's and the signer's choice, never free text
	}
	var e *Error
	if errors.As(err, &e) {
		return e.public
	}
	return "token is invalid"
}

// sentinel declares one of the errors callers tell apart with errors.Is;
// its text is its public description.
func sentinel(public string) error { return &Error{public: public} }

// fail returns a case of kind with its own public sentence and a detail
// for the log.
func fail(kind error, public, format string, args ...any) error {
	return &Error{kind: kind, public: public, detail: fmt.Sprintf(format, args...)}
}

// malformed is a structural failure of Parse (ErrMalformed).
func malformed(public, format string, args ...any) error {
	return fail(ErrMalformed, public, format, args...)
}

// maxQuoted bounds how much of a token's content one detail quotes, so a
// 16 KiB member name cannot flood the log.
const maxQuoted = 64

// quote renders token content for a detail: Go-quoted, so control
// characters cannot forge log lines, and truncated.
func quote(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q...", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}

// registeredAlgs are the JWS algorithms of the IANA "JSON Web Signature
// and Encryption Algorithms" registry (RFC 7518 §7.1). A refused alg from
// this closed list is named in the public description, since the
// developer will recognise it; anything else is token content and stays
// in the detail.
var registeredAlgs = []string{
	"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
	"PS256", "PS384", "PS512", "none", "EdDSA", "Ed25519", "Ed448", "ES256K",
}

// algNotAllowed is the refusal of an alg that Parse's allowlist lacks.
func algNotAllowed(alg string) error {
	if !slices.Contains(registeredAlgs, alg) {
		return refusedAlg(alg, "algorithm is not one this server accepts")
	}
	return refusedAlg(alg, "algorithm '"+alg+"' is not allowed")
}

// refusedAlg is the ErrAlgorithm of a header alg Parse refuses.
func refusedAlg(alg, public string) error {
	return &Error{kind: ErrAlgorithm, public: public, detail: "alg " + quote(alg), alg: alg}
}
