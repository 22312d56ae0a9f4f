package clientauth

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/latchkey/latchkey/internal/endpoint"
	"github.com/latchkey/latchkey/internal/oauth2"
)

// genericDescription is the answer whenever detail would tell an unproven
// caller something (which clients exist, which secret is wrong; D2).
const genericDescription = "client authentication failed"

// Causes, logged but never written to the wire.
var (
	errNoCredentials  = errors.New("no client credentials and no client_id")
	errMalformedBasic = errors.New("malformed Basic credentials")
	errUnknownClient  = errors.New("unknown client")
	errDisabled       = errors.New("client is disabled")
	errMethodMismatch = errors.New("authentication method not allowed for client")
	errNoSecret       = errors.New("client has no secret")
	errWrongSecret    = errors.New("wrong client secret")
	errSecretExpired  = errors.New("client secret expired")
	errIDMismatch     = errors.New("client_id parameter disagrees with the credentials")
	errNoKeys         = errors.New("client has no usable keys")
	errReplay         = errors.New("assertion jti already used")
	errNoKeyring      = errors.New("clientauth: no keyring configured")
	errNoJWKSCache    = errors.New("clientauth: no JWKS cache configured")
)

func failed(cause error) *oauth2.Error {
	return oauth2.Wrap(oauth2.ErrInvalidClient, genericDescription, cause)
}

func invalidClient(description string, cause error) *oauth2.Error {
	return oauth2.Wrap(oauth2.ErrInvalidClient, description, cause)
}

func invalidRequest(description string) *oauth2.Error {
	return oauth2.NewError(oauth2.ErrInvalidRequest, description)
}

// serverError reports a storage failure as 503 temporarily_unavailable:
// the request may succeed when retried, and it must never look like a
// successful authentication (SECURITY.md I8).
func serverError(cause error) *oauth2.Error {
	return endpoint.ErrUnavailable(cause)
}

// budget charges a failed attempt to the client's and the remote address's
// buckets. Over budget the caller gets 429 with Retry-After and an
// invalid_client body (M7, N1). Server errors are not the caller's fault and
// are not charged; successes never reach here.
func (a *Authenticator) budget(wsID, clientID, remoteIP string, err error) error {
	e := oauth2.AsError(err)
	if a.Limiter == nil || (e.Code != oauth2.ErrInvalidClient && e.Code != oauth2.ErrInvalidRequest) {
		return err
	}
	var wait time.Duration
	for _, key := range budgetKeys(wsID, clientID, remoteIP) {
		if ok, d := a.Limiter.Allow(key); !ok && d > wait {
			wait = d
		}
	}
	if wait == 0 {
		return err
	}
	return &oauth2.Error{
		Code:        oauth2.ErrInvalidClient,
		Description: "too many failed client authentication attempts",
		Status:      http.StatusTooManyRequests,
		RetryAfter:  int(math.Ceil(wait.Seconds())),
		Cause:       err,
	}
}

func budgetKeys(wsID, clientID, remoteIP string) []string {
	var keys []string
	if remoteIP != "" {
		keys = append(keys, "ip\x00"+remoteIP)
	}
	if clientID != "" && len(clientID) <= maxClientIDLength {
		keys = append(keys, "client\x00"+wsID+"\x00"+clientID)
	}
	return keys
}

// logFailure records why an authentication failed. Causes never contain
// secrets or assertions: they are our own sentinel errors, jwtx validation
// texts and storage errors.
//
// The level is the endpoint layer's (endpoint.LogFailure): a storage
// failure is a warning, one caused by the client going away only a debug
// line, so neither fakes an outage on dashboards.
func (a *Authenticator) logFailure(ctx context.Context, wsID, clientID string, err error) {
	if len(clientID) > maxClientIDLength {
		clientID = clientID[:maxClientIDLength]
	}
	endpoint.LogFailure(ctx, a.logger(), "client authentication failed", oauth2.AsError(err),
		slog.String("workspace", wsID), slog.String("client_id", clientID))
}
