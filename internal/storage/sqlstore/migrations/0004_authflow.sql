-- Latchkey schema, version 4: the authorization code flow (issue 5).
-- Passwords, set-password links, browser sessions, pending authorization
-- requests, authorization codes, refresh-token families and their tokens,
-- consents and sign-in attempt counters. Bearer values are stored only as
-- SHA-256 hashes. Rows that belong to a user or a client cascade with it,
-- so a re-created user or client inherits nothing (SECURITY.md O2).

CREATE TABLE user_passwords (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    user_id      TEXT COLLATE BINARY NOT NULL,
    hash         TEXT NOT NULL,
    changed_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE password_tokens (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    hash         BLOB NOT NULL,
    user_id      TEXT COLLATE BINARY NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE browser_sessions (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    id           TEXT COLLATE BINARY NOT NULL,
    id_hash      BLOB NOT NULL,
    user_id      TEXT COLLATE BINARY NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, id_hash),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX browser_sessions_user ON browser_sessions (workspace_id, user_id);

CREATE TABLE auth_requests (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    id           TEXT COLLATE BINARY NOT NULL,
    client_id    TEXT COLLATE BINARY NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE token_families (
    workspace_id     TEXT COLLATE BINARY NOT NULL,
    id               TEXT COLLATE BINARY NOT NULL,
    client_id        TEXT COLLATE BINARY NOT NULL,
    user_id          TEXT COLLATE BINARY NOT NULL,
    generation       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    rotated_at       BIGINT NOT NULL,
    last_used_at     BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    idle_ttl_ms      BIGINT NOT NULL,
    revoked_at       BIGINT NOT NULL,
    successor_sealed BLOB,
    data             TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX token_families_user ON token_families (workspace_id, user_id, client_id);

-- Every refresh token ever issued in a family, with its generation, so
-- that a replay of any older generation is recognised as reuse (H1).
CREATE TABLE refresh_tokens (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    hash         BLOB NOT NULL,
    family_id    TEXT COLLATE BINARY NOT NULL,
    generation   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    FOREIGN KEY (workspace_id, family_id) REFERENCES token_families (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (workspace_id, family_id);

CREATE TABLE auth_codes (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    hash         BLOB NOT NULL,
    family_id    TEXT COLLATE BINARY NOT NULL,
    client_id    TEXT COLLATE BINARY NOT NULL,
    user_id      TEXT COLLATE BINARY NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE consents (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    user_id      TEXT COLLATE BINARY NOT NULL,
    client_id    TEXT COLLATE BINARY NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id, client_id),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE login_counters (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    counter_key  TEXT COLLATE BINARY NOT NULL,
    attempts     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    next_allowed BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, counter_key)
);

CREATE TABLE pairwise_salts (
    workspace_id TEXT COLLATE BINARY NOT NULL PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    salt         BLOB NOT NULL
);
