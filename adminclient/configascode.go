package adminclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Configuration as code (README "Configuration as code"): a workspace, or
// every workspace, as one document (apiVersion latchkey/v1, kind
// Workspace or List), read by Export and made true by Apply.

// ApplyResult answers an apply: the changes per workspace, the same as a
// diff for a person, and whether they were made (false for a dry run).
type ApplyResult struct {
	DryRun  bool   `json:"dry_run"`
	Applied bool   `json:"applied"`
	Plans   []Plan `json:"plans"`
	Diff    string `json:"diff"`
}

// Plan is the changes that make one workspace match the document.
type Plan struct {
	Workspace string   `json:"workspace"`
	Changes   []Change `json:"changes"`
}

// Change is one resource created, updated (with the changed members) or
// deleted. Resource is e.g. "clients[billing-api]" or "workspace".
type Change struct {
	Op       string        `json:"op"`
	Resource string        `json:"resource"`
	Fields   []FieldChange `json:"fields,omitempty"`
}

// FieldChange is one changed member with its values as JSON text (From
// is absent when the member was unset); a secret shows neither value.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// ApplyOptions are the query of an apply.
type ApplyOptions struct {
	// DryRun validates and computes the changes without making them.
	DryRun bool
	// Prune deletes the resources of the named workspaces the document
	// does not name.
	Prune bool
}

// Values is the query of an apply.
func (o ApplyOptions) Values() url.Values {
	v := url.Values{}
	if o.DryRun {
		v.Set("dry_run", "true")
	}
	if o.Prune {
		v.Set("prune", "true")
	}
	return v
}

// ExportWorkspace returns workspace ws as a document (JSON). Secrets are
// never in it.
func (c *Client) ExportWorkspace(ctx context.Context, ws string) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodGet, wsPath(ws)+"/export", nil, nil)
}

// ExportAll returns every workspace as a kind List document (JSON).
func (c *Client) ExportAll(ctx context.Context) (json.RawMessage, error) {
	return c.Do(ctx, http.MethodGet, "/export", nil, nil)
}

// ApplyWorkspace makes workspace ws match doc (a kind Workspace document
// as JSON, its client secrets as value:TEXT).
func (c *Client) ApplyWorkspace(ctx context.Context, ws string, doc json.RawMessage, o ApplyOptions) (ApplyResult, error) {
	return call[ApplyResult](ctx, c, http.MethodPost, wsPath(ws)+"/apply", o.Values(), doc)
}

// ApplyAll makes the server match doc (kind Workspace or List), creating
// the workspaces that do not exist.
func (c *Client) ApplyAll(ctx context.Context, doc json.RawMessage, o ApplyOptions) (ApplyResult, error) {
	return call[ApplyResult](ctx, c, http.MethodPost, "/apply", o.Values(), doc)
}
