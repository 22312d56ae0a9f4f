package adminapi

import (
	"net/http"
	"slices"

	"github.com/latchkey/latchkey/adminclient"
	"github.com/latchkey/latchkey/internal/grants"
	"github.com/latchkey/latchkey/internal/policy"
	"github.com/latchkey/latchkey/internal/service"
	"github.com/latchkey/latchkey/internal/storage"
)

// policyRoutes are the routes of CEL policies, their versions, the
// built-in templates and where policies attach.
func (h *Handler) policyRoutes(ws string) []route {
	return slices.Concat(
		collectionRoutes[policyRequest](h, ws, "policies", celPolicyView,
			(*svc).ListPolicies, (*svc).CreatePolicy, (*svc).GetPolicy, (*svc).UpdatePolicy, (*svc).DeletePolicy),
		[]route{
			{"GET " + ws + "/policies/{id}/versions", h.listPolicyVersions, false},
			{"POST " + ws + "/policies/{id}/rollback", h.rollbackPolicy, false},
			{"POST " + ws + "/policies/what-if", h.policyWhatIf, false},
			{"GET " + Prefix + "/policy-templates", h.listPolicyTemplates, false},
			{"GET " + ws + "/clients/{id}/policies", getHandler(h, (*svc).GetClient, clientPoliciesView), false},
			{"PUT " + ws + "/clients/{id}/policies", h.setClientPolicies, false},
			{"GET " + ws + "/default-user-policy", h.getDefaultUserPolicy, false},
			{"PUT " + ws + "/default-user-policy", h.setDefaultUserPolicy, false},
			{"GET " + ws + "/services/{id}/access-policy", getHandler(h, (*svc).GetService, accessPolicyView), false},
			{"PUT " + ws + "/services/{id}/access-policy", h.setAccessPolicy, false},
		},
	)
}

func celPolicyView(p storage.Policy) adminclient.Policy {
	rules := make([]adminclient.PolicyRule, len(p.Rules))
	for i, r := range p.Rules {
		rules[i] = adminclient.PolicyRule(r)
	}
	return adminclient.Policy{ID: p.ID, Name: p.Name, Description: p.Description, Kind: p.Kind, Rules: rules,
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type policyRequest adminclient.PolicyRequest

func storageRules(rules *[]adminclient.PolicyRule) *[]storage.PolicyRule {
	if rules == nil {
		return nil
	}
	out := make([]storage.PolicyRule, len(*rules))
	for i, r := range *rules {
		out[i] = storage.PolicyRule(r)
	}
	return &out
}

func (req policyRequest) input() service.PolicyInput {
	return service.PolicyInput{ID: deref(req.ID), Name: deref(req.Name), Description: deref(req.Description),
		Kind: deref(req.Kind), Rules: deref(storageRules(req.Rules)), Template: deref(req.Template), Params: req.Params}
}

func (req policyRequest) patch() service.PolicyPatch {
	return service.PolicyPatch{Name: req.Name, Description: req.Description, Kind: req.Kind,
		Rules: storageRules(req.Rules), Template: req.Template, Params: req.Params}
}

func (req policyRequest) checkID(pathID string) error { return checkSameID(req.ID, pathID) }

func (h *Handler) listPolicyVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.Service.ListPolicyVersions(r.Context(), r.PathValue("ws"), r.PathValue("id"))
	out := adminclient.List[adminclient.Policy]{Items: make([]adminclient.Policy, len(vs))}
	for i, p := range vs {
		out.Items[i] = celPolicyView(p)
	}
	h.respond(w, r, http.StatusOK, out, err)
}

func (h *Handler) rollbackPolicy(w http.ResponseWriter, r *http.Request) {
	var req adminclient.PolicyRollback
	if err := decodeJSON(w, r, &req, false); err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := h.Service.RollbackPolicy(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.Version)
	h.respond(w, r, http.StatusOK, celPolicyView(p), err)
}

func (h *Handler) listPolicyTemplates(w http.ResponseWriter, r *http.Request) {
	ts := policy.Templates()
	out := adminclient.List[adminclient.PolicyTemplate]{Items: make([]adminclient.PolicyTemplate, len(ts))}
	for i, t := range ts {
		params := make([]adminclient.PolicyTemplateParam, len(t.Params))
		for j, p := range t.Params {
			params[j] = adminclient.PolicyTemplateParam(p)
		}
		out.Items[i] = adminclient.PolicyTemplate{ID: t.ID, Name: t.Name, Description: t.Description, Params: params}
	}
	h.respond(w, r, http.StatusOK, out, nil)
}

func clientPoliciesView(c storage.Client) adminclient.ClientPolicies {
	return adminclient.ClientPolicies{UserPolicyID: c.UserPolicyID, MachinePolicyID: c.MachinePolicyID}
}

func (h *Handler) setClientPolicies(w http.ResponseWriter, r *http.Request) {
	var req adminclient.ClientPolicies
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Service.SetClientPolicies(r.Context(), r.PathValue("ws"), r.PathValue("id"),
		service.ClientPolicies{UserPolicyID: req.UserPolicyID, MachinePolicyID: req.MachinePolicyID})
	h.respond(w, r, http.StatusOK, clientPoliciesView(c), err)
}

func (h *Handler) getDefaultUserPolicy(w http.ResponseWriter, r *http.Request) {
	ws, err := h.Service.GetWorkspace(r.Context(), r.PathValue("ws"))
	h.respond(w, r, http.StatusOK, adminclient.PolicyRef{PolicyID: ws.Settings.DefaultUserPolicyID}, err)
}

func (h *Handler) setDefaultUserPolicy(w http.ResponseWriter, r *http.Request) {
	var req adminclient.PolicyRef
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	ws, err := h.Service.SetDefaultUserPolicy(r.Context(), r.PathValue("ws"), req.PolicyID)
	h.respond(w, r, http.StatusOK, adminclient.PolicyRef{PolicyID: ws.Settings.DefaultUserPolicyID}, err)
}

func accessPolicyView(sv storage.Service) adminclient.PolicyRef {
	return adminclient.PolicyRef{PolicyID: sv.AccessPolicyID}
}

func (h *Handler) setAccessPolicy(w http.ResponseWriter, r *http.Request) {
	var req adminclient.PolicyRef
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	sv, err := h.Service.SetServiceAccessPolicy(r.Context(), r.PathValue("ws"), r.PathValue("id"), req.PolicyID)
	h.respond(w, r, http.StatusOK, accessPolicyView(sv), err)
}

func (h *Handler) policyWhatIf(w http.ResponseWriter, r *http.Request) {
	var req adminclient.WhatIfRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.Service.WhatIf(r.Context(), r.PathValue("ws"), service.WhatIfInput{ClientID: req.ClientID,
		UserID: req.UserID, GrantType: req.GrantType, Scopes: req.Scopes, Resources: req.Resources, RemoteIP: req.RemoteIP})
	h.respond(w, r, http.StatusOK, whatIfView(res), err)
}

// whatIfView is the API form of a what-if answer.
func whatIfView(res grants.WhatIfResult) adminclient.WhatIfResult {
	out := adminclient.WhatIfResult{GrantType: res.GrantType, Allowed: res.Error == "", Error: res.Error,
		ErrorDescription: res.ErrorDescription, Policies: make([]adminclient.WhatIfPolicy, len(res.Policies)),
		AccessToken: res.AccessToken, IDToken: res.IDToken}
	for i, p := range res.Policies {
		rules := make([]adminclient.WhatIfRule, len(p.Rules))
		for j, r := range p.Rules {
			rules[j] = adminclient.WhatIfRule{Result: r.Result, Error: r.Error}
			if j < len(p.Policy.Rules) {
				pr := p.Policy.Rules[j]
				rules[j].Condition, rules[j].Outcome, rules[j].Message = pr.Condition, pr.Outcome, pr.Message
			}
		}
		out.Policies[i] = adminclient.WhatIfPolicy{PolicyID: p.Policy.ID, Name: p.Policy.Name, Kind: p.Kind,
			Version: p.Policy.Version, Template: p.Template, Params: p.Params, Allow: p.Allow, Rule: p.Rule,
			Message: p.Message, Rules: rules}
	}
	return out
}
