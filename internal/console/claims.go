package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// Claim mappings of a client (its Policies tab) and of a service (its
// page) are edited like policy rules: rows of a form that works without
// JavaScript, saved through the service (SetClientClaims,
// SetServiceClaims), which type-checks every expression, refuses reserved
// names and oversized constants (docs/security.md Z5, Z6) and audits the
// change. A refused save keeps everything typed and shows each problem
// next to its row.

// claimTargets are the targets a mapping may have, in the form's order.
var claimTargets = []string{policy.TargetAccessToken, policy.TargetIDToken, policy.TargetUserInfo, policy.TargetIntrospection}

// claimRow is one mapping as typed, with its problems.
type claimRow struct {
	N          int // 1-based, as people count
	Name       string
	Expression string
	Targets    map[string]bool
	Errors     []string
}

// claimsForm is the editor of one owner's mappings.
type claimsForm struct {
	Action   string
	Owner    string // "client" or "service", for the help text
	CSRF     string
	CanWrite bool
	// PoliciesURL is the workspace's Policies page, where the what-if
	// runs for any client.
	PoliciesURL string
	Targets     []string
	Rows        []claimRow
	// Alert is a refusal not about one row (too many mappings).
	Alert string
}

func claimRowsOf(ms []storage.ClaimMapping) []claimRow {
	rows := make([]claimRow, len(ms))
	for i, m := range ms {
		rows[i] = claimRow{Name: m.Name, Expression: m.Expression, Targets: map[string]bool{}}
		for _, t := range m.Targets {
			rows[i].Targets[t] = true
		}
	}
	return rows
}

// newClaimsForm numbers the rows and fills in what the template needs.
func newClaimsForm(v *view, action, owner string, rows []claimRow) *claimsForm {
	for i := range rows {
		rows[i].N = i + 1
	}
	return &claimsForm{Action: action, Owner: owner, CSRF: v.CSRF, CanWrite: v.CanWrite,
		PoliciesURL: Prefix + "/w/" + url.PathEscape(v.WS) + "/policies", Targets: claimTargets, Rows: rows}
}

// parseClaimRows reads the editor: names and expressions are parallel
// lists; a row's targets are checkboxes named after its index, since an
// unticked checkbox sends nothing.
func parseClaimRows(f form) []claimRow {
	names, exprs := f.r.PostForm["claim_name"], f.r.PostForm["claim_expression"]
	var rows []claimRow
	for i, name := range names {
		row := claimRow{Name: strings.TrimSpace(name), Targets: map[string]bool{}}
		if i < len(exprs) {
			row.Expression = strings.TrimSpace(exprs[i])
		}
		for _, t := range f.r.PostForm["claim_target_"+strconv.Itoa(i)] {
			row.Targets[t] = true
		}
		rows = append(rows, row)
	}
	return rows
}

// editClaimRows applies an editor button ("claim-add", "claim-remove-N");
// it reports false for a save.
func editClaimRows(rows []claimRow, op string) ([]claimRow, bool) {
	if op == "claim-add" {
		return append(rows, claimRow{Targets: map[string]bool{policy.TargetAccessToken: true}}), true
	}
	idx, ok := strings.CutPrefix(op, "claim-remove-")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(rows) {
		return rows, false
	}
	return append(rows[:i:i], rows[i+1:]...), true
}

// claimMappings is what a save stores: rows left entirely blank (an
// added row not filled in) are dropped; targets keep the form's order.
func claimMappings(rows []claimRow) ([]claimRow, []storage.ClaimMapping) {
	kept := []claimRow{}
	out := []storage.ClaimMapping{}
	for _, r := range rows {
		if r.Name == "" && r.Expression == "" {
			continue
		}
		m := storage.ClaimMapping{Name: r.Name, Expression: r.Expression, Targets: []string{}}
		for _, t := range claimTargets {
			if r.Targets[t] {
				m.Targets = append(m.Targets, t)
			}
		}
		// A target the form does not offer is passed on for the service
		// to refuse, never dropped silently.
		for t := range r.Targets {
			if !slices.Contains(claimTargets, t) {
				m.Targets = append(m.Targets, t)
			}
		}
		kept = append(kept, r)
		out = append(out, m)
	}
	return kept, out
}

// claimsError puts each refusal of a save next to its row ("claims[N]")
// and any other under the section's heading; it reports false for an
// error that is not a refusal of the input.
func claimsError(cf *claimsForm, err error) bool {
	var ve *service.ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, fe := range ve.Errors {
		if i, ok := fieldIndex(fe.Field, "claims"); ok && i < len(cf.Rows) {
			cf.Rows[i].Errors = append(cf.Rows[i].Errors, claimMessage(fe, i))
			continue
		}
		cf.Alert = strings.TrimSpace(strings.Join([]string{cf.Alert, fe.Message}, " "))
	}
	return true
}

// claimMessage is a mapping's error as shown under its row: the compiler
// counts mappings from 0 (`claim 0 ("x"), line 1, column 6: …`), the
// editor from 1.
func claimMessage(fe service.FieldError, i int) string {
	msg := strings.TrimPrefix(fe.Message, fe.Field+": ")
	if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("claim %d ", i)); ok {
		return fmt.Sprintf("Claim %d %s", i+1, rest)
	}
	return fmt.Sprintf("Claim %d: %s", i+1, msg)
}

// saveClientClaims saves the client's mappings or applies an editor
// button, then shows the Policies tab again.
func (h *Handler) saveClientClaims(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	rows := parseClaimRows(f)
	if edited, ok := editClaimRows(rows, f.get("op")); ok {
		h.renderClientPolicies(w, r, c, http.StatusOK, "", nil, edited)
		return
	}
	rows, ms := claimMappings(rows)
	if _, err := h.Service.SetClientClaims(r.Context(), c.ws, r.PathValue("id"), ms); err != nil {
		h.renderClientPolicies(w, r, c, http.StatusBadRequest, "", err, rows)
		return
	}
	h.renderClientPolicies(w, r, c, http.StatusOK, "Claims saved.", nil, nil)
}

// saveServiceClaims saves the service's mappings or applies an editor
// button, then shows the service page again.
func (h *Handler) saveServiceClaims(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	sid := r.PathValue("sid")
	rows := parseClaimRows(f)
	if edited, ok := editClaimRows(rows, f.get("op")); ok {
		h.renderServicePage(w, r, c, sid, http.StatusOK, "", nil, edited)
		return
	}
	rows, ms := claimMappings(rows)
	if _, err := h.Service.SetServiceClaims(r.Context(), c.ws, sid, ms); err != nil {
		h.renderServicePage(w, r, c, sid, http.StatusBadRequest, "", err, rows)
		return
	}
	h.renderServicePage(w, r, c, sid, http.StatusOK, "Claims saved.", nil, nil)
}

func (h *Handler) serviceURL(ws, sid string) string {
	return Prefix + "/w/" + url.PathEscape(ws) + "/services/" + url.PathEscape(sid)
}
