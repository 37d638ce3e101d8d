-- PostgreSQL schema version 5: what sqlite-0006.sql makes (the OAuth authorization server's
-- short-lived state shared by every node: consent-page sessions 1, pushed authorization
-- requests 2, authorization codes 3, credential-scope access tokens 4), in PostgreSQL's
-- dialect. Each row is found by the SHA-256 of its value, never by the value; a code's body
-- is sealed under a key derived from the code itself. A code is spent by one conditional
-- UPDATE (state 0 -> 1): row locks let exactly one node win it. Rows go once keep_until has
-- passed (oauth_prune).

CREATE TABLE oauth_flows (
	kind SMALLINT NOT NULL CHECK (kind IN (1, 2, 3, 4)),
	hash BYTEA NOT NULL CHECK (length(hash) = 32),
	client_id TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',
	expires_at BIGINT NOT NULL,
	keep_until BIGINT NOT NULL,
	state SMALLINT NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3)),
	aux BYTEA CHECK (aux IS NULL OR length(aux) = 32),
	body BYTEA,
	PRIMARY KEY (kind, hash)
);
CREATE INDEX oauth_flows_source ON oauth_flows (kind, source, keep_until);
CREATE INDEX oauth_flows_keep ON oauth_flows (keep_until);
