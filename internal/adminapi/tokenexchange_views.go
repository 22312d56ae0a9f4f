package adminapi

import (
	"net/http"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// --- client token exchange settings (RFC 8693)

func tokenExchangeView(c storage.Client) adminclient.TokenExchangeSettings {
	s := service.EffectiveTokenExchange(c)
	return adminclient.TokenExchangeSettings{
		SubjectTokenTypes: nonNil(s.SubjectTokenTypes), AllowedIssuers: nonNil(s.AllowedIssuers),
		AllowedAudiences: nonNil(s.AllowedAudiences), MayImpersonate: s.MayImpersonate, MayDelegate: s.MayDelegate,
		RefreshTokens: s.RefreshTokens,
	}
}

type tokenExchangeRequest adminclient.TokenExchangeSettings

func (req tokenExchangeRequest) settings() storage.TokenExchangeSettings {
	return storage.TokenExchangeSettings{
		SubjectTokenTypes: req.SubjectTokenTypes, AllowedIssuers: req.AllowedIssuers,
		AllowedAudiences: req.AllowedAudiences, MayImpersonate: req.MayImpersonate, MayDelegate: req.MayDelegate,
		RefreshTokens: req.RefreshTokens,
	}
}

// setTokenExchange replaces the settings (PUT, so an empty body is
// allowed: it turns everything off).
func (h *Handler) setTokenExchange(w http.ResponseWriter, r *http.Request) {
	var req tokenExchangeRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Service.SetClientTokenExchange(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.settings())
	h.respond(w, r, http.StatusOK, tokenExchangeView(c), err)
}
