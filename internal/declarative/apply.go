package declarative

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey/adminclient"
)

// notFound reports an admin API 404.
func notFound(err error) bool {
	var ae *adminclient.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// Current exports the workspaces doc names from t: nil for a workspace
// that does not exist.
func Current(ctx context.Context, t Target, doc *Document) ([]*Document, error) {
	wss := doc.Workspaces()
	out := make([]*Document, len(wss))
	for i, w := range wss {
		cur, err := Export(ctx, t, w.WorkspaceID())
		switch {
		case notFound(err):
			// created by the plan
		case err != nil:
			return nil, fmt.Errorf("read workspace %s: %w", w.WorkspaceID(), err)
		default:
			out[i] = cur
		}
	}
	return out, nil
}

// Plans builds the plan of every workspace of doc against current (from
// Current on the same t).
func Plans(ctx context.Context, t Target, doc *Document, current []*Document, opts Options) ([]*Plan, error) {
	wss := doc.Workspaces()
	out := make([]*Plan, len(wss))
	for i, w := range wss {
		p, err := BuildPlan(ctx, t, w, current[i], opts)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// Apply makes t match doc: it reads the current configuration, plans the
// changes and executes them, and returns the plans it executed.
func Apply(ctx context.Context, t Target, doc *Document, opts Options) ([]*Plan, error) {
	cur, err := Current(ctx, t, doc)
	if err != nil {
		return nil, err
	}
	plans, err := Plans(ctx, t, doc, cur, opts)
	if err != nil {
		return nil, err
	}
	return plans, Execute(ctx, t, plans...)
}

// ResolveSecrets replaces every secret reference of doc by its value
// (value:TEXT): env:NAME reads the environment variable NAME, file:PATH
// the file PATH (one trailing line break removed). It runs where the file
// is read (the CLI), never on the server.
func ResolveSecrets(doc *Document, getenv func(string) (string, bool), readFile func(string) ([]byte, error)) error {
	for _, w := range doc.Workspaces() {
		for _, c := range w.Clients {
			v, has := c[secretKey]
			if !has || v == nil {
				continue
			}
			id, _ := c["client_id"].(string)
			res := "clients[" + id + "]"
			ref, ok := v.(string)
			if !ok {
				return fieldError(res, secretKey, "must be a reference: env:NAME or file:PATH")
			}
			switch {
			case strings.HasPrefix(ref, "env:"):
				name := strings.TrimPrefix(ref, "env:")
				val, ok := getenv(name)
				if !ok || val == "" {
					return fieldError(res, secretKey, fmt.Sprintf("environment variable %s is not set", name))
				}
				c[secretKey] = "value:" + val
			case strings.HasPrefix(ref, "file:"):
				path := strings.TrimPrefix(ref, "file:")
				b, err := readFile(path)
				if err != nil {
					return fieldError(res, secretKey, fmt.Sprintf("cannot read %s: %v", path, errors.Unwrap(err)))
				}
				val := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
				c[secretKey] = "value:" + val
			default:
				return fieldError(res, secretKey, "must be a reference: env:NAME or file:PATH (a secret is never written in the file)")
			}
		}
	}
	return nil
}
