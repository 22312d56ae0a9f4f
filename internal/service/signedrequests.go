package service

import (
	"encoding/json"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// SignedRequestSettings are a client's settings of pushed authorization
// requests (RFC 9126 §6), request objects (RFC 9101, OIDC Registration §2)
// and JWT-secured authorization responses (JARM §3).
type SignedRequestSettings struct {
	// RequestObjectSigningAlg, when set, accepts the client's
	// authorization requests only as request objects signed with it.
	RequestObjectSigningAlg string
	// RequirePushedAuthorizationRequests accepts them only through PAR.
	RequirePushedAuthorizationRequests bool
	// AuthorizationSignedResponseAlg is "" (the workspace's) or the
	// workspace's signing algorithm.
	AuthorizationSignedResponseAlg string
	// AuthorizationEncryptedResponseAlg/Enc encrypt JARM responses to a
	// key of the client; Enc defaults to A128CBC-HS256 (JARM §3).
	AuthorizationEncryptedResponseAlg string
	AuthorizationEncryptedResponseEnc string
}

// SignedRequestPatch updates SignedRequestSettings; nil fields are left
// unchanged (Apply).
type SignedRequestPatch struct {
	RequestObjectSigningAlg            *string
	RequirePushedAuthorizationRequests *bool
	AuthorizationSignedResponseAlg     *string
	AuthorizationEncryptedResponseAlg  *string
	AuthorizationEncryptedResponseEnc  *string
}

func (p SignedRequestPatch) Apply(in SignedRequestSettings) SignedRequestSettings {
	setString(&in.RequestObjectSigningAlg, p.RequestObjectSigningAlg)
	if p.RequirePushedAuthorizationRequests != nil {
		in.RequirePushedAuthorizationRequests = *p.RequirePushedAuthorizationRequests
	}
	setString(&in.AuthorizationSignedResponseAlg, p.AuthorizationSignedResponseAlg)
	setString(&in.AuthorizationEncryptedResponseAlg, p.AuthorizationEncryptedResponseAlg)
	setString(&in.AuthorizationEncryptedResponseEnc, p.AuthorizationEncryptedResponseEnc)
	return in
}

func (p SignedRequestPatch) fields() []string {
	return setFields("request_object_signing_alg", p.RequestObjectSigningAlg != nil,
		"require_pushed_authorization_requests", p.RequirePushedAuthorizationRequests != nil,
		"authorization_signed_response_alg", p.AuthorizationSignedResponseAlg != nil,
		"authorization_encrypted_response_alg", p.AuthorizationEncryptedResponseAlg != nil,
		"authorization_encrypted_response_enc", p.AuthorizationEncryptedResponseEnc != nil)
}

func signedRequestsOf(c storage.Client) SignedRequestSettings {
	return SignedRequestSettings{
		RequestObjectSigningAlg:            c.RequestObjectSigningAlg,
		RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests,
		AuthorizationSignedResponseAlg:     c.AuthorizationSignedResponseAlg,
		AuthorizationEncryptedResponseAlg:  c.AuthorizationEncryptedResponseAlg,
		AuthorizationEncryptedResponseEnc:  c.AuthorizationEncryptedResponseEnc,
	}
}

// withSignedRequests stores the settings; an encryption alg without enc
// stores the JARM §3 default enc.
func withSignedRequests(c storage.Client, s SignedRequestSettings) storage.Client {
	c.RequestObjectSigningAlg = s.RequestObjectSigningAlg
	c.RequirePushedAuthorizationRequests = s.RequirePushedAuthorizationRequests
	c.AuthorizationSignedResponseAlg = s.AuthorizationSignedResponseAlg
	c.AuthorizationEncryptedResponseAlg = s.AuthorizationEncryptedResponseAlg
	c.AuthorizationEncryptedResponseEnc = s.AuthorizationEncryptedResponseEnc
	if c.AuthorizationEncryptedResponseAlg != "" && c.AuthorizationEncryptedResponseEnc == "" {
		c.AuthorizationEncryptedResponseEnc = oauth2.DefaultAuthorizationEncryptionEnc
	}
	return c
}

// validateSignedRequests checks the settings against the workspace and
// the client's keys (jwks is the validated inline key set, nil when the
// client has none). A client that asks for encrypted responses must have
// a key to encrypt to: an inline key of the right type, or a jwks_uri
// (whose keys are checked when a response is encrypted). Otherwise it is
// refused here, at registration, not at its first authorization.
func validateSignedRequests(v *validator, ws storage.Workspace, in ClientInput, jwks []byte) {
	s := in.SignedRequestSettings
	if a := s.RequestObjectSigningAlg; a != "" {
		v.check(slices.Contains(oauth2.RequestObjectSigningAlgs, a), "request_object_signing_alg", "enum",
			"must be one of %v (RFC 9101 §10.1: never none, never HMAC)", oauth2.RequestObjectSigningAlgs)
		v.check(len(in.JWKS) > 0 || in.JWKSURI != "", "request_object_signing_alg", "keys",
			"requires jwks or jwks_uri: request objects are verified with the client's registered keys")
	}
	alg := ws.Settings.SigningAlg
	if alg == "" {
		alg = oauth2.AlgRS256
	}
	v.check(s.AuthorizationSignedResponseAlg == "" || s.AuthorizationSignedResponseAlg == alg,
		"authorization_signed_response_alg", "enum", "must be empty or the workspace's signing algorithm %s", alg)
	encAlg, enc := s.AuthorizationEncryptedResponseAlg, s.AuthorizationEncryptedResponseEnc
	if encAlg == "" {
		v.check(enc == "", "authorization_encrypted_response_enc", "requires",
			"requires authorization_encrypted_response_alg (JARM §3)")
		return
	}
	if !v.check(slices.Contains(oauth2.AuthorizationEncryptionAlgs, encAlg), "authorization_encrypted_response_alg", "enum",
		"must be one of %v", oauth2.AuthorizationEncryptionAlgs) {
		return
	}
	v.check(enc == "" || slices.Contains(oauth2.AuthorizationEncryptionEncs, enc), "authorization_encrypted_response_enc", "enum",
		"must be one of %v", oauth2.AuthorizationEncryptionEncs)
	switch {
	case in.JWKSURI != "":
	case len(jwks) > 0:
		var set jose.JSONWebKeySet
		ok := json.Unmarshal(jwks, &set) == nil
		if ok {
			_, ok = jwtx.EncryptionKey(set.Keys, encAlg)
		}
		v.check(ok, "authorization_encrypted_response_alg", "keys",
			"the client's jwks has no key responses can be encrypted to with %s (an %s key whose use is enc or unset)", encAlg, keyTypeFor(encAlg))
	default:
		v.add("authorization_encrypted_response_alg", "keys", "requires jwks or jwks_uri with a key responses can be encrypted to")
	}
}

func keyTypeFor(alg string) string {
	if alg == "RSA-OAEP-256" {
		return "RSA"
	}
	return "EC"
}
