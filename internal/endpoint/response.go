package endpoint

import "net/http"

// WriteNoStoreJSON writes body, a complete JSON document, as a response
// with the headers every token-endpoint style response carries
// (RFC 6749 §5.1: Content-Type application/json, Cache-Control no-store,
// Pragma no-cache), the same headers oauth2.WriteJSON sets. The keys are
// assigned in their canonical form, which spares the per-request
// canonicalisation Header.Set does; handlers that serialise a hot response
// themselves (the token endpoint's) use it.
func WriteNoStoreJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Cache-Control"] = []string{"no-store"}
	h["Pragma"] = []string{"no-cache"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
