package authorize

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/oidc"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/webui"
)

// step is what a pending request needs next.
type step int

const (
	stepLogin step = iota
	stepConsent
	stepComplete
)

// proceed moves a stored pending request on: to the sign-in page, to the
// consent page (onConsentPage: render it here), or back to the client.
// With prompt=none any interaction is an error instead (OIDC Core
// §3.1.2.6, E14).
func (h *Handler) proceed(w http.ResponseWriter, r *http.Request, f *flow, v *validated, onConsentPage bool) {
	ctx := r.Context()
	signed, ok, err := h.Sessions.Current(ctx, r, f.ws.ID)
	if err != nil {
		h.fail(w, r, f, v, unavailable(err))
		return
	}
	next, err := h.nextStep(ctx, v, signed, ok)
	if err != nil {
		h.fail(w, r, f, v, err)
		return
	}
	if next != stepLogin {
		// The user and access policies decide after sign-in, before consent.
		denied, err := h.checkPolicies(r, f, v, signed)
		if err != nil {
			h.fail(w, r, f, v, err)
			return
		}
		if denied != nil {
			h.abandon(w, r, f, v, denied)
			return
		}
		if acr := signed.Session.ACR; oidc.DecodeClaims(v.req.Claims).UnmetEssentialACR(acr) {
			// OIDC Core §5.5.1.1: an essential acr that cannot be met is a
			// failed authentication, never a token at a lower level.
			h.abandon(w, r, f, v, oauth2.NewError(oauth2.ErrAccessDenied,
				"the request requires an authentication context class (essential acr) this sign-in does not meet: its acr is "+acr))
			return
		}
	}
	none := slices.Contains(v.req.Prompt, PromptNone)
	switch {
	case next == stepLogin && none:
		h.abandon(w, r, f, v, oauth2.NewError(ErrLoginRequired, "the user is not signed in"))
	case next == stepLogin:
		redirectSeeOther(w, f.issuer+"/login?request_id="+url.QueryEscape(v.req.ID))
	case next == stepConsent && none:
		h.abandon(w, r, f, v, oauth2.NewError(ErrConsentRequired, "the user has not consented"))
	case next == stepConsent && onConsentPage:
		h.renderConsent(w, r, f, v, signed)
	case next == stepConsent:
		redirectSeeOther(w, f.issuer+"/consent?request_id="+url.QueryEscape(v.req.ID))
	default:
		h.complete(w, r, f, v, signed)
	}
}

// nextStep decides what the request still needs.
func (h *Handler) nextStep(ctx context.Context, v *validated, s webui.Signed, signedIn bool) (step, error) {
	if !signedIn {
		return stepLogin, nil
	}
	fresh, err := h.authenticationFresh(ctx, v, s)
	if err != nil || !fresh {
		return stepLogin, err
	}
	if v.client.Trusted && !slices.Contains(v.req.Prompt, PromptConsent) {
		return stepComplete, nil
	}
	if slices.Contains(v.req.Prompt, PromptConsent) {
		return stepConsent, nil
	}
	covered, err := h.consentCovers(ctx, v, s.User.ID)
	if err != nil || !covered {
		return stepConsent, err
	}
	return stepComplete, nil
}

// authenticationFresh: prompt=login and select_account need a sign-in
// after the request started, max_age a recent enough one, and an
// id_token_hint must name the signed-in user (OIDC Core §3.1.2.1).
//
// A sign-in made for this request satisfies max_age whatever its value:
// the user was just "actively authenticated", which is what max_age asks
// for (max_age=0 is prompt=login, §3.1.2.1). Measuring such a sign-in
// against max_age would send the user back to sign in again as soon as
// max_age seconds had passed since, for max_age=0 at once: forever.
func (h *Handler) authenticationFresh(ctx context.Context, v *validated, s webui.Signed) (bool, error) {
	auth := s.Session.AuthTime
	signedInForRequest := !auth.Before(v.req.CreatedAt.Truncate(time.Millisecond))
	forced := slices.Contains(v.req.Prompt, PromptLogin) || slices.Contains(v.req.Prompt, PromptSelectAccount)
	if forced && !signedInForRequest {
		return false, nil
	}
	if v.req.MaxAge >= 0 && !signedInForRequest && h.now().Sub(auth) > time.Duration(v.req.MaxAge)*time.Second {
		return false, nil
	}
	if v.req.HintSubject != "" {
		sub, err := h.Subjects.Subject(ctx, v.client, s.User)
		var protocol *oauth2.Error
		if errors.As(err, &protocol) {
			return false, nil // the user has no sub for this client: the hint names someone else
		}
		if err != nil {
			return false, unavailable(err)
		}
		return sub == v.req.HintSubject, nil
	}
	return true, nil
}

// consentCovers reports whether the user already granted every requested
// scope to the client (OIDC Core §3.1.2.4).
func (h *Handler) consentCovers(ctx context.Context, v *validated, userID string) (bool, error) {
	if len(v.req.AuthorizationDetails) > 0 {
		// RFC 9396 §2: details are specific to one request (a payment, an
		// account); remembered consent never covers them, so the user is
		// asked each time.
		return false, nil
	}
	c, err := h.Store.GetConsent(ctx, v.req.WorkspaceID, userID, v.client.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	for _, s := range v.req.Scopes {
		if !slices.Contains(c.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// abandon ends a pending request with an error redirect.
func (h *Handler) abandon(w http.ResponseWriter, r *http.Request, f *flow, v *validated, e *oauth2.Error) {
	_ = h.Store.DeleteAuthRequest(r.Context(), f.ws.ID, v.req.ID)
	h.fail(w, r, f, v, e)
}
