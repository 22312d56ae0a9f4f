-- Latchkey schema, version 12: pushed authorization requests (RFC 9126)
-- and request object encryption keys (RFC 9101 §6.1, at the end).
-- A pushed request is kept until it is used once at the authorization
-- endpoint (deleted by that use) or expires (at most 600 s; DeleteExpired
-- removes it). Only the SHA-256 of the request_uri's random part is
-- stored (docs/security.md G8). Rows cascade with their client, so a
-- re-created client inherits nothing (SECURITY.md O2).

CREATE TABLE pushed_requests (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    hash         BLOB NOT NULL,
    client_id    TEXT COLLATE BINARY NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    params       TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX pushed_requests_expires ON pushed_requests (expires_at);

-- The workspace's key for encrypted request objects (RFC 9101 §6.1),
-- published in its JWKS with "use": "enc"; one per workspace and
-- algorithm, created once (INSERT ... ON CONFLICT DO NOTHING, so that
-- concurrent processes agree on one). The private key is encrypted under
-- the master key like signing keys; cascades with the workspace.
CREATE TABLE encryption_keys (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    alg          TEXT NOT NULL,
    kid          TEXT NOT NULL,
    private_enc  BLOB NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, alg)
);
