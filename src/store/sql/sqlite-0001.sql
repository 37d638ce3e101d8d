-- SQLite schema version 1: users, roles, identity verification, sessions, the audit log.
-- Applied once, inside a transaction, by src/store/sqlite.c, which then records the version.
-- Never edit an applied file: add sqlite-0002.sql instead.

-- One row per applied schema file; the current version is max(version).
CREATE TABLE schema_version (
	version INTEGER PRIMARY KEY NOT NULL,
	applied_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);

CREATE TABLE users (
	id TEXT PRIMARY KEY NOT NULL,
	username TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL DEFAULT '',
	-- 0 active, 1 locked, 2 disabled (enum store_user_status)
	status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
	must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1)),
	failed_logins INTEGER NOT NULL DEFAULT 0,
	-- last accepted TOTP time step: the replay guard
	totp_last_step INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	-- TOTP seed sealed by the SAM; this process cannot read it
	totp_sealed BLOB
);

-- One row per role held; names are mapped to the AUTH_ROLE_* bits in sqlite.c.
CREATE TABLE user_roles (
	user_id TEXT NOT NULL REFERENCES users (id),
	role TEXT NOT NULL,
	PRIMARY KEY (user_id, role)
) WITHOUT ROWID;

-- Kept after deregistration: the proof of how a signer was identified.
CREATE TABLE identity_verifications (
	user_id TEXT NOT NULL REFERENCES users (id),
	method TEXT NOT NULL,
	evidence_ref TEXT NOT NULL,
	officer TEXT NOT NULL,
	verified_at INTEGER NOT NULL
);
CREATE INDEX identity_verifications_user ON identity_verifications (user_id, verified_at);

-- Bearer tokens are stored only as their SHA-256.
CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
	user_id TEXT NOT NULL REFERENCES users (id),
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
	password_change_only INTEGER NOT NULL DEFAULT 0 CHECK (password_change_only IN (0, 1))
);
CREATE INDEX sessions_user ON sessions (user_id);

-- AUTOINCREMENT so that a sequence number is never reused, even for a lost last row.
CREATE TABLE audit_log (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	time INTEGER NOT NULL,
	actor TEXT NOT NULL,
	role TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL,
	result TEXT NOT NULL,
	request_id TEXT NOT NULL,
	source TEXT NOT NULL,
	detail TEXT NOT NULL
);

-- Append-only in the database itself, not only in the code that uses it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- INSERT OR REPLACE deletes the old row without firing the delete trigger: refuse any row
-- whose seq is not above every seq ever used (sqlite_sequence, kept by AUTOINCREMENT).
CREATE TRIGGER audit_log_no_reuse AFTER INSERT ON audit_log
WHEN NEW.seq <= coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0)
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
