package clientauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

type authCase struct {
	name       string
	form       url.Values
	authz      string
	settings   func(*storage.WorkspaceSettings)
	endpoint   string // URL of the endpoint called, when not the token endpoint
	wantMethod string // success when set
	wantCode   oauth2.ErrorCode
	wantStatus int
	wantDesc   string
}

func runCases(t *testing.T, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.settings != nil {
				tc.settings(&e.ws.Settings)
			}
			e.endpoint = tc.endpoint
			res, err := e.authenticate(tc.form, tc.authz)
			if tc.wantMethod != "" {
				if err != nil {
					t.Fatalf("Authenticate = %v", err)
				}
				if res.Method != tc.wantMethod {
					t.Fatalf("method = %q, want %q", res.Method, tc.wantMethod)
				}
				return
			}
			wantErr(t, err, tc.wantCode, tc.wantStatus, tc.wantDesc)
		})
	}
}

const generic = "client authentication failed"

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestSecretMethods(t *testing.T) {
	runCases(t, []authCase{
		{name: "basic ok, form-urlencoded (D5)", authz: basic("basic-client", basicSecret), wantMethod: oauth2.AuthClientSecretBasic},
		{name: "basic ok, raw id and secret (D5)", authz: rawBasic("basic-client", basicSecret), wantMethod: oauth2.AuthClientSecretBasic},
		{name: "basic scheme case-insensitive", authz: "bAsIc " + strings.TrimPrefix(basic("basic-client", basicSecret), "Basic "), wantMethod: oauth2.AuthClientSecretBasic},
		{name: "basic with matching client_id", form: form("client_id", "basic-client"), authz: basic("basic-client", basicSecret), wantMethod: oauth2.AuthClientSecretBasic},
		{name: "post ok", form: form("client_id", "post-client", "client_secret", postSecret), wantMethod: oauth2.AuthClientSecretPost},
		{name: "none ok for public client", form: form("client_id", "public-client"), wantMethod: oauth2.AuthNone},
		{name: "bearer header is not client auth", form: form("client_id", "public-client"), authz: "Bearer abc", wantMethod: oauth2.AuthNone},

		{name: "D1 wrong secret basic", authz: basic("basic-client", "wrong"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "D2 unknown client basic", authz: basic("nobody", "wrong"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "D3 secret prefix", authz: basic("basic-client", basicSecret[:len(basicSecret)-1]), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "D3 secret plus suffix", form: form("client_id", "post-client", "client_secret", postSecret+"X"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "empty secret", form: form("client_id", "post-client", "client_secret", ""), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "D4 post for basic-registered client", form: form("client_id", "basic-client", "client_secret", basicSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_basic"},
		{name: "B10 basic for post-registered client", authz: basic("post-client", postSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_post"},
		{name: "B10 basic for private_key_jwt client", authz: basic("rsa-client", "x"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for private_key_jwt"},
		{name: "B10 nothing but client_id for confidential client", form: form("client_id", "basic-client"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client is registered for client_secret_basic"},
		{name: "B10 nothing at all", form: form(), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "none registered by a confidential client", form: form("client_id", "confidential-none"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "none unknown client", form: form("client_id", "nobody"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "B10 basic and post", form: form("client_id", "basic-client", "client_secret", basicSecret), authz: basic("basic-client", basicSecret), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "multiple client authentication methods used"},
		{name: "B10 basic and assertion", form: assertionForm("x.y.z"), authz: basic("basic-client", basicSecret), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "multiple client authentication methods used"},
		{name: "B10 post and assertion", form: func() url.Values { f := assertionForm("x.y.z"); f.Set("client_secret", "s"); return f }(), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "multiple"},
		{name: "B2 client_id differs from Basic id", form: form("client_id", "post-client"), authz: basic("basic-client", basicSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client_id does not match"},
		{name: "repeated client_id", form: form("client_id", "post-client", "client_id", "post-client", "client_secret", postSecret), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_id is repeated"},
		{name: "repeated client_secret", form: form("client_id", "post-client", "client_secret", postSecret, "client_secret", "x"), wantCode: oauth2.ErrInvalidRequest, wantStatus: 400, wantDesc: "client_secret is repeated"},
		{name: "post without client_id", form: form("client_secret", postSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "basic not base64", authz: "Basic !!!", wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "basic without colon", authz: "Basic " + "YmFzaWMtY2xpZW50", wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "basic with empty id", authz: rawBasic("", "x"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "basic with huge id", authz: rawBasic(strings.Repeat("a", 10000), "x"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "disabled client", authz: basic("disabled-client", basicSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "expired secret, correct value", form: form("client_id", "expired-client", "client_secret", postSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "client secret has expired"},
		{name: "expired secret, wrong value stays generic", form: form("client_id", "expired-client", "client_secret", "x"), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "O1 client of another workspace", form: form("client_id", "other-ws-client", "client_secret", postSecret), wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: generic},
		{name: "workspace disallows method", authz: basic("basic-client", basicSecret), settings: func(s *storage.WorkspaceSettings) {
			s.AllowedAuthMethods = []string{oauth2.AuthPrivateKeyJWT}
		}, wantCode: oauth2.ErrInvalidClient, wantStatus: 401, wantDesc: "not allowed in this workspace"},
		{name: "workspace allows method", authz: basic("basic-client", basicSecret), settings: func(s *storage.WorkspaceSettings) {
			s.AllowedAuthMethods = []string{oauth2.AuthClientSecretBasic}
		}, wantMethod: oauth2.AuthClientSecretBasic},
	})
}

// TestD2UnknownAndWrongSecretIdentical: the wire answer for an unknown
// client and a known client with a wrong secret is the same, and both paths
// decrypt a ciphertext.
func TestD2UnknownAndWrongSecretIdentical(t *testing.T) {
	e := newEnv(t)
	_, errUnknown := e.authenticate(nil, basic("nobody", "secret"))
	_, errWrong := e.authenticate(nil, basic("basic-client", "secret"))
	u, w := oauth2.AsError(errUnknown), oauth2.AsError(errWrong)
	if u.Code != w.Code || u.Description != w.Description || u.HTTPStatus() != w.HTTPStatus() || u.RetryAfter != w.RetryAfter {
		t.Fatalf("unknown %+v differs from wrong secret %+v", u, w)
	}
	if e.auth.dummy == nil {
		t.Fatal("no dummy decryption for the unknown client")
	}
}

func TestStorageFailureIsServerError(t *testing.T) {
	e := newEnv(t)
	e.store.getErr = context.DeadlineExceeded
	_, err := e.authenticate(form("client_id", "post-client", "client_secret", postSecret), "")
	ee := wantErr(t, err, oauth2.ErrTemporarilyUnavailable, 503, "")
	if strings.Contains(ee.Description, "deadline") {
		t.Fatal("internal error text in description")
	}
}

// TestFailureBudget: M7/N1 — failed attempts over budget get 429 with
// Retry-After and an invalid_client body; a correct secret still succeeds;
// other clients from other addresses are unaffected.
func TestFailureBudget(t *testing.T) {
	e := newEnv(t)
	e.auth.Limiter = newLimiter(e)
	ctx := context.Background()
	guess := func(i int) Request {
		return e.request(form("client_id", "post-client", "client_secret", fmt.Sprintf("guess-%d", i)), "")
	}
	for i := range 3 {
		_, err := e.auth.Authenticate(ctx, guess(i), "198.51.100.7")
		if oauth2.AsError(err).HTTPStatus() != 401 {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err := e.auth.Authenticate(ctx, guess(3), "198.51.100.7")
	ee := wantErr(t, err, oauth2.ErrInvalidClient, http.StatusTooManyRequests, "too many failed")
	if ee.RetryAfter < 1 {
		t.Fatalf("RetryAfter = %d", ee.RetryAfter)
	}
	// The guesser's address is paused for this client: even the right
	// secret is not checked (RFC 6749 §2.3.1), until the budget refills.
	good := e.request(form("client_id", "post-client", "client_secret", postSecret), "")
	_, err = e.auth.Authenticate(ctx, good, "198.51.100.7")
	wantErr(t, err, oauth2.ErrInvalidClient, http.StatusTooManyRequests, "too many failed")
	// The client itself from elsewhere is not locked out: client IDs are
	// public, anyone could otherwise lock any client out.
	if _, err := e.auth.Authenticate(ctx, good, "192.0.2.80"); err != nil {
		t.Fatalf("the client was locked out everywhere: %v", err)
	}
	other := e.request(nil, basic("basic-client", "bad"))
	_, err = e.auth.Authenticate(ctx, other, "203.0.113.9")
	wantErr(t, err, oauth2.ErrInvalidClient, 401, generic)
	// Same address, other client: the per-IP budget is spent too, so its
	// failures are 429; its right secret still passes (clients behind one
	// NAT address are not paused by one failing neighbour).
	_, err = e.auth.Authenticate(ctx, other, "198.51.100.7")
	wantErr(t, err, oauth2.ErrInvalidClient, http.StatusTooManyRequests, "")
	if _, err := e.auth.Authenticate(ctx, e.request(nil, basic("basic-client", basicSecret)), "198.51.100.7"); err != nil {
		t.Fatalf("a neighbour behind the same address was paused: %v", err)
	}
	// When the pair's budget refills, the right secret passes again.
	e.now = e.now.Add(200 * time.Second)
	if _, err := e.auth.Authenticate(ctx, good, "198.51.100.7"); err != nil {
		t.Fatalf("the pause did not end: %v", err)
	}
	// Storage failures are not charged.
	e.store.getErr = context.Canceled
	_, err = e.auth.Authenticate(ctx, good, "192.0.2.50")
	wantErr(t, err, oauth2.ErrTemporarilyUnavailable, 503, "")
}

// TestStaleSecretDoesNotPause: a client presenting the same wrong secret
// over and over (a replica left with a rotated-out secret) is not
// guessing, so it does not pause its client from its address: the healthy
// replicas behind the same address keep authenticating, while the stale
// one's failures still count against the client and the address (429).
func TestStaleSecretDoesNotPause(t *testing.T) {
	e := newEnv(t)
	e.auth.Limiter = newLimiter(e)
	ctx := context.Background()
	stale := e.request(form("client_id", "post-client", "client_secret", "rotated-out-secret"), "")
	good := e.request(form("client_id", "post-client", "client_secret", postSecret), "")
	for i := range 10 {
		_, err := e.auth.Authenticate(ctx, stale, "198.51.100.7")
		if status := oauth2.AsError(err).HTTPStatus(); status != 401 && status != http.StatusTooManyRequests {
			t.Fatalf("stale attempt %d: %v", i, err)
		}
		if _, err := e.auth.Authenticate(ctx, good, "198.51.100.7"); err != nil {
			t.Fatalf("after %d stale attempts the healthy replica was refused: %v", i+1, err)
		}
	}
	_, err := e.auth.Authenticate(ctx, stale, "198.51.100.7")
	wantErr(t, err, oauth2.ErrInvalidClient, http.StatusTooManyRequests, "too many failed")
	// A guesser from the same address is paused at once: its guesses are new.
	for i := range 3 {
		_, _ = e.auth.Authenticate(ctx, e.request(form("client_id", "post-client", "client_secret", fmt.Sprintf("guess-%d", i)), ""), "198.51.100.7")
	}
	_, err = e.auth.Authenticate(ctx, good, "198.51.100.7")
	wantErr(t, err, oauth2.ErrInvalidClient, http.StatusTooManyRequests, "too many failed")
}

func TestDefaultsWithoutOptionalFields(t *testing.T) {
	e := newEnv(t)
	e.auth.Now, e.auth.Logger = nil, nil
	if _, err := e.authenticate(form("client_id", "post-client", "client_secret", postSecret), ""); err != nil {
		t.Fatal(err)
	}
	e.auth.Keyring = nil
	_, err := e.authenticate(form("client_id", "post-client", "client_secret", postSecret), "")
	wantErr(t, err, oauth2.ErrTemporarilyUnavailable, 503, "")
}
