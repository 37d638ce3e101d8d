-- SQLite schema version 4: OAuth clients that authenticate by private_key_jwt (RFC 7523 2.2)
-- keep their registered public key (PEM SubjectPublicKeyInfo; such a client has no secret), and
-- the jti of every client assertion seen is kept until the assertion expires, so that one
-- replayed at any node behind the load balancer is refused (RFC 7523 3, item 7).

ALTER TABLE oauth_clients ADD COLUMN public_key TEXT
	CHECK (public_key IS NULL OR length(public_key) BETWEEN 1 AND 4096);

CREATE TABLE oauth_jti (
	client_id TEXT NOT NULL,
	jti TEXT NOT NULL CHECK (length(jti) BETWEEN 1 AND 128),
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_jti_expires ON oauth_jti (expires_at);
