package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/service/servicetest"
	"github.com/latchkey/latchkey/internal/storage"
)

func newEnv(t *testing.T) (*servicetest.Env, context.Context) {
	t.Helper()
	env := servicetest.New(t)
	ctx := context.Background()
	_, err := env.Service.CreateService(ctx, "default", service.ServiceInput{
		ID: "api", Name: "API", Identifier: "https://api.example",
		Scopes: []storage.Scope{{Name: "read"}, {Name: "write"}, {Name: "https://api.example/admin"}},
	})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	return env, ctx
}

// fieldErrors returns the field -> message map of a ValidationError.
func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	var ve *service.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	out := map[string]string{}
	for _, fe := range ve.Errors {
		if !strings.HasPrefix(fe.Message, fe.Field+": ") {
			t.Errorf("message %q does not name field %q", fe.Message, fe.Field)
		}
		out[fe.Field] += fe.Message + "\n"
	}
	return out
}

func TestCreateWorkspaceValidation(t *testing.T) {
	env, ctx := newEnv(t)
	cases := []struct {
		name  string
		in    service.WorkspaceInput
		field string
	}{
		{"empty id", service.WorkspaceInput{Name: "x"}, "id"},
		{"uppercase id", service.WorkspaceInput{ID: "Acme", Name: "x"}, "id"},
		{"id with slash", service.WorkspaceInput{ID: "a/b", Name: "x"}, "id"},
		{"id too long", service.WorkspaceInput{ID: strings.Repeat("a", 64), Name: "x"}, "id"},
		{"leading dash", service.WorkspaceInput{ID: "-a", Name: "x"}, "id"},
		{"no name", service.WorkspaceInput{ID: "a"}, "name"},
		{"ttl too short", service.WorkspaceInput{ID: "a", Name: "x", Settings: storage.WorkspaceSettings{AccessTokenTTL: time.Second}}, "settings.access_token_ttl"},
		{"ttl too long", service.WorkspaceInput{ID: "a", Name: "x", Settings: storage.WorkspaceSettings{AccessTokenTTL: 25 * time.Hour}}, "settings.access_token_ttl"},
		{"bad alg", service.WorkspaceInput{ID: "a", Name: "x", Settings: storage.WorkspaceSettings{SigningAlg: "HS256"}}, "settings.signing_alg"},
		{"bad auth method", service.WorkspaceInput{ID: "a", Name: "x", Settings: storage.WorkspaceSettings{AllowedAuthMethods: []string{"client_secret_magic"}}}, "settings.allowed_auth_methods[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Service.CreateWorkspace(ctx, tc.in)
			if fe := fieldErrors(t, err); fe[tc.field] == "" {
				t.Fatalf("want error on %s, got %v", tc.field, fe)
			}
		})
	}
}

func TestWorkspaceValidationReportsEveryProblem(t *testing.T) {
	env, ctx := newEnv(t)
	_, err := env.Service.CreateWorkspace(ctx, service.WorkspaceInput{ID: "BAD", Settings: storage.WorkspaceSettings{SigningAlg: "none"}})
	fe := fieldErrors(t, err)
	for _, f := range []string{"id", "name", "settings.signing_alg"} {
		if fe[f] == "" {
			t.Errorf("missing error for %s in %v", f, fe)
		}
	}
}

func TestWorkspaceLifecycle(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	w, err := s.CreateWorkspace(ctx, service.WorkspaceInput{ID: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Settings.AccessTokenTTL != time.Hour || w.Settings.SigningAlg != oauth2.AlgES256 || !w.Enabled {
		t.Fatalf("defaults not filled: %+v", w)
	}
	keys, err := s.ListKeys(ctx, "acme")
	if err != nil || len(keys) != 2 {
		t.Fatalf("want active+next keys, got %v %v", keys, err)
	}
	if _, err := s.CreateWorkspace(ctx, service.WorkspaceInput{ID: "acme", Name: "Again"}); !errors.Is(err, service.ErrConflict) {
		t.Fatalf("duplicate: want ErrConflict, got %v", err)
	}
	alg := oauth2.AlgEdDSA
	w, err = s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{SigningAlg: &alg})
	if err != nil || w.Settings.SigningAlg != alg {
		t.Fatalf("update alg: %+v %v", w, err)
	}
	keys, _ = s.ListKeys(ctx, "acme")
	if !hasKey(keys, storage.KeyNext, oauth2.AlgEdDSA) {
		t.Fatalf("changing the alg must publish a next key of the new alg: %+v", keys)
	}
	bad := time.Second
	if _, err := s.UpdateWorkspace(ctx, "acme", service.WorkspacePatch{AccessTokenTTL: &bad}); fieldErrors(t, err)["settings.access_token_ttl"] == "" {
		t.Fatal("update must validate")
	}
	if _, err := s.UpdateWorkspace(ctx, "nope", service.WorkspacePatch{}); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if err := s.DeleteWorkspace(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorkspace(ctx, "acme"); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := s.DeleteWorkspace(ctx, "default"); !errors.Is(err, service.ErrConflict) {
		t.Fatalf("deleting the last workspace must be refused, got %v", err)
	}
}

func hasKey(keys []service.KeyInfo, state, alg string) bool {
	for _, k := range keys {
		if k.State == state && k.Alg == alg {
			return true
		}
	}
	return false
}

func TestEnsureDefaultIsIdempotentAndConcurrent(t *testing.T) {
	env, ctx := newEnv(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := env.Service.EnsureDefault(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := env.Service.ListKeys(ctx, "default")
	if len(keys) != 2 {
		t.Fatalf("want 2 keys, got %d", len(keys))
	}
}

func TestServiceValidationAndScopes(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	_, err := s.CreateService(ctx, "default", service.ServiceInput{
		ID: "bad id", Identifier: strings.Repeat("x", 2049),
		Scopes: []storage.Scope{{Name: "a b"}, {Name: "ok"}, {Name: "ok"}},
	})
	fe := fieldErrors(t, err)
	for _, f := range []string{"id", "name", "identifier", "scopes[0].name", "scopes[2].name"} {
		if fe[f] == "" {
			t.Errorf("missing error for %s: %v", f, fe)
		}
	}
	_, err = s.CreateService(ctx, "default", service.ServiceInput{Name: "Other", Identifier: "https://other", Scopes: []storage.Scope{{Name: "read"}}})
	if !errors.Is(err, service.ErrConflict) || !strings.Contains(service.PublicMessage(err), `"read"`) {
		t.Fatalf("scope names are unique per workspace: %v", err)
	}
	svc, err := s.CreateService(ctx, "default", service.ServiceInput{Name: "Other", Identifier: "https://other"})
	if err != nil || !strings.HasPrefix(svc.ID, "svc_") {
		t.Fatalf("generated id: %+v %v", svc, err)
	}
	sc := []storage.Scope{{Name: "other:read", Description: "Read"}}
	svc, err = s.UpdateService(ctx, "default", svc.ID, service.ServicePatch{Scopes: &sc})
	if err != nil || len(svc.Scopes) != 1 {
		t.Fatalf("update scopes: %+v %v", svc, err)
	}
	if _, err := s.GetService(ctx, "default", "missing"); !errors.Is(err, service.ErrNotFound) {
		t.Fatal(err)
	}
}

// generatedClientID is 128 bits in lowercase base32: nothing a command line
// could take for a flag.
var generatedClientID = regexp.MustCompile(`^[a-z2-7]{26}$`)

func TestCreateClientDefaultsAndSecret(t *testing.T) {
	env, ctx := newEnv(t)
	c, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "Backend", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != oauth2.ClientConfidential || c.TokenEndpointAuthMethod != oauth2.AuthClientSecretBasic ||
		len(c.GrantTypes) != 1 || c.GrantTypes[0] != oauth2.GrantClientCredentials {
		t.Fatalf("defaults: %+v", c.Client)
	}
	// D3: 256-bit secret, 43 base64url characters, stored encrypted.
	if raw, err := base64.RawURLEncoding.DecodeString(c.Secret); err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not 256-bit base64url", c.Secret)
	}
	if !generatedClientID.MatchString(c.ID) {
		t.Fatalf("client id %q is not 26 lowercase base32 characters", c.ID)
	}
	stored, err := env.Store.GetClient(ctx, "default", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored.SecretCiphertext), c.Secret) || len(stored.SecretCiphertext) == 0 {
		t.Fatal("secret must be stored encrypted (SECURITY.md D3)")
	}
	if got, err := env.Service.ClientSecret(stored); err != nil || got != c.Secret {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	// The ciphertext is bound to its client (AAD).
	if _, err := env.Keyring.Decrypt(stored.SecretCiphertext, service.SecretAAD("default", "other")); err == nil {
		t.Fatal("ciphertext must not decrypt for another client")
	}
	rot, err := env.Service.RotateClientSecret(ctx, "default", c.ID)
	if err != nil || rot.Secret == "" || rot.Secret == c.Secret {
		t.Fatalf("rotate: %v", err)
	}
	stored, _ = env.Store.GetClient(ctx, "default", c.ID)
	if got, _ := env.Service.ClientSecret(stored); got != rot.Secret {
		t.Fatal("rotation must replace the stored secret")
	}
}

func TestClientValidationErrors(t *testing.T) {
	env, ctx := newEnv(t)
	long := strings.Repeat("x", 300)
	cases := []struct {
		name  string
		in    service.ClientInput
		field string
		want  string
	}{
		{"name required", service.ClientInput{}, "name", "required"},
		{"bad client id", service.ClientInput{ID: "a b", Name: "n"}, "client_id", "must be 1-255"},
		{"client id too long", service.ClientInput{ID: long, Name: "n"}, "client_id", "must be 1-255"},
		{"bad type", service.ClientInput{Name: "n", Type: "trusted"}, "type", "must be"},
		{"unknown grant", service.ClientInput{Name: "n", GrantTypes: []string{"password"}}, "grant_types[0]", "must be one of"},
		{"D6 public client_credentials", service.ClientInput{Name: "n", Type: "public", GrantTypes: []string{"client_credentials"}}, "grant_types", "not allowed for public"},
		{"public with secret method", service.ClientInput{Name: "n", Type: "public", TokenEndpointAuthMethod: "client_secret_basic", RedirectURIs: []string{"https://a.example/cb"}}, "token_endpoint_auth_method", "must use none"},
		{"confidential with none", service.ClientInput{Name: "n", TokenEndpointAuthMethod: "none"}, "token_endpoint_auth_method", "must authenticate"},
		{"unknown scope", service.ClientInput{Name: "n", Scopes: []string{"delete"}}, "scopes[0]", "not defined"},
		{"private_key_jwt without keys", service.ClientInput{Name: "n", TokenEndpointAuthMethod: "private_key_jwt"}, "jwks", "requires jwks"},
		{"jwks and jwks_uri", service.ClientInput{Name: "n", JWKS: []byte(`{"keys":[]}`), JWKSURI: "https://x.example/jwks"}, "jwks", "must not both"},
		{"L1 jwks_uri over http", service.ClientInput{Name: "n", JWKSURI: "http://keys.example/jwks"}, "jwks_uri", "must be an https URL"},
		{"L2 jwks_uri on loopback", service.ClientInput{Name: "n", JWKSURI: "https://127.0.0.1/jwks"}, "jwks_uri", "must be an https URL"},
		{"L2 jwks_uri metadata IP", service.ClientInput{Name: "n", JWKSURI: "https://169.254.169.254/latest"}, "jwks_uri", "must be an https URL"},
		{"bad email", service.ClientInput{Name: "n", ContactEmail: "Bob <bob@example.com>"}, "contact_email", "plain e-mail"},
		{"bad email 2", service.ClientInput{Name: "n", ContactEmail: "not-an-email"}, "contact_email", "plain e-mail"},
		{"ttl", service.ClientInput{Name: "n", AccessTokenTTL: time.Second}, "access_token_ttl", "between"},
		{"metadata key", service.ClientInput{Name: "n", Metadata: map[string]string{"bad key": "v"}}, "metadata.bad key", "keys must"},
		{"metadata value", service.ClientInput{Name: "n", Metadata: map[string]string{"k": strings.Repeat("v", 1025)}}, "metadata.k", "at most 1024"},
		{"hmac alg on private_key_jwt", service.ClientInput{Name: "n", TokenEndpointAuthMethod: "private_key_jwt", TokenEndpointAuthSigningAlg: "HS256", JWKS: testJWKS(t)}, "token_endpoint_auth_signing_alg", "must be one of"},
		{"rsa alg on client_secret_jwt", service.ClientInput{Name: "n", TokenEndpointAuthMethod: "client_secret_jwt", TokenEndpointAuthSigningAlg: "RS256"}, "token_endpoint_auth_signing_alg", "must be one of"},
		{"alg on basic", service.ClientInput{Name: "n", TokenEndpointAuthSigningAlg: "RS256"}, "token_endpoint_auth_signing_alg", "only used"},
		{"refresh without code", service.ClientInput{Name: "n", GrantTypes: []string{"client_credentials", "refresh_token"}}, "grant_types", "requires authorization_code"},
		{"code needs redirect", service.ClientInput{Name: "n", GrantTypes: []string{"authorization_code"}}, "redirect_uris", "at least one"},
		{"response type without code grant", service.ClientInput{Name: "n", ResponseTypes: []string{"code"}}, "response_types", "requires the authorization_code"},
		{"M5 too many redirect uris", service.ClientInput{Name: "n", RedirectURIs: make([]string, 101)}, "redirect_uris", "at most 100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Service.CreateClient(ctx, "default", tc.in)
			fe := fieldErrors(t, err)
			if !strings.Contains(fe[tc.field], tc.want) {
				t.Fatalf("want %q on %s, got %v", tc.want, tc.field, fe)
			}
		})
	}
}

func TestWorkspaceAllowedAuthMethods(t *testing.T) {
	env, ctx := newEnv(t)
	methods := []string{oauth2.AuthPrivateKeyJWT}
	if _, err := env.Service.UpdateWorkspace(ctx, "default", service.WorkspacePatch{AllowedAuthMethods: &methods}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n"})
	if !strings.Contains(fieldErrors(t, err)["token_endpoint_auth_method"], "not allowed in this workspace") {
		t.Fatalf("got %v", err)
	}
	if _, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", JWKS: testJWKS(t)}); err != nil {
		t.Fatalf("private_key_jwt must be allowed: %v", err)
	}
}

// TestRedirectURIs covers SECURITY.md E3 (registration hygiene).
func TestRedirectURIs(t *testing.T) {
	env, ctx := newEnv(t)
	cases := []struct {
		uri, typ string
		ok       bool
	}{
		{"https://app.example/cb", "confidential", true},
		{"https://app.example:8443/cb?x=1", "confidential", true},
		{"http://127.0.0.1/cb", "public", true},
		{"http://[::1]:8080/cb", "public", true},
		{"com.example.app:/oauth2redirect", "public", true},
		{"com.example.app:/oauth2redirect", "confidential", false},
		{"http://localhost/cb", "public", true}, // the seeds' http://localhost:1717/OauthRedirect
		{"http://localhost.evil.example/cb", "public", false},
		{"http://example.com/cb", "confidential", false},
		{"javascript:alert(1)", "public", false},
		{"JaVaScRiPt:alert(1)", "public", false},
		{"data:text/html,<script>", "public", false},
		{"https://app.example/cb#frag", "confidential", false},
		{"https://*.example/cb", "confidential", false},
		{"https://app.example/*", "confidential", false},
		{"/relative/cb", "confidential", false},
		{"https://user@app.example/cb", "confidential", false},
		{"https:///cb", "confidential", false},
		{"ftp://app.example/cb", "confidential", false},
		{"https://app.example\\@evil.com/cb", "confidential", false},
		{"https://app.example/c b", "confidential", false},
	}
	for _, tc := range cases {
		t.Run(tc.uri+"/"+tc.typ, func(t *testing.T) {
			in := service.ClientInput{Name: "n", Type: tc.typ, GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://ok.example/cb", tc.uri}}
			_, err := env.Service.CreateClient(ctx, "default", in)
			if tc.ok {
				if err != nil {
					t.Fatalf("want ok, got %v", err)
				}
				return
			}
			if msg := fieldErrors(t, err)["redirect_uris[1]"]; msg == "" {
				t.Fatalf("want error on redirect_uris[1], got %v", err)
			}
		})
	}
	_, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"https://a.example/cb", "http://example.com/cb"}})
	if got := fieldErrors(t, err)["redirect_uris[1]"]; got != "redirect_uris[1]: must use https (or http on a loopback address)\n" {
		t.Fatalf("message: %q", got)
	}
}

func testJWKS(t *testing.T) []byte {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return jwksOf(t, jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"})
}

func jwksOf(t *testing.T, keys ...jose.JSONWebKey) []byte {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	rsaOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func rsa2048(t *testing.T) *rsa.PrivateKey {
	rsaOnce.Do(func() { rsaKey, _ = rsa.GenerateKey(rand.Reader, 2048) })
	return rsaKey
}

// TestJWKSValidation covers SECURITY.md A15 (weak or absurd keys) and P5.
func TestJWKSValidation(t *testing.T) {
	env, ctx := newEnv(t)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edPub, _ := ed25519.GenerateKey(rand.Reader)
	edPubKey := edPub.Public()
	r := rsa2048(t)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	hugeN := new(big.Int).Lsh(big.NewInt(1), 16383)
	hugeN.Add(hugeN, big.NewInt(1))
	ecJSON, _ := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "e"})
	var ecMap map[string]any
	_ = json.Unmarshal(ecJSON, &ecMap)
	ecMap["y"] = ecMap["x"] // off-curve point
	offCurve, _ := json.Marshal(map[string]any{"keys": []any{ecMap}})
	cases := []struct {
		name string
		jwks []byte
		ok   bool
	}{
		{"rsa 2048", jwksOf(t, jose.JSONWebKey{Key: &r.PublicKey, KeyID: "r", Algorithm: "RS256"}), true},
		{"ec p256", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "e"}), true},
		{"ed25519", jwksOf(t, jose.JSONWebKey{Key: edPubKey, KeyID: "ed", Algorithm: "EdDSA"}), true},
		{"rsa 1024", jwksOf(t, jose.JSONWebKey{Key: &weak.PublicKey, KeyID: "w"}), false},
		{"rsa 16384", jwksOf(t, jose.JSONWebKey{Key: &rsa.PublicKey{N: hugeN, E: 65537}, KeyID: "h"}), false},
		{"rsa e=1", jwksOf(t, jose.JSONWebKey{Key: &rsa.PublicKey{N: r.N, E: 1}, KeyID: "e1"}), false},
		{"off-curve ec", offCurve, false},
		{"p-224", []byte(`{"keys":[{"kty":"EC","crv":"P-224","x":"AAAA","y":"AAAA"}]}`), false},
		{"private key", jwksOf(t, jose.JSONWebKey{Key: ec, KeyID: "p"}), false},
		{"symmetric key", []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}]}`), false},
		{"duplicate kid", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "d"}, jose.JSONWebKey{Key: &r.PublicKey, KeyID: "d"}), false},
		{"alg mismatch", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "m", Algorithm: "RS256"}), false},
		{"use other than sig or enc", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "u", Use: "tls"}), false},
		// An encryption key for JWT-secured authorization responses (JARM §2.2).
		{"use enc", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "u", Use: "enc"}), true},
		{"use enc with a signing alg", jwksOf(t, jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "u", Use: "enc", Algorithm: "ES256"}), false},
		{"empty set", []byte(`{"keys":[]}`), false},
		{"not json", []byte(`{"keys":`), false},
		{"too many keys", jwksOf(t, manyKeys(&ec.PublicKey, 101)...), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", JWKS: tc.jwks})
			if tc.ok {
				if err != nil {
					t.Fatalf("want ok, got %v", err)
				}
				return
			}
			var ve *service.ValidationError
			if !errors.As(err, &ve) || !strings.HasPrefix(ve.Errors[0].Field, "jwks") {
				t.Fatalf("want a jwks validation error, got %v", err)
			}
		})
	}
}

func manyKeys(pub any, n int) []jose.JSONWebKey {
	out := make([]jose.JSONWebKey, n)
	for i := range out {
		out[i] = jose.JSONWebKey{Key: pub, KeyID: strings.Repeat("k", i+1)}
	}
	return out
}

func TestJWKSURIUsesValidator(t *testing.T) {
	env, ctx := newEnv(t)
	var gotPrivate bool
	env.Service.ValidateURL = func(raw string, allowPrivate bool) error {
		gotPrivate = allowPrivate
		if strings.HasPrefix(raw, "https://127.") {
			return errors.New("address is not public")
		}
		return nil
	}
	if _, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", JWKSURI: "https://keys.example/jwks"}); err != nil {
		t.Fatal(err)
	}
	_, err := env.Service.CreateClient(ctx, "default", service.ClientInput{Name: "n", JWKSURI: "https://127.0.0.1/jwks"})
	if !strings.Contains(fieldErrors(t, err)["jwks_uri"], "address is not public") || gotPrivate {
		t.Fatalf("got %v", err)
	}
}

func TestUpdateClient(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	c, err := s.CreateClient(ctx, "default", service.ClientInput{Name: "n", JWKS: testJWKS(t)})
	if err != nil || c.Secret != "" || c.TokenEndpointAuthMethod != oauth2.AuthPrivateKeyJWT {
		t.Fatalf("private_key_jwt client has no secret: %+v %v", c, err)
	}
	if _, err := s.RotateClientSecret(ctx, "default", c.ID); !errors.Is(err, service.ErrConflict) {
		t.Fatalf("rotating a keyless client: %v", err)
	}
	method, empty := oauth2.AuthClientSecretPost, []byte{}
	u, err := s.UpdateClient(ctx, "default", c.ID, service.ClientPatch{TokenEndpointAuthMethod: &method, JWKS: &empty})
	if err != nil || u.Secret == "" || u.JWKS != nil {
		t.Fatalf("switching to a secret method issues a secret once: %+v %v", u, err)
	}
	name := "renamed"
	u2, err := s.UpdateClient(ctx, "default", c.ID, service.ClientPatch{Name: &name})
	if err != nil || u2.Secret != "" || u2.Name != name || len(u2.SecretCiphertext) == 0 {
		t.Fatalf("a plain update keeps the secret and does not reveal it: %+v %v", u2, err)
	}
	method = oauth2.AuthPrivateKeyJWT
	jwks := testJWKS(t)
	u3, err := s.UpdateClient(ctx, "default", c.ID, service.ClientPatch{TokenEndpointAuthMethod: &method, JWKS: &jwks})
	if err != nil || len(u3.SecretCiphertext) != 0 {
		t.Fatalf("leaving secret methods drops the secret (B10): %v", err)
	}
	bad := "public"
	if _, err := s.UpdateClient(ctx, "default", c.ID, service.ClientPatch{Type: &bad}); err == nil {
		t.Fatal("update must validate the whole client")
	}
	d, err := s.SetClientEnabled(ctx, "default", c.ID, false)
	if err != nil || d.Enabled {
		t.Fatalf("disable: %v", err)
	}
}

// TestCrossWorkspaceIsolation covers SECURITY.md O1/J3 at the service layer.
func TestCrossWorkspaceIsolation(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	if _, err := s.CreateWorkspace(ctx, service.WorkspaceInput{ID: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateClient(ctx, "default", service.ClientInput{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	name := "x"
	checks := map[string]error{
		"get": func() error { _, err := s.GetClient(ctx, "other", c.ID); return err }(),
		"update": func() error {
			_, err := s.UpdateClient(ctx, "other", c.ID, service.ClientPatch{Name: &name})
			return err
		}(),
		"enable":  func() error { _, err := s.SetClientEnabled(ctx, "other", c.ID, false); return err }(),
		"rotate":  func() error { _, err := s.RotateClientSecret(ctx, "other", c.ID); return err }(),
		"delete":  s.DeleteClient(ctx, "other", c.ID),
		"service": func() error { _, err := s.GetService(ctx, "other", "api"); return err }(),
	}
	for op, err := range checks {
		if !errors.Is(err, service.ErrNotFound) {
			t.Errorf("%s across workspaces: want ErrNotFound, got %v", op, err)
		}
	}
	// Scopes of another workspace cannot be granted.
	_, err = s.CreateClient(ctx, "other", service.ClientInput{Name: "n", Scopes: []string{"read"}})
	if fieldErrors(t, err)["scopes[0]"] == "" {
		t.Fatal("scopes of another workspace must not be grantable")
	}
	if _, err := s.ListClients(ctx, "missing", storage.ListOptions{}); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("list in missing workspace: %v", err)
	}
}

func TestKeys(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	before, _ := s.ListKeys(ctx, "default")
	after, err := s.RotateKeys(ctx, "default", "")
	if err != nil || len(after) != 3 {
		t.Fatalf("rotate: %+v %v", after, err)
	}
	if _, err := s.RotateKeys(ctx, "default", "HS256"); fieldErrors(t, err)["alg"] == "" {
		t.Fatal("rotate must validate alg")
	}
	var active, retired string
	for _, k := range after {
		switch k.State {
		case storage.KeyActive:
			active = k.KID
		case storage.KeyRetired:
			retired = k.KID
		}
	}
	if active == "" || retired == "" || retired == before[0].KID && retired == before[1].KID {
		t.Fatalf("states: %+v", after)
	}
	if err := s.RemoveKey(ctx, "default", active); !errors.Is(err, service.ErrConflict) {
		t.Fatalf("removing the active key must be refused: %v", err)
	}
	if err := s.RemoveKey(ctx, "default", retired); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveKey(ctx, "default", retired); !errors.Is(err, service.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := s.RotateKeys(ctx, "default", oauth2.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.GetWorkspace(ctx, "default"); w.Settings.SigningAlg != oauth2.AlgRS256 {
		t.Fatalf("rotating to another alg updates the setting: %s", w.Settings.SigningAlg)
	}
}

func TestInitialAccessTokens(t *testing.T) {
	env, ctx := newEnv(t)
	s := env.Service
	tok, raw, err := s.CreateInitialAccessToken(ctx, "default", service.InitialAccessTokenInput{Description: "ci", ExpiresIn: time.Hour, MaxUses: 1})
	if err != nil || !strings.HasPrefix(raw, "lki_") || len(raw) != 4+43 {
		t.Fatalf("create: %q %v", raw, err)
	}
	list, _ := s.ListInitialAccessTokens(ctx, "default")
	if len(list) != 1 || string(list[0].Hash) != string(service.HashToken(raw)) {
		t.Fatal("only the hash is stored")
	}
	if _, err := s.ConsumeInitialAccessToken(ctx, "other", raw); !errors.Is(err, service.ErrNotFound) {
		t.Fatal("a token of one workspace must not work in another")
	}
	if _, err := s.ConsumeInitialAccessToken(ctx, "default", raw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeInitialAccessToken(ctx, "default", raw); !errors.Is(err, service.ErrNotFound) {
		t.Fatal("max uses exhausted")
	}
	if err := s.DeleteInitialAccessToken(ctx, "default", tok.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.CreateInitialAccessToken(ctx, "default", service.InitialAccessTokenInput{ExpiresIn: -1, MaxUses: -1})
	fe := fieldErrors(t, err)
	if fe["expires_in"] == "" || fe["max_uses"] == "" {
		t.Fatal(fe)
	}
}
