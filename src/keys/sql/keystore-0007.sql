-- Key store (DB-2), version 7: an index for the expiry sweep (expire_sweep in keys/cred.c),
-- which runs before every PIN check under the key store's lock: the live credentials (status
-- 1 active, 2 locked: the values the sweep's statement names as they are written here) by the
-- end of their certificate, so that finding the expired among them reads those rows alone and
-- not every credential the key store ever held.
-- Applied once to a version-6 store by keys.c, inside this transaction.
BEGIN;
CREATE INDEX credentials_live_expiry ON credentials (not_after) WHERE status IN (1, 2);
UPDATE keystore_meta SET version = 7;
COMMIT;
