-- Latchkey schema, version 17: backchannel authentication requests
-- (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0).
-- One row per authentication request, keyed by the SHA-256 of its
-- auth_req_id (§7.3); the emailed one-time approval link is stored only as
-- the SHA-256 of its token, unique in the workspace. The user is known
-- when the request is made (login_hint or id_token_hint, §7.1), so user_id
-- is set from the start. status moves pending -> approved | denied,
-- approved -> used, each step one conditional UPDATE (reliability
-- invariant 1), with the device authorization grant's state names;
-- link_used_at is set once by the conditional UPDATE that spends the
-- emailed link. interval_ms and last_polled_at are the polling state
-- shared by every process (§7.3 interval, §11 slow_down). Rows cascade
-- with their client and user (SECURITY.md O2); DeleteExpiredAuthFlow
-- removes rows an hour past expires_at.

CREATE TABLE ciba_requests (
    workspace_id   TEXT COLLATE BINARY NOT NULL,
    hash           BLOB NOT NULL,
    link_hash      BLOB NOT NULL,
    client_id      TEXT COLLATE BINARY NOT NULL,
    user_id        TEXT COLLATE BINARY NOT NULL,
    status         TEXT NOT NULL,
    interval_ms    BIGINT NOT NULL,
    last_polled_at BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    decided_at     BIGINT NOT NULL,
    used_at        BIGINT NOT NULL,
    link_used_at   BIGINT NOT NULL,
    data           TEXT NOT NULL,
    PRIMARY KEY (workspace_id, hash),
    UNIQUE (workspace_id, link_hash),
    FOREIGN KEY (workspace_id, client_id) REFERENCES clients (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE INDEX ciba_requests_user ON ciba_requests (workspace_id, user_id, status);
CREATE INDEX ciba_requests_expires ON ciba_requests (expires_at);
