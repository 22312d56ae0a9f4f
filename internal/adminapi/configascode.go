package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/declarative"
	"github.com/latchkey/latchkey/internal/secrets"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
	"github.com/latchkey/latchkey/internal/storage/sqlstore"
)

// Configuration as code (README "Configuration as code"): export a
// workspace, or every workspace, as one document, and apply a document.
// Both go through this API's own routes in process (inprocTarget), so the
// document is the API's JSON and every change is validated, audited and
// authorised as the same change made by hand.
func (h *Handler) configRoutes(ws string) []route {
	return []route{
		{"GET " + ws + "/export", h.exportWorkspace, false},
		{"POST " + ws + "/apply", h.applyWorkspace, false},
		{"GET " + Prefix + "/export", h.exportAll, false},
		{"POST " + Prefix + "/apply", h.applyAll, false},
	}
}

// inprocTarget is a declarative.Target served by handler h in process:
// the caller's context (and so its actor, for the audit log) is kept.
type inprocTarget struct {
	h   *Handler
	mux *http.ServeMux
}

func (h *Handler) target() inprocTarget {
	mux := http.NewServeMux()
	for _, rt := range h.routes() {
		mux.Handle(rt.pattern, rt.handle)
	}
	return inprocTarget{h: h, mux: mux}
}

// recorder is the response of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

func (t inprocTarget) Do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, Prefix+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}}
	t.mux.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status/100 == 2 {
		return rec.body.Bytes(), nil
	}
	ae := &adminclient.APIError{}
	if json.Unmarshal(rec.body.Bytes(), ae) != nil || ae.Code == "" {
		ae = &adminclient.APIError{Code: http.StatusText(rec.status)}
	}
	ae.Status = rec.status
	return nil, ae
}

// apiError is err as the API would answer it.
func (t inprocTarget) apiError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, Prefix, nil)
	status, body := t.h.classify(r, err)
	body.Status = status
	return &body
}

func (t inprocTarget) Certificates(ctx context.Context, ws, clientID string) ([]declarative.Certificate, error) {
	certs, err := t.h.Service.ListClientCertificates(ctx, ws, clientID)
	if err != nil {
		return nil, t.apiError(ctx, err)
	}
	out := make([]declarative.Certificate, len(certs))
	for i, c := range certs {
		out[i] = declarative.Certificate{KID: c.KID, DER: c.DER}
	}
	return out, nil
}

func (t inprocTarget) SecretEquals(ctx context.Context, ws, clientID, secret string) (bool, error) {
	ok, err := t.h.Service.ClientSecretEquals(ctx, ws, clientID, secret)
	return ok, t.apiError(ctx, err)
}

func (t inprocTarget) SetSecret(ctx context.Context, ws, clientID, secret string) error {
	return t.apiError(ctx, t.h.Service.SetClientSecret(ctx, ws, clientID, secret))
}

// noKeys is the key manager of a scratch service: validation needs no
// signing keys, so none are generated.
type noKeys struct{}

func (noKeys) EnsureKeys(context.Context, string, string) error { return nil }
func (noKeys) Rotate(context.Context, string, string) error     { return nil }
func (noKeys) RemoveKey(context.Context, string, string) error  { return nil }
func (noKeys) Keys(context.Context, string) ([]storage.SigningKey, error) {
	return nil, nil
}

// scratch is a handler over a private in-memory database with the
// service's rules (defaults, URL checks), where an apply is tried first.
func (h *Handler) scratch(ctx context.Context) (*Handler, func(), error) {
	st, err := sqlstore.Open(ctx, "sqlite::memory:", slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	kr, err := secrets.New(secrets.GenerateKey())
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	svc := *h.Service
	svc.Store, svc.Keyring, svc.Keys = st, kr, noKeys{}
	svc.Mailer, svc.WhatIfRunner, svc.Logger = nil, nil, slog.New(slog.DiscardHandler)
	return &Handler{Service: &svc, Logger: slog.New(slog.DiscardHandler)}, func() { _ = st.Close() }, nil
}

// --- export

func (h *Handler) exportWorkspace(w http.ResponseWriter, r *http.Request) {
	doc, err := declarative.Export(r.Context(), h.target(), r.PathValue("ws"))
	h.writeDocument(w, r, doc, err)
}

func (h *Handler) exportAll(w http.ResponseWriter, r *http.Request) {
	doc, err := declarative.ExportAll(r.Context(), h.target())
	h.writeDocument(w, r, doc, err)
}

// wantsJSON reports an Accept header that prefers JSON to YAML.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "yaml")
}

// writeDocument answers a document as YAML, or JSON when the Accept header
// asks for it.
func (h *Handler) writeDocument(w http.ResponseWriter, r *http.Request, doc *declarative.Document, err error) {
	if err != nil {
		h.writeApplyError(w, r, err)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, doc)
		return
	}
	b, err := doc.YAML()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// unwrapAPI turns the answers of in-process requests and apply refusals
// into errors writeError answers with their status and fields.
func unwrapAPI(err error) error {
	var ae *adminclient.APIError
	var de *declarative.Error
	switch {
	case errors.As(err, &de):
		return &fieldsError{status: de.Status, code: de.Code, errs: de.Errors}
	case errors.As(err, &ae):
		return &fieldsError{status: ae.Status, code: ae.Code, desc: ae.Description, errs: ae.Errors}
	}
	return err
}

// fieldsError is an answer with field errors naming document members.
type fieldsError struct {
	status int
	code   string
	desc   string
	errs   []adminclient.FieldError
}

// partialApply is a failure of the real apply after validation passed.
type partialApply struct{ err error }

func (p partialApply) Error() string { return p.err.Error() }
func (p partialApply) Unwrap() error { return p.err }

// partialNote leads the description of a partialApply.
const partialNote = "the apply stopped part way, after validation passed (a concurrent change or the database); the changes before this one were made, so apply again to finish: "

func (e *fieldsError) Error() string { return e.code + ": " + e.desc }

// writeApplyError answers an export or apply error: refusals of the
// in-process requests keep their status and name the document member;
// everything else is answered as by every other route.
func (h *Handler) writeApplyError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fieldsError
	if !errors.As(unwrapAPI(err), &fe) {
		h.writeError(w, r, err)
		return
	}
	desc := fe.desc
	if len(fe.errs) > 0 {
		msgs := make([]string, len(fe.errs))
		for i, e := range fe.errs {
			msgs[i] = e.Message
		}
		desc = strings.Join(msgs, "; ")
	}
	var pa partialApply
	if errors.As(err, &pa) {
		desc = partialNote + desc
	}
	if fe.status == 0 {
		fe.status = http.StatusBadRequest
	}
	writeJSON(w, fe.status, errorBody{Code: fe.code, Description: desc, Errors: fe.errs})
}

// --- apply

func (h *Handler) applyWorkspace(w http.ResponseWriter, r *http.Request) {
	h.apply(w, r, r.PathValue("ws"))
}

func (h *Handler) applyAll(w http.ResponseWriter, r *http.Request) { h.apply(w, r, "") }

// boolParam reads an optional true/false query parameter, given at most
// once.
func boolParam(r *http.Request, name string) (bool, error) {
	vs := r.URL.Query()[name]
	switch {
	case len(vs) == 0:
		return false, nil
	case len(vs) > 1:
		return false, badRequest(fmt.Sprintf("%s: given more than once", name))
	}
	b, err := strconv.ParseBool(vs[0])
	if err != nil {
		return false, badRequest(fmt.Sprintf("%s: must be true or false", name))
	}
	return b, nil
}

// readDocument reads and checks an apply body: YAML or JSON.
func readDocument(w http.ResponseWriter, r *http.Request) (*declarative.Document, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/yaml" && mt != "application/x-yaml" && mt != "text/yaml") {
			return nil, &httpError{status: http.StatusUnsupportedMediaType, code: codeUnsupported,
				desc: "Content-Type must be application/yaml or application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, declarative.MaxDocumentBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &httpError{status: http.StatusRequestEntityTooLarge, code: codeTooLarge,
				desc: fmt.Sprintf("document exceeds %d bytes", declarative.MaxDocumentBytes)}
		}
		return nil, err
	}
	if err := checkText(body); err != nil {
		return nil, err
	}
	return parseDocument(body)
}

// apply validates the document by applying it to a scratch copy of the
// workspaces it names, and only then (unless dry_run) to the real ones.
// ws is the path's workspace ("" for the server-wide route, which may
// create workspaces).
func (h *Handler) apply(w http.ResponseWriter, r *http.Request, ws string) {
	res, err := h.parseAndApply(w, r, ws)
	if err != nil {
		h.writeApplyError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// parseAndApply reads the query and the document and applies it.
func (h *Handler) parseAndApply(w http.ResponseWriter, r *http.Request, ws string) (adminclient.ApplyResult, error) {
	dryRun, err := boolParam(r, "dry_run")
	if err != nil {
		return adminclient.ApplyResult{}, err
	}
	prune, err := boolParam(r, "prune")
	if err != nil {
		return adminclient.ApplyResult{}, err
	}
	doc, err := readDocument(w, r)
	if err != nil {
		return adminclient.ApplyResult{}, err
	}
	return h.runApply(r.Context(), doc, ws, dryRun, prune)
}

func (h *Handler) runApply(ctx context.Context, doc *declarative.Document, ws string, dryRun, prune bool) (adminclient.ApplyResult, error) {
	var res adminclient.ApplyResult
	opts := declarative.Options{Prune: prune}
	// The workspace route touches its own workspace only: the document
	// is checked before anything is read.
	if ws != "" && (doc.Kind != declarative.KindWorkspace || doc.WorkspaceID() != ws) {
		return res, badRequest(fmt.Sprintf("workspace.id: must be %q, the workspace of the path (apply several workspaces at %s/apply)", ws, Prefix))
	}
	real := h.target()
	current, err := declarative.Current(ctx, real, doc)
	if err != nil {
		return res, err
	}
	if ws != "" && current[0] == nil {
		return res, &httpError{status: http.StatusNotFound, code: codeNotFound, desc: fmt.Sprintf("workspace %q not found", ws)}
	}
	if err := h.validateApply(ctx, doc, current, opts); err != nil {
		return res, err
	}
	plans, err := declarative.Plans(ctx, real, doc, current, opts)
	if err != nil {
		return res, err
	}
	res = adminclient.ApplyResult{DryRun: dryRun, Plans: planViews(plans), Diff: declarative.Format(plans)}
	if dryRun {
		return res, nil
	}
	if err := declarative.Execute(ctx, real, plans...); err != nil {
		// Validation passed, so a concurrent change or the database
		// stopped it: say that part of it may have been made.
		return res, partialApply{err}
	}
	res.Applied = true
	return res, nil
}

// validateApply runs the whole apply against a scratch copy of the
// current configuration: the service layer validates every resource (and
// every reference between them) before anything is written for real.
func (h *Handler) validateApply(ctx context.Context, doc *declarative.Document, current []*declarative.Document, opts declarative.Options) error {
	sh, done, err := h.scratch(ctx)
	if err != nil {
		return err
	}
	defer done()
	st := sh.target()
	// The copy: the current configuration, as an apply to an empty server.
	var seeds []*declarative.Plan
	for _, cur := range current {
		if cur == nil {
			continue
		}
		p, err := declarative.BuildPlan(ctx, st, cur, nil, declarative.Options{})
		if err != nil {
			return err
		}
		seeds = append(seeds, p)
	}
	if err := declarative.Execute(ctx, st, seeds...); err != nil {
		var de *declarative.Error
		if errors.As(err, &de) {
			return &httpError{status: http.StatusConflict, code: codeConflict,
				desc: "the current configuration does not pass today's validation, so the apply could not be checked first: " + de.Error()}
		}
		return err
	}
	_, err = declarative.Apply(ctx, st, doc, opts)
	return err
}

func planViews(plans []*declarative.Plan) []adminclient.Plan {
	out := make([]adminclient.Plan, len(plans))
	for i, p := range plans {
		v := adminclient.Plan{Workspace: p.Workspace, Changes: make([]adminclient.Change, len(p.Changes))}
		for j, c := range p.Changes {
			ch := adminclient.Change{Op: c.Op, Resource: c.Resource}
			for _, f := range c.Fields {
				ch.Fields = append(ch.Fields, adminclient.FieldChange{Field: f.Field, From: jsonValue(f.From), To: jsonValue(f.To)})
			}
			v.Changes[j] = ch
		}
		out[i] = v
	}
	return out
}

var _ service.KeyManager = noKeys{}

// jsonValue is v as JSON text; "" for nil.
func jsonValue(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// ExportYAML is workspace ws as the YAML document of GET
// {ws}/export, for the console's download.
func ExportYAML(ctx context.Context, svc *service.Service, ws string) ([]byte, error) {
	h := &Handler{Service: svc}
	doc, err := declarative.Export(ctx, h.target(), ws)
	if err != nil {
		var ae *adminclient.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return nil, service.ErrNotFound
		}
		return nil, err
	}
	return doc.YAML()
}
