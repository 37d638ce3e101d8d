-- Key store (DB-2), version 5: the master key's check value, so that an inkan-sam whose master
-- key is not the one the key store was made with refuses to start (several nodes share one
-- key store on PostgreSQL; docs/keys.md). kcv = HMAC-SHA-256 under HKDF-SHA256(master key,
-- "inkan seal v1 master-key-check") over a fixed label: a one-way value that helps nobody find
-- the key. One row; written by keys.c (at the first open after this upgrade, from the master
-- key present, once that key is shown to open the store's audit log key) and replaced only
-- by a master-key join into a key store that holds no credential (keys_master_install).
-- Applied once to a version-4 store by keys.c, inside this transaction.
BEGIN;
CREATE TABLE master_check (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	kcv BLOB NOT NULL CHECK (length(kcv) = 32)
);
-- Which node's inkan-sam made each of its own records (DIR/sam/node.id; '' before version
-- 5): each node hands its inkand its own, so that no record is copied into the log twice.
ALTER TABLE sam_audit ADD COLUMN node TEXT NOT NULL DEFAULT '';
UPDATE keystore_meta SET version = 5;
COMMIT;
