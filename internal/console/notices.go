package console

import (
	"net/http"
	"net/url"
	"unicode/utf8"
)

// deletedKinds are the things a console page deletes; the confirmation
// after a delete names one of them (and nothing else a link could make
// the page claim).
var deletedKinds = map[string]bool{
	"client": true, "user": true, "profile": true, "service": true, "trusted issuer": true,
	"policy": true, "initial access token": true, "signing key": true, "workspace": true,
	"console user": true, "admin token": true, "certificate": true, "session": true, "consent": true,
}

// deletedURL is the address a delete redirects to: list, with the
// confirmation that names what was deleted (its name, else its ID).
func deletedURL(list, kind, name, id string) string {
	if name == "" {
		name = id
	} else if id != "" && name != id {
		name += " (" + id + ")"
	}
	return list + "?" + url.Values{"deleted": {kind}, "name": {name}}.Encode()
}

// deletedNotice is the confirmation a page shows after deletedURL's
// redirect ("" when there is none).
func deletedNotice(r *http.Request) string {
	if r.Method != http.MethodGet {
		return ""
	}
	q := r.URL.Query()
	kind, name := q.Get("deleted"), q.Get("name")
	if !deletedKinds[kind] || name == "" || !utf8.ValidString(name) {
		return ""
	}
	if len(name) > 300 {
		name = name[:300] + "…"
	}
	return "Deleted the " + kind + " “" + name + "”."
}
