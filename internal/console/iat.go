package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/oauth2"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Initial access tokens let applications register themselves at the
// workspace's registration endpoint (RFC 7591 §3). Each carries the
// registration policy of docs/security.md R2; the console sets it like the
// admin API and the CLI, through the same service calls (which audit).

// Defaults of the create form: one registration within a day, with the
// narrow default policy (docs/security.md R2), as the CLI's defaults.
const (
	defaultIATExpiresIn = "86400"
	defaultIATMaxUses   = "1"
)

type iatRow struct {
	T       storage.InitialAccessToken
	Expired bool
	UsedUp  bool
}

type iatsData struct {
	Tokens []iatRow
	// Created is set right after a creation: the only time the token
	// value is shown.
	Created *createdIAT
}

func (h *Handler) iats(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderIATs(w, r, c, "", nil)
}

// renderIATs shows the list, with notice on top and, after a creation,
// the new token.
func (h *Handler) renderIATs(w http.ResponseWriter, r *http.Request, c *reqCtx, notice string, created *createdIAT) {
	list, err := h.Service.ListInitialAccessTokens(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	now := h.now()
	d := iatsData{Tokens: make([]iatRow, len(list)), Created: created}
	for i, t := range list {
		d.Tokens[i] = iatRow{T: t, Expired: !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now), UsedUp: t.UsesLeft == 0}
	}
	v := h.newView(r, c, "Initial access tokens", "iats", d)
	v.Notice = notice
	h.render(w, r, http.StatusOK, "iats", v)
}

// iatForm is the create form as typed, so a refused form comes back with
// nothing lost.
type iatForm struct {
	Description string
	ExpiresIn   string
	MaxUses     string
	Policy      storage.RegistrationPolicy
	// RedirectURIPatterns is the textarea, one pattern per line.
	RedirectURIPatterns string
}

type iatNewData struct {
	Form          iatForm
	GrantTypes    []string
	Impersonating []string
	AuthMethods   []string
	AppTypes      []string
	// OIDCScopes and the services' scopes are what a policy may list.
	OIDCScopes []string
	Services   []storage.Service
	// Errs are the validation errors by form field, shown next to it.
	Errs map[string]*fieldMessages
}

// fieldMessages are the problems of one form field; ID is the element
// the field's aria-describedby points to.
type fieldMessages struct {
	ID       string
	Messages []string
}

func (h *Handler) newIATForm(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := iatForm{ExpiresIn: defaultIATExpiresIn, MaxUses: defaultIATMaxUses,
		Policy: storage.RegistrationPolicy{GrantTypes: slices.Clone(service.DefaultRegistrationGrantTypes)}}
	v, err := h.iatFormView(r, c, f)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.render(w, r, http.StatusOK, "iat_new", v)
}

func (h *Handler) iatFormView(r *http.Request, c *reqCtx, f iatForm) (*view, error) {
	page, err := h.Service.ListServices(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	return h.newView(r, c, "New initial access token", "iats", &iatNewData{
		Form: f, GrantTypes: service.ClientGrantTypes, Impersonating: service.ImpersonatingGrants,
		AuthMethods: oauth2.AllAuthMethods, AppTypes: service.ApplicationTypes,
		OIDCScopes: oauth2.StandardScopes, Services: page.Items,
	}), nil
}

func parseIATForm(f form) iatForm {
	raw := f.r.PostForm.Get("redirect_uri_patterns")
	return iatForm{
		Description: f.get("description"), ExpiresIn: f.get("expires_in"), MaxUses: f.get("max_uses"),
		RedirectURIPatterns: raw,
		Policy: storage.RegistrationPolicy{
			GrantTypes: f.list("grant_types"), Scopes: f.list("scopes"), AuthMethods: f.list("auth_methods"),
			ApplicationTypes: f.list("application_types"), RedirectURIPatterns: splitLines(raw),
			AllowImpersonation: f.checked("allow_impersonation"),
		},
	}
}

// input turns the form into the service's input; problems the console
// finds itself go to verr.
func (in iatForm) input(f form, verr *fieldErrs) service.InitialAccessTokenInput {
	if in.ExpiresIn == "" {
		verr.add("expires_in", "required", "enter a number of seconds, or 0 for a token that never expires")
	}
	expires, _ := verr.seconds(f, "expires_in", "expires_in")
	uses, err := strconv.Atoi(in.MaxUses)
	if err != nil || uses < 0 {
		verr.add("max_uses", "integer", "must be a whole number of registrations, or 0 for unlimited")
	}
	// The service reads an empty grant list as the default policy; in
	// the form, unticking every box must not quietly mean that.
	if len(in.Policy.GrantTypes) == 0 {
		verr.add("grant_types", "required", "tick at least one grant type")
	}
	return service.InitialAccessTokenInput{Description: in.Description, ExpiresIn: expires, MaxUses: uses, Policy: in.Policy}
}

// createdIAT is the result of a creation: the record and the bearer value,
// which only exists in this response.
type createdIAT struct {
	T        storage.InitialAccessToken
	Token    string
	Endpoint string
}

func (h *Handler) createIAT(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	in := parseIATForm(f)
	var verr fieldErrs
	input := in.input(f, &verr)
	res, err := orRun(&verr, func() (createdIAT, error) {
		t, token, err := h.Service.CreateInitialAccessToken(r.Context(), c.ws, input)
		return createdIAT{T: t, Token: token}, err
	})
	if err != nil {
		h.iatFormError(w, r, c, in, err)
		return
	}
	res.Endpoint = h.BaseURL + "/w/" + url.PathEscape(c.ws) + "/oauth2/register"
	h.renderIATs(w, r, c, "Initial access token "+res.T.ID+" created. Copy the token now: it is shown only once.", &res)
}

// iatFormError shows the form again with its input and the errors next to
// their fields, or the error page when err is not the user's.
func (h *Handler) iatFormError(w http.ResponseWriter, r *http.Request, c *reqCtx, in iatForm, err error) {
	v, verr := h.iatFormView(r, c, in)
	if verr != nil {
		h.fail(w, r, c, verr)
		return
	}
	status, ok := formErrors(v, err)
	if !ok {
		h.fail(w, r, c, err)
		return
	}
	v.Data.(*iatNewData).Errs = groupFieldErrors(v.Errors, map[string][]string{
		"grant_types": in.Policy.GrantTypes, "scopes": in.Policy.Scopes, "auth_methods": in.Policy.AuthMethods,
		"application_types": in.Policy.ApplicationTypes, "redirect_uri_patterns": in.Policy.RedirectURIPatterns,
	})
	h.render(w, r, status, "iat_new", v)
}

// groupFieldErrors files each error under its form field: "scopes[2]"
// goes to "scopes", its message naming the value instead of the index, so
// it reads right next to the boxes or lines it is about.
func groupFieldErrors(errs []service.FieldError, values map[string][]string) map[string]*fieldMessages {
	out := map[string]*fieldMessages{}
	for _, e := range errs {
		field, msg := e.Field, strings.TrimPrefix(e.Message, e.Field+": ")
		if base, idx, ok := strings.Cut(field, "["); ok {
			field = base
			if i, err := strconv.Atoi(strings.TrimSuffix(idx, "]")); err == nil && i >= 0 && i < len(values[base]) {
				msg = fmt.Sprintf("%q: %s", values[base][i], msg)
			}
		}
		if out[field] == nil {
			out[field] = &fieldMessages{ID: field + "-error"}
		}
		out[field].Messages = append(out[field].Messages, msg)
	}
	return out
}

// deleteIAT revokes a token and says which one: registrations with it
// are refused from now on; clients it registered keep working.
func (h *Handler) deleteIAT(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	id := r.PathValue("tid")
	list, err := h.Service.ListInitialAccessTokens(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	if err := h.Service.DeleteInitialAccessToken(r.Context(), c.ws, id); err != nil {
		h.fail(w, r, c, err)
		return
	}
	what := "Initial access token " + id
	if i := slices.IndexFunc(list, func(t storage.InitialAccessToken) bool { return t.ID == id }); i >= 0 && list[i].Description != "" {
		what += " (“" + list[i].Description + "”)"
	}
	h.renderIATs(w, r, c, what+" was deleted. Registrations with it are refused from now on; clients it already registered keep working.", nil)
}
