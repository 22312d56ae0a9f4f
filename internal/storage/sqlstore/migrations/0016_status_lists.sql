-- Latchkey schema, version 16: token status lists (IETF
-- draft-ietf-oauth-status-list §4, §6). Each JWT access token carries the
-- index of its bit in the workspace's status lists; indexes are global per
-- workspace (list = index / list size).
--
-- status_list_alloc holds the next unreserved index of each workspace.
-- Processes reserve indexes in blocks with one upsert ... RETURNING, so
-- issuing a token writes nothing: at most one write per reserved block,
-- and no two processes ever get the same index.
--
-- status_list_revoked holds the indexes revoked directly (RFC 7009
-- revocation of a JWT access token); inserting an index twice changes
-- nothing. status_list_families ties the index of an access token issued
-- from a refresh-token family to that family (and to the family it was
-- exchanged from, RFC 8693), so that revoking (or deleting) either sets
-- the bits of every access token issued from it without touching this
-- table. A tie to a family that does not exist
-- counts as revoked once recorded_at is a minute old (the token endpoint
-- records the tie just before it writes a new family; a family deleted
-- later, with its user, ends its tokens). Rows cascade with their
-- workspace; expires_at (the token's exp) is kept for clean-up.

CREATE TABLE status_list_alloc (
    workspace_id TEXT COLLATE BINARY NOT NULL PRIMARY KEY,
    next_index   BIGINT NOT NULL,
    FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE
);

CREATE TABLE status_list_revoked (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    idx          BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, idx),
    FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE
);

CREATE TABLE status_list_families (
    workspace_id TEXT COLLATE BINARY NOT NULL,
    idx          BIGINT NOT NULL,
    family_id    TEXT COLLATE BINARY NOT NULL,
    recorded_at  BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, idx, family_id),
    FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE
);

CREATE INDEX status_list_families_family ON status_list_families (workspace_id, family_id);
