package webui

import "net/http"

// ContentSecurityPolicy is sent with every page: nothing but our own
// scripts, styles and forms' resources; images may be https logos;
// never framed (SECURITY.md K5, E13).
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' https:; base-uri 'none'; frame-ancestors 'none'"

// SetPageHeaders sets the security headers every HTML page carries.
func SetPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
}
