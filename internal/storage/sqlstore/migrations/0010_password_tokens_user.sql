-- Latchkey schema, version 10: set-password links are replaced per user
-- (SECURITY.md X11), so a user's links are found by index.
CREATE INDEX password_tokens_user ON password_tokens (workspace_id, user_id);
