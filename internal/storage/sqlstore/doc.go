// Package sqlstore is the one database/sql backend of Latchkey. It serves
// both SQLite (modernc.org/sqlite, pure Go, driver "sqlite") and PostgreSQL
// (github.com/jackc/pgx/v5/stdlib, driver "pgx") with the same queries: SQL
// is written once in the SQLite dialect with "?" placeholders and a small,
// tested translate function rewrites it for PostgreSQL (placeholders to $n,
// BLOB to BYTEA, the changes sequence, binary collation). The model is Dex's
// storage/sql, except that every statement carries its context.
//
// Durability and concurrency choices:
//
//   - SQLite runs in WAL mode with synchronous=FULL (WAL+NORMAL can lose the
//     last commits on power loss, SECURITY.md reliability invariant 2), a
//     busy timeout, foreign keys on, and every transaction begins IMMEDIATE
//     so read-modify-write updaters serialize instead of failing on lock
//     upgrade.
//   - PostgreSQL updaters read the row with SELECT ... FOR UPDATE; the few
//     serialization failures and deadlocks (40001, 40P01) are retried, as are
//     SQLITE_BUSY errors on SQLite.
//   - Single-use gates (UseJTI, ConsumeInitialAccessToken) are one atomic
//     statement each, never check-then-act (reliability invariant 4).
//   - Every call runs under its caller's context, which carries the
//     request's deadline: waiting for a lock (this process's write queue,
//     another process's SQLite lock, a PostgreSQL row lock) ends with it,
//     a transaction whose context ended before COMMIT is rolled back, and
//     such failures wrap storage.ErrUnavailable (answered 503). A COMMIT
//     already sent is not cancelled, so its outcome is always known.
//   - On SQLite, a process's writes queue on an in-process write lock
//     (writeLock) instead of sleeping in SQLite's busy handler.
//   - Concurrent UseJTI calls are group-committed (batcher): the calls
//     that arrive during one commit share the next one, and all learn
//     their result only after it succeeded; under load a small batch waits
//     up to a millisecond for company. On SQLite a batch is one IMMEDIATE
//     transaction with a statement per key (one fsync for all); on
//     PostgreSQL it is one multi-row INSERT ... ON CONFLICT ... RETURNING
//     (one round trip and one commit instead of one of each per key).
//     Refresh token rotations and authorization code redemptions are
//     group-committed the same way (grantbatch.go): each item of a batch
//     runs exactly the statements it would run alone, in arrival order, in
//     one transaction; an unexpected failure of one item rolls the batch
//     back and every item is retried in a transaction of its own.
//   - Every write of a workspace, service, client or signing key set inserts
//     a row into the changes table in the same transaction. On PostgreSQL
//     that insert takes a transaction-scoped advisory lock first, so change
//     IDs become visible in commit order and a poller reading "ID > last"
//     never skips an event that commits late.
//
// Times are stored as BIGINT UTC Unix milliseconds (0 = the zero time), so
// values read back are UTC and truncated to the millisecond.
package sqlstore
