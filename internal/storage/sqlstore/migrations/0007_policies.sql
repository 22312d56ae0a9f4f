-- Latchkey schema, version 7: CEL policies (package policy). policies
-- holds the current version of each policy; policy_versions every saved
-- version, the current one included, for history and rollback. Rules are
-- a JSON array of {condition, outcome, message}.

CREATE TABLE policies (
    workspace_id TEXT COLLATE BINARY NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           TEXT COLLATE BINARY NOT NULL,
    name         TEXT COLLATE BINARY NOT NULL,
    description  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    rules        TEXT NOT NULL,
    version      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE policy_versions (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    policy_id    TEXT COLLATE BINARY NOT NULL,
    version      BIGINT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    rules        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    saved_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, policy_id, version),
    FOREIGN KEY (workspace_id, policy_id) REFERENCES policies (workspace_id, id) ON DELETE CASCADE
);

-- A service's access policy: may this client or user have the service's
-- scopes ('' = none).
ALTER TABLE services ADD COLUMN access_policy_id TEXT NOT NULL DEFAULT '';
