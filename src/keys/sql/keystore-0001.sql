-- Key store (DB-2), version 1. Opened by inkan-sam only. Private keys are never here in the
-- clear: `blob` is sealed under a key derived from the master key AND the signer's PIN.
BEGIN;
CREATE TABLE keystore_meta(version INTEGER NOT NULL);
INSERT INTO keystore_meta(version) VALUES (1);

-- One key, one signer, one certificate.
CREATE TABLE credentials (
	id TEXT PRIMARY KEY,                 -- credential id: 128 random bits, hex
	owner TEXT NOT NULL,                 -- the signer's user id
	backend TEXT NOT NULL,               -- 'soft' (AES-256-GCM) or 'pkcs11'
	algo TEXT NOT NULL,                  -- 'P-256', 'RSA-3072', 'Ed25519', ...
	salt BLOB NOT NULL,                  -- Argon2id salt of the PIN
	kdf_m INTEGER NOT NULL,              -- Argon2id memory (KiB), time and lanes the blob was
	kdf_t INTEGER NOT NULL,              -- sealed with: a later change of the settings must not
	kdf_p INTEGER NOT NULL,              -- lock every credential
	blob BLOB,                           -- sealed private key; NULL once destroyed
	pubkey BLOB NOT NULL,                -- SubjectPublicKeyInfo, DER
	cert BLOB,                           -- X.509 DER; NULL until linked
	serial TEXT,                         -- certificate serial, hex
	not_before INTEGER,
	not_after INTEGER,
	status INTEGER NOT NULL,             -- 0 pending, 1 active, 2 locked, 3 revoked, 4 destroyed
	pin_failures INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	revoked_at INTEGER,
	reason INTEGER,
	subject_cn TEXT NOT NULL,
	subject_serial TEXT NOT NULL
);
CREATE INDEX credentials_owner ON credentials(owner);
CREATE UNIQUE INDEX credentials_serial ON credentials(serial) WHERE serial IS NOT NULL;

-- The built-in CA: root, issuing CA, TSA; keys sealed under the master key alone.
CREATE TABLE ca (
	name TEXT PRIMARY KEY,               -- 'root', 'issuing', 'tsa'
	blob BLOB NOT NULL,
	cert BLOB NOT NULL
);

-- Every certificate the issuing CA revoked, for the CRL.
CREATE TABLE revoked (
	serial TEXT PRIMARY KEY,
	revoked_at INTEGER NOT NULL,
	reason INTEGER NOT NULL
);

CREATE TABLE crl (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	number INTEGER NOT NULL,
	made_at INTEGER NOT NULL,
	der BLOB NOT NULL
);
COMMIT;
