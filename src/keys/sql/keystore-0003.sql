-- Key store (DB-2), version 3: the SAM's own record of every person it serves, and the
-- sessions it opened. The SAM, not inkand, decides who a key belongs to, whose name a
-- certificate carries, which roles act on keys, and how many second-factor guesses remain.
-- Applied once to a version-2 store by keys.c, inside this transaction.
BEGIN;
CREATE TABLE persons (
	id TEXT PRIMARY KEY,                 -- the account's user id (inkand's users.id)
	username TEXT NOT NULL UNIQUE COLLATE NOCASE,
	display_name TEXT NOT NULL,          -- the certificate's commonName
	pseudonym TEXT NOT NULL UNIQUE,      -- the certificate's serialNumber: assigned here, stable
	roles INTEGER NOT NULL,              -- AUTH_ROLE_* bits, as the SAM granted them
	status INTEGER NOT NULL,             -- 1 active, 2 locked (second factor), 3 deregistered
	idv_method TEXT,                     -- how the registration officer verified the identity
	idv_evidence TEXT,                   -- reference to the evidence kept elsewhere
	idv_doc BLOB UNIQUE,                 -- HMAC(master-derived key, document type, number)
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL,            -- the registering officer's user id ('-' for init)
	totp BLOB,                           -- sealed TOTP seed; NULL until the person enrolled
	totp_pending BLOB,                   -- a seed shown to the person, not yet confirmed
	activation BLOB,                     -- HMAC of the one-time activation code until enrolment
	otp_step INTEGER NOT NULL DEFAULT -1,-- last TOTP step used, for login or authorization
	otp_failures INTEGER NOT NULL DEFAULT 0,
	activated_at INTEGER,                -- when the person confirmed their seed
	activated_from TEXT                  -- and from where (the source inkand reported)
);
-- Sessions the SAM opened after checking a person's second factor (or, for a person who has
-- not enrolled yet, a setup session that can do nothing but enrol).
CREATE TABLE sam_sessions (
	token_hash BLOB PRIMARY KEY,         -- SHA-256 of the bearer token
	person TEXT NOT NULL REFERENCES persons (id),
	setup INTEGER NOT NULL,              -- 1: enrolment only
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sam_sessions_person ON sam_sessions (person);
-- The SAM's own audit records of its acts (registration, roles, unlocks, key lifecycle,
-- authorizations, restores, its start and the log's close). inkand copies them into the audit
-- log; the SAM signs no checkpoint that leaves one out or changes it (sam/log.c). A record is
-- never updated or deleted; its position in the audit log is a row of its own in
-- sam_audit_logged, added once (both tables append-only).
CREATE TABLE sam_audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	time INTEGER NOT NULL,
	actor TEXT NOT NULL,
	role TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL,
	result TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE TABLE sam_audit_logged (
	id INTEGER PRIMARY KEY REFERENCES sam_audit (id),
	log_seq INTEGER NOT NULL
);
-- This key store's name for its records in the audit log ("sam-<epoch>-<id>"): a key store made
-- anew (after a disaster) numbers its records from 1 again, and must not be taken for the old.
-- bootstrap: SHA-256 of the one-time token `inkan-sam --init` leaves in DATA/sam for `inkan init`
-- (the first security officer); NULL once used: a compromised inkand cannot bootstrap itself.
CREATE TABLE sam_meta (epoch TEXT NOT NULL, bootstrap BLOB);
INSERT INTO sam_meta (epoch) VALUES (lower(hex(randomblob(8))));
CREATE TRIGGER sam_audit_no_delete BEFORE DELETE ON sam_audit
BEGIN
	SELECT RAISE(ABORT, 'sam_audit is append-only');
END;
CREATE TRIGGER sam_audit_no_update BEFORE UPDATE ON sam_audit
BEGIN
	SELECT RAISE(ABORT, 'sam_audit is append-only');
END;
CREATE TRIGGER sam_audit_logged_no_delete BEFORE DELETE ON sam_audit_logged
BEGIN
	SELECT RAISE(ABORT, 'sam_audit_logged is append-only');
END;
CREATE TRIGGER sam_audit_logged_no_update BEFORE UPDATE ON sam_audit_logged
BEGIN
	SELECT RAISE(ABORT, 'sam_audit_logged is append-only');
END;
UPDATE keystore_meta SET version = 3;
COMMIT;
