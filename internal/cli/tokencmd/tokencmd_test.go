package tokencmd

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/keystore"
	"github.com/latchkey/latchkey/internal/oauthclient/oauthtest"
)

type harness struct {
	t      *testing.T
	env    *env
	vars   map[string]string
	cfg    string
	mu     sync.Mutex
	now    time.Time
	stdout bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, now: time.Now(), cfg: filepath.Join(t.TempDir(), "lk", "connections.yaml")}
	h.vars = map[string]string{ConfigEnv: h.cfg}
	h.env = &env{
		stdout: &h.stdout, stderr: &bytes.Buffer{},
		lookupEnv: func(k string) (string, bool) { v, ok := h.vars[k]; return v, ok },
		prompt:    func(string) ([]byte, error) { return []byte("prompted"), nil },
		now:       func() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now },
		browser:   oauthtest.Browser("alice", "wonderland"),
	}
	return h
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

// run executes "token args..." and returns stdout.
func (h *harness) run(args ...string) (string, error) {
	h.stdout.Reset()
	cmd := newCommand(h.env)
	cmd.SetArgs(args)
	cmd.SetOut(&h.stdout)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return h.stdout.String(), err
}

func (h *harness) mustRun(args ...string) string {
	h.t.Helper()
	out, err := h.run(args...)
	if err != nil {
		h.t.Fatalf("token %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func TestConnectionsLifecycle(t *testing.T) {
	h := newHarness(t)
	if _, err := h.run("connections", "add", "svc", "--server", "https://as.example", "--client-id", "a", "--client-secret", "plainsecret"); err == nil || !strings.Contains(err.Error(), "--store-secret") {
		t.Fatalf("bare secret accepted: %v", err)
	}
	h.mustRun("connections", "add", "svc", "--server", "https://as.example", "--client-id", "a", "--client-secret", "env:SVC_SECRET", "--auth-method", "client_secret_basic", "--scope", "a b")
	h.mustRun("connections", "add", "inline", "--token-endpoint", "https://as.example/token", "--client-id", "b", "--client-secret", "s3cret", "--store-secret")
	if _, err := h.run("connections", "add", "svc", "--server", "https://x"); err == nil {
		t.Fatal("duplicate name accepted without --replace")
	}
	if _, err := h.run("connections", "add", "../evil", "--server", "https://x"); err == nil {
		t.Fatal("path-like name accepted")
	}
	fi, err := os.Stat(h.cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v %v", fi.Mode().Perm(), err)
	}
	list := h.mustRun("connections", "list")
	if !strings.Contains(list, "svc") || !strings.Contains(list, "inline") {
		t.Fatalf("list: %s", list)
	}
	show := h.mustRun("connections", "show", "inline")
	if strings.Contains(show, "s3cret") || !strings.Contains(show, "literal:***") {
		t.Fatalf("show leaks the secret: %s", show)
	}
	raw, _ := os.ReadFile(h.cfg)
	if !strings.Contains(string(raw), "env:SVC_SECRET") {
		t.Fatalf("reference not stored: %s", raw)
	}
	h.mustRun("connections", "remove", "svc")
	if _, err := h.run("connections", "show", "svc"); err == nil {
		t.Fatal("removed connection still shown")
	}
}

// TestGetCacheAndRefresh: a short token lifetime; get caches, reuses while
// more than 30 s remain, refreshes after, and never prints an expired token.
func TestGetCacheAndRefresh(t *testing.T) {
	s := oauthtest.New()
	defer s.Close()
	s.TokenTTL = 2 * time.Minute
	cb := "http://" + freeLoopbackAddr(t) + "/cb"
	s.AddClient(oauthtest.Client{ID: "cli", Secret: "pw", AuthMethod: "client_secret_basic", RedirectURIs: []string{cb}})
	h := newHarness(t)
	h.vars["CLI_SECRET"] = "pw"
	h.mustRun("connections", "add", "web", "--server", s.Issuer, "--client-id", "cli", "--client-secret", "env:CLI_SECRET",
		"--auth-method", "client_secret_basic", "--flow", "code", "--redirect-uri", cb, "--scope", "openid api")
	first := h.mustRun("get", "web")
	if s.Count("authorization_code") != 1 || strings.TrimSpace(first) == "" {
		t.Fatalf("first get: %q, %d code grants", first, s.Count("authorization_code"))
	}
	h.advance(time.Minute)
	if again := h.mustRun("get", "web"); again != first || s.Count("authorization_code") != 1 {
		t.Fatal("cached token not reused")
	}
	cache := cachePath(h.cfg, "web")
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v", err)
	}
	h.advance(35 * time.Second) // 25 s left: inside the skew
	refreshed := h.mustRun("get", "web")
	if refreshed == first || s.Count("refresh_token") != 1 {
		t.Fatalf("not refreshed: %d", s.Count("refresh_token"))
	}
	js := h.mustRun("get", "web", "--output", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc["access_token"] != strings.TrimSpace(refreshed) || doc["token_type"] != "Bearer" {
		t.Fatalf("json: %s %v", js, err)
	}
	h.mustRun("refresh", "web")
	if s.Count("refresh_token") != 2 {
		t.Fatal("token refresh NAME did not refresh")
	}
}

func TestGetClientCredentialsReobtains(t *testing.T) {
	s := oauthtest.New()
	defer s.Close()
	s.TokenTTL = time.Minute
	s.AddClient(oauthtest.Client{ID: "svc", Secret: "pw", AuthMethod: "client_secret_post"})
	h := newHarness(t)
	h.vars["S"] = "pw"
	h.mustRun("connections", "add", "svc", "--server", s.Issuer, "--client-id", "svc", "--client-secret", "env:S", "--auth-method", "client_secret_post")
	a := h.mustRun("get", "svc")
	h.advance(2 * time.Minute) // the cached token has expired
	b := h.mustRun("get", "svc")
	if a == b || s.Count("client_credentials") != 2 {
		t.Fatalf("expired token printed again (%d requests)", s.Count("client_credentials"))
	}
}

func keytoolJKS(t *testing.T) string {
	t.Helper()
	kt, err := exec.LookPath("keytool")
	if err != nil {
		t.Skip("keytool not installed; skipping the JKS flow")
	}
	p := filepath.Join(t.TempDir(), "client.jks")
	out, err := exec.Command(kt, "-genkeypair", "-alias", "jwtsigner", "-keyalg", "RSA", "-keysize", "2048", "-storetype", "JKS",
		"-keystore", p, "-storepass", "storepw1", "-keypass", "storepw1", "-dname", "CN=jwt-client", "-validity", "30").CombinedOutput()
	if err != nil {
		t.Fatalf("keytool: %v %s", err, out)
	}
	return p
}

func opensslP12(t *testing.T) string {
	t.Helper()
	ossl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed; skipping the PKCS#12 flow")
	}
	dir := t.TempDir()
	k, c, p := filepath.Join(dir, "k.pem"), filepath.Join(dir, "c.pem"), filepath.Join(dir, "b.p12")
	for _, args := range [][]string{
		{"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", k, "-out", c, "-days", "30", "-subj", "/CN=jwt-client"},
		{"pkcs12", "-export", "-inkey", k, "-in", c, "-out", p, "-passout", "pass:storepw1"},
	} {
		if out, err := exec.Command(ossl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl: %v %s", err, out)
		}
	}
	return p
}

// TestJWTFlowFromKeyStores: "token jwt" signs the assertion with a key
// from a keytool JKS and from an openssl PKCS#12; the kid defaults to the
// certificate's x5t#S256, which is what the server registered.
func TestJWTFlowFromKeyStores(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) string{"JKS": keytoolJKS, "PKCS12": opensslP12} {
		t.Run(name, func(t *testing.T) {
			file := mk(t)
			k, err := keystore.Load(file, keystore.Options{Alias: "jwtsigner", StorePassword: []byte("storepw1")})
			if err != nil {
				t.Fatal(err)
			}
			s := oauthtest.New()
			defer s.Close()
			s.AddClient(oauthtest.Client{ID: "app", Secret: "sec", AuthMethod: "client_secret_post",
				Keys: []jose.JSONWebKey{{Key: k.Signer.Public(), KeyID: keystore.X5TS256(k.Certificate)}}})
			h := newHarness(t)
			h.vars["KS_PASS"], h.vars["APP_SECRET"] = "storepw1", "sec"
			args := []string{"jwt", "--server", s.Issuer, "--key", file, "--alias", "jwtsigner", "--storepass", "env:KS_PASS",
				"--issuer", "app", "--subject", "alice", "--expires-in", "3", "--claim", `scope="api"`}
			if out := h.mustRun(args...); strings.TrimSpace(out) == "" {
				t.Fatal("no token printed")
			}
			// ServiceNow style: client id + secret as well as the assertion.
			h.mustRun(append(args, "--client-id", "app", "--client-secret", "env:APP_SECRET", "--auth-method", "client_secret_post")...)
			if _, err := h.run(append(args[:len(args):len(args)], "--kid", "unknown")...); err == nil || !strings.Contains(err.Error(), "hint: unknown kid") {
				t.Fatalf("unknown kid: %v", err)
			}
		})
	}
}

func TestExplicitCodeCommand(t *testing.T) {
	s := oauthtest.New()
	defer s.Close()
	cb := "http://" + freeLoopbackAddr(t) + "/OauthRedirect"
	s.AddClient(oauthtest.Client{ID: "pub", AuthMethod: "none", RedirectURIs: []string{cb}})
	h := newHarness(t)
	out := h.mustRun("code", "--server", s.Issuer, "--client-id", "pub", "--auth-method", "none",
		"--redirect-uri", cb, "--scope", "openid", "--output", "json")
	if !strings.Contains(out, `"id_token_claims"`) || !strings.Contains(out, `"sub": "alice"`) {
		t.Fatalf("out: %s", out)
	}
}

func TestSecretRefs(t *testing.T) {
	h := newHarness(t)
	f := filepath.Join(t.TempDir(), "s")
	_ = os.WriteFile(f, []byte("from-file\n"), 0o600)
	h.vars["X"] = "from-env"
	cases := map[string]string{"env:X": "from-env", "file:" + f: "from-file", "prompt": "prompted", "literal:v": "v", "": ""}
	for ref, want := range cases {
		if got, err := h.env.resolveSecret(ref, "s"); err != nil || got != want {
			t.Errorf("%q: %q %v", ref, got, err)
		}
	}
	for _, bad := range []string{"env:MISSING", "file:/nonexistent/x", "plain"} {
		if _, err := h.env.resolveSecret(bad, "s"); err == nil {
			t.Errorf("%q resolved", bad)
		}
	}
}

// freeLoopbackAddr returns a loopback address whose port was free a moment
// ago, so parallel test packages never fight over a fixed port.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
