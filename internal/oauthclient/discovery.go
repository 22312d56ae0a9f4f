package oauthclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Metadata is the part of an authorization server's metadata (OIDC
// Discovery §3, RFC 8414 §2) that a client uses.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	IDTokenSigningAlgs                []string `json:"id_token_signing_alg_values_supported,omitempty"`
	// DeviceAuthorizationEndpoint is RFC 8628 §4.
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	// PushedAuthorizationRequestEndpoint is RFC 9126 §5.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
}

// Discover fetches the metadata of issuer: first
// {issuer}/.well-known/openid-configuration (OIDC Discovery §4), then the
// RFC 8414 §3 form {origin}/.well-known/oauth-authorization-server{path}.
// The document's issuer must equal the one asked for (OIDC Discovery
// §4.3, RFC 8414 §3.3), which defeats mix-up through a rogue document.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	issuer = strings.TrimSuffix(issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oauthclient: issuer %q is not an http(s) URL", issuer)
	}
	var errs []string
	for _, doc := range discoveryURLs(u) {
		md, err := fetchMetadata(ctx, hc, doc)
		if err == nil {
			return md, checkIssuer(md, issuer)
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("oauthclient: discovery failed: %s", strings.Join(errs, "; "))
}

func discoveryURLs(u *url.URL) []string {
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{
		origin + path + "/.well-known/openid-configuration",
		origin + "/.well-known/oauth-authorization-server" + path,
	}
}

func fetchMetadata(ctx context.Context, hc *http.Client, doc string) (*Metadata, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", doc, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", doc, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", doc, resp.StatusCode)
	}
	var md Metadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("GET %s: not a JSON metadata document: %w", doc, err)
	}
	return &md, nil
}

func checkIssuer(md *Metadata, issuer string) error {
	if strings.TrimSuffix(md.Issuer, "/") != issuer {
		return fmt.Errorf("oauthclient: discovery document names issuer %q, not %q (OIDC Discovery §4.3)", md.Issuer, issuer)
	}
	if md.TokenEndpoint == "" {
		return fmt.Errorf("oauthclient: discovery document of %s has no token_endpoint", issuer)
	}
	return nil
}
