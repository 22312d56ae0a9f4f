package declarative

import (
	"context"
	"encoding/pem"
	"fmt"
	"net/url"
	"slices"
)

// Target is a server as apply and export see it: the admin API (paths
// below /admin/v1, JSON bodies; a refused request is an
// *adminclient.APIError) and the three things the API deliberately does
// not offer, because they involve secrets or certificate bytes.
type Target interface {
	Do(ctx context.Context, method, path string, body any) ([]byte, error)
	// Certificates lists a client's certificates with their DER bytes.
	Certificates(ctx context.Context, ws, clientID string) ([]Certificate, error)
	// SecretEquals reports whether a client's secret is secret.
	SecretEquals(ctx context.Context, ws, clientID, secret string) (bool, error)
	// SetSecret sets a client's secret to secret.
	SetSecret(ctx context.Context, ws, clientID, secret string) error
}

// Certificate is one certificate of a client.
type Certificate struct {
	KID string
	DER []byte
}

// pageSize is the page size export lists with (the API's maximum).
const pageSize = 500

// list reads every item of a paginated collection.
func list(ctx context.Context, t Target, path string) ([]Object, error) {
	var out []Object
	token := ""
	for {
		q := url.Values{"limit": {fmt.Sprint(pageSize)}}
		if token != "" {
			q.Set("page_token", token)
		}
		raw, err := t.Do(ctx, "GET", path+"?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items         []Object `json:"items"`
			NextPageToken string   `json:"next_page_token"`
		}
		if err := decodeJSON(raw, &page); err != nil {
			return nil, fmt.Errorf("list %s: unexpected answer: %w", path, err)
		}
		for _, o := range page.Items {
			out = append(out, normalize(o).(Object))
		}
		if page.NextPageToken == "" {
			return out, nil
		}
		token = page.NextPageToken
	}
}

func getObject(ctx context.Context, t Target, path string) (Object, error) {
	raw, err := t.Do(ctx, "GET", path, nil)
	if err != nil {
		return nil, err
	}
	var o Object
	if err := decodeJSON(raw, &o); err != nil {
		return nil, fmt.Errorf("get %s: unexpected answer: %w", path, err)
	}
	return normalize(o).(Object), nil
}

// strip removes the response-only members (those of every resource and
// drop).
func strip(o Object, drop []string) Object {
	for _, k := range responseOnly {
		delete(o, k)
	}
	for _, k := range drop {
		delete(o, k)
	}
	return o
}

func wsPath(ws string) string { return "/workspaces/" + url.PathEscape(ws) }

func resPath(ws string, k *kind, id string) string {
	return wsPath(ws) + "/" + k.path + "/" + url.PathEscape(id)
}

// getSub reads a sub-resource's value.
func getSub(ctx context.Context, t Target, ws string, k *kind, id string, s sub) (any, error) {
	o, err := getObject(ctx, t, resPath(ws, k, id)+"/"+s.path)
	if err != nil {
		return nil, err
	}
	if s.wrap != "" {
		return o[s.wrap], nil
	}
	return o, nil
}

// certificates reads a client's certificates as document values.
func certificates(ctx context.Context, t Target, ws, id string) ([]any, error) {
	certs, err := t.Certificates(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(certs, func(a, b Certificate) int {
		switch {
		case a.KID < b.KID:
			return -1
		case a.KID > b.KID:
			return 1
		}
		return 0
	})
	out := make([]any, len(certs))
	for i, c := range certs {
		out[i] = Object{"kid": c.KID, "certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER}))}
	}
	return out, nil
}

// Export reads workspace ws as a document: every resource with its
// sub-resources, never a secret.
func Export(ctx context.Context, t Target, ws string) (*Document, error) {
	w, err := getObject(ctx, t, wsPath(ws))
	if err != nil {
		return nil, err
	}
	d := &Document{APIVersion: APIVersion, Kind: KindWorkspace, Workspace: strip(w, workspaceDrop)}
	ref, err := getObject(ctx, t, wsPath(ws)+"/default-user-policy")
	if err != nil {
		return nil, err
	}
	if p, _ := ref["policy_id"].(string); p != "" {
		d.Workspace[defaultPolicyKey] = p
	}
	for _, k := range kinds {
		items, err := list(ctx, t, wsPath(ws)+"/"+k.path)
		if err != nil {
			return nil, err
		}
		for _, o := range items {
			strip(o, k.drop)
			id, _ := o[k.idField].(string)
			for _, s := range k.subs {
				v, err := getSub(ctx, t, ws, k, id, s)
				if err != nil {
					return nil, err
				}
				if !s.empty(v, o) {
					o[s.key] = v
				}
			}
			if k == clientsKind {
				certs, err := certificates(ctx, t, ws, id)
				if err != nil {
					return nil, err
				}
				if len(certs) > 0 {
					o[certificatesKey] = certs
				}
			}
		}
		*d.collection(k) = items
	}
	d.Sort()
	return d, nil
}

// ExportAll reads every workspace as a kind List document.
func ExportAll(ctx context.Context, t Target) (*Document, error) {
	wss, err := list(ctx, t, "/workspaces")
	if err != nil {
		return nil, err
	}
	d := &Document{APIVersion: APIVersion, Kind: KindList, Items: []Document{}}
	for _, w := range wss {
		id, _ := w["id"].(string)
		one, err := Export(ctx, t, id)
		if err != nil {
			return nil, err
		}
		d.Items = append(d.Items, *one)
	}
	d.Sort()
	return d, nil
}
