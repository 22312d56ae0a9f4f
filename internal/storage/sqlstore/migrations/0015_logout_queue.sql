-- Latchkey schema, version 15: back-channel logout delivery queue
-- (OpenID Connect Back-Channel Logout 1.0 §2.5, §2.7). One row per ended
-- browser session and client that was issued tokens in it, written in the
-- transaction that deletes the session; UNIQUE (workspace_id, session_id,
-- client_id) makes a second ending of the same session queue nothing. A
-- row is due when next_attempt_at has passed: claiming it is one
-- conditional UPDATE that moves next_attempt_at to the end of a lease and
-- sets claim, so one process delivers it while others skip it, and a
-- process that dies mid-delivery only delays it. Delivered and abandoned
-- rows are deleted. user_id has no foreign key: a message outlives its
-- user (the logout token then carries sid alone). Rows cascade with their
-- client.

CREATE TABLE logout_queue (
    workspace_id    TEXT COLLATE BINARY NOT NULL,
    id              TEXT COLLATE BINARY NOT NULL,
    client_id       TEXT COLLATE BINARY NOT NULL,
    user_id         TEXT COLLATE BINARY NOT NULL,
    session_id      TEXT COLLATE BINARY NOT NULL,
    attempts        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claim           TEXT COLLATE BINARY NOT NULL,
    last_error      TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, session_id, client_id),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX logout_queue_due ON logout_queue (next_attempt_at);
