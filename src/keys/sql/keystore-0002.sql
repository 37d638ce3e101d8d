-- Key store (DB-2), version 2: the audit log's signing key and the SAM's own view of the
-- log's Merkle tree. Applied once to a version-1 store by keys.c, inside this transaction.
-- Both tables are append-only: rows are never updated or deleted.
BEGIN;
-- Log keys (ECDSA P-384, PKCS#8 sealed under the master key alone). The newest is in use; a
-- restore that brings another log adds its key.
CREATE TABLE log_key (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	blob BLOB NOT NULL,                  -- sealed private key
	pubkey BLOB NOT NULL                 -- SubjectPublicKeyInfo, DER
);
-- Every head the SAM signed. frontier = the roots of the tree's perfect subtrees, largest
-- first (popcount(size) x 32 bytes; the root follows from it): with it the SAM recomputes
-- each new root itself and only ever signs an extension of its key's newest head.
CREATE TABLE log_head (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	key_id INTEGER NOT NULL REFERENCES log_key (id),
	size INTEGER NOT NULL CHECK (size >= 0),
	frontier BLOB,
	time INTEGER NOT NULL,
	sig BLOB NOT NULL,
	closed INTEGER NOT NULL DEFAULT 0    -- 1: inkand's final head (clean stop)
);
CREATE INDEX log_head_key ON log_head (key_id, id);
CREATE TRIGGER log_key_no_update BEFORE UPDATE ON log_key
BEGIN
	SELECT RAISE(ABORT, 'log_key is append-only');
END;
CREATE TRIGGER log_key_no_delete BEFORE DELETE ON log_key
BEGIN
	SELECT RAISE(ABORT, 'log_key is append-only');
END;
CREATE TRIGGER log_head_no_update BEFORE UPDATE ON log_head
BEGIN
	SELECT RAISE(ABORT, 'log_head is append-only');
END;
CREATE TRIGGER log_head_no_delete BEFORE DELETE ON log_head
BEGIN
	SELECT RAISE(ABORT, 'log_head is append-only');
END;
-- The state in use: the newest key and its newest head (size 0 before the first).
CREATE VIEW log_state AS
SELECT k.id AS key_id, k.blob AS blob, k.pubkey AS pubkey, coalesce(h.size, 0) AS size,
       h.frontier AS frontier, coalesce(h.time, 0) AS time, h.sig AS sig,
       coalesce(h.closed, 0) AS closed
FROM (SELECT * FROM log_key ORDER BY id DESC LIMIT 1) AS k
LEFT JOIN log_head AS h ON h.id = (SELECT max(id) FROM log_head WHERE key_id = k.id);
-- A backup's state, restored (backup.c): another log's key becomes the one in use with its
-- head; the same log may only move forward — going back would let the SAM sign a second,
-- different tree of a size it has signed (a fork of the history it vouches for).
CREATE TRIGGER log_state_restore INSTEAD OF INSERT ON log_state
BEGIN
	SELECT RAISE(ABORT, 'the audit log would go back')
	WHERE EXISTS (SELECT 1 FROM log_state AS s WHERE s.pubkey = NEW.pubkey AND
	              (NEW.size < s.size OR (NEW.size = s.size AND NEW.frontier IS NOT s.frontier)));
	INSERT INTO log_key (blob, pubkey) SELECT NEW.blob, NEW.pubkey
	WHERE NOT EXISTS (SELECT 1 FROM log_state AS s WHERE s.pubkey = NEW.pubkey);
	INSERT INTO log_head (key_id, size, frontier, time, sig, closed)
	SELECT (SELECT max(id) FROM log_key), NEW.size, NEW.frontier, NEW.time, NEW.sig, NEW.closed
	WHERE NEW.sig IS NOT NULL AND NEW.size > (SELECT size FROM log_state);
END;
UPDATE keystore_meta SET version = 2;
COMMIT;
