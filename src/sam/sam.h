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
#define SAM_SEALED_MAX 128
/* The longest one-time password inkand forwards (its request fields are capped at this): a
 * longer code must be a wrong code, never a protocol error that answers differently. */
#define SAM_OTP_MAX 16
/* Channels between inkand and inkan-sam: one request at a time on each, so this many at once
 * (signatures are made in parallel; everything else takes turns inside the SAM). */
#define SAM_CHANNELS_MAX 64

enum sam_msg {
	SAM_MSG_PING = 1,        /* -> OK, u32 pid */
	SAM_MSG_TOTP_NEW = 2,    /* cstring user_id -> OK, string sealed, cstring base32 seed */
	SAM_MSG_TOTP_CHECK = 3,  /* cstring user_id, string sealed, cstring code, u32 window -> OK, u64 step */
	/* Key manager (fields in sam_cred order; "" owner = any, for officers' operations). */
	SAM_MSG_KEY_CREATE = 10,   /* owner, cn, subject serial, algo, pin, u8 external -> cred, string csr */
	SAM_MSG_KEY_LIST = 11,     /* owner -> u32 n, n x cred */
	SAM_MSG_KEY_GET = 12,      /* owner, id -> cred */
	SAM_MSG_KEY_IMPORT = 13,   /* owner, id, string cert -> cred */
	SAM_MSG_KEY_PIN = 14,      /* owner, id, old pin, new pin, 2FA -> u64 otp step */
	SAM_MSG_KEY_REVOKE = 15,   /* owner, id, u32 reason -> (nothing) */
	SAM_MSG_KEY_RENEW = 16,    /* owner, id, pin, cn, subject serial, 2FA -> cred, u64 otp step */
	/* 2FA = string sealed TOTP seed, cstring otp, u32 window: no PIN is tried without it. */
	SAM_MSG_KEY_DESTROY = 17,  /* owner -> u32 count (every key of a deregistered signer) */
	SAM_MSG_KEY_UNLOCK = 18,   /* id -> (nothing) */
	SAM_MSG_CA_CHAIN = 19,     /* -> string PEM (issuing CA, root) */
	SAM_MSG_CA_CRL = 20,       /* -> string DER */
	SAM_MSG_BACKUP = 21,       /* -> string blob */
	SAM_MSG_RESTORE = 22,      /* string blob [, string crl DER ("" none)] -> u32 count */
	SAM_MSG_CA_ARL = 26,       /* -> string DER (the root's CRL) */
	/* Signing (SCAL2): owner, string session hash(32), cred, string sealed TOTP seed, otp,
	 * u32 window, pin, hash OID ("" unknown), u32 ttl, u32 n, n x string hash
	 * -> string sad(32), u64 otp step, u64 expires, cstring serial */
	SAM_MSG_AUTHORIZE = 23,
	/* owner, string session hash(32), cred, string sad(32), sign algo OID, hash OID, u32 n,
	 * n x string hash -> u32 n, n x string signature, cstring serial */
	SAM_MSG_SIGN = 24,
	SAM_MSG_SAD_DROP = 25,     /* string sad(32) -> (nothing) */
	/* Audit log (40-49). head = u64 size, string root(32), u64 time, string sig. */
	SAM_MSG_LOG_HEAD = 40,     /* -> head (the last signed), u8 closed, string log public key (SPKI DER) */
	SAM_MSG_LOG_EXTEND = 41,   /* u64 from, u8 final, u32 n, n x 32-byte leaf hash -> head */
	/* RFC 3161 (30-39): cstring hash OID, string imprint, string nonce ("" none), u8 certReq
	 * -> string TimeStampResp DER, cstring serial (hex), u64 genTime. The SAM's own
	 * tsa_policy_oid is the policy. */
	SAM_MSG_TSA_STAMP = 30,
	SAM_REPLY_OK = 0x80,
	SAM_REPLY_ERR = 0x81,
};

/* Reads one frame into b (cleared first); INK_ERR_IO on EOF or a short read. */
int sam_frame_read(int fd, struct ink_buf *b) INK_WUR;
/* Writes b's bytes as one frame. */
int sam_frame_write(int fd, const struct ink_buf *b) INK_WUR;

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
/* Round trip; INK_ERR_SAM_UNAVAILABLE once the child has died (it is never restarted silently). */
int sam_ping(struct sam_client *c) INK_WUR;
/* New TOTP seed for user_id, generated and sealed in the SAM. *seed_b32 is the base32 seed to
 * show the user once (secmem: secmem_free it). */
int sam_totp_new(struct sam_client *c, const char *user_id, uint8_t sealed[static SAM_SEALED_MAX],
                 size_t *sealed_len, char **seed_b32) INK_WUR;
/* Checks a 6-digit code against the sealed seed at the SAM's clock, window steps either side;
 * on a match *step is the matched time step (the caller refuses steps already used). */
int sam_totp_check(struct sam_client *c, const char *user_id, const uint8_t *sealed,
                   size_t sealed_len, const char *code, int window, int64_t *step) INK_WUR;

/* Key manager requests; owner "" (or NULL) means any owner. Errors as keys.h describes. */
int sam_key_create(struct sam_client *c, const char *owner, const char *cn, const char *subj_serial,
                   const char *algo, const char *pin, bool external, struct sam_cred *out,
                   uint8_t **csr, size_t *csr_len) INK_WUR;
int sam_key_list(struct sam_client *c, const char *owner, struct sam_cred **out, size_t *n) INK_WUR;
int sam_key_get(struct sam_client *c, const char *owner, const char *id, struct sam_cred *out) INK_WUR;
int sam_key_import(struct sam_client *c, const char *owner, const char *id, const uint8_t *cert,
                   size_t len, struct sam_cred *out) INK_WUR;
/* The second factor the SAM checks before any PIN (wrong or reused code: INK_ERR_AUTH). */
struct sam_otp {
	const uint8_t *sealed;
	size_t sealed_len;
	const char *code;
	int window;
};
int sam_key_pin(struct sam_client *c, const char *owner, const char *id, const char *old_pin,
                const char *new_pin, const struct sam_otp *otp, int64_t *step) INK_WUR;
int sam_key_revoke(struct sam_client *c, const char *owner, const char *id, uint32_t reason) INK_WUR;
int sam_key_renew(struct sam_client *c, const char *owner, const char *id, const char *pin,
                  const char *cn, const char *subj_serial, const struct sam_otp *otp,
                  struct sam_cred *out, int64_t *step) INK_WUR;
int sam_key_destroy(struct sam_client *c, const char *owner, uint32_t *count) INK_WUR;
int sam_key_unlock(struct sam_client *c, const char *id) INK_WUR;
/* *out malloc'd (NUL-terminated for the PEM). */
int sam_ca_chain(struct sam_client *c, char **pem) INK_WUR;
int sam_ca_crl(struct sam_client *c, uint8_t **der, size_t *len) INK_WUR;
int sam_ca_arl(struct sam_client *c, uint8_t **der, size_t *len) INK_WUR;
int sam_backup(struct sam_client *c, uint8_t **blob, size_t *len) INK_WUR;
/* Restores a backup; crl (DER, NULL/0 none) is the CA's last CRL, a witness of revocations
 * after the backup (keys_restore). */
int sam_restore(struct sam_client *c, const uint8_t *blob, size_t len, const uint8_t *crl,
                size_t crl_len, uint32_t *count) INK_WUR;

/* An authorization request (the SAM checks OTP, then PIN, then mints the SAD). */
struct sam_authz {
	const char *owner;
	const uint8_t *session;          /* 32 bytes: SHA-256 of the bearer token */
	const char *cred;
	const uint8_t *sealed;           /* the signer's sealed TOTP seed */
	size_t sealed_len;
	const char *otp;
	int window;
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
/* Signs n hashes under a SAD; sigs[i] malloc'd. */
int sam_sign(struct sam_client *c, const char *owner, const uint8_t session[static 32],
             const char *cred, const uint8_t sad[static SAM_SAD_LEN], const char *sig_alg,
             const char *hash_oid, const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
             uint8_t **sigs, size_t *sig_lens, char serial[static 41]) INK_WUR;
int sam_sad_drop(struct sam_client *c, const uint8_t sad[static SAM_SAD_LEN]) INK_WUR;

/* The audit log's signer (audit/audit.h): the last signed head and the log public key
 * (SubjectPublicKeyInfo DER, malloc'd); and a new head over n more leaves from size from. */
struct audit_head;
int sam_log_head(struct sam_client *c, struct audit_head *out, bool *closed, uint8_t **spki,
                 size_t *len) INK_WUR;
/* final: inkand is stopping; records found above this head at the next start were not written
 * by a crashed inkand and are not signed then. */
int sam_log_extend(struct sam_client *c, uint64_t from, const uint8_t *leaves, size_t n, bool final,
                   struct audit_head *out) INK_WUR;

/* A time-stamp by the built-in TSA, whose key only the SAM holds: the SAM checks the fields
 * (allowed digest, imprint length, nonce size) and signs a TSTInfo it builds itself.
 * *resp is the TimeStampResp (DER, malloc'd); serial_hex and gen_time are for the audit. */
struct formats_tsa_req;
int sam_tsa_stamp(struct sam_client *c, const struct formats_tsa_req *r, uint8_t **resp,
                  size_t *len, char serial_hex[static 65], int64_t *gen_time) INK_WUR;

/* ---- server side, in inkan-sam ---- */

struct ink_config;
/* Serves requests on nfds channels (a thread each) until one of them ends; the key manager is
 * opened from data_dir/sam with the settings of cfg. */
int sam_serve(const int *fds, size_t nfds, const struct ink_config *cfg) INK_WUR;
/* `inkan-sam --init`: master key, key store, built-in CA; writes DIR/ca/root.pem, chain.pem. */
int sam_init(const struct ink_config *cfg) INK_WUR;

#endif
