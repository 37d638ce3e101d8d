/* keys_int: what the key manager's own files share; nothing outside src/keys/ includes it. */
#ifndef INKAN_KEYS_INT_H
#define INKAN_KEYS_INT_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keys/keys.h"
#include "keys/ksdb.h"
#include "policy/policy.h"

/* The key store directory's files. */
#define KEYS_MASTER_FILE "master.key"
#define KEYS_DB_FILE "keystore.db"
/* When present: the PostgreSQL URI of the key store instead of KEYS_DB_FILE (docs/scaling.md). */
#define KEYS_URL_FILE "keystore.url"
/* This node's name among the nodes that share a key store: 32 hex digits, made at the first
 * open (keys.c); the SAM's own records carry it (samlog.c). */
#define KEYS_NODE_FILE "node.id"
#define KEYS_NODE_LEN 32
#define KEYS_URL_MAX 1024

struct keys_p11;
struct ca_signer;

/* The Argon2id cost a credential's PIN derivation uses (stored with the credential). */
struct keys_kdf {
	uint32_t m_kib, t, p;
};

/* A reusable typed decoder: building one costs OpenSSL 3.0 about 0.2–0.7 ms, more than the
 * signatures of a small batch; decoding with a built one costs some 30–60 µs. */
struct keys_decoder {
	OSSL_DECODER_CTX *ctx;
	EVP_PKEY *out;             /* where ctx puts each key it decodes; taken at once */
};

enum { KEYS_DEC_ANY = -1, KEYS_DEC_EC, KEYS_DEC_RSA, KEYS_DEC_ED25519, KEYS_DEC_N };

struct keys {
	uint8_t *master;           /* KEYS_MASTER_LEN bytes of secmem */
	struct ksdb *db;           /* the key store (ksdb.h) */
	char dir[512];             /* the key store directory (relative pkcs11_pin_file) */
	char node[KEYS_NODE_LEN + 1]; /* this node's name (KEYS_NODE_FILE) */
	struct keys_p11 *p11;      /* token session when key_backend = pkcs11, else NULL */
	struct keys_params params;
	char crl_url[256];
	char arl_url[256];         /* the root's CRL (ARL), named in the issuing CA certificate */
	char ocsp_url[256];        /* the OCSP responder, named in issued certificates */
	struct keys_ocsp_cache *ocsp; /* pre-produced OCSP responses (ocsp.c) */
	uint8_t *arl;              /* the last ARL made (DER), remade after CA_CRL_REFRESH */
	size_t arl_len;
	int64_t arl_made;
	char policy_oid[128];
	char organization[128];
	struct keys_decoder dec[KEYS_DEC_N];
	struct ksdb_stmt *st_secret;   /* load_secret's statement, prepared once (cred.c) */
	X509_STORE *ext_ca;        /* external_ca_file's CAs (extcert.c); NULL: none configured */
	/* the roll-back witness (witness.c) */
	bool witness_seen;         /* checked on the connection of generation witness_gen */
	unsigned witness_gen;      /* ksdb_generation at the last check */
	bool rolled_back;          /* found behind the witness: every use refused until accepted
	                            * (written under the caller's lock, read atomically) */
	struct keys_sad_conns *sadc; /* SAD reads and spends' own connections (sads.c); NULL: none */
	struct keys_readers *readers; /* signatures' key reads' own connections (readers.c) */
	pthread_mutex_t dec_mu;    /* the cached decoders (dec), used by signatures side by side */
	int64_t samlog_low;        /* every record of this node's with id <= it is logged (samlog.c) */
	unsigned samlog_gen;       /* ksdb_generation samlog_low was learnt on */
};

/* Closes the connections of keys_sads_open (sads.c); accepts a key store without them. */
void keys_sads_close(struct keys *k);

/* ---- signatures' key reads' own connections (readers.c) ---- */

/* Of n connections' locks, takes the first free one from a start that moves on with each call
 * (*next, atomically), or waits for the one at the start; returns its index. */
size_t keys_pool_lock(pthread_mutex_t *mu, size_t n, unsigned *next);

/* One reader taken: its connection, its prepared statement for the key, its place. */
struct keys_reader_use {
	struct ksdb *db;
	struct ksdb_stmt **st;
	size_t slot;
	unsigned gen;
};
/* Compares the key store as db (a reader's connection) sees it with the witness, as
 * keys_witness_check does on k->db, writing nothing: behind it, the key store is refused
 * (rolled_back, an alert). Called holding what guards k. */
int keys_witness_check_on(struct keys *k, struct ksdb *db) INK_WUR;
/* Takes a free reader the roll-back witness vouches for: its own connection compared with the
 * witness at its first use and after each reconnection (keys_witness_check_on, between
 * keys_params.store_begin/end). INK_ERR_STORE when it cannot be vouched for or the key store
 * was found rolled back. */
int keys_reader_take(struct keys *k, struct keys_reader_use *u) INK_WUR;
/* Gives it back; false when its connection was made again since the take (what was read on it
 * is not vouched for: read again). */
bool keys_reader_give(struct keys *k, const struct keys_reader_use *u);
void keys_readers_close(struct keys *k);

/* Decodes a PKCS#8 private key of the given kind (KEYS_DEC_*) with the key store's cached
 * decoder; of any kind with KEYS_DEC_ANY (the cached decoders in turn, then
 * d2i_AutoPrivateKey). Thread-safe: the cached decoders are used under dec_mu (signatures
 * open their keys side by side). */
int keys_decode_private(struct keys *k, int kind, const uint8_t *der, size_t len,
                        EVP_PKEY **out) INK_WUR;

/* After a commit that destroyed or replaced sealed secrets (a key, its blob under an old PIN,
 * an OTP seed): none of their old pages left in the driver's files (ksdb_scrub; logged when
 * it cannot, which a later checkpoint then does). */
void keys_scrub(struct keys *k);
/* Around long work that touches no key store state (keys_params.slow_begin/end): lets the
 * caller's lock go unless a transaction is open. Returns whether it did, for keys_slow_end. */
bool keys_slow_begin(const struct keys *k);
void keys_slow_end(const struct keys *k, bool let_go);

/* The expiry sweep before every PIN check (cred.c): the live credentials (1 active, 2 locked)
 * are found by the partial index of keystore-0007.sql, whose condition the statement repeats
 * word for word (with parameters in its place, neither engine would know that the index covers
 * the rows asked for, and would read every credential the key store ever held). */
#define KEYS_EXPIRE_SWEEP_SQL "UPDATE credentials SET blob = NULL, status = ?1 WHERE " \
	"not_after < ?2 AND status IN (1, 2)"

/* The master key's check value (keys.c): HMAC-SHA-256 under HKDF-SHA256(master key,
 * "inkan seal v1 " KEYS_KCV_PURPOSE) over KEYS_KCV_LABEL; one-way, it tells only whether two
 * master keys are the same. Kept in the key store's master_check (keystore-0005.sql). */
#define KEYS_KCV_LEN 32
#define KEYS_KCV_PURPOSE "master-key-check"
#define KEYS_KCV_LABEL "inkan master key check value v1"
int keys_master_kcv(const uint8_t master[static KEYS_MASTER_LEN],
                    uint8_t out[static KEYS_KCV_LEN]) INK_WUR;
/* The key store's check value into kcv (*found false when it has none). */
int keys_kcv_read(struct ksdb *db, uint8_t kcv[static KEYS_KCV_LEN], bool *found) INK_WUR;

/* HMAC-SHA256 under a key derived from the master key for purpose (keys.c). */
int keys_mac(const struct keys *k, const char *purpose, const uint8_t *data, size_t len,
             uint8_t out[static 32]) INK_WUR;

/* Connects to the key store of dir: PostgreSQL when dir/keystore.url names one (its tables
 * must exist: keys_init_dir makes them), else the SQLite file dir/keystore.db. */
int keys_db_connect(const char *dir, struct ksdb **out) INK_WUR;

/* Runs one statement with no result rows inside the key store; INK_ERR_STORE on failure. */
int keys_exec(struct keys *k, const char *sql);
/* Opens a write transaction as the key store's one writer (ksdb_begin); INK_ERR_STORE if not. */
int keys_begin(struct keys *k);

/* keys_samlog_included_many inside the caller's write transaction (samlog.c): the marks of the
 * records a checkpoint names go in with the head that covers them (auditlog.c). */
int keys_samlog_mark_in(struct keys *k, const int64_t *ids, const int64_t *log_seqs,
                        size_t n) INK_WUR;

/* Loads one of the built-in CA's certificates by name ('root', 'issuing', 'tsa', 'ocsp') and,
 * when key != NULL, its private key (ca_store.c). INK_ERR_NOT_FOUND when there is none. */
int keys_ca_load(struct keys *k, const char *name, EVP_PKEY **key, X509 **cert) INK_WUR;
/* Seals key and stores it with cert under name, replacing what was there. */
int keys_ca_store(struct keys *k, const char *name, EVP_PKEY *key, X509 *cert) INK_WUR;

/* Issues a signer certificate from the built-in issuing CA for pkey (ca_store.c). */
int keys_ca_issue(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj, uint8_t **der,
                  size_t *len, char serial_hex[static 41], int64_t *not_before,
                  int64_t *not_after) INK_WUR;
/* A PKCS#10 request for an external CA, signed by pkey, or (ext given: the key is in a token
 * and pkey its public half) by ext. */
int keys_ca_csr(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj,
                const struct ca_signer *ext, uint8_t **der, size_t *len) INK_WUR;

/* ---- certificates from an external CA (extcert.c) ---- */

/* Replaces the external CAs with those of the PEM file path (relative to k->dir; NULL or ""
 * none): a regular file, not a link, owned by root or us and writable by nobody else, holding
 * CA certificates only, at least one of them self-signed. INK_ERR_CONFIG otherwise. */
int keys_extca_load(struct keys *k, const char *path) INK_WUR;
/* Checks a certificate an external CA issued for the PENDING credential id, whose public key
 * is pub, before it is linked. Each refusal is logged with the check that failed:
 * INK_ERR_UNSUPPORTED no external CA configured; INK_ERR_INVALID not one DER certificate;
 * INK_ERR_WRONG_KEY another public key; INK_ERR_WRONG_SUBJECT commonName or serialNumber not
 * exactly the registered ones, or another name (attribute, subjectAltName) in it;
 * INK_ERR_KEY_USAGE a CA or a key usage the assurance level does not allow; INK_ERR_EXPIRED not
 * valid now; INK_ERR_UNTRUSTED no chain to a configured CA; INK_ERR_POLICY a signature
 * algorithm or key the policy refuses. On success the serial and validity are set. */
int keys_extcert_check(struct keys *k, const char *id, const uint8_t *der, size_t len,
                       EVP_PKEY *pub, char serial_hex[static 41], int64_t *not_before,
                       int64_t *not_after) INK_WUR;
/* Makes a fresh audit log key (the newest, so the one in use) when the one in use does not
 * open under this master key (auditlog.c). */
int keys_log_key_ensure(struct keys *k) INK_WUR;

/* Records a revoked serial and renews the CRL. */
int keys_ca_revoke(struct keys *k, const char *serial_hex, int reason, int64_t when) INK_WUR;
/* Makes the CRL of every revoked serial afresh, numbered above the stored one and above after. */
int keys_ca_crl_renew(struct keys *k, int64_t after) INK_WUR;
/* Adds the entries of a CRL the key store's issuing CA signed (ca_crl_read: INK_ERR_UNTRUSTED
 * for another issuer or key) to the revoked serials; *added: how many were new, *number its
 * crlNumber. The CRL itself is not renewed. */
int keys_ca_crl_witness(struct keys *k, const uint8_t *der, size_t len, size_t *added,
                        int64_t *number) INK_WUR;

/* ---- PKCS#11 backend (p11.c) ---- */

#define KEYS_P11_DATA_LEN 32

/* Loads the allow-listed module, finds the token by label, logs in as CKU_USER with the PIN
 * from pkcs11_pin_file (0600; relative to dir), finds or makes the master secret. */
int keys_p11_open(const char *dir, const struct keys_params *kp, struct keys_p11 **out) INK_WUR;
/* Logs out, closes the session, finalises and unloads the module; accepts NULL. */
void keys_p11_close(struct keys_p11 *p);
/* The per-credential derivation data: SHA-256 over a label, Argon2id(PIN, salt) with the
 * configured parameters, id, owner and algo. It plays the role of the soft backend's kek. */
/* Argon2id(PIN, salt) into out under the SAM's own bound on how many run at once
 * (params.kdf_gate): INK_ERR_BUSY when it is full. */
int keys_pin_stretch(const struct keys *k, const struct keys_kdf *cost, const char *pin,
                     const uint8_t *salt, size_t saltlen, uint8_t out[static 32]) INK_WUR;
int keys_p11_derive_data(const struct keys *k, const struct keys_kdf *cost, const char *pin, const uint8_t *salt,
                         size_t saltlen, const char *id, const char *owner, const char *algo,
                         uint8_t data[static KEYS_P11_DATA_LEN]) INK_WUR;
/* Generates a key pair in the token; *pub (public only) for the certificate, *blob (malloc'd)
 * the private key wrapped under the key derived from data. EC P-256/384/521 and RSA only. */
int keys_p11_generate(struct keys *k, enum policy_key_type type, int bits, const char *curve,
                      const uint8_t data[static KEYS_P11_DATA_LEN], EVP_PKEY **pub,
                      uint8_t **blob, size_t *bloblen) INK_WUR;
/* Unwraps (and at once destroys) the key: 0, or INK_ERR_AUTH for a wrong PIN. */
int keys_p11_check(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN],
                   const uint8_t *blob, size_t len, enum policy_key_type type) INK_WUR;
/* Unwraps into a sensitive, non-extractable session key, signs n digests (ECDSA -> DER;
 * RSA PKCS#1 v1.5 with DigestInfo when pss_salt < 0, else RSASSA-PSS with that salt length,
 * MGF1 with md), destroys it. */
int keys_p11_sign(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN],
                  const uint8_t *blob, size_t len, enum policy_key_type type, long pss_salt,
                  const EVP_MD *md, const uint8_t *const *digests, const size_t *digest_lens,
                  size_t n, uint8_t **sigs, size_t *sig_lens) INK_WUR;
/* Re-wraps blob from old_data to new_data, inside the token. */
int keys_p11_rewrap(struct keys *k, enum policy_key_type type,
                    const uint8_t old_data[static KEYS_P11_DATA_LEN],
                    const uint8_t new_data[static KEYS_P11_DATA_LEN], const uint8_t *blob,
                    size_t len, uint8_t **out, size_t *outlen) INK_WUR;

/* Test hook: unwraps blob as for signing and reports what the token says about the object. */
struct keys_p11_probe {
	int unwrap;                   /* 0, or the INK_ERR_* of the unwrap (nothing else set) */
	unsigned long flags_rv;       /* CK_RV of reading the three flags below */
	bool extractable, sensitive, never_extractable;
	unsigned long value_rv;       /* CK_RV of reading CKA_VALUE (EC) / CKA_PRIVATE_EXPONENT */
	unsigned long value_len;      /* ulValueLen after that read */
	unsigned long wrap_rv;        /* CK_RV of trying to wrap the unwrapped key again */
};
int keys_p11_test_probe(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN],
                        const uint8_t *blob, size_t len, enum policy_key_type type,
                        struct keys_p11_probe *out) INK_WUR;

#endif
