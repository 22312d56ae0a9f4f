package oauthclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultTimeout bounds each request to the authorization server.
const DefaultTimeout = 30 * time.Second

// maxResponse caps what is read from a server answer.
const maxResponse = 1 << 20

// NewHTTPClient returns the client for all requests to the authorization
// server. A non-empty proxy ("http://user:pass@proxy:3128") is applied
// explicitly to every request, loopback included; HTTPS goes through it
// with CONNECT, and the URL's userinfo becomes Proxy-Authorization (Basic)
// for both. Without one, the usual HTTPS_PROXY/NO_PROXY environment applies.
func NewHTTPClient(proxy string, timeout time.Duration) (*http.Client, error) {
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("oauthclient: unexpected default transport")
	}
	tr = tr.Clone()
	if proxy != "" {
		u, err := ParseProxyURL(proxy)
		if err != nil {
			return nil, err
		}
		tr.Proxy = http.ProxyURL(u)
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// ParseProxyURL checks a proxy URL: http or https scheme, a host, nothing
// else than an optional userinfo.
func ParseProxyURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("oauthclient: proxy URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("oauthclient: proxy URL %q: want http://[user:password@]host:port", redactURL(u))
	}
	return u, nil
}

// redactURL hides a password in a URL shown to a person.
func redactURL(u *url.URL) string {
	return u.Redacted()
}
