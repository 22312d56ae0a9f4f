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
	errPaused         = errors.New("failure budget of this client from this address spent: credentials not checked")
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

// budget charges a failed attempt to the client's and the remote
// address's buckets, and a guess at a secret (secretGuess) to the pair's
// too. Over budget the caller gets 429 with Retry-After and
// an invalid_client body (M7, N1). Server errors are not the caller's fault
// and are not charged; successes never reach here.
func (a *Authenticator) budget(wsID, clientID, remoteIP string, err error) error {
	e := oauth2.AsError(err)
	if a.Limiter == nil || (e.Code != oauth2.ErrInvalidClient && e.Code != oauth2.ErrInvalidRequest) || errors.Is(err, errPaused) {
		return err // a paused attempt is already the 429, and checked nothing
	}
	var wait time.Duration
	for _, key := range budgetKeys(wsID, clientID, remoteIP) {
		if key == pairBudgetKey(wsID, clientID, remoteIP) && !isSecretGuess(err) {
			continue // the pair pauses on guesses only (guesses.go)
		}
		if ok, d := a.Limiter.Allow(key); !ok && d > wait {
			wait = d
		}
	}
	if wait == 0 {
		return err
	}
	return tooManyFailures(wait, err)
}

// paused refuses, before any credential is checked, a client that has
// spent its failure budget from this address: without it a guesser gets
// every guess checked, the wrong ones answered 429 and the right one 200,
// so the budget would not slow guessing at all (RFC 6749 §2.3.1: "MUST
// protect ... against brute force attacks"). Only the pair of client and
// address pauses. The client's own budget does not: client IDs are public
// (RFC 6749 §2.2), and pausing on it would let anyone lock any client
// out. Nor does the address's: other clients behind the same address
// (a NAT) keep authenticating while one of them fails.
func (a *Authenticator) paused(wsID, clientID, remoteIP string) error {
	if a.Limiter == nil || remoteIP == "" || clientID == "" || len(clientID) > maxClientIDLength {
		return nil
	}
	if wait := a.Limiter.Wait(pairBudgetKey(wsID, clientID, remoteIP)); wait > 0 {
		return tooManyFailures(wait, errPaused)
	}
	return nil
}

// tooManyFailures is the 429 of a spent failure budget.
func tooManyFailures(wait time.Duration, cause error) *oauth2.Error {
	return &oauth2.Error{
		Code:        oauth2.ErrInvalidClient,
		Description: "too many failed client authentication attempts",
		Status:      http.StatusTooManyRequests,
		RetryAfter:  max(1, int(math.Ceil(wait.Seconds()))),
		Cause:       cause,
	}
}

func budgetKeys(wsID, clientID, remoteIP string) []string {
	var keys []string
	if remoteIP != "" {
		keys = append(keys, "ip\x00"+remoteIP)
	}
	if clientID != "" && len(clientID) <= maxClientIDLength {
		keys = append(keys, "client\x00"+wsID+"\x00"+clientID)
		if remoteIP != "" {
			keys = append(keys, pairBudgetKey(wsID, clientID, remoteIP))
		}
	}
	return keys
}

// pairBudgetKey is the bucket of one client's failures from one address.
func pairBudgetKey(wsID, clientID, remoteIP string) string {
	return "pair\x00" + wsID + "\x00" + clientID + "\x00" + remoteIP
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
