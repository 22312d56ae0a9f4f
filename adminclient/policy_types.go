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
