package oauthclient

import (
	"html/template"
	"net/http"
)

var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p><p>You can close this window and return to the terminal.</p></body></html>
`))

// writeDonePage answers the browser after the redirect. The page is static
// apart from escaped text, loads nothing and may not be framed.
func writeDonePage(w http.ResponseWriter, err error, delivered bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	data := struct{ Title, Message string }{"Signed in", "latchkey received the authorization code."}
	status := http.StatusOK
	switch {
	case !delivered:
		data = struct{ Title, Message string }{"Already done", "This sign-in was already completed."}
	case err != nil:
		data = struct{ Title, Message string }{"Sign-in failed", err.Error()}
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = donePage.Execute(w, data)
}
