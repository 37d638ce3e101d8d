-- SQLite schema version 2: signed checkpoints of the audit log's Merkle tree (RFC 9162).
-- Each row is a tree head (size, root, time) signed by inkan-sam's log key; inkand cannot
-- make one. Append-only like audit_log.

CREATE TABLE audit_checkpoints (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	size INTEGER NOT NULL CHECK (size >= 0),
	root BLOB NOT NULL CHECK (length(root) = 32),
	time INTEGER NOT NULL,
	sig BLOB NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints (size);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

CREATE TRIGGER audit_checkpoints_no_reuse AFTER INSERT ON audit_checkpoints
WHEN NEW.id <= coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_checkpoints'), 0)
BEGIN
	SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;

-- Retention: records older than audit_retention are copied into an archive file (an export
-- bundle that verifies on its own) for write-once storage; the records stay in audit_log,
-- which is never updated or deleted. Each archive is recorded here with the tree's frontier
-- at its last record, where the next archive starts.
CREATE TABLE audit_archives (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	first_seq INTEGER NOT NULL,
	last_seq INTEGER NOT NULL CHECK (last_seq >= first_seq),
	frontier BLOB,                       -- popcount(last_seq) x 32 bytes
	file TEXT NOT NULL,                  -- name in DIR/audit-archive/
	sha256 TEXT NOT NULL,                -- of the file
	made_at INTEGER NOT NULL
);

CREATE TRIGGER audit_archives_no_update BEFORE UPDATE ON audit_archives
BEGIN
	SELECT RAISE(ABORT, 'audit_archives is append-only');
END;

CREATE TRIGGER audit_archives_no_delete BEFORE DELETE ON audit_archives
BEGIN
	SELECT RAISE(ABORT, 'audit_archives is append-only');
END;
