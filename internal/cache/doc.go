// Package cache wraps a storage.Storage with an in-memory read cache for the
// lookups on every token request: GetWorkspace, GetClient and ListScopes,
// and the directory and policy lookups of the other grants.
//
// Consistency model:
//
//   - Only positive results are cached, so unknown IDs (client enumeration,
//     SECURITY.md D2) cannot grow the cache.
//   - Every write through the wrapper invalidates the affected entries at
//     once, in this process.
//   - Writes by other processes sharing the database are seen through the
//     storage changes feed: Run polls Changes every PollInterval (default
//     500ms) and drops what changed, so a disabled client or workspace stops
//     being served from cache within one interval (reliability invariant 6).
//   - A generation counter makes a read that raced with an invalidation
//     leave nothing stale behind: a value read from the database is stored
//     only if no invalidation happened since the read began.
//   - When a poll fails, the cache is flushed and bypassed until a poll
//     succeeds again, so an unreachable changes feed never prolongs stale
//     data.
//   - Callers get copies: mutating a returned value never changes the cache.
//   - Each kind of entry is bounded (Options.MaxEntries, config
//     cache.max_entries, default 10,000) with CLOCK eviction (bounded.go):
//     a workspace of 100,000 clients drawn at random keeps the busiest in
//     memory and reads the rest, so memory stays flat (docs/benchmarks.md,
//     "Scale"). Eviction only forgets; an evicted entry is read fresh on
//     its next use, so it cannot be stale.
//
// Revocation marks and single-use records are never cached: they pass
// straight through to the database.
package cache
