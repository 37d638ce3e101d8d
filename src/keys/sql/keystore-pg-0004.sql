-- Key store (DB-2) on PostgreSQL, version 7: the index of the expiry sweep, as keystore-0007.sql
-- makes it in SQLite (why is said there).
-- Runs inside pg_schema's transaction (no BEGIN/COMMIT of its own).
CREATE INDEX credentials_live_expiry ON credentials (not_after) WHERE status IN (1, 2);
UPDATE keystore_meta SET version = 7;
