package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/authorize"
	"github.com/latchkey/latchkey/internal/dcr"
	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/introspect"
	"github.com/latchkey/latchkey/internal/login"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
)

// resolutionStore knows "acme"; "disabled" is disabled; "broken" fails
// as an unreachable database does. No other method is reached: a request
// whose workspace does not resolve never gets to its handler.
type resolutionStore struct{ storage.Storage }

func (resolutionStore) GetWorkspace(_ context.Context, id string) (storage.Workspace, error) {
	switch id {
	case "acme":
		return storage.Workspace{ID: id, Enabled: true}, nil
	case "disabled":
		return storage.Workspace{ID: id}, nil
	case "broken":
		return storage.Workspace{}, fmt.Errorf("sqlstore: get workspace: %w: dial tcp: connection refused", storage.ErrUnavailable)
	}
	return storage.Workspace{}, storage.ErrNotFound
}

// TestWorkspaceResolutionPerSurface (docs/architecture.md, the endpoint
// layer; docs/security.md R5): on every /w/{ws}/ surface a workspace ID
// outside the pattern, an unknown and a disabled workspace answer 404 in
// the surface's format (JSON for the protocol endpoints, a plain 404 with
// the page headers for the browser pages), and a storage failure answers
// 503 with Retry-After, never 500 and never the driver's text.
func TestWorkspaceResolutionPerSurface(t *testing.T) {
	const base = "https://auth.example"
	store := resolutionStore{}
	logger := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	(&grants.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&introspect.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&dcr.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&discovery.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&authorize.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&login.Handler{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&oidc.UserInfo{Store: store, BaseURL: base, Logger: logger}).Mount(mux)
	(&oidc.Logout{Store: store, BaseURL: base, Logger: logger}).Mount(mux)

	surfaces := []struct {
		name, method, path string
		page               bool
	}{
		{"token", "POST", "/w/{ws}/oauth2/token", false},
		{"introspect", "POST", "/w/{ws}/oauth2/introspect", false},
		{"revoke", "POST", "/w/{ws}/oauth2/revoke", false},
		{"dcr register", "POST", "/w/{ws}/oauth2/register", false},
		{"dcr read", "GET", "/w/{ws}/oauth2/register/some-client", false},
		{"dcr delete", "DELETE", "/w/{ws}/oauth2/register/some-client", false},
		{"discovery", "GET", "/w/{ws}/.well-known/openid-configuration", false},
		{"discovery RFC 8414", "GET", "/.well-known/oauth-authorization-server/w/{ws}", false},
		{"jwks", "GET", "/w/{ws}/oauth2/jwks", false},
		{"userinfo", "GET", "/w/{ws}/oauth2/userinfo", false},
		{"authorize", "GET", "/w/{ws}/oauth2/authorize?client_id=app", true},
		{"authorize POST", "POST", "/w/{ws}/oauth2/authorize", true},
		{"consent", "GET", "/w/{ws}/consent?request_id=x", true},
		{"login", "GET", "/w/{ws}/login", true},
		{"login POST", "POST", "/w/{ws}/login", true},
		{"account", "GET", "/w/{ws}/account", true},
		{"set password", "GET", "/w/{ws}/password/set", true},
		{"logout", "GET", "/w/{ws}/oauth2/logout", true},
	}
	cases := []struct {
		name, ws string
		status   int
		code     string
	}{
		{"ID pattern", "Not_A-Workspace", http.StatusNotFound, "invalid_request"},
		{"ID too long", strings.Repeat("a", 64), http.StatusNotFound, "invalid_request"},
		{"unknown", "nowhere", http.StatusNotFound, "invalid_request"},
		{"disabled", "disabled", http.StatusNotFound, "invalid_request"},
		{"storage failure", "broken", http.StatusServiceUnavailable, "temporarily_unavailable"},
	}
	for _, s := range surfaces {
		for _, c := range cases {
			t.Run(s.name+"/"+c.name, func(t *testing.T) {
				target := strings.Replace(s.path, "{ws}", url.PathEscape(c.ws), 1)
				req := httptest.NewRequest(s.method, target, strings.NewReader("grant_type=client_credentials"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				body := rec.Body.String()
				if rec.Code != c.status {
					t.Fatalf("status %d, want %d: %s", rec.Code, c.status, body)
				}
				if strings.Contains(body, "connection refused") || strings.Contains(body, "sqlstore") {
					t.Fatalf("storage text on the wire: %s", body)
				}
				if retry := rec.Header().Get("Retry-After"); (c.status == http.StatusServiceUnavailable) != (retry != "") {
					t.Fatalf("status %d with Retry-After %q", rec.Code, retry)
				}
				if s.page {
					checkResolutionPage(t, rec, c.code)
					return
				}
				var doc struct {
					Error       string `json:"error"`
					Description string `json:"error_description"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Error != c.code || doc.Description == "" {
					t.Fatalf("body %s, want JSON error %q with a description", body, c.code)
				}
			})
		}
	}
}

// checkResolutionPage: a browser page answers 404 as for any unknown page
// and 503 with the error page, both with the page security headers.
func checkResolutionPage(t *testing.T, rec *httptest.ResponseRecorder, code string) {
	t.Helper()
	if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page headers missing: %v", rec.Header())
	}
	if rec.Code == http.StatusNotFound {
		if !strings.Contains(rec.Body.String(), "404 page not found") {
			t.Fatalf("404 body %q", rec.Body)
		}
		return
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), code) {
		t.Fatalf("error page without %s: %s", code, rec.Body)
	}
}

// TestCanceledRequestIsNoStorageError: a request whose client went away
// before its storage calls ran is logged without any ERROR line, leaves
// latchkey_storage_errors_total alone and is counted in
// latchkey_http_requests_canceled_total (the end of a benchmark run
// cancels dozens of requests at once).
func TestCanceledRequestIsNoStorageError(t *testing.T) {
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(t.Context(), testConfig(t, t.TempDir(), nil), logger, WithStderr(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	h := srv.Handler()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, target := range []string{"/w/default/oauth2/token", "/w/default/oauth2/introspect"} {
		req := httptest.NewRequest("POST", target, strings.NewReader("grant_type=client_credentials&token=x")).WithContext(ctx)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("no-such-client", "secret")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}

	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("ERROR line for a canceled request: %s", line)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		"latchkey_storage_errors_total 0\n",
		`latchkey_http_requests_canceled_total{endpoint="/w/{ws}/oauth2/token"} 1`,
		`latchkey_http_requests_canceled_total{endpoint="/w/{ws}/oauth2/introspect"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
