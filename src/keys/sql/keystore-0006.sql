-- Key store (DB-2), version 6: the spend records of SADs (docs/architecture.md, "SADs across
-- nodes"). One row per live SAD: SHA-256 of the SAD (never the SAD), what it is bound to, the
-- hashes it allows with their counts (`granted`), the kek sealed under a key derived from the
-- master key AND the SAD itself (`sealed`: the row alone, or with the master key, opens
-- nothing), a MAC over all of these under another key of the same two (`mac`: an edited row
-- is refused), and the counts left (`lefts`, the only column ever updated, by one conditional
-- UPDATE per spend). SQLite keeps one node's SADs in inkan-sam's memory: the table stays empty
-- there and exists so that both engines have the same schema.
-- Applied once to a version-5 store by keys.c, inside this transaction.
BEGIN;
CREATE TABLE sads (
	id_hash BLOB PRIMARY KEY CHECK (length(id_hash) = 32),
	owner TEXT NOT NULL,
	session BLOB NOT NULL,
	cred TEXT NOT NULL,
	serial TEXT NOT NULL,
	hash_oid TEXT NOT NULL,
	expires INTEGER NOT NULL,
	granted BLOB NOT NULL,
	sealed BLOB NOT NULL,
	mac BLOB NOT NULL,
	lefts BLOB NOT NULL
);
CREATE INDEX sads_cred ON sads (cred);
CREATE INDEX sads_owner ON sads (owner);
CREATE INDEX sads_session ON sads (session);
CREATE INDEX sads_expires ON sads (expires);
UPDATE keystore_meta SET version = 6;
COMMIT;
