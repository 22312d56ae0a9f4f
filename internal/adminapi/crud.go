package adminapi

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// The workspace collections (services, clients, users, profiles, trusted
// issuers) are listed, read, created, updated and deleted the same way at
// {ws}/<collection> and {ws}/<collection>/{id}. The handlers below hold
// that shape once; a route names only its service call and its JSON view.
//
// Service calls are method expressions of *service.Service, applied to
// h.Service per request, so the route table can be built without a
// service (RoutePatterns, the OpenAPI route test).
type (
	// svc keeps the method expressions in the route tables short: (*svc).GetUser.
	svc = service.Service

	listCall[S any]       func(s *svc, ctx context.Context, ws string, opts storage.ListOptions) (storage.Page[S], error)
	getCall[S any]        func(s *svc, ctx context.Context, ws, id string) (S, error)
	createCall[In, S any] func(s *svc, ctx context.Context, ws string, in In) (S, error)
	updateCall[P, S any]  func(s *svc, ctx context.Context, ws, id string, p P) (S, error)
	deleteCall            func(s *svc, ctx context.Context, ws, id string) error
)

// inputRequest is a POST body that becomes the service's create input.
type inputRequest[In any] interface {
	input() In
}

// patchRequest is a PATCH body that becomes the service's patch. checkID
// refuses a body that names another id than the path: ids are permanent.
type patchRequest[P any] interface {
	patch() P
	checkID(pathID string) error
}

// checkSameID refuses a body whose id differs from the path's.
func checkSameID(id *string, path string) error {
	if id != nil && *id != path {
		return badRequest("id: cannot be changed")
	}
	return nil
}

// serveList answers one page of the list named list. The name is the
// associated data of the page tokens, so a token opens only on its list.
func serveList[S, V any](h *Handler, w http.ResponseWriter, r *http.Request, list string,
	fetch func(storage.ListOptions) (storage.Page[S], error), view func(S) V) {
	opts, err := h.listParams(r, list)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page, err := fetch(opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writePage(h, w, r, list, opts, page, view)
}

// listHandler serves GET {ws}/<collection>: one page, with page tokens
// bound to the collection and the workspace.
func listHandler[S, V any](h *Handler, collection string, list listCall[S], view func(S) V) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ws := r.PathValue("ws")
		serveList(h, w, r, collection+"\x00"+ws, func(opts storage.ListOptions) (storage.Page[S], error) {
			return list(h.Service, r.Context(), ws, opts)
		}, view)
	}
}

// getHandler serves GET {ws}/<collection>/{id}.
func getHandler[S, V any](h *Handler, get getCall[S], view func(S) V) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := get(h.Service, r.Context(), r.PathValue("ws"), r.PathValue("id"))
		h.respond(w, r, http.StatusOK, view(s), err)
	}
}

// decodeRequest reads the JSON body into a Req. When it fails it has
// answered the error and ok is false.
func decodeRequest[Req any](h *Handler, w http.ResponseWriter, r *http.Request) (req Req, ok bool) {
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return req, false
	}
	return req, true
}

// createHandler serves POST {ws}/<collection> with a Req body: 201 and
// the created resource.
func createHandler[Req inputRequest[In], In, S, V any](h *Handler, create createCall[In, S], view func(S) V) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if req, ok := decodeRequest[Req](h, w, r); ok {
			s, err := create(h.Service, r.Context(), r.PathValue("ws"), req.input())
			h.respond(w, r, http.StatusCreated, view(s), err)
		}
	}
}

// updateHandler serves PATCH {ws}/<collection>/{id} with a Req body.
func updateHandler[Req patchRequest[P], P, S, V any](h *Handler, update updateCall[P, S], view func(S) V) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, ok := decodeRequest[Req](h, w, r)
		if !ok {
			return
		}
		id := r.PathValue("id")
		if err := req.checkID(id); err != nil {
			h.writeError(w, r, err)
			return
		}
		s, err := update(h.Service, r.Context(), r.PathValue("ws"), id, req.patch())
		h.respond(w, r, http.StatusOK, view(s), err)
	}
}

// deleteHandler serves DELETE {ws}/<collection>/{id}: 204.
func deleteHandler(h *Handler, del deleteCall) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := del(h.Service, r.Context(), r.PathValue("ws"), r.PathValue("id"))
		h.respond(w, r, http.StatusNoContent, nil, err)
	}
}

// collectionRoutes are the five routes of the workspace collection name:
// list and create at ws/name, get, update and delete at ws/name/{id}. Req
// is the POST and PATCH body; every answer is view of the stored S.
func collectionRoutes[Req interface {
	inputRequest[In]
	patchRequest[P]
}, In, P, S, V any](h *Handler, ws, name string, view func(S) V,
	list listCall[S], create createCall[In, S], get getCall[S], update updateCall[P, S], del deleteCall) []route {
	path := ws + "/" + name
	return []route{
		{"GET " + path, listHandler(h, name, list, view), false},
		{"POST " + path, createHandler[Req](h, create, view), false},
		{"GET " + path + "/{id}", getHandler(h, get, view), false},
		{"PATCH " + path + "/{id}", updateHandler[Req](h, update, view), false},
		{"DELETE " + path + "/{id}", deleteHandler(h, del), false},
	}
}
