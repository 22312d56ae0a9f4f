package declarative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Document format identifiers.
const (
	APIVersion    = "latchkey/v1"
	KindWorkspace = "Workspace"
	KindList      = "List"
)

// MaxDocumentBytes bounds a document read by Parse.
const MaxDocumentBytes = 4 << 20

// Object is one resource as the admin API's JSON represents it, with
// numbers as int64 (or float64 when fractional).
type Object = map[string]any

// Document is one workspace (Kind Workspace) or a list of them (Kind
// List, Items). The collections hold the API objects of the workspace's
// resources, sorted by ID.
type Document struct {
	APIVersion     string     `json:"apiVersion"`
	Kind           string     `json:"kind"`
	Workspace      Object     `json:"workspace,omitempty"`
	Policies       []Object   `json:"policies,omitempty"`
	Profiles       []Object   `json:"profiles,omitempty"`
	Users          []Object   `json:"users,omitempty"`
	Services       []Object   `json:"services,omitempty"`
	TrustedIssuers []Object   `json:"trusted_issuers,omitempty"`
	Clients        []Object   `json:"clients,omitempty"`
	Items          []Document `json:"items,omitempty"`
}

// collection returns the document's list of kind k.
func (d *Document) collection(k *kind) *[]Object {
	switch k.key {
	case "policies":
		return &d.Policies
	case "profiles":
		return &d.Profiles
	case "users":
		return &d.Users
	case "services":
		return &d.Services
	case "trusted_issuers":
		return &d.TrustedIssuers
	case "clients":
		return &d.Clients
	}
	panic("declarative: unknown kind " + k.key)
}

// Workspaces are the workspace documents of d: d itself, or its items.
func (d *Document) Workspaces() []*Document {
	if d.Kind == KindList {
		out := make([]*Document, len(d.Items))
		for i := range d.Items {
			out[i] = &d.Items[i]
		}
		return out
	}
	return []*Document{d}
}

// WorkspaceID is the id of a workspace document.
func (d *Document) WorkspaceID() string {
	id, _ := d.Workspace["id"].(string)
	return id
}

// Parse reads a YAML (or JSON, which is YAML) document and checks its
// shape: the format version, the kind, no unknown top-level members, and
// for every resource an ID that no other resource of its kind has.
func Parse(data []byte) (*Document, error) {
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("document is larger than %d bytes", MaxDocumentBytes)
	}
	var raw any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("document is empty")
		}
		return nil, fmt.Errorf("document is not valid YAML: %s", yamlMessage(err))
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("file holds more than one YAML document; use kind: List with items for several workspaces")
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, errors.New("document must be a mapping with string keys and JSON values")
	}
	jd := json.NewDecoder(bytes.NewReader(js))
	jd.DisallowUnknownFields()
	jd.UseNumber()
	var d Document
	if err := jd.Decode(&d); err != nil {
		return nil, fmt.Errorf("document: %s", jsonMessage(err))
	}
	if err := d.normalize(); err != nil {
		return nil, err
	}
	return &d, d.check()
}

// yamlMessage is the parser's message without its "yaml: " prefix.
func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field + ": has the wrong type"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if rest, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "unknown member " + rest + " (known: apiVersion, kind, workspace, policies, profiles, users, services, trusted_issuers, clients, items)"
	}
	return msg
}

// normalize turns the decoded json.Numbers into int64 or float64, so that
// file values and API values compare equal.
func (d *Document) normalize() error {
	d.Workspace, _ = normalize(d.Workspace).(Object)
	for _, k := range kinds {
		list := d.collection(k)
		for i := range *list {
			(*list)[i], _ = normalize((*list)[i]).(Object)
		}
	}
	for i := range d.Items {
		if err := d.Items[i].normalize(); err != nil {
			return err
		}
	}
	return nil
}

// normalize converts json.Number recursively; other values are kept.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	}
	return v
}

// decodeObject reads JSON (an API answer) into normalized values.
func decodeJSON(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	return nil
}

// check validates the shape of d (not the resources' contents, which the
// service layer validates).
func (d *Document) check() error {
	if d.APIVersion != APIVersion {
		return fmt.Errorf("apiVersion: must be %q, not %q", APIVersion, d.APIVersion)
	}
	switch d.Kind {
	case KindList:
		if d.Workspace != nil || d.Clients != nil || d.Services != nil || d.Users != nil || d.Profiles != nil ||
			d.Policies != nil || d.TrustedIssuers != nil {
			return errors.New("kind List: resources belong in items, one Workspace document per workspace")
		}
		seen := map[string]bool{}
		for i := range d.Items {
			it := &d.Items[i]
			if it.APIVersion == "" {
				it.APIVersion = APIVersion
			}
			if it.Kind == "" {
				it.Kind = KindWorkspace
			}
			if it.Kind != KindWorkspace {
				return fmt.Errorf("items[%d].kind: must be %s", i, KindWorkspace)
			}
			if err := it.check(); err != nil {
				return fmt.Errorf("items[%d].%w", i, err)
			}
			if seen[it.WorkspaceID()] {
				return fmt.Errorf("items[%d]: workspace %q is named twice", i, it.WorkspaceID())
			}
			seen[it.WorkspaceID()] = true
		}
		return nil
	case KindWorkspace:
	default:
		return fmt.Errorf("kind: must be %s or %s, not %q", KindWorkspace, KindList, d.Kind)
	}
	if d.Items != nil {
		return errors.New("items: only a kind List document has items")
	}
	if d.Workspace == nil {
		return errors.New("workspace: is required (at least its id)")
	}
	if id, ok := d.Workspace["id"].(string); !ok || id == "" {
		return errors.New("workspace.id: is required")
	}
	for _, k := range kinds {
		seen := map[string]bool{}
		for i, o := range *d.collection(k) {
			if o == nil {
				return fmt.Errorf("%s[%d]: must be a mapping", k.key, i)
			}
			id, ok := o[k.idField].(string)
			if !ok || id == "" {
				return fmt.Errorf("%s[%d].%s: is required (resources are matched by it)", k.key, i, k.idField)
			}
			if seen[id] {
				return fmt.Errorf("%s[%s]: is named twice", k.key, id)
			}
			seen[id] = true
			if s, has := o[secretKey]; has && k.key != "clients" {
				_ = s
				return fmt.Errorf("%s[%s].%s: only clients have a secret", k.key, id, secretKey)
			}
		}
	}
	return nil
}

// Sort orders every collection by ID, so that two exports of the same
// configuration are the same bytes.
func (d *Document) Sort() {
	for _, k := range kinds {
		list := *d.collection(k)
		sort.SliceStable(list, func(i, j int) bool {
			a, _ := list[i][k.idField].(string)
			b, _ := list[j][k.idField].(string)
			return a < b
		})
	}
	sort.SliceStable(d.Items, func(i, j int) bool { return d.Items[i].WorkspaceID() < d.Items[j].WorkspaceID() })
	for i := range d.Items {
		d.Items[i].Sort()
	}
}

// YAML renders d with a stable layout: the document members in a fixed
// order, each resource's id and name first and its other members sorted.
func (d *Document) YAML() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(d.node()); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// JSON renders d as indented JSON.
func (d *Document) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (d *Document) node() *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node) {
		m.Content = append(m.Content, scalar(key), v)
	}
	add("apiVersion", scalar(d.APIVersion))
	add("kind", scalar(d.Kind))
	if d.Kind == KindList {
		items := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range d.Items {
			items.Content = append(items.Content, d.Items[i].node())
		}
		add("items", items)
		return m
	}
	add("workspace", valueNode(d.Workspace))
	for _, k := range kinds {
		list := *d.collection(k)
		if len(list) == 0 {
			continue
		}
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, o := range list {
			seq.Content = append(seq.Content, valueNode(o))
		}
		add(k.key, seq)
	}
	return m
}

func scalar(s string) *yaml.Node {
	n := &yaml.Node{}
	_ = n.Encode(s)
	return n
}

// firstKeys lead a mapping, in this order; the rest are sorted.
var firstKeys = []string{"id", "client_id", "name"}

func valueNode(v any) *yaml.Node {
	switch x := v.(type) {
	case map[string]any:
		m := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := slices.Index(firstKeys, keys[i]), slices.Index(firstKeys, keys[j])
			switch {
			case a >= 0 && b >= 0:
				return a < b
			case a >= 0 || b >= 0:
				return a >= 0
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			m.Content = append(m.Content, scalar(k), valueNode(x[k]))
		}
		return m
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		if len(x) == 0 {
			s.Style = yaml.FlowStyle
		}
		for _, e := range x {
			s.Content = append(s.Content, valueNode(e))
		}
		return s
	}
	n := &yaml.Node{}
	_ = n.Encode(v)
	if s, ok := v.(string); ok && strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}
