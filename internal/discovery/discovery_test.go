package discovery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// baseURL is fixed so that the golden documents do not depend on the
// test server's port.
const baseURL = "https://auth.example"

type fixture struct {
	env *grantstest.Env
	h   *discovery.Handler
	mux *http.ServeMux
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := grantstest.New(t)
	env.Workspace(t, "acme", oauth2.AlgES256, storage.WorkspaceSettings{})
	env.Workspace(t, "strict", oauth2.AlgEdDSA, storage.WorkspaceSettings{
		AllowedAuthMethods: []string{oauth2.AuthPrivateKeyJWT, oauth2.AuthClientSecretBasic},
	})
	env.Workspace(t, "secrets-only", oauth2.AlgRS256, storage.WorkspaceSettings{
		AllowedAuthMethods: []string{oauth2.AuthClientSecretPost},
	})
	env.Service(t, "acme", "orders", "https://orders.example/api", "orders:write", "orders:read")
	env.Service(t, "acme", "billing", "https://billing.example", "billing:read")
	dis := env.Workspace(t, "disabled", oauth2.AlgES256, storage.WorkspaceSettings{})
	if _, err := env.Store.UpdateWorkspace(context.Background(), dis.ID, func(w storage.Workspace) (storage.Workspace, error) {
		w.Enabled = false
		return w, nil
	}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{env: env, mux: http.NewServeMux()}
	f.h = &discovery.Handler{Store: env.Store, Keys: env.Keys, BaseURL: baseURL, Logger: env.Logger, GrantTypes: grants.Supported}
	f.h.Mount(f.mux)
	return f
}

func (f *fixture) get(path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

func TestMetadataGolden(t *testing.T) {
	f := newFixture(t)
	for _, ws := range []string{"acme", "strict", "secrets-only"} {
		t.Run(ws, func(t *testing.T) {
			rec := f.get("/w/" + ws + "/.well-known/openid-configuration")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("headers %v", rec.Header())
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, rec.Body.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden(t, filepath.Join("testdata", ws+".golden"), pretty.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs (go test -update to accept):\n got %s\nwant %s", path, got, want)
	}
}

// TestMetadataPaths is J1 and J2: the OIDC and RFC 8414 paths serve the
// identical document whose issuer is the configured one, whatever Host
// and forwarding headers say.
func TestMetadataPaths(t *testing.T) {
	f := newFixture(t)
	oidc := f.get("/w/acme/.well-known/openid-configuration")
	rfc8414 := f.get("/.well-known/oauth-authorization-server/w/acme",
		"Host", "evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "http", "Forwarded", "host=evil.example")
	if oidc.Code != http.StatusOK || !bytes.Equal(oidc.Body.Bytes(), rfc8414.Body.Bytes()) {
		t.Fatalf("documents differ:\n%s\n%s", oidc.Body, rfc8414.Body)
	}
	var md discovery.Metadata
	if err := json.Unmarshal(oidc.Body.Bytes(), &md); err != nil {
		t.Fatal(err)
	}
	if md.Issuer != baseURL+"/w/acme" {
		t.Fatalf("issuer %q", md.Issuer)
	}
}

// TestMetadataMatchesBehaviour is P1: what is advertised comes from the
// same sources that gate the endpoints.
func TestMetadataMatchesBehaviour(t *testing.T) {
	f := newFixture(t)
	ws, err := f.env.Store.GetWorkspace(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	md, err := f.h.Build(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(md.GrantTypesSupported, grants.Supported()) {
		t.Fatalf("grant types %q vs registry %q", md.GrantTypesSupported, grants.Supported())
	}
	// The fixture receives no TLS client certificates, so the RFC 8705
	// methods are not advertised (mtls_test.go covers them).
	noMTLS := slices.DeleteFunc(slices.Clone(oauth2.AllAuthMethods), func(m string) bool {
		return m == oauth2.AuthTLSClient || m == oauth2.AuthSelfSignedTLSClient
	})
	if !slices.Equal(md.TokenEndpointAuthMethodsSupported, noMTLS) {
		t.Fatalf("auth methods %q", md.TokenEndpointAuthMethodsSupported)
	}
	wantAlgs := append(slices.Clone(oauth2.AsymmetricVerifyAlgs), oauth2.HMACVerifyAlgs...)
	if !slices.Equal(md.TokenEndpointAuthSigningAlgValuesSupported, wantAlgs) || slices.Contains(wantAlgs, "none") {
		t.Fatalf("algs %q", md.TokenEndpointAuthSigningAlgValuesSupported)
	}
	wantScopes := []string{"address", "billing:read", "email", "offline_access", "openid", "orders:read", "orders:write", "phone", "profile"}
	if !slices.Equal(md.ScopesSupported, wantScopes) {
		t.Fatalf("scopes %q", md.ScopesSupported)
	}
	noReg := *f.h
	noReg.NoRegistration = true
	if md, _ := noReg.Build(context.Background(), ws); md.RegistrationEndpoint != "" {
		t.Fatal("registration_endpoint advertised with NoRegistration")
	}
}

func TestAuthSigningAlgs(t *testing.T) {
	tests := []struct {
		methods []string
		want    []string
	}{
		{[]string{oauth2.AuthClientSecretBasic, oauth2.AuthNone}, nil},
		{[]string{oauth2.AuthPrivateKeyJWT}, oauth2.AsymmetricVerifyAlgs},
		{[]string{oauth2.AuthClientSecretJWT}, oauth2.HMACVerifyAlgs},
	}
	for _, tc := range tests {
		if got := discovery.AuthSigningAlgs(tc.methods); !slices.Equal(got, tc.want) {
			t.Errorf("AuthSigningAlgs(%q) = %q, want %q", tc.methods, got, tc.want)
		}
	}
}

// TestJWKS covers O6 (no private members), P5 (unique kids) and the
// published next key (P2: active and next are both served).
func TestJWKS(t *testing.T) {
	f := newFixture(t)
	for _, ws := range []string{"acme", "strict", "secrets-only"} {
		t.Run(ws, func(t *testing.T) {
			rec := f.get("/w/" + ws + "/oauth2/jwks")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Content-Type") != "application/jwk-set+json" || rec.Header().Get("Cache-Control") != "public, max-age=300" {
				t.Fatalf("headers %v", rec.Header())
			}
			var set struct {
				Keys []map[string]any `json:"keys"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) < 2 {
				t.Fatalf("%d keys, want active and next", len(set.Keys))
			}
			var kids []string
			for _, k := range set.Keys {
				for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
					if _, ok := k[private]; ok {
						t.Fatalf("private member %q published: %v", private, k)
					}
				}
				kid, _ := k["kid"].(string)
				if kid == "" || slices.Contains(kids, kid) {
					t.Fatalf("missing or duplicate kid %q", kid)
				}
				kids = append(kids, kid)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{
		"/w/nowhere/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server/w/disabled",
		"/w/disabled/oauth2/jwks",
		"/w/UPPER/oauth2/jwks",
	} {
		rec := f.get(path)
		if rec.Code != http.StatusNotFound || !bytes.Contains(rec.Body.Bytes(), []byte(`"invalid_request"`)) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/w/acme/oauth2/jwks", nil)
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks: %d", rec.Code)
	}
}

type failingScopes struct{ discovery.ScopeStore }

func (failingScopes) ListScopes(context.Context, string) ([]storage.ScopeRef, error) {
	return nil, errors.New("injected failure")
}

type failingKeys struct{}

func (failingKeys) JWKS(context.Context, string) ([]byte, error) {
	return nil, errors.New("injected failure")
}

func TestStorageFailure(t *testing.T) {
	f := newFixture(t)
	h := *f.h
	h.Store, h.Keys = failingScopes{f.env.Store}, failingKeys{}
	mux := http.NewServeMux()
	h.Mount(mux)
	for _, path := range []string{"/w/acme/.well-known/openid-configuration", "/w/acme/oauth2/jwks"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusServiceUnavailable || bytes.Contains(rec.Body.Bytes(), []byte("injected")) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
}
