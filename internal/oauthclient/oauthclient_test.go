package oauthclient

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauthclient/oauthtest"
)

// TestBasicCredentialsEncoding: RFC 6749 §2.3.1 form-urlencodes id and
// secret before base64, so ':' and non-ASCII survive.
func TestBasicCredentialsEncoding(t *testing.T) {
	got := basicCredentials("my:client", "s3cr:t é+/")
	raw, _ := base64.StdEncoding.DecodeString(got)
	if string(raw) != "my%3Aclient:s3cr%3At+%C3%A9%2B%2F" {
		t.Fatalf("got %q", raw)
	}
}

// TestClientCredentialsAllMethods runs client_credentials with each
// client authentication method against the fake server.
func TestClientCredentialsAllMethods(t *testing.T) {
	s := newFake(t)
	key := rsaKey(t)
	ec := ecKey(t)
	cases := []struct {
		name string
		reg  oauthtest.Client
		auth ClientAuth
	}{
		{"basic", oauthtest.Client{ID: "b", Secret: "sec:ret", AuthMethod: "client_secret_basic"}, ClientAuth{Method: AuthClientSecretBasic, ClientID: "b", ClientSecret: "sec:ret"}},
		{"post", oauthtest.Client{ID: "p", Secret: "s", AuthMethod: "client_secret_post"}, ClientAuth{Method: AuthClientSecretPost, ClientID: "p", ClientSecret: "s"}},
		{"secret_jwt", oauthtest.Client{ID: "h", Secret: strings.Repeat("x", 32), AuthMethod: "client_secret_jwt"}, ClientAuth{Method: AuthClientSecretJWT, ClientID: "h", ClientSecret: strings.Repeat("x", 32)}},
		{"private_key_jwt RSA aud=issuer", oauthtest.Client{ID: "k", AuthMethod: "private_key_jwt", Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}}, ClientAuth{Method: AuthPrivateKeyJWT, ClientID: "k", Key: key, KeyID: "k1"}},
		{"private_key_jwt EC aud=token endpoint", oauthtest.Client{ID: "e", AuthMethod: "private_key_jwt", Keys: []jose.JSONWebKey{{Key: ec.Public()}}}, ClientAuth{Method: AuthPrivateKeyJWT, ClientID: "e", Key: ec, Audience: AudienceTokenEndpoint}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.AddClient(tc.reg)
			c := &Client{Issuer: s.Issuer, Auth: tc.auth}
			tok, err := c.ClientCredentials(t.Context(), Params{Scopes: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.Expiry.IsZero() || tok.Raw["token_type"] != "Bearer" {
				t.Fatalf("token %+v", tok)
			}
		})
	}
}

func TestClientCredentialsErrorsHaveHints(t *testing.T) {
	s := newFake(t)
	s.AddClient(oauthtest.Client{ID: "b", Secret: "right", AuthMethod: "client_secret_basic"})
	c := &Client{Issuer: s.Issuer, Auth: ClientAuth{Method: AuthClientSecretBasic, ClientID: "b", ClientSecret: "wrong"}}
	_, err := c.ClientCredentials(t.Context(), Params{})
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || oe.Status != 401 {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(oe.Hint(), "client id and secret") {
		t.Errorf("hint %q", oe.Hint())
	}
}

func TestHints(t *testing.T) {
	cases := []struct{ code, desc, want string }{
		{"invalid_grant", "audience is invalid", "wrong audience"},
		{"invalid_grant", "assertion expired", "expired assertion or clock skew"},
		{"invalid_grant", "iat is in the future", "clock skew"},
		{"invalid_grant", "no certificate matches kid abc", "unknown kid"},
		{"invalid_request", "redirect_uri does not match", "redirect URI mismatch"},
		{"invalid_client", "", "client authentication failed"},
		{"unauthorized_client", "", "enable the grant"},
		{"invalid_grant", "user is not pre-authorized for this app", "subject was refused"},
		// Latchkey's own texts (docs/jwt-bearer.md, internal/authorize).
		{"invalid_grant", "no certificate matches kid 'not-uploaded'", "unknown kid"},
		{"invalid_grant", "assertion has already been used", "already used"},
		{"invalid_request", "redirect_uri is not registered for the client", "redirect URI mismatch"},
		{"invalid_grant", "assertion lifetime 600 s exceeds the maximum of 180 s", "the server allows at most 180 s; pass --expires-in 3 (minutes) or less"},
		{"invalid_client", "assertion lifetime 7200 s exceeds this workspace's maximum of 3600 s", "the server allows at most 3600 s; pass --expires-in 60 (minutes) or less"},
		{"invalid_grant", "assertion lifetime 300 s exceeds the maximum of 30 s", "at most 30 s, less than the one minute --expires-in can express"},
		{"server_error", "boom", ""},
	}
	for _, tc := range cases {
		h := (&Error{Code: tc.code, Description: tc.desc}).Hint()
		if (tc.want == "" && h != "") || !strings.Contains(h, tc.want) {
			t.Errorf("%s/%s: hint %q, want %q", tc.code, tc.desc, h, tc.want)
		}
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := &Client{TokenEndpoint: srv.URL, Auth: ClientAuth{Method: AuthClientSecretPost, ClientID: "a", ClientSecret: "b"}}
	_, err := c.ClientCredentials(t.Context(), Params{})
	var oe *Error
	if !errors.As(err, &oe) || oe.Status != 502 || !strings.Contains(err.Error(), "bad gateway") {
		t.Fatalf("err = %v", err)
	}
}

// TestDiscoveryIssuerMismatch: a document naming another issuer is refused
// (OIDC Discovery §4.3).
func TestDiscoveryIssuerMismatch(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`))
	}))
	defer srv.Close()
	if _, err := Discover(t.Context(), srv.Client(), srv.URL); err == nil || !strings.Contains(err.Error(), "evil") {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateMissingPieces(t *testing.T) {
	cases := []ClientAuth{
		{Method: AuthClientSecretBasic},
		{Method: AuthClientSecretPost, ClientID: "a"},
		{Method: AuthPrivateKeyJWT, ClientID: "a"},
	}
	for _, a := range cases {
		if err := a.Validate(); err == nil {
			t.Errorf("%+v: no error", a)
		}
	}
	if _, err := ParseAuthMethod("client_secret_magic"); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := ParseAuthMethod("tls_client_auth"); err != nil { // RFC 8705 §2.1
		t.Errorf("tls_client_auth refused: %v", err)
	}
}

func TestTokenValid(t *testing.T) {
	now := time.Now()
	if (&Token{AccessToken: "a"}).Valid(now, 0) {
		t.Error("token without expiry is valid")
	}
	if (&Token{AccessToken: "a", Expiry: now.Add(20 * time.Second)}).Valid(now, 30*time.Second) {
		t.Error("token within skew is valid")
	}
	if !(&Token{AccessToken: "a", Expiry: now.Add(time.Minute)}).Valid(now, 30*time.Second) {
		t.Error("fresh token invalid")
	}
}

// TestJWTBearerAssertionEmpty: a missing pre-signed assertion is refused
// before any request.
func TestJWTBearerAssertionEmpty(t *testing.T) {
	c := &Client{TokenEndpoint: "http://127.0.0.1:1/token"}
	if _, err := c.JWTBearerAssertion(t.Context(), "", Params{}); err == nil || !strings.Contains(err.Error(), "no assertion") {
		t.Fatalf("err = %v", err)
	}
}
