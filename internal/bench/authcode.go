package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Authorization code flow scenarios: complete flows per
// second (authorize → sign in → consent remembered → code → tokens, each
// flow in a fresh browser) and refresh token rotations per second.

const (
	flowRedirect = "https://bench.example/cb"
	flowUser     = "bench-user"
)

// RunFlows measures the authorization code flow and refresh scenarios in
// a fresh workspace whose keys use alg.
func RunFlows(ctx context.Context, cfg Config, alg string, progress io.Writer) ([]Row, error) {
	f, err := NewFixture(ctx, cfg, "bench-flows", alg)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close(context.WithoutCancel(ctx)) }()
	password, err := f.enableCodeFlow(ctx)
	if err != nil {
		return nil, err
	}
	fl := &flows{f: f, password: password}
	if _, err := fl.flow(ctx); err != nil { // grants the consent once
		return nil, err
	}
	fmt.Fprintf(progress, "measuring authorization code flows (%s)...\n", alg)
	flowRes := f.load(func(ctx context.Context) error { _, err := fl.flow(ctx); return err }).Run(ctx)
	pool := make(chan string, max(cfg.Concurrency, 1))
	for range cap(pool) {
		rt, err := fl.flow(ctx)
		if err != nil {
			return nil, err
		}
		pool <- rt
	}
	fmt.Fprintf(progress, "measuring refresh token rotation (%s)...\n", alg)
	refreshRes := f.load(func(ctx context.Context) error { return fl.refresh(ctx, pool) }).Run(ctx)
	return []Row{
		{Scenario: "authcode_flow", Alg: alg, Result: flowRes},
		{Scenario: "refresh_token", Alg: alg, Result: refreshRes},
	}, nil
}

// enableCodeFlow turns the fixture's client into a code flow client and
// creates the user with a random password.
func (f *Fixture) enableCodeFlow(ctx context.Context) (string, error) {
	base := "/workspaces/" + f.Workspace
	if err := f.admin(ctx, http.MethodPatch, base+"/clients/"+url.PathEscape(f.ClientID), map[string]any{
		"grant_types":   []string{"authorization_code", "refresh_token"},
		"redirect_uris": []string{flowRedirect},
	}, nil); err != nil {
		return "", err
	}
	if err := f.admin(ctx, http.MethodPost, base+"/users", map[string]any{"id": flowUser, "username": flowUser, "active": true}, nil); err != nil {
		return "", err
	}
	password := randomString()
	return password, f.admin(ctx, http.MethodPut, base+"/users/"+flowUser+"/password", map[string]any{"password": password}, nil)
}

type flows struct {
	f        *Fixture
	password string
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// flow runs one complete flow in a fresh browser and returns the refresh
// token.
func (fl *flows) flow(ctx context.Context) (string, error) {
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, Transport: fl.f.client.Transport, Timeout: fl.f.client.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := randomString()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {fl.f.ClientID}, "redirect_uri": {flowRedirect},
		"scope": {"openid offline_access"}, "state": {"bench"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	loc, _, err := browse(ctx, b, http.MethodGet, fl.f.Issuer+"/oauth2/authorize?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	for step := 0; step < 4 && !strings.HasPrefix(loc, flowRedirect); step++ {
		if loc, err = fl.interact(ctx, b, loc); err != nil {
			return "", err
		}
	}
	u, err := url.Parse(loc)
	if err != nil || u.Query().Get("code") == "" {
		return "", fmt.Errorf("bench: no code in %.200s", loc)
	}
	return fl.tokens(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {flowRedirect}, "code_verifier": {verifier}}.Encode())
}

// interact handles one page: the sign-in form or the consent form.
func (fl *flows) interact(ctx context.Context, b *http.Client, page string) (string, error) {
	loc, body, err := browse(ctx, b, http.MethodGet, page, nil)
	if err != nil || loc != "" {
		return loc, err
	}
	m := csrfRe.FindStringSubmatch(body)
	u, _ := url.Parse(page)
	if m == nil || u == nil {
		return "", fmt.Errorf("bench: unexpected page %s", page)
	}
	form := url.Values{"csrf_token": {m[1]}, "request_id": {u.Query().Get("request_id")}}
	target := fl.f.Issuer + "/consent"
	if strings.Contains(page, "/login") {
		form.Set("username", flowUser)
		form.Set("password", fl.password)
		form.Set("action", "login")
		target = fl.f.Issuer + "/login"
	} else {
		form.Set("action", "allow")
	}
	loc, _, err = browse(ctx, b, http.MethodPost, target, form)
	return loc, err
}

// browse sends one browser request; a 303 answers its Location, a 200 its
// body.
func browse(ctx context.Context, b *http.Client, method, target string, form url.Values) (string, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return "", "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusSeeOther, http.StatusFound:
		return resp.Header.Get("Location"), "", nil
	case http.StatusOK:
		return "", string(raw), nil
	}
	return "", "", fmt.Errorf("bench: %s %s answered %d", method, req.URL.Path, resp.StatusCode)
}

// tokens posts a token request and returns the refresh token.
func (fl *flows) tokens(ctx context.Context, form string) (string, error) {
	body, err := postForm(ctx, fl.f.client, func(ctx context.Context) (*http.Request, error) {
		return fl.f.formRequest(ctx, "/oauth2/token", form, true)
	})
	if err != nil {
		return "", err
	}
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.RefreshToken == "" {
		return "", errors.New("bench: token response without refresh_token")
	}
	return resp.RefreshToken, nil
}

// refresh rotates one refresh token of the pool; each worker holds a
// token at a time, so no rotation ever races another.
func (fl *flows) refresh(ctx context.Context, pool chan string) error {
	var rt string
	select {
	case rt = <-pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	next, err := fl.tokens(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode())
	if err != nil {
		pool <- rt
		return err
	}
	pool <- next
	return nil
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
