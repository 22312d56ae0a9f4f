-- Latchkey schema, version 6: registration policies of initial access
-- tokens (RFC 7591 §3). The policy is a JSON document; "{}" is the narrow
-- default policy (client_credentials or authorization_code, no grant that
-- issues tokens for users), which existing tokens get.
--
-- The same migration changes the default of the JWT bearer grant's
-- pre-authorization to "admin approved, nobody approved" (docs/security.md
-- R1). That step rewrites client JSON documents, which SQLite and
-- PostgreSQL cannot do with the same SQL, so it runs as Go code after
-- these statements, in the same transaction (jwtbearer_migration.go).

ALTER TABLE initial_access_tokens ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
