package device

import (
	"crypto/rand"
	"strings"
)

// UserCodeAlphabet is the alphabet of user codes: 20 consonants, no
// vowels (no words) and no look-alikes such as 0/O or 1/I (RFC 8628 §6.1).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is the number of characters of a user code: 20^8 ≈ 2^34.5
// codes, the example of RFC 8628 §6.1, which with the entry limits of this
// package keeps a guess within a code's lifetime improbable (§5.1).
const UserCodeLength = 8

// NewUserCode returns a random user code, normalised (no dash). 256 is
// not a multiple of 20, so bytes at or above 240 are drawn again (rejection
// sampling) to keep every character equally likely.
func NewUserCode() string {
	var out [UserCodeLength]byte
	var buf [1]byte
	for i := 0; i < UserCodeLength; {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+).
		if buf[0] >= 240 {
			continue
		}
		out[i] = UserCodeAlphabet[int(buf[0])%len(UserCodeAlphabet)]
		i++
	}
	return string(out[:])
}

// FormatUserCode groups a normalised user code for display: XXXX-XXXX.
func FormatUserCode(code string) string {
	if len(code) != UserCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// maxUserCodeInput bounds what NormalizeUserCode reads.
const maxUserCodeInput = 64

// NormalizeUserCode turns what a person typed into the stored form:
// upper case, with dashes and spaces ignored (RFC 8628 §6.1: "case
// insensitive" and "the authorization server should ignore any characters
// like punctuation"). ok is false when the result cannot be a user code
// (wrong length or a character outside the alphabet), so it is refused
// without a lookup.
func NormalizeUserCode(input string) (code string, ok bool) {
	if len(input) > maxUserCodeInput {
		return "", false
	}
	var b strings.Builder
	for _, r := range input {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 0x7f || !strings.ContainsRune(UserCodeAlphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != UserCodeLength {
		return "", false
	}
	return b.String(), true
}
