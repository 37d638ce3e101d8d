-- SQLite schema version 3: OAuth 2.0 clients (CSC API v2 section 8), registered by a security
-- officer. A confidential client's secret is 256 random bits: only its SHA-256 is kept. A
-- removed client stays (removed_at set) so that the audit trail can still name it.

CREATE TABLE oauth_clients (
	id TEXT PRIMARY KEY CHECK (length(id) = 32),
	name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	redirect_uris TEXT NOT NULL,          -- one URI a line, matched exactly
	public INTEGER NOT NULL CHECK (public IN (0, 1)),
	secret_hash BLOB CHECK (secret_hash IS NULL OR length(secret_hash) = 32),
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,
	removed_at INTEGER NOT NULL DEFAULT 0
);
