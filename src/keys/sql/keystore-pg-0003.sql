-- Key store (DB-2) on PostgreSQL, version 6: the spend records of SADs, as keystore-0006.sql
-- makes them in SQLite (what each column holds is said there). Here they are what lets a SAD
-- minted on one node be spent on another, exactly once: a spend is one conditional UPDATE of
-- `lefts` (the counts it read), so that of two nodes spending the last count at once exactly
-- one changes the row. The row holds no kek a DBA could open, even with the master key.
-- Runs inside pg_schema's transaction (no BEGIN/COMMIT of its own).
CREATE TABLE sads (
	id_hash BYTEA PRIMARY KEY CHECK (octet_length(id_hash) = 32),
	owner TEXT NOT NULL,
	session BYTEA NOT NULL,
	cred TEXT NOT NULL,
	serial TEXT NOT NULL,
	hash_oid TEXT NOT NULL,
	expires BIGINT NOT NULL,
	granted BYTEA NOT NULL,
	sealed BYTEA NOT NULL,
	mac BYTEA NOT NULL,
	lefts BYTEA NOT NULL
);
CREATE INDEX sads_cred ON sads (cred);
CREATE INDEX sads_owner ON sads (owner);
CREATE INDEX sads_session ON sads (session);
CREATE INDEX sads_expires ON sads (expires);
UPDATE keystore_meta SET version = 6;
