-- PostgreSQL schema version 3: what sqlite-0004.sql makes, in PostgreSQL's dialect: the public
-- key (PEM) of a client that authenticates by private_key_jwt (RFC 7523 2.2), and the jti of
-- every client assertion seen until it expires, so that a replay at any node is refused.

ALTER TABLE oauth_clients ADD COLUMN public_key TEXT
	CHECK (public_key IS NULL OR length(public_key) BETWEEN 1 AND 4096);

CREATE TABLE oauth_jti (
	client_id TEXT NOT NULL,
	jti TEXT NOT NULL CHECK (length(jti) BETWEEN 1 AND 128),
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_jti_expires ON oauth_jti (expires_at);
