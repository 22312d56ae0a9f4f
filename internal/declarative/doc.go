// Package declarative is configuration as code: a workspace (or every
// workspace) as one versioned YAML document, read from a server
// (Export) and made true on a server (Apply), with the differences
// computed first (Plan) so that a dry run can print them.
//
// The document is built from the admin API's own JSON representations
// (package adminclient): each resource is the object the API answers for
// it, without the members only a response carries (times, warnings,
// versions), and every change is made through the same API routes the
// console and the CLI use. A field another feature adds to a resource's
// JSON therefore flows into export and apply without this package naming
// it.
//
// Secrets are never exported. A client secret is given by reference:
// env:NAME or file:PATH, which ResolveSecrets turns into value:TEXT on the
// machine that reads the file, so the server never reads its own
// environment or files on an API caller's behalf.
//
// The package talks to a server through Target; package adminapi
// implements it in process, so that one apply can first run against a
// scratch copy of the workspace (validation of every resource by the
// service layer, nothing written to the real database) and then against
// the real one.
package declarative
