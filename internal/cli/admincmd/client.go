package admincmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponseBytes bounds what the CLI reads from a server.
const maxResponseBytes = 16 << 20

// apiClient calls the admin API.
type apiClient struct {
	server string
	token  string
	http   *http.Client
}

// apiError is an error response of the admin API.
type apiError struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Errors      []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

func (e *apiError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server answered %d %s", e.Status, e.Code)
	if len(e.Errors) == 0 && e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	for _, fe := range e.Errors {
		b.WriteString("\n  - " + fe.Message)
	}
	return b.String()
}

// do sends one request and returns the raw response body of a 2xx answer.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	u := strings.TrimRight(c.server, "/") + "/admin/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("admin: bad server URL: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token == "" {
		return nil, errors.New("admin: no admin token: pass --token or set LATCHKEY_ADMIN_TOKEN")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	return c.send(req)
}

func (c *apiClient) send(req *http.Request) ([]byte, error) {
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("admin: read response: %w", err)
	}
	if res.StatusCode/100 == 2 {
		return raw, nil
	}
	ae := &apiError{Status: res.StatusCode}
	if json.Unmarshal(raw, ae) != nil || ae.Code == "" {
		ae.Code = http.StatusText(res.StatusCode)
	}
	return nil, ae
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
