-- Latchkey schema, version 3: the web console (issue 4). Admin users,
-- their sessions and one-time codes, the audit log and the mail outbox.
-- None of these belong to a workspace's cascade: audit events must outlive
-- what they describe.

CREATE TABLE admin_users (
    id            TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
    username      TEXT COLLATE BINARY NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    workspaces    TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Sessions are keyed by the SHA-256 of the cookie value.
CREATE TABLE console_sessions (
    id_hash       BLOB NOT NULL PRIMARY KEY,
    admin_user_id TEXT COLLATE BINARY NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    csrf_secret   BLOB NOT NULL
);

CREATE INDEX console_sessions_user ON console_sessions (admin_user_id);

CREATE TABLE one_time_codes (
    admin_user_id TEXT COLLATE BINARY NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    workspace_id  TEXT COLLATE BINARY NOT NULL,
    client_id     TEXT COLLATE BINARY NOT NULL,
    code_hash     BLOB NOT NULL,
    expires_at    BIGINT NOT NULL,
    tries_left    INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (admin_user_id, workspace_id, client_id)
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    workspace_id TEXT COLLATE BINARY NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT COLLATE BINARY NOT NULL,
    details      TEXT NOT NULL
);

CREATE INDEX audit_events_workspace ON audit_events (workspace_id, id);

CREATE INDEX audit_events_target ON audit_events (workspace_id, target_type, target_id, id);

CREATE TABLE mail_outbox (
    id         TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT NOT NULL,
    error      TEXT NOT NULL
);

CREATE INDEX mail_outbox_created ON mail_outbox (created_at);
