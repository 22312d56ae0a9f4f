package console

import "net/http"

// Request object encryption keys on the keys page (RFC 9101 §6.1,
// docs/security.md T12a): rotate, remove a previous key.

func (h *Handler) rotateEncryptionKeys(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	if _, err := h.Service.RotateEncryptionKeys(r.Context(), c.ws); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, h.wsURL(c.ws, "/keys")+"#encryption-keys")
}

// removeEncryptionKey deletes a previous key at once; the service
// refuses the active key.
func (h *Handler) removeEncryptionKey(w http.ResponseWriter, r *http.Request, c *reqCtx) {
	kid := r.PathValue("kid")
	if r.PostFormValue("confirm") != "on" {
		h.renderError(w, r, c, http.StatusBadRequest, "confirm: tick the box to confirm that request objects encrypted to the key are refused")
		return
	}
	if err := h.Service.RemoveEncryptionKey(r.Context(), c.ws, kid); err != nil {
		h.fail(w, r, c, err)
		return
	}
	redirect(w, r, deletedURL(h.wsURL(c.ws, "/keys"), "request object encryption key", kid, ""))
}
