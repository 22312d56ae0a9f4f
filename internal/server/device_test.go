package server

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/device"
	"github.com/latchkey/latchkey/internal/grants/grantstest"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// deviceFixture is the flow fixture with a clock and two public device
// clients, "tv" and "tv2" (RFC 8628).
type deviceFixture struct {
	*flowFixture
	clock *grantstest.Clock
}

func newDeviceFixture(t *testing.T) *deviceFixture {
	t.Helper()
	clock := &grantstest.Clock{}
	f := &deviceFixture{flowFixture: newFlowFixtureWith(t, testConfig(t, seededDataDir(t), nil), WithClock(clock.Now)), clock: clock}
	now := time.Now().UTC()
	for _, id := range []string{"tv", "tv2"} {
		must(t, f.r.srv.store.CreateClient(t.Context(), storage.Client{
			WorkspaceID: "default", ID: id, Name: "Living-room <TV>", Enabled: true, CreatedAt: now, UpdatedAt: now,
			Type: oauth2.ClientPublic, TokenEndpointAuthMethod: oauth2.AuthNone,
			GrantTypes: []string{oauth2.GrantDeviceCode, oauth2.GrantRefreshToken},
		}))
	}
	return f
}

type deviceAuthResp struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
	Error                   string `json:"error"`
	ErrorDescription        string `json:"error_description"`
}

func postForm(t *testing.T, target string, form url.Values, basic ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func (f *deviceFixture) deviceAuth(t *testing.T, form url.Values, basic ...string) (int, deviceAuthResp) {
	t.Helper()
	status, h, b := postForm(t, f.issuer+"/oauth2/device_authorization", form, basic...)
	var r deviceAuthResp
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("device authorization: %d %s", status, b)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Fatalf("device authorization without Cache-Control: no-store")
	}
	return status, r
}

func (f *deviceFixture) start(t *testing.T, scope string) deviceAuthResp {
	t.Helper()
	status, r := f.deviceAuth(t, url.Values{"client_id": {"tv"}, "scope": {scope}})
	if status != http.StatusOK {
		t.Fatalf("device authorization: %d %+v", status, r)
	}
	return r
}

// poll sends one device access token request (RFC 8628 §3.4).
func (f *deviceFixture) poll(t *testing.T, clientID, deviceCode string) (int, tokenResp) {
	t.Helper()
	status, h, b := postForm(t, f.issuer+"/oauth2/token", url.Values{
		"grant_type": {oauth2.GrantDeviceCode}, "client_id": {clientID}, "device_code": {deviceCode}})
	var tr tokenResp
	_ = json.Unmarshal(b, &tr)
	if h.Get("Cache-Control") != "no-store" {
		t.Fatalf("token response without Cache-Control: no-store")
	}
	return status, tr
}

func (f *deviceFixture) wantPoll(t *testing.T, clientID, deviceCode string, status int, code string) tokenResp {
	t.Helper()
	gotStatus, tr := f.poll(t, clientID, deviceCode)
	if gotStatus != status || tr.Error != code {
		t.Fatalf("poll: %d %q, want %d %q", gotStatus, tr.Error, status, code)
	}
	return tr
}

// signInForDevice opens the device page in the fixture's browser: it is
// sent to the sign-in page, signs in as alice and comes back to the device
// page with the code prefilled. It returns that page.
func (f *deviceFixture) signInForDevice(t *testing.T, complete string) string {
	t.Helper()
	resp, body := f.do(t, http.MethodGet, complete, nil)
	expectStatus(t, resp, body, http.StatusSeeOther)
	loc := resp.Header.Get("Location")
	if !strings.Contains(loc, "/login?return_to=") {
		t.Fatalf("device page without session redirects to %q", loc)
	}
	resp, body = f.do(t, http.MethodGet, loc, nil)
	expectStatus(t, resp, body, http.StatusOK)
	u, _ := url.Parse(loc)
	resp, body = f.do(t, http.MethodPost, f.issuer+"/login", url.Values{"username": {"alice"}, "password": {"correct-horse"},
		"return_to": {u.Query().Get("return_to")}, "csrf_token": {csrfOf(t, body)}, "action": {"login"}})
	expectStatus(t, resp, body, http.StatusSeeOther)
	back := resp.Header.Get("Location")
	if !strings.HasPrefix(back, f.issuer+"/device") {
		t.Fatalf("sign-in returns to %q, want the device page", back)
	}
	resp, body = f.do(t, http.MethodGet, back, nil)
	expectStatus(t, resp, body, http.StatusOK)
	return body
}

// enter submits a user code on the device page and returns the answer.
func (f *deviceFixture) enter(t *testing.T, page, userCode string) (*http.Response, string) {
	t.Helper()
	return f.do(t, http.MethodPost, f.issuer+"/device", url.Values{"user_code": {userCode}, "csrf_token": {csrfOf(t, page)}, "action": {"lookup"}})
}

// decide enters the code and answers the confirmation with action.
func (f *deviceFixture) decide(t *testing.T, page, userCode, action string) string {
	t.Helper()
	resp, body := f.enter(t, page, userCode)
	expectStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(body, `id="device-confirm-form"`) || strings.Contains(body, "<TV>") || !strings.Contains(body, "Living-room &lt;TV&gt;") {
		t.Fatalf("confirmation page (K10, V6):\n%s", body)
	}
	resp, body = f.do(t, http.MethodPost, f.issuer+"/device", url.Values{"user_code": {userCode}, "csrf_token": {csrfOf(t, body)}, "action": {action}})
	expectStatus(t, resp, body, http.StatusOK)
	return body
}

var userCodePattern = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceAuthorizationResponse is SECURITY.md V1 and the endpoint's
// RFC 6749 §5.2 error paths (RFC 8628 §3.1, §3.2).
func TestDeviceAuthorizationResponse(t *testing.T) {
	f := newDeviceFixture(t)
	r := f.start(t, "openid offline_access")
	if !userCodePattern.MatchString(r.UserCode) || !strings.HasPrefix(r.DeviceCode, "lkdc_") || len(r.DeviceCode) < 48 ||
		r.ExpiresIn != 600 || r.Interval != 5 || r.VerificationURI != f.issuer+"/device" ||
		r.VerificationURIComplete != f.issuer+"/device?user_code="+r.UserCode {
		t.Fatalf("device authorization response %+v", r)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
	}{
		{"client without the device grant", url.Values{}, []string{"webapp", f.secret}, 400, "unauthorized_client"},
		{"unknown client", url.Values{"client_id": {"nope"}}, nil, 401, "invalid_client"},
		{"no client", url.Values{}, nil, 401, "invalid_client"},
		{"unknown scope", url.Values{"client_id": {"tv"}, "scope": {"openid orders:delete"}}, nil, 400, "invalid_scope"},
		{"bad scope characters", url.Values{"client_id": {"tv"}, "scope": {"a\"b"}}, nil, 400, "invalid_scope"},
		{"repeated parameter", url.Values{"client_id": {"tv", "tv"}}, nil, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, r := f.deviceAuth(t, tc.form, tc.basic...)
			if status != tc.status || r.Error != tc.code || r.ErrorDescription == "" {
				t.Fatalf("%d %+v, want %d %s", status, r, tc.status, tc.code)
			}
		})
	}
	// RFC 8628 §4: discovery names the endpoint and the grant type.
	var md struct {
		Endpoint   string   `json:"device_authorization_endpoint"`
		GrantTypes []string `json:"grant_types_supported"`
	}
	mdReq, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.issuer+"/.well-known/openid-configuration", nil)
	mdResp, err := http.DefaultClient.Do(mdReq)
	must(t, err)
	must(t, json.NewDecoder(mdResp.Body).Decode(&md))
	mdResp.Body.Close()
	if md.Endpoint != f.issuer+"/oauth2/device_authorization" || !slices.Contains(md.GrantTypes, oauth2.GrantDeviceCode) {
		t.Fatalf("discovery: %+v", md)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.issuer+"/oauth2/device_authorization", nil)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET device_authorization: %d", resp.StatusCode)
	}
}

// TestDevicePolling is the polling table of RFC 8628 §3.5 (SECURITY.md V3,
// V4, V5, V6): pending, slow_down raising the interval by 5 s for later
// polls, wrong client, approval and single use, denial, expiry.
func TestDevicePolling(t *testing.T) {
	f := newDeviceFixture(t)
	r := f.start(t, "openid offline_access")
	steps := []struct {
		name    string
		advance time.Duration
		client  string
		code    string
		status  int
		err     string
	}{
		{"first poll is pending", 0, "tv", r.DeviceCode, 400, "authorization_pending"},
		{"at once again: slow_down", 0, "tv", r.DeviceCode, 400, "slow_down"},
		{"the old 5 s interval is now too fast", 6 * time.Second, "tv", r.DeviceCode, 400, "slow_down"},
		{"after the raised 15 s interval", 16 * time.Second, "tv", r.DeviceCode, 400, "authorization_pending"},
		{"another client's device code (V5)", 0, "tv2", r.DeviceCode, 400, "invalid_grant"},
		{"unknown device code", 0, "tv", "lkdc_" + strings.Repeat("A", 43), 400, "invalid_grant"},
		{"not one of ours", 0, "tv", "abc", 400, "invalid_grant"},
		{"missing device_code", 0, "tv", "", 400, "invalid_request"},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		t.Run(s.name, func(t *testing.T) { f.wantPoll(t, s.client, s.code, s.status, s.err) })
	}

	page := f.signInForDevice(t, r.VerificationURIComplete)
	if !strings.Contains(page, `value="`+r.UserCode+`"`) {
		t.Fatalf("device page not prefilled from verification_uri_complete:\n%s", page)
	}
	// V6: opening verification_uri_complete decides nothing.
	f.clock.Advance(20 * time.Second)
	f.wantPoll(t, "tv", r.DeviceCode, 400, "authorization_pending")
	// K1: a confirmation without the CSRF token changes nothing.
	resp, body := f.do(t, http.MethodPost, f.issuer+"/device", url.Values{"user_code": {r.UserCode}, "action": {"approve"}})
	expectStatus(t, resp, body, http.StatusForbidden)
	f.clock.Advance(20 * time.Second)
	f.wantPoll(t, "tv", r.DeviceCode, 400, "authorization_pending")

	done := f.decide(t, page, strings.ToLower(strings.ReplaceAll(r.UserCode, "-", "")), "approve")
	if !strings.Contains(done, "Your device is connected") {
		t.Fatalf("approval page:\n%s", done)
	}
	tok := f.wantPoll(t, "tv2", r.DeviceCode, 400, "invalid_grant") // V5 after approval too
	tok = f.wantPoll(t, "tv", r.DeviceCode, 200, "")
	if tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" || tok.Scope != "openid offline_access" {
		t.Fatalf("token response %+v", tok)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.issuer+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	ui, err := http.DefaultClient.Do(req)
	must(t, err)
	ui.Body.Close()
	if ui.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the device access token: %d", ui.StatusCode)
	}
	f.wantPoll(t, "tv", r.DeviceCode, 400, "invalid_grant") // V4: once

	// Denied.
	r2 := f.start(t, "openid")
	f.decide(t, page, r2.UserCode, "deny")
	f.wantPoll(t, "tv", r2.DeviceCode, 400, "access_denied")

	// Expired (600 s).
	r3 := f.start(t, "openid")
	f.clock.Advance(601 * time.Second)
	f.wantPoll(t, "tv", r3.DeviceCode, 400, "expired_token")
	resp, body = f.enter(t, page, r3.UserCode)
	expectStatus(t, resp, body, http.StatusBadRequest)
}

// TestDeviceUserCodeGuessing is SECURITY.md V2 (RFC 8628 §5.1): wrong
// codes from one address and session are throttled after a few with 429
// and Retry-After, every wrong code gets the same message, and once
// throttled even the right code is refused.
func TestDeviceUserCodeGuessing(t *testing.T) {
	f := newDeviceFixture(t)
	r := f.start(t, "openid")
	page := f.signInForDevice(t, r.VerificationURI)
	var throttled int
	for i := range 100 {
		resp, body := f.enter(t, page, "BCDF-GHJ"+string("BCDFGHJKLMNPQRSTVWXZ"[i%20]))
		switch resp.StatusCode {
		case http.StatusBadRequest:
			if !strings.Contains(body, "That code is invalid or has expired") {
				t.Fatalf("wrong code message:\n%s", body)
			}
			if throttled > 0 {
				t.Fatalf("attempt %d accepted after throttling began", i)
			}
		case http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			throttled++
		default:
			t.Fatalf("attempt %d: status %d", i, resp.StatusCode)
		}
	}
	if throttled < 85 {
		t.Fatalf("only %d of 100 wrong codes throttled", throttled)
	}
	resp, body := f.enter(t, page, r.UserCode)
	expectStatus(t, resp, body, http.StatusTooManyRequests)
}

// TestDeviceAuthorizationClientBudget is SECURITY.md N1 at the device
// authorization endpoint: one client's requests beyond its budget get 429
// slow_down with Retry-After, and other clients are unaffected.
func TestDeviceAuthorizationClientBudget(t *testing.T) {
	f := newDeviceFixture(t)
	for i := range 20 {
		if status, r := f.deviceAuth(t, url.Values{"client_id": {"tv2"}}); status != http.StatusOK {
			t.Fatalf("request %d: %d %+v", i, status, r)
		}
	}
	status, h, b := postForm(t, f.issuer+"/oauth2/device_authorization", url.Values{"client_id": {"tv2"}})
	if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(string(b), `"slow_down"`) {
		t.Fatalf("over budget: %d %v %s", status, h, b)
	}
	f.start(t, "openid")
}

// TestDeviceWorkspaceResolution: the device authorization endpoint (JSON)
// and the device page (a page) resolve their workspace like every /w/{ws}/
// surface: 404 for a bad, unknown or disabled workspace, 503 with
// Retry-After when storage fails (docs/security.md R5).
func TestDeviceWorkspaceResolution(t *testing.T) {
	mux := http.NewServeMux()
	(&device.Handler{Store: resolutionStore{}, BaseURL: "https://auth.example", Logger: slog.New(slog.DiscardHandler)}).Mount(mux)
	for _, s := range []struct {
		method, path string
		page         bool
	}{
		{"POST", "/w/%s/oauth2/device_authorization", false},
		{"GET", "/w/%s/device?user_code=BCDF-GHJK", true},
		{"POST", "/w/%s/device", true},
	} {
		for ws, want := range map[string]int{"Bad_ID": 404, "nowhere": 404, "disabled": 404, "broken": 503} {
			req := httptest.NewRequest(s.method, fmt.Sprintf(s.path, ws), strings.NewReader("client_id=tv"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != want || strings.Contains(rec.Body.String(), "connection refused") {
				t.Fatalf("%s %s: %d, want %d: %s", s.method, req.URL.Path, rec.Code, want, rec.Body.String())
			}
			if (want == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Fatalf("%s %s: Retry-After %q", s.method, req.URL.Path, rec.Header().Get("Retry-After"))
			}
			if isJSON := strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json"); isJSON == s.page {
				t.Fatalf("%s %s: Content-Type %q", s.method, req.URL.Path, rec.Header().Get("Content-Type"))
			}
		}
	}
}
