package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStorageFailureAnswers503 (docs/security.md R5): with the database
// gone, the admin API and the console answer 503 with Retry-After, as the
// OAuth endpoints do, never 500; the error text of the driver never
// reaches the wire.
func TestStorageFailureAnswers503(t *testing.T) {
	admin := strings.Repeat("a", 40)
	srv, err := New(t.Context(), testConfig(t, seededDataDir(t), map[string]string{"LATCHKEY_ADMIN_TOKEN": admin}), nil, WithStderr(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + admin
	tests := []struct {
		name, method, path, contentType, body, auth, cookie string
		wantError                                           string // JSON error code; "" for an HTML page
	}{
		{name: "admin list", method: "GET", path: "/admin/v1/workspaces", auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin get", method: "GET", path: "/admin/v1/workspaces/default/clients/abc", auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin create", method: "POST", path: "/admin/v1/workspaces/default/clients", contentType: "application/json",
			body: `{"name":"svc","type":"confidential","grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`,
			auth: bearer, wantError: "temporarily_unavailable"},
		{name: "admin delete", method: "DELETE", path: "/admin/v1/workspaces/default/clients/abc", auth: bearer, wantError: "temporarily_unavailable"},
		// A token that is not the configured one must be looked up in the
		// database: its failure is 503, not 401 charged to the caller.
		{name: "admin stored-token lookup", method: "GET", path: "/admin/v1/workspaces", auth: "Bearer " + strings.Repeat("b", 40), wantError: "temporarily_unavailable"},
		{name: "console page of a signed-in admin", method: "GET", path: "/console/w/default/clients", cookie: "latchkey_console=" + strings.Repeat("s", 43)},
		{name: "token endpoint, for comparison", method: "POST", path: "/w/default/oauth2/token", contentType: "application/x-www-form-urlencoded",
			body: "grant_type=client_credentials&client_id=abc&client_secret=x", wantError: "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503: %s", rec.Code, body)
			}
			if strings.Contains(body, "sql") {
				t.Fatalf("driver text on the wire: %s", body)
			}
			if tt.wantError == "" {
				if !strings.Contains(body, "temporarily unavailable") || rec.Header().Get("Retry-After") == "" {
					t.Fatalf("console page: Retry-After %q, body %s", rec.Header().Get("Retry-After"), body)
				}
				return
			}
			var doc struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Error != tt.wantError || doc.Description == "" {
				t.Fatalf("body %s, want error %q with a description", body, tt.wantError)
			}
			if rec.Header().Get("Retry-After") != retryAfterAdmin {
				t.Fatalf("Retry-After %q, want %q (the OAuth endpoints and the admin API agree)", rec.Header().Get("Retry-After"), retryAfterAdmin)
			}
		})
	}
}

// retryAfterAdmin is the Retry-After the admin API sends on a storage
// failure.
const retryAfterAdmin = "2"

// TestRequestDeadlines (docs/security.md R6): every request's context
// carries the deadline of its kind, so every storage call under it does.
func TestRequestDeadlines(t *testing.T) {
	var logs bytes.Buffer
	seen := map[string]time.Time{}
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			d, ok := r.Context().Deadline()
			if !ok {
				d = time.Time{}
			}
			seen[r.URL.Path] = d
		})
	}).(*middleware)
	h.deadlines = requestDeadlines{admin: AdminRequestDeadline, protocol: ProtocolRequestDeadline}
	tests := []struct {
		path string
		want time.Duration
	}{
		{"/admin/v1/workspaces", AdminRequestDeadline},
		{"/console", AdminRequestDeadline},
		{"/console/w/default/clients", AdminRequestDeadline},
		{"/consolex", ProtocolRequestDeadline},
		{"/w/default/oauth2/token", ProtocolRequestDeadline},
		{"/w/default/authorize", ProtocolRequestDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			got := seen[tt.path]
			if got.Before(before.Add(tt.want)) || got.After(time.Now().Add(tt.want)) {
				t.Fatalf("deadline %v from the start of the request, want %v", got.Sub(before), tt.want)
			}
		})
	}
}
