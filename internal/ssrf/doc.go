// Package ssrf makes outgoing HTTP requests to URLs that clients registered
// (jwks_uri today; request_uri, sector_identifier_uri and logout callbacks
// later) without letting those URLs reach the server's own network
// (SECURITY.md group L; RFC 8725bis §3.10 "MUST check what a hostname
// resolves to and avoid making a request if it resolves to a loopback or
// local IP").
//
// Two layers guard every request:
//
//   - ValidateURL at registration: https only, no userinfo or fragment, and
//     literal IP hosts (in every notation inet_aton accepts, such as
//     2130706433 or 0x7f.1) and localhost names refused (L1, L2).
//   - NewClient at fetch time: the dialer checks the address it actually
//     connects to, after DNS resolution, so a name that resolves (or
//     re-resolves, DNS rebinding) to an internal address is refused (L3);
//     redirects are never followed (L4); the whole request is bounded in
//     time and the response body in size (L5); proxies from the environment
//     are ignored so the check applies to the real peer.
//
// JWKSCache keeps fetched key sets for a TTL, rate-limits refetches of one
// URL (an unknown kid must not turn into a request per attempt, A5) and lets
// concurrent callers share one fetch.
package ssrf
