package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/e2e/e2etest"
)

// Hostile text at every endpoint (docs/security.md R4). PostgreSQL refuses
// parameters that are not valid UTF-8 or contain NUL, where SQLite
// compares their bytes; before the storage text guard, client_id=%00
// answered 503 on PostgreSQL and "unknown client" on SQLite, logged an
// ERROR and counted a storage error, so anyone could fake an outage.

// hostileTexts is the corpus: NUL, bytes that are not UTF-8, overlong and
// surrogate encodings, control characters and 10 KB strings.
var hostileTexts = []struct{ name, s string }{
	{"nul", "\x00"},
	{"nul-inside", "billing\x00job"},
	{"ff", "\xff"},
	{"c3-28", "\xc3\x28"},
	{"overlong-slash", "\xc0\xaf"},
	{"overlong-nul", "\xc0\x80"},
	{"surrogate-utf8", "\xed\xa0\x80"},
	{"control", "a\x01b"},
	{"escape", "\x1b[31mred"},
	{"del", "x\x7f"},
	{"c1-next-line", "x\u0085y"},
	{"newline", "a\nb"},
	{"long", strings.Repeat("a", 10<<10)},
	{"long-ff", strings.Repeat("\xff", 10<<10)},
}

// hostileJSONTexts are JSON string literals (as sent, escapes included)
// that decode to text no identifier or name may hold, or that are not
// UTF-8 at all.
var hostileJSONTexts = []struct{ name, literal string }{
	{"escaped-nul", `"a\u0000b"`},
	{"lone-high-surrogate", `"a\ud800b"`},
	{"lone-low-surrogate", `"\udc00"`},
	{"escaped-control", `"a\u0001b"`},
	{"raw-ff", "\"a\xffb\""},
	{"raw-overlong", "\"\xc0\xaf\""},
	{"raw-surrogate", "\"\xed\xa0\x80\""},
}

// outcome is what an endpoint answered: the status and, for JSON
// answers, the error code.
type outcome struct {
	status int
	code   string
}

func (o outcome) String() string { return fmt.Sprintf("%d %s", o.status, o.code) }

// hostileTarget is one running server with the objects the probes name.
type hostileTarget struct {
	lk     *instance
	http   *http.Client // with a cookie jar, for the sign-in forms
	client basic        // a confidential client of the default workspace
}

func startHostileTarget(t *testing.T, dsn string) *hostileTarget {
	t.Helper()
	lk := startInstance(t, dsn)
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	status, raw := lk.adminCall(t, http.MethodPost, "/workspaces/default/clients", map[string]any{
		"name": "hostile-text target", "type": "confidential", "grant_types": []string{"client_credentials"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	e2etest.RequireAdminStatus(t, "POST", "/workspaces/default/clients", status, raw, http.StatusCreated, &created)
	lk.leaks.Add(created.ClientSecret)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &hostileTarget{lk: lk, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, client: basic{created.ClientID, created.ClientSecret}}
}

// adminCall sends an admin API request with a JSON body (nil: none).
func (lk *instance) adminCall(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	req := e2etest.AdminRequest(t, lk.base, lk.admin, method, path, body)
	r := lk.client.do(t, req)
	return r.status, r.raw
}

// send sends req and returns the outcome.
func (h *hostileTarget) send(t *testing.T, req *http.Request) outcome {
	t.Helper()
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatalf("%s %.80s: %v", req.Method, req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(raw, &body)
		o.code = body.Error
	}
	return o
}

func (h *hostileTarget) request(t *testing.T, method, target, contentType string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func (h *hostileTarget) form(t *testing.T, target string, form url.Values) *http.Request {
	return h.request(t, http.MethodPost, target, "application/x-www-form-urlencoded", []byte(form.Encode()))
}

func (h *hostileTarget) admin(t *testing.T, method, path string, body []byte) outcome {
	t.Helper()
	req := h.request(t, method, h.lk.base+"/admin/v1"+path, "application/json", body)
	req.Header.Set("Authorization", "Bearer "+h.lk.admin)
	return h.send(t, req)
}

const consoleSignIn = "console sign-in username"

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn posts a sign-in form after fetching it for its CSRF token.
func (h *hostileTarget) signIn(t *testing.T, page string, form url.Values) outcome {
	t.Helper()
	resp, err := h.http.Get(page)
	if err != nil {
		t.Fatalf("GET %s: %v", page, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	m := csrfInput.FindSubmatch(raw)
	if m == nil {
		t.Fatalf("GET %s: %d, no csrf_token in the form", page, resp.StatusCode)
	}
	form.Set("csrf_token", string(m[1]))
	return h.send(t, h.form(t, page, form))
}

// hostileProbe sends one input to one endpoint. want is the exact answer
// every input must get (the endpoint's normal answer to an unknown name
// or an invalid field); tooLong, when set, is the answer to the 10 KB
// inputs where the endpoint caps the field's length first.
type hostileProbe struct {
	name    string
	want    outcome
	send    func(t *testing.T, h *hostileTarget, s string) outcome
	tooLong outcome
}

// wantFor is the answer p must give to the input named input.
func (p hostileProbe) wantFor(input string) outcome {
	if strings.HasPrefix(input, "long") && p.tooLong != (outcome{}) {
		return p.tooLong
	}
	return p.want
}

var overLong = outcome{400, "invalid_request"}

var hostileProbes = []hostileProbe{
	{"token client_id", outcome{401, "invalid_client"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.send(t, h.form(t, h.lk.wsURL("default")+"/oauth2/token", url.Values{
			"grant_type": {"client_credentials"}, "client_id": {s}, "client_secret": {"x"}}))
	}, overLong},
	{"token basic user", outcome{401, "invalid_client"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		req := h.form(t, h.lk.wsURL("default")+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
		req.SetBasicAuth(url.QueryEscape(s), "x")
		return h.send(t, req)
	}, outcome{}},
	{"token scope", outcome{400, "invalid_scope"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		req := h.form(t, h.lk.wsURL("default")+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {s}})
		req.SetBasicAuth(h.client.id, h.client.secret)
		return h.send(t, req)
	}, overLong},
	{"introspect client_id", outcome{401, "invalid_client"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.send(t, h.form(t, h.lk.wsURL("default")+"/oauth2/introspect", url.Values{
			"token": {"x"}, "client_id": {s}, "client_secret": {"x"}}))
	}, overLong},
	{"introspect token", outcome{200, ""}, func(t *testing.T, h *hostileTarget, s string) outcome {
		req := h.form(t, h.lk.wsURL("default")+"/oauth2/introspect", url.Values{"token": {s}})
		req.SetBasicAuth(h.client.id, h.client.secret)
		return h.send(t, req)
	}, outcome{}},
	{"revoke client_id", outcome{401, "invalid_client"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.send(t, h.form(t, h.lk.wsURL("default")+"/oauth2/revoke", url.Values{
			"token": {"x"}, "client_id": {s}, "client_secret": {"x"}}))
	}, overLong},
	{"authorize client_id", outcome{400, ""}, func(t *testing.T, h *hostileTarget, s string) outcome {
		q := url.Values{"client_id": {s}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}}
		return h.send(t, h.request(t, http.MethodGet, h.lk.wsURL("default")+"/oauth2/authorize?"+q.Encode(), "", nil))
	}, outcome{}},
	{"register initial access token", outcome{401, "invalid_token"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		req := h.request(t, http.MethodPost, h.lk.wsURL("default")+"/oauth2/register", "application/json", []byte(`{}`))
		req.Header.Set("Authorization", "Bearer "+url.QueryEscape(s))
		return h.send(t, req)
	}, outcome{}},
	{"register/{client_id}", outcome{401, "invalid_token"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		req := h.request(t, http.MethodGet, h.lk.wsURL("default")+"/oauth2/register/"+url.PathEscape(s), "", nil)
		req.Header.Set("Authorization", "Bearer not-a-registration-token")
		return h.send(t, req)
	}, outcome{}},
	{"workspace path", outcome{404, "invalid_request"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.send(t, h.form(t, h.lk.base+"/w/"+url.PathEscape(s)+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}))
	}, outcome{}},
	{consoleSignIn, outcome{401, ""}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.signIn(t, h.lk.base+"/console/signin", url.Values{"username": {s}, "password": {"wrong password"}})
	}, outcome{}},
	{"user sign-in username", outcome{400, ""}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.signIn(t, h.lk.wsURL("default")+"/login", url.Values{"username": {s}, "password": {"wrong password"}})
	}, outcome{}},
	{"admin GET workspace", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/workspaces/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin GET client", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/workspaces/default/clients/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin DELETE service", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodDelete, "/workspaces/default/services/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin PATCH user", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodPatch, "/workspaces/default/users/"+url.PathEscape(s), []byte(`{"display_name":"x"}`))
	}, outcome{}},
	{"admin GET profile", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/workspaces/default/profiles/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin GET trusted issuer", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/workspaces/default/trusted-issuers/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin GET console user", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/console-users/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin DELETE initial access token", outcome{404, "not_found"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodDelete, "/workspaces/default/initial-access-tokens/"+url.PathEscape(s), nil)
	}, outcome{}},
	{"admin list clients query", outcome{200, ""}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodGet, "/workspaces/default/clients?q="+url.QueryEscape(s), nil)
	}, overLong},
	{"admin POST service name", outcome{400, "invalid_request"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodPost, "/workspaces/default/services", jsonObject(t, map[string]any{
			"id": "svc", "name": s, "identifier": "https://api.example/svc"}))
	}, outcome{}},
	{"admin POST user username", outcome{400, "invalid_request"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodPost, "/workspaces/default/users", jsonObject(t, map[string]any{"username": s}))
	}, outcome{}},
	{"admin POST workspace id", outcome{400, "invalid_request"}, func(t *testing.T, h *hostileTarget, s string) outcome {
		return h.admin(t, http.MethodPost, "/workspaces", jsonObject(t, map[string]any{"id": s, "name": "x"}))
	}, outcome{}},
}

// jsonObject encodes v keeping invalid UTF-8 as it is: encoding/json would
// replace it with U+FFFD, which is not what a hostile client sends.
func jsonObject(t *testing.T, v map[string]any) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for k, val := range v {
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:", k)
		s, ok := val.(string)
		if !ok {
			raw, err := json.Marshal(val)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(raw)
			continue
		}
		b.WriteString(jsonStringKeepingBytes(s))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// jsonStringKeepingBytes is a JSON string literal of s that escapes
// control characters and quotes but leaves other bytes, valid or not.
func jsonStringKeepingBytes(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonBodyProbes send admin JSON whose string literal is hostile as
// written (escapes, lone surrogates, raw bytes that are not UTF-8).
var jsonBodyProbes = []struct {
	name, path string
	body       func(literal string) string
}{
	{"service name", "/workspaces/default/services", func(l string) string {
		return `{"id":"svc","name":` + l + `,"identifier":"https://api.example/svc"}`
	}},
	{"workspace name", "/workspaces", func(l string) string { return `{"id":"ws-hostile","name":` + l + `}` }},
	{"client name", "/workspaces/default/clients", func(l string) string {
		return `{"name":` + l + `,"type":"confidential","grant_types":["client_credentials"]}`
	}},
}

// storageErrors reads latchkey_storage_errors_total from /metrics.
func storageErrors(t *testing.T, lk *instance) string {
	t.Helper()
	r := lk.client.get(t, lk.base+"/metrics")
	for line := range strings.SplitSeq(string(r.raw), "\n") {
		if v, ok := strings.CutPrefix(line, "latchkey_storage_errors_total "); ok {
			return v
		}
	}
	return "0"
}

// requireQuiet fails t when the server logged an ERROR or counted a
// storage error: bad input is not an outage (docs/security.md R4).
func requireQuiet(t *testing.T, lk *instance, what string) {
	t.Helper()
	if n := storageErrors(t, lk); n != "0" {
		t.Errorf("%s: latchkey_storage_errors_total = %s, want 0", what, n)
	}
	for line := range strings.SplitSeq(lk.logs.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("%s: ERROR logged: %.300s", what, line)
		}
	}
}

// runHostileCorpus sends every probe every text and returns the outcomes
// by "probe/input".
func runHostileCorpus(t *testing.T, h *hostileTarget, texts []struct{ name, s string }) map[string]outcome {
	t.Helper()
	out := map[string]outcome{}
	for _, p := range hostileProbes {
		for _, in := range texts {
			out[p.name+"/"+in.name] = p.send(t, h, in.s)
		}
	}
	for _, p := range jsonBodyProbes {
		for _, in := range hostileJSONTexts {
			out["admin JSON "+p.name+"/"+in.name] = h.admin(t, http.MethodPost, p.path, []byte(p.body(in.literal)))
		}
	}
	return out
}

// TestHostileTextEveryEndpoint sends the corpus to every endpoint on
// SQLite and on PostgreSQL: each answer must be the endpoint's normal
// answer to an unknown or invalid value, the same on both backends, with
// no 5xx, no ERROR log line and no storage error counted
// (docs/security.md R4).
func TestHostileTextEveryEndpoint(t *testing.T) {
	backends := map[string]map[string]outcome{}
	run := func(name string, dsn func(t *testing.T) string) {
		t.Run(name, func(t *testing.T) {
			h := startHostileTarget(t, dsn(t))
			got := runHostileCorpus(t, h, hostileTexts)
			for _, p := range hostileProbes {
				for _, in := range hostileTexts {
					o := got[p.name+"/"+in.name]
					if o.status == http.StatusTooManyRequests && p.name == consoleSignIn && in.name != "nul" {
						continue // the per-address limiter spoke first; it has its own tests
					}
					if want := p.wantFor(in.name); o != want {
						t.Errorf("%s with %s: got %s, want %s", p.name, in.name, o, want)
					}
				}
			}
			for key, o := range got {
				if strings.HasPrefix(key, "admin JSON ") && o != (outcome{400, "invalid_request"}) {
					t.Errorf("%s: got %s, want 400 invalid_request", key, o)
				}
			}
			requireQuiet(t, h.lk, name)
			backends[name] = got
		})
	}
	run("sqlite", func(*testing.T) string { return "" })
	run("postgres", postgresSchemaDSN)
	sqlite, postgres := backends["sqlite"], backends["postgres"]
	if sqlite == nil || postgres == nil {
		return
	}
	for key, o := range sqlite {
		if postgres[key] != o {
			t.Errorf("%s: SQLite answered %s, PostgreSQL %s", key, o, postgres[key])
		}
	}
}

// FuzzHostileText sends one input to every endpoint of a fresh server on
// SQLite and, when configured, on PostgreSQL: no 5xx, no ERROR log line,
// no storage error, and the same answers on both backends
// (docs/security.md R4). The seed corpus is hostileTexts; each input
// starts its own servers, so a fuzzing run (-fuzz) is slow but exact.
func FuzzHostileText(f *testing.F) {
	for _, in := range hostileTexts {
		f.Add(in.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		input := []struct{ name, s string }{{"fuzz", s}}
		sqlite := startHostileTarget(t, "")
		got := runHostileCorpus(t, sqlite, input)
		for key, o := range got {
			if o.status >= 500 {
				t.Errorf("SQLite: %s with %q: %s", key, s, o)
			}
		}
		requireQuiet(t, sqlite.lk, "sqlite")
		if os.Getenv(e2etest.PostgresEnv) == "" {
			return
		}
		postgres := startHostileTarget(t, postgresSchemaDSN(t))
		for key, o := range runHostileCorpus(t, postgres, input) {
			if got[key] != o {
				t.Errorf("%s with %q: SQLite answered %s, PostgreSQL %s", key, s, got[key], o)
			}
		}
		requireQuiet(t, postgres.lk, "postgres")
	})
}
