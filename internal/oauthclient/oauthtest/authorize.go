package oauthtest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
)

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><title>Sign in</title>
<form method="post" action="/authorize">
<input type="hidden" name="q" value="{{.}}">
<input name="username" id="username"><input type="password" name="password" id="password">
<button type="submit">Sign in and allow</button></form>`))

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// authorizeForm checks the request (RFC 6749 §4.1.1, PKCE S256 required)
// and shows the sign-in form; errors that cannot be trusted to the
// redirect URI are shown as a page (§4.1.2.1).
func (s *Server) authorizeForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, ok := s.checkClientRedirect(q); !ok {
		http.Error(w, "unknown client or redirect_uri mismatch", http.StatusBadRequest)
		return
	}
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		s.redirectError(w, r, q, "invalid_request", "PKCE S256 and response_type=code are required")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, q.Encode())
}

func (s *Server) checkClientRedirect(q url.Values) (Client, bool) {
	s.mu.Lock()
	c, ok := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	return c, ok && slices.Contains(c.RedirectURIs, q.Get("redirect_uri"))
}

func (s *Server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.PostFormValue("q"))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if _, ok := s.checkClientRedirect(q); !ok {
		http.Error(w, "unknown client or redirect_uri mismatch", http.StatusBadRequest)
		return
	}
	user := r.PostFormValue("username")
	if pw, ok := s.Users[user]; !ok || pw != r.PostFormValue("password") {
		s.redirectError(w, r, q, "access_denied", "wrong user name or password")
		return
	}
	code := randomString()
	s.mu.Lock()
	s.codes[code] = codeGrant{client: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), user: user}
	s.mu.Unlock()
	s.redirect(w, r, q, url.Values{"code": {code}})
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, q url.Values, code, desc string) {
	s.redirect(w, r, q, url.Values{"error": {code}, "error_description": {desc}})
}

// redirect answers with state and iss (RFC 9207) on the redirect URI.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, q, params url.Values) {
	u, _ := url.Parse(q.Get("redirect_uri"))
	params.Set("state", q.Get("state"))
	params.Set("iss", s.Issuer)
	u.RawQuery = params.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
