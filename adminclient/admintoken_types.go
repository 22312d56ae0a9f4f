package adminclient

import "time"

// AdminToken is a scoped admin API credential. The token value is only in
// the create response.
type AdminToken struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Role is super_admin, workspace_admin or workspace_viewer, with the
	// same powers as the console's roles.
	Role string `json:"role"`
	// Workspaces are those a workspace role applies to (empty for
	// super_admin).
	Workspaces []string   `json:"workspaces"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	// LastUsedAt is updated at most once a minute.
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	// Token is the bearer value (lka_...), present only in the create
	// response.
	Token string `json:"token,omitempty"`
}

// AdminTokenCreate creates an admin token; Name and Role are required,
// Workspaces for the two workspace roles.
type AdminTokenCreate struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Workspaces []string `json:"workspaces,omitempty"`
	// ExpiresIn is the lifetime in seconds; 0 never expires.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}
