package service

import (
	"context"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// AuthFlowSettings are a client's settings of the authorization code flow
// and OpenID Connect that the console's presentation settings
// do not cover.
type AuthFlowSettings struct {
	// SectorIdentifierURI (OIDC Registration §5) must be https and serve a
	// JSON array listing every redirect URI of the client.
	SectorIdentifierURI string
	// PostLogoutRedirectURIs are matched exactly at logout.
	PostLogoutRedirectURIs []string
	// IDTokenSignedResponseAlg is "" (the workspace's) or one of the
	// signing algorithms.
	IDTokenSignedResponseAlg string
	RefreshTokens            *storage.RefreshTokenSettings
	// LogoutChannels are the back- and front-channel logout URIs
	// (logoutchannels.go).
	LogoutChannels
	// CIBASettings are the backchannel authentication settings (ciba.go).
	CIBASettings
}

// AuthFlowPatch updates AuthFlowSettings; nil fields are left unchanged.
type AuthFlowPatch struct {
	SectorIdentifierURI      *string
	PostLogoutRedirectURIs   *[]string
	IDTokenSignedResponseAlg *string
	// RefreshTokens replaces the whole refresh token settings.
	RefreshTokens **storage.RefreshTokenSettings
	LogoutChannelsPatch
	CIBASettingsPatch
}

// Apply returns in with the patch's fields set.
func (p AuthFlowPatch) Apply(in AuthFlowSettings) AuthFlowSettings {
	setString(&in.SectorIdentifierURI, p.SectorIdentifierURI)
	setList(&in.PostLogoutRedirectURIs, p.PostLogoutRedirectURIs)
	setString(&in.IDTokenSignedResponseAlg, p.IDTokenSignedResponseAlg)
	if p.RefreshTokens != nil {
		in.RefreshTokens = *p.RefreshTokens
	}
	in.LogoutChannels = p.LogoutChannelsPatch.apply(in.LogoutChannels)
	in.CIBASettings = p.CIBASettingsPatch.apply(in.CIBASettings)
	return in
}

func (p AuthFlowPatch) fields() []string {
	fields := setFields("sector_identifier_uri", p.SectorIdentifierURI != nil,
		"post_logout_redirect_uris", p.PostLogoutRedirectURIs != nil,
		"id_token_signed_response_alg", p.IDTokenSignedResponseAlg != nil, "refresh_tokens", p.RefreshTokens != nil,
		"backchannel_logout_uri", p.BackchannelLogoutURI != nil,
		"backchannel_logout_session_required", p.BackchannelLogoutSessionRequired != nil,
		"frontchannel_logout_uri", p.FrontchannelLogoutURI != nil,
		"frontchannel_logout_session_required", p.FrontchannelLogoutSessionRequired != nil)
	return append(fields, p.CIBASettingsPatch.fields()...)
}

func authFlowOf(c storage.Client) AuthFlowSettings {
	return AuthFlowSettings{
		SectorIdentifierURI: c.SectorIdentifierURI, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		IDTokenSignedResponseAlg: c.IDTokenSignedResponseAlg, RefreshTokens: c.RefreshTokens,
		LogoutChannels: logoutChannelsOf(c), CIBASettings: cibaOf(c),
	}
}

func withAuthFlow(c storage.Client, a AuthFlowSettings) storage.Client {
	c.SectorIdentifierURI, c.PostLogoutRedirectURIs = a.SectorIdentifierURI, a.PostLogoutRedirectURIs
	c.IDTokenSignedResponseAlg, c.RefreshTokens = a.IDTokenSignedResponseAlg, a.RefreshTokens
	return withCIBA(withLogoutChannels(c, a.LogoutChannels), a.CIBASettings)
}

// Bounds of the refresh token settings.
const (
	MaxRefreshGracePeriod = 5 * time.Minute
	MaxRefreshLifetime    = 5 * 365 * 24 * time.Hour
)

// validateAuthFlow checks the settings without I/O (the sector identifier
// document is fetched by checkSector).
func (s *Service) validateAuthFlow(v *validator, ws storage.Workspace, in ClientInput) {
	a := in.AuthFlowSettings
	if a.SectorIdentifierURI != "" && v.maxLen("sector_identifier_uri", a.SectorIdentifierURI, maxURILength) {
		if err := s.validateURL(a.SectorIdentifierURI); err != nil {
			v.add("sector_identifier_uri", "url", "must be an https URL the server may fetch: %v", err)
		}
	}
	if v.maxItems("post_logout_redirect_uris", len(a.PostLogoutRedirectURIs), MaxRedirectURIs) {
		for _, u := range a.PostLogoutRedirectURIs {
			if p := redirectURIProblem(u, in.Type); p != "" {
				v.add("post_logout_redirect_uris", "redirect_uri", "%s", p)
			}
		}
	}
	// A workspace signs with one algorithm at a time (its keys'), so a
	// client may only ask for that one (OIDC Registration §2).
	v.check(a.IDTokenSignedResponseAlg == "" || a.IDTokenSignedResponseAlg == ws.Settings.SigningAlg,
		"id_token_signed_response_alg", "enum", "must be empty or the workspace's signing algorithm %s", ws.Settings.SigningAlg)
	if in.SubjectType == SubjectPairwise && a.SectorIdentifierURI == "" {
		v.check(len(redirectHosts(in.RedirectURIs)) <= 1, "sector_identifier_uri", "required",
			"is required for a pairwise client whose redirect URIs have more than one host (OIDC Core §8.1)")
	}
	validateRefreshSettings(v, in.Type, a.RefreshTokens)
	s.validateLogoutChannels(v, in)
	s.validateCIBA(v, in)
}

func validateRefreshSettings(v *validator, clientType string, r *storage.RefreshTokenSettings) {
	if r == nil {
		return
	}
	v.check(r.GracePeriod >= 0 && r.GracePeriod <= MaxRefreshGracePeriod, "refresh_tokens.grace_period", "range",
		"must be between 0 and %s", MaxRefreshGracePeriod)
	v.check(r.IdleTTL >= 0 && r.IdleTTL <= MaxRefreshLifetime, "refresh_tokens.idle_ttl", "range", "must be between 0 and %s", MaxRefreshLifetime)
	v.check(r.AbsoluteTTL >= 0 && r.AbsoluteTTL <= MaxRefreshLifetime, "refresh_tokens.absolute_ttl", "range",
		"must be between 0 and %s", MaxRefreshLifetime)
	// RFC 9700 §2.2.2: refresh tokens of public clients must be rotated.
	v.check(!r.NoRotation || clientType != oauth2.ClientPublic, "refresh_tokens.no_rotation", "public_client",
		"public clients must rotate refresh tokens (RFC 9700 §2.2.2)")
}

func redirectHosts(uris []string) []string {
	var hosts []string
	for _, raw := range uris {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" && !slices.Contains(hosts, u.Hostname()) {
			hosts = append(hosts, u.Hostname())
		}
	}
	return hosts
}

// SectorFetcher fetches a sector identifier document (a JSON array of
// URIs) SSRF-safely.
type SectorFetcher func(ctx context.Context, uri string) ([]string, error)

// checkSector fetches the client's sector_identifier_uri and requires it
// to list every redirect URI (OIDC Registration §5, SECURITY.md L7).
func (s *Service) checkSector(ctx context.Context, in ClientInput) error {
	uri := in.SectorIdentifierURI
	if uri == "" {
		return nil
	}
	var v validator
	if s.FetchSector == nil {
		v.add("sector_identifier_uri", "fetch", "cannot be checked: the server has no fetcher configured")
		return v.err()
	}
	listed, err := s.FetchSector(ctx, uri)
	if err != nil {
		v.add("sector_identifier_uri", "fetch", "could not be fetched as a JSON array of URIs")
		return v.err()
	}
	for _, r := range in.RedirectURIs {
		v.check(slices.Contains(listed, r), "sector_identifier_uri", "redirect_uris",
			"must list every redirect URI of the client (missing %q)", r)
	}
	return v.err()
}

func (s *Service) validateURL(raw string) error {
	f := s.ValidateURL
	if f == nil {
		f = ssrf.ValidateURL
	}
	return f(raw, s.AllowPrivateURLs)
}

// checkSectorOfPatch checks the sector identifier document of the client
// a patch would produce, before the update runs (an updater may not do
// I/O). Only patches touching the sector URI or the redirect URIs fetch.
func (s *Service) checkSectorOfPatch(ctx context.Context, wsID, id string, p ClientPatch) error {
	if p.SectorIdentifierURI == nil && p.RedirectURIs == nil {
		return nil
	}
	old, err := s.Store.GetClient(ctx, wsID, id)
	if err != nil {
		return mapStore(err, "client", id)
	}
	return s.checkSector(ctx, applyClientPatch(clientToInput(old), p))
}
