package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/metrics"
)

// newTestMiddleware wraps routes in the server middleware, logging to buf.
func newTestMiddleware(t *testing.T, buf *bytes.Buffer, routes func(*http.ServeMux)) http.Handler {
	t.Helper()
	mux := http.NewServeMux()
	routes(mux)
	return &middleware{next: mux, logger: slog.New(slog.NewJSONHandler(buf, nil)), metrics: metrics.New()}
}

func TestRequestIDAndSecurityHeaders(t *testing.T) {
	var logs bytes.Buffer
	var seen string
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) { seen = RequestID(r) })
	})
	tests := []struct {
		name, given string
		keep        bool
	}{
		{"kept when safe", "abc-123_x.y:z", true},
		{"generated when absent", "", false},
		{"replaced when too long", strings.Repeat("a", 129), false},
		{"kept at max length", strings.Repeat("a", 128), true},
		{"replaced when unsafe (log injection)", "a\nlevel=error", false},
		{"replaced when it has spaces", "a b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/x", nil)
			if tt.given != "" {
				req.Header.Set("X-Request-Id", tt.given)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if got == "" || got != seen {
				t.Fatalf("response id %q, handler saw %q", got, seen)
			}
			if (got == tt.given) != tt.keep {
				t.Fatalf("id %q for given %q, keep=%v", got, tt.given, tt.keep)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("security headers missing: %v", rec.Header())
			}
		})
	}
}

// TestAccessLogHasNoSecrets (SECURITY.md Q6): the access log carries the
// route pattern, never the raw path, query string, body or Authorization.
func TestAccessLogHasNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("POST /w/{ws}/oauth2/token", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusTeapot)
		})
	})
	req := httptest.NewRequest("POST", "/w/secret-ws/oauth2/token?client_secret=QUERYSECRET",
		strings.NewReader("client_secret=BODYSECRET"))
	req.Header.Set("Authorization", "Basic QVVUSFNFQ1JFVA==")
	req.Header.Set("X-Request-Id", "rid-1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	line := logs.String()
	for _, secret := range []string{"QUERYSECRET", "BODYSECRET", "QVVUSFNFQ1JFVA", "secret-ws"} {
		if strings.Contains(line, secret) {
			t.Errorf("access log contains %q: %s", secret, line)
		}
	}
	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log is not one JSON line: %v\n%s", err, line)
	}
	want := map[string]any{"msg": "http request", "method": "POST", "route": "/w/{ws}/oauth2/token", "status": float64(418), "request_id": "rid-1"}
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("log %s = %v, want %v", k, entry[k], v)
		}
	}
	if _, ok := entry["duration"]; !ok {
		t.Error("log has no duration")
	}
}

// TestPanicRecovery: a panicking handler yields a JSON 500 server_error
// with no panic value or stack on the wire; the panic is logged.
func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	assertServerError(t, rec.Code, rec.Header(), rec.Body.String())
	if !strings.Contains(logs.String(), "handler panic") || !strings.Contains(logs.String(), "secret internal detail") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func assertServerError(t *testing.T, code int, h http.Header, body string) {
	t.Helper()
	if code != http.StatusInternalServerError || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d content-type %q", code, h.Get("Content-Type"))
	}
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != "server_error" {
		t.Fatalf("body %q is not a server_error JSON", body)
	}
	for _, leak := range []string{"secret internal detail", "goroutine", ".go:", "panic"} {
		if strings.Contains(body, leak) {
			t.Fatalf("response leaks %q: %s", leak, body)
		}
	}
}

func TestAbortHandlerPanicPropagates(t *testing.T) {
	var logs bytes.Buffer
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("GET /abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	})
	defer func() {
		if p := recover(); p != http.ErrAbortHandler { //nolint:errorlint
			t.Fatalf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/abort", nil))
}

// TestBodyCap (SECURITY.md M1): a declared oversized body is refused with
// 413 before the handler runs; an undeclared (chunked) one fails on read.
func TestBodyCap(t *testing.T) {
	var logs bytes.Buffer
	var handlerRan bool
	var readErr error
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		read := func(w http.ResponseWriter, r *http.Request) {
			handlerRan = true
			_, readErr = io.ReadAll(r.Body)
		}
		mux.HandleFunc("POST /w/{ws}/oauth2/token", read)
		mux.HandleFunc("POST /admin/v1/x", read)
	})
	tests := []struct {
		name     string
		path     string
		size     int
		chunked  bool
		wantCode int
		wantRan  bool
		wantErr  bool
	}{
		{"protocol 1MiB declared", "/w/default/oauth2/token", 1 << 20, false, 413, false, false},
		{"protocol just over cap", "/w/default/oauth2/token", MaxProtocolBody + 1, false, 413, false, false},
		{"protocol at cap", "/w/default/oauth2/token", MaxProtocolBody, false, 200, true, false},
		{"protocol 1MiB chunked", "/w/default/oauth2/token", 1 << 20, true, 200, true, true},
		{"admin 512KiB allowed", "/admin/v1/x", 512 << 10, false, 200, true, false},
		{"admin over 1MiB", "/admin/v1/x", MaxAdminBody + 1, false, 413, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			handlerRan, readErr = false, nil
			req := httptest.NewRequest("POST", tt.path, bytes.NewReader(make([]byte, tt.size)))
			if tt.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || handlerRan != tt.wantRan || (readErr != nil) != tt.wantErr {
				t.Fatalf("code %d ran %v readErr %v", rec.Code, handlerRan, readErr)
			}
			// The protocol endpoints' invalid_request, the admin API's own
			// request_too_large (as when it finds an undeclared body too large).
			want := `"invalid_request"`
			if strings.HasPrefix(tt.path, adminPrefix) {
				want = `"request_too_large"`
			}
			if tt.wantCode == 413 && !strings.Contains(rec.Body.String(), want) {
				t.Fatalf("413 body %q", rec.Body.String())
			}
		})
	}
}

func TestRouteOf(t *testing.T) {
	for in, want := range map[string]string{"POST /w/{ws}/oauth2/token": "/w/{ws}/oauth2/token", "/healthz": "/healthz", "": ""} {
		if got := routeOf(in); got != want {
			t.Errorf("routeOf(%q) = %q", in, got)
		}
	}
}

// TestOneAuthorizationHeader: two Authorization header fields are
// refused before any handler runs (RFC 9110 §5.3: a singleton field), on
// every route; one, or none, reaches the handler.
func TestOneAuthorizationHeader(t *testing.T) {
	var logs bytes.Buffer
	reached := 0
	h := newTestMiddleware(t, &logs, func(mux *http.ServeMux) {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { reached++ })
	})
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"none", nil, http.StatusOK},
		{"one", []string{"Basic YTpi"}, http.StatusOK},
		{"two different", []string{"Basic YTpi", "Basic Yzpk"}, http.StatusBadRequest},
		{"two equal", []string{"Bearer x", "Bearer x"}, http.StatusBadRequest},
	} {
		for _, path := range []string{"/w/acme/oauth2/token", "/w/acme/oauth2/userinfo", "/admin/v1/workspaces"} {
			before := reached
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("grant_type=client_credentials"))
			for _, v := range tc.headers {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.name, path, rec.Code, tc.want, rec.Body)
			}
			if tc.want == http.StatusBadRequest {
				if reached != before || !strings.Contains(rec.Body.String(), `"error":"invalid_request"`) ||
					!strings.Contains(rec.Body.String(), "more than one Authorization header") {
					t.Fatalf("%s %s: reached the handler or wrong body: %s", tc.name, path, rec.Body)
				}
			}
		}
	}
}
