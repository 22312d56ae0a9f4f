-- Latchkey schema, version 13: device authorization (RFC 8628). One row per
-- device authorization, keyed by the SHA-256 of its device_code; the user
-- code is stored only as the SHA-256 of its normalised form, unique in the
-- workspace so that a user code names one authorization (RFC 8628 §6.1).
-- status moves pending -> approved | denied, approved -> used, each step
-- one conditional UPDATE (reliability invariant 1). interval_ms and
-- last_polled_at are the polling state shared by every process (§3.5
-- slow_down). user_id is NULL until a user decides; rows cascade with their
-- client and user (SECURITY.md O2). DeleteExpiredAuthFlow removes rows an
-- hour past expires_at.

CREATE TABLE device_codes (
    workspace_id   TEXT COLLATE BINARY NOT NULL,
    hash           BLOB NOT NULL,
    user_code_hash BLOB NOT NULL,
    client_id      TEXT COLLATE BINARY NOT NULL,
    status         TEXT NOT NULL,
    interval_ms    BIGINT NOT NULL,
    last_polled_at BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    decided_at     BIGINT NOT NULL,
    used_at        BIGINT NOT NULL,
    user_id        TEXT COLLATE BINARY,
    data           TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    UNIQUE (workspace_id, user_code_hash),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX device_codes_expires ON device_codes (expires_at);
