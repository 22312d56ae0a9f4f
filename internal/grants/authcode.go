package grants

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/tokens"
)

// Prefixes of the code flow's bearer values (greppable, SECURITY.md Q6).
const (
	AuthCodePrefix     = "lkac_"
	RefreshTokenPrefix = tokens.RefreshTokenPrefix
)

// Refresh token lifetimes when neither the client nor Defaults set one.
const (
	DefaultRefreshIdleTTL     = 30 * 24 * time.Hour
	DefaultRefreshAbsoluteTTL = 90 * 24 * time.Hour
)

// Sealer encrypts the refresh token kept for the grace period
// (*secrets.Keyring implements it).
type Sealer interface {
	Encrypt(plaintext, aad []byte) ([]byte, error)
	Decrypt(ciphertext, aad []byte) ([]byte, error)
}

// AuthCodeDeps are the dependencies of the authorization_code and
// refresh_token grants.
type AuthCodeDeps struct {
	// Sealer encrypts refresh tokens kept for a grace period; nil disables
	// grace periods.
	Sealer   Sealer
	Subjects *oidc.Subjects
	// RefreshIdleTTL and RefreshAbsoluteTTL are the server defaults.
	RefreshIdleTTL     time.Duration
	RefreshAbsoluteTTL time.Duration
}

// authCodeStore is what the authorization_code grant needs from storage:
// the code, its one-time redemption together with the new token family,
// the revocation of a family issued from a reused code, and what the
// tokens are minted from (the user, the scopes' services).
type authCodeStore interface {
	scopeStore
	GetUser(ctx context.Context, workspaceID, id string) (storage.User, error)
	GetAuthCode(ctx context.Context, workspaceID string, hash []byte) (storage.AuthCode, error)
	RedeemAuthCode(ctx context.Context, workspaceID string, hash []byte, now time.Time, f storage.TokenFamily, refreshHash []byte) error
	RevokeTokenFamily(ctx context.Context, workspaceID, id string, now time.Time) error
}

// authCodeRequest is the authorization_code grant's parameters (RFC 6749
// §4.1.3, RFC 7636 §4.5).
type authCodeRequest struct {
	code         string
	redirectURI  string
	codeVerifier string
}

func parseAuthCode(_ *request, form url.Values) (authCodeRequest, error) {
	code, err := opaqueParam(form, "code", AuthCodePrefix, maxCodeLen, errBadCode)
	if err != nil {
		return authCodeRequest{}, err
	}
	return authCodeRequest{code: code, redirectURI: form.Get("redirect_uri"), codeVerifier: form.Get("code_verifier")}, nil
}

// opaqueParam reads a parameter carrying one of our opaque values (a code,
// a refresh token): invalid_request when it is absent, and bad when it
// cannot be one of ours (too long, wrong prefix), before any lookup.
func opaqueParam(form url.Values, name, prefix string, maxLen int, bad func() error) (string, error) {
	v := form.Get(name)
	if v == "" {
		return "", oauth2.NewError(oauth2.ErrInvalidRequest, name+" is required")
	}
	if len(v) > maxLen || !strings.HasPrefix(v, prefix) {
		return "", bad()
	}
	return v, nil
}

// verifierPattern is an RFC 7636 §4.1 code_verifier: 43 to 128 unreserved
// characters (SECURITY.md F7).
var verifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// maxCodeLen bounds a code before hashing (ours are 48 characters).
const maxCodeLen = 256

// authorizationCode implements the authorization code grant (RFC 6749
// §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3). Checks come first; the code is
// spent last, by one conditional update in the same transaction that
// records the token family (reliability invariants 1 and 2).
func (h *Handler) authorizationCode(ctx context.Context, req *request, p authCodeRequest) (*tokenResponse, error) {
	code, err := h.loadCode(ctx, req, sha(p.code))
	if err != nil {
		return nil, err
	}
	if err := checkCodeRequest(p, code); err != nil {
		return nil, err
	}
	if err := checkCodeBinding(req, code); err != nil {
		return nil, err
	}
	user, err := h.activeUser(ctx, req.ws.ID, code.UserID)
	if err != nil {
		return nil, err
	}
	fam := h.newFamily(req, code)
	req.auth = policy.Authentication{Methods: code.AMR, Time: code.AuthTime}
	t, err := h.prepareUserTokens(ctx, req, fam, user, code.Scopes, code.Nonce, true)
	if err != nil {
		return nil, err
	}
	wsID := req.ws.ID
	iss, _, err := signAndCommit(ctx, t, func() (struct{}, error) {
		return struct{}{}, h.redeem(ctx, wsID, code, fam, t.refreshHash)
	})
	if err != nil {
		return nil, err
	}
	return iss.resp, nil
}

func errBadCode() error {
	return oauth2.NewError(oauth2.ErrInvalidGrant, "the authorization code is invalid, expired or already used")
}

func sha(v string) []byte {
	s := sha256.Sum256([]byte(v))
	return s[:]
}

// loadCode finds the code and handles the cases that end the request at
// once: unknown or other workspace (G6, G7), already used (G1: the tokens
// issued from it are revoked), issued to another client (G3: the code is
// burnt and its tokens revoked, as for reuse), expired (G5).
func (h *Handler) loadCode(ctx context.Context, req *request, hash []byte) (storage.AuthCode, error) {
	code, err := h.Store.GetAuthCode(ctx, req.ws.ID, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return code, errBadCode()
	}
	if err != nil {
		return code, errUnavailable(err)
	}
	now := h.now()
	switch {
	case !code.UsedAt.IsZero():
		return code, h.revokeFromCode(ctx, req.ws.ID, code.FamilyID)
	case code.ClientID != req.client.ID:
		return code, h.burnCode(ctx, req.ws.ID, code)
	case !now.Before(code.ExpiresAt):
		return code, errBadCode()
	}
	return code, nil
}

// revokeFromCode revokes the family issued from a reused code and answers
// invalid_grant (RFC 6749 §4.1.2 "SHOULD revoke ... all tokens previously
// issued based on that authorization code").
func (h *Handler) revokeFromCode(ctx context.Context, wsID, familyID string) error {
	err := h.Store.RevokeTokenFamily(ctx, wsID, familyID, h.now())
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return errUnavailable(err)
	}
	return errBadCode()
}

// burnCode spends a code presented by the wrong client by redeeming it
// into an already revoked family, or revokes its family when it was
// redeemed already (SECURITY.md G3).
func (h *Handler) burnCode(ctx context.Context, wsID string, code storage.AuthCode) error {
	now := h.now()
	dead := storage.TokenFamily{
		ID: code.FamilyID, ClientID: code.ClientID, UserID: code.UserID, Scopes: code.Scopes,
		Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now, RevokedAt: now,
	}
	err := h.Store.RedeemAuthCode(ctx, wsID, code.Hash, now, dead, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return h.revokeFromCode(ctx, wsID, code.FamilyID)
	}
	if err != nil {
		return errUnavailable(err)
	}
	return errBadCode()
}

// checkCodeRequest: redirect_uri identical to the authorization request's
// (RFC 6749 §4.1.3, G4) and PKCE (RFC 7636 §4.6; F4–F7, downgrade F6).
func checkCodeRequest(p authCodeRequest, code storage.AuthCode) error {
	if p.redirectURI != code.RedirectURI {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "redirect_uri does not match the authorization request")
	}
	verifier := p.codeVerifier
	if code.CodeChallenge == "" {
		if verifier != "" {
			return oauth2.NewError(oauth2.ErrInvalidGrant, "code_verifier sent but no code_challenge was in the authorization request")
		}
		return nil
	}
	if !verifierPattern.MatchString(verifier) {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "code_verifier is missing or malformed")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.CodeChallenge)) != 1 {
		return oauth2.NewError(oauth2.ErrInvalidGrant, "code_verifier does not match the code_challenge")
	}
	return nil
}

// activeUser returns the user tokens are for; a deleted or disabled user
// gets none (SECURITY.md O3).
func (h *Handler) activeUser(ctx context.Context, wsID, id string) (storage.User, error) {
	u, err := h.Store.GetUser(ctx, wsID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return u, oauth2.NewError(oauth2.ErrInvalidGrant, "the user no longer exists")
	}
	if err != nil {
		return u, errUnavailable(err)
	}
	if !u.Active {
		return u, oauth2.NewError(oauth2.ErrInvalidGrant, "the user is disabled")
	}
	return u, nil
}

// newFamily is the family the code's tokens belong to, with the client's
// refresh token lifetimes.
func (h *Handler) newFamily(req *request, code storage.AuthCode) storage.TokenFamily {
	now := h.now().UTC()
	f := storage.TokenFamily{
		WorkspaceID: req.ws.ID, ID: code.FamilyID, ClientID: req.client.ID, UserID: code.UserID,
		SessionID: code.SessionID, Scopes: code.Scopes, AuthTime: code.AuthTime, AMR: code.AMR, ACR: code.ACR,
		Claims: code.Claims, GrantType: oauth2.GrantAuthorizationCode, Generation: 1, CreatedAt: now, RotatedAt: now, LastUsedAt: now,
		DPoPJKT: familyBinding(req), AuthorizationDetails: code.AuthorizationDetails,
		CertThumbprint: certFamilyBinding(req), // RFC 8705 §4 (mtls.go)
	}
	if wantsRefresh(req.client, code.Scopes) {
		idle, abs := h.refreshTTLs(req.client)
		f.Refresh, f.IdleTTL, f.ExpiresAt = true, idle, now.Add(abs)
	}
	return f
}

// wantsRefresh: refresh tokens go to clients allowed the refresh_token
// grant that asked for offline_access or always get them (OIDC Core §11).
func wantsRefresh(c storage.Client, scopes []string) bool {
	if !slices.Contains(c.GrantTypes, oauth2.GrantRefreshToken) {
		return false
	}
	return slices.Contains(scopes, oidc.ScopeOfflineAccess) || (c.RefreshTokens != nil && c.RefreshTokens.Always)
}

func (h *Handler) refreshTTLs(c storage.Client) (idle, abs time.Duration) {
	idle, abs = h.AuthCode.RefreshIdleTTL, h.AuthCode.RefreshAbsoluteTTL
	if s := c.RefreshTokens; s != nil {
		if s.IdleTTL > 0 {
			idle = s.IdleTTL
		}
		if s.AbsoluteTTL > 0 {
			abs = s.AbsoluteTTL
		}
	}
	if idle <= 0 {
		idle = DefaultRefreshIdleTTL
	}
	if abs <= 0 {
		abs = DefaultRefreshAbsoluteTTL
	}
	return idle, abs
}

// redeem spends the code together with recording the family. Losing that
// race (another redemption won, or the code expired meanwhile) is reuse.
func (h *Handler) redeem(ctx context.Context, wsID string, code storage.AuthCode, fam storage.TokenFamily, refreshHash []byte) error {
	err := h.Store.RedeemAuthCode(ctx, wsID, code.Hash, h.now(), fam, refreshHash)
	if errors.Is(err, storage.ErrNotFound) {
		return h.revokeFromCode(ctx, wsID, code.FamilyID)
	}
	if err != nil {
		return errUnavailable(err)
	}
	return nil
}

// issued is what issueUserTokens produced.
type issued struct {
	resp        *tokenResponse
	refreshHash []byte
}

// issueUserTokens mints the access token (RFC 9068, with the family ID in
// "rtf"), the ID token when openid was granted, and a new refresh token
// when the family has them and newRefresh is set.
func (h *Handler) issueUserTokens(ctx context.Context, req *request, fam storage.TokenFamily, user storage.User, scopes []string, nonce string, newRefresh bool) (issued, error) {
	t, err := h.prepareUserTokens(ctx, req, fam, user, scopes, nonce, newRefresh)
	if err != nil {
		return issued{}, err
	}
	return t.mint(ctx)
}

// userTokens are the tokens of a response, prepared to be signed: every
// check that can refuse the request has run, so mint fails only when the
// server does (a signature or status list error). The refresh and code
// grants run their group commit beside the ID token's signature
// (signAndCommit).
type userTokens struct {
	h      *Handler
	req    *request
	fam    storage.TokenFamily
	user   storage.User
	signer signing.Signer
	sub    string
	aud    []string
	scopes []string
	nonce  string
	now    time.Time
	ttl    time.Duration
	set    map[string]map[string]any
	// refreshToken is the new refresh token ("" for none) and
	// refreshHash its SHA-256, computed once.
	refreshToken string
	refreshHash  []byte
}

func (h *Handler) prepareUserTokens(ctx context.Context, req *request, fam storage.TokenFamily, user storage.User, scopes []string, nonce string, newRefresh bool) (*userTokens, error) {
	if err := grantDetails(req, fam); err != nil { // RFC 9396 §6.1, §7
		return nil, err
	}
	signer, err := h.Keys.Signer(ctx, req.ws.ID)
	if err != nil {
		return nil, errUnavailable(err)
	}
	t := &userTokens{h: h, req: req, fam: fam, user: user, signer: signer, scopes: scopes, nonce: nonce,
		now: h.now().Truncate(time.Second), ttl: h.accessTokenTTL(req.ws, req.client)}
	if slices.Contains(scopes, oidc.ScopeOpenID) {
		if err := idTokenAlgMatches(req, signer); err != nil {
			return nil, err
		}
	}
	if t.sub, err = h.userSubject(ctx, req.client, user); err != nil {
		return nil, err
	}
	if t.aud, err = h.userAudience(ctx, req, scopes); err != nil {
		return nil, err
	}
	if t.set, err = h.mappedClaims(ctx, req, user, scopeGrant{scopes: scopes, audience: t.aud}); err != nil {
		return nil, err
	}
	if fam.Refresh && newRefresh {
		t.refreshToken = RefreshTokenPrefix + newOpaque()
		t.refreshHash = sha(t.refreshToken)
	}
	return t, nil
}

// mint signs the access token and, when openid was granted, the ID token
// (whose at_hash needs the access token).
func (t *userTokens) mint(ctx context.Context) (issued, error) {
	resp, err := t.mintAccess(ctx)
	if err != nil {
		return issued{}, err
	}
	return t.mintID(resp)
}

// mintAccess mints the access token. Besides the signature it may write
// (the status list tie, an opaque token's row), so it never runs after a
// commit has begun: a failure there must leave the code or refresh token
// unspent (docs/security.md R6).
func (t *userTokens) mintAccess(ctx context.Context) (*tokenResponse, error) {
	h, req := t.h, t.req
	at, err := h.mintAccessToken(ctx, req, t.signer, withMappedClaims(h.userAccessToken(req, t.fam, t.sub, t.aud, t.scopes, t.now, t.ttl), req.client, t.set))
	if err != nil {
		return nil, err
	}
	return &tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(t.ttl / time.Second), Scope: strings.Join(t.scopes, " "),
		RefreshToken: t.refreshToken}, nil
}

// mintID adds the ID token when openid was granted: only a signature.
func (t *userTokens) mintID(resp *tokenResponse) (issued, error) {
	if slices.Contains(t.scopes, oidc.ScopeOpenID) {
		var err error
		if resp.IDToken, err = t.h.idToken(t.req, t.signer, t.fam, t.user, t.sub, t.nonce, resp.AccessToken, t.now, idTokenTTL(t.req.client, t.ttl), t.set[policy.TargetIDToken]); err != nil {
			return issued{}, err
		}
	}
	return issued{resp: resp, refreshHash: t.refreshHash}, nil
}

// signAndCommit mints t's access token, then runs commit (the rotation or
// the redemption, a group commit) while the ID token is signed, and
// returns only once both have ended: the response is written after the
// commit, so nothing is acknowledged before it is committed
// (docs/benchmarks.md, "Refresh rotation and code redemption profiled").
// A commit error wins over a signing error. commit must not touch the
// request (the signing may read it), only values captured before.
//
// The access token comes first because minting it may write and fail
// like any storage call (mintAccess); the ID token is only a signature,
// so what may fail after a successful commit is libcrypto alone, which
// spends the code or refresh token without an answer, as a response lost
// on the network would.
func signAndCommit[T any](ctx context.Context, t *userTokens, commit func() (T, error)) (issued, T, error) {
	var zero T
	resp, err := t.mintAccess(ctx)
	if err != nil {
		return issued{}, zero, err
	}
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := commit()
		done <- outcome{v, err}
	}()
	iss, err := t.mintID(resp)
	c := <-done
	if c.err != nil {
		return issued{}, c.v, c.err
	}
	return iss, c.v, err
}

// userAccessToken is the content of a user access token; the what-if
// tool shows the same.
func (h *Handler) userAccessToken(req *request, fam storage.TokenFamily, sub string, aud, scopes []string, now time.Time, ttl time.Duration) tokens.AccessToken {
	return tokens.AccessToken{
		Issuer: req.issuer, Subject: sub, ClientID: req.client.ID, Scope: strings.Join(scopes, " "), JTI: tokens.NewJTI(),
		Audience: aud, IssuedAt: now, ExpiresAt: now.Add(ttl), Extra: map[string]any{oidc.FamilyClaim: fam.ID},
	}
}

// userAudience is the audience of a user access token: the services of
// the granted API scopes, or the issuer when only OpenID scopes were
// granted (the UserInfo endpoint is the issuer's own resource).
func (h *Handler) userAudience(ctx context.Context, req *request, scopes []string) ([]string, error) {
	catalog, err := h.scopeCatalogOf(ctx, req)
	if err != nil {
		return nil, err
	}
	var api []string
	for _, s := range scopes {
		if _, ok := catalog.ServiceOf(s); ok && !slices.Contains(oidc.StandardScopes, s) {
			api = append(api, s)
		}
	}
	return audienceOf(api, catalog, nil, req.issuer)
}
