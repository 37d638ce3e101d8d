-- PostgreSQL schema version 1: what sqlite-0001.sql and sqlite-0002.sql make, in PostgreSQL's
-- dialect. Applied once, inside a transaction, by src/store/postgres.c, which then records the
-- version. Never edit an applied file: add postgres-0002.sql instead.
--
-- Names are unqualified: the tables go into the first schema of the connection's search_path
-- (the role's own schema, "inkand", in the layout of docs/scaling.md). The dialect differences
-- from SQLite are few and each is named here: BYTEA for BLOB, BOOLEAN for 0/1 flags, BIGINT
-- for times and counters, identity columns for AUTOINCREMENT, PL/pgSQL triggers for RAISE, an
-- expression index for COLLATE NOCASE, and a counter row for audit sequence numbers (below).

CREATE TABLE schema_version (
	version BIGINT PRIMARY KEY NOT NULL,
	applied_at BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::bigint)
);

CREATE TABLE users (
	id TEXT PRIMARY KEY NOT NULL,
	username TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	-- 0 active, 1 locked, 2 disabled (enum store_user_status)
	status INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
	must_change_password BOOLEAN NOT NULL DEFAULT false,
	failed_logins BIGINT NOT NULL DEFAULT 0,
	-- last accepted TOTP time step: the replay guard
	totp_last_step BIGINT NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	-- TOTP seed sealed by the SAM; this process cannot read it
	totp_sealed BYTEA
);
-- SQLite's COLLATE NOCASE: one name in any ASCII case. The "C" collation keeps lower() to
-- ASCII whatever the database's locale. The index, not a SELECT before the INSERT, keeps two
-- nodes from registering the same name at once.
CREATE UNIQUE INDEX users_username_nocase ON users (lower(username COLLATE "C"));

CREATE TABLE user_roles (
	user_id TEXT NOT NULL REFERENCES users (id),
	role TEXT NOT NULL,
	PRIMARY KEY (user_id, role)
);

CREATE TABLE identity_verifications (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,	-- SQLite's rowid: the order of insertion
	user_id TEXT NOT NULL REFERENCES users (id),
	method TEXT NOT NULL,
	evidence_ref TEXT NOT NULL,
	officer TEXT NOT NULL,
	verified_at BIGINT NOT NULL
);
CREATE INDEX identity_verifications_user ON identity_verifications (user_id, verified_at);

-- Bearer tokens are stored only as their SHA-256.
CREATE TABLE sessions (
	token_hash BYTEA PRIMARY KEY NOT NULL CHECK (octet_length(token_hash) = 32),
	user_id TEXT NOT NULL REFERENCES users (id),
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked BOOLEAN NOT NULL DEFAULT false,
	password_change_only BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
	seq BIGINT PRIMARY KEY CHECK (seq > 0),
	time BIGINT NOT NULL,
	actor TEXT NOT NULL,
	role TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL,
	result TEXT NOT NULL,
	request_id TEXT NOT NULL,
	source TEXT NOT NULL,
	detail TEXT NOT NULL
);

-- The audit log's sequence numbers are the leaves of one Merkle tree (RFC 9162): 1, 2, 3 ...
-- without a gap, and visible in that order. SQLite gets both from its single writer; a
-- PostgreSQL sequence gives neither (a rolled-back insert leaves a gap, and concurrent
-- transactions commit out of order), and a counter row would be a row the log updates. So the
-- insert trigger takes a transaction-scoped advisory lock (held until COMMIT or ROLLBACK: audit
-- writers from any number of connections and nodes take turns; an advisory lock, not a table
-- lock, so that two inserts already holding their ROW EXCLUSIVE lock cannot deadlock upgrading
-- it) and numbers the row one past the highest there is. Under READ COMMITTED each statement
-- of the function sees what committed before it, so the writer that waited sees the rows of
-- the one before it; a rollback leaves no number used. Rows are only ever inserted.
-- The row's number is assigned here, never given: an INSERT that names a seq is refused.
CREATE FUNCTION audit_log_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.seq IS NOT NULL THEN
		RAISE EXCEPTION 'audit_log is append-only: seq is assigned, not given';
	END IF;
	-- "inkan" in ASCII (as the migrations' lock), and 1: the audit log's numbering
	PERFORM pg_advisory_xact_lock(1768843630, 1);
	SELECT coalesce(max(seq), 0) + 1 INTO NEW.seq FROM audit_log;
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_number BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_number();

-- Append-only in the database itself, not only in the code that uses it: UPDATE, DELETE,
-- TRUNCATE and INSERT ... ON CONFLICT DO UPDATE (an UPDATE) are refused.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Signed checkpoints of the audit log's Merkle tree (RFC 9162), made by inkan-sam.
CREATE TABLE audit_checkpoints (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	size BIGINT NOT NULL CHECK (size >= 0),
	root BYTEA NOT NULL CHECK (octet_length(root) = 32),
	time BIGINT NOT NULL,
	sig BYTEA NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints (size);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Retention archives (see sqlite-0002.sql).
CREATE TABLE audit_archives (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	first_seq BIGINT NOT NULL,
	last_seq BIGINT NOT NULL CHECK (last_seq >= first_seq),
	frontier BYTEA,
	file TEXT NOT NULL,
	sha256 TEXT NOT NULL,
	made_at BIGINT NOT NULL
);
CREATE TRIGGER audit_archives_append_only BEFORE UPDATE OR DELETE ON audit_archives
	FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER audit_archives_no_truncate BEFORE TRUNCATE ON audit_archives
	FOR EACH STATEMENT EXECUTE FUNCTION append_only();
