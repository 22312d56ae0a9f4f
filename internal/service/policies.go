package service

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/storage"
)

// Audit actions and target of policies.
const (
	AuditPolicyCreate   = "policy.create"
	AuditPolicyUpdate   = "policy.update"
	AuditPolicyRollback = "policy.rollback"
	AuditPolicyDelete   = "policy.delete"
	AuditClientPolicies = "client.policies"
	AuditDefaultPolicy  = "workspace.default_user_policy"
	AuditAccessPolicy   = "service.access_policy"
	TargetPolicy        = "policy"
)

const generatedPolicyIDLen = 9

var policyKinds = []string{storage.PolicyKindUser, storage.PolicyKindMachine, storage.PolicyKindAccess}

// PolicyInput creates a policy. An empty ID is generated.
type PolicyInput struct {
	ID          string
	Name        string
	Description string
	Kind        string
	Rules       []storage.PolicyRule
	// Template and Params build the rules from a built-in template
	// (policy.Templates) instead of Rules.
	Template string
	Params   map[string]string
}

// PolicyPatch updates a policy (saved as a new version); nil fields are
// left unchanged. The kind cannot change: attachments depend on it.
type PolicyPatch struct {
	Name        *string
	Description *string
	Kind        *string
	Rules       *[]storage.PolicyRule
	Template    *string
	Params      map[string]string
}

// templateRules renders a template into rules; a template together with
// rules, or a bad parameter, is a field error.
func templateRules(v *validator, template string, params map[string]string, haveRules bool) []storage.PolicyRule {
	if !v.check(!haveRules, "template", "exclusive", "give either rules or a template, not both") {
		return nil
	}
	rules, err := policy.Render(template, params)
	if err != nil {
		v.add("template", "template", "%s", err.Error())
	}
	return rules
}

// validatePolicy checks the fields and type-checks every rule: a rule that
// does not compile is refused with its index, line and column, and nothing
// is saved.
func validatePolicy(v *validator, p storage.Policy) {
	validateName(v, "name", p.Name)
	v.maxLen("description", p.Description, maxDescriptionLength)
	v.check(slices.Contains(policyKinds, p.Kind), "kind", "enum", "must be one of user, machine, access")
	if !v.maxItems("rules", len(p.Rules), policy.MaxRules) {
		return
	}
	if _, err := policy.Compile(p.Rules); err != nil {
		var ce *policy.CompileError
		if errors.As(err, &ce) {
			v.add(fmt.Sprintf("rules[%d]", ce.Rule), "cel", "%s", ce.Error())
			return
		}
		v.add("rules", "cel", "%s", err.Error())
	}
}

// CreatePolicy validates and stores a policy as version 1.
func (s *Service) CreatePolicy(ctx context.Context, wsID string, in PolicyInput) (storage.Policy, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Policy{}, err
	}
	if in.ID == "" {
		in.ID = "pol_" + randomToken(generatedPolicyIDLen)
	}
	now := s.now()
	p := storage.Policy{WorkspaceID: wsID, ID: in.ID, Name: in.Name, Description: in.Description, Kind: in.Kind,
		Rules: in.Rules, Version: 1, CreatedAt: now, UpdatedAt: now}
	var v validator
	if in.Template != "" {
		p.Rules = templateRules(&v, in.Template, in.Params, len(in.Rules) > 0)
		if err := v.err(); err != nil {
			return storage.Policy{}, err
		}
	}
	v.check(userIDPattern.MatchString(p.ID), "id", "pattern", "must be 1-128 letters, digits or '.', '_', '~', '-'")
	validatePolicy(&v, p)
	if err := v.err(); err != nil {
		return storage.Policy{}, err
	}
	if err := s.Store.CreatePolicy(ctx, p); err != nil {
		return storage.Policy{}, mapStore(err, "policy", p.ID)
	}
	s.audit(ctx, wsID, AuditPolicyCreate, TargetPolicy, p.ID, map[string]any{"name": p.Name, "kind": p.Kind, "version": 1})
	return p, nil
}

// GetPolicy returns the current version of a policy.
func (s *Service) GetPolicy(ctx context.Context, wsID, id string) (storage.Policy, error) {
	p, err := s.Store.GetPolicy(ctx, wsID, id)
	return p, mapStore(err, "policy", id)
}

// ListPolicies returns one page of policies.
func (s *Service) ListPolicies(ctx context.Context, wsID string, opts storage.ListOptions) (storage.Page[storage.Policy], error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Page[storage.Policy]{}, err
	}
	return s.Store.ListPolicies(ctx, wsID, opts)
}

// UpdatePolicy applies a patch and saves the result as the next version.
func (s *Service) UpdatePolicy(ctx context.Context, wsID, id string, p PolicyPatch) (storage.Policy, error) {
	if p.Template != nil {
		var v validator
		rules := templateRules(&v, *p.Template, p.Params, p.Rules != nil)
		if err := v.err(); err != nil {
			return storage.Policy{}, err
		}
		p.Rules = &rules
	}
	out, err := s.savePolicy(ctx, wsID, id, func(cur *storage.Policy) {
		setString(&cur.Name, p.Name)
		setString(&cur.Description, p.Description)
		setString(&cur.Kind, p.Kind)
		if p.Rules != nil {
			cur.Rules = slices.Clone(*p.Rules)
		}
	})
	if err != nil {
		return storage.Policy{}, err
	}
	s.audit(ctx, wsID, AuditPolicyUpdate, TargetPolicy, id, map[string]any{"version": out.Version, "fields": setFields(
		"name", p.Name != nil, "description", p.Description != nil, "rules", p.Rules != nil)})
	return out, nil
}

// RollbackPolicy saves an earlier version's name, description and rules
// as the next version: the history only grows.
func (s *Service) RollbackPolicy(ctx context.Context, wsID, id string, version int) (storage.Policy, error) {
	old, err := s.Store.GetPolicyVersion(ctx, wsID, id, version)
	if err != nil {
		return storage.Policy{}, mapStore(err, "policy version", fmt.Sprintf("%s@%d", id, version))
	}
	out, err := s.savePolicy(ctx, wsID, id, func(cur *storage.Policy) {
		cur.Name, cur.Description, cur.Rules = old.Name, old.Description, old.Rules
	})
	if err != nil {
		return storage.Policy{}, err
	}
	s.audit(ctx, wsID, AuditPolicyRollback, TargetPolicy, id, map[string]any{"version": out.Version, "from_version": version})
	return out, nil
}

func (s *Service) savePolicy(ctx context.Context, wsID, id string, apply func(*storage.Policy)) (storage.Policy, error) {
	now := s.now()
	out, err := s.Store.UpdatePolicy(ctx, wsID, id, func(cur storage.Policy) (storage.Policy, error) {
		kind := cur.Kind
		apply(&cur)
		cur.UpdatedAt = now
		var v validator
		v.check(cur.Kind == kind, "kind", "immutable", "cannot change (attachments depend on it); create a new policy")
		validatePolicy(&v, cur)
		if err := v.err(); err != nil {
			return cur, err
		}
		return cur, nil
	})
	if err != nil {
		if PublicMessage(err) != "" {
			return storage.Policy{}, err
		}
		return storage.Policy{}, mapStore(err, "policy", id)
	}
	return out, nil
}

// ListPolicyVersions returns every saved version, newest first.
func (s *Service) ListPolicyVersions(ctx context.Context, wsID, id string) ([]storage.Policy, error) {
	vs, err := s.Store.ListPolicyVersions(ctx, wsID, id)
	return vs, mapStore(err, "policy", id)
}

// DeletePolicy removes a policy and its history. A policy still attached
// (workspace default, client) is refused with a conflict naming where.
func (s *Service) DeletePolicy(ctx context.Context, wsID, id string) error {
	ws, err := s.requireWorkspace(ctx, wsID)
	if err != nil {
		return err
	}
	if _, err := s.GetPolicy(ctx, wsID, id); err != nil {
		return err
	}
	if ws.Settings.DefaultUserPolicyID == id {
		return conflict(nil, "policy %q is the workspace's default user policy; detach it first", id)
	}
	if c, err := s.clientUsingPolicy(ctx, wsID, id); err != nil {
		return err
	} else if c != "" {
		return conflict(nil, "policy %q is attached to client %q; detach it first", id, c)
	}
	if sv, err := s.serviceUsingPolicy(ctx, wsID, id); err != nil {
		return err
	} else if sv != "" {
		return conflict(nil, "policy %q is the access policy of service %q; detach it first", id, sv)
	}
	if err := s.Store.DeletePolicy(ctx, wsID, id); err != nil {
		return mapStore(err, "policy", id)
	}
	s.audit(ctx, wsID, AuditPolicyDelete, TargetPolicy, id, nil)
	return nil
}

func (s *Service) clientUsingPolicy(ctx context.Context, wsID, id string) (string, error) {
	opts := storage.ListOptions{Limit: storage.MaxPageSize}
	for {
		page, err := s.Store.ListClients(ctx, wsID, opts)
		if err != nil {
			return "", err
		}
		for _, c := range page.Items {
			if c.UserPolicyID == id || c.MachinePolicyID == id {
				return c.ID, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		opts.After = page.Next
	}
}

// checkPolicyRef checks that id ("" for none) names a policy of kind.
func (s *Service) checkPolicyRef(ctx context.Context, v *validator, wsID, field, id, kind string) error {
	if id == "" {
		return nil
	}
	p, err := s.Store.GetPolicy(ctx, wsID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		v.add(field, "exists", "policy %q does not exist", id)
	case err != nil:
		return err
	default:
		v.check(p.Kind == kind, field, "kind", "policy %q is of kind %s, not %s", id, p.Kind, kind)
	}
	return nil
}

// ClientPolicies are the policies attached to a client ("" for none).
type ClientPolicies struct {
	UserPolicyID    string
	MachinePolicyID string
}

// SetClientPolicies attaches policies to a client, replacing both.
func (s *Service) SetClientPolicies(ctx context.Context, wsID, clientID string, in ClientPolicies) (storage.Client, error) {
	if _, err := s.GetClient(ctx, wsID, clientID); err != nil {
		return storage.Client{}, err
	}
	var v validator
	if err := s.checkPolicyRef(ctx, &v, wsID, "user_policy_id", in.UserPolicyID, storage.PolicyKindUser); err != nil {
		return storage.Client{}, err
	}
	if err := s.checkPolicyRef(ctx, &v, wsID, "machine_policy_id", in.MachinePolicyID, storage.PolicyKindMachine); err != nil {
		return storage.Client{}, err
	}
	if err := v.err(); err != nil {
		return storage.Client{}, err
	}
	now := s.now()
	c, err := s.Store.UpdateClient(ctx, wsID, clientID, func(c storage.Client) (storage.Client, error) {
		c.UserPolicyID, c.MachinePolicyID, c.UpdatedAt = in.UserPolicyID, in.MachinePolicyID, now
		return c, nil
	})
	if err != nil {
		return storage.Client{}, mapStore(err, "client", clientID)
	}
	s.audit(ctx, wsID, AuditClientPolicies, TargetClient, clientID, map[string]any{
		"user_policy_id": in.UserPolicyID, "machine_policy_id": in.MachinePolicyID})
	return c, nil
}

// SetDefaultUserPolicy sets the workspace's default user policy ("" for none).
func (s *Service) SetDefaultUserPolicy(ctx context.Context, wsID, policyID string) (storage.Workspace, error) {
	if _, err := s.requireWorkspace(ctx, wsID); err != nil {
		return storage.Workspace{}, err
	}
	var v validator
	if err := s.checkPolicyRef(ctx, &v, wsID, "policy_id", policyID, storage.PolicyKindUser); err != nil {
		return storage.Workspace{}, err
	}
	if err := v.err(); err != nil {
		return storage.Workspace{}, err
	}
	now := s.now()
	w, err := s.Store.UpdateWorkspace(ctx, wsID, func(w storage.Workspace) (storage.Workspace, error) {
		w.Settings.DefaultUserPolicyID, w.UpdatedAt = policyID, now
		return w, nil
	})
	if err != nil {
		return storage.Workspace{}, mapStore(err, "workspace", wsID)
	}
	s.audit(ctx, wsID, AuditDefaultPolicy, TargetWorkspace, wsID, map[string]any{"policy_id": policyID})
	return w, nil
}

func (s *Service) serviceUsingPolicy(ctx context.Context, wsID, id string) (string, error) {
	opts := storage.ListOptions{Limit: storage.MaxPageSize}
	for {
		page, err := s.Store.ListServices(ctx, wsID, opts)
		if err != nil {
			return "", err
		}
		for _, sv := range page.Items {
			if sv.AccessPolicyID == id {
				return sv.ID, nil
			}
		}
		if page.Next == "" {
			return "", nil
		}
		opts.After = page.Next
	}
}

// SetServiceAccessPolicy sets a service's access policy ("" for none): a
// policy of kind access, evaluated whenever one of the service's scopes is
// requested, with the user (or the client alone).
func (s *Service) SetServiceAccessPolicy(ctx context.Context, wsID, serviceID, policyID string) (storage.Service, error) {
	if _, err := s.GetService(ctx, wsID, serviceID); err != nil {
		return storage.Service{}, err
	}
	var v validator
	if err := s.checkPolicyRef(ctx, &v, wsID, "policy_id", policyID, storage.PolicyKindAccess); err != nil {
		return storage.Service{}, err
	}
	if err := v.err(); err != nil {
		return storage.Service{}, err
	}
	now := s.now()
	sv, err := s.Store.UpdateService(ctx, wsID, serviceID, func(sv storage.Service) (storage.Service, error) {
		sv.AccessPolicyID, sv.UpdatedAt = policyID, now
		return sv, nil
	})
	if err != nil {
		return storage.Service{}, mapStore(err, "service", serviceID)
	}
	s.audit(ctx, wsID, AuditAccessPolicy, TargetService, serviceID, map[string]any{"policy_id": policyID})
	return sv, nil
}
