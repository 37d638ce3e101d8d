-- PostgreSQL schema version 2: what sqlite-0003.sql makes (OAuth 2.0 clients, CSC API v2
-- section 8, registered by a security officer), in PostgreSQL's dialect: BYTEA for BLOB,
-- BOOLEAN for the 0/1 flag, BIGINT for times. A confidential client's secret is 256 random
-- bits: only its SHA-256 is kept. A removed client stays (removed_at set) so that the audit
-- trail can still name it.

CREATE TABLE oauth_clients (
	id TEXT PRIMARY KEY CHECK (length(id) = 32),
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	redirect_uris TEXT NOT NULL,          -- one URI a line, matched exactly
	public BOOLEAN NOT NULL,
	secret_hash BYTEA CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	removed_at BIGINT NOT NULL DEFAULT 0
);
