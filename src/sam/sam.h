/* sam: the signature activation module. inkand talks to the inkan-sam process over a
 * socketpair with length-prefixed binary frames; only inkan-sam holds the master key. */
#ifndef INKAN_SAM_H
#define INKAN_SAM_H

#include <sys/types.h>

#include "common/common.h"

/* Frame: u32 big-endian length (<= SAM_FRAME_MAX), then the payload; the payload starts with
 * a u8 message type. Replies: SAM_REPLY_OK followed by the fields, or SAM_REPLY_ERR with a
 * u32 error code (negated INK_ERR_*). */
#define SAM_FRAME_MAX (16u * 1024u * 1024u)
/* The longest one-time password inkand forwards (its request fields are capped at this): a
 * longer code must be a wrong code, never a protocol error that answers differently. */
#define SAM_OTP_MAX 16
/* Channels between inkand and inkan-sam: one request at a time on each, so this many at once
 * (signatures are made in parallel; everything else takes turns inside the SAM). */
#define SAM_CHANNELS_MAX 64

/* A field "session" is the SHA-256 (string, 32 bytes) of a bearer token that the SAM itself
 * opened a session for (SAM_MSG_LOGIN, after checking the person's OTP against its own record);
 * every act on a key or a person names one, and the SAM checks the person's role in its own
 * record. "otp" fields are a fresh code of that person's own seed, checked by the SAM with its
 * own window and attempt counter. */
enum sam_msg {
	SAM_MSG_PING = 1,        /* -> OK, u32 pid */
	/* Key manager (fields in sam_cred order; "" owner = any, for the read-only requests). */
	SAM_MSG_KEY_CREATE = 10,   /* session (signer), algo, pin, u8 external -> cred, string csr */
	SAM_MSG_KEY_LIST = 11,     /* owner -> u32 n, n x cred */
	SAM_MSG_KEY_GET = 12,      /* owner, id -> cred */
	SAM_MSG_KEY_IMPORT = 13,   /* session (owner), id, string cert -> cred */
	SAM_MSG_KEY_PIN = 14,      /* session (owner), id, old pin, new pin, otp -> u64 otp step */
	SAM_MSG_KEY_REVOKE = 15,   /* session (owner or security officer), id, u32 reason -> () */
	SAM_MSG_KEY_RENEW = 16,    /* session (owner), id, pin, otp -> cred, u64 otp step */
	SAM_MSG_KEY_UNLOCK = 18,   /* session (registration officer), id -> () */
	SAM_MSG_CA_CHAIN = 19,     /* -> string PEM (issuing CA, root) */
	SAM_MSG_CA_CRL = 20,       /* -> string DER */
	SAM_MSG_BACKUP = 21,       /* session (system operator) -> string blob */
	/* session (system operator), otp, string blob, string crl DER ("" none) -> u32 count */
	SAM_MSG_RESTORE = 22,
	/* onto a bare key store (the SAM serves nobody): operator id, otp, security officer id, otp,
	 * string blob, string crl -> u32 count; both officers checked against the backup's own
	 * records of them, inside the restore's transaction */
	SAM_MSG_RESTORE_BARE = 27,
	SAM_MSG_CA_ARL = 26,       /* -> string DER (the root's CRL) */
	/* Signing (SCAL2): session (signer), cred, otp, pin, hash OID ("" unknown), u32 ttl, u32 n,
	 * n x string hash -> string sad(32), u64 otp step, u64 expires, cstring serial */
	SAM_MSG_AUTHORIZE = 23,
	/* 29 was OAUTH_AUTHORIZE (a consent by a signer with a session), unreachable since the
	 * consent form takes password, PIN and one OTP (OAUTH_CONSENT): retired, refused as an
	 * unknown message; never to be given to another message. */
	/* One act for a signer with no session (inkand's consent form took user name, password,
	 * PIN and one OTP; inkand checked the password, as for LOGIN): cstring person id, string
	 * binding(32) (the SAD's "session": no SAM session is opened, none outlives the consent),
	 * cstring client id, then as AUTHORIZE -> as AUTHORIZE. The person must be an active,
	 * enrolled signer in the SAM's record; the OTP is checked (its step claimed once, a wrong
	 * one counted on the counter LOGIN and AUTHORIZE count on), then the PIN. */
	SAM_MSG_OAUTH_CONSENT = 62,
	/* A signer without a session grants an OAuth client the service scope (list and read
	 * their credentials, nothing that signs): cstring person id, cstring client id, cstring
	 * otp -> u64 step. The person an active, enrolled signer; the OTP as at LOGIN (one counter);
	 * no session opened, no key touched; the SAM's record names the client. */
	SAM_MSG_OAUTH_SERVICE = 63,
	/* owner, string session hash(32), cred, string sad(32), sign algo OID, hash OID, u32 PSS
	 * salt length (0xFFFFFFFF: not RSASSA-PSS), u32 n, n x string hash -> u32 n,
	 * n x string signature, cstring serial */
	SAM_MSG_SIGN = 24,
	SAM_MSG_SAD_DROP = 25,     /* string sad(32) -> (nothing); INK_ERR_STORE: the key store kept it */
	/* Audit log (40-49). head = u64 size, string root(32), u64 time, string sig. */
	SAM_MSG_LOG_HEAD = 40,     /* -> head (the last signed), u8 closed, string log public key (SPKI DER) */
	/* u64 from, u8 final, u32 m (<= n), m x (u64 SAM record id, u64 its seq in the log), u32 n,
	 * n x 32-byte leaf hash -> head. The SAM's own records not yet in a signed head must be
	 * among the n leaves, in order and unchanged, once older than the grace (all when final,
	 * which needs LOG_CLOSE first); else no head is signed. */
	SAM_MSG_LOG_EXTEND = 41,
	/* u64 after -> cstring epoch, u32 n, n x (u64 id, u64 time, actor, role, action, subject,
	 * result, detail): the SAM's own records with an id above after that no signed head holds
	 * yet, to append (request_id "sam-<epoch>-<id>", source "inkan-sam"), oldest first. The
	 * epoch names this key store: one made anew numbers its records from 1 again. */
	SAM_MSG_LOG_PENDING = 42,
	SAM_MSG_LOG_CLOSE = 43,    /* -> (): the SAM's own shutdown record; it then serves the log only */
	/* RFC 3161 (30-39): cstring hash OID, string imprint, string nonce ("" none), u8 certReq
	 * -> string TimeStampResp DER, cstring serial (hex), u64 genTime. The SAM's own
	 * tsa_policy_oid is the policy. */
	SAM_MSG_TSA_STAMP = 30,
	/* RFC 6960 (31): u8 may_sign, string nonce extension value ("" none), u32 n (1..8),
	 * n x string CertID DER -> string OCSPResponse DER, u8 fresh (signed now, not cached).
	 * The status of each certificate is the SAM's own finding (keys_ocsp_respond); without
	 * may_sign only a pre-produced response is given (else INK_ERR_BUSY). */
	SAM_MSG_OCSP = 31,
	SAM_MSG_CA_TSA = 28,       /* -> string PEM (the TSA certificate alone) */
	/* Persons and sessions (50-69), see sam/persons.c. */
	SAM_MSG_BOOTSTRAP = 50,    /* id, username, init token -> cstring seed, cstring pseudonym */
	/* id, session, otp, activation code (before enrolment), source -> u32 roles, u8 setup, u64 step */
	SAM_MSG_LOGIN = 51,
	SAM_MSG_LOGOUT = 52,       /* session, u8 which (0 this, 1 all of its person, 2 all others) -> () */
	SAM_MSG_ENROL = 53,        /* session (setup) -> cstring seed */
	SAM_MSG_ENROL_CONFIRM = 54,/* session (setup), otp, source -> u64 step, u32 roles */
	/* session, id, username, display name, u32 roles, idv method, idv evidence, document type,
	 * document number -> cstring pseudonym, cstring one-time activation code */
	SAM_MSG_REGISTER = 55,
	SAM_MSG_ROLE_SET = 56,     /* session (security officer), target, u32 role, u8 grant -> u32 roles */
	SAM_MSG_PERSON_UNLOCK = 57,/* session (RO for a signer, SO otherwise), target, otp -> () */
	SAM_MSG_REENROL = 58,      /* session (RO for a signer, SO otherwise), target, otp -> cstring activation code */
	SAM_MSG_PERSON_REMOVE = 59,/* session (RO for signers, SO otherwise), target, otp -> u32 keys */
	SAM_MSG_PERSON_GET = 60,   /* id -> the SAM's record (no secret), see sam_person_get */
	SAM_MSG_ATTEST = 61,       /* string nonce (<= 64) -> cstring text, string sig, string log key (sam/attest.c) */
	/* session (owner), id, pin, u32 mode (KEYS_AUTH_*), otp -> u64 otp step: whether the
	 * credential also accepts AUTHORIZE (PIN and OTP forwarded by a client) or only
	 * OAUTH_CONSENT; the owner alone, with a fresh OTP and the PIN (a wrong one counts) */
	SAM_MSG_KEY_AUTH_MODE = 64,
	SAM_REPLY_OK = 0x80,
	SAM_REPLY_ERR = 0x81,
};

/* Reads one frame into b (cleared first); INK_ERR_IO on EOF or a short read. */
int sam_frame_read(int fd, struct ink_buf *b) INK_WUR;
/* Writes b's bytes as one frame. */
int sam_frame_write(int fd, const struct ink_buf *b) INK_WUR;
/* Reads a reply's type: 0 for SAM_REPLY_OK (the fields follow), the error code an ERR reply
 * carries, INK_ERR_PROTOCOL for anything else. */
int sam_reply_status(struct ink_buf *rep) INK_WUR;
/* Reads a signed audit log head (u64 size, string root, u64 time, string signature). */
struct audit_head;
int sam_get_head(struct ink_buf *b, struct audit_head *h) INK_WUR;

/* The public view of a credential as the SAM reports it (no secret). cert and pub malloc'd. */
struct sam_cred {
	char id[33];
	char owner[33];
	char algo[16];
	uint32_t status;           /* enum keys_status */
	uint64_t pin_failures;
	int64_t created_at;
	char serial[41];
	int64_t not_before, not_after;
	int64_t revoked_at;
	uint32_t reason;
	uint8_t *cert;
	size_t cert_len;
	uint8_t *pub;
	size_t pub_len;
	uint32_t auth_mode;        /* KEYS_AUTH_* (0 as the service says, 1 OAuth only) */
};
void sam_cred_clear(struct sam_cred *c);
void sam_creds_free(struct sam_cred *c, size_t n);
/* Encodes / decodes one credential on the channel. */
int sam_put_cred(struct ink_buf *b, const struct sam_cred *c) INK_WUR;
int sam_get_cred(struct ink_buf *b, struct sam_cred *c) INK_WUR;

/* ---- client side, in inkand ---- */

struct sam_client;

/* Starts sam_path (the inkan-sam program) on one channel (the far end of a socketpair) with
 * --data data_dir (and --config config when not NULL). */
int sam_client_spawn(const char *sam_path, const char *data_dir, const char *config,
                     struct sam_client **out) INK_WUR;
/* The same with `channels` channels (1..SAM_CHANNELS_MAX: requests under way at once), and
 * the child drops to uid/gid (no supplementary groups) before it runs inkan-sam; the caller
 * must then be root. (uid_t)-1 keeps the caller's identity. */
int sam_client_spawn_as(const char *sam_path, const char *data_dir, const char *config,
                        size_t channels, uid_t uid, gid_t gid, struct sam_client **out) INK_WUR;
/* Stops the child and frees; accepts NULL. */
void sam_client_free(struct sam_client *c);
/* Called once, from a monitor thread, when the child exits (status as from waitpid). */
void sam_client_set_death_hook(struct sam_client *c, void (*fn)(void *arg, int status), void *arg);
/* Process id of the child (for logs). */
pid_t sam_client_pid(const struct sam_client *c);
/* The channels to inkan-sam now: how many, busy with a request, callers waiting for one. */
struct sam_load {
	unsigned channels, busy, waiting;
	bool alive;
};
void sam_client_load(struct sam_client *c, struct sam_load *out);
/* Round trip; INK_ERR_SAM_UNAVAILABLE once the child has died (it is never restarted silently). */
int sam_ping(struct sam_client *c) INK_WUR;
/* ---- persons and the SAM's sessions (the SAM's own record decides) ---- */

#define SAM_PSEUDONYM_MAX 32

/* The first security officer (inkan init, with the one-time token `inkan-sam --init` gave it
 * on a pipe), while the SAM serves nobody: *seed_b32 (secmem) is their TOTP seed, to show
 * once. */
int sam_bootstrap(struct sam_client *c, const char *user_id, const char *username,
                  const char *token, char **seed_b32) INK_WUR;
/* After inkand checked the password: the SAM checks the OTP against its own record of the
 * person — or, before the person enrolled, the one-time activation code it issued (then
 * *setup: a session that can only enrol) — and opens its session for the token's hash.
 * INK_ERR_AUTH (wrong or reused code), INK_ERR_LOCKED, INK_ERR_DISABLED. */
int sam_login(struct sam_client *c, const char *user_id, const uint8_t session[static 32],
              const char *otp, const char *activation, const char *source, uint32_t *roles,
              bool *setup, int64_t *step) INK_WUR;
enum sam_logout_which { SAM_LOGOUT_THIS = 0, SAM_LOGOUT_ALL = 1, SAM_LOGOUT_OTHERS = 2 };
/* Ends the session, every session of its person, or every other one. */
int sam_logout(struct sam_client *c, const uint8_t session[static 32],
               enum sam_logout_which which) INK_WUR;
/* A new seed for the person of a setup session, shown to them alone (*seed_b32 secmem). */
int sam_enrol(struct sam_client *c, const uint8_t session[static 32], char **seed_b32) INK_WUR;
/* Confirms the new seed with its first code; the session becomes a full one. */
int sam_enrol_confirm(struct sam_client *c, const uint8_t session[static 32], const char *otp,
                      const char *source, uint32_t *roles) INK_WUR;
struct sam_reg {
	const char *user_id, *username, *display_name;
	uint32_t roles;
	const char *idv_method, *idv_evidence, *doc_type, *doc_number;
	const char *bootstrap_token;   /* the first security officer only (sam_bootstrap) */
};
/* Registers a person (a signer: registration officer, with identity record and document; a
 * privileged account: security officer). INK_ERR_IDENTITY: the document is registered.
 * *activation (secmem) is the one-time code that opens the person's first session. */
int sam_register(struct sam_client *c, const uint8_t session[static 32], const struct sam_reg *g,
                 char pseudonym[static SAM_PSEUDONYM_MAX + 1], char **activation) INK_WUR;
/* Grants or revokes one privileged role (security officer); *roles: the new set. */
int sam_role_set(struct sam_client *c, const uint8_t session[static 32], const char *target,
                 uint32_t role, bool grant, uint32_t *roles) INK_WUR;
/* Unlocks a person the SAM locked (the officer for the target, with their fresh OTP; a person
 * who is not locked is left as is). */
int sam_person_unlock(struct sam_client *c, const uint8_t session[static 32],
                      const char *target, const char *otp) INK_WUR;
/* Resets a person's second factor (registration officer, with their fresh OTP); *activation
 * (secmem) the new one-time code for the person's next, set-up session. */
int sam_reenrol(struct sam_client *c, const uint8_t session[static 32], const char *target,
                const char *otp, char **activation) INK_WUR;
/* Deregisters: keys destroyed, certificates revoked (officer, with their fresh OTP). */
int sam_person_remove(struct sam_client *c, const uint8_t session[static 32], const char *target,
                      const char *otp, uint32_t *count) INK_WUR;
/* The SAM's record of a person (no secret). */
struct sam_person {
	char username[65];
	char display_name[257];
	char pseudonym[SAM_PSEUDONYM_MAX + 1];
	uint32_t roles, status;
	bool enrolled;
	int64_t created_at, activated_at, otp_failures;
	char activated_from[257];
};
int sam_person_get(struct sam_client *c, const char *id, struct sam_person *out) INK_WUR;

/* Key manager requests. Reads take an owner ("" or NULL: any); acts take the session of the
 * person acting. Errors as keys.h describes. */
int sam_key_create(struct sam_client *c, const uint8_t session[static 32], const char *algo,
                   const char *pin, bool external, struct sam_cred *out, uint8_t **csr,
                   size_t *csr_len) INK_WUR;
int sam_key_list(struct sam_client *c, const char *owner, struct sam_cred **out, size_t *n) INK_WUR;
int sam_key_get(struct sam_client *c, const char *owner, const char *id, struct sam_cred *out) INK_WUR;
int sam_key_import(struct sam_client *c, const uint8_t session[static 32], const char *id,
                   const uint8_t *cert, size_t len, struct sam_cred *out) INK_WUR;
/* A fresh OTP is checked before any PIN (wrong or reused code: INK_ERR_AUTH). */
int sam_key_pin(struct sam_client *c, const uint8_t session[static 32], const char *id,
                const char *old_pin, const char *new_pin, const char *otp, int64_t *step) INK_WUR;
int sam_key_revoke(struct sam_client *c, const uint8_t session[static 32], const char *id,
                   uint32_t reason) INK_WUR;
/* Sets how the credential may be activated (mode KEYS_AUTH_*): a fresh OTP, then the PIN. */
int sam_key_auth_mode(struct sam_client *c, const uint8_t session[static 32], const char *id,
                      const char *pin, uint32_t mode, const char *otp, int64_t *step) INK_WUR;
int sam_key_renew(struct sam_client *c, const uint8_t session[static 32], const char *id,
                  const char *pin, const char *otp, struct sam_cred *out, int64_t *step) INK_WUR;
int sam_key_unlock(struct sam_client *c, const uint8_t session[static 32], const char *id) INK_WUR;
/* *out malloc'd (NUL-terminated for the PEM). */
int sam_ca_chain(struct sam_client *c, char **pem) INK_WUR;
int sam_ca_crl(struct sam_client *c, uint8_t **der, size_t *len) INK_WUR;
int sam_ca_arl(struct sam_client *c, uint8_t **der, size_t *len) INK_WUR;
int sam_backup(struct sam_client *c, const uint8_t session[static 32], uint8_t **blob,
               size_t *len) INK_WUR;
/* crl (DER, NULL/0 none) is the CA's last CRL, a witness of revocations after the backup. */
int sam_restore(struct sam_client *c, const uint8_t session[static 32], const char *otp,
                const uint8_t *blob, size_t len, const uint8_t *crl, size_t crl_len,
                uint32_t *count) INK_WUR;
/* Disaster recovery onto a bare key store: a system operator's and a security officer's fresh
 * OTPs of the seeds the backup holds for them (dual control). */
struct sam_bare_restore {
	const char *operator_id, *operator_otp;
	const char *officer_id, *officer_otp;
};
int sam_restore_bare(struct sam_client *c, const struct sam_bare_restore *b, const uint8_t *blob,
                     size_t len, const uint8_t *crl, size_t crl_len, uint32_t *count) INK_WUR;

/* An authorization request (the SAM checks OTP, then PIN, then mints the SAD). */
struct sam_authz {
	const uint8_t *session;          /* 32 bytes: SHA-256 of the bearer token */
	const char *client;              /* SAM_MSG_OAUTH_CONSENT: the OAuth client's id; NULL: none */
	const char *person;              /* SAM_MSG_OAUTH_CONSENT: the signer's id (session: the
	                                  * consent's own binding); NULL: a session's act */
	const char *cred;
	const char *otp;
	const char *pin;
	const char *hash_oid;            /* NULL or "" when the client did not say */
	uint32_t ttl;
	const uint8_t *const *hashes;
	const size_t *hash_lens;
	size_t n;
};
#define SAM_SAD_LEN 32
/* -> sad[SAM_SAD_LEN] (random; the client gets it base64url), the TOTP step used, the expiry
 * and the certificate serial. INK_ERR_AUTH: wrong or reused OTP; INK_ERR_BAD_PIN: wrong PIN. */
int sam_authorize(struct sam_client *c, const struct sam_authz *a, uint8_t sad[static SAM_SAD_LEN],
                  int64_t *step, int64_t *expires, char serial[static 41]) INK_WUR;
/* SAM_MSG_OAUTH_SERVICE: the person's OTP for a service-scope grant to client. INK_ERR_AUTH:
 * wrong or reused OTP (or unknown person); INK_ERR_LOCKED; INK_ERR_ENROL; INK_ERR_DENIED. */
int sam_oauth_service(struct sam_client *c, const char *user_id, const char *client,
                      const char *otp, int64_t *step) INK_WUR;
/* Signs n hashes under a SAD; sigs[i] malloc'd. */
int sam_sign(struct sam_client *c, const char *owner, const uint8_t session[static 32],
             const char *cred, const uint8_t sad[static SAM_SAD_LEN], const char *sig_alg,
             const char *hash_oid, long pss_salt, const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
             uint8_t **sigs, size_t *sig_lens, char serial[static 41]) INK_WUR;
int sam_sad_drop(struct sam_client *c, const uint8_t sad[static SAM_SAD_LEN]) INK_WUR;

/* The audit log's signer (audit/audit.h): the last signed head and the log public key
 * (SubjectPublicKeyInfo DER, malloc'd); and a new head over n more leaves from size from. */
struct audit_head;
int sam_log_head(struct sam_client *c, struct audit_head *out, bool *closed, uint8_t **spki,
                 size_t *len) INK_WUR;
/* final: inkand is stopping (after sam_log_close); records found above this head at the next
 * start were not written by a crashed inkand and are not signed then. ids/seqs: the SAM's own
 * records among the leaves and where (m pairs). */
int sam_log_extend(struct sam_client *c, uint64_t from, const uint8_t *leaves, size_t n, bool final,
                   const int64_t *ids, const int64_t *seqs, size_t m,
                   struct audit_head *out) INK_WUR;
/* The SAM's own records not yet in a signed head, with an id above after (at most
 * SAM_LOG_PENDING_MAX): ids[i], recs[i] (request_id and source filled in); both malloc'd.
 * epoch: the key store's name for its records. */
#define SAM_EPOCH_MAX 16
#define SAM_LOG_PENDING_MAX 1000
#define SAM_AUDIT_SOURCE "inkan-sam"      /* the source of the SAM's own records */
struct store_audit_rec;
int sam_log_pending(struct sam_client *c, int64_t after, char epoch[static SAM_EPOCH_MAX + 1],
                    int64_t **ids, struct store_audit_rec **recs, size_t *n) INK_WUR;
/* The SAM records the log's close; afterwards it serves the log only (and ping). */
int sam_log_close(struct sam_client *c) INK_WUR;

/* A time-stamp by the built-in TSA, whose key only the SAM holds: the SAM checks the fields
 * (allowed digest, imprint length, nonce size) and signs a TSTInfo it builds itself.
 * *resp is the TimeStampResp (DER, malloc'd); serial_hex and gen_time are for the audit. */
struct formats_tsa_req;
int sam_tsa_stamp(struct sam_client *c, const struct formats_tsa_req *r, uint8_t **resp,
                  size_t *len, char serial_hex[static 65], int64_t *gen_time) INK_WUR;

/* An OCSP response by the built-in responder (keys_ocsp_respond decides every status). ids:
 * the request's CertIDs (DER); nonce: its nonce extension value (NULL none). may_sign false:
 * only a pre-produced response (INK_ERR_BUSY when none is fresh). *resp malloc'd. */
int sam_ocsp(struct sam_client *c, bool may_sign, const uint8_t *nonce, size_t nonce_len,
             const uint8_t *const *ids, const size_t *id_lens, size_t n, uint8_t **resp,
             size_t *len, bool *fresh) INK_WUR;
/* The TSA certificate as PEM (*pem malloc'd, NUL-terminated). */
int sam_ca_tsa(struct sam_client *c, char **pem) INK_WUR;
/* The SAM's own reading of what it enforces (sam/attest.c, docs/compliance.md): *text
 * (malloc'd) starts with AUDIT_ATTEST_PREFIX, *sig is its signature by the audit log key,
 * *spki (malloc'd) that key; nonce (at most 64 bytes) appears in the text. */
int sam_attest(struct sam_client *c, const uint8_t *nonce, size_t nonce_len, char **text,
               uint8_t **sig, size_t *sig_len, uint8_t **spki, size_t *spki_len) INK_WUR;

/* ---- server side, in inkan-sam ---- */

struct ink_config;
/* Serves requests on nfds channels (a thread each) until one of them ends; the key manager is
 * opened from data_dir/sam with the settings of cfg. */
int sam_serve(const int *fds, size_t nfds, const struct ink_config *cfg) INK_WUR;
/* `inkan-sam --init`: master key, key store, built-in CA; writes DIR/ca/root.pem, chain.pem.
 * token_fd >= 0 (`--token-fd`, a pipe of inkan init's): the one-time token for the first
 * security officer is made and written there; otherwise none is (no first officer can be made
 * on that key store: inkan init makes new services). */
int sam_init(const struct ink_config *cfg, int token_fd) INK_WUR;
/* `inkan-sam --join`: a node joining a key store that has served (DIR/sam/keystore.url and this
 * node's copy of its master key, checked against the key store's check value); writes
 * DIR/ca/root.pem, chain.pem and audit-log.pem, and makes nothing in the key store. */
int sam_join(const struct ink_config *cfg) INK_WUR;
/* The security officer's way out after a database recovery (inkan-sam --accept-rollback),
 * once the revocations made since the recovery point are applied again (docs/keys.md): this
 * node's roll-back witness is set to the key store as it is, and the SAM starts again. */
int sam_accept_rollback(const struct ink_config *cfg) INK_WUR;

#endif
