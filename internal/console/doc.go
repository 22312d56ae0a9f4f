// Package console is the admin web console served at /console: server-
// rendered html/template pages with embedded assets, no JavaScript build
// step and no third-party resources. Every form works without JavaScript;
// a small script only adds copy buttons.
//
// Security (SECURITY.md K1-K6, K9-K12, O4): sessions live in the database
// (so several server processes share them) keyed by the SHA-256 of the
// cookie value; the cookie is "__Host-latchkey_console" (HttpOnly, Secure,
// Path=/, no Domain, SameSite=Lax) when the base URL is https. Cookie jars
// do not return Secure cookies over http, so with an http base URL (local
// installs) the name is "latchkey_console" with the same flags minus
// Secure: the one decision of webui.Cookies. Every form carries a synchronizer CSRF token bound to the
// session (an HMAC of a per-session secret); the sign-in and setup forms,
// which have no session yet, use a double-submit token in a SameSite=Strict
// cookie. Sign-in issues a new session ID (K4); sessions end after 30
// minutes idle or 12 hours in total. Roles are checked on every route.
// Pages send CSP "default-src 'self'; frame-ancestors 'none'",
// X-Frame-Options DENY, Referrer-Policy no-referrer and Cache-Control
// no-store.
//
// The console changes nothing itself: every action goes through the
// service layer, the same code the admin API and the CLI use, with the
// signed-in user as the audit actor.
package console
