-- Latchkey schema, version 19: indexes for the admin search of the tables
-- that grow large (internal/storage/sqlstore/search.go). A search matches a
-- prefix of a field, ignoring ASCII case, which is a range of an index on
-- lower(field) in byte order: COLLATE BINARY here, COLLATE "C" on
-- PostgreSQL. Emails are stored lower-cased and searched through the
-- UNIQUE (workspace_id, email_norm) index. The id at the end lets each
-- index answer the search without reading the table.
CREATE INDEX users_search_id ON users (workspace_id, lower(id COLLATE BINARY), id);
CREATE INDEX users_search_username ON users (workspace_id, lower(username COLLATE BINARY), id);
CREATE INDEX clients_search_id ON clients (workspace_id, lower(id COLLATE BINARY), id);
CREATE INDEX clients_search_name ON clients (workspace_id, lower(name COLLATE BINARY), id);
