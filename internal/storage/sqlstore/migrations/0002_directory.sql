-- Latchkey schema, version 2: the directory behind the JWT bearer grant
-- (users, profiles, client certificates, trusted external issuers).
-- Unique columns that may be empty are stored as NULL when empty, so that
-- only real values collide (NULLs are distinct in SQLite and PostgreSQL).

CREATE TABLE users (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    username     TEXT COLLATE BINARY NOT NULL,
    email_norm   TEXT COLLATE BINARY,
    external_id  TEXT COLLATE BINARY,
    active       BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, username),
    UNIQUE (workspace_id, email_norm),
    UNIQUE (workspace_id, external_id)
);

CREATE TABLE profiles (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    name         TEXT COLLATE BINARY NOT NULL,
    description  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, name)
);

CREATE TABLE client_certificates (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    client_id    TEXT COLLATE BINARY NOT NULL,
    kid          TEXT COLLATE BINARY NOT NULL,
    der          BLOB NOT NULL,
    subject      TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    serial       TEXT NOT NULL,
    not_before   BIGINT NOT NULL,
    not_after    BIGINT NOT NULL,
    thumbprint   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, client_id, kid),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE trusted_issuers (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    name         TEXT NOT NULL,
    issuer       TEXT COLLATE BINARY NOT NULL,
    enabled      BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, issuer)
);
