package server

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOversizedHeadersAndSlowClients is SECURITY.md M4: a request whose
// headers pass MaxHeaderBytes gets 431 from a real listener, and the server
// bounds how long a client may take to send its headers and body, so a
// slowloris client cannot hold connections open indefinitely.
func TestOversizedHeadersAndSlowClients(t *testing.T) {
	t.Parallel() // mostly net/http's wait before closing a refused connection
	r := start(t, testConfig(t, seededDataDir(t), nil))
	conn, err := net.DialTimeout("tcp", r.srv.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	huge := strings.Repeat("a", 1<<20)
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n")); err != nil {
		// The server may close the connection before the whole header is
		// written; the answer is still readable below.
		t.Logf("write: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a 1 MiB header: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
	h := r.srv.http
	if h.ReadHeaderTimeout <= 0 || h.ReadHeaderTimeout > 10*time.Second || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 ||
		h.IdleTimeout <= 0 || h.MaxHeaderBytes > 64<<10 {
		t.Fatalf("HTTP server limits: header timeout %v, read %v, write %v, idle %v, max header bytes %d",
			h.ReadHeaderTimeout, h.ReadTimeout, h.WriteTimeout, h.IdleTimeout, h.MaxHeaderBytes)
	}
}
