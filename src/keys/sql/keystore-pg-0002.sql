-- Key store (DB-2) on PostgreSQL, version 5: PLACEHOLDER, replaced by branch nodes (its
-- keystore-pg-0002.sql is the real version 5). It only bumps the version so that branch sads
-- builds and tests version 6 before that merge. Runs inside pg_schema's transaction.
UPDATE keystore_meta SET version = 5;
