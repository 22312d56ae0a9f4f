package oauthtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Client is a registered client.
type Client struct {
	ID, Secret   string
	AuthMethod   string
	Keys         []jose.JSONWebKey // public keys for private_key_jwt and JWT bearer assertions
	RedirectURIs []string
}

// Server is the fake authorization server.
type Server struct {
	*httptest.Server
	Issuer   string
	TokenTTL time.Duration
	Now      func() time.Time
	// MaxAssertionLifetime, when set, refuses assertions whose exp lies
	// further ahead, in the words of Latchkey's token endpoint.
	MaxAssertionLifetime time.Duration
	// Users maps user name to password for the sign-in form.
	Users map[string]string

	mu       sync.Mutex
	clients  map[string]Client
	codes    map[string]codeGrant
	refresh  map[string]string // refresh token -> client id
	jtis     map[string]bool
	Requests map[string]int // grant_type -> count of successful token responses
	signer   jose.Signer
	pub      jose.JSONWebKey
}

type codeGrant struct {
	client, redirect, challenge, nonce, user string
}

// New starts a fake server on loopback.
func New() *Server {
	s := &Server{
		TokenTTL: time.Hour, Now: time.Now, Users: map[string]string{"alice": "wonderland"},
		clients: map[string]Client{}, codes: map[string]codeGrant{}, refresh: map[string]string{},
		jtis: map[string]bool{}, Requests: map[string]int{},
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	s.pub = jose.JSONWebKey{Key: key.Public(), KeyID: "idt-1", Algorithm: "RS256", Use: "sig"}
	s.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "idt-1"}}, nil)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /authorize", s.authorizeForm)
	mux.HandleFunc("POST /authorize", s.authorizeSubmit)
	mux.HandleFunc("POST /token", s.token)
	s.Server = httptest.NewServer(mux)
	s.Issuer = s.URL
	return s
}

// AddClient registers c.
func (s *Server) AddClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// Count is the number of tokens issued with grant type g.
func (s *Server) Count(g string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[g]
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer": s.Issuer, "authorization_endpoint": s.Issuer + "/authorize", "token_endpoint": s.Issuer + "/token",
		"jwks_uri": s.Issuer + "/jwks", "response_types_supported": []string{"code"},
		"grant_types_supported":                 []string{"client_credentials", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"},
		"code_challenge_methods_supported":      []string{"S256"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"authorization_response_iss_parameter_supported": true,
	})
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.pub}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) issue(w http.ResponseWriter, grant, clientID, sub, nonce string, withRefresh bool) {
	at := randomString()
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(s.TokenTTL / time.Second), "scope": "api"}
	s.mu.Lock()
	s.Requests[grant]++
	if withRefresh {
		rt := randomString()
		s.refresh[rt] = clientID
		resp["refresh_token"] = rt
	}
	s.mu.Unlock()
	if nonce != "" {
		idt, err := s.idToken(clientID, sub, nonce, at)
		if err != nil {
			oauthError(w, 500, "server_error", "")
			return
		}
		resp["id_token"] = idt
	}
	writeJSON(w, 200, resp)
}

func (s *Server) idToken(clientID, sub, nonce, at string) (string, error) {
	now := s.Now()
	sum := sha256.Sum256([]byte(at))
	claims := map[string]any{
		"iss": s.Issuer, "sub": sub, "aud": clientID, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"nonce": nonce, "at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
	}
	return jwt.Signed(s.signer).Claims(claims).Serialize()
}

// verifyAssertion checks an RFC 7523 assertion signed by one of keys (or
// HMAC secret), with the expected iss/sub and an audience among auds.
func (s *Server) verifyAssertion(raw string, keys []jose.JSONWebKey, secret []byte, auds []string) (*jwt.Claims, map[string]any, error) {
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.ES384}
	if secret != nil {
		algs = []jose.SignatureAlgorithm{jose.HS256}
	}
	tok, err := jwt.ParseSigned(raw, algs)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed assertion: %w", err)
	}
	var claims jwt.Claims
	extra := map[string]any{}
	if err := s.verifyWithKeys(tok, keys, secret, &claims, &extra); err != nil {
		return nil, nil, err
	}
	if claims.Expiry == nil {
		return nil, nil, fmt.Errorf("assertion has no exp")
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Time: s.Now()}, 0); err != nil {
		return nil, nil, fmt.Errorf("assertion expired or not yet valid: %w", err)
	}
	if limit := s.MaxAssertionLifetime; limit > 0 {
		from := s.Now()
		if claims.IssuedAt != nil {
			from = claims.IssuedAt.Time() // as Latchkey: exp - iat when iat is sent
		}
		if life := claims.Expiry.Time().Sub(from); life > limit {
			return nil, nil, fmt.Errorf("assertion lifetime %d s exceeds the maximum of %d s", int64(life.Seconds()), int64(limit.Seconds()))
		}
	}
	if !audOK(claims.Audience, auds) {
		return nil, nil, fmt.Errorf("audience is invalid")
	}
	if err := s.useJTI(claims.ID); err != nil {
		return nil, nil, err
	}
	return &claims, extra, nil
}

func (s *Server) verifyWithKeys(tok *jwt.JSONWebToken, keys []jose.JSONWebKey, secret []byte, out ...any) error {
	if secret != nil {
		return tok.Claims(secret, out...)
	}
	kid := tok.Headers[0].KeyID
	for _, k := range keys {
		if kid != "" && k.KeyID != kid {
			continue
		}
		if tok.Claims(k.Key, out...) == nil {
			return nil
		}
	}
	if kid != "" {
		return fmt.Errorf("no certificate matches kid %s", kid)
	}
	return fmt.Errorf("signature does not verify")
}

func audOK(aud jwt.Audience, want []string) bool {
	for _, w := range want {
		if aud.Contains(w) {
			return true
		}
	}
	return false
}

func (s *Server) useJTI(jti string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if jti == "" || s.jtis[jti] {
		return fmt.Errorf("assertion jti missing or already used")
	}
	s.jtis[jti] = true
	return nil
}

// PublicJWK wraps a public key as a JWK with kid.
func PublicJWK(pub crypto.PublicKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: pub, KeyID: kid}
}

func (s *Server) audiences() []string { return []string{s.Issuer, s.Issuer + "/token"} }
