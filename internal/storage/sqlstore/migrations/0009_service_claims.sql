-- Latchkey schema, version 9: claim mappings of services (package
-- policy), a JSON array of {name, expression, targets} kept with the
-- service so that ListScopes, which the token endpoint reads through the
-- cache, carries them. Clients keep theirs in their JSON document.

ALTER TABLE services ADD COLUMN claim_mappings TEXT NOT NULL DEFAULT '[]';
