package oauth2

import "strings"

// asciiStandIns replaces the typographic characters our descriptions use
// with their ASCII spelling.
var asciiStandIns = strings.NewReplacer(
	"§", "section ", "…", "...", "’", "'", "‘", "'", "“", "'", "”", "'", "—", "-", "–", "-", `"`, "'", `\`, "/",
)

// WireDescription makes an error_description fit RFC 6749 §5.2, which
// allows only printable ASCII without '"' and '\' (%x20-21 / %x23-5B /
// %x5D-7E): typographic characters get their ASCII spelling, double quotes
// become single ones, and anything else outside the set becomes '?'. Our
// sentences are written in that set already; this keeps a quoted value or
// a citation from making the response invalid for strict clients.
func WireDescription(s string) string {
	if isWireSafe(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, asciiStandIns.Replace(s))
}

func isWireSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
