package oauthtest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

var hiddenQ = regexp.MustCompile(`name="q" value="([^"]*)"`)

// Browser is a headless stand-in for a person with a browser: it follows
// the authorization URL, posts the sign-in form with user and password, and
// follows the redirect to the client's loopback listener, keeping cookies
// like a browser. It returns once the landing page has loaded.
func Browser(user, password string) func(ctx context.Context, authURL string) error {
	return func(ctx context.Context, authURL string) error {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		page, err := fetch(ctx, hc, http.MethodGet, authURL, nil)
		if err != nil {
			return err
		}
		m := hiddenQ.FindStringSubmatch(page)
		if m == nil {
			return fmt.Errorf("oauthtest: no sign-in form: %s", page)
		}
		u, _ := url.Parse(authURL)
		form := url.Values{"q": {html.UnescapeString(m[1])}, "username": {user}, "password": {password}}
		page, err = fetch(ctx, hc, http.MethodPost, u.Scheme+"://"+u.Host+"/authorize", form)
		if err == nil && !strings.Contains(page, "close this window") {
			err = fmt.Errorf("oauthtest: landing page lacks the close message: %s", page)
		}
		return err
	}
}

func fetch(ctx context.Context, hc *http.Client, method, u string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
