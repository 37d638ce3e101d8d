-- Key store (DB-2), version 2: the audit log's signing key and the SAM's own view of the
-- log's Merkle tree. Applied once to a version-1 store by keys.c, inside this transaction.
BEGIN;
-- One row: the log key (ECDSA P-384, PKCS#8 sealed under the master key alone) and the last
-- head this SAM signed. frontier = the roots of the tree's perfect subtrees, largest first:
-- with it the SAM recomputes every new root itself and only ever signs an extension.
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	blob BLOB NOT NULL,                  -- sealed private key
	pubkey BLOB NOT NULL,                -- SubjectPublicKeyInfo, DER
	size INTEGER NOT NULL DEFAULT 0,     -- leaves in the last signed head
	frontier BLOB,                       -- popcount(size) x 32 bytes
	root BLOB,
	time INTEGER NOT NULL DEFAULT 0,     -- of the last signed head
	sig BLOB,
	closed INTEGER NOT NULL DEFAULT 0    -- 1: the last head was inkand's final one (clean stop)
);
UPDATE keystore_meta SET version = 2;
COMMIT;
