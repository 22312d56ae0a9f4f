// Package service is Latchkey's one service layer: validation and business
// rules for workspaces, services (resource servers) and their scopes,
// clients, signing keys and initial access tokens.
//
// The admin REST API (package adminapi), dynamic client registration
// (package dcr) and, through the admin API, the CLI all call this package,
// so every rule is written once. Inputs are typed; a rejected input returns
// a *ValidationError listing every problem at once, each naming the field
// and the rule it broke (for example
// "redirect_uris[1]: must use https (or http on a loopback address)").
// Missing objects return errors matching ErrNotFound and uniqueness
// conflicts errors matching ErrConflict; callers map them to 404 and 409.
//
// Every lookup is scoped by workspace ID, so an object of one workspace is
// never visible through another (SECURITY.md J3, O1).
//
// Claim mappings (extra token claims computed by CEL, package policy) are
// read and replaced whole with GetClientClaims / SetClientClaims and
// GetServiceClaims / SetServiceClaims: a refused list (reserved name,
// expression that does not type-check, with its line and column, oversized
// constant) is a *ValidationError naming claims[i] and saves nothing; every
// change is audited (client.claims, service.claims) with the new list.
package service
