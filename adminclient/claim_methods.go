package adminclient

import (
	"context"
	"net/http"
)

// ClientClaims returns a client's claim mappings.
func (c *Client) ClientClaims(ctx context.Context, ws, id string) (ClaimMappings, error) {
	return call[ClaimMappings](ctx, c, http.MethodGet, clientPath(ws, id)+"/claims", nil, nil)
}

// SetClientClaims replaces a client's claim mappings (an empty list removes them).
func (c *Client) SetClientClaims(ctx context.Context, ws, id string, m ClaimMappings) (ClaimMappings, error) {
	return call[ClaimMappings](ctx, c, http.MethodPut, clientPath(ws, id)+"/claims", nil, m)
}

// ServiceClaims returns a service's claim mappings.
func (c *Client) ServiceClaims(ctx context.Context, ws, id string) (ClaimMappings, error) {
	return call[ClaimMappings](ctx, c, http.MethodGet, wsPath(ws)+"/services/"+seg(id)+"/claims", nil, nil)
}

// SetServiceClaims replaces a service's claim mappings (an empty list removes them).
func (c *Client) SetServiceClaims(ctx context.Context, ws, id string, m ClaimMappings) (ClaimMappings, error) {
	return call[ClaimMappings](ctx, c, http.MethodPut, wsPath(ws)+"/services/"+seg(id)+"/claims", nil, m)
}
