-- Latchkey schema, version 5: one-time codes for admin API callers (issue 4).
-- "View secret" is possible from the console, the admin API and the CLI
-- alike, so a code may belong to an admin API token ("api:..." holder)
-- as well as to a console admin user: the holder column no longer
-- references admin_users. Codes live ten minutes, so the old rows are
-- simply dropped; DeleteAdminUser now deletes a user's codes itself.

DROP TABLE one_time_codes;

CREATE TABLE one_time_codes (
    admin_user_id TEXT COLLATE BINARY NOT NULL,
    workspace_id  TEXT COLLATE BINARY NOT NULL,
    client_id     TEXT COLLATE BINARY NOT NULL,
    code_hash     BLOB NOT NULL,
    expires_at    BIGINT NOT NULL,
    tries_left    INTEGER NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (admin_user_id, workspace_id, client_id)
);
