/* keys: the key manager. Sole owner of the master key and the key store (DB-2); linked into
 * inkan-sam only (inkand never calls it). */
#ifndef INKAN_KEYS_H
#define INKAN_KEYS_H

#include "common/common.h"

#define KEYS_MASTER_LEN 32
/* Sealed blob: version(1) || nonce(12) || ciphertext || tag(16). */
#define KEYS_SEAL_OVERHEAD (1 + 12 + 16)

struct keys;

/* Creates dir (0700) with master.key (32 random bytes, 0600) and keystore.db (0600);
 * INK_ERR_EXISTS if a master key is already there (it is never overwritten). */
int keys_init_dir(const char *dir) INK_WUR;
/* Loads the master key into locked memory and opens the key store. Refuses (INK_ERR_CONFIG) a
 * master key whose check value is not the key store's (keystore-0005.sql). Refuses a master key
 * file that is readable by group or others, or of the wrong size. */
int keys_open(const char *dir, struct keys **out) INK_WUR;
/* Wipes the master key and closes the key store; accepts NULL. */
void keys_close(struct keys *k);

/* AES-256-GCM under HKDF-SHA256(master key, info = purpose): seals pt, binding aad.
 * out must hold ptlen + KEYS_SEAL_OVERHEAD bytes. */
int keys_seal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
              const uint8_t *pt, size_t ptlen, uint8_t *out, size_t *outlen) INK_WUR;
/* Opens a sealed blob; INK_ERR_CRYPTO when the tag, purpose or aad do not match. out must
 * hold inlen bytes; the caller wipes it. */
int keys_unseal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen) INK_WUR;

/* ---- settings the SAM reads from the shared configuration file ---- */

struct keys_params {
	uint32_t argon2_m_kib, argon2_t, argon2_p;  /* PIN stretching */
	struct ink_gate *kdf_gate;                 /* bounds the PIN stretchings at once (NULL: no bound) */
	struct ink_pool *kdf_pool;                 /* runs them at a lower priority (NULL: in the caller) */
	/* Called around work that needs no key store state and takes long (a PIN stretching with
	 * its wait for a kdf_gate slot, a key generation), never inside a key store transaction:
	 * the caller lets go of its lock there, so that other requests go on. NULL: not called. */
	void (*slow_begin)(void *arg);
	void (*slow_end)(void *arg);
	/* Called around a use of the key store's main connection by a thread that called in
	 * without the caller's lock (keys_signer_open after keys_readers_open): takes it, and
	 * gives it back. NULL: not called. Both get slow_arg. */
	void (*store_begin)(void *arg);
	void (*store_end)(void *arg);
	void *slow_arg;
	int64_t max_pin_failures;                  /* wrong PINs before the credential locks */
	int pin_min_len;                           /* shortest new PIN; 0: POLICY_PIN_MIN_DEFAULT */
	int level;                                 /* assurance level 1-4: certificate key usage */
	int cert_days;                             /* signer certificate lifetime */
	int cert_minutes;                          /* ... in minutes instead, when not 0 */
	const char *crl_url;                       /* CRL distribution point of issued certificates */
	const char *arl_url;                       /* ... of the issuing CA certificate (the root's CRL) */
	const char *ocsp_url;                      /* authorityInfoAccess OCSP of issued certificates */
	const char *policy_oid;                    /* certificatePolicies OID, NULL or "" for none */
	const char *organization;                  /* O= of the built-in CA and of signer certificates */
	/* PKCS#11 backend: read by keys_set_params only (not kept). */
	const char *key_backend;                   /* "soft" (NULL, "") or "pkcs11" */
	const char *pkcs11_module;                 /* absolute path of the module */
	const char *pkcs11_allowed_modules;        /* colon-separated allow-list of module paths */
	const char *pkcs11_token_label;            /* token to use */
	const char *pkcs11_pin_file;               /* token user PIN, 0600; relative to the key dir */
	/* External CAs whose certificates may be linked to pending keys: a PEM file, relative to
	 * the key dir; NULL or "" refuses every external certificate. Loaded by keys_set_params. */
	const char *external_ca_file;
};
/* Copies the settings (strings are copied) and loads external_ca_file (INK_ERR_CONFIG when
 * it is unsafe, unreadable or holds no usable CA). With key_backend = "pkcs11" it also opens
 * the token session (keys_close closes it); new credentials are then made in the token. */
int keys_set_params(struct keys *k, const struct keys_params *p) INK_WUR;

/* ---- the built-in CA (its keys sealed in the key store) ---- */

/* Creates root (P-384), issuing CA, TSA and OCSP responder certificate once; INK_ERR_EXISTS if
 * present. */
int keys_ca_init(struct keys *k) INK_WUR;
/* The chain as PEM (issuing CA, then root); *pem malloc'd. */
int keys_ca_chain_pem(struct keys *k, char **pem) INK_WUR;
/* The root certificate as PEM; *pem malloc'd. */
int keys_ca_root_pem(struct keys *k, char **pem) INK_WUR;
/* The current CRL (DER), made afresh after every revocation; *der malloc'd. */
int keys_ca_crl(struct keys *k, uint8_t **der, size_t *len) INK_WUR;
/* The root's CRL (authority revocation list: the issuing CA is never revoked, so it lists
 * nobody), DER, malloc'd; made afresh (crlNumber = its time) once a day, so relying parties
 * that trust only the root can check the issuing CA. */
int keys_ca_arl(struct keys *k, uint8_t **der, size_t *len) INK_WUR;
/* A TimeStampResp by the built-in TSA key under policy_oid (formats_tsa_respond decides the
 * content; the issuing CA goes with the TSA certificate when asked). *resp malloc'd. */
struct formats_tsa_req;
int keys_tsa_stamp(struct keys *k, const char *policy_oid, const struct formats_tsa_req *r,
                   uint8_t **resp, size_t *len, char serial_hex[static 65],
                   int64_t *gen_time) INK_WUR;
/* keys_tsa_stamp in two steps, so that a caller holding a lock over struct keys can let go of
 * it while the token is signed (as keys_signer_* for signatures): open loads the TSA key and
 * certificates (under the caller's lock); respond needs no lock and no key store; free wipes
 * the key. Serials are random (formats_tsa_respond): no counter is shared. */
struct keys_tsa;
int keys_tsa_open(struct keys *k, struct keys_tsa **out) INK_WUR;
int keys_tsa_respond(const struct keys_tsa *t, const char *policy_oid,
                     const struct formats_tsa_req *r, uint8_t **resp, size_t *len,
                     char serial_hex[static 65], int64_t *gen_time) INK_WUR;
void keys_tsa_free(struct keys_tsa *t);

/* The TSA certificate as PEM; *pem malloc'd. */
int keys_ca_tsa_pem(struct keys *k, char **pem) INK_WUR;

/* ---- the OCSP responder (ocsp.c): RFC 6960 for the issuing CA ---- */

/* Most CertIDs one request may ask about, the largest DER CertID and the largest nonce
 * extension value (RFC 8954: a nonce of 1..32 octets, inside an OCTET STRING). */
#define KEYS_OCSP_IDS_MAX 8
#define KEYS_OCSP_ID_MAX 256
#define KEYS_OCSP_NONCE_MAX 64
/* Makes the responder's key and certificate (issued by the issuing CA) when there is none or
 * the one there ends within 30 days; 0 when one is in place. */
int keys_ocsp_ensure(struct keys *k) INK_WUR;
/* What inkand asks: the CertIDs (DER, each re-read here) and the nonce extension's value (NULL:
 * none). The status is never asked for: it comes from the CA's own records. */
struct keys_ocsp_req {
	const uint8_t *const *ids;
	const size_t *id_lens;
	size_t n;                  /* 1..KEYS_OCSP_IDS_MAX */
	const uint8_t *nonce;
	size_t nonce_len;          /* 1..KEYS_OCSP_NONCE_MAX when nonce != NULL */
	int64_t validity;          /* seconds from thisUpdate to nextUpdate */
	bool may_sign;             /* false: answer from the cache only (INK_ERR_BUSY otherwise) */
};
/* A successful OCSPResponse (DER, malloc'd) signed by the responder: per CertID good (a
 * certificate of the issuing CA that is not revoked), revoked (time and reason from the CA's
 * records) or unknown (another issuer, a digest we do not know, a serial we never issued).
 * One CertID without a nonce is answered from a cache of pre-produced responses while less
 * than half its validity has passed and the status it states is still the status now (so a
 * revocation shows at once); *fresh says whether it was signed now. INK_ERR_INVALID for a
 * malformed CertID or nonce. */
int keys_ocsp_respond(struct keys *k, const struct keys_ocsp_req *q, uint8_t **resp, size_t *len,
                      bool *fresh) INK_WUR;
/* Forgets every pre-produced response (after a revocation or a restore). */
void keys_ocsp_forget(struct keys *k);

/* ---- signers' credentials ---- */

#define KEYS_ID_LEN 32
#define KEYS_PIN_MAX 64     /* = POLICY_PIN_MAX */
#define KEYS_ALGO_MAX 15

enum keys_status {
	KEYS_PENDING = 0,      /* key made, certificate not yet linked: unusable */
	KEYS_ACTIVE = 1,
	KEYS_LOCKED = 2,       /* too many wrong PINs: a registration officer unlocks */
	KEYS_REVOKED = 3,      /* certificate revoked, key destroyed */
	KEYS_DESTROYED = 4,    /* key destroyed (deregistration, expiry) */
};

/* The public view of a credential; cert and pub are malloc'd (keys_cred_clear frees). */
struct keys_cred {
	char id[KEYS_ID_LEN + 1];
	char owner[KEYS_ID_LEN + 1];
	char algo[KEYS_ALGO_MAX + 1];
	int status;
	int64_t pin_failures;
	int64_t created_at;
	char serial[41];
	int64_t not_before, not_after;
	int64_t revoked_at;
	int reason;
	uint8_t *cert;
	size_t cert_len;
	uint8_t *pub;
	size_t pub_len;
	int auth_mode;              /* KEYS_AUTH_*: how the owner lets it be activated */
};
void keys_cred_clear(struct keys_cred *c);
/* Frees a list from keys_cred_list. */
void keys_creds_free(struct keys_cred *c, size_t n);

/* Who the certificate names; taken from the registration record. */
struct keys_subject {
	const char *common_name;
	const char *serial_number;   /* the signer's user id */
};

/* A new PIN (key creation, PIN change) against policy_check_pin with the configured
 * pin_min_len: INK_ERR_POLICY, logged with the rule it breaks, when refused. */
int keys_pin_check_policy(const struct keys *k, const char *pin) INK_WUR;

/* Makes a key pair for owner under the PIN (algo from policy: "P-256" default, "P-384",
 * "P-521", "RSA-2048" (warning; refused after 2030), "RSA-3072", "RSA-4096", "Ed25519").
 * With the built-in CA the certificate is issued at once (ACTIVE); with external_ca the key
 * stays PENDING and *csr (DER, malloc'd) is the request to send to that CA. */
int keys_cred_create(struct keys *k, const char *owner, const struct keys_subject *subj,
                     const char *algo, const char *pin, bool external_ca, struct keys_cred *out,
                     uint8_t **csr, size_t *csr_len) INK_WUR;
/* Links a certificate from an external CA to a PENDING key of owner (same public key, usage
 * acceptable for the assurance level). */
int keys_cred_import_cert(struct keys *k, const char *owner, const char *id, const uint8_t *der,
                          size_t len, struct keys_cred *out) INK_WUR;
/* One credential; owner NULL for any owner. Expired certificates are destroyed on the way. */
int keys_cred_get(struct keys *k, const char *owner, const char *id, struct keys_cred *out) INK_WUR;
/* The credentials of owner (NULL: all); *out malloc'd. */
int keys_cred_list(struct keys *k, const char *owner, struct keys_cred **out, size_t *n) INK_WUR;
/* Checks the PIN by opening the key. A wrong PIN counts; reaching the limit locks
 * (INK_ERR_LOCKED thereafter). On success kek[32] is the key-encryption key to keep, in
 * secmem, for the life of one authorization. */
int keys_cred_open(struct keys *k, const char *owner, const char *id, const char *pin,
                   uint8_t kek[static 32]) INK_WUR;
/* Signs n digests with the credential whose kek was obtained by keys_cred_open. sig_alg is a
 * policy OID; for RSASSA-PSS pss_hash is the digest OID (salt length = digest length). The
 * plain key exists in locked memory for this call only. sigs[i] malloc'd. */
int keys_cred_sign(struct keys *k, const char *id, const uint8_t kek[static 32],
                   const char *sig_alg, const char *hash_oid, const uint8_t *const *digests,
                   const size_t *digest_lens, size_t n, uint8_t **sigs, size_t *sig_lens) INK_WUR;
/* keys_cred_sign in two steps, so that a caller holding a lock over struct keys can let go of
 * it while the signatures are made: open checks everything keys_cred_sign checks and decodes
 * the key (under the caller's lock; after keys_readers_open, without it: the key is read on a
 * reader, and a witness check it needs first is made between keys_params.store_begin/end);
 * sign makes the signatures and needs no lock unless keys_signer_shared() (a PKCS#11 token
 * session: sign under the lock); free wipes.
 * sign spreads the batch over at most `threads` threads (0: the machine's cores). */
struct keys_signer;
/* pss_salt: RSASSA-PSS's salt length (-1: the digest length), which policy_pss_salt_ok()
 * must allow for the key (INK_ERR_POLICY otherwise); -1 for every other algorithm. */
int keys_signer_open(struct keys *k, const char *id, const uint8_t kek[static 32],
                     const char *sig_alg, const char *hash_oid, long pss_salt,
                     const size_t *digest_lens, size_t n, struct keys_signer **out) INK_WUR;
/* A SAD's spend as keys_sad_spend makes it: the record id_hash's lefts become to (the record
 * goes when last) only if they are still from. */
struct keys_sad_spend_req {
	const uint8_t *id_hash;      /* 32 bytes */
	const uint8_t *from, *to;
	size_t from_len, to_len;
	bool last;
};
/* No spend was tried with the key's read (*spent of keys_signer_open_spend). */
#define KEYS_SPEND_NOT_TRIED 1
/* keys_signer_open, and, when the key store shares its SADs (keys_sads_shared) and the key is
 * read on a reader (keys_readers_open), spend made in the statement that reads the key: one
 * round trip where there were two, on every signature of every node. The spend is made only if
 * the SAD has not expired and the key's row allows these signatures (active, not past its end,
 * an algorithm that can make them): what is refused after the read costs no count. *spent: 0
 * (spent), INK_ERR_REPLAY (nothing changed: the counts changed meanwhile, the record is gone or
 * expired, or the key's row refused it), KEYS_SPEND_NOT_TRIED (nothing tried: spend is NULL,
 * the SADs are not shared, or the call failed before the read), or INK_ERR_STORE (the
 * statement failed, or its connection was made again during it: whether the SAD was spent is
 * not known; the call fails). */
int keys_signer_open_spend(struct keys *k, const char *id, const uint8_t kek[static 32],
                           const char *sig_alg, const char *hash_oid, long pss_salt,
                           const size_t *digest_lens, size_t n,
                           const struct keys_sad_spend_req *spend, int *spent,
                           struct keys_signer **out) INK_WUR;
bool keys_signer_shared(const struct keys_signer *sg);
int keys_signer_sign(struct keys_signer *sg, const uint8_t *const *digests,
                     const size_t *digest_lens, size_t n, size_t threads, uint8_t **sigs,
                     size_t *sig_lens) INK_WUR;
void keys_signer_free(struct keys_signer *sg);
/* How a credential may be activated (auth_mode): as the service's allow_explicit_authorize
 * says, or only through the OAuth consent page, never by credentials/authorize. */
#define KEYS_AUTH_SERVICE 0
#define KEYS_AUTH_OAUTH_ONLY 1
/* Sets owner's credential's auth_mode (the caller checked the owner's PIN and OTP);
 * INK_ERR_NOT_FOUND when it is not owner's. */
int keys_cred_set_auth_mode(struct keys *k, const char *owner, const char *id, int mode) INK_WUR;
/* Re-seals the key under new_pin (old_pin required; a wrong one counts). */
int keys_cred_change_pin(struct keys *k, const char *owner, const char *id, const char *old_pin,
                         const char *new_pin) INK_WUR;
/* Revokes the certificate (RFC 5280 reason code), destroys the key, renews the CRL. owner
 * NULL: any owner (security officer). */
int keys_cred_revoke(struct keys *k, const char *owner, const char *id, int reason) INK_WUR;
/* New key and certificate with the same subject and algorithm under pin; the old one is
 * revoked (superseded) and destroyed. */
int keys_cred_renew(struct keys *k, const char *owner, const char *id, const char *pin,
                    const struct keys_subject *subj, struct keys_cred *out) INK_WUR;
/* Destroys every key of owner (deregistration), revoking live certificates
 * (cessationOfOperation); *count is how many. */
int keys_cred_destroy_owner(struct keys *k, const char *owner, size_t *count) INK_WUR;
/* Unlocks a LOCKED credential. */
int keys_cred_unlock(struct keys *k, const char *id) INK_WUR;

/* ---- the persons the SAM serves, and the sessions it opened (persons.c) ---- */

#define KEYS_NAME_MAX 64
#define KEYS_CN_MAX 256
#define KEYS_TEXT_MAX 256
#define KEYS_PSEUDONYM_MAX 32
#define KEYS_SEED_MAX 64

enum keys_person_status {
	KEYS_PERSON_ACTIVE = 1,
	KEYS_PERSON_LOCKED = 2,      /* too many wrong one-time passwords: a registration officer unlocks */
	KEYS_PERSON_GONE = 3,        /* deregistered: the record stays, nothing is allowed */
};

/* The SAM's record of a person (no secret). */
struct keys_person {
	char id[KEYS_ID_LEN + 1];
	char username[KEYS_NAME_MAX + 1];
	char display_name[KEYS_CN_MAX + 1];
	char pseudonym[KEYS_PSEUDONYM_MAX + 1];  /* the certificates' serialNumber */
	uint32_t roles;
	int status;
	bool enrolled;                           /* a confirmed TOTP seed */
	bool seed_pending;                       /* a seed was shown, not yet confirmed */
	int64_t otp_step;                        /* last TOTP step used */
	int64_t otp_failures;
	int64_t created_at, activated_at;
	char created_by[KEYS_ID_LEN + 1];
	char activated_from[KEYS_TEXT_MAX + 1];
};

/* What a registration records. The identity document's number is kept only as a keyed hash
 * (HMAC under a master-key-derived key) of type and number, so that the same person cannot be
 * registered twice; it goes into no certificate and no log. */
struct keys_registration {
	const char *id, *username, *display_name;
	uint32_t roles;
	const char *idv_method, *idv_evidence;    /* NULL for privileged accounts */
	const char *doc_type, *doc_number;        /* NULL for privileged accounts */
	const char *created_by;
};
/* The one-time bootstrap token (64 hex digits) `inkan-sam --init` hands to `inkan init` for
 * the first security officer: a new one replaces any before; take checks and spends it
 * (INK_ERR_AUTH: wrong, or none left). */
#define KEYS_BOOTSTRAP_TOKEN_LEN 64
int keys_bootstrap_token_new(struct keys *k, char token[static KEYS_BOOTSTRAP_TOKEN_LEN + 1]) INK_WUR;
int keys_bootstrap_token_take(struct keys *k, const char *token) INK_WUR;
/* Adds a person with a fresh pseudonym (out: pseudonym[KEYS_PSEUDONYM_MAX + 1]).
 * INK_ERR_EXISTS: id or username taken; INK_ERR_IDENTITY: the document is registered. */
int keys_person_add(struct keys *k, const struct keys_registration *reg,
                    char pseudonym[static KEYS_PSEUDONYM_MAX + 1]) INK_WUR;
/* INK_ERR_NOT_FOUND when the SAM has no such person. */
int keys_person_get(struct keys *k, const char *id, struct keys_person *out) INK_WUR;
/* Active persons holding role, other than except_id (may be NULL). */
int keys_person_count_role(struct keys *k, uint32_t role, const char *except_id,
                           size_t *n) INK_WUR;
int keys_person_set_roles(struct keys *k, const char *id, uint32_t roles) INK_WUR;
/* Sets the status; back to ACTIVE also clears the OTP failure count. */
int keys_person_set_status(struct keys *k, const char *id, int status) INK_WUR;
/* Seals and stores a TOTP seed: as the pending one (pending) or as the confirmed one; seed
 * NULL clears both (re-enrolment). */
int keys_person_seed_store(struct keys *k, const char *id, bool pending, const uint8_t *seed,
                           size_t len) INK_WUR;
/* Opens the confirmed (or pending) seed into seed[KEYS_SEED_MAX] (the caller's secmem).
 * INK_ERR_ENROL when there is none. */
int keys_person_seed(struct keys *k, const char *id, bool pending, uint8_t *seed,
                     size_t *len) INK_WUR;
/* The pending seed becomes the confirmed one, activated now from source. */
int keys_person_seed_activate(struct keys *k, const char *id, const char *source) INK_WUR;
/* Keeps (a keyed hash of) the one-time activation code that opens the person's first, set-up
 * session; code NULL forgets it (after enrolment). */
int keys_person_activation_set(struct keys *k, const char *id, const char *code) INK_WUR;
/* 0 when code is the person's activation code (constant time), INK_ERR_AUTH otherwise. */
int keys_person_activation_check(struct keys *k, const char *id, const char *code) INK_WUR;
/* Claims a TOTP step (only later steps than any used before; INK_ERR_REPLAY otherwise) and
 * clears the failure count. */
int keys_person_claim_step(struct keys *k, const char *id, int64_t step) INK_WUR;
/* Counts a wrong one-time password; at max_failures the person is locked (*locked_now). */
int keys_person_fail(struct keys *k, const char *id, int64_t max_failures,
                     bool *locked_now) INK_WUR;

struct keys_session {
	char person[KEYS_ID_LEN + 1];
	bool setup;                  /* enrolment only */
	int64_t expires_at;
};
/* Opens a session bound to SHA-256 of a bearer token, for ttl seconds. */
int keys_session_open(struct keys *k, const uint8_t token_hash[static 32], const char *person,
                      bool setup, int64_t ttl) INK_WUR;
/* INK_ERR_AUTH when unknown, INK_ERR_EXPIRED when past its end. */
int keys_session_get(struct keys *k, const uint8_t token_hash[static 32],
                     struct keys_session *out) INK_WUR;
/* A session and its person's record read together (one statement): INK_ERR_AUTH when the
 * session is unknown or its person is gone, INK_ERR_EXPIRED (ss filled, who not) when past
 * its end, INK_ERR_STORE when the key store could not be read (keys_session_get answers
 * INK_ERR_AUTH then). */
int keys_session_actor(struct keys *k, const uint8_t token_hash[static 32], struct keys_session *ss,
                       struct keys_person *who) INK_WUR;
/* A setup session becomes a full one (after enrolment). */
int keys_session_upgrade(struct keys *k, const uint8_t token_hash[static 32]) INK_WUR;
/* Ends one session (token_hash), every session of a person (person), or every one of the
 * person's but token_hash (both). */
int keys_session_end(struct keys *k, const uint8_t *token_hash, const char *person) INK_WUR;

/* ---- the roll-back witness (witness.c, docs/keys.md "A database recovery cannot revive") ---- */

/* The file of the key store directory holding the newest key store state this node has seen. */
#define KEYS_WITNESS_FILE "store.witness"
/* Compares the key store with the witness now: a store that moved on is written to it (none
 * yet: made from the store); one behind it (a database recovery, a roll-back of its tables) is
 * refused with an alert, and so is every later call until keys_witness_accept: INK_ERR_STORE. */
int keys_witness_check(struct keys *k) INK_WUR;
/* Before a request: refused once rolled back; checked again when never checked or when the
 * connection was made again since (ksdb_generation, a connection the server ended made again
 * first). */
int keys_witness_gate(struct keys *k) INK_WUR;
/* Inside a request, after a read: checked again when the connection was made again meanwhile. */
int keys_witness_fresh(struct keys *k) INK_WUR;
/* Only whether the key store was found behind the witness (INK_ERR_STORE), without touching
 * its connection: safe from a thread that does not hold what guards k (a signature, whose key
 * read vouches for its own connection: keys_signer_open). */
int keys_witness_refused(const struct keys *k) INK_WUR;
/* The security officer's way out (inkan-sam --accept-rollback): the witness is set to the key
 * store as it is now, after the revocations were re-applied. */
int keys_witness_accept(struct keys *k) INK_WUR;

/* ---- the SAM's own audit records (samlog.c) ---- */

struct store_audit_rec;
/* Keeps one record of the SAM's own (rec's fields as audit_record_fill made them; seq
 * ignored) until inkand has put it into the audit log; *id its number. */
int keys_samlog_add(struct keys *k, const struct store_audit_rec *rec, int64_t *id) INK_WUR;
/* Keeps n records in one transaction (all or none). */
int keys_samlog_add_many(struct keys *k, const struct store_audit_rec *recs, size_t n) INK_WUR;
/* This node's records (several nodes may share the key store: each SAM keeps its own, named
 * by DIR/node.id) not yet in the audit log with an id above after, oldest first, at most max:
 * ids[i] and recs[i] (seq 0); both malloc'd. */
int keys_samlog_pending(struct keys *k, int64_t after, size_t max, int64_t **ids,
                        struct store_audit_rec **recs, size_t *n) INK_WUR;
/* Calls fn for this node's records not yet in the audit log, oldest first, one at a time (rec is one
 * buffer, reused: fn may change it), until fn returns non-zero (1: stop, 0 returned; < 0:
 * that error returned). */
int keys_samlog_scan(struct keys *k, int (*fn)(void *arg, int64_t id, struct store_audit_rec *rec),
                     void *arg) INK_WUR;
/* Every record of any node's with lo <= id <= hi not yet in the audit log, in id order (one
 * statement): fn(arg, id, rec (seq 0), mine: whether this node's SAM made it); a nonzero fn
 * ends the walk (> 0: no error). */
int keys_samlog_range(struct keys *k, int64_t lo, int64_t hi,
                      int (*fn)(void *arg, int64_t id, struct store_audit_rec *rec, bool mine),
                      void *arg) INK_WUR;
/* This key store's name for its records in the audit log (16 hex digits). */
#define KEYS_SAMLOG_EPOCH_LEN 16
int keys_samlog_epoch(struct keys *k, char epoch[static KEYS_SAMLOG_EPOCH_LEN + 1]) INK_WUR;
/* Record id is at log_seq in the audit log (a row of sam_audit_logged, added once; the record
 * itself is never changed). */
int keys_samlog_included(struct keys *k, int64_t id, int64_t log_seq) INK_WUR;
/* The same for n records, in one transaction (one commit, however many a checkpoint names):
 * all or none (a failure leaves them pending, as before the checkpoint). A record marked
 * already keeps its mark (the SAM's checkpoint check names only records still pending). */
int keys_samlog_included_many(struct keys *k, const int64_t *ids, const int64_t *log_seqs,
                              size_t n) INK_WUR;

/* ---- backup (12.3.1) ---- */

/* One blob holding the whole key store, sealed under the master key: keys stay sealed under
 * their signers' PINs inside it. *blob malloc'd. */
int keys_backup(struct keys *k, uint8_t **blob, size_t *len) INK_WUR;
/* Restores a blob of the same master key, all or nothing; a corrupted, truncated or foreign blob
 * is refused (INK_ERR_CRYPTO, INK_ERR_INVALID) and nothing changes. Nothing revoked or destroyed
 * after the backup becomes usable again; what shows it (witnesses), applied as a union:
 *  - the live key store being replaced, when its issuing CA is the backup's: its revoked and
 *    destroyed credentials stay so (sealed keys removed), locks and PIN failure counts stay, its
 *    revoked serials (table and CRL) join the list. It may hold no other CA's credentials, and no
 *    usable or pending key the backup lacks (INK_ERR_EXISTS: they would be lost);
 *  - crl (DER, crl_len bytes; NULL/0 none): a CRL the backup's issuing CA signed
 *    (INK_ERR_UNTRUSTED otherwise), e.g. the last one it published; its serials join the list.
 *    One older than the backup's own CRL shows nothing and counts as no witness.
 * Every credential whose serial is on the list is revoked and its key destroyed, and the CRL is
 * issued again with a number above the live, the backup's and crl's. With neither witness (a
 * bare key store) the restore is refused (INK_ERR_NO_WITNESS) unless no_witness_ok: the caller
 * checked dual control. The replay is logged. The persons the backup knows come back where the
 * live store does not know them (the live record wins). check (NULL: none) runs inside the
 * restore's transaction, after everything is in place and before the commit: an error from it
 * takes the whole restore back (the bare machine's officers are checked against the backup's
 * records this way). *count: credentials restored. */
int keys_restore(struct keys *k, const uint8_t *blob, size_t len, const uint8_t *crl,
                 size_t crl_len, bool no_witness_ok, int (*check)(void *arg), void *arg,
                 size_t *count) INK_WUR;

/* ---- master key shares (dual control of its backup) ---- */

#define KEYS_SHARE_MAX 128
/* Splits the loaded master key into count shares, any threshold of which rebuild it
 * ("inkan1-T-I-<hex>-<check>"); 2 <= threshold <= count <= 16. */
int keys_master_split(struct keys *k, int threshold, int count, char shares[][KEYS_SHARE_MAX]) INK_WUR;
/* Rebuilds a master key from shares; INK_ERR_AUTH when too few or they do not check out. */
int keys_master_combine(const char *const *shares, size_t n,
                        uint8_t master[static KEYS_MASTER_LEN]) INK_WUR;
/* Installs a rebuilt master key in dir. The key store's own key (its check value matches: a
 * node joining a shared key store) is written to dir alone. Another key only while the key
 * store holds no credential: the CA sealed under the replaced key is dropped (a restore brings
 * the backup's back) and the check value becomes the new key's. */
int keys_master_install(const char *dir, const uint8_t master[static KEYS_MASTER_LEN]) INK_WUR;

/* ---- the audit log's signing key and the SAM's view of the log tree ---- */

struct audit_head;
#define KEYS_LOG_LEAVES_MAX 65536
/* 0 when the key store's newest audit log key opens under the loaded master key;
 * INK_ERR_NOT_FOUND when it has none, INK_ERR_CRYPTO when it is sealed under another master
 * key. Makes nothing (keys_log_head makes the key when there is none). */
int keys_log_key_opens(struct keys *k) INK_WUR;
/* The last head this key store signed (size 0 and no signature before the first) and the
 * log public key (SubjectPublicKeyInfo DER, malloc'd), made on first use. */
int keys_log_head(struct keys *k, struct audit_head *out, bool *closed, uint8_t **spki,
                  size_t *spki_len) INK_WUR;
/* *closed: the last head was marked final (inkand stopped cleanly after it). */
/* Appends n leaf hashes to the tree of size from (which must be the last signed size:
 * INK_ERR_EXISTS otherwise), recomputes the root from the stored frontier and signs the new
 * head with the SAM's clock; the head and the marks of the m SAM records it covers (ids[i] at
 * seqs[i], keys_samlog_included_many) are stored in one transaction: never a head without its
 * marks (they would read as pending, and refuse every later checkpoint), nor marks without it. */
int keys_log_extend(struct keys *k, uint64_t from, const uint8_t *leaves, size_t n, bool final,
                    const int64_t *ids, const int64_t *seqs, size_t m,
                    struct audit_head *out) INK_WUR;

/* ---- what the SAM attests of itself (sam/attest.c, docs/compliance.md) ---- */

/* Signs an attestation text into sig[AUDIT_SIG_MAX] with the audit log key (the text must
 * begin with AUDIT_ATTEST_PREFIX: never a checkpoint's); *spki (malloc'd) the log public key. */
int keys_log_attest(struct keys *k, const char *text, uint8_t *sig, size_t *sig_len,
                    uint8_t **spki, size_t *spki_len) INK_WUR;
/* The PKCS#11 module and token in use, as they describe themselves (C_GetInfo,
 * C_GetSlotInfo, C_GetTokenInfo; blank padding removed). */
struct keys_token_info {
	char library_manufacturer[33], library_description[33];
	unsigned library_major, library_minor, cryptoki_major, cryptoki_minor;
	char slot_description[65];
	unsigned long slot_flags;
	char manufacturer[33], model[17], label[33], serial[17];
	unsigned long flags;
	unsigned hw_major, hw_minor, fw_major, fw_minor;
};
/* INK_ERR_NOT_FOUND when no token is in use (key_backend = soft). */
int keys_token_info(const struct keys *k, struct keys_token_info *out) INK_WUR;
/* What the key store holds, without a secret: persons by role and separation of duties (of
 * those not removed), credentials by backend, algorithm and status. */
struct keys_census {
	int64_t persons, roles[6];       /* roles[i]: holders of role bit 1 << i */
	int64_t privileged_signers;      /* a privileged role and the signer's */
	int64_t all_privileged;          /* every privileged role at once */
	int64_t officer_conflicts;       /* security officer and auditor or registration officer */
	char credentials[1024];          /* "backend/algo/status=n" joined by ',' ("" none) */
	int64_t usable_credentials;      /* active or locked */
};
int keys_census(struct keys *k, struct keys_census *out) INK_WUR;

/* ---- spend records of SADs (sads.c) ---- */

/* One SAD's spend record, as inkan-sam's sad.c makes and checks it (docs/architecture.md, "SADs
 * across nodes"); the key store only keeps it. Everything but `lefts` is fixed when the SAD is
 * issued and covered by `mac`; the kek is only in `sealed`, under a key that needs the SAD
 * itself besides the master key (keys_sad_derive): no row, alone or with the master key, opens
 * it. */
#define KEYS_SAD_SEALED_LEN 48            /* a 32-byte kek and its 16-byte GCM tag */
struct keys_sad {
	uint8_t id_hash[32];              /* SHA-256 of the SAD */
	char owner[33];
	uint8_t session[32];
	char cred[33];
	char serial[41];
	char hash_oid[65];
	int64_t expires;
	uint8_t *granted;                 /* the hashes and their counts (malloc'd) */
	size_t granted_len;
	uint8_t sealed[KEYS_SAD_SEALED_LEN];
	uint8_t mac[32];
	uint8_t *lefts;                   /* the counts left (malloc'd): the only mutable part */
	size_t lefts_len;
};
/* Frees and wipes what a keys_sad holds (not the struct itself). */
void keys_sad_clear(struct keys_sad *s);
/* True when the key store is shared by several nodes (PostgreSQL): SADs are then kept and
 * spent here; a one-node key store (SQLite) leaves them in inkan-sam's memory. */
bool keys_sads_shared(const struct keys *k) INK_WUR;
/* The keys of one SAD: seal[32] || mac[32] = HKDF-SHA256(ikm = master key, salt = the SAD's 32
 * random bytes, info "inkan sad v1", 64 bytes). */
int keys_sad_derive(const struct keys *k, const uint8_t sad[static 32], uint8_t seal[static 32],
                    uint8_t mac[static 32]) INK_WUR;
/* Gives a shared key store's SAD reads and spends (keys_sad_get, keys_sad_spend) connections
 * of their own, KEYS_SAD_CONNS at most, each opened at its first use: those two calls may then
 * run from several threads at once and beside any other use of k, so that a signHash does not
 * hold the SAM's lock over their round trips. Call once, before any thread uses them; nothing
 * to do for a one-node key store. keys_close closes them. */
#define KEYS_SAD_CONNS 4
int keys_sads_open(struct keys *k) INK_WUR;
/* Gives signatures' key reads (keys_signer_open) connections of their own, KEYS_READERS,
 * opened now and each compared with the roll-back witness (so call it after the start's
 * keys_witness_check, which makes the witness on a first start): keys_signer_open may then run
 * from several threads at once and beside any other use of k, and waits for none of its
 * commits. Call once, before any thread uses them. keys_close closes them. */
#define KEYS_READERS 4
int keys_readers_open(struct keys *k) INK_WUR;
/* Stores a new record, after deleting those expired a minute ago or more. */
int keys_sad_put(struct keys *k, const struct keys_sad *s) INK_WUR;
/* Reads the record of id_hash into *out (keys_sad_clear it); INK_ERR_NOT_FOUND if none.
 * Thread-safe after keys_sads_open. */
int keys_sad_get(struct keys *k, const uint8_t id_hash[static 32], struct keys_sad *out) INK_WUR;
/* Spends, in one conditional statement: the record's lefts become to[to_len] (deleted instead
 * when last) only if they are still from[from_len]. 0, or INK_ERR_REPLAY when they were not
 * (another request or node spent meanwhile, or the record is gone). Thread-safe after
 * keys_sads_open. */
int keys_sad_spend(struct keys *k, const uint8_t id_hash[static 32], const uint8_t *from,
                   size_t from_len, const uint8_t *to, size_t to_len, bool last) INK_WUR;
/* Deletes the records of one SAD (id_hash), or of a credential, owner or session: the one
 * argument not NULL. */
int keys_sad_drop(struct keys *k, const uint8_t *id_hash, const char *cred, const char *owner,
                  const uint8_t *session) INK_WUR;

#endif
