package storage

import (
	"context"
	"time"
)

// Policies holds the CEL policies of workspaces and every saved version of
// each (package policy evaluates them).
type Policies interface {
	// CreatePolicy inserts p as version 1 (p.Version is ignored) and
	// records the first entry of its history. A duplicate ID is
	// ErrAlreadyExists.
	CreatePolicy(ctx context.Context, p Policy) error
	GetPolicy(ctx context.Context, workspaceID, id string) (Policy, error)
	ListPolicies(ctx context.Context, workspaceID string, opts ListOptions) (Page[Policy], error)
	// UpdatePolicy passes the current policy to updater and saves what it
	// returns as the next version (Version+1), keeping the previous ones.
	UpdatePolicy(ctx context.Context, workspaceID, id string, updater func(Policy) (Policy, error)) (Policy, error)
	// DeletePolicy removes the policy and its history.
	DeletePolicy(ctx context.Context, workspaceID, id string) error
	// ListPolicyVersions returns every saved version, newest first.
	ListPolicyVersions(ctx context.Context, workspaceID, id string) ([]Policy, error)
	// GetPolicyVersion returns one saved version (ErrNotFound if none).
	GetPolicyVersion(ctx context.Context, workspaceID, id string, version int) (Policy, error)
}

// Policy kinds: where a policy may be attached.
const (
	PolicyKindUser    = "user"    // who may use a client (authorize, JWT bearer, refresh)
	PolicyKindMachine = "machine" // what client_credentials may get
	PolicyKindAccess  = "access"  // who may have a service's scopes
)

// Policy rule outcomes.
const (
	PolicyAllow = "allow"
	PolicyDeny  = "deny"
)

// Policy is a named, versioned list of CEL rules of a workspace.
type Policy struct {
	WorkspaceID string
	ID          string
	Name        string
	Description string
	Kind        string
	Rules       []PolicyRule
	// Version counts saves from 1; a history row keeps every version.
	Version   int
	CreatedAt time.Time
	// UpdatedAt is when this version was saved.
	UpdatedAt time.Time
}

// PolicyRule is one rule: when Condition (a CEL bool expression) is true,
// Outcome decides; Message is shown to the person on deny.
type PolicyRule struct {
	Condition string `json:"condition"`
	Outcome   string `json:"outcome"`
	Message   string `json:"message,omitempty"`
}

// ChangePolicy is the change kind of a policy (Key = policy ID).
const ChangePolicy = "policy"
