// Package webui holds what the browser-facing pages of the authorization
// flow share: security headers, cookies, browser sessions, CSRF tokens,
// the message catalogue, workspace branding and the embedded templates and
// assets. Packages authorize (authorization endpoint, consent), login
// (sign-in, account, set-password) and oidc (logout) render through it.
//
// Every page is served with Content-Security-Policy "default-src 'self'"
// (images may also come from https: so that client and workspace logos
// show), frame-ancestors 'none' and X-Frame-Options: DENY (SECURITY.md K5),
// Referrer-Policy: no-referrer (E13) and Cache-Control: no-store (K12).
// Templates are html/template, so every value is escaped (K9, K10).
//
// # Cookies (SECURITY.md K6)
//
// Cookies (built by CookiesFor from the base URL) names and flags every
// cookie of the flow, of the login device cookie and of the console. With
// an https base URL they carry the __Host- prefix, Secure, HttpOnly and
// Path=/ with no Domain. With an http base URL (a developer's first run on
// http://localhost, http://127.0.0.1 or http://[::1]) they lose the prefix
// and Secure, and keep the rest: standard cookie jars (curl, Python
// requests) never send a Secure cookie back over http.
//
//   - __Host-lk_b binds pending authorization requests to the browser that
//     started them (E15) and keys the CSRF tokens of every form (K1). It is
//     SameSite=Lax, not Strict: the flow starts with a cross-site
//     navigation from the client, and a Strict cookie would be withheld on
//     the whole redirect chain, so the server could not tell the binding.
//     Lax still keeps it off cross-site POSTs (K3).
//   - __Host-lk_s_{workspace} is the browser session of one workspace,
//     SameSite=Lax so that a client's top-level redirect carries it. Only
//     its SHA-256 is stored; a new value is issued on every sign-in (K4).
package webui
