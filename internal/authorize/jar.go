package authorize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/storage"
)

// Error codes of request objects and request URIs (RFC 9101 §6.2, OIDC
// Core §3.1.2.6).
const (
	ErrInvalidRequestObject oauth2.ErrorCode = "invalid_request_object"
	ErrInvalidRequestURI    oauth2.ErrorCode = "invalid_request_uri"
)

// RequestObjectJTINamespace separates the jti values of request objects
// from client assertions' in the replay store (RFC 9101 §10.2 replay).
const RequestObjectJTINamespace = "request_object"

// Request object limits. A request object lives at most an hour (FAPI 2.0
// Message Signing §5.3.1: exp no more than 60 minutes after nbf), and
// its size is capped like every JWT Latchkey parses (SECURITY.md A16).
const (
	maxRequestObjectLifetime = time.Hour
	maxRequestObjectSize     = 16 << 10
	requestObjectSkew        = 60 * time.Second
)

// requestObjectRejectTypes are JOSE "typ" values of other JWTs that must
// never pass as a request object (RFC 8725 §3.11; RFC 9101 §10.8 asks for
// explicit typing with "oauth-authz-req+jwt", which is accepted, as is an
// absent typ or "JWT").
var requestObjectRejectTypes = []string{
	oauth2.AccessTokenJWTType, "dpop+jwt", "logout+jwt", "secevent+jwt",
	"token-introspection+jwt", "jwt-bearer+jwt", "client-authentication+jwt",
}

// jwtClaims are the registered JWT claims of a request object; they are
// not authorization request parameters (RFC 9101 §4).
var jwtClaims = []string{"iss", "aud", "exp", "nbf", "iat", "jti", "sub"}

// ClientKeys verifies what a client signed with its registered keys and
// finds its encryption keys (*clientauth.Authenticator, whose key
// resolution private_key_jwt uses too).
type ClientKeys interface {
	VerifyClientSigned(ctx context.Context, client storage.Client, tok *jwtx.Token) error
	ClientKeys(ctx context.Context, client storage.Client) ([]jose.JSONWebKey, error)
}

// origin says where the validated parameters came from.
type origin struct {
	// pushed: the request came through the PAR endpoint (at that endpoint,
	// or by its request_uri at the authorization endpoint).
	pushed bool
	// atPAR: the request is being validated at the PAR endpoint.
	atPAR bool
	// signed is the alg of the request object that carried the
	// parameters ("" for plain parameters).
	signed string
	// authClientID: the client sent no client_id parameter and the PAR
	// endpoint took it from client authentication (RFC 9126 §2.1), so a
	// request object naming another client is described as not the
	// authenticated client's rather than as unlike a parameter the client
	// never sent.
	authClientID bool
}

// decodeRequestObject does the structural checks of a request object
// before any key is used: size, compact JWS, no header that would bring
// its own key, alg in the allowlist (never "none": an unsigned request
// object is refused here, RFC 9101 §10.1). A JWE (five parts) that is
// still encrypted here is refused (without a decryption key, or nested).
func decodeRequestObject(raw string) (*jwtx.Token, error) {
	if strings.Count(raw, ".") == 4 {
		return nil, oauth2.NewError(ErrInvalidRequestObject, "the request object could not be decrypted")
	}
	tok, err := jwtx.Parse(raw, oauth2.RequestObjectSigningAlgs, maxRequestObjectSize)
	if err != nil {
		if errors.Is(err, jwtx.ErrAlgorithm) {
			return nil, oauth2.Wrap(ErrInvalidRequestObject, refusedAlgProblem(err), err)
		}
		return nil, oauth2.Wrap(ErrInvalidRequestObject, "the request object is invalid: "+jwtx.Describe(err), err)
	}
	return tok, nil
}

// hmacAlgs are the symmetric JWS algorithms (RFC 7518 §3.2).
var hmacAlgs = []string{"HS256", "HS384", "HS512"}

// refusedAlgProblem says why the alg of a request object is refused, in
// the words of what is wrong with it: unsigned (alg none, RFC 9101 §10.1),
// signed with a shared secret, or signed with an algorithm off the list.
// Request objects must prove the client's private key, so only the
// asymmetric oauth2.RequestObjectSigningAlgs are accepted (discovery's
// request_object_signing_alg_values_supported): an HMAC with the client
// secret, which RFC 9101 §4 would allow, is refused on purpose.
func refusedAlgProblem(err error) string {
	accepted := "; request objects must be signed with one of " + strings.Join(oauth2.RequestObjectSigningAlgs, ", ")
	switch alg := jwtx.RefusedAlg(err); {
	case strings.EqualFold(alg, "none"):
		return "the request object is unsigned (alg none), and unsigned request objects are refused" + accepted
	case slices.Contains(hmacAlgs, alg):
		return "the request object is signed with " + alg + ", a symmetric algorithm: symmetric (client secret) algorithms are not accepted for request objects" + accepted
	}
	return "the request object's signing algorithm is not accepted (" + jwtx.Describe(err) + ")" + accepted
}

// requestObjectParams turns the claims of a request object into
// authorization request parameters (RFC 9101 §4): strings as they are,
// numbers (max_age) in decimal, JSON objects and arrays (claims,
// authorization_details) as compact JSON. request and request_uri may not
// appear inside (RFC 9101 §4, §10.7), nor may any other value type.
func requestObjectParams(claims map[string]json.RawMessage) (url.Values, error) {
	out := url.Values{}
	for name, raw := range claims {
		if slices.Contains(jwtClaims, name) {
			continue
		}
		if name == "request" || name == "request_uri" {
			return nil, oauth2.NewError(ErrInvalidRequestObject, "a request object must not contain request or request_uri")
		}
		v, err := paramValue(raw)
		if err != nil {
			return nil, oauth2.NewError(ErrInvalidRequestObject, "request object claim "+strconv.Quote(clipName(name))+" "+err.Error())
		}
		out.Set(name, v)
	}
	return out, nil
}

// errClientMismatch: the request object's client_id claim is not the
// client_id parameter; errNoClientID: it has none.
var (
	errClientMismatch = errors.New("authorize: request object client_id mismatch")
	errNoClientID     = errors.New("authorize: request object without client_id")
)

var errParamType = errors.New("must be a string, a number, or for JSON-valued parameters an object or array")

func paramValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", errParamType
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errParamType
		}
		return s, nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", errParamType
		}
		return b.String(), nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", errParamType
		}
		return n.String(), nil
	}
	return "", errParamType
}

// clipName bounds a claim name quoted in an error description.
func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// resolveRequestObject verifies the request object of a request passed by
// value (RFC 9101 §5.1, §6) and returns the parameters it carries. Order
// matters: structure, then the client's pinned alg, then the signature
// with the client's registered keys, then the claims, and only then the
// jti is spent, so a forged object can never burn a genuine jti.
func (h *Handler) resolveRequestObject(ctx context.Context, f *flow, client storage.Client, raw string) (url.Values, string, error) {
	if isEncrypted(raw) && h.Decrypter != nil {
		inner, err := h.decryptRequestObject(ctx, f.ws.ID, raw)
		if err != nil {
			return nil, "", err
		}
		raw = inner
	}
	tok, err := decodeRequestObject(raw)
	if err != nil {
		return nil, "", err
	}
	// RFC 9101 §6.3: checked before the signature, as the object names
	// another client (or none) and is refused whoever signed it.
	switch id, ok := tok.Claims.Raw["client_id"]; {
	case !ok || string(bytes.TrimSpace(id)) == "null":
		return nil, "", errNoClientID
	case !sameJSONString(id, client.ID):
		return nil, "", errClientMismatch
	}
	if pin := client.RequestObjectSigningAlg; pin != "" && tok.Header.Alg != pin {
		// OIDC Registration §2 request_object_signing_alg.
		return nil, "", oauth2.NewError(ErrInvalidRequestObject, "this client's request objects must be signed with "+pin)
	}
	if err := h.ClientKeys.VerifyClientSigned(ctx, client, tok); err != nil {
		if e := oauth2.AsError(err); e.Code == oauth2.ErrTemporarilyUnavailable {
			return nil, "", e // storage failed reading the client's certificates
		}
		return nil, "", oauth2.Wrap(ErrInvalidRequestObject,
			"the request object's signature could not be verified with the client's registered keys", err)
	}
	err = tok.Validate(jwtx.Expected{
		Issuer: client.ID, Audiences: []string{f.issuer}, Now: h.now(), Skew: requestObjectSkew,
		MaxLifetime: maxRequestObjectLifetime, RequireExp: true, RequireJTI: true,
		RejectTypes: requestObjectRejectTypes,
	})
	if err != nil {
		return nil, "", oauth2.Wrap(ErrInvalidRequestObject, "the request object is not acceptable: "+requestObjectProblem(err), err)
	}
	if err := checkNotBefore(tok, h.now()); err != nil {
		return nil, "", err
	}
	if err := fapi.CheckRequestObjectNotBefore(f.ws, tok.Claims.NotBefore != nil); err != nil { // FAPI 2.0 MS §5.3.1
		return nil, "", err
	}
	if len(tok.Claims.JTI) > 256 {
		return nil, "", oauth2.NewError(ErrInvalidRequestObject, "the request object's jti is too long")
	}
	params, err := requestObjectParams(tok.Claims.Raw)
	if err != nil {
		return nil, "", err
	}
	// RFC 9101 §6.3: the client_id parameter and claim must be identical.
	if params.Get("client_id") != client.ID {
		return nil, "", errClientMismatch
	}
	if err := h.spendRequestObject(ctx, f.ws.ID, client.ID, tok); err != nil {
		return nil, "", err
	}
	return params, tok.Header.Alg, nil
}

// requestObjectProblem is the public description of a claim check
// failure, in the words of request objects rather than assertions.
func requestObjectProblem(err error) string {
	switch {
	case errors.Is(err, jwtx.ErrNoExpiry):
		return "exp is required"
	case errors.Is(err, jwtx.ErrExpired):
		return "it has expired"
	case errors.Is(err, jwtx.ErrNotYetValid):
		return "it is not valid yet (nbf)"
	case errors.Is(err, jwtx.ErrIssuedInFuture):
		return "it was issued in the future (iat)"
	case errors.Is(err, jwtx.ErrLifetimeTooLong):
		return "its lifetime exceeds 60 minutes"
	case errors.Is(err, jwtx.ErrIssuerInvalid):
		return "iss must be the client_id"
	case errors.Is(err, jwtx.ErrAudienceInvalid):
		return "aud must be the issuer"
	case errors.Is(err, jwtx.ErrNoJTI):
		return "jti is required"
	case errors.Is(err, jwtx.ErrTypeRejected):
		return "its typ is not a request object's"
	}
	return jwtx.Describe(err)
}

// spendRequestObject records the jti as used, atomically across
// processes, until exp plus the skew, after which Validate refuses the
// object anyway.
func (h *Handler) spendRequestObject(ctx context.Context, wsID, clientID string, tok *jwtx.Token) error {
	err := h.Store.UseJTI(ctx, storage.JTI{
		WorkspaceID: wsID, Namespace: RequestObjectJTINamespace, Issuer: clientID,
		JTI: tok.Claims.JTI, ExpiresAt: tok.Claims.Expiry.Add(requestObjectSkew),
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrAlreadyExists):
		return oauth2.NewError(ErrInvalidRequestObject, "the request object has already been used")
	}
	return unavailable(err)
}

// assemble returns the parameters the request is validated with
// (RFC 9101 §6.3, RFC 9126 §4): a pushed request's stored parameters for a
// request_uri from the PAR endpoint, the request object's for a request
// passed by value, else the request's own. Only the client_id of the
// outer request is used besides: every other outer parameter is ignored
// (RFC 9101 §5 "MUST only use the parameters included in the Request
// Object"). A request_uri not from PAR, and request objects when no key
// source is configured, are left for checkBasics to refuse.
//
// Failures come with the best redirect the outer request allows
// (assemblyFailure) or as an error page.
func (h *Handler) assemble(ctx context.Context, f *flow, p url.Values, at origin) (url.Values, origin, *validated, error) {
	byValue := p.Has("request") && h.ClientKeys != nil
	byPAR := p.Has("request_uri") && strings.HasPrefix(p.Get("request_uri"), RequestURIPrefix)
	if !byValue && !byPAR {
		return p, at, nil, nil
	}
	client, err := h.lookupClient(ctx, f.ws.ID, p)
	if err != nil {
		return nil, at, nil, err
	}
	fail := func(err error) (url.Values, origin, *validated, error) {
		return nil, at, h.assemblyFailure(f, client, p), err
	}
	if p.Has("request") && p.Has("request_uri") {
		return fail(oauth2.NewError(oauth2.ErrInvalidRequest, "request and request_uri must not be sent together"))
	}
	if len(p["request"]) > 1 || len(p["request_uri"]) > 1 {
		return fail(oauth2.NewError(oauth2.ErrInvalidRequest, "request or request_uri is repeated"))
	}
	if byPAR {
		if at.atPAR {
			// RFC 9126 §2.1: a pushed request cannot refer to another.
			return fail(oauth2.NewError(oauth2.ErrInvalidRequest, "request_uri must not be pushed"))
		}
		params, err := h.consumePushed(ctx, f, client, p.Get("request_uri"))
		if err != nil {
			// Always our page: the request_uri may be another client's,
			// and nothing may be redirected to this client's URIs on its
			// account (RFC 9126 §4, SECURITY.md T3).
			return nil, at, nil, errPage{oauth2.AsError(err)}
		}
		return params, origin{pushed: true}, nil, nil
	}
	params, alg, err := h.resolveRequestObject(ctx, f, client, p.Get("request"))
	if errors.Is(err, errClientMismatch) || errors.Is(err, errNoClientID) {
		// RFC 9101 §6.3, §10.7: the object is another client's request, or
		// names none; nothing goes to this client's redirect URIs.
		return nil, at, nil, pageError(ErrInvalidRequestObject, clientIDProblem(err, at))
	}
	if err != nil {
		return fail(err)
	}
	at.signed = alg
	return params, at, nil, nil
}

// clientIDProblem describes a request object refused for its client_id
// claim. client_id is a required parameter of every authorization request
// (RFC 6749 §4.1.1), the request object carries every parameter (RFC 9101
// §4), and its client_id must be identical to the client_id parameter
// (§5, §6.3); at the PAR endpoint a client authenticating without one
// (private_key_jwt, RFC 9126 §2.1) is compared by its authenticated
// identity, so the description does not speak of a parameter it never
// sent.
func clientIDProblem(err error, at origin) string {
	switch {
	case errors.Is(err, errNoClientID):
		return "client_id is required: the request object must contain the client_id claim (RFC 9101 section 5, RFC 6749 section 4.1.1)"
	case at.authClientID:
		return "the request object's client_id is not the authenticated client"
	}
	return "the request object's client_id must be the client_id parameter"
}

// lookupClient resolves the outer client_id (RFC 9101 §5: required with a
// request object); failures are pages.
func (h *Handler) lookupClient(ctx context.Context, wsID string, p url.Values) (storage.Client, error) {
	id, ok := single(p, "client_id")
	switch {
	case ok && id == "":
		return storage.Client{}, pageError(oauth2.ErrInvalidRequest,
			"client_id is required, also with a request object (RFC 9101 section 5, RFC 6749 section 4.1.1)")
	case !ok || len(id) > 255:
		return storage.Client{}, pageError(oauth2.ErrInvalidRequest, "client_id is missing or invalid")
	}
	client, err := h.Store.GetClient(ctx, wsID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && !client.Enabled):
		return storage.Client{}, pageError(oauth2.ErrInvalidRequest, "unknown client")
	case err != nil:
		return storage.Client{}, errPage{oauth2.AsError(unavailable(err))}
	}
	return client, nil
}

// assemblyFailure is where an error of the request object or request URI
// may be sent: the outer redirect_uri when it is registered for the
// client, else the client's only registered redirect URI (RFC 6749
// §3.1.2.3), in the outer response mode, with the outer state. nil (an
// error page) when neither is available.
func (h *Handler) assemblyFailure(f *flow, client storage.Client, p url.Values) *validated {
	uri, _ := single(p, "redirect_uri")
	switch {
	case uri != "" && MatchRedirectURI(client.RedirectURIs, uri):
	case uri == "" && len(client.RedirectURIs) == 1:
		uri = client.RedirectURIs[0]
	default:
		return nil
	}
	state, _ := single(p, "state")
	return &validated{client: client, req: storage.AuthRequest{
		WorkspaceID: f.ws.ID, ClientID: client.ID, RedirectURI: uri, ResponseMode: responseMode(p), State: state,
	}}
}

// checkNotBefore applies FAPI's bounds on nbf (FAPI 2.0 Message Signing
// §5.3.1 items 3 and 4, FAPI 1.0 Advanced §5.2.2 items 13 and 17): when
// present (Message Signing requires it: fapi.CheckRequestObjectNotBefore),
// nbf is no more than 60 minutes in the past and exp no more than 60
// minutes after it (RFC 9101 §10.2: request objects are short-lived).
func checkNotBefore(tok *jwtx.Token, now time.Time) error {
	nbf := tok.Claims.NotBefore
	if nbf == nil {
		return nil
	}
	if now.Sub(*nbf) > maxRequestObjectLifetime {
		return oauth2.NewError(ErrInvalidRequestObject, "the request object is not acceptable: nbf is more than 60 minutes in the past")
	}
	if tok.Claims.Expiry.Sub(*nbf) > maxRequestObjectLifetime {
		return oauth2.NewError(ErrInvalidRequestObject, "the request object is not acceptable: exp is more than 60 minutes after nbf")
	}
	return nil
}

// sameJSONString reports whether raw is the JSON string s.
func sameJSONString(raw json.RawMessage, s string) bool {
	var v string
	return json.Unmarshal(raw, &v) == nil && v == s
}
