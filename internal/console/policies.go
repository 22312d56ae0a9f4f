package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Policies are CEL rule lists of a workspace (see internal/policy). The
// console edits them like the admin API and the CLI, through the same
// service calls, which type-check every rule and audit every change. The
// rule editor works without JavaScript: adding, removing and moving a
// row is a form submission that re-renders the form with nothing lost.

// policyKinds are the kinds a new policy may have, in the form's order.
var policyKinds = []struct{ ID, Label string }{
	{storage.PolicyKindUser, "User policy: who may use a client (authorization, JWT bearer, refresh)"},
	{storage.PolicyKindMachine, "Machine token policy: what client_credentials may get"},
	{storage.PolicyKindAccess, "Access policy: who may have a service's scopes"},
}

// ruleRow is one row of the rule editor, as typed, with its problems.
type ruleRow struct {
	N         int // 1-based, as people count
	Condition string
	Outcome   string
	Message   string
	Errors    []string
}

// policyForm is the editor as typed, so a refused save keeps all input.
type policyForm struct {
	ID          string
	Name        string
	Description string
	Kind        string
	// Mode is "rules" or "template" (new policies only).
	Mode     string
	Template string
	// Params are the template parameters, keyed "template.param".
	Params map[string]string
	Rules  []ruleRow
}

type policyData struct {
	New       bool
	Policy    storage.Policy
	Form      policyForm
	Kinds     any
	Templates []policy.Template
	Versions  []storage.Policy
	Errs      map[string]*fieldMessages
	// Alert is a refusal that is not about one field (a deletion of an
	// attached policy).
	Alert string
}

type policiesData struct {
	Policies []storage.Policy
	// UserPolicies feed the workspace default chooser.
	UserPolicies []storage.Policy
	Default      string
	WhatIf       *whatIfData
}

// listPolicies returns the workspace's policies, of kind when not "".
func (h *Handler) listPolicies(r *http.Request, ws, kind string) ([]storage.Policy, error) {
	var out []storage.Policy
	opts := storage.ListOptions{Limit: storage.MaxPageSize}
	for {
		page, err := h.Service.ListPolicies(r.Context(), ws, opts)
		if err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if kind == "" || p.Kind == kind {
				out = append(out, p)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		opts.After = page.Next
	}
}

// policies shows the list, the workspace default user policy and the
// what-if tool with a client chooser.
func (h *Handler) policies(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	h.renderPolicies(w, r, c, http.StatusOK, "", "")
}

func (h *Handler) renderPolicies(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, notice, errMsg string) {
	all, err := h.listPolicies(r, c.ws, "")
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	ws, err := h.Service.GetWorkspace(r.Context(), c.ws)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	d := &policiesData{Policies: all, Default: ws.Settings.DefaultUserPolicyID}
	for _, p := range all {
		if p.Kind == storage.PolicyKindUser {
			d.UserPolicies = append(d.UserPolicies, p)
		}
	}
	page, err := h.Service.ListClients(r.Context(), c.ws, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	if d.WhatIf, err = h.runWhatIf(r, c, "", page.Items); err != nil {
		h.fail(w, r, c, err)
		return
	}
	v := h.newView(r, c, "Policies", "policies", d)
	v.Notice, v.Error = notice, errMsg
	h.render(w, r, status, "policies", v)
}

// setDefaultPolicy sets the user policy of clients that attach none.
func (h *Handler) setDefaultPolicy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	id := formOf(r).get("policy_id")
	if _, err := h.Service.SetDefaultUserPolicy(r.Context(), c.ws, id); err != nil {
		status, msg := h.classify(r, err)
		if status >= http.StatusInternalServerError {
			h.fail(w, r, c, err)
			return
		}
		h.renderPolicies(w, r, c, status, "", msg)
		return
	}
	notice := "The workspace has no default user policy now."
	if id != "" {
		notice = "Policy " + id + " is now the workspace's default user policy."
	}
	h.renderPolicies(w, r, c, http.StatusOK, notice, "")
}

// policyPage shows a policy's editor (or an empty one for /policies/new).
func (h *Handler) policyPage(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	pid := r.PathValue("pid")
	if pid == "" {
		f := policyForm{Kind: storage.PolicyKindUser, Mode: "template", Template: "email-domain",
			Rules: []ruleRow{{Condition: "true", Outcome: storage.PolicyAllow}}}
		h.renderPolicy(w, r, c, http.StatusOK, &policyData{New: true, Form: f}, "")
		return
	}
	p, err := h.Service.GetPolicy(r.Context(), c.ws, pid)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.renderPolicy(w, r, c, http.StatusOK, &policyData{Policy: p, Form: formOfPolicy(p)}, "")
}

func formOfPolicy(p storage.Policy) policyForm {
	f := policyForm{ID: p.ID, Name: p.Name, Description: p.Description, Kind: p.Kind, Mode: "rules"}
	for _, r := range p.Rules {
		f.Rules = append(f.Rules, ruleRow{Condition: r.Condition, Outcome: r.Outcome, Message: r.Message})
	}
	return f
}

// renderPolicy fills in what every policy page shows and renders it.
func (h *Handler) renderPolicy(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, d *policyData, notice string) {
	d.Kinds, d.Templates = policyKinds, policy.Templates()
	for i := range d.Form.Rules {
		d.Form.Rules[i].N = i + 1
	}
	if !d.New {
		vs, err := h.Service.ListPolicyVersions(r.Context(), c.ws, d.Policy.ID)
		if err != nil {
			h.fail(w, r, c, err)
			return
		}
		d.Versions = vs
	}
	title := "New policy"
	if !d.New {
		title = "Policy " + d.Policy.Name
	}
	v := h.newView(r, c, title, "policies", d)
	v.Notice = notice
	switch {
	case d.Alert != "":
		v.Error = d.Alert
	case d.Errs != nil:
		v.Error = "Nothing was saved: fix the problems marked below."
	}
	h.render(w, r, status, "policy", v)
}

// parsePolicyForm reads the editor; rows come as parallel lists.
func parsePolicyForm(f form) policyForm {
	pf := policyForm{ID: f.get("id"), Name: f.get("name"), Description: f.get("description"), Kind: f.get("kind"),
		Mode: f.get("mode"), Template: f.get("template"), Params: map[string]string{}}
	conds, outs, msgs := f.r.PostForm["condition"], f.r.PostForm["outcome"], f.r.PostForm["message"]
	for i, cond := range conds {
		row := ruleRow{Condition: strings.TrimSpace(cond), Outcome: storage.PolicyAllow}
		if i < len(outs) {
			row.Outcome = outs[i]
		}
		if i < len(msgs) {
			row.Message = strings.TrimSpace(msgs[i])
		}
		pf.Rules = append(pf.Rules, row)
	}
	for _, t := range policy.Templates() {
		for _, p := range t.Params {
			k := t.ID + "." + p.Name
			if v := f.get("param." + k); v != "" {
				pf.Params[k] = v
			}
		}
	}
	return pf
}

// editRows applies an editor button ("add", "remove-N", "up-N",
// "down-N"); it reports false for "save" or anything else.
func editRows(rows []ruleRow, op string) ([]ruleRow, bool) {
	if op == "add" {
		return append(rows, ruleRow{Outcome: storage.PolicyDeny}), true
	}
	verb, idx, ok := strings.Cut(op, "-")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(rows) {
		return rows, false
	}
	switch verb {
	case "remove":
		return append(rows[:i:i], rows[i+1:]...), true
	case "up":
		if i > 0 {
			rows[i-1], rows[i] = rows[i], rows[i-1]
		}
		return rows, true
	case "down":
		if i < len(rows)-1 {
			rows[i], rows[i+1] = rows[i+1], rows[i]
		}
		return rows, true
	}
	return rows, false
}

func (in policyForm) rules() []storage.PolicyRule {
	out := make([]storage.PolicyRule, len(in.Rules))
	for i, r := range in.Rules {
		out[i] = storage.PolicyRule{Condition: r.Condition, Outcome: r.Outcome, Message: r.Message}
	}
	return out
}

// templateParams are the typed parameters of the chosen template.
func (in policyForm) templateParams() map[string]string {
	out := map[string]string{}
	for k, v := range in.Params {
		if t, p, _ := strings.Cut(k, "."); t == in.Template {
			out[p] = v
		}
	}
	return out
}

// savePolicy creates or saves a policy, or applies an editor button.
func (h *Handler) savePolicy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	pid := r.PathValue("pid")
	in := parsePolicyForm(f)
	d := &policyData{New: pid == "", Form: in}
	if !d.New {
		cur, err := h.Service.GetPolicy(r.Context(), c.ws, pid)
		if err != nil {
			h.fail(w, r, c, err)
			return
		}
		d.Policy, d.Form.ID, d.Form.Kind, d.Form.Mode = cur, cur.ID, cur.Kind, "rules"
	}
	if rows, edited := editRows(d.Form.Rules, f.get("op")); edited {
		d.Form.Rules = rows
		if d.New {
			d.Form.Mode = "rules"
		}
		h.renderPolicy(w, r, c, http.StatusOK, d, "")
		return
	}
	var p storage.Policy
	var err error
	switch {
	case d.New && in.Mode == "template":
		p, err = h.Service.CreatePolicy(r.Context(), c.ws, service.PolicyInput{ID: in.ID, Name: in.Name,
			Description: in.Description, Kind: in.Kind, Template: in.Template, Params: in.templateParams()})
	case d.New:
		p, err = h.Service.CreatePolicy(r.Context(), c.ws, service.PolicyInput{ID: in.ID, Name: in.Name,
			Description: in.Description, Kind: in.Kind, Rules: in.rules()})
	default:
		rules := in.rules()
		p, err = h.Service.UpdatePolicy(r.Context(), c.ws, pid, service.PolicyPatch{Name: f.str("name"),
			Description: f.str("description"), Rules: &rules})
	}
	if err != nil {
		h.policyFormError(w, r, c, d, err)
		return
	}
	verb := "saved as version " + strconv.Itoa(p.Version)
	if d.New {
		verb = "created"
	}
	h.renderPolicy(w, r, c, http.StatusOK, &policyData{Policy: p, Form: formOfPolicy(p)}, "Policy "+p.Name+" "+verb+".")
}

// policyFormError shows the editor again with its input, each rule's
// problem (rule, line and column) next to that rule and the others next
// to their fields.
func (h *Handler) policyFormError(w http.ResponseWriter, r *http.Request, c *reqCtx, d *policyData, err error) {
	var ve *service.ValidationError
	if !errors.As(err, &ve) {
		if errors.Is(err, service.ErrConflict) {
			d.Alert = service.PublicMessage(err)
			h.renderPolicy(w, r, c, http.StatusConflict, d, "")
			return
		}
		h.fail(w, r, c, err)
		return
	}
	var rest []service.FieldError
	for _, fe := range ve.Errors {
		i, ok := fieldIndex(fe.Field, "rules")
		if ok && i < len(d.Form.Rules) {
			d.Form.Rules[i].Errors = append(d.Form.Rules[i].Errors, ruleMessage(fe, i))
			continue
		}
		rest = append(rest, fe)
	}
	d.Errs = groupFieldErrors(rest, nil)
	if d.Errs == nil {
		d.Errs = map[string]*fieldMessages{}
	}
	h.renderPolicy(w, r, c, http.StatusBadRequest, d, "")
}

// fieldIndex reads "list[N]" (a rule of "rules", a mapping of "claims").
func fieldIndex(field, list string) (int, bool) {
	idx, ok := strings.CutPrefix(field, list+"[")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
	return i, err == nil && i >= 0
}

// rollbackPolicy saves an earlier version as the next one.
func (h *Handler) rollbackPolicy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	pid := r.PathValue("pid")
	version, err := strconv.Atoi(formOf(r).get("version"))
	if err != nil || version < 1 {
		h.renderError(w, r, c, http.StatusBadRequest, "version: choose a version number from the list")
		return
	}
	p, err := h.Service.RollbackPolicy(r.Context(), c.ws, pid, version)
	if err != nil {
		h.fail(w, r, c, err)
		return
	}
	h.renderPolicy(w, r, c, http.StatusOK, &policyData{Policy: p, Form: formOfPolicy(p)},
		fmt.Sprintf("Version %d restored as version %d.", version, p.Version))
}

// deletePolicy removes a policy and its history; one still attached is
// refused with the service's message naming where it is attached.
func (h *Handler) deletePolicy(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm the deletion")
		return
	}
	pid := r.PathValue("pid")
	if err := h.Service.DeletePolicy(r.Context(), c.ws, pid); err != nil {
		if !errors.Is(err, service.ErrConflict) {
			h.fail(w, r, c, err)
			return
		}
		p, gerr := h.Service.GetPolicy(r.Context(), c.ws, pid)
		if gerr != nil {
			h.fail(w, r, c, gerr)
			return
		}
		d := &policyData{Policy: p, Form: formOfPolicy(p), Alert: service.PublicMessage(err)}
		h.renderPolicy(w, r, c, http.StatusConflict, d, "")
		return
	}
	h.renderPolicies(w, r, c, http.StatusOK, "Policy "+pid+" and its versions were deleted.", "")
}

// ruleMessage is a rule's error as shown under that rule: the compiler
// counts rules from 0 ("rule 0, line 1, column 6: …"), the editor from 1.
func ruleMessage(fe service.FieldError, i int) string {
	msg := strings.TrimPrefix(fe.Message, fe.Field+": ")
	msg = strings.TrimPrefix(msg, fmt.Sprintf("rule %d, ", i))
	msg = strings.TrimPrefix(msg, fmt.Sprintf("rule %d: ", i))
	return fmt.Sprintf("Rule %d, %s", i+1, msg)
}
