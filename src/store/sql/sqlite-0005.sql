-- SQLite schema version 5: OAuth 2.0 service-scope tokens (CSC API v2 section 8, scope
-- "service"): access tokens and refresh tokens, each kept only as the SHA-256 of its 256
-- random bits. A family is one consent's grant: every refresh rotates within it, and a
-- rotated refresh token presented again revokes the whole family (RFC 9700 4.14.2). Rows are
-- marked (used_at, revoked_at), never moved; an expired row answers nothing.

CREATE TABLE oauth_tokens (
	hash BLOB PRIMARY KEY CHECK (length(hash) = 32),
	kind INTEGER NOT NULL CHECK (kind IN (1, 2)),        -- 1 access, 2 refresh
	family TEXT NOT NULL CHECK (length(family) = 32),
	client_id TEXT NOT NULL REFERENCES oauth_clients (id),
	user_id TEXT NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER NOT NULL DEFAULT 0,                  -- a refresh token's rotation
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family);
