package adminapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/storage"
)

const maxPageTokenLength = 1024

// listParams reads limit, page_token and q, and opens the page token.
// The token is sealed (AES-GCM under the master keyring) with associated
// data naming the list and the query, so it cannot be forged, edited or
// replayed against another list (SECURITY.md M8); it reaches the database
// only as the After value of a parameterized query.
func (h *Handler) listParams(r *http.Request, list string) (storage.ListOptions, error) {
	q := r.URL.Query()
	opts := storage.ListOptions{Query: q.Get("q")}
	if err := singleParams(q, "q", "limit", "page_token"); err != nil {
		return opts, err
	}
	if len(opts.Query) > 200 {
		return opts, badRequest("q: must be at most 200 characters")
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > storage.MaxPageSize {
			return opts, badRequest(fmt.Sprintf("limit: must be an integer between 1 and %d", storage.MaxPageSize))
		}
		opts.Limit = n
	}
	if tok := q.Get("page_token"); tok != "" {
		after, err := h.openCursor(tok, list, opts.Query)
		if err != nil {
			return opts, badRequest("page_token: invalid or tampered page token")
		}
		opts.After = after
	}
	return opts, nil
}

// singleParams refuses a query parameter of names given more than once:
// which of two values would apply is not for the server to guess (the
// audit listing and the lists answer alike).
func singleParams(q url.Values, names ...string) error {
	for _, name := range names {
		if len(q[name]) > 1 {
			return badRequest(name + ": given more than once")
		}
	}
	return nil
}

func cursorAAD(list, query string) []byte {
	return []byte("admin-page-token\x00" + list + "\x00" + query)
}

func (h *Handler) sealCursor(next, list, query string) (string, error) {
	if next == "" {
		return "", nil
	}
	ct, err := h.Service.Keyring.Encrypt([]byte(next), cursorAAD(list, query))
	if err != nil {
		return "", fmt.Errorf("adminapi: seal page token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(ct), nil
}

func (h *Handler) openCursor(tok, list, query string) (string, error) {
	if len(tok) > maxPageTokenLength {
		return "", fmt.Errorf("adminapi: page token too long")
	}
	ct, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil {
		return "", err
	}
	pt, err := h.Service.Keyring.Decrypt(ct, cursorAAD(list, query))
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

func writePage[S, T any](h *Handler, w http.ResponseWriter, r *http.Request, list string, opts storage.ListOptions,
	page storage.Page[S], conv func(S) T) {
	tok, err := h.sealCursor(page.Next, list, opts.Query)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	items := make([]T, len(page.Items))
	for i, it := range page.Items {
		items[i] = conv(it)
	}
	writeJSON(w, http.StatusOK, adminclient.Page[T]{Items: items, NextPageToken: tok})
}
