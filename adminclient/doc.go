// Package adminclient is the contract of Latchkey's admin REST API
// (/admin/v1) and a small Go client for it.
//
// The request and response types here are the ones the server encodes and
// decodes, and the ones the "latchkey admin" CLI uses, so a Go program
// scripts Latchkey exactly the way the CLI does. The OpenAPI document the
// server publishes at /admin/v1/openapi.json describes the same types; a
// test of the server fails when the two disagree.
//
// Conventions of the API, reflected in the types:
//
//   - Durations are whole seconds (int64).
//   - Create and update requests use pointer fields: in an update (PATCH)
//     only the fields that are set change, so a nil field keeps the stored
//     value. Use [Ptr] to set one.
//   - Secrets (client secrets, initial access tokens) appear only in the
//     response that creates or rotates them.
//   - Every error is an [*APIError] carrying the HTTP status, the error code
//     ("invalid_request", "not_found", ...) and, for validation failures,
//     one [FieldError] per problem.
//
// Everything in a workspace is reached through the workspace ID:
//
//	c := adminclient.New("https://auth.example.com", os.Getenv("LATCHKEY_ADMIN_TOKEN"))
//	svc, err := c.Services("default").Create(ctx, adminclient.ServiceRequest{
//		Name:       adminclient.Ptr("Orders API"),
//		Identifier: adminclient.Ptr("https://api.example.com/orders"),
//		Scopes:     &[]adminclient.Scope{{Name: "orders:read"}},
//	})
package adminclient
