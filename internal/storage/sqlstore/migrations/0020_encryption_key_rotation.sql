-- Latchkey schema, version 20: rotation of the request object encryption
-- keys (RFC 9101 §6.1; docs/signed-requests.md "Rotating the request
-- object encryption key"). A workspace now has, per algorithm, one
-- active key (published first in the JWKS, the one clients should
-- encrypt to) and any number of previous keys (still published and still
-- decrypting, until an administrator removes them). Version 12's
-- encryption_keys allowed one key per algorithm (PRIMARY KEY
-- (workspace_id, alg)); its rows move to request_object_keys as the
-- active keys and the old table goes.
--
-- The partial unique index keeps exactly one active key per workspace
-- and algorithm, which is what makes the first creation win across
-- processes (INSERT ... ON CONFLICT DO NOTHING) and a rotation atomic.
-- The private key stays encrypted under the master key (AAD
-- "encryption-key" + workspace + kid), never exported.

CREATE TABLE request_object_keys (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kid          TEXT COLLATE BINARY NOT NULL,
    alg          TEXT NOT NULL,
    state        TEXT NOT NULL,
    private_enc  BLOB NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    retired_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, kid)
);

CREATE UNIQUE INDEX request_object_keys_active ON request_object_keys (workspace_id, alg) WHERE state = 'active';

INSERT INTO request_object_keys (workspace_id, kid, alg, state, private_enc, public_jwk, created_at, retired_at)
SELECT workspace_id, kid, alg, 'active', private_enc, public_jwk, created_at, 0 FROM encryption_keys;

DROP TABLE encryption_keys;
