// Package conformance is the one test suite every storage.Storage backend
// must pass (the model is Dex's storage/conformance). A backend's test file
// calls RunTests, RunTenantIsolationTests and RunConcurrencyTests with a
// constructor that returns a fresh, empty, migrated store per call.
//
//   - RunTests: CRUD of every entity, uniqueness rules, pagination,
//     updater semantics, single-use gates, revocation, signing key sets,
//     the changes feed, DeleteExpired, and UTC time round trips.
//   - RunTenantIsolationTests: nothing written in workspace A can be read,
//     listed, updated, deleted or spent through workspace B (SECURITY.md J3,
//     O1), and deleting A leaves B intact.
//   - RunConcurrencyTests: the atomicity guarantees of the Storage contract
//     under parallel callers (SECURITY.md B7, reliability invariants 1, 4
//     and 5).
//
// Stores may truncate times to the millisecond and must return them in UTC.
package conformance
