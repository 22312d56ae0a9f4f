package adminclient

import (
	"context"
	"net/http"
)

// TokenExchangeSettings are a client's token exchange settings (RFC 8693);
// the same document is read and written (PUT replaces it). Everything is
// off by default: a client exchanges nothing until an admin allows subject
// token types and impersonation or delegation.
type TokenExchangeSettings struct {
	SubjectTokenTypes []string `json:"subject_token_types"`
	AllowedIssuers    []string `json:"allowed_issuers"`
	AllowedAudiences  []string `json:"allowed_audiences"`
	MayImpersonate    bool     `json:"may_impersonate"`
	MayDelegate       bool     `json:"may_delegate"`
	RefreshTokens     bool     `json:"refresh_tokens"`
}

// ClientTokenExchange returns a client's token exchange settings.
func (c *Client) ClientTokenExchange(ctx context.Context, ws, id string) (TokenExchangeSettings, error) {
	return call[TokenExchangeSettings](ctx, c, http.MethodGet, clientPath(ws, id)+"/token-exchange", nil, nil)
}

// SetClientTokenExchange replaces a client's token exchange settings.
func (c *Client) SetClientTokenExchange(ctx context.Context, ws, id string, s TokenExchangeSettings) (TokenExchangeSettings, error) {
	return call[TokenExchangeSettings](ctx, c, http.MethodPut, clientPath(ws, id)+"/token-exchange", nil, s)
}
