package oauthtest

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "bad form")
		return
	}
	form := r.PostForm
	switch form.Get("grant_type") {
	case "client_credentials":
		if c, ok := s.authenticate(w, r, form, true); ok {
			s.issue(w, "client_credentials", c.ID, c.ID, "", false)
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		s.jwtBearer(w, r, form)
	case "authorization_code":
		s.authorizationCode(w, r, form)
	case "refresh_token":
		s.refreshToken(w, r, form)
	default:
		oauthError(w, 400, "unsupported_grant_type", "")
	}
}

// authenticate implements RFC 6749 §2.3 and RFC 7523 §2.2 for the
// registered method. required=false lets an assertion-only request through.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, form url.Values, required bool) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" && !required {
		return Client{}, true
	}
	s.mu.Lock()
	c, known := s.clients[id]
	s.mu.Unlock()
	if !known || !s.checkMethod(c, r, form, basic, secret) {
		oauthError(w, 401, "invalid_client", "client authentication failed")
		return Client{}, false
	}
	return c, true
}

func (s *Server) checkMethod(c Client, r *http.Request, form url.Values, basic bool, secret string) bool {
	switch c.AuthMethod {
	case "client_secret_basic":
		return basic && secret == c.Secret
	case "client_secret_post":
		return !basic && secret == c.Secret
	case "none":
		return !basic && secret == "" && form.Get("client_assertion") == ""
	case "client_secret_jwt", "private_key_jwt":
		return s.checkClientAssertion(c, form)
	}
	return false
}

func (s *Server) checkClientAssertion(c Client, form url.Values) bool {
	if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return false
	}
	var secret []byte
	if c.AuthMethod == "client_secret_jwt" {
		secret = []byte(c.Secret)
	}
	claims, _, err := s.verifyAssertion(form.Get("client_assertion"), c.Keys, secret, s.audiences())
	return err == nil && claims.Issuer == c.ID && claims.Subject == c.ID
}

func (s *Server) jwtBearer(w http.ResponseWriter, r *http.Request, form url.Values) {
	authed, ok := s.authenticate(w, r, form, false)
	if !ok {
		return
	}
	iss := peekIssuer(form.Get("assertion"))
	s.mu.Lock()
	c, known := s.clients[iss]
	s.mu.Unlock()
	if authed.ID != "" {
		c, known = authed, true
	}
	if !known {
		oauthError(w, 400, "invalid_grant", "unknown issuer")
		return
	}
	claims, _, err := s.verifyAssertion(form.Get("assertion"), c.Keys, nil, []string{s.Issuer + "/token", c.ID})
	if err != nil {
		oauthError(w, 400, "invalid_grant", err.Error())
		return
	}
	s.issue(w, "urn:ietf:params:oauth:grant-type:jwt-bearer", c.ID, claims.Subject, "", false)
}

// peekIssuer reads iss without verifying, only to find the client whose
// keys then verify the assertion.
func peekIssuer(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	_ = jsonUnmarshal(b, &c)
	return c.Iss
}

func (s *Server) authorizationCode(w http.ResponseWriter, r *http.Request, form url.Values) {
	c, ok := s.authenticate(w, r, form, true)
	if !ok {
		return
	}
	s.mu.Lock()
	g, found := s.codes[form.Get("code")]
	delete(s.codes, form.Get("code"))
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	switch {
	case !found || g.client != c.ID:
		oauthError(w, 400, "invalid_grant", "unknown or used code")
	case g.redirect != form.Get("redirect_uri"):
		oauthError(w, 400, "invalid_grant", "redirect_uri does not match the authorization request")
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, 400, "invalid_grant", "PKCE verification failed")
	default:
		s.issue(w, "authorization_code", c.ID, g.user, g.nonce, true)
	}
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request, form url.Values) {
	c, ok := s.authenticate(w, r, form, true)
	if !ok {
		return
	}
	s.mu.Lock()
	owner, found := s.refresh[form.Get("refresh_token")]
	delete(s.refresh, form.Get("refresh_token")) // rotation
	s.mu.Unlock()
	if !found || owner != c.ID {
		oauthError(w, 400, "invalid_grant", "unknown refresh token")
		return
	}
	s.issue(w, "refresh_token", c.ID, c.ID, "", true)
}
