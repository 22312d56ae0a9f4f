-- Latchkey schema, version 14: audit log queries.
-- The admin API and CLI filter a workspace's audit log by action, actor
-- and time range and page it newest first by id. These indexes keep those
-- filters from scanning the workspace's whole log.

CREATE INDEX audit_events_action ON audit_events (workspace_id, action, id);

CREATE INDEX audit_events_actor ON audit_events (workspace_id, actor_id, id);

CREATE INDEX audit_events_at ON audit_events (workspace_id, at);
