-- SQLite schema version 6: the OAuth authorization server's short-lived state, shared by every
-- node that shares the store (a flow begun on one node is finished on any other): consent-page
-- sessions (kind 1), pushed authorization requests (kind 2), authorization codes (kind 3) and
-- the credential-scope access tokens issued from them (kind 4). Each is found by the SHA-256
-- of its value (cookie, request_uri handle, code, token), never by the value. A code's body is
-- sealed under a key derived from the code itself (src/oauth/state.c): the row alone opens
-- nothing. A code or request is spent by one conditional UPDATE (state 0 -> 1), so exactly one
-- node wins it. Rows go once keep_until has passed (oauth_prune).

CREATE TABLE oauth_flows (
	kind INTEGER NOT NULL CHECK (kind IN (1, 2, 3, 4)),
	hash BLOB NOT NULL CHECK (length(hash) = 32),
	client_id TEXT NOT NULL DEFAULT '',
	source TEXT NOT NULL DEFAULT '',                     -- the address that made it (caps)
	expires_at INTEGER NOT NULL,                         -- the value stops working
	keep_until INTEGER NOT NULL,                         -- the row goes (a spent code stays to
	                                                     -- recognise its replay)
	state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2, 3)), -- live, spent, issued, revoked
	aux BLOB CHECK (aux IS NULL OR length(aux) = 32),    -- page: SHA-256 of its CSRF token;
	                                                     -- code: of the token issued from it
	body BLOB,                                           -- the request, or the sealed code
	PRIMARY KEY (kind, hash)
);
CREATE INDEX oauth_flows_source ON oauth_flows (kind, source, keep_until);
CREATE INDEX oauth_flows_keep ON oauth_flows (keep_until);
