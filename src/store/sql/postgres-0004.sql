-- PostgreSQL schema version 4: what sqlite-0005.sql makes (OAuth 2.0 service-scope access and
-- refresh tokens, CSC API v2 section 8), in PostgreSQL's dialect: BYTEA for BLOB, SMALLINT
-- for the kind, BIGINT for times. Each token is kept only as the SHA-256 of its 256 random
-- bits; a family is one consent's grant (a rotated refresh token presented again revokes it,
-- RFC 9700 4.14.2). Rows are marked (used_at, revoked_at), never moved.

CREATE TABLE oauth_tokens (
	hash BYTEA PRIMARY KEY CHECK (length(hash) = 32),
	kind SMALLINT NOT NULL CHECK (kind IN (1, 2)),       -- 1 access, 2 refresh
	family TEXT NOT NULL CHECK (length(family) = 32),
	client_id TEXT NOT NULL REFERENCES oauth_clients (id),
	user_id TEXT NOT NULL REFERENCES users (id),
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	used_at BIGINT NOT NULL DEFAULT 0,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family);
