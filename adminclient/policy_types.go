package adminclient

import "time"

// --- policies

// Policy is a named, versioned list of CEL rules of a workspace (see
// README "Policies"). The first rule whose condition is true decides; a
// policy in which no rule matches denies.
type Policy struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Kind        string       `json:"kind"` // user, machine or access
	Rules       []PolicyRule `json:"rules"`
	Version     int          `json:"version"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// PolicyRule is one rule: a CEL bool condition and its outcome (allow or
// deny); Message is shown to the person on deny.
type PolicyRule struct {
	Condition string `json:"condition"`
	Outcome   string `json:"outcome"`
	Message   string `json:"message,omitempty"`
}

// PolicyRequest creates or changes a policy (a change saves a new
// version). ID and Kind are for create only. Template and Params build
// the rules from a built-in template instead of Rules.
type PolicyRequest struct {
	ID          *string           `json:"id,omitempty"`
	Name        *string           `json:"name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Kind        *string           `json:"kind,omitempty"`
	Rules       *[]PolicyRule     `json:"rules,omitempty"`
	Template    *string           `json:"template,omitempty"`
	Params      map[string]string `json:"params,omitempty"`
}

// PolicyRollback names the version whose rules become the next version.
type PolicyRollback struct {
	Version int `json:"version"`
}

// PolicyTemplate is a built-in policy shape.
type PolicyTemplate struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Description string                `json:"description"`
	Params      []PolicyTemplateParam `json:"params"`
}

// PolicyTemplateParam is one parameter of a template (lists are
// comma-separated).
type PolicyTemplateParam struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ClientPolicies are the policies attached to a client ("" for none): the
// user policy (authorization, JWT bearer, refresh; "" falls back to the
// workspace default) and the machine token policy (client_credentials).
type ClientPolicies struct {
	UserPolicyID    string `json:"user_policy_id"`
	MachinePolicyID string `json:"machine_policy_id"`
}

// PolicyRef names an attached policy ("" for none): the workspace's
// default user policy, or a service's access policy.
type PolicyRef struct {
	PolicyID string `json:"policy_id"`
}

// WhatIfRequest asks what the token endpoint would do now if client
// ClientID, for user UserID or alone, asked for Scopes and Resources from
// RemoteIP with GrantType (default authorization_code with a user,
// client_credentials without). Nothing is issued.
type WhatIfRequest struct {
	ClientID  string   `json:"client_id"`
	UserID    string   `json:"user_id,omitempty"`
	GrantType string   `json:"grant_type,omitempty"`
	Scopes    []string `json:"scopes,omitempty"`
	Resources []string `json:"resources,omitempty"`
	RemoteIP  string   `json:"remote_ip,omitempty"`
}

// WhatIfResult is the answer: the policies evaluated in order up to the
// first denial, the decision (Error and ErrorDescription as the endpoint
// would answer) and, when allowed, the claims that would be issued.
type WhatIfResult struct {
	GrantType        string         `json:"grant_type"`
	Allowed          bool           `json:"allowed"`
	Error            string         `json:"error,omitempty"`
	ErrorDescription string         `json:"error_description,omitempty"`
	Policies         []WhatIfPolicy `json:"policies"`
	AccessToken      map[string]any `json:"access_token,omitempty"`
	IDToken          map[string]any `json:"id_token,omitempty"`
}

// WhatIfPolicy is one evaluated policy: how it is attached (user, machine
// or access; pre_authorization for the JWT bearer pre-authorization,
// which is no saved policy: its PolicyID is empty and Template and
// Params say what the client's settings are), its decision, the deciding
// rule (-1 for none) and each rule's result.
type WhatIfPolicy struct {
	PolicyID string            `json:"policy_id"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Version  int               `json:"version"`
	Template string            `json:"template,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	Allow    bool              `json:"allow"`
	Rule     int               `json:"rule"`
	Message  string            `json:"message,omitempty"`
	Rules    []WhatIfRule      `json:"rules"`
}

// WhatIfRule is one rule's result: matched, not_matched, error or
// not_reached (a rule before it decided).
type WhatIfRule struct {
	Condition string `json:"condition"`
	Outcome   string `json:"outcome"`
	Message   string `json:"message,omitempty"`
	Result    string `json:"result"`
	Error     string `json:"error,omitempty"`
}
