package ssrf

import (
	"net/netip"
	"strconv"
	"strings"
)

// blockedPrefixes are ranges no registered URL may reach unless
// Options.AllowPrivate is set. netip's IsPrivate, IsLoopback, etc. cover the
// common ones; these add special-purpose registry entries (RFC 6890, RFC
// 6598 CGNAT, documentation and benchmarking nets) and IPv6 forms that embed
// an IPv4 address which could be internal (NAT64, 6to4, Teredo,
// IPv4-compatible).
var blockedPrefixes = mustPrefixes(
	"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
	"198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
	"::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
	"2002::/16", "fec0::/10", "fc00::/7",
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// IsBlockedIP reports whether addr is loopback, private, link-local
// (including the 169.254.169.254 metadata service), CGNAT, unspecified,
// multicast or another special-purpose address. IPv4-mapped IPv6 addresses
// (::ffff:127.0.0.1) are judged by their IPv4 form.
func IsBlockedIP(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || addr.Zone() != "" {
		return true
	}
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() || addr.IsMulticast() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() {
		return true
	}
	if addr.Is4() && addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseHostIP interprets host the way a resolver library may: a bracketed
// or plain IPv6 literal, a dotted-quad, or any inet_aton form with one to
// four parts in decimal, octal (leading 0) or hex (0x) — "2130706433",
// "0x7f.1" and "017700000001" all mean 127.0.0.1. ok is false when host is
// a name.
func parseHostIP(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true
	}
	return parseInetAton(host)
}

func parseInetAton(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseInetPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	return combineInetParts(nums)
}

func parseInetPart(p string) (uint64, bool) {
	base := 10
	switch {
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		p, base = p[2:], 16
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	n, err := strconv.ParseUint(p, base, 32)
	return n, err == nil
}

// combineInetParts applies inet_aton's rule: the last part fills all the
// remaining bytes.
func combineInetParts(nums []uint64) (netip.Addr, bool) {
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// looksNumeric reports whether the last label of host is numeric, which
// makes URL parsers (WHATWG URL §3.5) treat the whole host as IPv4: such a
// host that is not a valid address is refused rather than resolved.
func looksNumeric(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		return true
	}
	for _, c := range last {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
