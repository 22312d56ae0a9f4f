package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config points the benchmark at a running server.
type Config struct {
	Server      string // base URL, e.g. http://127.0.0.1:8080
	AdminToken  string
	Concurrency int
	Duration    time.Duration
	HTTPClient  *http.Client // nil: a keep-alive client sized for Concurrency
	// NetHTTP sends the timed requests with net/http's client instead of
	// the lean wireClient (to compare what the load generator costs).
	NetHTTP bool
	// MaxCodes caps the codes minted before the code scenario (0: as
	// many as the raw signing rate says the run could redeem).
	MaxCodes int
}

// Fixture is a throwaway workspace with one service and one confidential
// client, created through the admin API so the run measures a server
// configured exactly as an operator would configure it.
type Fixture struct {
	cfg    Config
	client *http.Client
	// wire sends the timed requests (nil with Config.NetHTTP); issuerPath
	// is the path of Issuer, basicAuth the client's Authorization line.
	wire       *wireClient
	issuerPath string
	basicAuth  string
	// tokenPath is the token endpoint below the issuer: "/oauth2/token"
	// on Latchkey, the whole path on another server (ExternalFixture).
	tokenPath string
	// checkToken, when set, checks each token response (ExternalFixture
	// insists on a JWT so that both servers sign).
	checkToken func(body []byte) error
	// meter replaces the /metrics CPU reading (ExternalFixture).
	meter        func(ctx context.Context) cpuSample
	Workspace    string
	Issuer       string
	ClientID     string
	ClientSecret string
}

// NewFixture creates workspace ws (deleting a leftover one first) whose
// keys use alg.
func NewFixture(ctx context.Context, cfg Config, ws, alg string) (*Fixture, error) {
	f := &Fixture{cfg: cfg, client: cfg.httpClient(), Workspace: ws, tokenPath: "/oauth2/token"}
	_ = f.admin(ctx, http.MethodDelete, "/workspaces/"+ws, nil, nil)
	var created struct {
		Issuer string `json:"issuer"`
	}
	err := f.admin(ctx, http.MethodPost, "/workspaces", map[string]any{
		"id": ws, "name": "Benchmark " + alg, "settings": map[string]any{"signing_alg": alg},
	}, &created)
	if err != nil {
		return nil, err
	}
	f.Issuer = created.Issuer
	if err := f.admin(ctx, http.MethodPost, "/workspaces/"+ws+"/services", map[string]any{
		"id": "bench-api", "name": "Bench API", "identifier": "https://bench.example/api",
		"scopes": []map[string]string{{"name": "bench:read", "description": "read"}},
	}, nil); err != nil {
		return nil, err
	}
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := f.admin(ctx, http.MethodPost, "/workspaces/"+ws+"/clients", map[string]any{
		"name": "bench", "type": "confidential", "grant_types": []string{"client_credentials"},
		"scopes": []string{"bench:read"}, "token_endpoint_auth_method": "client_secret_basic",
	}, &client); err != nil {
		return nil, err
	}
	f.ClientID, f.ClientSecret = client.ClientID, client.ClientSecret
	if err := f.useWire(); err != nil {
		return nil, err
	}
	return f, nil
}

// useWire sets up the lean client for the issuer's server.
func (f *Fixture) useWire() error {
	auth := url.QueryEscape(f.ClientID) + ":" + url.QueryEscape(f.ClientSecret)
	f.basicAuth = "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	if f.cfg.NetHTTP {
		return nil
	}
	u, err := url.Parse(f.Issuer)
	if err != nil {
		return fmt.Errorf("bench: issuer %q: %w", f.Issuer, err)
	}
	f.issuerPath = u.EscapedPath()
	f.wire, err = newWireClient(u.Scheme+"://"+u.Host, max(f.cfg.Concurrency, 1), 30*time.Second)
	return err
}

// Close deletes the fixture's workspace.
func (f *Fixture) Close(ctx context.Context) error {
	if f.wire != nil {
		f.wire.close()
	}
	return f.admin(ctx, http.MethodDelete, "/workspaces/"+f.Workspace, nil, nil)
}

// post sends one timed form POST to path (below the issuer), with the
// client's Basic credentials when basic is set, and passes the body of a
// 200 answer to check (nil: any 200 will do).
func (f *Fixture) post(ctx context.Context, path string, basic bool, form string, check func(body []byte) error) error {
	if f.wire != nil {
		headers := ""
		if basic {
			headers = f.basicAuth
		}
		return f.wire.post(ctx, f.issuerPath+path, headers, form, check)
	}
	body, err := postForm(ctx, f.client, func(ctx context.Context) (*http.Request, error) {
		return f.formRequest(ctx, path, form, basic)
	})
	if err == nil && check != nil {
		err = check(body)
	}
	return err
}

// Token gets one client_credentials access token.
func (f *Fixture) Token(ctx context.Context) (string, error) {
	return f.tokenFor(ctx, "grant_type=client_credentials")
}

// tokenFor posts form to the token endpoint with the client's Basic
// credentials and returns the access token of the answer.
func (f *Fixture) tokenFor(ctx context.Context, form string) (string, error) {
	body, err := postForm(ctx, f.client, func(ctx context.Context) (*http.Request, error) {
		return f.formRequest(ctx, f.tokenPath, form, true)
	})
	if err != nil {
		return "", err
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.AccessToken == "" {
		return "", fmt.Errorf("bench: token response without access_token: %.200s", body)
	}
	return resp.AccessToken, nil
}

// ClientCredentials is the load of the token endpoint.
func (f *Fixture) ClientCredentials() Load {
	return f.load(func(ctx context.Context) error {
		return f.post(ctx, f.tokenPath, true, "grant_type=client_credentials", f.checkToken)
	})
}

// Introspect is the load of the introspection endpoint for one token,
// checking every answer says active.
func (f *Fixture) Introspect(token string) Load {
	form := url.Values{"token": {token}}.Encode()
	return f.load(func(ctx context.Context) error {
		return f.post(ctx, "/oauth2/introspect", true, form, func(body []byte) error {
			if !bytes.Contains(body, []byte(`"active":true`)) {
				return fmt.Errorf("bench: token not active: %.200s", body)
			}
			return nil
		})
	})
}

func (f *Fixture) load(do func(ctx context.Context) error) Load {
	meter := f.meter
	if meter == nil {
		meter = func(ctx context.Context) cpuSample { return sampleCPU(ctx, f.client, f.cfg.Server) }
	}
	return Load{Concurrency: f.cfg.Concurrency, Duration: f.cfg.Duration, Do: do, meter: meter}
}

// formRequest is a form POST to path below the issuer for net/http, with
// the client's Basic credentials when basic is set.
func (f *Fixture) formRequest(ctx context.Context, path, form string, basic bool) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Issuer+path, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		r.SetBasicAuth(url.QueryEscape(f.ClientID), url.QueryEscape(f.ClientSecret))
	}
	return r, nil
}

func (f *Fixture) admin(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(f.cfg.Server, "/")+"/admin/v1"+path, body)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+f.cfg.AdminToken)
	r.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("bench: admin %s %s answered %d: %.300s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	n := max(c.Concurrency, 1)
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // the benchmark measures the server, never a proxy
			MaxIdleConns:        n * 2,
			MaxIdleConnsPerHost: n * 2,
			MaxConnsPerHost:     n * 2,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
