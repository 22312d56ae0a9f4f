package bench

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wireServer answers /ok with the request it saw, and the other paths as
// their names say, counting the connections it accepted.
func wireServer(t *testing.T, tlsServer bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ok", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, r.Header.Get("Authorization")+"|"+r.Header.Get("Content-Type")+"|"+string(body))
	})
	mux.HandleFunc("POST /denied", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
	})
	mux.HandleFunc("POST /chunked", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "part one")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "part two")
	})
	mux.HandleFunc("POST /close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tlsServer {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

func newTestWire(t *testing.T, srv *httptest.Server) *wireClient {
	t.Helper()
	w, err := newWireClient(srv.URL, 4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if w.tls != nil {
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		w.tls.RootCAs = roots
	}
	t.Cleanup(w.close)
	return w
}

func TestWireClientPostsFormsOverOneConnection(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			srv, conns := wireServer(t, useTLS)
			w := newTestWire(t, srv)
			for i := range 3 {
				var got string
				err := w.post(t.Context(), "/ok", "Authorization: Basic YTpi\r\n", "grant_type=client_credentials", func(body []byte) error {
					got = string(body)
					return nil
				})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if want := "Basic YTpi|application/x-www-form-urlencoded|grant_type=client_credentials"; got != want {
					t.Fatalf("server saw %q, want %q", got, want)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections for 3 sequential requests, want 1 (keep-alive)", n)
			}
		})
	}
}

func TestWireClientFailures(t *testing.T) {
	srv, _ := wireServer(t, false)
	w := newTestWire(t, srv)
	tests := []struct {
		path, want string
	}{
		{"/denied", "answered 401"},
		{"/chunked", "Transfer-Encoding"},
		{"/missing", "answered 404"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			err := w.post(t.Context(), tc.path, "", "x=1", nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("post %s: %v, want an error containing %q", tc.path, err, tc.want)
			}
		})
	}
	t.Run("check refuses the body", func(t *testing.T) {
		errBody := errors.New("not active")
		if err := w.post(t.Context(), "/ok", "", "x=1", func([]byte) error { return errBody }); !errors.Is(err, errBody) {
			t.Fatalf("post: %v, want the check's error", err)
		}
	})
}

func TestWireClientHonoursConnectionClose(t *testing.T) {
	srv, conns := wireServer(t, false)
	w := newTestWire(t, srv)
	for i := range 2 {
		if err := w.post(t.Context(), "/close", "", "", nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2: a closed connection must not be reused", n)
	}
}

// The end of a run is not a failure: a request whose context deadline has
// passed reports context.DeadlineExceeded, which Load.Run does not count.
func TestWireClientRunEnd(t *testing.T) {
	srv, _ := wireServer(t, false)
	w := newTestWire(t, srv)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Millisecond))
	defer cancel()
	if err := w.post(ctx, "/ok", "", "", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("post after the deadline: %v, want context.DeadlineExceeded", err)
	}
	res := Load{Concurrency: 2, Duration: 500 * time.Millisecond, Do: func(ctx context.Context) error {
		return w.post(ctx, "/ok", "", "x=1", nil)
	}}.Run(t.Context())
	if res.Failures != 0 || res.Requests == 0 {
		t.Fatalf("run: %d requests, %d failures (first: %v); want requests and no failure", res.Requests, res.Failures, res.FirstErr)
	}
}

func TestNewWireClientRefusesOtherSchemes(t *testing.T) {
	if _, err := newWireClient("ftp://example.com", 1, time.Second); err == nil {
		t.Fatal("ftp URL accepted")
	}
}
