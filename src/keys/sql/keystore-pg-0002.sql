-- Key store (DB-2) on PostgreSQL, version 4 -> 5: the master key's check value, as
-- keystore-0005.sql makes it in SQLite (one row, written by keys.c, never a value that helps
-- find the key). Runs inside pg_schema's transaction, under the key store's lock.
CREATE TABLE master_check (
	id BIGINT PRIMARY KEY CHECK (id = 1),
	kcv BYTEA NOT NULL CHECK (octet_length(kcv) = 32)
);
-- Which node's inkan-sam made each of its own records (DIR/sam/node.id; '' before version
-- 5): each node hands its inkand its own, so that no record is copied into the log twice.
ALTER TABLE sam_audit ADD COLUMN node TEXT NOT NULL DEFAULT '';
UPDATE keystore_meta SET version = 5;
