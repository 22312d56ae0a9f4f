package fapi

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

func ws(profile, alg string) storage.Workspace {
	return storage.Workspace{ID: "w", Settings: storage.WorkspaceSettings{FAPIProfile: profile, SigningAlg: alg}}
}

func keySet(t *testing.T, key any) []byte {
	t.Helper()
	raw, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k"}}})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestCheckClient(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	good := storage.Client{Type: oauth2.ClientConfidential, TokenEndpointAuthMethod: oauth2.AuthPrivateKeyJWT,
		ResponseTypes: []string{"code"}, JWKS: keySet(t, ec.Public())}
	cases := []struct {
		name  string
		edit  func(*storage.Client)
		field string
	}{
		{"compliant", func(*storage.Client) {}, ""},
		{"tls_client_auth", func(c *storage.Client) { c.TokenEndpointAuthMethod = oauth2.AuthTLSClient }, ""},
		{"public", func(c *storage.Client) { c.Type, c.TokenEndpointAuthMethod = oauth2.ClientPublic, oauth2.AuthNone }, "type"},
		{"client_secret_basic", func(c *storage.Client) { c.TokenEndpointAuthMethod = oauth2.AuthClientSecretBasic }, "token_endpoint_auth_method"},
		{"client_secret_jwt", func(c *storage.Client) { c.TokenEndpointAuthMethod = oauth2.AuthClientSecretJWT }, "token_endpoint_auth_method"},
		{"assertion RS256", func(c *storage.Client) { c.TokenEndpointAuthSigningAlg = "RS256" }, "token_endpoint_auth_signing_alg"},
		{"request object RS256", func(c *storage.Client) { c.RequestObjectSigningAlg = "RS256" }, "request_object_signing_alg"},
		{"ID token RS256", func(c *storage.Client) { c.IDTokenSignedResponseAlg = "RS256" }, "id_token_signed_response_alg"},
		{"JARM RS256", func(c *storage.Client) { c.AuthorizationSignedResponseAlg = "RS256" }, "authorization_signed_response_alg"},
		{"response type token", func(c *storage.Client) { c.ResponseTypes = []string{"code", "token"} }, "response_types"},
		{"RSA 1024", func(c *storage.Client) { c.JWKS = keySet(t, weak.Public()) }, "jwks"},
		{"http redirect of a web client", func(c *storage.Client) {
			c.ApplicationType, c.RedirectURIs = storage.ApplicationTypeWeb, []string{"https://rp.example/cb", "http://127.0.0.1:8080/cb"}
		}, "redirect_uris"},
		{"http loopback redirect of a native client", func(c *storage.Client) {
			c.ApplicationType, c.RedirectURIs = storage.ApplicationTypeNative, []string{"http://127.0.0.1:8080/cb"}
		}, ""},
		{"https redirect", func(c *storage.Client) { c.RedirectURIs = []string{"https://rp.example/cb"} }, ""},
		{"refresh rotation without a grace period", func(c *storage.Client) {
			c.RefreshTokens = &storage.RefreshTokenSettings{Always: true}
		}, "refresh_tokens.grace_period"},
		{"refresh rotation with a grace period", func(c *storage.Client) {
			c.RefreshTokens = &storage.RefreshTokenSettings{GracePeriod: 30 * time.Second}
		}, ""},
		{"no refresh rotation", func(c *storage.Client) { c.RefreshTokens = &storage.RefreshTokenSettings{NoRotation: true} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			if vs := CheckClient(ProfileNone, c); len(vs) != 0 {
				t.Fatalf("profile off: %v", vs)
			}
			vs := CheckClient(ProfileSecurity, c)
			if tc.field == "" {
				if len(vs) != 0 {
					t.Fatalf("compliant client refused: %v", vs)
				}
				return
			}
			if len(vs) == 0 || vs[0].Field != tc.field {
				t.Fatalf("violations %v, want field %s", vs, tc.field)
			}
		})
	}
}

// TestRotateRefresh: off the profile the client's settings decide (public
// clients always rotate, RFC 9700 §2.2.2); under it a refresh token is
// rotated only with a grace period the server can honour, the retry of
// SP §5.3.2.1 item 9's Note 1, and kept otherwise.
func TestRotateRefresh(t *testing.T) {
	grace := &storage.RefreshTokenSettings{GracePeriod: time.Minute}
	cases := []struct {
		name           string
		profile        string
		typ            string
		rt             *storage.RefreshTokenSettings
		graceAvailable bool
		want           bool
	}{
		{"off, defaults", ProfileNone, oauth2.ClientConfidential, nil, true, true},
		{"off, no_rotation", ProfileNone, oauth2.ClientConfidential, &storage.RefreshTokenSettings{NoRotation: true}, true, false},
		{"off, public client", ProfileNone, oauth2.ClientPublic, &storage.RefreshTokenSettings{NoRotation: true}, true, true},
		{"on, defaults", ProfileSecurity, oauth2.ClientConfidential, nil, true, false},
		{"on, rotation without grace", ProfileSecurity, oauth2.ClientConfidential, &storage.RefreshTokenSettings{Always: true}, true, false},
		{"on, rotation with grace", ProfileSecurity, oauth2.ClientConfidential, grace, true, true},
		{"on, grace not available", ProfileMessageSigning, oauth2.ClientConfidential, grace, false, false},
		{"on, no_rotation", ProfileMessageSigning, oauth2.ClientConfidential, &storage.RefreshTokenSettings{NoRotation: true, GracePeriod: time.Minute}, true, false},
	}
	for _, tc := range cases {
		c := storage.Client{Type: tc.typ, RefreshTokens: tc.rt}
		if got := RotateRefresh(ws(tc.profile, "ES256"), c, tc.graceAvailable); got != tc.want {
			t.Errorf("%s: RotateRefresh = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckWorkspace(t *testing.T) {
	if vs := CheckWorkspace(ws(ProfileSecurity, "RS256").Settings); len(vs) != 1 || vs[0].Field != "settings.signing_alg" {
		t.Fatalf("RS256 workspace: %v", vs)
	}
	for _, alg := range Algs {
		if vs := CheckWorkspace(ws(ProfileMessageSigning, alg).Settings); len(vs) != 0 {
			t.Fatalf("%s refused: %v", alg, vs)
		}
	}
	if vs := CheckWorkspace(ws(ProfileNone, "RS256").Settings); len(vs) != 0 {
		t.Fatalf("profile off: %v", vs)
	}
	// SP §5.3.2.2 item 12: expires_in below 600 seconds.
	for ttl, refused := range map[time.Duration]bool{0: false, 599 * time.Second: false, 600 * time.Second: true} {
		st := ws(ProfileSecurity, "ES256").Settings
		st.PushedRequestTTL = ttl
		vs := CheckWorkspace(st)
		if refused != (len(vs) == 1 && vs[0].Field == "settings.pushed_request_ttl") || (!refused && len(vs) != 0) {
			t.Fatalf("pushed_request_ttl %v: %v", ttl, vs)
		}
	}
}

func TestCheckAuthorization(t *testing.T) {
	base := func() map[string][]string {
		return map[string][]string{"response_type": {"code"}, "code_challenge": {"x"}, "code_challenge_method": {"S256"},
			"redirect_uri": {"https://rp.example/cb"}}
	}
	with := func(k, v string) map[string][]string {
		p := base()
		if v == "" {
			delete(p, k)
		} else {
			p[k] = []string{v}
		}
		return p
	}
	cases := []struct {
		name    string
		profile string
		r       AuthorizationRequest
		code    oauth2.ErrorCode
	}{
		{"pushed", ProfileSecurity, AuthorizationRequest{Pushed: true, AtPAR: true, Params: base()}, ""},
		{"not pushed", ProfileSecurity, AuthorizationRequest{Params: base()}, oauth2.ErrInvalidRequest},
		{"foreign request_uri", ProfileSecurity, AuthorizationRequest{Params: with("request_uri", "https://x")}, errRequestURINotSupported},
		{"plain PKCE", ProfileSecurity, AuthorizationRequest{Pushed: true, Params: with("code_challenge_method", "plain")}, oauth2.ErrInvalidRequest},
		{"no PKCE", ProfileSecurity, AuthorizationRequest{Pushed: true, Params: with("code_challenge", "")}, oauth2.ErrInvalidRequest},
		{"token", ProfileSecurity, AuthorizationRequest{Pushed: true, Params: with("response_type", "token")}, "unsupported_response_type"},
		{"no redirect_uri at PAR", ProfileSecurity, AuthorizationRequest{Pushed: true, AtPAR: true, Params: with("redirect_uri", "")}, oauth2.ErrInvalidRequest},
		{"RS256 object", ProfileSecurity, AuthorizationRequest{Pushed: true, AtPAR: true, SignedAlg: "RS256", Params: base()}, errInvalidRequestObject},
		{"PS256 object", ProfileSecurity, AuthorizationRequest{Pushed: true, AtPAR: true, SignedAlg: "PS256", Params: base()}, ""},
		{"MS unsigned", ProfileMessageSigning, AuthorizationRequest{Pushed: true, AtPAR: true, JWTResponseMode: true, Params: base()}, errInvalidRequestObject},
		{"MS no JARM", ProfileMessageSigning, AuthorizationRequest{Pushed: true, AtPAR: true, SignedAlg: "ES256", Params: base()}, oauth2.ErrInvalidRequest},
		{"MS compliant at PAR", ProfileMessageSigning, AuthorizationRequest{Pushed: true, AtPAR: true, SignedAlg: "ES256", JWTResponseMode: true, Params: base()}, ""},
		{"MS compliant by request_uri", ProfileMessageSigning, AuthorizationRequest{Pushed: true, JWTResponseMode: true, Params: base()}, ""},
		{"off", ProfileNone, AuthorizationRequest{Params: with("code_challenge_method", "plain")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckAuthorization(ws(tc.profile, "ES256"), tc.r)
			var oe *oauth2.Error
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code != "" && (!errors.As(err, &oe) || oe.Code != tc.code):
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
}

func TestTokenEndpointRules(t *testing.T) {
	on := ws(ProfileSecurity, "ES256")
	if err := CheckTokenRequest(on, oauth2.AuthPrivateKeyJWT, false, false); err == nil {
		t.Fatal("unbound token request accepted")
	}
	if err := CheckTokenRequest(on, oauth2.AuthPrivateKeyJWT, true, false); err != nil {
		t.Fatal(err)
	}
	if err := CheckTokenRequest(on, oauth2.AuthTLSClient, false, true); err != nil {
		t.Fatal(err)
	}
	if err := CheckTokenRequest(on, oauth2.AuthClientSecretBasic, true, false); err == nil {
		t.Fatal("client_secret_basic accepted")
	}
	if err := CheckTokenRequest(ws(ProfileNone, "RS256"), oauth2.AuthClientSecretBasic, false, false); err != nil {
		t.Fatal(err)
	}
	if CheckAssertionAlg(on, "RS256") == "" || CheckAssertionAlg(on, "PS256") != "" || CheckAssertionAlg(ws("", "RS256"), "RS256") != "" {
		t.Fatal("assertion algorithms")
	}
	if !StrictAudience(on) || StrictAudience(ws("", "RS256")) {
		t.Fatal("strict audience")
	}
	if CodeTTL(on, 10*time.Minute) != MaxCodeLifetime || CodeTTL(on, 30*time.Second) != 30*time.Second ||
		CodeTTL(ws("", "RS256"), 10*time.Minute) != 10*time.Minute {
		t.Fatal("code lifetime")
	}
}
