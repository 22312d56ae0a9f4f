package jwtx

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultSkew is the clock skew tolerated on exp, nbf and iat (FAPI 2.0
// §5.3.2.1: accept up to 10 s in the future, reject beyond 60 s; B6).
const DefaultSkew = 60 * time.Second

// Expected lists what Validate checks.
type Expected struct {
	Issuer, Subject      string   // "" = not checked
	Audiences            []string // aud must contain one of these
	AudienceSingleString bool     // strict: aud must be exactly one string
	Now                  time.Time
	Skew                 time.Duration // default 60s
	MaxLifetime          time.Duration // exp - now and exp - iat bounded
	RequireJTI           bool
	RequireExp           bool
	RejectTypes          []string // e.g. "at+jwt", "dpop+jwt", ... (A14)
}

// Validation errors. Their texts are their public descriptions.
var (
	ErrNoExpiry        = sentinel("assertion has no expiry")
	ErrNotYetValid     = sentinel("assertion is not yet valid")
	ErrIssuedInFuture  = sentinel("assertion was issued in the future")
	ErrLifetimeTooLong = sentinel("assertion lifetime is too long")
	ErrIssuerInvalid   = sentinel("issuer is invalid")
	ErrSubjectInvalid  = sentinel("subject is invalid")
	ErrNoJTI           = sentinel("assertion has no jti")
	ErrTypeRejected    = sentinel("token type is not accepted here")
)

// Validate checks the claims against e. It refuses to run before a
// successful Verify or VerifyHMAC: claims of an unauthenticated token mean
// nothing, and checking them first is how "expired" ends up masking "forged"
// (golang-jwt CVE-2024-51744, SECURITY.md A13).
func (t *Token) Validate(e Expected) error {
	if !t.verified {
		return ErrNotVerified
	}
	if e.Now.IsZero() {
		e.Now = time.Now()
	}
	if e.Skew == 0 {
		e.Skew = DefaultSkew
	}
	checks := []func(Expected) error{t.checkType, t.checkTimes, t.checkIdentity, t.checkAudience, t.checkJTI}
	for _, check := range checks {
		if err := check(e); err != nil {
			return err
		}
	}
	return nil
}

// checkType rejects tokens explicitly typed as something else (RFC 8725
// §3.11, A14), so our access tokens, DPoP proofs or request objects cannot
// be replayed as assertions. Media types compare case-insensitively, with
// or without the "application/" prefix (RFC 7515 §4.1.9).
func (t *Token) checkType(e Expected) error {
	typ := normalizeType(t.Header.Typ)
	if typ == "" {
		return nil
	}
	for _, r := range e.RejectTypes {
		if normalizeType(r) == typ {
			return ErrTypeRejected
		}
	}
	return nil
}

func normalizeType(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	return strings.TrimPrefix(typ, "application/")
}

// checkTimes applies RFC 7519 §4.1.4–4.1.6 and RFC 7523 §3 items 4–6.
func (t *Token) checkTimes(e Expected) error {
	c := t.Claims
	if c.Expiry == nil {
		if e.RequireExp {
			return ErrNoExpiry
		}
	} else if !e.Now.Before(c.Expiry.Add(e.Skew)) {
		return ErrExpired
	}
	if c.NotBefore != nil && c.NotBefore.After(e.Now.Add(e.Skew)) {
		return ErrNotYetValid
	}
	if c.IssuedAt != nil && c.IssuedAt.After(e.Now.Add(e.Skew)) {
		return ErrIssuedInFuture
	}
	return t.checkLifetime(e)
}

// checkLifetime bounds how far ahead exp may lie, both from now and from iat
// (RFC 7523 §3 item 4 "MAY reject JWTs with an exp claim value that is
// unreasonably far in the future"; B5, C6). The skew allowance on exp-now
// tolerates a client clock that runs slightly ahead.
func (t *Token) checkLifetime(e Expected) error {
	c := t.Claims
	if e.MaxLifetime <= 0 || c.Expiry == nil {
		return nil
	}
	// exp - iat first: it is the lifetime the signer chose, the number its
	// developer will recognise in the error.
	if c.IssuedAt != nil {
		if d := c.Expiry.Sub(*c.IssuedAt); d > e.MaxLifetime {
			return &LifetimeError{Lifetime: d, Max: e.MaxLifetime}
		}
	}
	if d := c.Expiry.Sub(e.Now); d > e.MaxLifetime+e.Skew {
		return &LifetimeError{Lifetime: d, Max: e.MaxLifetime}
	}
	return nil
}

// LifetimeError is an assertion valid for longer than allowed. It matches
// ErrLifetimeTooLong with errors.Is; callers that know whose bound Max is
// (a workspace's, a client's) can say so.
type LifetimeError struct {
	Lifetime, Max time.Duration
}

func (e *LifetimeError) Error() string {
	return fmt.Sprintf("assertion lifetime %d s exceeds the maximum of %d s",
		int64(e.Lifetime/time.Second), int64(e.Max/time.Second))
}

// Is makes errors.Is(err, ErrLifetimeTooLong) hold.
func (e *LifetimeError) Is(target error) bool { return target == ErrLifetimeTooLong }

func (t *Token) checkIdentity(e Expected) error {
	if e.Issuer != "" && t.Claims.Issuer != e.Issuer {
		return ErrIssuerInvalid
	}
	if e.Subject != "" && t.Claims.Subject != e.Subject {
		return ErrSubjectInvalid
	}
	return nil
}

// checkAudience requires aud to name one of e.Audiences (RFC 7519 §4.1.3,
// RFC 7523 §3 item 3). In strict mode aud must be exactly one JSON string
// (draft-ietf-oauth-rfc7523bis, FAPI 2.0 Security Profile §5.3.2.1 item 8; B4).
func (t *Token) checkAudience(e Expected) error {
	if len(e.Audiences) == 0 {
		return nil
	}
	aud := t.Claims.Audience
	if e.AudienceSingleString && (!t.audSingle || len(aud) != 1) {
		return ErrAudienceInvalid
	}
	for _, a := range aud {
		if a != "" && slices.Contains(e.Audiences, a) {
			return nil
		}
	}
	return ErrAudienceInvalid
}

func (t *Token) checkJTI(e Expected) error {
	if e.RequireJTI && t.Claims.JTI == "" {
		return ErrNoJTI
	}
	return nil
}

// Verified reports whether a signature check on t succeeded.
func (t *Token) Verified() bool { return t.verified }

// Raw returns the token as it was parsed.
func (t *Token) Raw() string { return t.raw }
