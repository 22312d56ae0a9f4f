package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/config"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

var adminTokenRe = regexp.MustCompile(`lka_[A-Za-z0-9_-]{43}`)

// testConfig resolves a configuration on a fresh data directory, listening
// on a free loopback port; env adds LATCHKEY_* variables.
func testConfig(t testing.TB, dataDir string, env map[string]string) config.Resolved {
	t.Helper()
	cfg, err := config.Load(config.Options{
		Flags:     map[string]string{"listen": "127.0.0.1:0", "data-dir": dataDir},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		HomeDir:   func() (string, error) { return dataDir, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RotationCheckInterval = time.Hour // keep the scheduler quiet in tests
	return cfg
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	srv    *Server
	stderr *syncBuffer
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start builds and runs a server; it is stopped at the end of the test.
func start(t testing.TB, cfg config.Resolved, opts ...Option) *running {
	t.Helper()
	r := &running{stderr: &syncBuffer{}, logs: &syncBuffer{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewJSONHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(t.Context(), cfg, logger, append([]Option{WithStderr(r.stderr)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	r.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- srv.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(30 * time.Second):
			r.err = errors.New("server did not stop")
		}
	})
	if r.err != nil {
		t.Errorf("Run: %v", r.err)
	}
}

func (r *running) url(path string) string { return "http://" + r.srv.Addr() + path }

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestFirstStartArtifacts: master key file 0600, default workspace with
// keys, bootstrap admin token printed once and stored only as a hash.
func TestFirstStartArtifacts(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, nil)
	r := start(t, cfg)

	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("master key file mode %v, want 0600", fi.Mode().Perm())
	}
	ws, err := r.srv.store.GetWorkspace(t.Context(), "default")
	if err != nil || !ws.Enabled {
		t.Fatalf("default workspace: %+v, %v", ws, err)
	}
	if _, err := r.srv.keys.Signer(t.Context(), "default"); err != nil {
		t.Fatalf("default workspace has no signer: %v", err)
	}

	out := r.stderr.String()
	tokens := adminTokenRe.FindAllString(out, -1)
	if len(tokens) != 1 {
		t.Fatalf("want the bootstrap token printed exactly once, stderr:\n%s", out)
	}
	stored, err := r.srv.store.ListAdminTokens(t.Context())
	if err != nil || len(stored) != 1 {
		t.Fatalf("admin tokens: %v, %v", stored, err)
	}
	sum := sha256.Sum256([]byte(tokens[0]))
	if !bytes.Equal(stored[0].Hash, sum[:]) {
		t.Error("stored admin token is not the SHA-256 of the printed one")
	}
	assertAdminAccess(t, r, tokens[0], http.StatusOK)
	assertAdminAccess(t, r, tokens[0]+"x", http.StatusUnauthorized)
	if strings.Contains(r.logs.String(), tokens[0]) {
		t.Error("bootstrap token appears in the logs (SECURITY.md Q6)")
	}
	r.stop(t)
	assertNotInFiles(t, dir, tokens[0])

	// Second start on the same data: nothing printed, nothing new stored.
	r2 := start(t, cfg)
	if adminTokenRe.MatchString(r2.stderr.String()) {
		t.Fatalf("token printed again on second start:\n%s", r2.stderr.String())
	}
	if stored, _ := r2.srv.store.ListAdminTokens(t.Context()); len(stored) != 1 {
		t.Fatalf("second start stored %d admin tokens", len(stored))
	}
}

// assertNotInFiles checks that secret does not appear in any file under dir
// (the database stores only its hash).
func assertNotInFiles(t *testing.T, dir, secret string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, rerr := os.ReadFile(p)
		if rerr == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the admin token in clear", p)
		}
		return nil
	})
}

func TestConfiguredAdminTokenSuppressesBootstrap(t *testing.T) {
	dir := t.TempDir()
	r := start(t, testConfig(t, dir, map[string]string{"LATCHKEY_ADMIN_TOKEN": strings.Repeat("t", 40)}))
	if adminTokenRe.MatchString(r.stderr.String()) {
		t.Fatal("a token was generated although LATCHKEY_ADMIN_TOKEN is set")
	}
	if stored, _ := r.srv.store.ListAdminTokens(t.Context()); len(stored) != 0 {
		t.Fatalf("stored %d admin tokens", len(stored))
	}
	assertAdminAccess(t, r, strings.Repeat("t", 40), http.StatusOK)
	assertAdminAccess(t, r, strings.Repeat("t", 41), http.StatusUnauthorized)
}

// assertAdminAccess lists workspaces on the admin API with token.
func assertAdminAccess(t *testing.T, r *running, token string, want int) {
	t.Helper()
	resp, body := get(t, r.url("/admin/v1/workspaces"), map[string]string{"Authorization": "Bearer " + token})
	if resp.StatusCode != want {
		t.Fatalf("admin API with token: %d %s, want %d", resp.StatusCode, body, want)
	}
	if want == http.StatusOK && !strings.Contains(body, `"default"`) {
		t.Fatalf("admin API does not list the default workspace: %s", body)
	}
}

func TestOpsEndpoints(t *testing.T) {
	r := start(t, testConfig(t, seededDataDir(t), nil))
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, body := get(t, r.url(path), nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: middleware headers missing", path)
		}
	}
	resp, body := get(t, r.url("/metrics"), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{`latchkey_http_requests_total{code="200",endpoint="/healthz",method="GET"} 1`,
		"latchkey_http_request_duration_seconds_bucket", "latchkey_storage_errors_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestReadyzFailsWhenStorageIsClosed(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(t.Context(), testConfig(t, dir, nil), nil, WithStderr(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || strings.Contains(rec.Body.String(), "sql") {
		t.Fatalf("readyz on closed storage: %d %s", rec.Code, rec.Body.String())
	}
}

// TestIssuerIgnoresHostHeaders (SECURITY.md J1, J2): discovery's issuer is
// the configured one whatever Host and forwarding headers say.
func TestIssuerIgnoresHostHeaders(t *testing.T) {
	cfg := testConfig(t, seededDataDir(t), map[string]string{"LATCHKEY_BASE_URL": "https://id.example.test"})
	r := start(t, cfg)
	want := "https://id.example.test/w/default"
	headers := []map[string]string{
		nil,
		{"Host": "evil.example"},
		{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
		{"Forwarded": "host=evil.example;proto=http"},
		{"Host": "evil.example", "X-Forwarded-Host": "evil2.example", "X-Forwarded-Prefix": "/evil"},
	}
	for _, path := range []string{"/w/default/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/w/default"} {
		for _, h := range headers {
			resp, body := get(t, r.url(path), h)
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s %v: %d %s", path, h, resp.StatusCode, body)
			}
			if doc["issuer"] != want || strings.Contains(body, "evil") {
				t.Errorf("%s with %v: issuer %v (body mentions evil: %v)", path, h, doc["issuer"], strings.Contains(body, "evil"))
			}
		}
	}
}

// TestLargeBodyAnswersQuickly (SECURITY.md M1) against the real token
// endpoint, over a real connection.
func TestLargeBodyAnswersQuickly(t *testing.T) {
	t.Parallel() // mostly net/http's wait before closing a connection with unread body
	r := start(t, testConfig(t, seededDataDir(t), nil))
	body := strings.Repeat("a", 1<<20)
	for _, chunked := range []bool{false, true} {
		var rd io.Reader = strings.NewReader(body)
		if chunked {
			rd = io.MultiReader(strings.NewReader(body)) // hides the length: chunked encoding
		}
		req, _ := http.NewRequestWithContext(t.Context(), "POST", r.url("/w/default/oauth2/token"), rd)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		began := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// The server may close the connection after answering while
			// the client is still sending; that is a refusal too.
			if time.Since(began) > 2*time.Second {
				t.Fatalf("chunked=%v: slow failure %v", chunked, err)
			}
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 && resp.StatusCode != 400 {
			t.Errorf("chunked=%v: status %d, want 413 or 400", chunked, resp.StatusCode)
		}
		if d := time.Since(began); d > 2*time.Second {
			t.Errorf("chunked=%v: took %v", chunked, d)
		}
	}
}

// TestGracefulShutdown: cancelling Run (what SIGTERM does in the CLI)
// stops new connections but lets an in-flight request finish.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := withExtraRoutes(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /test/slow", func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
			_, _ = io.WriteString(w, "finished")
		})
	})
	r := start(t, testConfig(t, seededDataDir(t), nil), slow)
	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.url("/test/slow"))
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-entered
	r.cancel()
	waitRefused(t, r.srv.Addr())
	close(release)
	res := <-got
	if res.err != nil || res.code != 200 || res.body != "finished" {
		t.Fatalf("in-flight request: %+v", res)
	}
	r.stop(t)
}

// waitRefused waits until the listener no longer accepts connections.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server still accepts connections during shutdown")
}

func TestPanicInRealServer(t *testing.T) {
	boom := withExtraRoutes(func(mux *http.ServeMux) {
		mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic(errors.New("secret internal detail")) })
	})
	r := start(t, testConfig(t, seededDataDir(t), nil), boom)
	resp, body := get(t, r.url("/test/panic"), nil)
	assertServerError(t, resp.StatusCode, resp.Header, body)
	if resp2, _ := get(t, r.url("/healthz"), nil); resp2.StatusCode != 200 {
		t.Fatal("server unhealthy after a panic")
	}
}

func TestBoundBaseURL(t *testing.T) {
	r := start(t, testConfig(t, seededDataDir(t), nil))
	if r.srv.BaseURL() != "http://"+r.srv.Addr() {
		t.Fatalf("base URL %q does not follow the bound address %q", r.srv.BaseURL(), r.srv.Addr())
	}
}

func TestNewFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, nil)
	// A world-readable master key file is refused (SECURITY.md D8).
	if err := os.WriteFile(cfg.MasterKeyFile, []byte(`{"keys":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), cfg, nil, WithStderr(io.Discard)); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("err = %v", err)
	}
	// A listen address in use fails after storage was opened; storage is
	// closed again (the data directory can be removed by TempDir cleanup).
	r := start(t, testConfig(t, seededDataDir(t), nil))
	busy := testConfig(t, seededDataDir(t), nil)
	busy.Listen = r.srv.Addr()
	if _, err := New(t.Context(), busy, nil, WithStderr(io.Discard)); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("err = %v", err)
	}
}

// TestConfiguredAdminTokenRetiresBootstrap: a server first started
// without LATCHKEY_ADMIN_TOKEN prints a generated token; restarted with
// the variable set, the configured token replaces it (README "instead of
// a generated one"): the printed token stops working, the configured one
// works, and a token created through the API is kept.
func TestConfiguredAdminTokenRetiresBootstrap(t *testing.T) {
	dir := t.TempDir()
	first := start(t, testConfig(t, dir, nil))
	m := adminTokenRe.FindStringSubmatch(first.stderr.String())
	if m == nil {
		t.Fatalf("no token printed on the first start:\n%s", first.stderr.String())
	}
	generated := m[0]
	assertAdminAccess(t, first, generated, http.StatusOK)
	now := time.Now().UTC()
	must(t, first.srv.store.CreateAdminToken(t.Context(), storage.AdminToken{ID: "ci", Name: "ci", Hash: service.HashToken(strings.Repeat("c", 40)), CreatedAt: now}))
	first.stop(t)

	configured := strings.Repeat("t", 40)
	second := start(t, testConfig(t, dir, map[string]string{"LATCHKEY_ADMIN_TOKEN": configured}))
	assertAdminAccess(t, second, generated, http.StatusUnauthorized)
	assertAdminAccess(t, second, configured, http.StatusOK)
	assertAdminAccess(t, second, strings.Repeat("c", 40), http.StatusOK)
	if !strings.Contains(second.logs.String(), "removed the admin token generated on the first start") {
		t.Errorf("no log line for the removed token:\n%s", second.logs.String())
	}
}
