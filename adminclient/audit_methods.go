package adminclient

import (
	"context"
	"net/http"
)

// AuditLog lists one page of workspace ws's audit log, newest first.
// Pass the page's NextPageToken as q.PageToken, with the same filters, for
// the next page.
func (c *Client) AuditLog(ctx context.Context, ws string, q AuditQuery) (Page[AuditEvent], error) {
	return call[Page[AuditEvent]](ctx, c, http.MethodGet, wsPath(ws)+"/audit", q.Values(), nil)
}

// ServerAuditLog lists one page of the audit log of every workspace and
// of server-wide changes (console users, admin tokens); super_admin.
func (c *Client) ServerAuditLog(ctx context.Context, q AuditQuery) (Page[AuditEvent], error) {
	return call[Page[AuditEvent]](ctx, c, http.MethodGet, "/audit", q.Values(), nil)
}

// Outbox lists the newest limit messages of the mail outbox (0: the
// server default of 50), newest first; super_admin.
func (c *Client) Outbox(ctx context.Context, limit int) ([]OutboxMail, error) {
	l, err := call[List[OutboxMail]](ctx, c, http.MethodGet, "/outbox", ListOptions{Limit: limit}.Values(), nil)
	return l.Items, err
}

// OutboxMessage returns one message of the mail outbox; super_admin.
func (c *Client) OutboxMessage(ctx context.Context, id string) (OutboxMail, error) {
	return call[OutboxMail](ctx, c, http.MethodGet, "/outbox/"+seg(id), nil, nil)
}
