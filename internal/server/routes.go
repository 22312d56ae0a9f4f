package server

import (
	"net/http"

	"github.com/latchkey/latchkey/internal/adminapi"
	"github.com/latchkey/latchkey/internal/clientauth"
	"github.com/latchkey/latchkey/internal/dcr"
	"github.com/latchkey/latchkey/internal/discovery"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/introspect"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/ssrf"
)

// mountHandlers mounts every protocol and admin package on mux. Each gets
// the configured base URL, from which it derives issuers (SECURITY.md J2).
func (s *Server) mountHandlers(mux *http.ServeMux) error {
	// One jwks_uri cache serves client authentication and the JWT bearer
	// grant, so a key set is fetched (and its refetch budgeted) once.
	jwks := ssrf.NewJWKSCache(ssrf.NewClient(s.outboundOptions()), ssrf.CacheOptions{})
	auth := s.clientAuthenticator(jwks)
	// One owner of the workspaces' request object decryption keys (built
	// with the service in buildCore).
	requestKeys := s.requestKeys
	// One policy engine: programs compiled once per policy version, read
	// through the cached store (invalidated by the change feed).
	policies := &policy.Engine{Source: s.store, Logger: s.logger.With("component", "policy")}
	tokenStatus, revokeStatus := s.statusLists(mux) // token status lists (statuslist.go)
	tokenHandler := &grants.Handler{
		Store: s.store, Auth: auth, Keys: s.keys, BaseURL: s.baseURL, Now: s.opts.now,
		Logger: s.logger.With("component", "token"), Metrics: s.metrics,
		Defaults:  grants.Defaults{AccessTokenTTL: s.cfg.AccessTokenTTL},
		JWTBearer: grants.JWTBearerDeps{Secrets: s.keyring, JWKS: jwks},
		AuthCode:  s.authCodeDeps(),
		Policies:  policies,
		Claims:    &policy.ClaimEngine{},
		DPoP:      grants.DPoPDeps{Verifier: s.dpopVerifier()},
		Status:    tokenStatus,
	}
	tokenHandler.Mount(mux)
	s.mountDevice(mux, auth, policies)
	s.mountCIBA(mux, auth, policies) // OpenID Connect CIBA (ciba.go)
	// The what-if tool plays requests through the token endpoint's own code.
	s.svc.WhatIfRunner = tokenHandler
	(&introspect.Handler{
		Store: s.store, Auth: auth, Keys: s.keys, BaseURL: s.baseURL, Now: s.opts.now,
		Logger: s.logger.With("component", "introspect"), Status: revokeStatus,
	}).Mount(mux)
	registration := s.mountRegistration(mux)
	(&discovery.Handler{
		Store: s.store, Keys: s.keys, BaseURL: s.baseURL, Logger: s.logger.With("component", "discovery"),
		GrantTypes: grants.Supported, NoRegistration: !registration, StatusLists: true,
		DPoPAlgs: tokenHandler.DPoP.Verifier.SupportedAlgs(),
		// Request object decryption keys, published in the JWKS (RFC 9101 §6.1).
		EncryptionKeys: requestKeys,
		MTLS:           s.discoveryMTLS(), // RFC 8705 (tls.go)
	}).Mount(mux)
	s.mountAuthorizationFlow(mux, auth, requestKeys)
	// One failed-token budget per address for the admin API and the
	// console's first-admin page: both take the admin token (docs/security.md R8).
	adminTokenFailures := ratelimit.New(s.cfg.FailedAuthRate, s.cfg.FailedAuthBurst, s.opts.now)
	s.mountAdminAPI(mux, adminTokenFailures)
	s.mountConsole(mux, s.cfg.SMTP.Host != "", adminTokenFailures)
	return nil
}

// clientAuthenticator is the one client authentication shared by the
// token, introspection and revocation endpoints (SECURITY.md B11). Remote
// jwks_uri documents are fetched through the SSRF-safe client (SECURITY.md
// L); failed authentications are rate limited per client and per IP (M7).
func (s *Server) clientAuthenticator(jwks *ssrf.JWKSCache) *clientauth.Authenticator {
	return &clientauth.Authenticator{
		Store:   s.store,
		Keyring: s.keyring,
		JWKS:    jwks,
		// Trust anchors of tls_client_auth (RFC 8705 §2.1; tls.go).
		ClientCAs: s.clientCAs(),
		Limiter:   ratelimit.New(s.cfg.FailedAuthRate, s.cfg.FailedAuthBurst, s.opts.now),
		Now:       s.opts.now,
		Logger:    s.logger.With("component", "clientauth"),
	}
}

// mountRegistration mounts RFC 7591/7592 dynamic client registration and
// reports whether it did, so that discovery advertises
// registration_endpoint only when it is served.
func (s *Server) mountRegistration(mux *http.ServeMux) bool {
	(&dcr.Handler{
		Service: s.svc, Store: s.store, BaseURL: s.baseURL, Logger: s.logger.With("component", "dcr"),
		MTLS: s.discoveryMTLS(), // the methods discovery advertises are the ones registration accepts
	}).Mount(mux)
	return true
}

// mountAdminAPI mounts the admin REST API and its OpenAPI document under
// /admin/v1. It accepts the configured admin token (LATCHKEY_ADMIN_TOKEN)
// and any token whose hash is stored, such as the bootstrap token.
func (s *Server) mountAdminAPI(mux *http.ServeMux, tokenFailures *ratelimit.Limiter) {
	(&adminapi.Handler{
		Service: s.svc, Auth: adminapi.Auth{Static: s.cfg.AdminToken, Store: s.store},
		Logger: s.logger.With("component", "adminapi"), BaseURL: s.baseURL, FailedAuth: tokenFailures,
	}).Mount(mux)
}

// outboundOptions are the SSRF rules of the server's own HTTP requests
// (jwks_uri and other fetched URLs): strict unless the operator relaxed
// them in the outbound section of the configuration.
func (s *Server) outboundOptions() ssrf.Options {
	return ssrf.Options{AllowPrivate: s.cfg.OutboundAllowPrivate, AllowHTTP: s.cfg.OutboundAllowHTTP}
}
