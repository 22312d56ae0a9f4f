package declarative

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Change operations.
const (
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
)

// FieldChange is one member that an update changes. Secrets are never
// shown: a secret change has neither From nor To.
type FieldChange struct {
	Field string `json:"field"`
	From  any    `json:"from,omitempty"`
	To    any    `json:"to,omitempty"`
}

// Change is what apply does to one resource: create, update (with the
// members it changes) or delete.
type Change struct {
	Op       string        `json:"op"`
	Resource string        `json:"resource"` // e.g. clients[billing-api], workspace
	Fields   []FieldChange `json:"fields,omitempty"`
	steps    []step
}

// Plan is the changes that make one workspace match its document.
type Plan struct {
	Workspace string   `json:"workspace"`
	Changes   []Change `json:"changes"`
}

// Empty reports a plan that changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// step is one API call of a change. Steps of all changes run in stage
// order, so that what a resource names exists before it (see kinds).
type step struct {
	stage int
	run   func(ctx context.Context, t Target) error
}

// Stages of apply.
const (
	stageWorkspaceCreate = iota
	stageWorkspace
	stagePolicies
	stageDefaultPolicy
	stageProfiles
	stageUsers
	stageServices
	stageClients
	stageIssuers
	stageClientSubs
	stageDelete // + the kind's position in deleteOrder
)

// deleteOrder is the order prune deletes in: what names a resource goes
// before it.
var deleteOrder = []*kind{issuersKind, clientsKind, servicesKind, policiesKind, usersKind, profilesKind}

func stageOf(k *kind) int {
	switch k {
	case policiesKind:
		return stagePolicies
	case profilesKind:
		return stageProfiles
	case usersKind:
		return stageUsers
	case servicesKind:
		return stageServices
	case issuersKind:
		return stageIssuers
	}
	return stageClients
}

// Options of a plan.
type Options struct {
	// Prune deletes the resources of a named workspace that the document
	// does not name. Workspaces themselves are never deleted.
	Prune bool
}

// mergeKeys are members whose value is an object the API merges (only the
// set members change), so a patch carries only their changed members.
var mergeKeys = map[string]bool{"settings": true}

// isZero reports a value that equals an absent member: the API leaves
// empty members out of some answers.
func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int64:
		return x == 0
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// equal compares a desired value with the current one. Absent members
// (nil) equal zero values, at every depth: the API leaves empty members
// out of some answers, and a list item written without its empty members
// is the same item.
func equal(desired, current any) bool {
	switch {
	case desired == nil:
		return isZero(current)
	case current == nil:
		return isZero(desired)
	}
	dm, ok1 := desired.(map[string]any)
	cm, ok2 := current.(map[string]any)
	if ok1 && ok2 {
		for k, v := range dm {
			if !equal(v, cm[k]) {
				return false
			}
		}
		for k, v := range cm {
			if _, has := dm[k]; !has && !isZero(v) {
				return false
			}
		}
		return true
	}
	dl, ok1 := desired.([]any)
	cl, ok2 := current.([]any)
	if ok1 && ok2 {
		if len(dl) != len(cl) {
			return false
		}
		for i := range dl {
			if !equal(dl[i], cl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(desired, current)
}

// covers compares a desired value with the current one where the API
// merges objects (only the members set change): the members the file
// leaves out are not compared.
func covers(desired, current any) bool {
	dm, ok1 := desired.(map[string]any)
	cm, ok2 := current.(map[string]any)
	if !ok1 || !ok2 {
		return equal(desired, current)
	}
	for k, v := range dm {
		if v != nil && !covers(v, cm[k]) {
			return false
		}
	}
	return true
}

// fieldChanges lists the changed members below field for display.
func fieldChanges(field string, from, to any) []FieldChange {
	fm, ok1 := from.(map[string]any)
	tm, ok2 := to.(map[string]any)
	if !ok1 || !ok2 {
		return []FieldChange{{Field: field, From: from, To: to}}
	}
	var out []FieldChange
	for _, k := range sortedKeys(tm) {
		if tm[k] != nil && !covers(tm[k], fm[k]) {
			out = append(out, fieldChanges(field+"."+k, fm[k], tm[k])...)
		}
	}
	if len(out) == 0 {
		// Only members the file leaves out differ (an object replaced
		// whole, such as metadata): show the whole value.
		return []FieldChange{{Field: field, From: from, To: to}}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}

// diffObject compares a desired resource with the current one: the patch
// of the changed members and their display. Members in skip are not the
// resource's own.
func diffObject(desired, current Object, skip []string) (Object, []FieldChange) {
	patch := Object{}
	var fields []FieldChange
	for _, key := range sortedKeys(desired) {
		if slices.Contains(skip, key) {
			continue
		}
		dv, cv := desired[key], current[key]
		dm, ok1 := dv.(map[string]any)
		cm, ok2 := cv.(map[string]any)
		merge := mergeKeys[key] && ok1 && ok2
		switch {
		case dv == nil:
			continue // null is "not given", like a member left out
		case merge && covers(dv, cv), !merge && equal(dv, cv):
			continue
		}
		fields = append(fields, fieldChanges(key, cv, dv)...)
		if merge {
			sub := Object{}
			for k, v := range dm {
				if v != nil && !covers(v, cm[k]) {
					sub[k] = v
				}
			}
			patch[key] = sub
			continue
		}
		patch[key] = dv
	}
	return patch, fields
}

// own is the resource's own JSON members: without its sub-resources and
// response-only members.
func own(o Object, k *kind) Object {
	out := Object{}
	for key, v := range o {
		if !slices.Contains(k.subKeys(), key) && !k.responseOnly(key) {
			out[key] = v
		}
	}
	return out
}

// secretValue is the literal of a resolved secret reference.
func secretValue(o Object, res string) (string, bool, error) {
	v, has := o[secretKey]
	if !has || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fieldError(res, secretKey, "must be a reference: env:NAME or file:PATH")
	}
	lit, ok := strings.CutPrefix(s, "value:")
	if !ok {
		if strings.HasPrefix(s, "env:") || strings.HasPrefix(s, "file:") {
			return "", false, fieldError(res, secretKey, "env: and file: references are resolved by the program that reads the file (latchkey admin apply); the server takes only their value")
		}
		return "", false, fieldError(res, secretKey, "must be a reference: env:NAME or file:PATH (a secret is never written in the file)")
	}
	return lit, true, nil
}

// BuildPlan compares workspace document desired with current (its export;
// nil when the workspace does not exist yet) and reads from t what the
// export does not hold (sub-resources and secrets of existing resources).
func BuildPlan(ctx context.Context, t Target, desired, current *Document, opts Options) (*Plan, error) {
	ws := desired.WorkspaceID()
	p := &Plan{Workspace: ws, Changes: []Change{}}
	wsObj := Object{}
	for k, v := range desired.Workspace {
		if k != defaultPolicyKey && !slices.Contains(responseOnly, k) && !slices.Contains(workspaceDrop, k) {
			wsObj[k] = v
		}
	}
	if current == nil {
		body := Object{}
		maps.Copy(body, wsObj)
		p.Changes = append(p.Changes, Change{Op: OpCreate, Resource: "workspace", steps: []step{{stageWorkspaceCreate,
			func(ctx context.Context, t Target) error {
				return wrap("workspace", "", call(ctx, t, "POST", "/workspaces", body))
			}}}})
		current = &Document{Workspace: Object{"id": ws}}
	} else {
		patch, fields := diffObject(wsObj, current.Workspace, []string{"id"})
		if len(patch) > 0 {
			p.Changes = append(p.Changes, Change{Op: OpUpdate, Resource: "workspace", Fields: fields, steps: []step{{stageWorkspace,
				func(ctx context.Context, t Target) error {
					return wrap("workspace", "", call(ctx, t, "PATCH", wsPath(ws), patch))
				}}}})
		}
	}
	if dp := desired.Workspace[defaultPolicyKey]; dp != nil && !equal(dp, current.Workspace[defaultPolicyKey]) {
		p.Changes = append(p.Changes, Change{Op: OpUpdate, Resource: "workspace",
			Fields: []FieldChange{{Field: defaultPolicyKey, From: current.Workspace[defaultPolicyKey], To: dp}},
			steps: []step{{stageDefaultPolicy, func(ctx context.Context, t Target) error {
				return wrap("workspace", defaultPolicyKey, call(ctx, t, "PUT", wsPath(ws)+"/default-user-policy", Object{"policy_id": dp}))
			}}}})
	}
	for _, k := range kinds {
		cur := map[string]Object{}
		for _, o := range *current.collection(k) {
			id, _ := o[k.idField].(string)
			cur[id] = o
		}
		named := map[string]bool{}
		for _, o := range *desired.collection(k) {
			id, _ := o[k.idField].(string)
			named[id] = true
			c, err := planResource(ctx, t, ws, k, o, cur[id])
			if err != nil {
				return nil, err
			}
			if c != nil {
				p.Changes = append(p.Changes, *c)
			}
		}
		if !opts.Prune {
			continue
		}
		for _, id := range sortedKeys(cur) {
			if named[id] {
				continue
			}
			path := resPath(ws, k, id)
			res := k.key + "[" + id + "]"
			p.Changes = append(p.Changes, Change{Op: OpDelete, Resource: res, steps: []step{{
				stageDelete + slices.Index(deleteOrder, k),
				func(ctx context.Context, t Target) error { return wrap(res, "", call(ctx, t, "DELETE", path, nil)) }}}})
		}
	}
	return p, nil
}

// planResource is the change of one resource (nil when it matches).
func planResource(ctx context.Context, t Target, ws string, k *kind, desired, current Object) (*Change, error) {
	id, _ := desired[k.idField].(string)
	res := k.key + "[" + id + "]"
	path := resPath(ws, k, id)
	c := &Change{Op: OpUpdate, Resource: res}
	secret, hasSecret, err := secretValue(desired, res)
	if err != nil {
		return nil, err
	}
	if current == nil {
		c.Op = OpCreate
		body := own(desired, k)
		c.steps = append(c.steps, step{stageOf(k), func(ctx context.Context, t Target) error {
			return wrap(res, "", call(ctx, t, "POST", wsPath(ws)+"/"+k.path, body))
		}})
	} else {
		patch, fields := diffObject(own(desired, k), current, append([]string{k.idField}, k.createOnly...))
		c.Fields = append(c.Fields, fields...)
		if len(patch) > 0 {
			c.steps = append(c.steps, step{stageOf(k), func(ctx context.Context, t Target) error {
				return wrap(res, "", call(ctx, t, "PATCH", path, patch))
			}})
		}
	}
	if hasSecret {
		same := false
		if current != nil {
			if same, err = t.SecretEquals(ctx, ws, id, secret); err != nil {
				return nil, err
			}
		}
		if !same {
			if current != nil {
				c.Fields = append(c.Fields, FieldChange{Field: secretKey})
			}
			c.steps = append(c.steps, step{stageOf(k), func(ctx context.Context, t Target) error {
				if err := t.SetSecret(ctx, ws, id, secret); err != nil {
					return wrap(res, "", err)
				}
				return nil
			}})
		}
	}
	subStage := stageOf(k)
	if k == clientsKind {
		subStage = stageClientSubs
	}
	for _, s := range k.subs {
		dv := desired[s.key]
		if dv == nil {
			continue // left out or null: kept as it is
		}
		var cv any
		if current != nil {
			if cv, err = getSub(ctx, t, ws, k, id, s); err != nil {
				return nil, err
			}
		}
		// An object sub-resource is replaced whole by its route; members
		// the file leaves out keep their current values.
		if dm, ok := dv.(map[string]any); ok {
			merged := Object{}
			if cm, ok := cv.(map[string]any); ok {
				maps.Copy(merged, cm)
			}
			for k, v := range dm {
				if v != nil {
					merged[k] = v
				}
			}
			dv = merged
		}
		if current != nil && equal(dv, cv) {
			continue
		}
		if current != nil {
			c.Fields = append(c.Fields, fieldChanges(s.key, cv, dv)...)
		}
		body := dv
		if s.wrap != "" {
			body = Object{s.wrap: dv}
		}
		sp, key := path+"/"+s.path, s.key
		c.steps = append(c.steps, step{subStage, func(ctx context.Context, t Target) error {
			return wrap(res, key, call(ctx, t, "PUT", sp, body))
		}})
	}
	if k == clientsKind {
		if err := planCertificates(ctx, t, ws, id, desired, current != nil, c); err != nil {
			return nil, err
		}
	}
	if c.Op == OpUpdate && len(c.steps) == 0 {
		return nil, nil
	}
	return c, nil
}

// planCertificates adds the certificate uploads and removals that make
// the client's certificates those of the file (when it lists them).
func planCertificates(ctx context.Context, t Target, ws, id string, desired Object, exists bool, c *Change) error {
	v := desired[certificatesKey]
	if v == nil {
		return nil // left out or null: kept as they are
	}
	res := "clients[" + id + "]"
	list, ok := v.([]any)
	if !ok {
		return fieldError(res, certificatesKey, "must be a list of {kid, certificate}")
	}
	want := map[string]string{} // kid → PEM
	wantDER := map[string][]byte{}
	for i, e := range list {
		field := fmt.Sprintf("%s[%d]", certificatesKey, i)
		m, _ := e.(map[string]any)
		text, _ := m["certificate"].(string)
		block, _ := pem.Decode([]byte(text))
		if block == nil || block.Type != "CERTIFICATE" {
			return fieldError(res, field+".certificate", "must be one PEM certificate (-----BEGIN CERTIFICATE-----)")
		}
		kid, _ := m["kid"].(string)
		if kid == "" {
			sum := sha256.Sum256(block.Bytes)
			kid = base64.RawURLEncoding.EncodeToString(sum[:])
		}
		if _, dup := want[kid]; dup {
			return fieldError(res, field+".kid", fmt.Sprintf("%q is named twice", kid))
		}
		want[kid], wantDER[kid] = text, block.Bytes
	}
	have := map[string][]byte{}
	if exists {
		certs, err := t.Certificates(ctx, ws, id)
		if err != nil {
			return err
		}
		for _, cert := range certs {
			have[cert.KID] = cert.DER
		}
	}
	base := resPath(ws, clientsKind, id) + "/certificates"
	for _, kid := range sortedKeys(have) {
		if der, keep := wantDER[kid]; keep && slices.Equal(der, have[kid]) {
			continue
		}
		if exists {
			c.Fields = append(c.Fields, FieldChange{Field: certificatesKey + "[" + kid + "]", From: "present"})
		}
		path := base + "/" + pathEscape(kid)
		c.steps = append(c.steps, step{stageClientSubs, func(ctx context.Context, t Target) error {
			return wrap(res, certificatesKey, call(ctx, t, "DELETE", path, nil))
		}})
	}
	for _, kid := range sortedKeys(want) {
		if der, ok := have[kid]; ok && slices.Equal(der, wantDER[kid]) {
			continue
		}
		if exists {
			c.Fields = append(c.Fields, FieldChange{Field: certificatesKey + "[" + kid + "]", To: "present"})
		}
		body := Object{"kid": kid, "certificate": want[kid]}
		c.steps = append(c.steps, step{stageClientSubs, func(ctx context.Context, t Target) error {
			return wrap(res, certificatesKey, call(ctx, t, "POST", base, body))
		}})
	}
	return nil
}

// call sends one request whose answer only matters when it fails.
func call(ctx context.Context, t Target, method, path string, body any) error {
	_, err := t.Do(ctx, method, path, body)
	return err
}

// Execute runs the plans' steps in stage order: every workspace's
// creations first, and so on. It stops at the first failure.
func Execute(ctx context.Context, t Target, plans ...*Plan) error {
	var steps []step
	for _, p := range plans {
		for _, c := range p.Changes {
			steps = append(steps, c.steps...)
		}
	}
	slices.SortStableFunc(steps, func(a, b step) int { return a.stage - b.stage })
	for _, s := range steps {
		if err := s.run(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// Format renders plans as a diff for a person: + create, ~ update (one
// line per changed member), - delete.
func Format(plans []*Plan) string {
	var b strings.Builder
	for _, p := range plans {
		if p.Empty() {
			fmt.Fprintf(&b, "workspace %s: no changes\n", p.Workspace)
			continue
		}
		fmt.Fprintf(&b, "workspace %s:\n", p.Workspace)
		for _, c := range p.Changes {
			switch c.Op {
			case OpCreate:
				fmt.Fprintf(&b, "  + %s\n", c.Resource)
			case OpDelete:
				fmt.Fprintf(&b, "  - %s\n", c.Resource)
			default:
				for _, f := range c.Fields {
					if f.From == nil && f.To == nil {
						fmt.Fprintf(&b, "  ~ %s.%s: (secret changed)\n", c.Resource, f.Field)
						continue
					}
					fmt.Fprintf(&b, "  ~ %s.%s: %s → %s\n", c.Resource, f.Field, show(f.From), show(f.To))
				}
			}
		}
	}
	return b.String()
}

func show(v any) string {
	if v == nil {
		return "(none)"
	}
	s := jsonText(v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
