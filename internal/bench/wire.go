package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// wireClient sends the timed requests of a run: form POSTs over HTTP/1.1
// keep-alive connections, one request at a time per connection, as a load
// generator such as wrk does.
//
// It exists because the load generator shares the machine with the server:
// measured on the 2-core machine, net/http's client spent about 85 µs of
// CPU per request (its transport hands every request to a writer and a
// reader goroutine), nearly a tenth of an RS256 token, and that CPU is taken
// from the server being measured. This client writes the request and reads
// the answer on the caller's goroutine. It understands exactly what the
// benchmarked endpoints answer (a status line, headers, a Content-Length
// body); anything else (a chunked body, an oversized one) is an error, so it
// counts as a failure and never as a success. TLS is crypto/tls.
type wireClient struct {
	addr    string      // host:port to dial
	host    string      // Host header
	tls     *tls.Config // nil: plain HTTP
	idle    chan *wireConn
	timeout time.Duration // per request, like http.Client.Timeout
}

// maxWireBody bounds a response body; token responses are a few KiB.
const maxWireBody = 1 << 20

type wireConn struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte // reused request buffer
	buf []byte // reused body buffer
}

// newWireClient returns a client for the server of base (an http or https
// URL) keeping up to maxIdle connections.
func newWireClient(base string, maxIdle int, timeout time.Duration) (*wireClient, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("bench: server URL: %w", err)
	}
	w := &wireClient{host: u.Host, idle: make(chan *wireConn, max(maxIdle, 1)), timeout: timeout}
	port := u.Port()
	switch u.Scheme {
	case "http":
		port = cmpOr(port, "80")
	case "https":
		port = cmpOr(port, "443")
		w.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("bench: server URL %q: scheme must be http or https", base)
	}
	w.addr = net.JoinHostPort(u.Hostname(), port)
	return w, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// post sends one form POST to path with the given extra header lines
// (each ending in "\r\n") and passes the body of a 200 answer to check. The
// body is only valid during check.
func (w *wireClient) post(ctx context.Context, path, headers, form string, check func(body []byte) error) error {
	if runEnded(ctx) {
		return context.DeadlineExceeded
	}
	wc, err := w.conn(ctx)
	if err != nil {
		return err
	}
	status, body, keep, err := wc.roundTrip(ctx, w, path, headers, form)
	if err != nil {
		wc.c.Close()
		if runEnded(ctx) {
			return context.DeadlineExceeded // the run ended mid-request
		}
		return err
	}
	if status != 200 {
		err = fmt.Errorf("bench: %s answered %d: %.200s", path, status, body)
	} else if check != nil {
		err = check(body)
	}
	w.release(wc, keep)
	return err
}

// runEnded reports whether ctx is done or its deadline has passed: the
// connection deadline (set from ctx's) can fire a moment before ctx's own
// timer marks it done, and that timeout is the end of the run, not a
// failed request.
func runEnded(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// conn takes an idle connection or dials a new one.
func (w *wireClient) conn(ctx context.Context) (*wireConn, error) {
	select {
	case wc := <-w.idle:
		return wc, nil
	default:
	}
	d := net.Dialer{Timeout: w.timeout}
	c, err := d.DialContext(ctx, "tcp", w.addr)
	if err != nil {
		return nil, err
	}
	if w.tls != nil {
		tc := tls.Client(c, w.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	return &wireConn{c: c, br: bufio.NewReaderSize(c, 16<<10)}, nil
}

func (w *wireClient) release(wc *wireConn, keep bool) {
	if keep {
		select {
		case w.idle <- wc:
			return
		default:
		}
	}
	wc.c.Close()
}

// close closes the idle connections.
func (w *wireClient) close() {
	for {
		select {
		case wc := <-w.idle:
			wc.c.Close()
		default:
			return
		}
	}
}

func (wc *wireConn) roundTrip(ctx context.Context, w *wireClient, path, headers, form string) (status int, body []byte, keep bool, err error) {
	deadline := time.Now().Add(w.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := wc.c.SetDeadline(deadline); err != nil {
		return 0, nil, false, err
	}
	r := append(wc.req[:0], "POST "...)
	r = append(r, path...)
	r = append(r, " HTTP/1.1\r\nHost: "...)
	r = append(r, w.host...)
	r = append(r, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
	r = strconv.AppendInt(r, int64(len(form)), 10)
	r = append(r, "\r\n"...)
	r = append(r, headers...)
	r = append(r, "\r\n"...)
	r = append(r, form...)
	wc.req = r
	if _, err := wc.c.Write(r); err != nil {
		return 0, nil, false, err
	}
	return wc.readResponse()
}

// readResponse reads one HTTP/1.1 response with a Content-Length body.
func (wc *wireConn) readResponse() (status int, body []byte, keep bool, err error) {
	line, err := wc.readLine()
	if err != nil {
		return 0, nil, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, false, fmt.Errorf("bench: malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, fmt.Errorf("bench: malformed status line %q", line)
	}
	length, keep := -1, true
	for {
		line, err := wc.readLine()
		if err != nil {
			return 0, nil, false, err
		}
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, false, fmt.Errorf("bench: malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxWireBody {
				return 0, nil, false, fmt.Errorf("bench: unusable Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, nil, false, fmt.Errorf("bench: Transfer-Encoding %q is not supported by the load generator", value)
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
	if length < 0 {
		return 0, nil, false, errors.New("bench: response without Content-Length")
	}
	if cap(wc.buf) < length {
		wc.buf = make([]byte, length)
	}
	body = wc.buf[:length]
	if _, err := io.ReadFull(wc.br, body); err != nil {
		return 0, nil, false, err
	}
	return status, body, keep, nil
}

// readLine returns one header line without its CRLF.
func (wc *wireConn) readLine() ([]byte, error) {
	line, err := wc.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("bench: response header line too long")
		}
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")), nil
}
