package oauthclient

import (
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

// GrantDeviceCode is the device authorization grant (RFC 8628 §3.4).
const GrantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// DeviceAuthorization is the device authorization response (RFC 8628
// §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval,omitempty"`
}

// deviceEndpoint is the device authorization endpoint: the explicit one,
// else the discovered device_authorization_endpoint (RFC 8628 §4).
func (c *Client) deviceEndpoint(ctx context.Context) (string, error) {
	if c.DeviceAuthorizationEndpoint != "" {
		return c.DeviceAuthorizationEndpoint, nil
	}
	if c.Issuer != "" && c.md == nil {
		md, err := Discover(ctx, c.HTTP, c.Issuer)
		if err != nil {
			return "", err
		}
		c.md = md
	}
	if c.md == nil || c.md.DeviceAuthorizationEndpoint == "" {
		return "", errors.New("oauthclient: the server advertises no device_authorization_endpoint (give one explicitly)")
	}
	c.DeviceAuthorizationEndpoint = c.md.DeviceAuthorizationEndpoint
	return c.DeviceAuthorizationEndpoint, nil
}

// DeviceAuthorize starts the device authorization grant (RFC 8628 §3.1):
// the client authenticates as at the token endpoint and gets a device
// code and the user code to show.
func (c *Client) DeviceAuthorize(ctx context.Context, p Params) (*DeviceAuthorization, error) {
	if err := c.Resolve(ctx); err != nil {
		return nil, err
	}
	if err := c.Auth.Validate(); err != nil {
		return nil, err
	}
	ep, err := c.deviceEndpoint(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	p.apply(form)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep, nil)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: device authorization endpoint %q: %w", ep, err)
	}
	if err := c.Auth.apply(req, form, c.endpoints(), c.now()); err != nil {
		return nil, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.doDevice(req)
}

func (c *Client) doDevice(req *http.Request) (*DeviceAuthorization, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: POST %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("oauthclient: reading the device authorization response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, parseError(resp, raw)
	}
	var da DeviceAuthorization
	if err := json.Unmarshal(raw, &da); err != nil {
		return nil, fmt.Errorf("oauthclient: the device authorization response is not valid JSON: %w", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" || da.ExpiresIn <= 0 {
		return nil, errors.New("oauthclient: the device authorization response lacks a required member (RFC 8628 §3.2)")
	}
	return &da, nil
}

// DeviceToken polls the token endpoint with the device code until the user
// decides (RFC 8628 §3.4, §3.5): it waits interval seconds (5 when none
// was given) before each request, adds 5 seconds on slow_down for this and
// every later request, keeps polling on authorization_pending and stops on
// any other answer or when the code has expired. wait sleeps (nil: a
// timer honouring ctx).
func (c *Client) DeviceToken(ctx context.Context, da *DeviceAuthorization, wait func(context.Context, time.Duration) error) (*Token, error) {
	if wait == nil {
		wait = sleepCtx
	}
	interval := time.Duration(max(da.Interval, 0)) * time.Second
	if interval == 0 {
		interval = 5 * time.Second
	}
	deadline := c.now().Add(time.Duration(da.ExpiresIn) * time.Second)
	for {
		if err := wait(ctx, interval); err != nil {
			return nil, err
		}
		if !c.now().Before(deadline) {
			return nil, errors.New("oauthclient: the device code expired before the user approved")
		}
		t, err := c.tokenRequest(ctx, url.Values{"grant_type": {GrantDeviceCode}, "device_code": {da.DeviceCode}})
		var oe *Error
		if !errors.As(err, &oe) {
			return t, err
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		default:
			return nil, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
