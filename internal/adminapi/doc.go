// Package adminapi is Latchkey's admin REST API under /admin/v1: JSON CRUD
// for workspaces, services, clients, signing keys and initial access
// tokens, all through package service, plus the OpenAPI 3.0 document that
// describes it (GET /admin/v1/openapi.json, served without auth).
//
// Every other route requires "Authorization: Bearer <admin token>", checked
// by an Authorizer (Auth compares against a configured token in constant
// time, or looks the token's SHA-256 up in storage).
//
// Request hygiene (SECURITY.md M5): bodies are capped at 1 MiB (413),
// nesting depth at 32, unknown fields are rejected and list fields are
// capped by the service layer. List pagination tokens are sealed with the
// master keyring (AES-GCM), bound to the list and query they came from, so
// a tampered token is a 400 and never reaches a query (SECURITY.md M8).
// Objects of another workspace answer 404, like missing ones (O1).
//
// The JSON documents are the types of the public package adminclient,
// shared with the CLI and Go users; TestOpenAPIMatchesTypes holds them and
// openapi.yaml to one contract.
package adminapi
