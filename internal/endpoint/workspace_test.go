package endpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// fakeWorkspaces answers GetWorkspace from a map; "broken" fails as an
// unreachable database does, and every lookup is counted.
type fakeWorkspaces struct {
	ws      map[string]storage.Workspace
	lookups int
}

func (f *fakeWorkspaces) GetWorkspace(_ context.Context, id string) (storage.Workspace, error) {
	f.lookups++
	if id == "broken" {
		return storage.Workspace{}, fmt.Errorf("sqlstore: get workspace: %w: dial tcp: connection refused", storage.ErrUnavailable)
	}
	ws, ok := f.ws[id]
	if !ok {
		return storage.Workspace{}, storage.ErrNotFound
	}
	return ws, nil
}

func newFakeWorkspaces() *fakeWorkspaces {
	return &fakeWorkspaces{ws: map[string]storage.Workspace{
		"acme":     {ID: "acme", Enabled: true},
		"disabled": {ID: "disabled", Enabled: false},
	}}
}

// TestResolve: the ID pattern, the lookup, unknown and disabled
// workspaces and storage failures, through both error writers; the
// handler runs only for an enabled workspace and reads it and its issuer
// from the context.
func TestResolve(t *testing.T) {
	const base = "https://auth.example"
	tests := []struct {
		name, ws      string
		status        int
		wantLookup    bool
		jsonError     string // the JSON surface's error code ("" when served)
		pageHasRetry  bool   // the page surface sends Retry-After
		pageHasPage   bool   // the page surface renders the error page
		logLevel      string // level of the one log line ("" for none)
		handlerCalled bool
	}{
		{name: "enabled", ws: "acme", status: 200, wantLookup: true, handlerCalled: true},
		{name: "unknown", ws: "nowhere", status: 404, wantLookup: true, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "disabled", ws: "disabled", status: 404, wantLookup: true, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "upper case", ws: "ACME", status: 404, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "leading dash", ws: "-acme", status: 404, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "too long", ws: strings.Repeat("a", 64), status: 404, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "dot", ws: "a.b", status: 404, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "dots", ws: "%2E%2E", status: 404, jsonError: "invalid_request", logLevel: "DEBUG"},
		{name: "storage failure", ws: "broken", status: 503, wantLookup: true, jsonError: "temporarily_unavailable",
			pageHasRetry: true, pageHasPage: true, logLevel: "WARN"},
	}
	surfaces := map[string]ErrorWriter{"json": WriteJSONError, "page": PageErrors(base, nil)}
	for _, tt := range tests {
		for surface, writer := range surfaces {
			t.Run(tt.name+"/"+surface, func(t *testing.T) {
				store := newFakeWorkspaces()
				var logs bytes.Buffer
				var got storage.Workspace
				var issuer string
				called := false
				h := Workspaces{Store: store, BaseURL: base, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
				mux := http.NewServeMux()
				mux.Handle("GET /w/{ws}/x", h.Resolve(func(w http.ResponseWriter, r *http.Request) {
					called = true
					got, _ = WorkspaceFromContext(r.Context())
					issuer = IssuerFromContext(r.Context())
				}, writer))
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/w/"+tt.ws+"/x", nil))

				if rec.Code != tt.status || called != tt.handlerCalled || (store.lookups > 0) != tt.wantLookup {
					t.Fatalf("status %d, handler called %v, lookups %d; want %d, %v, lookup %v",
						rec.Code, called, store.lookups, tt.status, tt.handlerCalled, tt.wantLookup)
				}
				if called && (got.ID != tt.ws || issuer != base+"/w/"+tt.ws) {
					t.Fatalf("handler saw workspace %q issuer %q", got.ID, issuer)
				}
				checkLog(t, logs.String(), tt.logLevel)
				if called {
					return
				}
				body := rec.Body.String()
				if strings.Contains(body, "connection refused") || strings.Contains(body, "sqlstore") {
					t.Fatalf("storage text on the wire: %s", body)
				}
				switch surface {
				case "json":
					checkJSONError(t, rec, tt.jsonError)
				case "page":
					checkPageError(t, rec, tt.pageHasPage, tt.pageHasRetry)
				}
			})
		}
	}
}

// checkLog wants exactly one log line at level, or none when level is "".
func checkLog(t *testing.T, logs, level string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if level == "" {
		if logs != "" {
			t.Fatalf("unexpected log: %s", logs)
		}
		return
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"level":"`+level+`"`) {
		t.Fatalf("want one %s line, got %s", level, logs)
	}
}

func checkJSONError(t *testing.T, rec *httptest.ResponseRecorder, code string) {
	t.Helper()
	var doc struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Error != code || doc.Description == "" {
		t.Fatalf("body %s, want error %q with a description", rec.Body, code)
	}
	if rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("headers %v", rec.Header())
	}
	if retry := rec.Header().Get("Retry-After"); (rec.Code == http.StatusServiceUnavailable) != (retry != "") {
		t.Fatalf("status %d with Retry-After %q", rec.Code, retry)
	}
}

func checkPageError(t *testing.T, rec *httptest.ResponseRecorder, page, retry bool) {
	t.Helper()
	if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page headers missing: %v", rec.Header())
	}
	if got := rec.Header().Get("Retry-After") != ""; got != retry {
		t.Fatalf("Retry-After %q, want present %v", rec.Header().Get("Retry-After"), retry)
	}
	isPage := strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") &&
		strings.Contains(rec.Body.String(), `id="error"`)
	if isPage != page {
		t.Fatalf("error page %v, want %v: %s", isPage, page, rec.Body)
	}
	if page && !strings.Contains(rec.Body.String(), "temporarily_unavailable") {
		t.Fatalf("page lacks the error code: %s", rec.Body)
	}
}

func TestWorkspaceFromContextOutsideResolve(t *testing.T) {
	if _, ok := WorkspaceFromContext(context.Background()); ok {
		t.Fatal("workspace found in a bare context")
	}
	if IssuerFromContext(context.Background()) != "" {
		t.Fatal("issuer found in a bare context")
	}
}

func TestLookupWorkspaceErrors(t *testing.T) {
	store := newFakeWorkspaces()
	for id, want := range map[string]int{"nowhere": 404, "disabled": 404, "UPPER": 404, "broken": 503} {
		_, err := LookupWorkspace(context.Background(), store, id)
		if e := oauth2.AsError(err); e.HTTPStatus() != want {
			t.Errorf("%s: %v, want status %d", id, err, want)
		}
	}
	if _, err := LookupWorkspace(context.Background(), store, "broken"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("the cause of a storage failure is lost: %v", err)
	}
}
