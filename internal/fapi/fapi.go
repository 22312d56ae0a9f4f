package fapi

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Profiles of storage.WorkspaceSettings.FAPIProfile.
const (
	ProfileNone           = ""
	ProfileSecurity       = "fapi2-security"
	ProfileMessageSigning = "fapi2-message-signing"
)

// Profiles are the accepted values of the setting, "" (off) first.
var Profiles = []string{ProfileNone, ProfileSecurity, ProfileMessageSigning}

// Algs are the only signing algorithms of the profile (SP §5.4.1 item 1).
var Algs = []string{oauth2.AlgPS256, oauth2.AlgES256, oauth2.AlgEdDSA}

// AuthMethods are the only client authentication methods of the profile
// (SP §5.3.2.1 item 6; clients: §5.3.3.1 item 2).
var AuthMethods = []string{oauth2.AuthPrivateKeyJWT, oauth2.AuthTLSClient, oauth2.AuthSelfSignedTLSClient}

// Limits of the profile.
const (
	// MaxCodeLifetime bounds authorization codes (SP §5.3.2.1 item 11).
	MaxCodeLifetime = 60 * time.Second
	// MinRSABits and MinECBits bound client keys (SP §5.4.1 items 2 and 3).
	MinRSABits = 2048
	MinECBits  = 224
	// MaxPushedRequestTTL is the bound a request_uri's lifetime must stay
	// below (SP §5.3.2.2 item 12: "expires_in values of less than 600
	// seconds"); the default of 60 s is well within it.
	MaxPushedRequestTTL = 600 * time.Second
)

// Error codes the checks answer with that package oauth2 does not define
// (RFC 9101 §7, RFC 9126 §2.3).
const (
	errInvalidRequestObject   oauth2.ErrorCode = "invalid_request_object"
	errRequestURINotSupported oauth2.ErrorCode = "request_uri_not_supported"
)

// On reports whether the workspace runs under a FAPI 2.0 profile.
func On(ws storage.Workspace) bool { return ws.Settings.FAPIProfile != ProfileNone }

// MessageSigning reports whether the workspace runs under FAPI 2.0
// Message Signing (which includes the Security Profile).
func MessageSigning(ws storage.Workspace) bool {
	return ws.Settings.FAPIProfile == ProfileMessageSigning
}

// Valid reports whether p is a known profile ("" included).
func Valid(p string) bool { return slices.Contains(Profiles, p) }

// Violation is one broken rule, for a field of a client or a workspace.
type Violation struct {
	Field   string
	Rule    string
	Message string
}

// CheckWorkspace returns the rules the workspace's own settings break:
// its signing key must use an algorithm of SP §5.4.1 item 1 (it signs ID
// tokens and JARM responses), and its request_uri lifetime must stay
// below 600 seconds (SP §5.3.2.2 item 12). Latchkey does not switch the algorithm silently:
// the administrator sets signing_alg (which rotates the keys) together
// with the profile.
func CheckWorkspace(st storage.WorkspaceSettings) []Violation {
	if st.FAPIProfile == ProfileNone {
		return nil
	}
	var out []Violation
	if !slices.Contains(Algs, st.SigningAlg) {
		out = append(out, Violation{Field: "settings.signing_alg", Rule: "fapi",
			Message: fmt.Sprintf("FAPI 2.0 allows only %s for the workspace's signing key (FAPI 2.0 Security Profile §5.4.1 item 1); set signing_alg to one of them together with fapi_profile", strings.Join(Algs, ", "))})
	}
	if st.PushedRequestTTL >= MaxPushedRequestTTL {
		out = append(out, Violation{Field: "settings.pushed_request_ttl", Rule: "fapi",
			Message: fmt.Sprintf("FAPI 2.0 requires request_uri lifetimes (expires_in) below %d seconds (FAPI 2.0 Security Profile §5.3.2.2 item 12); choose at most %d", int(MaxPushedRequestTTL.Seconds()), int(MaxPushedRequestTTL.Seconds())-1)})
	}
	return out
}

// CheckClient returns the rules the client breaks under profile ("" never
// breaks any): confidential only, a FAPI authentication method, FAPI
// algorithms wherever the client pins one, response_type code only,
// and inline keys of sufficient size.
func CheckClient(profile string, c storage.Client) []Violation {
	if profile == ProfileNone {
		return nil
	}
	var out []Violation
	add := func(field, format string, args ...any) {
		out = append(out, Violation{Field: field, Rule: "fapi", Message: fmt.Sprintf(format, args...)})
	}
	if c.Type != oauth2.ClientConfidential {
		add("type", "FAPI 2.0 accepts confidential clients only (FAPI 2.0 Security Profile §5.3.2.1 item 3)")
	}
	if !slices.Contains(AuthMethods, c.TokenEndpointAuthMethod) {
		add("token_endpoint_auth_method", "FAPI 2.0 accepts only %s (FAPI 2.0 Security Profile §5.3.2.1 item 6)", strings.Join(AuthMethods, ", "))
	}
	for _, a := range []struct{ field, alg string }{
		{"token_endpoint_auth_signing_alg", c.TokenEndpointAuthSigningAlg},
		{"request_object_signing_alg", c.RequestObjectSigningAlg},
		{"id_token_signed_response_alg", c.IDTokenSignedResponseAlg},
		{"authorization_signed_response_alg", c.AuthorizationSignedResponseAlg},
	} {
		if a.alg != "" && !slices.Contains(Algs, a.alg) {
			add(a.field, "FAPI 2.0 allows only %s (FAPI 2.0 Security Profile §5.4.1 item 1)", strings.Join(Algs, ", "))
		}
	}
	for _, rt := range c.ResponseTypes {
		if rt != "code" {
			add("response_types", "FAPI 2.0 allows only the response type code (FAPI 2.0 Security Profile §5.3.2.2 item 1)")
			break
		}
	}
	if msg := weakKey(c.JWKS); msg != "" {
		add("jwks", "%s", msg)
	}
	if plainHTTPRedirect(c) {
		add("redirect_uris", "FAPI 2.0 allows plain http redirect URIs only for native clients on a loopback address (FAPI 2.0 Security Profile §5.3.2.2 item 8, RFC 8252 §7.3)")
	}
	if rotatesWithoutRetry(c.RefreshTokens) {
		add("refresh_tokens.grace_period", "FAPI 2.0 forbids rotating refresh tokens unless the client may retry with the previous one for a limited time: turn rotation off (no_rotation) or set a grace period (FAPI 2.0 Security Profile §5.3.2.1 item 9 and its Note 1)")
	}
	return out
}

// rotatesWithoutRetry reports refresh settings that ask for rotation
// explicitly but give the previous token no grace period. Settings left
// to the defaults (nil) are not rotated under the profile (RotateRefresh).
func rotatesWithoutRetry(r *storage.RefreshTokenSettings) bool {
	return r != nil && !r.NoRotation && r.GracePeriod <= 0
}

// RotateRefresh reports whether a refresh of a client of ws rotates its
// refresh token, given whether a grace period can be honoured (the
// server can seal the successor for a retry). Off the profile, every
// client rotates unless its settings say no_rotation; public clients
// always rotate (RFC 9700 §2.2.2: their tokens are not sender-
// constrained otherwise). Under the profile (SP §5.3.2.1 item 9 and its
// Note 1) rotation is used only when the client's settings ask for it
// with a grace period that can be honoured, the "time-limited option to
// retry with the old refresh token"; otherwise the token is kept. The
// profile admits confidential clients only.
func RotateRefresh(ws storage.Workspace, c storage.Client, graceAvailable bool) bool {
	if c.Type == oauth2.ClientPublic {
		return true
	}
	r := c.RefreshTokens
	if !On(ws) {
		return r == nil || !r.NoRotation
	}
	return r != nil && !r.NoRotation && r.GracePeriod > 0 && graceAvailable
}

// plainHTTPRedirect reports an http redirect URI of a client that is not
// a native application: SP §5.3.2.2 item 8 keeps authorization responses
// off unencrypted connections except for native clients' loopback
// redirection (the service layer already allows http for loopback hosts
// only).
func plainHTTPRedirect(c storage.Client) bool {
	if c.EffectiveApplicationType() == storage.ApplicationTypeNative {
		return false
	}
	for _, uri := range c.RedirectURIs {
		if len(uri) >= 5 && strings.EqualFold(uri[:5], "http:") {
			return true
		}
	}
	return false
}

// weakKey describes the first key of an inline JWKS below the sizes of SP
// §5.4.1, or "" when all are strong enough (or the set is unreadable:
// that is reported by the JWKS validation itself).
func weakKey(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return ""
	}
	for _, k := range set.Keys {
		if msg := KeyProblem(k.Key); msg != "" {
			return msg
		}
	}
	return ""
}

// KeyProblem describes why a public key is too weak for the profile
// (SP §5.4.1: RSA at least 2048 bits, elliptic curves at least 224), or
// returns "".
func KeyProblem(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return fmt.Sprintf("FAPI 2.0 requires RSA keys of at least %d bits (FAPI 2.0 Security Profile §5.4.1 item 2)", MinRSABits)
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize < MinECBits {
			return fmt.Sprintf("FAPI 2.0 requires elliptic curve keys of at least %d bits (FAPI 2.0 Security Profile §5.4.1 item 3)", MinECBits)
		}
	case *rsa.PrivateKey:
		return KeyProblem(&k.PublicKey)
	case *ecdsa.PrivateKey:
		return KeyProblem(&k.PublicKey)
	}
	return ""
}

// Describe joins violations into one sentence for a person.
func Describe(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Field + ": " + v.Message
	}
	return strings.Join(parts, "; ")
}

// CodeTTL is the authorization code lifetime d, capped at
// MaxCodeLifetime under the profile (SP §5.3.2.1 item 11).
func CodeTTL(ws storage.Workspace, d time.Duration) time.Duration {
	if On(ws) && d > MaxCodeLifetime {
		return MaxCodeLifetime
	}
	return d
}

// AuthorizationRequest is what CheckAuthorization needs to know about an
// authorization request, as the authorize package assembled it.
type AuthorizationRequest struct {
	// Pushed: the parameters came through the PAR endpoint.
	Pushed bool
	// AtPAR: the request is being validated at the PAR endpoint.
	AtPAR bool
	// SignedAlg is the alg of the request object that carried the
	// parameters, "" for plain parameters (or a request_uri, whose
	// object was checked when it was pushed).
	SignedAlg string
	// Params are the (assembled) authorization request parameters.
	Params map[string][]string
	// JWTResponseMode: the response mode is one of JARM's.
	JWTResponseMode bool
}

// CheckAuthorization enforces the profile's rules on an authorization
// request, at the PAR endpoint and at the authorization endpoint. The
// error is an oauth2 error with the code RFC 9126 / RFC 9101 / RFC 6749
// give for it.
func CheckAuthorization(ws storage.Workspace, r AuthorizationRequest) error {
	if !On(ws) {
		return nil
	}
	get := func(k string) string {
		if vs := r.Params[k]; len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	has := func(k string) bool { _, ok := r.Params[k]; return ok }
	switch {
	case !r.Pushed && has("request_uri"):
		// SP §5.3.2.2 item 3: request_uri only from the PAR endpoint.
		return oauth2.NewError(errRequestURINotSupported, "under FAPI 2.0 only request_uri values issued by the pushed authorization request endpoint are accepted")
	case !r.Pushed:
		// SP §5.3.2.2 items 2 and 3, RFC 9126 §5.
		return oauth2.NewError(oauth2.ErrInvalidRequest, "under FAPI 2.0 every authorization request must be pushed to the pushed authorization request endpoint first (RFC 9126)")
	case get("response_type") != "code":
		// SP §5.3.2.2 item 1.
		return oauth2.NewError("unsupported_response_type", "FAPI 2.0 allows only response_type=code")
	case get("code_challenge") == "" || get("code_challenge_method") != "S256":
		// SP §5.3.2.2 item 5, RFC 7636 §4.3.
		return oauth2.NewError(oauth2.ErrInvalidRequest, "FAPI 2.0 requires PKCE with code_challenge_method S256 (plain is refused)")
	case r.AtPAR && get("redirect_uri") == "":
		// SP §5.3.2.2 item 6: the redirect URI is sent in the pushed request.
		return oauth2.NewError(oauth2.ErrInvalidRequest, "FAPI 2.0 requires redirect_uri in the pushed authorization request")
	case r.SignedAlg != "" && !slices.Contains(Algs, r.SignedAlg):
		// SP §5.4.1 item 1.
		return oauth2.NewError(errInvalidRequestObject, "FAPI 2.0 accepts request objects signed with "+strings.Join(Algs, ", ")+" only")
	case MessageSigning(ws) && r.AtPAR && r.SignedAlg == "":
		// MS §5.3.1 item 1: signed request objects through PAR.
		return oauth2.NewError(errInvalidRequestObject, "FAPI 2.0 Message Signing requires the pushed authorization request to be a signed request object (RFC 9101)")
	case MessageSigning(ws) && !r.JWTResponseMode:
		// MS §5.4.1 item 1: JARM responses.
		return oauth2.NewError(oauth2.ErrInvalidRequest, "FAPI 2.0 Message Signing requires a JWT-secured authorization response: use response_mode=jwt")
	}
	return nil
}

// CheckAuthMethod refuses a client authentication method outside the
// profile's (SP §5.3.2.1 item 6) with a sentence for invalid_client, or "".
func CheckAuthMethod(ws storage.Workspace, method string) string {
	if !On(ws) || slices.Contains(AuthMethods, method) {
		return ""
	}
	return "FAPI 2.0 accepts only " + strings.Join(AuthMethods, ", ") + " as client authentication"
}

// CheckAssertionAlg refuses a client assertion algorithm outside the
// profile's (SP §5.4.1 item 1) with a sentence for invalid_client, or "".
func CheckAssertionAlg(ws storage.Workspace, alg string) string {
	if !On(ws) || slices.Contains(Algs, alg) {
		return ""
	}
	return "FAPI 2.0 accepts client assertions signed with " + strings.Join(Algs, ", ") + " only"
}

// StrictAudience reports whether client assertions must have the issuer,
// as a single string, as their only audience: always under the profile
// (SP §5.3.2.1 item 8: "only ... as a string"), otherwise as the workspace says.
func StrictAudience(ws storage.Workspace) bool {
	return On(ws) || ws.Settings.StrictAssertionAudience
}

// CheckTokenRequest enforces sender-constrained access tokens at the
// token endpoint (SP §5.3.2.1 items 4 and 5): the request carries a DPoP proof
// (RFC 9449) or binds the tokens to the TLS client certificate it was
// made with (RFC 8705 §3; certBound). The client's method is checked
// again here (defence in depth for a client registered concurrently
// with the switch).
func CheckTokenRequest(ws storage.Workspace, method string, hasProof, certBound bool) error {
	if !On(ws) {
		return nil
	}
	if msg := CheckAuthMethod(ws, method); msg != "" {
		return oauth2.NewError(oauth2.ErrInvalidClient, msg)
	}
	if !hasProof && !certBound {
		return oauth2.NewError(oauth2.ErrInvalidRequest, "FAPI 2.0 issues sender-constrained access tokens only: send a DPoP proof (RFC 9449) or use a TLS client certificate with certificate-bound access tokens (RFC 8705)")
	}
	return nil
}
