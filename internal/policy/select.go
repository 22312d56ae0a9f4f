package policy

import "github.com/latchkey/latchkey/internal/storage"

// Applicable returns the IDs of the attached policies of kind that apply
// to a request of client c in workspace ws, in the order to check them.
// It is the one selection the authorization endpoint, the token endpoint
// and the what-if tool share:
//
//   - storage.PolicyKindUser: the client's user policy, or else the
//     workspace's default user policy (at most one);
//   - storage.PolicyKindMachine: the client's machine token policy (at
//     most one);
//   - storage.PolicyKindAccess: the access policies of the services
//     defining the scopes, in scope order without repeats (refs is the
//     workspace's scope catalog; see AccessPolicies).
//
// refs and scopes are read only for access policies. An unknown kind
// selects nothing.
func Applicable(kind string, ws storage.Workspace, c storage.Client, refs []storage.ScopeRef, scopes []string) []string {
	if kind == storage.PolicyKindAccess {
		return AccessPolicies(refs, scopes)
	}
	if id := Attached(kind, ws, c); id != "" {
		return []string{id}
	}
	return nil
}

// Attached is Applicable for the kinds of which at most one applies
// (user and machine): its ID, or "" for none, without a slice to
// allocate on the token endpoint's hot path.
func Attached(kind string, ws storage.Workspace, c storage.Client) string {
	switch kind {
	case storage.PolicyKindUser:
		if c.UserPolicyID != "" {
			return c.UserPolicyID
		}
		return ws.Settings.DefaultUserPolicyID
	case storage.PolicyKindMachine:
		return c.MachinePolicyID
	}
	return ""
}
