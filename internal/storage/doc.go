// Package storage is the persistence contract of Latchkey: plain data
// structs, two sentinel errors and one Storage interface. Backends live in
// sub-packages (storage/sqlstore serves both SQLite and PostgreSQL) and
// storage/conformance holds the one test suite every backend must pass.
//
// Every method takes the workspace (tenant) ID as an explicit argument:
// nothing of one workspace can be read or changed through another.
//
// Times are stored as UTC Unix milliseconds so that both backends compare
// them identically (SECURITY.md reliability invariant 7).
package storage
