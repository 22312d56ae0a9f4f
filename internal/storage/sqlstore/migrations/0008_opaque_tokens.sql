-- Latchkey schema, version 8: opaque (reference) access tokens. Only the
-- SHA-256 of a token's value is stored (docs/security.md G8), with the
-- claims a JWT access token would carry, as one JSON document. Revoking a
-- token deletes its row; DeleteExpired removes rows past expires_at.

CREATE TABLE opaque_tokens (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    hash         BLOB NOT NULL,
    client_id    TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    claims       TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash)
);

CREATE INDEX opaque_tokens_expires ON opaque_tokens (expires_at);
