/* sam_int: what the SAM's own files share (inkan-sam side only). */
#ifndef INKAN_SAM_INT_H
#define INKAN_SAM_INT_H

#include <pthread.h>

#include "sam/sam.h"

#define SAD_ID_LEN 32            /* random bytes behind a SAD; the client sees base64url */
#define SAD_MAX_LIVE 10000       /* live SADs at once; the oldest expire first */
#define SAD_MAX_HASHES 1000
#define SAD_HASH_MAX 64

struct sad_table;
struct keys;
struct keys_sad_spend_req;

/* One credential a request holds (hold.c); under mu. */
struct sam_hold_slot {
	char id[65];
	unsigned refs;                /* requests holding it or waiting for it; 0: a free slot */
	unsigned signing;             /* requests signing with it */
	bool pin;                     /* a PIN check of it under way */
	bool change;                  /* a change of its key or state under way */
	unsigned changes_waiting;
};

/* Shared by the channels' threads. Every handler but a signature's runs holding ks, and lets
 * go of it only where it touches none of the SAM's state: while it signs (the TSA), while it
 * stretches a PIN or makes a key (keys_params.slow_begin/end). mu guards what signatures share
 * with the rest (lock.c says which and why). What a request does with a credential
 * meanwhile is held in holds (hold.c). use is held for reading by every request, for writing
 * only by those that change everything at once (a restore, a person's removal with all their
 * keys, the log's close). The persons, their attempt counters, their last TOTP steps and the
 * SAM's sessions live in the key store (keys/persons.c): nothing about who may act is kept
 * only in memory. */
struct sam_state {
	pthread_mutex_t ks;           /* the key store's connection and what is read through it */
	pthread_mutex_t mu;           /* what signatures share with the rest (lock.c) */
	pthread_rwlock_t use;
	const struct ink_config *cfg;
	struct keys *keys;
	struct sad_table *sads;
	struct ink_gate *kdf_gate;  /* bounds its own Argon2id runs (argon2_slots) */
	struct ink_pool *kdf_pool;  /* runs them, as many workers as slots, at a lower priority */
	struct sam_hold_slot holds[SAM_CHANNELS_MAX]; /* under mu */
	pthread_cond_t holds_freed;   /* a hold ended (with mu) */
	/* Records of the hot paths (signatures, time-stamps), kept here and written to the key
	 * store in one transaction (sam_flush_records): no key store write per signature. */
	struct store_audit_rec *held; /* under mu */
	size_t nheld;
	struct store_audit_rec *spare;/* the other array (sam_flush_records) */
	size_t flushing;              /* records being written: with nheld, at most SAM_HELD_MAX */
	bool closing;                 /* the log was closed (LOG_CLOSE): only the log is served */
	char tsa_policy[128];         /* tsa_policy_oid of the configuration */
	size_t cores;                 /* online CPUs */
	size_t signing;               /* signHash requests making signatures now (under mu) */
};

struct keys_person;

/* ---- the SAM's two locks (lock.c) ---- */

#define SAM_LOCK_KS 1u
#define SAM_LOCK_MU 2u

/* Which of them this thread holds. */
unsigned sam_held(void);
/* Takes what of them this thread does not hold yet, in their order (ks before mu: taking ks
 * while holding mu lets mu go and takes it back). */
void sam_lock(struct sam_state *s, unsigned what);
void sam_unlock(struct sam_state *s, unsigned what);
/* Lets go of both; returns what was held, for sam_lock. */
unsigned sam_let_go(struct sam_state *s);
/* Holds exactly was again (a sam_held() of before): lets go of what it does not name. */
void sam_relock(struct sam_state *s, unsigned was);
/* Called holding mu (and maybe ks): waits for holds_freed, holding neither meanwhile. */
void sam_wait_holds(struct sam_state *s);
/* Around a use of the SAD table (sad.c): mu when the table is in memory (one node); nothing
 * more when the key store keeps it (its statements need ks, which the caller holds, or its
 * own connections: sad_table_unlocked). Returns what sam_sads_leave gives back. */
unsigned sam_sads_enter(struct sam_state *s);
void sam_sads_leave(struct sam_state *s, unsigned was);
/* keys_params.slow_begin/end: let go of both around work that touches no SAM state. */
void sam_slow_begin(void *arg);
void sam_slow_end(void *arg);
/* keys_params.store_begin/end: take ks (and give it back) around a witness check. */
void sam_store_begin(void *arg);
void sam_store_end(void *arg);

/* ---- what a request does with one credential (hold.c) ---- */

enum sam_use {
	SAM_USE_SIGN,    /* signatures with it: beside each other and beside a PIN check */
	SAM_USE_PIN,     /* a PIN check (authorization): one at a time per credential */
	SAM_USE_CHANGE,  /* a change of its key or state: alone, after those under way */
};
/* Waits (holding neither lock meanwhile: never call it inside a key store transaction, which
 * other requests' statements would join) until the credential may be used so, and holds it;
 * takes mu for it when the caller does not hold it, and gives back what the caller held.
 * INK_ERR_PROTOCOL for an id too long to be one. Release with sam_cred_release (the same). */
int sam_cred_hold(struct sam_state *s, const char *id, enum sam_use use) INK_WUR;
void sam_cred_release(struct sam_state *s, const char *id, enum sam_use use);

/* ---- proofs of the person acting (persons.c) ---- */

/* Reads a session field (string, the 32-byte SHA-256 of a bearer token). */
int sam_get_session(struct ink_buf *req, const uint8_t **hash) INK_WUR;
/* The person behind a live SAM session, active, holding need_role (0: any) in the SAM's own
 * record; a setup session (not yet enrolled) only when setup_ok. INK_ERR_AUTH: no such
 * session; INK_ERR_EXPIRED; INK_ERR_LOCKED; INK_ERR_DISABLED; INK_ERR_ENROL; INK_ERR_DENIED. */
int sam_actor(struct sam_state *s, const uint8_t hash[static 32], uint32_t need_role,
              bool setup_ok, struct keys_person *who) INK_WUR;
/* The person id names when no session stands for them (SAM_MSG_OAUTH_CONSENT): active,
 * enrolled and a signer in the SAM's own record. INK_ERR_AUTH (unknown), INK_ERR_LOCKED,
 * INK_ERR_DISABLED, INK_ERR_ENROL, INK_ERR_DENIED. */
int sam_signer_by_id(struct sam_state *s, const char *id, struct keys_person *who) INK_WUR;
/* Checks a TOTP code against the person's own sealed seed with the SAM's window, claims its
 * step (persistently: one code serves one act once, across login and authorization), counts
 * a wrong or reused code and locks at max_login_failures. INK_ERR_AUTH, INK_ERR_LOCKED. */
int sam_check_otp(struct sam_state *s, const char *person, const char *code,
                  int64_t *step) INK_WUR;
/* Reads a cstring OTP from req and checks it as sam_check_otp does. */
int sam_fresh_otp(struct sam_state *s, struct ink_buf *req, const char *person,
                  int64_t *step) INK_WUR;

/* Handlers of persons, enrolment, sessions and officers' acts (persons.c). */
int sam_handle_bootstrap(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_login(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_logout(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_enrol(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_enrol_confirm(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_register(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_role_set(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_person_unlock(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_reenrol(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_person_remove(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_person_get(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_oauth_service(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;

/* An OAuth client's id as inkand makes them (32 lower-case hex): the only text of inkand's
 * that goes into the SAM's records under that name (sign.c). */
bool sam_client_id_valid(const char *id) INK_WUR;

/* Handlers of the signing path (sign.c). */
int sam_handle_authorize(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_oauth_consent(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_sign(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_sad_drop(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
/* The SAM's signed reading of what it enforces (attest.c). */
int sam_handle_attest(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
/* The built-in TSA (tsa.c). */
int sam_handle_tsa_stamp(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;

/* The OCSP responder and the TSA certificate (ocsp.c). */
int sam_handle_ocsp(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_ca_tsa(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
/* Handlers of the audit log (log.c). */
int sam_handle_log_head(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_log_extend(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_log_pending(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;
int sam_handle_log_close(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep) INK_WUR;

/* ---- the SAM's own audit records (log.c) ---- */

/* The action name a request of this type is recorded under, NULL for requests that are not
 * the SAM's acts (reads, signatures, the log itself). */
const char *sam_act_name(uint8_t type);
/* Records the act of the request that just ran (its result r) in the key store, to be
 * copied into the audit log by inkand, with the held records ahead of it. Takes the locks it
 * needs (lock.c) and gives back what the caller held. */
void sam_act_record(struct sam_state *s, const char *action, int r);
/* The act of the request this thread serves: begun empty by dispatch, filled by the handler. */
void sam_act_begin(struct sam_state *s);
/* The subject of the act under way (a person or credential id). */
void sam_act_subject(struct sam_state *s, const char *subject);
/* Its actor (a username) and, unless 0, their roles. */
void sam_act_actor(struct sam_state *s, const char *username, uint32_t roles);
/* Its detail, printf-style. */
void sam_act_detail(struct sam_state *s, const char *fmt, ...) INK_PRINTF(2, 3);
/* Keeps a record of a hot path's act in memory (written at the next flush; at SAM_HELD_MAX held,
 * at once). Takes mu for it when the caller does not hold it. INK_ERR_STORE when it could be neither held nor written: the
 * caller then hands out nothing of what it made (no signature or token without its record). */
#define SAM_HELD_MAX 1024
int sam_hold_record(struct sam_state *s, const char *actor, const char *action,
                    const char *subject, int r, const char *detail);
/* Writes the held records into the key store, in one transaction, under ks and without mu
 * (lock.c). Takes what it needs and gives back what the caller held. */
void sam_flush_records(struct sam_state *s);
/* Room for one more held record (those being written count). Called holding mu. */
bool sam_held_room(const struct sam_state *s);

/* What an authorization allows, bound to one signer, one session and one credential. */
struct sad_grant {
	const char *owner;                 /* user id */
	const uint8_t *session;            /* SHA-256 of the bearer token (32 bytes) */
	const char *cred;                  /* credential id */
	const char *serial;                /* its certificate serial, for the audit of each use */
	const uint8_t *const *hashes;      /* the authorized digests (duplicates allowed) */
	const size_t *hash_lens;
	size_t n;
	const uint8_t *kek;                /* 32 bytes, copied into locked memory */
	int64_t expires;
	const char *hash_oid;              /* the digest the signer authorized ("" or NULL: none named) */
};

/* SADs whose spend records are kept in k's key store when it is shared by several nodes
 * (keys_sads_shared), else in this SAM's memory; their keks are sealed under keys of k's
 * master key and the SAD itself (sad.c). */
int sad_table_new(struct keys *k, struct sad_table **out) INK_WUR;
/* Wipes and frees what memory holds; accepts NULL. */
void sad_table_free(struct sad_table *t);
/* True when sad_check and sad_consume may run without the SAM's lock (the records are the
 * key store's, on connections of their own: keys_sads_open; this node's copies of them have a
 * lock of their own, sad.c); false: they need it (memory). */
bool sad_table_unlocked(const struct sad_table *t);
/* Stores a grant, its kek sealed; sad[SAD_ID_LEN] receives the random id to hand out. */
int sad_issue(struct sad_table *t, const struct sad_grant *g, uint8_t sad[static SAD_ID_LEN]) INK_WUR;
/* The spend sad_check prepared for sad_consume: the counts it read and what they become. */
struct sad_spend {
	uint8_t id_hash[32];
	int64_t expires;
	uint8_t *from, *to;
	size_t from_len, to_len;
	bool last;                         /* nothing remains after it: the record goes */
};
/* Frees what a spend holds; accepts one never filled. */
void sad_spend_clear(struct sad_spend *sp);
/* Checks that sad allows signing these n hashes now for owner/session/cred, as digests of
 * digest_oid (the one the signature will be made with: the one the grant named, or with none
 * named SHA-256/384/512, never another digest of the same length), and on success
 * copies the kek into kek[32] and the certificate serial into serial[41], and (sp not NULL)
 * prepares the spend. Nothing is consumed: call sad_consume after checking.
 * INK_ERR_AUTH (unknown, or bound to someone/something else), INK_ERR_SAD_EXPIRED,
 * INK_ERR_CRYPTO (a spend record that fails its MAC: edited in the key store; on the node that
 * minted the SAD its copy is checked instead, and a record gone or edited there is found by the
 * spend, which changes nothing: sad_consume then reads the record and refuses),
 * INK_ERR_TOO_LARGE (more than remain), INK_ERR_NOT_AUTHORIZED (a hash not, or no longer, allowed). */
int sad_check(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN], const char *owner,
              const uint8_t session[static 32], const char *cred, const char *digest_oid,
              const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
              uint8_t kek[static 32], char serial[static 41], struct sad_spend *sp) INK_WUR;
/* Uses up these hashes, in one step that only one request on one node wins for the same
 * counts; the SAD disappears when nothing remains. With sp (sad_check's), the counts it read
 * are written over in one statement, no read first; only when they changed meanwhile is the
 * record read again. 0, or an error of sad_check's (another request or node spent them
 * meanwhile: INK_ERR_NOT_AUTHORIZED or INK_ERR_TOO_LARGE; dropped: INK_ERR_AUTH),
 * INK_ERR_STORE, INK_ERR_BUSY (lost to other spends of the same SAD again and again). */
int sad_consume(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN],
                const struct sad_spend *sp, const uint8_t *const *hashes,
                const size_t *hash_lens, size_t n) INK_WUR;
/* The spend sp prepared, for the key store to make with the key's read
 * (keys_signer_open_spend: one round trip less a signature), into out; false when that is not
 * how this SAM spends (SADs kept in memory, sp not prepared, or the SAD expired: sad_consume
 * then spends or refuses as ever). */
bool sad_spend_with_read(const struct sad_table *t, const struct sad_spend *sp,
                         struct keys_sad_spend_req *out) INK_WUR;
/* What became of that spend (keys_signer_open_spend's *spent), for this node's copy of the
 * record (sad.c): it follows a spend made, and goes otherwise. */
void sad_spent_with_read(struct sad_table *t, const struct sad_spend *sp, int spent);
/* The drops: 0 once the SADs are gone on every node; INK_ERR_STORE (logged) when the key store
 * did not delete them — they are then still spendable, and an act that needs them gone must
 * not be reported done (memory never fails). */
/* Forgets a SAD (replayed OTP, revoked key). */
int sad_drop(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN]);
/* Forgets every SAD of a credential. */
int sad_drop_cred(struct sad_table *t, const char *cred);
/* Forgets every SAD of a person (locked, second factor reset, roles changed, removed). */
int sad_drop_owner(struct sad_table *t, const char *owner);
/* Forgets every SAD bound to a session (its end). */
int sad_drop_session(struct sad_table *t, const uint8_t session[static 32]);

#endif
