package declarative

import (
	"slices"
)

// secretKey is the client member that carries a secret reference. It is
// only ever read from a file, never exported.
const secretKey = "client_secret"

// responseOnly are members that only a response carries: times, warnings,
// the dynamic registration mark and the secret of a create answer. They
// are left out of the document and ignored in a file. Kinds add their own
// (kind.drop), as the workspace does.
var responseOnly = []string{"created_at", "updated_at", "warnings", "dynamic", secretKey}

// workspaceDrop are the workspace's response-only members: its issuer URL
// is derived from the server's base URL.
var workspaceDrop = []string{"issuer"}

// kind is one collection of a workspace: its document member, its admin
// API path (below /workspaces/{ws}/) and the member that names a
// resource.
type kind struct {
	key     string
	path    string
	idField string
	subs    []sub
	drop    []string // response-only members of this kind
	// createOnly are request members that only shape a new resource (a
	// policy built from a template); an existing resource ignores them.
	createOnly []string
}

// responseOnly reports a member of a resource of k that only a response
// carries.
func (k *kind) responseOnly(member string) bool {
	return slices.Contains(responseOnly, member) || slices.Contains(k.drop, member)
}

// sub is a part of a resource the admin API serves at its own route
// (GET and PUT {resource}/{path}): a client's JWT bearer settings,
// policies and claim mappings, a service's claim mappings and access
// policy. wrap names the single member the route's JSON wraps the value
// in ("" when the value is the whole body). empty reports a value that
// export leaves out because it is what a new resource has.
type sub struct {
	key   string
	path  string
	wrap  string
	empty func(v any, parent Object) bool
}

const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

func emptyList(v any, _ Object) bool {
	l, ok := v.([]any)
	return ok && len(l) == 0
}

func emptyString(v any, _ Object) bool { return v == "" }

// allZero reports an object sub-resource whose members are all empty.
func allZero(v any, _ Object) bool {
	m, ok := v.(Object)
	if !ok {
		return false
	}
	for _, e := range m {
		if !isZero(e) {
			return false
		}
	}
	return true
}

// kinds in the order apply creates and updates them: what a resource
// refers to exists before it. Trusted issuers name clients, and clients'
// JWT bearer settings name trusted issuers, so clients are created before
// trusted issuers and their sub-resources are set after them (see Apply).
var (
	policiesKind = &kind{key: "policies", path: "policies", idField: "id", drop: []string{"version"},
		createOnly: []string{"template", "params"}}
	profilesKind = &kind{key: "profiles", path: "profiles", idField: "id"}
	usersKind    = &kind{key: "users", path: "users", idField: "id"}
	servicesKind = &kind{key: "services", path: "services", idField: "id", subs: []sub{
		{key: "claims", path: "claims", wrap: "claims", empty: emptyList},
		{key: "access_policy", path: "access-policy", wrap: "policy_id", empty: emptyString},
	}}
	issuersKind = &kind{key: "trusted_issuers", path: "trusted-issuers", idField: "id"}
	// pre_authorization_policy is the read-only rendering of a client's
	// JWT bearer pre-authorization (settings export keeps).
	clientsKind = &kind{key: "clients", path: "clients", idField: "client_id", drop: []string{"pre_authorization_policy"}, subs: []sub{
		{key: "jwt_bearer", path: "jwt-bearer", empty: func(v any, c Object) bool {
			m, _ := v.(Object)
			grants, _ := c["grant_types"].([]any)
			return !slices.Contains(grants, any(jwtBearerGrant)) && (m == nil || m["service_user_id"] == "")
		}},
		{key: "policies", path: "policies", empty: func(v any, _ Object) bool {
			m, _ := v.(Object)
			return m != nil && m["user_policy_id"] == "" && m["machine_policy_id"] == ""
		}},
		{key: "claims", path: "claims", wrap: "claims", empty: emptyList},
		{key: "token_exchange", path: "token-exchange", empty: allZero},
	}}
	kinds = []*kind{policiesKind, profilesKind, usersKind, servicesKind, issuersKind, clientsKind}
)

// certificatesKey is the client member listing its X.509 certificates
// ({kid, certificate} with the certificate in PEM).
const certificatesKey = "certificates"

// subKeys are the members of a resource that are not part of its own
// JSON but of its sub-resources.
func (k *kind) subKeys() []string {
	out := []string{secretKey}
	for _, s := range k.subs {
		out = append(out, s.key)
	}
	if k == clientsKind {
		out = append(out, certificatesKey)
	}
	return out
}

// defaultPolicyKey is the workspace member naming its default user policy.
const defaultPolicyKey = "default_user_policy"

// IsClientResponseOnly reports a member of a client (or of its
// sub-resources) that export leaves out because only a response carries
// it.
func IsClientResponseOnly(member string) bool { return clientsKind.responseOnly(member) }
