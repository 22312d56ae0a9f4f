-- Latchkey schema, version 1. Written in the SQLite dialect and translated
-- for PostgreSQL (see flavor.go). Times are UTC Unix milliseconds; 0 means
-- "not set". Every table of a workspace cascades from workspaces(id).

CREATE TABLE workspaces (
    id         TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    settings   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE services (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, identifier)
);

-- Scope names are unique across all services of a workspace.
CREATE TABLE scopes (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    service_id   TEXT COLLATE BINARY NOT NULL,
    name         TEXT COLLATE BINARY NOT NULL,
    description  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, name),
    FOREIGN KEY (workspace_id, service_id) REFERENCES services (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX scopes_service ON scopes (workspace_id, service_id);

-- The indexed columns of a client; everything else is the JSON document in
-- data, so later features add fields without a migration.
CREATE TABLE clients (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    name         TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE signing_keys (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kid          TEXT COLLATE BINARY NOT NULL,
    alg          TEXT NOT NULL,
    state        TEXT NOT NULL,
    private_enc  BLOB NOT NULL,
    public_jwk   BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    activated_at BIGINT NOT NULL,
    retired_at   BIGINT NOT NULL,
    retire_until BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, kid)
);

-- Single-use JWT IDs (RFC 7523 §3 item 7, SECURITY.md B7/B8).
CREATE TABLE jti_replay (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    namespace    TEXT COLLATE BINARY NOT NULL,
    issuer       TEXT COLLATE BINARY NOT NULL,
    jti          TEXT COLLATE BINARY NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, namespace, issuer, jti)
);

CREATE INDEX jti_replay_expires ON jti_replay (expires_at);

CREATE TABLE revoked_tokens (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    jti          TEXT COLLATE BINARY NOT NULL,
    client_id    TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, jti)
);

CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);

-- RFC 7591 §3 initial access tokens; only a hash of the bearer value.
CREATE TABLE initial_access_tokens (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    hash         BLOB NOT NULL,
    description  TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    uses_left    INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, hash)
);

CREATE TABLE admin_tokens (
    id         TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Cache-invalidation feed. No foreign key: the event of a workspace's
-- deletion must outlive the workspace.
CREATE TABLE changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    kind         TEXT NOT NULL,
    item_key     TEXT NOT NULL,
    at           BIGINT NOT NULL
);

CREATE INDEX changes_at ON changes (at);
