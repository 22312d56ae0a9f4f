package adminclient

import (
	"context"
	"net/http"
)

const adminTokensPath = "/admin-tokens"

// ListAdminTokens lists the admin tokens (metadata only); super_admin.
func (c *Client) ListAdminTokens(ctx context.Context) ([]AdminToken, error) {
	return items[AdminToken](ctx, c, http.MethodGet, adminTokensPath, nil)
}

// CreateAdminToken creates an admin token; the answer carries it once, in
// Token.
func (c *Client) CreateAdminToken(ctx context.Context, req AdminTokenCreate) (AdminToken, error) {
	return call[AdminToken](ctx, c, http.MethodPost, adminTokensPath, nil, req)
}

// DeleteAdminToken revokes an admin token at once.
func (c *Client) DeleteAdminToken(ctx context.Context, id string) error {
	return c.noContent(ctx, http.MethodDelete, adminTokensPath+"/"+seg(id), nil)
}
