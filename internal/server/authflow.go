package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/latchkey/latchkey/internal/authorize"
	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/login"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/signing"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// lookupWorkspace resolves an enabled workspace through the cache, for
// the workspace themes.
func (s *Server) lookupWorkspace(ctx context.Context, id string) (storage.Workspace, error) {
	return endpoint.LookupWorkspace(ctx, s.store, id)
}

// authCodeDeps are the token endpoint's dependencies for the
// authorization_code and refresh_token grants: the master keyring seals
// refresh tokens kept for a grace period.
func (s *Server) authCodeDeps() grants.AuthCodeDeps {
	return grants.AuthCodeDeps{Sealer: s.keyring, Subjects: &oidc.Subjects{Store: s.store}}
}

// mountAuthorizationFlow mounts the authorization endpoint, the sign-in,
// consent, account and set-password pages, UserInfo, logout and the page
// assets.
func (s *Server) mountAuthorizationFlow(mux *http.ServeMux, auth *clientauth.Authenticator, requestKeys *signing.EncryptionKeys) {
	sessions := &webui.Sessions{Cookies: webui.CookiesFor(s.baseURL), Store: s.store, Now: s.opts.now}
	subjects := &oidc.Subjects{Store: s.store}
	(&webui.Assets{Workspace: s.lookupWorkspace}).Mount(mux)
	(&authorize.Handler{
		Store: s.store, Keys: s.keys, Sessions: sessions, Subjects: subjects,
		BaseURL: s.baseURL, Now: s.opts.now, Logger: s.logger.With("component", "authorize"),
		Policies: &policy.Engine{Source: s.store, Logger: s.logger.With("component", "policy")},
		// PAR authenticates clients as the token endpoint does (RFC 9126
		// §2); request objects are verified with the keys private_key_jwt
		// uses (RFC 9101 §6.2); JARM responses are signed with the
		// workspace key.
		Auth: auth, ClientKeys: auth, Signers: s.keys, Decrypter: requestKeys,
		DPoP: s.dpopVerifier(), // DPoP at PAR (RFC 9449 §10.1)
	}).Mount(mux)
	(&login.Handler{
		Store: s.store, Sessions: sessions, Devices: s.keyring,
		BaseURL: s.baseURL, Now: s.opts.now, Logger: s.logger.With("component", "login"),
		PendingRequests: s.cibaPending, // CIBA requests on the account page (ciba.go)
	}).Mount(mux)
	(&oidc.UserInfo{
		Store: s.store, Keys: s.keys, Subjects: subjects,
		BaseURL: s.baseURL, Now: s.opts.now, Logger: s.logger.With("component", "userinfo"),
		Claims: &policy.ClaimEngine{}, DPoP: s.dpopVerifier(),
	}).Mount(mux)
	(&oidc.Logout{
		Store: s.store, Keys: s.keys, Subjects: subjects, Sessions: sessions,
		BaseURL: s.baseURL, Logger: s.logger.With("component", "logout"),
	}).Mount(mux)
}

// cleanupAuthFlow deletes expired requests, codes, sessions and dead
// token families.
func (s *Server) cleanupAuthFlow(ctx context.Context) {
	n, err := s.store.DeleteExpiredAuthFlow(ctx, s.opts.now())
	if err != nil && ctx.Err() == nil {
		s.logger.Warn("cleanup of expired authorization-flow rows failed", "error", err)
		return
	}
	s.logger.Debug("cleanup of expired authorization-flow rows", "deleted", n)
}

// maxSectorDocument caps a sector identifier document (SECURITY.md L5).
const maxSectorDocument = 256 << 10

// sectorFetcher fetches sector_identifier_uri documents with the
// SSRF-safe client: https only, public addresses only, no redirects, 5 s
// (OIDC Registration §5, SECURITY.md L7).
func (s *Server) sectorFetcher() service.SectorFetcher {
	client := ssrf.NewClient(s.outboundOptions())
	return func(ctx context.Context, uri string) ([]string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("server: sector identifier: status %d", resp.StatusCode)
		}
		var uris []string
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxSectorDocument)).Decode(&uris); err != nil {
			return nil, fmt.Errorf("server: sector identifier: %w", err)
		}
		return uris, nil
	}
}
