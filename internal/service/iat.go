package service

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Limits of initial access tokens.
const (
	maxIATDescription    = 200
	maxIATExpiresIn      = 365 * 24 * time.Hour
	maxIATUses           = 1_000_000
	maxPolicyListItems   = 100
	maxRedirectPatternLn = 2048
)

// Application types of OpenID Connect Dynamic Client Registration §2
// (application_type); "web" is the default.
const (
	ApplicationTypeWeb    = storage.ApplicationTypeWeb
	ApplicationTypeNative = storage.ApplicationTypeNative
)

// ApplicationTypes are the accepted application_type values: the two of
// OpenID Connect Registration §2 and Latchkey's spa and service
// (clientvalidate.go).
var ApplicationTypes = []string{ApplicationTypeWeb, ApplicationTypeNative, ApplicationTypeSPA, ApplicationTypeService}

// DefaultRegistrationGrantTypes is the grant list of the narrow default
// registration policy (docs/security.md R2): client_credentials or the
// authorization code flow (with its refresh tokens), no grant that issues
// tokens for users on the client's word alone.
var DefaultRegistrationGrantTypes = []string{
	oauth2.GrantClientCredentials, oauth2.GrantAuthorizationCode, oauth2.GrantRefreshToken,
}

// ImpersonatingGrants issue tokens for a user on the strength of the
// client's own assertion (RFC 7523 §2.1; RFC 8693 impersonation). Dynamic
// registration may ask for them only with a token whose policy sets
// AllowImpersonation (docs/security.md R1).
var ImpersonatingGrants = []string{oauth2.GrantJWTBearer, oauth2.GrantTokenExchange}

// InitialAccessTokenInput creates an initial access token for dynamic
// client registration (RFC 7591 §3).
type InitialAccessTokenInput struct {
	Description string
	// ExpiresIn is the lifetime; 0 means the token never expires.
	ExpiresIn time.Duration
	// MaxUses is how many registrations it allows; 0 means unlimited.
	MaxUses int
	// Policy limits the registrations; the zero value is the narrow
	// default (see NormalizeRegistrationPolicy).
	Policy storage.RegistrationPolicy
}

// NormalizeRegistrationPolicy fills the defaults of a policy: an empty
// grant list is DefaultRegistrationGrantTypes. Empty scope, auth method,
// application type and redirect URI pattern lists mean "no restriction
// beyond the workspace's rules".
func NormalizeRegistrationPolicy(p storage.RegistrationPolicy) storage.RegistrationPolicy {
	if len(p.GrantTypes) == 0 {
		p.GrantTypes = slices.Clone(DefaultRegistrationGrantTypes)
	}
	return p
}

// EffectiveRegistrationPolicy is the policy RFC 7592 updates of a
// dynamically registered client are checked against: the snapshot taken
// at registration, or the default policy for clients registered before
// policies existed. Deleting the token changes nothing.
func EffectiveRegistrationPolicy(c storage.Client) storage.RegistrationPolicy {
	if c.RegistrationPolicy == nil {
		return NormalizeRegistrationPolicy(storage.RegistrationPolicy{})
	}
	return NormalizeRegistrationPolicy(*c.RegistrationPolicy)
}

// CreateInitialAccessToken stores a new token and returns its record and
// the bearer value ("lki_" + 256 random bits). Only the SHA-256 of the
// value is stored, so the value is shown once.
func (s *Service) CreateInitialAccessToken(ctx context.Context, wsID string, in InitialAccessTokenInput) (storage.InitialAccessToken, string, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.InitialAccessToken{}, "", err
	}
	policy := NormalizeRegistrationPolicy(in.Policy)
	var v validator
	v.maxLen("description", in.Description, maxIATDescription)
	v.check(in.ExpiresIn >= 0 && in.ExpiresIn <= maxIATExpiresIn, "expires_in", "range",
		"must be 0 (never) or at most %s", maxIATExpiresIn)
	v.check(in.MaxUses >= 0 && in.MaxUses <= maxIATUses, "max_uses", "range",
		"must be 0 (unlimited) or at most %d", maxIATUses)
	if err := s.validatePolicy(ctx, &v, wsID, policy); err != nil {
		return storage.InitialAccessToken{}, "", err
	}
	if err := v.err(); err != nil {
		return storage.InitialAccessToken{}, "", err
	}
	token := InitialAccessTokenPrefix + randomToken(32)
	now := s.now()
	t := storage.InitialAccessToken{
		WorkspaceID: wsID, ID: "iat_" + randomToken(12), Hash: HashToken(token),
		Description: in.Description, UsesLeft: -1, CreatedAt: now, Policy: policy,
	}
	if in.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(in.ExpiresIn)
	}
	if in.MaxUses > 0 {
		t.UsesLeft = in.MaxUses
	}
	if err := s.Store.CreateInitialAccessToken(ctx, t); err != nil {
		return storage.InitialAccessToken{}, "", mapStore(err, "initial access token", t.ID)
	}
	s.audit(ctx, wsID, AuditIATCreate, TargetIAT, t.ID, map[string]any{
		"description": t.Description, "uses": t.UsesLeft, "grant_types": policy.GrantTypes,
		"scopes": policy.Scopes, "auth_methods": policy.AuthMethods, "application_types": policy.ApplicationTypes,
		"redirect_uri_patterns": policy.RedirectURIPatterns, "allow_impersonation": policy.AllowImpersonation,
	})
	return t, token, nil
}

// validatePolicy checks a (normalized) registration policy. A policy that
// lists an impersonating grant must say so with AllowImpersonation, so the
// choice is never made by accident.
func (s *Service) validatePolicy(ctx context.Context, v *validator, wsID string, p storage.RegistrationPolicy) error {
	if v.maxItems("grant_types", len(p.GrantTypes), len(ClientGrantTypes)) {
		validateEnumList(v, "grant_types", p.GrantTypes, ClientGrantTypes)
	}
	for _, g := range p.GrantTypes {
		v.check(!slices.Contains(ImpersonatingGrants, g) || p.AllowImpersonation, "grant_types", "impersonation",
			"%s issues tokens for users and requires allow_impersonation", g)
	}
	if v.maxItems("auth_methods", len(p.AuthMethods), len(oauth2.AllAuthMethods)) {
		validateEnumList(v, "auth_methods", p.AuthMethods, oauth2.AllAuthMethods)
	}
	if v.maxItems("application_types", len(p.ApplicationTypes), len(ApplicationTypes)) {
		validateEnumList(v, "application_types", p.ApplicationTypes, ApplicationTypes)
	}
	if v.maxItems("redirect_uri_patterns", len(p.RedirectURIPatterns), maxPolicyListItems) {
		for i, pat := range p.RedirectURIPatterns {
			if msg := redirectPatternProblem(pat); msg != "" {
				v.add(fmt.Sprintf("redirect_uri_patterns[%d]", i), "pattern", "%s", msg)
			}
		}
	}
	if !v.maxItems("scopes", len(p.Scopes), maxPolicyListItems) || len(p.Scopes) == 0 {
		return nil
	}
	have, err := s.Store.ListScopes(ctx, wsID)
	if err != nil {
		return err
	}
	known := knownScopes(have)
	for i, sc := range p.Scopes {
		v.check(known[sc], fmt.Sprintf("scopes[%d]", i), "exists",
			"scope %q is not an OpenID Connect scope and is not defined by any service of the workspace", truncate(sc, 128))
	}
	return nil
}

// redirectPatternProblem describes what is wrong with a redirect URI
// pattern, or returns "". See MatchRedirectURIPattern for the syntax.
func redirectPatternProblem(pat string) string {
	if pat == "" || len(pat) > maxRedirectPatternLn {
		return fmt.Sprintf("must be a URL of 1 to %d characters", maxRedirectPatternLn)
	}
	u, err := url.Parse(pat)
	switch {
	case err != nil || u.Scheme == "" || u.Opaque != "":
		return "must be an absolute URL such as https://app.example.com/callback"
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Contains(pat, "#"):
		return "must not contain user information, a query or a fragment"
	case (u.Scheme == "https" || u.Scheme == "http") && u.Host == "":
		return "must name a host"
	case strings.Contains(pat, "*"):
		return "wildcards are not supported: end the path with / to allow every path below it"
	case hasDotSegment(u):
		return "must not contain . or .. path segments or encoded slashes"
	}
	return ""
}

// MatchRedirectURIPattern reports whether uri is allowed by pattern.
// The syntax is deliberately small (no wildcards, no regular
// expressions): a pattern is an absolute URL without query or fragment;
// the redirect URI must have the same scheme and host (with port,
// case-insensitive) and either exactly the pattern's path or, when the
// pattern's path ends with "/", a path that begins with it. Query strings
// of the redirect URI are not restricted. Redirect URIs whose paths hold
// "." or ".." segments or encoded slashes never match, so a prefix cannot
// be escaped.
func MatchRedirectURIPattern(pattern, uri string) bool {
	p, err := url.Parse(pattern)
	if err != nil {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.User != nil || u.Opaque != "" || hasDotSegment(u) {
		return false
	}
	if !strings.EqualFold(p.Scheme, u.Scheme) || !strings.EqualFold(p.Host, u.Host) {
		return false
	}
	pp, up := p.EscapedPath(), u.EscapedPath()
	if strings.HasSuffix(pp, "/") {
		return strings.HasPrefix(up, pp)
	}
	return up == pp
}

func hasDotSegment(u *url.URL) bool {
	raw := strings.ToLower(u.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, `\`) {
		return true
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// CheckRegistrationPolicy reports, as a ValidationError naming the RFC
// 7591 metadata field, every way in which a registration (or an RFC 7592
// update) asks for more than policy p allows. in must already carry the
// registration defaults; appType is the application_type ("" = web).
func CheckRegistrationPolicy(p storage.RegistrationPolicy, in ClientInput, appType string) error {
	p = NormalizeRegistrationPolicy(p)
	applyClientDefaults(&in)
	var v validator
	for _, g := range in.GrantTypes {
		switch {
		case slices.Contains(ImpersonatingGrants, g) && !p.AllowImpersonation:
			v.add("grant_types", "policy", "%s issues tokens for users and is not allowed by the initial access token", g)
		case !slices.Contains(p.GrantTypes, g):
			v.add("grant_types", "policy", "%s is not allowed by the initial access token (allowed: %s)", g, strings.Join(p.GrantTypes, ", "))
		}
	}
	for _, sc := range in.Scopes {
		if len(p.Scopes) > 0 && !slices.Contains(p.Scopes, sc) {
			v.add("scope", "policy", "%q is not allowed by the initial access token (allowed: %s)", truncate(sc, 128), strings.Join(p.Scopes, " "))
		}
	}
	if len(p.AuthMethods) > 0 && !slices.Contains(p.AuthMethods, in.TokenEndpointAuthMethod) {
		v.add("token_endpoint_auth_method", "policy", "%s is not allowed by the initial access token (allowed: %s)",
			truncate(in.TokenEndpointAuthMethod, 64), strings.Join(p.AuthMethods, ", "))
	}
	if appType == "" {
		appType = ApplicationTypeWeb
	}
	if len(p.ApplicationTypes) > 0 && !slices.Contains(p.ApplicationTypes, appType) {
		v.add("application_type", "policy", "%s is not allowed by the initial access token (allowed: %s)",
			truncate(appType, 64), strings.Join(p.ApplicationTypes, ", "))
	}
	if len(p.RedirectURIPatterns) > 0 {
		for i, uri := range in.RedirectURIs {
			ok := slices.ContainsFunc(p.RedirectURIPatterns, func(pat string) bool { return MatchRedirectURIPattern(pat, uri) })
			v.check(ok, fmt.Sprintf("redirect_uris[%d]", i), "policy", "is not allowed by the initial access token (allowed: %s)",
				strings.Join(p.RedirectURIPatterns, ", "))
		}
	}
	return v.err()
}

// ListInitialAccessTokens returns the workspace's tokens (hashes only).
func (s *Service) ListInitialAccessTokens(ctx context.Context, wsID string) ([]storage.InitialAccessToken, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	list, err := s.Store.ListInitialAccessTokens(ctx, wsID)
	for i := range list {
		list[i].Policy = NormalizeRegistrationPolicy(list[i].Policy)
	}
	return list, err
}

// DeleteInitialAccessToken revokes a token.
func (s *Service) DeleteInitialAccessToken(ctx context.Context, wsID, id string) error {
	if err := s.Store.DeleteInitialAccessToken(ctx, wsID, id); err != nil {
		return mapStore(err, "initial access token", id)
	}
	s.audit(ctx, wsID, AuditIATDelete, TargetIAT, id, nil)
	return nil
}

// ConsumeInitialAccessToken spends one use of the token with this bearer
// value. It returns ErrNotFound for unknown, expired or used-up tokens.
func (s *Service) ConsumeInitialAccessToken(ctx context.Context, wsID, token string) (storage.InitialAccessToken, error) {
	t, err := s.Store.ConsumeInitialAccessToken(ctx, wsID, HashToken(token), s.now())
	return t, mapStore(err, "initial access token", "")
}

// AuthenticateInitialAccessToken finds the usable token with this bearer
// value without spending a use (RFC 7591 §3: the registration itself
// spends it, see RegisterClient). It returns ErrNotFound for unknown,
// expired or used-up tokens.
func (s *Service) AuthenticateInitialAccessToken(ctx context.Context, wsID, token string) (storage.InitialAccessToken, error) {
	t, err := s.Store.GetInitialAccessTokenByHash(ctx, wsID, HashToken(token))
	if err != nil {
		return storage.InitialAccessToken{}, mapStore(err, "initial access token", "")
	}
	if (!t.ExpiresAt.IsZero() && !t.ExpiresAt.After(s.now())) || t.UsesLeft == 0 {
		return storage.InitialAccessToken{}, mapStore(storage.ErrNotFound, "initial access token", "")
	}
	t.Policy = NormalizeRegistrationPolicy(t.Policy)
	return t, nil
}

// RegisterClient creates a dynamically registered client with the
// initial access token t (RFC 7591 §3): the metadata is checked against
// the token's policy and validated like any client, and only then is one
// use spent, in the same transaction as the insert, so a refused or
// failed registration leaves the token as it was (docs/security.md R3).
// The client keeps a snapshot of the policy for its RFC 7592 updates.
// ErrNotFound means the token was spent, expired or deleted meanwhile.
func (s *Service) RegisterClient(ctx context.Context, wsID string, t storage.InitialAccessToken, in ClientInput, appType string) (ClientWithSecret, error) {
	policy := NormalizeRegistrationPolicy(t.Policy)
	if err := CheckRegistrationPolicy(policy, in, appType); err != nil {
		return ClientWithSecret{}, err
	}
	in.Dynamic = true
	in.InitialAccessTokenID, in.RegistrationPolicy = t.ID, &policy
	return s.createClient(ctx, wsID, in, func(ctx context.Context, c storage.Client) error {
		return s.Store.CreateClientWithInitialAccessToken(ctx, c, t.Hash, s.now())
	})
}
