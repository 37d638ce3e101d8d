-- Key store (DB-2), version 5: PLACEHOLDER, replaced by branch nodes (its keystore-0005.sql is
-- the real version 5). It only bumps the version so that branch sads builds and tests version 6
-- before that merge. Applied once to a version-4 store by keys.c, inside this transaction.
BEGIN;
UPDATE keystore_meta SET version = 5;
COMMIT;
