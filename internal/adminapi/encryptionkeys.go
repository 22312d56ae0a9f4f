package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
)

// Request object encryption keys (RFC 9101 §6.1): list, rotate, remove
// a previous key (docs/security.md T12a).

func encryptionKeysView(keys []service.EncryptionKeyInfo) adminclient.List[adminclient.EncryptionKey] {
	out := adminclient.List[adminclient.EncryptionKey]{Items: make([]adminclient.EncryptionKey, len(keys))}
	for i, k := range keys {
		out.Items[i] = adminclient.EncryptionKey{KID: k.KID, Alg: k.Alg, State: k.State, CreatedAt: k.CreatedAt, RetiredAt: timePtr(k.RetiredAt)}
	}
	return out
}

func (h *Handler) listEncryptionKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Service.ListEncryptionKeys(r.Context(), r.PathValue("ws"))
	h.respond(w, r, http.StatusOK, encryptionKeysView(keys), err)
}

func (h *Handler) rotateEncryptionKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Service.RotateEncryptionKeys(r.Context(), r.PathValue("ws"))
	h.respond(w, r, http.StatusOK, encryptionKeysView(keys), err)
}

func (h *Handler) removeEncryptionKey(w http.ResponseWriter, r *http.Request) {
	err := h.Service.RemoveEncryptionKey(r.Context(), r.PathValue("ws"), r.PathValue("kid"))
	h.respond(w, r, http.StatusNoContent, nil, err)
}
