package clientauth

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/fapi"
	"github.com/latchkey/latchkey/internal/jwtx"
	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/ratelimit"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/ssrf"
	"github.com/latchkey/latchkey/internal/storage"
)

// Request is what the endpoints pass in.
type Request struct {
	Workspace             storage.Workspace
	Issuer, TokenEndpoint string
	// Endpoint is the URL of the endpoint being called when it is not the
	// token endpoint (introspection, revocation, ...): client libraries
	// address their assertions to the endpoint they call, and RFC 7523 §3
	// item 3 lets the token endpoint URL identify the server, so the URL of
	// any endpoint that authenticates clients does too (OIDC Core §9).
	Endpoint      string
	Form          url.Values // parsed POST body only (never the query string)
	Authorization string     // the Authorization header
	// GrantAssertion admits the assertion-only shape of the JWT bearer
	// grant (RFC 7521 §4.1) and parses that grant's assertion parameter
	// (assertiononly.go). The token endpoint sets it for that grant only;
	// nil everywhere else, where a request without credentials is refused
	// or, with a client_id, is a public client's "none".
	GrantAssertion GrantAssertionParser
}

// Result is the authenticated client and the method it used.
type Result struct {
	Client storage.Client
	Method string
	// Assertion is the grant assertion that identified the client when the
	// request carried no credentials (Method MethodAssertionOnly), so that
	// the grant, which must still verify it, does not parse it again; nil
	// otherwise.
	Assertion *jwtx.Token
}

// ClientStore is what client authentication needs from storage: the
// client lookup and the single-use jti gate of client assertions
// (SECURITY.md B7). The cached store implements it.
type ClientStore interface {
	GetClient(ctx context.Context, workspaceID, id string) (storage.Client, error)
	UseJTI(ctx context.Context, j storage.JTI) error
}

var _ ClientStore = storage.Storage(nil)

// Authenticator authenticates clients. Its exported fields are set once
// before first use; it must not be copied after that.
type Authenticator struct {
	Store   ClientStore        // the cached store
	Keyring *secrets.Keyring   // decrypts client secrets
	JWKS    *ssrf.JWKSCache    // jwks_uri key sets (nil: jwks_uri clients cannot authenticate)
	Limiter *ratelimit.Limiter // failed-auth budget per client and per IP (may be nil)
	Now     func() time.Time
	Logger  *slog.Logger
	// ClientCAs returns the trust anchors that verify the certificates of
	// tls_client_auth clients on direct TLS connections (RFC 8705 §2.1;
	// nil, or a nil pool: only through a trusted proxy). It is called per
	// authentication, so a replaced CA file applies without a restart.
	// The presented certificate comes from the request context
	// (endpoint.PresentedCertificate).
	ClientCAs func() *x509.CertPool

	dummyOnce sync.Once
	dummy     []byte // a ciphertext decrypted for unknown clients (D2)
	guesses   guessMemory
}

// JTINamespace separates client-assertion jti values from those of other
// purposes in the replay store (SECURITY.md B8).
const JTINamespace = "client_assertion"

// Skew is the clock skew tolerated on assertion times (FAPI 2.0 Security
// Profile §5.3.2.1 item 13: iat or nbf up to 10 s in the future accepted,
// more than 60 s refused).
const Skew = 60 * time.Second

// DefaultMaxAssertionLifetime applies when the workspace sets none
// (SECURITY.md B5). Common client libraries sign assertions valid for up
// to one hour, so the default accepts that; a workspace may tighten it.
const DefaultMaxAssertionLifetime = time.Hour

// maxClientIDLength bounds client IDs before they reach storage.
const maxClientIDLength = 255

// Authenticate implements RFC 6749 §2.3, RFC 7523 §2.2/§3, OIDC Core §9,
// and identifies the client of the JWT bearer grant's assertion-only shape
// (RFC 7521 §4.1) when r.GrantAssertion admits it. Errors are *oauth2.Error
// (invalid_client 401; invalid_request 400 for two methods in one request
// or bad assertion type; 429 when the failure budget is spent;
// temporarily_unavailable (503) when storage fails; in the assertion-only
// shape, the grant's own error for an assertion that does not parse).
// Every failure is logged here and marked so (endpoint.MarkLogged): the
// endpoint answering it does not log it again.
func (a *Authenticator) Authenticate(ctx context.Context, r Request, remoteIP string) (Result, error) {
	var attempted string
	res, err := a.authenticate(ctx, r, remoteIP, &attempted)
	if err == nil {
		return res, nil
	}
	a.logFailure(ctx, r.Workspace.ID, attempted, err)
	return Result{}, endpoint.MarkLogged(a.budget(r.Workspace.ID, attempted, remoteIP, err))
}

// authenticate does the work; attempted receives the client ID the request
// claims as soon as it is known, for budgets and logs.
func (a *Authenticator) authenticate(ctx context.Context, r Request, remoteIP string, attempted *string) (Result, error) {
	if tok, ok, err := assertionOnly(r); ok {
		if err != nil {
			return Result{}, err
		}
		return a.identifyFromAssertion(ctx, r.Workspace.ID, tok, attempted)
	}
	c, err := extract(r)
	*attempted = c.attemptedID()
	if err != nil {
		if *attempted == "" {
			*attempted = r.Form.Get("client_id")
		}
		return Result{}, err
	}
	if err := a.paused(r.Workspace.ID, *attempted, remoteIP); err != nil {
		return Result{}, err
	}
	if c.method == methodAssertion {
		return a.authenticateAssertion(ctx, r, c, attempted)
	}
	client, err := a.lookup(ctx, r.Workspace.ID, c.ids)
	if err != nil {
		if c.method != oauth2.AuthNone {
			a.dummyCompare(c.secretForms)
		}
		return Result{}, err
	}
	*attempted = client.ID
	if c.method == oauth2.AuthNone && IsMTLSMethod(client.TokenEndpointAuthMethod) {
		// RFC 8705 §2: client_id alone, the TLS client certificate is the credential (mtls.go).
		return a.authenticateMTLS(ctx, r.Workspace, client)
	}
	if err := a.checkClient(r.Workspace, client, c.method); err != nil {
		return Result{}, err
	}
	if c.method != oauth2.AuthNone {
		if err := a.checkSecret(r.Workspace.ID, client, c.secretForms); err != nil {
			if errors.Is(err, errWrongSecret) && !a.guesses.repeated(pairBudgetKey(r.Workspace.ID, client.ID, remoteIP), c.secretForms) {
				return Result{}, secretGuess{err}
			}
			return Result{}, err
		}
	}
	return Result{Client: client, Method: c.method}, nil
}

// lookup finds the client under the first id that exists. Every miss and
// every disabled client is the same generic invalid_client (D2).
func (a *Authenticator) lookup(ctx context.Context, wsID string, ids []string) (storage.Client, error) {
	for _, id := range ids {
		if id == "" || len(id) > maxClientIDLength {
			continue
		}
		client, err := a.Store.GetClient(ctx, wsID, id)
		if err == nil {
			return client, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return storage.Client{}, serverError(err)
		}
	}
	return storage.Client{}, failed(errUnknownClient)
}

// checkClient enforces that the client may authenticate with method at all:
// enabled, registered for exactly this method (B10), and the method allowed
// by the workspace.
func (a *Authenticator) checkClient(ws storage.Workspace, client storage.Client, method string) error {
	if !client.Enabled {
		return failed(errDisabled)
	}
	if client.TokenEndpointAuthMethod != method {
		return invalidClient("client is registered for "+registeredMethod(client), errMethodMismatch)
	}
	if allowed := ws.Settings.AllowedAuthMethods; len(allowed) > 0 && !slices.Contains(allowed, method) {
		return invalidClient("authentication method "+method+" is not allowed in this workspace", errMethodMismatch)
	}
	if msg := fapi.CheckAuthMethod(ws, method); msg != "" { // FAPI 2.0 Security Profile §5.3.2.1 item 6
		return invalidClient(msg, errMethodMismatch)
	}
	if method == oauth2.AuthNone && client.Type != oauth2.ClientPublic {
		return failed(errMethodMismatch)
	}
	return nil
}

func registeredMethod(c storage.Client) string {
	if c.TokenEndpointAuthMethod == "" {
		return "no authentication method"
	}
	return c.TokenEndpointAuthMethod
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}
