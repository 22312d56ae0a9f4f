package discovery

import (
	"context"
	"encoding/json"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/authorize"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// SignedRequestsMetadata are the members of pushed authorization requests
// (RFC 9126 §5), request objects (RFC 9101 §10.5 with OpenID Connect
// Discovery §3) and JWT-secured authorization responses (JARM §4).
// Request objects are signed, and may be encrypted to the workspace's
// key when the server publishes one (RequestObjectEncryptionMetadata).
type SignedRequestsMetadata struct {
	PushedAuthorizationRequestEndpoint        string   `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests        bool     `json:"require_pushed_authorization_requests"`
	RequestObjectSigningAlgValuesSupported    []string `json:"request_object_signing_alg_values_supported"`
	AuthorizationSigningAlgValuesSupported    []string `json:"authorization_signing_alg_values_supported"`
	AuthorizationEncryptionAlgValuesSupported []string `json:"authorization_encryption_alg_values_supported"`
	AuthorizationEncryptionEncValuesSupported []string `json:"authorization_encryption_enc_values_supported"`
	RequestObjectEncryptionMetadata
}

// addSignedRequests fills the members from the packages that implement
// them: request is accepted by value (request_parameter_supported), and
// request_uri only when it comes from the PAR endpoint (RFC 9126 §4),
// which request_uri_parameter_supported announces together with
// pushed_authorization_request_endpoint. Responses are signed with the
// workspace's one algorithm.
func addSignedRequests(md *Metadata, ws storage.Workspace) {
	md.RequestParameterSupported = true
	md.RequestURIParameterSupported = true
	md.PushedAuthorizationRequestEndpoint = md.Issuer + authorize.PAREndpoint
	md.RequirePushedAuthorizationRequests = ws.Settings.RequirePushedAuthorizationRequests
	md.RequestObjectSigningAlgValuesSupported = slices.Clone(oauth2.RequestObjectSigningAlgs)
	md.AuthorizationSigningAlgValuesSupported = []string{idTokenAlg(ws)}
	md.AuthorizationEncryptionAlgValuesSupported = slices.Clone(oauth2.AuthorizationEncryptionAlgs)
	md.AuthorizationEncryptionEncValuesSupported = slices.Clone(oauth2.AuthorizationEncryptionEncs)
}

// EncryptionKeySource returns a workspace's request object encryption
// keys, public parts, the active key first (*signing.EncryptionKeys).
type EncryptionKeySource interface {
	PublicKeys(ctx context.Context, wsID string) ([]jose.JSONWebKey, error)
}

// RequestObjectEncryptionMetadata are the request_object_encryption_*
// members (OIDC Discovery §3), present only when encrypted request
// objects are accepted.
type RequestObjectEncryptionMetadata struct {
	RequestObjectEncryptionAlgValuesSupported []string `json:"request_object_encryption_alg_values_supported,omitempty"`
	RequestObjectEncryptionEncValuesSupported []string `json:"request_object_encryption_enc_values_supported,omitempty"`
}

func (h *Handler) addRequestObjectEncryption(md *Metadata) {
	if h.EncryptionKeys == nil {
		return
	}
	md.RequestObjectEncryptionAlgValuesSupported = slices.Clone(authorize.RequestObjectEncryptionAlgs)
	md.RequestObjectEncryptionEncValuesSupported = slices.Clone(authorize.RequestObjectEncryptionEncs)
}

// withEncryptionKey adds the workspace's encryption keys ("use": "enc")
// to the signing keys' JWKS document, so clients find the key to encrypt
// request objects to (RFC 9101 §6.1): the active key first, then the
// previous keys a rotation left, which still decrypt until removed.
func (h *Handler) withEncryptionKey(ctx context.Context, wsID string, body []byte) ([]byte, error) {
	if h.EncryptionKeys == nil {
		return body, nil
	}
	keys, err := h.EncryptionKeys.PublicKeys(ctx, wsID)
	if err != nil {
		// The signing keys are what verifiers need: they are served
		// without the encryption key rather than not at all (an
		// unavailable database must not take token verification down).
		if h.Logger != nil {
			h.Logger.WarnContext(ctx, "request object encryption key unavailable; JWKS served without it", "workspace", wsID, "error", err)
		}
		return body, nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, err
	}
	set.Keys = append(set.Keys, keys...)
	return json.Marshal(set)
}
