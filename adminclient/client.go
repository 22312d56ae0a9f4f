package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prefix is the path of the admin API below the server's base URL.
const Prefix = "/admin/v1"

// maxResponseBytes bounds what the client reads from a server.
const maxResponseBytes = 16 << 20

// ErrNoToken is returned before any request when Client.Token is empty:
// every admin route but the OpenAPI document requires one.
var ErrNoToken = errors.New("adminclient: no admin token")

// Client calls the admin API of one Latchkey server. Its zero value is not
// usable: set BaseURL and Token, or use New. A Client is safe for
// concurrent use.
type Client struct {
	// BaseURL is the server's base URL, e.g. https://auth.example.com
	// (without /admin/v1).
	BaseURL string
	// Token is the admin bearer token (LATCHKEY_ADMIN_TOKEN).
	Token string
	// HTTPClient sends the requests; nil uses a client with a 30 s
	// timeout.
	HTTPClient *http.Client
}

// New returns a client for the server at baseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: baseURL, Token: token}
}

// Ptr returns a pointer to v, for the optional fields of requests.
func Ptr[T any](v T) *T { return &v }

// APIError is an error answer of the admin API.
type APIError struct {
	// Status is the HTTP status code.
	Status int `json:"-"`
	// Code is the error code: invalid_request, invalid_token, not_found,
	// conflict, request_too_large, unsupported_media_type, server_error,
	// temporarily_unavailable, too_many_requests (or the status text when
	// the answer was not the API's JSON).
	Code string `json:"error"`
	// Description is a sentence for a person.
	Description string `json:"error_description,omitempty"`
	// Errors lists every problem of an invalid input.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one problem of an invalid input.
type FieldError struct {
	Field   string `json:"field"`   // e.g. redirect_uris[1]
	Rule    string `json:"rule"`    // e.g. redirect_uri
	Message string `json:"message"` // a sentence naming the field
}

// Error lists the field errors one per line when there are any, and the
// description otherwise.
func (e *APIError) Error() string {
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

// ListOptions select a page of a paginated list.
type ListOptions struct {
	// Limit is the page size (1..500; 0: the server default of 50).
	Limit int
	// PageToken is the NextPageToken of the previous page.
	PageToken string
	// Query keeps the items whose ID or name (users: ID, username or
	// email) starts with it, ignoring the case of A-Z (of every letter in
	// emails).
	Query string
}

// Values are the query parameters of o, for Client.Do.
func (o ListOptions) Values() url.Values {
	v := url.Values{}
	if o.Limit > 0 {
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.PageToken != "" {
		v.Set("page_token", o.PageToken)
	}
	if o.Query != "" {
		v.Set("q", o.Query)
	}
	return v
}

// Do sends one request to path (below /admin/v1, e.g. "/workspaces") with
// body encoded as JSON when it is not nil, and returns the body of a 2xx
// answer unchanged. Any other answer is an *APIError. The typed methods
// are built on it; it serves routes they do not cover and callers that
// want the server's JSON as is.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	if c.Token == "" {
		return nil, ErrNoToken
	}
	u := strings.TrimRight(c.BaseURL, "/") + Prefix + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("adminclient: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("adminclient: bad server URL: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	return c.send(req)
}

func (c *Client) send(req *http.Request) ([]byte, error) {
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("adminclient: %w", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("adminclient: read response: %w", err)
	}
	if res.StatusCode/100 == 2 {
		return raw, nil
	}
	ae := &APIError{}
	if json.Unmarshal(raw, ae) != nil || ae.Code == "" {
		ae = &APIError{Code: http.StatusText(res.StatusCode)}
	}
	ae.Status = res.StatusCode
	return nil, ae
}

// call sends one request and decodes the answer into a T.
func call[T any](ctx context.Context, c *Client, method, path string, query url.Values, body any) (T, error) {
	var out T
	raw, err := c.Do(ctx, method, path, query, body)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("adminclient: unexpected response to %s %s: %w", method, path, err)
	}
	return out, nil
}

// items sends one request answered by a complete list.
func items[T any](ctx context.Context, c *Client, method, path string, body any) ([]T, error) {
	l, err := call[List[T]](ctx, c, method, path, nil, body)
	return l.Items, err
}

// noContent sends one request answered by 204 No Content.
func (c *Client) noContent(ctx context.Context, method, path string, body any) error {
	_, err := c.Do(ctx, method, path, nil, body)
	return err
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// Collection is a list of resources read and written the same way: T is
// the resource, R the body of its create and update requests.
type Collection[T, R any] struct {
	c    *Client
	path string
}

// List returns one page.
func (l Collection[T, R]) List(ctx context.Context, opts ListOptions) (Page[T], error) {
	return call[Page[T]](ctx, l.c, http.MethodGet, l.path, opts.Values(), nil)
}

// Get returns one resource.
func (l Collection[T, R]) Get(ctx context.Context, id string) (T, error) {
	return call[T](ctx, l.c, http.MethodGet, l.path+"/"+seg(id), nil, nil)
}

// Create creates a resource and returns it.
func (l Collection[T, R]) Create(ctx context.Context, req R) (T, error) {
	return call[T](ctx, l.c, http.MethodPost, l.path, nil, req)
}

// Update changes the fields set in req and returns the result.
func (l Collection[T, R]) Update(ctx context.Context, id string, req R) (T, error) {
	return call[T](ctx, l.c, http.MethodPatch, l.path+"/"+seg(id), nil, req)
}

// Delete deletes a resource.
func (l Collection[T, R]) Delete(ctx context.Context, id string) error {
	return l.c.noContent(ctx, http.MethodDelete, l.path+"/"+seg(id), nil)
}
