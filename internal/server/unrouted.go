package server

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The router's own answers (no route for the path: 404; a route for the
// path but not for the method: 405 with Allow) are plain text from
// net/http. On the protocol endpoints and the admin API every error is
// JSON with error and error_description (RFC 6749 §5.2; the admin API's
// error shape), so they are rewritten there. Pages (sign-in, console,
// assets) keep their own.

// jsonErrorsFor reports whether path is answered with JSON errors: the
// OAuth and OpenID endpoints of a workspace, its discovery documents, and
// the admin API.
func jsonErrorsFor(path string) bool {
	if strings.HasPrefix(path, adminPrefix) || strings.HasPrefix(path, "/.well-known/") {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/w/")
	if !ok {
		return false
	}
	_, sub, _ := strings.Cut(rest, "/")
	return strings.HasPrefix(sub, "oauth2/") || strings.HasPrefix(sub, ".well-known/")
}

// unroutedAnswer replaces the router's plain-text 404 or 405 with the
// JSON error of the path's kind; it reports whether it did. The router's
// body that follows is dropped (recorder.swallow).
func unroutedAnswer(w http.ResponseWriter, r *http.Request, code int) bool {
	if (code != http.StatusNotFound && code != http.StatusMethodNotAllowed) || r.Pattern != "" ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") || !jsonErrorsFor(r.URL.Path) {
		return false
	}
	body := struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{"invalid_request", "there is no endpoint at this path"}
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		body.Error = "not_found"
	}
	if code == http.StatusMethodNotAllowed {
		body.Error = "invalid_request"
		body.Description = "this endpoint does not accept the method " + r.Method + "; it accepts " + w.Header().Get("Allow")
	}
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body)
	return true
}
