-- Latchkey schema, version 18: the RFC 9396 authorization_details types
-- of services, a JSON array of {type, description, schema} kept with the
-- service so that ListScopes, which the authorization and token endpoints
-- read through the cache, carries them. Authorization requests, codes and
-- token families keep the requested details in their JSON data column.

ALTER TABLE services ADD COLUMN authorization_detail_types TEXT NOT NULL DEFAULT '[]';
