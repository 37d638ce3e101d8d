/* store: the storage interface (users, roles, identity records, sessions, audit rows) and its backends. */
#ifndef INKAN_STORE_H
#define INKAN_STORE_H

#include "common/common.h"

#define STORE_ID_LEN 32          /* user ids: 128 random bits as lower-case hex */
#define STORE_NAME_MAX 64        /* usernames: [A-Za-z0-9._@-], 1..64 bytes */
#define STORE_TEXT_MAX 256
#define STORE_HASH_MAX 256       /* encoded Argon2id hash */
#define STORE_SEALED_MAX 128     /* sealed TOTP seed from the SAM */
#define STORE_DETAIL_MAX 8192    /* audit detail: room for 100 SHA-512 hashes in hex */

enum store_user_status {
	STORE_USER_ACTIVE = 0,
	STORE_USER_LOCKED = 1,       /* too many failures: only a registration officer unlocks */
	STORE_USER_DISABLED = 2,     /* deregistered: never active again; history kept */
};

struct store_user {
	char id[STORE_ID_LEN + 1];
	char username[STORE_NAME_MAX + 1];
	char display_name[STORE_TEXT_MAX + 1];
	uint32_t roles;                      /* bit set of AUTH_ROLE_* (auth.h) */
	int status;                          /* enum store_user_status */
	bool must_change_password;
	int64_t failed_logins;
	int64_t totp_last_step;              /* last TOTP time step accepted (replay guard) */
	int64_t created_at;
	char created_by[STORE_NAME_MAX + 1];
	char password_hash[STORE_HASH_MAX + 1];  /* secret-adjacent: never rendered, wiped after use */
	uint8_t totp_sealed[STORE_SEALED_MAX];   /* TOTP seed sealed by the SAM */
	size_t totp_sealed_len;
};

/* How a registration officer verified a signer's identity (9.2.1). */
struct store_idv {
	char user_id[STORE_ID_LEN + 1];
	char method[STORE_TEXT_MAX + 1];        /* e.g. "in-person, passport" */
	char evidence_ref[STORE_TEXT_MAX + 1];  /* reference to the evidence kept elsewhere */
	char officer[STORE_NAME_MAX + 1];       /* username of the registration officer */
	int64_t verified_at;
};

struct store_session {
	uint8_t token_hash[32];              /* SHA-256 of the bearer token; the token is never stored */
	char user_id[STORE_ID_LEN + 1];
	int64_t created_at;
	int64_t expires_at;
	bool revoked;
	bool password_change_only;           /* token may only change the password */
};

struct store_audit_rec {
	int64_t seq;                         /* assigned by the store, strictly increasing */
	int64_t time;                        /* UTC seconds */
	char actor[STORE_NAME_MAX + 1];      /* username, or "-" for the system / unknown */
	char role[STORE_TEXT_MAX + 1];       /* roles the actor acted with */
	char action[STORE_NAME_MAX + 1];     /* e.g. "auth.login" */
	char subject[STORE_TEXT_MAX + 1];    /* the object acted on */
	char result[STORE_NAME_MAX + 1];     /* "success" or the reason of refusal */
	char request_id[STORE_NAME_MAX + 1];
	char source[STORE_NAME_MAX + 1];     /* client address */
	char detail[STORE_DETAIL_MAX + 1];   /* free text without secrets (e.g. the hashes signed) */
};

/* A signed tree head of the audit log (made by inkan-sam, stored by inkand). */
#define STORE_SIG_MAX 256
struct store_checkpoint {
	int64_t id;
	int64_t size;                        /* records covered: seq 1..size */
	uint8_t root[32];
	int64_t time;                        /* UTC seconds, the SAM's clock */
	uint8_t sig[STORE_SIG_MAX];
	size_t sig_len;
};

/* One archive of old audit records (retention). */
struct store_archive {
	int64_t id;
	int64_t first_seq, last_seq;
	uint8_t frontier[64 * 32];           /* the tree's frontier at last_seq */
	size_t frontier_len;
	char file[STORE_TEXT_MAX + 1];       /* file name in DIR/audit-archive/ */
	char sha256[65];
	int64_t made_at;
};

/* An OAuth 2.0 client (CSC API v2 section 8). */
#define STORE_URIS_MAX 2048              /* redirect URIs, one a line */
#define STORE_PUBKEY_MAX 4096            /* a private_key_jwt client's public key, PEM */
struct store_oauth_client {
	char id[STORE_ID_LEN + 1];
	char name[STORE_NAME_MAX + 1];
	char redirect_uris[STORE_URIS_MAX + 1];
	bool public_client;                  /* no secret: PKCE alone */
	uint8_t secret_hash[32];             /* SHA-256 of a confidential client's secret */
	char public_key[STORE_PUBKEY_MAX + 1]; /* "" or, for private_key_jwt, its key (no secret) */
	int64_t created_at;
	char created_by[STORE_NAME_MAX + 1];
	int64_t removed_at;                  /* 0: registered */
};

/* An OAuth 2.0 service-scope token (CSC API v2 section 8, scope "service"), kept by its
 * SHA-256 only. A family is one consent's grant: the refresh tokens rotated from it and the
 * access tokens they gave. */
enum store_token_kind { STORE_TOKEN_ACCESS = 1, STORE_TOKEN_REFRESH = 2 };
struct store_oauth_token {
	uint8_t hash[32];
	int kind;                            /* enum store_token_kind */
	char family[STORE_ID_LEN + 1];
	char client_id[STORE_ID_LEN + 1];
	char user_id[STORE_ID_LEN + 1];
	int64_t created_at, expires_at;
	int64_t used_at;                     /* a refresh token rotated (0: not yet) */
	int64_t revoked_at;                  /* 0: not revoked */
};

/* The OAuth authorization server's short-lived state, shared by every node (oauth_flows): each
 * row found by the SHA-256 of its value (cookie, request_uri handle, code, token), never by
 * the value. */
enum store_flow_kind {
	STORE_FLOW_PAGE = 1,                 /* a consent-page session (aux: its CSRF token's hash) */
	STORE_FLOW_PAR = 2,                  /* a pushed authorization request (RFC 9126) */
	STORE_FLOW_CODE = 3,                 /* an authorization code (body sealed by the code) */
	STORE_FLOW_TOKEN = 4,                /* a credential-scope access token (a SAD's binding) */
};
enum store_flow_state {
	STORE_FLOW_LIVE = 0,
	STORE_FLOW_SPENT = 1,                /* taken once (a code, a pushed request) */
	STORE_FLOW_ISSUED = 2,               /* a code whose token was issued (aux: its hash) */
	STORE_FLOW_REVOKED = 3,              /* a token revoked; a code replayed while taken */
};
#define STORE_FLOW_BODY_MAX 65536
#define STORE_SOURCE_MAX 63
struct store_oauth_flow {
	int kind;                            /* enum store_flow_kind */
	uint8_t hash[32];
	char client_id[STORE_ID_LEN + 1];    /* "" for a page session */
	char source[STORE_SOURCE_MAX + 1];   /* the address that made it */
	int64_t expires_at;                  /* the value stops working */
	int64_t keep_until;                  /* the row goes (oauth_prune) */
	int state;                           /* enum store_flow_state */
	bool has_aux;
	uint8_t aux[32];
	uint8_t *body;                       /* malloc'd (store_oauth_flow_clear); NULL: none */
	size_t body_len;                     /* 1..STORE_FLOW_BODY_MAX when body is set */
};

struct store;

/* The backend table: every backend implements every entry; one conformance suite tests them. */
struct store_ops {
	const char *name;
	int (*open)(const char *target, struct store **out);
	void (*close)(struct store *st);
	/* The engine and its version, as the compliance report names it: "SQLite 3.40.1",
	 * "PostgreSQL 15.18" (the server's). */
	void (*engine)(struct store *st, char *out, size_t outsz);

	/* Users. Usernames compare without regard to ASCII case: user_insert fails with
	 * INK_ERR_EXISTS for a name taken in any case, user_get_by_name finds it in any case (and
	 * returns the spelling stored). */
	int (*user_insert)(struct store *st, const struct store_user *u);
	int (*user_get_by_name)(struct store *st, const char *username, struct store_user *out);
	int (*user_get_by_id)(struct store *st, const char *id, struct store_user *out);
	/* All users ordered by username; *out is malloc'd (free with store_users_free). */
	int (*user_list)(struct store *st, struct store_user **out, size_t *n);
	int (*user_set_password)(struct store *st, const char *id, const char *hash, bool must_change);
	/* DISABLED is final: other statuses then fail with INK_ERR_DISABLED. ACTIVE also resets
	 * the failure count (an unlocked account starts afresh). */
	int (*user_set_status)(struct store *st, const char *id, int status);
	int (*user_set_roles)(struct store *st, const char *id, uint32_t roles);
	int (*user_set_totp)(struct store *st, const char *id, const uint8_t *sealed, size_t len);
	/* Counts a failure; locks the account when failures reach max. *locked_now tells if this call locked it. */
	int (*user_login_failed)(struct store *st, const char *id, int64_t max, bool *locked_now);
	/* Takes one login attempt before the password is checked, so parallel guesses cannot
	 * overshoot max: counts it as a failure if the account is active and has had fewer than
	 * max failures, else INK_ERR_LOCKED (nothing changes). user_login_ok() undoes the count. */
	int (*user_login_reserve)(struct store *st, const char *id, int64_t max);
	/* After a reserved attempt: when it failed (wrong password or OTP), locks the account if
	 * failures have reached max (*locked_now tells if this call locked it); when it could not
	 * be decided (an internal error), gives the attempt back. */
	int (*user_login_settle)(struct store *st, const char *id, int64_t max, bool failed,
	                         bool *locked_now);
	/* Resets the failure count after a successful login. */
	int (*user_login_ok)(struct store *st, const char *id);
	/* Records TOTP step use atomically: INK_ERR_REPLAY unless step > the last accepted step. */
	int (*user_use_totp_step)(struct store *st, const char *id, int64_t step);

	/* Identity verification records: kept after deregistration; idv_get returns the latest.
	 * Inserting a row (idv or session) for a missing user fails with INK_ERR_NOT_FOUND. */
	int (*idv_insert)(struct store *st, const struct store_idv *v);
	int (*idv_get)(struct store *st, const char *user_id, struct store_idv *out);

	/* Sessions (bearer tokens, by hash). */
	int (*session_insert)(struct store *st, const struct store_session *s);
	int (*session_get)(struct store *st, const uint8_t hash[static 32], struct store_session *out);
	/* The session and its account in one statement (a request's authentication): of the
	 * account only id, username, status, must_change_password and roles are filled, the rest
	 * is zero. INK_ERR_NOT_FOUND when there is no such session. */
	int (*session_get_user)(struct store *st, const uint8_t hash[static 32],
	                        struct store_session *out, struct store_user *u);
	int (*session_revoke)(struct store *st, const uint8_t hash[static 32]);
	/* A restricted (set-up) session becomes a full one: the person enrolled their second factor. */
	int (*session_upgrade)(struct store *st, const uint8_t hash[static 32]);
	int (*session_revoke_user)(struct store *st, const char *user_id);
	/* Every session of the user but the one with hash keep. */
	int (*session_revoke_others)(struct store *st, const char *user_id,
	                             const uint8_t keep[static 32]);

	/* Audit rows: insert only; the store refuses updates and deletes. rec->seq is ignored and
	 * the assigned sequence number is returned in *seq. Durable when it returns. */
	int (*audit_insert)(struct store *st, const struct store_audit_rec *rec, int64_t *seq);
	/* Inserts n rows as one atomic, durable commit (one sync for all): group commit. All or
	 * none; seqs[i] receives each row's sequence number. */
	int (*audit_insert_batch)(struct store *st, const struct store_audit_rec *const *recs,
	                          size_t n, int64_t *seqs);
	/* Rows with seq > after, at most limit, in order; *out malloc'd. */
	int (*audit_list)(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out, size_t *n);
	/* The highest seq (0 for an empty log). */
	int (*audit_last_seq)(struct store *st, int64_t *seq);
	/* Checkpoints: insert only; list returns all with size in [min_size, max_size] by id. */
	int (*checkpoint_insert)(struct store *st, const struct store_checkpoint *c);
	int (*checkpoint_list)(struct store *st, int64_t min_size, int64_t max_size,
	                       struct store_checkpoint **out, size_t *n);
	/* Archives: insert only. archive_last: the latest (INK_ERR_NOT_FOUND when none). */
	int (*archive_insert)(struct store *st, const struct store_archive *a);
	int (*archive_last)(struct store *st, struct store_archive *out);
	/* OAuth clients: get returns a removed one too (the caller decides); list returns the
	 * registered ones by name (*out malloc'd); remove sets removed_at (INK_ERR_NOT_FOUND when
	 * none is registered under id). */
	int (*oauth_client_insert)(struct store *st, const struct store_oauth_client *c);
	int (*oauth_client_get)(struct store *st, const char *id, struct store_oauth_client *out);
	int (*oauth_client_list)(struct store *st, struct store_oauth_client **out, size_t *n);
	int (*oauth_client_remove)(struct store *st, const char *id, int64_t when);
	/* Records that client_id used the client assertion jti (1..128 bytes), which expires at
	 * expires_at, and forgets those expired before now: INK_ERR_REPLAY when that jti of that
	 * client is still recorded (on any node sharing the store). */
	int (*oauth_jti_use)(struct store *st, const char *client_id, const char *jti,
	                     int64_t expires_at, int64_t now);
	/* OAuth service-scope tokens: get finds one by hash whatever its state (INK_ERR_NOT_FOUND
	 * when none); use marks a refresh token rotated, once, atomically (INK_ERR_REPLAY when it
	 * was used or revoked before: nodes racing on one token, one wins); revoke marks one
	 * (INK_ERR_NOT_FOUND when none is unrevoked), revoke_family every token of a family
	 * (*n: how many were live). */
	int (*oauth_token_insert)(struct store *st, const struct store_oauth_token *t);
	int (*oauth_token_get)(struct store *st, const uint8_t hash[static 32],
	                       struct store_oauth_token *out);
	int (*oauth_token_use)(struct store *st, const uint8_t hash[static 32], int64_t when);
	int (*oauth_token_revoke)(struct store *st, const uint8_t hash[static 32], int64_t when);
	int (*oauth_token_revoke_family)(struct store *st, const char *family, int64_t when,
	                                 size_t *n);
	/* OAuth flows. insert adds f (INK_ERR_EXISTS for its kind and hash taken): with more
	 * than source_max rows of its kind from its source whose keep_until is after now (0: no
	 * limit), or more than kind_max of its kind, the oldest such makes room when evict is set,
	 * else INK_ERR_BUSY (the counts are a cap against floods, not exact across nodes). get
	 * reads one whatever its state or time (INK_ERR_NOT_FOUND when none). take moves a live
	 * one (state LIVE, expires_at after now) to SPENT and reads it, in one atomic statement:
	 * of nodes racing on one hash exactly one gets it, the others INK_ERR_NOT_FOUND. update
	 * writes f's state, aux, times and body over the row of its kind and hash that is in
	 * state from (INK_ERR_NOT_FOUND when none). prune deletes the flows whose keep_until has
	 * passed, and the expired rows of oauth_tokens and oauth_jti (*n: how many went). */
	int (*oauth_flow_insert)(struct store *st, const struct store_oauth_flow *f, int64_t now,
	                         size_t source_max, size_t kind_max, bool evict);
	int (*oauth_flow_get)(struct store *st, int kind, const uint8_t hash[static 32],
	                      struct store_oauth_flow *out);
	int (*oauth_flow_take)(struct store *st, int kind, const uint8_t hash[static 32],
	                       int64_t now, struct store_oauth_flow *out);
	int (*oauth_flow_update)(struct store *st, const struct store_oauth_flow *f, int from);
	int (*oauth_prune)(struct store *st, int64_t now, size_t *n);
};

struct store {
	const struct store_ops *ops;
};

/* The SQLite backend; target is a file path (created with mode 0600 if missing). */
extern const struct store_ops store_sqlite_ops;
/* The PostgreSQL backend; target is a libpq URI ("postgresql://..."): docs/configuration.md.
 * A password in it is refused (use a passfile); tables go into the first schema of the
 * connection's search_path. */
extern const struct store_ops store_postgres_ops;

/* The SQLite library's version, for the compliance report (e.g. "3.40.1"); the engine in use
 * is st->ops->engine. */
const char *store_engine_version(void);

/* INK_ERR_CONFIG (logged, the URI not repeated) when a PostgreSQL URI cannot be parsed or holds
 * a password: passwords go in a passfile (inkand's, or the key store's in inkan-sam's files). */
int store_pg_uri_check(const char *uri) INK_WUR;

/* Opens the backend named by uri: "sqlite:PATH", a bare path, or "postgresql://...". */
int store_open(const char *uri, struct store **out) INK_WUR;
/* Closes; accepts NULL. */
void store_close(struct store *st);
/* Wipes and frees f's body; f is empty again. Accepts NULL. */
void store_oauth_flow_clear(struct store_oauth_flow *f);
/* Wipes and frees a list from user_list. */
void store_users_free(struct store_user *u, size_t n);

#endif
