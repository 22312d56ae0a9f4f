// Package policy compiles and evaluates access policies written in CEL
// (github.com/google/cel-go).
//
// A policy is an ordered list of rules, each a boolean condition and an
// outcome (allow or deny with a message). The first rule whose condition is
// true decides. A policy in which no rule matches denies: the way to allow
// by default is an explicit final rule with condition "true" and outcome
// allow, which is how every built-in template ends.
//
// Conditions see four variables, always bound as data and never spliced
// into expression source (docs/security.md Z1):
//
//	user      id, username, email, profiles (list of profile IDs),
//	          attributes (map of strings), active, service_user,
//	          authentication.methods (amr-like list) and
//	          authentication.time (timestamp; see Authentication for where
//	          a sign-in session exists); every field is empty when no
//	          user takes part (client_credentials)
//	client    id, type, application_type (web, native, spa, service;
//	          inferred for clients stored without one), metadata (map of
//	          strings), grant_types
//	request   grant_type, scopes, resources (RFC 8707, also at the
//	          authorization endpoint), audience, remote_ip, time
//	          (timestamp), auth_method, claims (validated assertion claims)
//	workspace id
//
// Applicable is the one selection of the policies that apply to a
// request (a client's user policy or the workspace default, its machine
// token policy, the access policies of the requested scopes' services),
// shared by the authorization and token endpoints.
//
// and one helper besides the CEL standard library: ip_in(ip, cidrs) is true
// when ip (a string) lies in one of the CIDR ranges of the list.
//
// Expressions are type-checked when a policy is saved (Compile returns a
// *CompileError with the rule index, line and column) and must be of type
// bool (Z7). Parsing is bounded in size and depth (Z3), evaluation by a cost
// limit and a deadline (Z2, Z4), or, where the cost estimate proves the
// limit cannot be reached for the request's input sizes, by that proof
// alone, without the run-time tracker and the timer (costbound.go). An
// error while evaluating any rule reached before a decision denies (fails
// closed, Z8): CEL's && and || absorb an error only when the other side
// alone decides the result. Programs have no
// functions with side effects: only the declared variables and helpers
// exist, so any other reference is refused at save (Z9).
//
// A client's JWT bearer pre-authorization (storage.JWTBearerSettings) is
// the "profiles" template with parameters: PreAuthorizationOf renders
// it, and PreAuthEngine compiles it once per client version and decides
// with it, for the JWT bearer grant, the refresh of its families and the
// what-if tool. Those rules are Latchkey's own rendering of validated
// settings, so they compile without the save path's size and cost
// bounds (Z3), keeping the deadline and fail-closed evaluation.
//
// Claim mappings use the same environment and compile path (compileExpr)
// for extra token claims: each a name, an expression of any type whose
// value must be JSON, and targets (access_token, id_token, userinfo,
// introspection). CompileClaims is the save-time check (reserved names,
// position errors, constants over MaxClaimsSize; Z5, Z6); ClaimEngine.Claims
// is the one evaluation used by the token endpoint, UserInfo and the
// what-if tool, caching programs per client or service version and failing
// closed on any error or oversized result.
package policy
