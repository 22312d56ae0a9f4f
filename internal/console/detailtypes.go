package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// A service's RFC 9396 authorization_details types are edited on its page
// like its claims: rows of a form that works without JavaScript (a type
// name, a description and a JSON Schema each), saved through the service
// (UpdateService with only AuthorizationDetailTypes set, so the section
// leaves the service's other fields alone), which compiles every schema
// and refuses names another service declares. A refused save keeps
// everything typed and shows each problem next to its field, with the
// compiler's location in the schema ("the schema is invalid at
// /properties/x/type: …").

// detailTypeRow is one type as typed, with its problems by field.
type detailTypeRow struct {
	N                         int // 1-based, as people count
	Type, Description, Schema string
	// Errors are keyed "type", "description" and "schema".
	Errors map[string][]string
}

// detailTypesForm is the editor of one service's types.
type detailTypesForm struct {
	Action   string
	CSRF     string
	CanWrite bool
	Rows     []detailTypeRow
	// Alert is a refusal not about one field (a name another service
	// declares, too many types).
	Alert string
}

// detailTypesState is an edited or refused editor carried from its save
// handler to the service page, which otherwise shows the stored types.
type detailTypesState struct {
	rows []detailTypeRow
	err  error
}

func detailTypeRowsOf(ts []storage.AuthorizationDetailType) []detailTypeRow {
	rows := make([]detailTypeRow, len(ts))
	for i, t := range ts {
		rows[i] = detailTypeRow{Type: t.Type, Description: t.Description, Schema: indentSchema(t.Schema)}
	}
	return rows
}

// indentSchema shows a stored (compact) schema indented for editing.
func indentSchema(raw json.RawMessage) string {
	var b strings.Builder
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSpace(b.String())
}

// detailTypesFormOf is the service page's editor: the rows of st when a
// save or an editor button produced them, else the stored types.
func (h *Handler) detailTypesFormOf(v *view, sid string, svc storage.Service, st *detailTypesState) *detailTypesForm {
	rows := detailTypeRowsOf(svc.AuthorizationDetailTypes)
	if st != nil {
		rows = st.rows
	}
	for i := range rows {
		rows[i].N = i + 1
	}
	f := &detailTypesForm{Action: h.serviceURL(v.WS, sid) + "/authorization-details", CSRF: v.CSRF, CanWrite: v.CanWrite, Rows: rows}
	if st != nil && st.err != nil && detailTypesError(f, st.err) {
		v.Error = "Nothing was saved: fix the problems marked in the authorization details types below."
	}
	return f
}

// parseDetailTypeRows reads the editor's parallel lists.
func parseDetailTypeRows(f form) []detailTypeRow {
	names := f.r.PostForm["detail_type"]
	descs, schemas := f.r.PostForm["detail_description"], f.r.PostForm["detail_schema"]
	rows := make([]detailTypeRow, 0, len(names))
	for i, name := range names {
		row := detailTypeRow{Type: strings.TrimSpace(name)}
		if i < len(descs) {
			row.Description = strings.TrimSpace(descs[i])
		}
		if i < len(schemas) {
			row.Schema = strings.TrimSpace(schemas[i])
		}
		rows = append(rows, row)
	}
	return rows
}

// editDetailTypeRows applies an editor button ("detail-add",
// "detail-remove-N"); it reports false for a save.
func editDetailTypeRows(rows []detailTypeRow, op string) ([]detailTypeRow, bool) {
	if op == "detail-add" {
		return append(rows, detailTypeRow{Schema: `{"type": "object"}`}), true
	}
	idx, ok := strings.CutPrefix(op, "detail-remove-")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil || i < 0 || i >= len(rows) {
		return rows, false
	}
	return append(rows[:i:i], rows[i+1:]...), true
}

// detailTypes is what a save stores: rows left entirely blank are dropped;
// a schema is passed on as typed for the service to compile (one that is
// not JSON is refused there, next to its field).
func detailTypes(rows []detailTypeRow) ([]detailTypeRow, []storage.AuthorizationDetailType) {
	kept := []detailTypeRow{}
	out := []storage.AuthorizationDetailType{}
	for _, r := range rows {
		if r.Type == "" && r.Description == "" && r.Schema == "" {
			continue
		}
		kept = append(kept, r)
		out = append(out, storage.AuthorizationDetailType{Type: r.Type, Description: r.Description, Schema: json.RawMessage(r.Schema)})
	}
	return kept, out
}

// detailTypeField is a service field error about one row's field.
var detailTypeField = regexp.MustCompile(`^authorization_detail_types\[(\d+)\]\.(type|description|schema)$`)

// detailTypesError puts each refusal of a save next to its field and any
// other under the section's heading; it reports false for an error that
// is not a refusal of the input.
func detailTypesError(f *detailTypesForm, err error) bool {
	var ve *service.ValidationError
	switch {
	case errors.As(err, &ve):
	case errors.Is(err, service.ErrConflict):
		f.Alert = service.PublicMessage(err)
		return true
	default:
		return false
	}
	for _, fe := range ve.Errors {
		msg := strings.TrimPrefix(fe.Message, fe.Field+": ")
		if m := detailTypeField.FindStringSubmatch(fe.Field); m != nil {
			if i, _ := strconv.Atoi(m[1]); i < len(f.Rows) {
				if f.Rows[i].Errors == nil {
					f.Rows[i].Errors = map[string][]string{}
				}
				f.Rows[i].Errors[m[2]] = append(f.Rows[i].Errors[m[2]], msg)
				continue
			}
		}
		f.Alert = strings.TrimSpace(f.Alert + " " + fe.Message)
	}
	return true
}

// saveServiceDetailTypes saves the service's types or applies an editor
// button, then shows the service page again.
func (h *Handler) saveServiceDetailTypes(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	f := formOf(r)
	sid := r.PathValue("sid")
	rows := parseDetailTypeRows(f)
	if edited, ok := editDetailTypeRows(rows, f.get("op")); ok {
		c.detailTypes = &detailTypesState{rows: edited}
		h.renderServicePage(w, r, c, sid, http.StatusOK, "", nil, nil)
		return
	}
	rows, ts := detailTypes(rows)
	if _, err := h.Service.UpdateService(r.Context(), c.ws, sid, service.ServicePatch{AuthorizationDetailTypes: &ts}); err != nil {
		var ve *service.ValidationError
		if !errors.As(err, &ve) && !errors.Is(err, service.ErrConflict) {
			h.fail(w, r, c, err)
			return
		}
		status := http.StatusBadRequest
		if ve == nil {
			status = http.StatusConflict
		}
		c.detailTypes = &detailTypesState{rows: rows, err: err}
		h.renderServicePage(w, r, c, sid, status, "", nil, nil)
		return
	}
	h.renderServicePage(w, r, c, sid, http.StatusOK, "Authorization details types saved.", nil, nil)
}

// detailTypeChoice is one type a client's authorization_details_types
// list may hold (RFC 9396 §10): a type a service of the workspace
// declares.
type detailTypeChoice struct {
	Type, Description, ServiceName string
}

// detailTypeChoices lists the workspace's declared types, in the order of
// its services and their declarations, for the client's Protocols tab.
func (h *Handler) detailTypeChoices(r *http.Request, wsID string) ([]detailTypeChoice, error) {
	page, err := h.Service.ListServices(r.Context(), wsID, storage.ListOptions{Limit: storage.MaxPageSize})
	if err != nil {
		return nil, err
	}
	var out []detailTypeChoice
	for _, svc := range page.Items {
		for _, t := range svc.AuthorizationDetailTypes {
			out = append(out, detailTypeChoice{Type: t.Type, Description: t.Description, ServiceName: svc.Name})
		}
	}
	return out, nil
}

// unknownDetailTypes are the client's listed types no service declares
// any more, shown so that saving does not drop them unseen.
func unknownDetailTypes(choices []detailTypeChoice, listed []string) []string {
	var out []string
	for _, t := range listed {
		known := false
		for _, c := range choices {
			known = known || c.Type == t
		}
		if !known {
			out = append(out, t)
		}
	}
	return out
}
