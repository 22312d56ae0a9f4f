package jwtx

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// maxNumericDate is 9999-12-31T23:59:59Z. Larger values are not dates a
// legitimate issuer writes, and would overflow time arithmetic (A17).
const maxNumericDate = 253402300799

// parseClaims fills t.Claims with strictly typed registered claims
// (RFC 7519 §4.1, SECURITY.md A17): iss, sub and jti must be strings, aud a
// string or an array of strings, exp, nbf and iat non-negative JSON integers.
func (t *Token) parseClaims(m map[string]json.RawMessage) error {
	c := Claims{Raw: m}
	var err error
	for name, dst := range map[string]*string{"iss": &c.Issuer, "sub": &c.Subject, "jti": &c.JTI} {
		if *dst, err = optionalString(m, name, "claim"); err != nil {
			return err
		}
		if hasControl(*dst) {
			// Identifiers go to storage and logs; a NUL or control
			// character is never part of a legitimate one
			// (docs/security.md R4).
			return malformed("claim '"+name+"' contains a control character", "value %s", quote(*dst))
		}
	}
	if c.Audience, t.audSingle, err = parseAudience(m["aud"]); err != nil {
		return err
	}
	for name, dst := range map[string]**time.Time{"exp": &c.Expiry, "nbf": &c.NotBefore, "iat": &c.IssuedAt} {
		if *dst, err = parseNumericDate(m, name); err != nil {
			return err
		}
	}
	t.Claims = c
	return nil
}

// hasControl reports a C0 or C1 control character or DEL in s.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// parseAudience accepts "aud" as one string or an array of strings
// (RFC 7519 §4.1.3). single reports the one-string form, which the strict
// audience mode of client authentication requires (SECURITY.md B4).
func parseAudience(v json.RawMessage) (aud []string, single bool, err error) {
	if v == nil {
		return nil, false, nil
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return []string{s}, true, nil
		}
	case '[':
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err == nil {
			aud, err := audienceList(list)
			return aud, false, err
		}
	}
	return nil, false, errAudienceType(v)
}

func errAudienceType(v json.RawMessage) error {
	return malformed("claim 'aud' must be a string or an array of strings", "value %s", quote(string(v)))
}

func audienceList(list []json.RawMessage) ([]string, error) {
	aud := make([]string, 0, len(list))
	for _, item := range list {
		var s string
		if len(item) == 0 || item[0] != '"' || json.Unmarshal(item, &s) != nil {
			return nil, errAudienceType(item)
		}
		aud = append(aud, s)
	}
	return aud, nil
}

// parseNumericDate reads a NumericDate (RFC 7519 §2). RFC 7519 allows
// fractions, but no issuer needs them and accepting only plain non-negative
// integers closes the float, exponent and overflow tricks of A17.
func parseNumericDate(m map[string]json.RawMessage, name string) (*time.Time, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	bad := malformed("claim '"+name+"' must be an integer NumericDate (seconds since 1970, not negative, not quoted)", "value %s", quote(string(v)))
	if len(v) == 0 || len(v) > 12 {
		return nil, bad
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return nil, bad
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n > maxNumericDate {
		return nil, bad
	}
	ts := time.Unix(n, 0).UTC()
	return &ts, nil
}
