-- Latchkey schema, version 11: admin API tokens carry a role and the
-- workspaces it applies to, as console users do (docs/security.md O5), an
-- optional expiry, their last use and who created them. Tokens stored
-- before roles existed keep the power they had: super_admin.
ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'super_admin';
ALTER TABLE admin_tokens ADD COLUMN workspaces TEXT NOT NULL DEFAULT '[]';
ALTER TABLE admin_tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE admin_tokens ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE admin_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
