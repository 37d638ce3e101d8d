-- Key store (DB-2), version 4: how each credential may be activated, the signer's own choice
-- kept where inkand cannot reach it. auth_mode 0: as the service's allow_explicit_authorize
-- says (credentials/authorize, PIN and OTP forwarded by the client, and the OAuth consent
-- page); 1: the OAuth consent page only (oauth2code). The SAM enforces it at every
-- authorization; only the owner changes it, with PIN and a fresh OTP (SAM_MSG_KEY_AUTH_MODE).
-- Applied once to a version-3 store by keys.c, inside this transaction.
BEGIN;
ALTER TABLE credentials ADD COLUMN auth_mode INTEGER NOT NULL DEFAULT 0 CHECK (auth_mode IN (0, 1));
UPDATE keystore_meta SET version = 4;
COMMIT;
