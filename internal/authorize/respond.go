package authorize

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/webui"
)

// errorParams are the parameters of an error response (RFC 6749
// §4.1.2.1), with iss (RFC 9207 §2, SECURITY.md E6).
func errorParams(e *oauth2.Error, state, issuer string) url.Values {
	code := e.Code
	if code == oauth2.ErrTemporarilyUnavailable || code == oauth2.ErrServerError {
		e = oauth2.NewError(code, "the server could not complete the request")
	}
	v := url.Values{"error": {string(code)}, "iss": {issuer}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	if state != "" {
		v.Set("state", state)
	}
	return v
}

// respond sends the authorization response in the request's response
// mode: 303 to the redirect URI with the parameters in the query or the
// fragment (RFC 9700 §4.12: never 307), or the form_post page. In the
// JARM modes the parameters travel as one signed (and possibly
// encrypted) JWT in the "response" parameter (JARM §2.3).
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, f *flow, v *validated, params url.Values) {
	req := v.req
	mode := req.ResponseMode
	if isJWTMode(mode) {
		jwt, err := h.secureResponse(r.Context(), f, v.client, params)
		if err != nil {
			// Without the JWT nothing may reach the client: the error
			// page says the server failed (detail only in the log).
			e := oauth2.Wrap(oauth2.ErrServerError, "the authorization response could not be signed or encrypted", err)
			h.logFailure(r, f, e)
			h.errorPage(w, f, e)
			return
		}
		params = url.Values{"response": {jwt}}
		mode = map[string]string{ModeQueryJWT: ModeQuery, ModeFragmentJWT: ModeFragment, ModeFormPostJWT: ModeFormPost}[mode]
	}
	webui.SetPageHeaders(w)
	switch mode {
	case ModeFormPost:
		f.page.Title = f.page.T("redirecting")
		f.page.Data = webui.FormPostData{Action: req.RedirectURI, Fields: fields(params)}
		webui.Render(w, h.Logger, http.StatusOK, "form_post", f.page)
	case ModeFragment:
		w.Header().Set("Location", req.RedirectURI+"#"+params.Encode())
		w.WriteHeader(http.StatusSeeOther)
	default:
		w.Header().Set("Location", appendQuery(req.RedirectURI, params))
		w.WriteHeader(http.StatusSeeOther)
	}
}

// appendQuery adds params to a redirect URI that may already have a query
// (RFC 6749 §3.1.2: the query component MUST be retained).
func appendQuery(uri string, params url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + params.Encode()
}

func fields(params url.Values) []webui.Field {
	out := make([]webui.Field, 0, len(params))
	for _, k := range []string{"code", "state", "iss", "error", "error_description", "response"} {
		if v := params.Get(k); v != "" {
			out = append(out, webui.Field{Name: k, Value: v})
		}
	}
	return out
}

// redirectSeeOther sends the browser to a page of ours.
func redirectSeeOther(w http.ResponseWriter, target string) {
	webui.SetPageHeaders(w)
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusSeeOther)
}
