/* auth: accounts, roles and separation of duties, passwords (Argon2id), TOTP, bearer tokens,
 * lockout, and the account operations the HTTP layer calls. */
#ifndef INKAN_AUTH_H
#define INKAN_AUTH_H

#include "common/common.h"
#include "store/store.h"

struct sam_client;

/* ---- roles (EN 419 241-1 names) ---- */

enum auth_role {
	AUTH_ROLE_SECURITY_OFFICER = 1u << 0,
	AUTH_ROLE_SYSTEM_ADMINISTRATOR = 1u << 1,
	AUTH_ROLE_SYSTEM_OPERATOR = 1u << 2,
	AUTH_ROLE_SYSTEM_AUDITOR = 1u << 3,
	AUTH_ROLE_REGISTRATION_OFFICER = 1u << 4,
	AUTH_ROLE_SIGNER = 1u << 5,
};
#define AUTH_ROLES_PRIVILEGED 0x1fu
#define AUTH_ROLES_ALL 0x3fu

/* "security_officer", "system_administrator", "system_operator", "system_auditor",
 * "registration_officer", "signer"; NULL for anything but a single known role bit. */
const char *auth_role_name(uint32_t role);
/* Parses one role name. */
int auth_role_parse(const char *name, uint32_t *role) INK_WUR;
/* Comma-separated role names into out[outsz] ("" for none). */
void auth_roles_str(uint32_t roles, char *out, size_t outsz);
/* Separation of duties: at least one role; not every privileged role; a privileged role never
 * together with signer; security officer never together with system auditor; the system
 * auditor holds no other role. INK_ERR_SOD with *why set to the rule broken (INK_ERR_INVALID
 * for an unknown role bit). */
int auth_roles_check(uint32_t roles, const char **why) INK_WUR;

/* What a role may do; one table decides. */
enum auth_perm {
	AUTH_PERM_USER_READ,          /* list and show accounts (never secrets) */
	AUTH_PERM_SIGNER_MANAGE,      /* register and deregister signers */
	AUTH_PERM_PRIVILEGED_MANAGE,  /* create/remove privileged accounts, grant/revoke roles */
	AUTH_PERM_UNLOCK,             /* unlock a locked account */
	AUTH_PERM_AUDIT_READ,         /* read the audit trail */
	AUTH_PERM_CONFIG_READ,        /* read the running configuration */
	AUTH_PERM_SIGN,               /* use one's own credentials */
	AUTH_PERM_KEY_ADMIN,          /* see every credential, revoke any (security officer) */
	AUTH_PERM_BACKUP,             /* back up and restore the key store (system operator) */
	AUTH_PERM_CLIENT_MANAGE,      /* register and remove OAuth clients (security officer) */
};
bool auth_allowed(uint32_t roles, enum auth_perm perm) INK_WUR;

/* ---- usernames and passwords ---- */

/* 1..64 bytes of [A-Za-z0-9._@-], not starting with '-' or '.'. */
bool auth_username_valid(const char *name) INK_WUR;

struct auth_argon2 {
	uint32_t m_kib, t, p;
};

/* Argon2id encoded hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a 16-byte random salt. */
int auth_password_hash(const struct auth_argon2 *params, const char *pw,
                       char out[static STORE_HASH_MAX + 1]) INK_WUR;
/* 0 when pw matches, INK_ERR_AUTH when not, another error for a malformed hash. */
int auth_password_verify(const char *encoded, const char *pw) INK_WUR;
/* Length between min_len and 256, printable UTF-8 or ASCII, not containing the username. */
int auth_password_policy(const char *pw, const char *username, size_t min_len, char *why,
                         size_t whysz) INK_WUR;
/* A random one-time password of len characters (len < outsz) from an unambiguous alphabet. */
int auth_password_generate(char *out, size_t outsz, size_t len) INK_WUR;

/* ---- TOTP (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits, as authenticator apps implement it) ---- */

#define AUTH_TOTP_SEED_LEN 20
#define AUTH_TOTP_STEP 30
#define AUTH_TOTP_B32_MAX 64

/* The code for one time step (T = floor(unix time / 30)). */
int auth_totp_code(const uint8_t *seed, size_t seedlen, int64_t step, uint32_t *code) INK_WUR;
/* Checks a 6-digit string against steps now/30 - window .. now/30 + window in constant time
 * per step; *step is the matched step. INK_ERR_AUTH when none matches. */
int auth_totp_verify(const uint8_t *seed, size_t seedlen, const char *code, int64_t now,
                     int window, int64_t *step) INK_WUR;
/* RFC 4648 base32 without padding (as otpauth URIs use). */
int auth_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz) INK_WUR;
/* otpauth://totp/ISSUER:USER?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 */
int auth_otpauth_uri(const char *issuer, const char *username, const char *seed_b32, char *out,
                     size_t outsz) INK_WUR;

/* ---- bearer tokens: 256 random bits, base64url; only SHA-256(token) is stored ---- */

#define AUTH_TOKEN_CHARS 43
int auth_token_new(char out[static AUTH_TOKEN_CHARS + 1], uint8_t hash[static 32]) INK_WUR;
/* Hashes a presented token; INK_ERR_AUTH when it is not of the token form. */
int auth_token_hash(const char *token, uint8_t hash[static 32]) INK_WUR;

/* ---- account service: the operations the HTTP layer calls ---- */

struct audit_refusals;

struct auth_ctx {
	struct store *st;
	struct sam_client *sam;
	const struct ink_config *cfg;
	/* where refusals that name no account (a token or username that is no one's) are
	 * counted per source past the first few; NULL: each its own record */
	struct audit_refusals *refusals;
};

/* Who is asking, for the audit trail. */
struct auth_req {
	const char *request_id;
	const char *source;
	const char *source_key;  /* what refusals are counted by (an IPv6 source's /64); NULL: source */
};

/* An authenticated caller. Carries no secret. */
struct auth_principal {
	char user_id[STORE_ID_LEN + 1];
	char username[STORE_NAME_MAX + 1];
	uint32_t roles;
	bool password_change_only;     /* a set-up session: password change (and enrolment) only */
	bool enrol_only;               /* ... with the password changed: TOTP enrolment only */
	uint8_t token_hash[32];
};

/* The sanitized view of an account that may be shown to an officer or to its owner. */
struct auth_account {
	char id[STORE_ID_LEN + 1];
	char username[STORE_NAME_MAX + 1];
	char display_name[STORE_TEXT_MAX + 1];
	uint32_t roles;
	int status;
	bool must_change_password;
	int64_t failed_logins;
	int64_t created_at;
	char created_by[STORE_NAME_MAX + 1];
	bool has_idv;
	struct store_idv idv;
	/* The SAM's own record (auth_user_show): the certificates' pseudonym, and when and from
	 * where the holder activated their second factor (0: not yet). */
	bool has_sam;
	char pseudonym[33];
	int64_t activated_at;
	char activated_from[STORE_TEXT_MAX + 1];
};

/* Secrets shown once when an account is created; secmem strings, free with auth_secrets_free. */
struct auth_new_secrets {
	char *password;
	char *totp_seed_b32;
	char *otpauth_uri;
};
void auth_secrets_free(struct auth_new_secrets *s);

/* Password + current TOTP code -> bearer token (out) and its lifetime. The token of an
 * account that must change its password only allows auth_change_password; of one that has
 * not enrolled its TOTP seed yet (*enrol; no code is asked then) only auth_enrol and
 * auth_enrol_confirm. Every failure is
 * audited and counted; reaching the limit locks the account. Refusals: INK_ERR_AUTH (wrong
 * user, password or code, reused code), INK_ERR_LOCKED, INK_ERR_DISABLED. */
int auth_login(const struct auth_ctx *ctx, const struct auth_req *rq, const char *username,
               const char *password, const char *otp, char token[static AUTH_TOKEN_CHARS + 1],
               int64_t *expires_in, bool *must_change, bool *enrol) INK_WUR;
/* Bearer token -> principal; INK_ERR_AUTH (unknown/revoked), INK_ERR_EXPIRED, INK_ERR_LOCKED,
 * INK_ERR_DISABLED. Refusals are audited. */
int auth_authenticate(const struct auth_ctx *ctx, const struct auth_req *rq, const char *token,
                      struct auth_principal *out) INK_WUR;
/* The same for a route that also takes another kind of bearer token (an OAuth access token):
 * a well-formed token that is no session's gives INK_ERR_NOT_FOUND, not yet refused; when the
 * other kind does not take it either, auth_refuse_token refuses (and audits) it. */
int auth_authenticate_session(const struct auth_ctx *ctx, const struct auth_req *rq,
                              const char *token, struct auth_principal *out) INK_WUR;
int auth_refuse_token(const struct auth_ctx *ctx, const struct auth_req *rq) INK_WUR;
/* Revokes the caller's own token, or (token != NULL) another token of the same account. */
int auth_logout(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *p, const char *token) INK_WUR;
/* Changes the caller's password (old one required); clears the forced-change flag and
 * revokes every session of the account, including this one — except (*kept) the set-up
 * session of a person who has yet to enrol their TOTP seed, which goes on to enrolment. */
int auth_change_password(const struct auth_ctx *ctx, const struct auth_req *rq,
                         const struct auth_principal *p, const char *old_pw, const char *new_pw,
                         bool *kept) INK_WUR;

/* How a registration officer verified a signer's identity. The document's number goes to the
 * SAM only (which keeps a keyed hash of type and number so that one person is registered
 * once); it is stored, logged and certified nowhere. */
struct auth_idv {
	const char *method, *evidence, *doc_type, *doc_number;
};
/* Creates an account; the SAM registers the person first, checking the officer's live SAM
 * session and role itself. A signer account needs AUTH_PERM_SIGNER_MANAGE and an identity
 * verification record; a privileged account needs AUTH_PERM_PRIVILEGED_MANAGE and roles that
 * pass auth_roles_check(). secrets gets the one-time password only: the person enrols their
 * own TOTP seed. INK_ERR_IDENTITY: this document is registered already. */
int auth_user_create(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *actor, const char *username,
                     const char *display_name, uint32_t roles, const struct auth_idv *idv,
                     struct auth_account *acct, struct auth_new_secrets *secrets) INK_WUR;
/* Every account (officers only); *out malloc'd. */
int auth_user_list(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *actor, struct auth_account **out, size_t *n) INK_WUR;
/* One account: officers see any; anyone else only their own (INK_ERR_NOT_FOUND otherwise). */
int auth_user_show(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *actor, const char *username,
                   struct auth_account *out) INK_WUR;
/* Deregisters: disables the account and ends its sessions; records stay. The SAM checks the
 * officer's session, role and fresh OTP, and destroys the keys. */
int auth_user_remove(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *actor, const char *username,
                     const char *otp) INK_WUR;
/* Resets an account's second factor (lost phone; the officer for the account with a fresh
 * OTP): secrets->password is the SAM's new activation code, to deliver out of band; the person
 * logs in with their own password and the code in the OTP's place, and enrols a new seed.
 * Their keys work only with it. */
int auth_user_reenrol(const struct auth_ctx *ctx, const struct auth_req *rq,
                      const struct auth_principal *actor, const char *username,
                      const char *otp, struct auth_new_secrets *secrets) INK_WUR;
/* A new TOTP seed for the caller's own account (a session with enrol_only), shown to them
 * alone: secrets gets totp_seed_b32 and otpauth_uri. */
int auth_enrol(const struct auth_ctx *ctx, const struct auth_req *rq,
               const struct auth_principal *p, struct auth_new_secrets *secrets) INK_WUR;
/* Confirms it with its first code: the SAM activates the seed and records when and from where;
 * the session becomes a full one. */
int auth_enrol_confirm(const struct auth_ctx *ctx, const struct auth_req *rq,
                       const struct auth_principal *p, const char *otp) INK_WUR;
/* Unlocks a locked account: a signer by a registration officer, a privileged account by a
 * security officer; the SAM's lock needs that officer's fresh OTP (otp, "" none). */
int auth_user_unlock(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *actor, const char *username,
                     const char *otp) INK_WUR;
/* Grants (grant = true) or revokes one privileged role (security officer; never on oneself). */
int auth_role_change(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *actor, const char *username, uint32_t role,
                     bool grant) INK_WUR;

/* ---- credentials: the account side of the key manager in inkan-sam ---- */

struct sam_cred;

/* A signer makes a key under a signing PIN (never their login password); subject from their
 * registration record. external: PENDING with a CSR for an external CA (*csr malloc'd). */
int auth_key_create(const struct auth_ctx *ctx, const struct auth_req *rq,
                    const struct auth_principal *actor, const char *algo, const char *pin,
                    bool external, struct sam_cred *out, uint8_t **csr, size_t *csr_len) INK_WUR;
/* The caller's credentials (a security officer: everyone's); *out malloc'd. */
int auth_key_list(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, struct sam_cred **out, size_t *n) INK_WUR;
/* One credential the caller may see (INK_ERR_NOT_FOUND otherwise, as for a missing one). */
int auth_key_show(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, const char *id, struct sam_cred *out) INK_WUR;
/* Links an external CA's certificate to the caller's PENDING key. */
int auth_key_import(const struct auth_ctx *ctx, const struct auth_req *rq,
                    const struct auth_principal *actor, const char *id, const uint8_t *der,
                    size_t len, struct sam_cred *out) INK_WUR;
/* Changes the signing PIN of the caller's key: a fresh OTP, then the old PIN (counted when
 * wrong). INK_ERR_AUTH: wrong or reused OTP; INK_ERR_BAD_PIN: wrong PIN. */
int auth_key_pin(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *id, const char *old_pin,
                 const char *new_pin, const char *otp) INK_WUR;
/* Whether the caller's key may also be activated by credentials/authorize (oauth_only false:
 * as the service's allow_explicit_authorize says) or only on the OAuth consent page: the
 * owner's choice, kept and enforced by the SAM; a fresh OTP, then the PIN (counted when
 * wrong). Audited (key.auth_mode). */
int auth_key_auth_mode(const struct auth_ctx *ctx, const struct auth_req *rq,
                       const struct auth_principal *actor, const char *id, const char *pin,
                       bool oauth_only, const char *otp) INK_WUR;
/* Revokes: the signer their own key, a security officer any. */
int auth_key_revoke(const struct auth_ctx *ctx, const struct auth_req *rq,
                    const struct auth_principal *actor, const char *id, int reason) INK_WUR;
/* New key and certificate for the caller's key under its PIN (and a fresh OTP); the old one
 * revoked. */
int auth_key_renew(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *actor, const char *id, const char *pin,
                   const char *otp, struct sam_cred *out) INK_WUR;
/* Unlocks a credential locked by wrong PINs (registration officer). */
int auth_key_unlock(const struct auth_ctx *ctx, const struct auth_req *rq,
                    const struct auth_principal *actor, const char *id) INK_WUR;
/* The key store backup (system operator); *blob malloc'd. */
int auth_backup(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *actor, uint8_t **blob, size_t *len) INK_WUR;
/* A restore: the operator's fresh OTP (checked by the SAM); crl (DER, NULL/0 none), the CA's
 * last CRL, a witness of revocations after the backup; on a bare key store (the SAM serves
 * nobody: disaster recovery) a security officer's username and fresh OTP as well — the SAM
 * checks both officers against the backup's own records before it lets the restore stand. */
struct auth_restore_req {
	const char *otp;
	const char *second_officer, *second_otp;   /* NULL: not a bare-machine restore */
	const uint8_t *blob;
	size_t len;
	const uint8_t *crl;
	size_t crl_len;
};
int auth_restore(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const struct auth_restore_req *a,
                 uint32_t *count) INK_WUR;

/* ---- CSC signing (SCAL2) ---- */

#define AUTH_SAD_CHARS 43   /* base64url of 32 random bytes */

/* credentials/authorize: the signer's PIN and current OTP for exactly these hashes. The SAM
 * checks both and mints the SAD, bound to this session. INK_ERR_AUTH: wrong or reused OTP
 * (counted like a failed login); INK_ERR_BAD_PIN: wrong PIN (counted on the credential). */
int auth_csc_authorize(const struct auth_ctx *ctx, const struct auth_req *rq,
                       const struct auth_principal *actor, const char *cred,
                       const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
                       const char *hash_oid, const char *pin, const char *otp,
                       char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in) INK_WUR;
/* One TOTP step per consent: a signer without a session enters user name, password, PIN and
 * one OTP in the consent form. The password is checked here (Argon2id, the login's attempt
 * counter and lockout, as auth_login), then the SAM checks, in one act, that the person is an
 * active enrolled signer, the OTP (its step claimed once; a wrong one counted on the counter
 * logins and authorizations share), the PIN, and mints the SAD, bound to a random binding of
 * this consent: no session is opened, none outlives it. *who (once the password was right)
 * the signer, token_hash that binding. Audited (oauth.consent for the password's refusals,
 * oauth.authorize with every hash). INK_ERR_AUTH: unknown user, wrong password or OTP (one
 * answer); INK_ERR_BAD_PIN; INK_ERR_PASSWORD_CHANGE: set-up not finished; INK_ERR_DENIED: not
 * a signer. */
int auth_oauth_consent(const struct auth_ctx *ctx, const struct auth_req *rq,
                       const char *username, const char *password, const char *client,
                       const char *cred, const uint8_t *const *hashes, const size_t *hash_lens,
                       size_t n, const char *hash_oid, const char *pin, const char *otp,
                       char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in,
                       struct auth_principal *who) INK_WUR;
/* The service scope's consent (a client may list and read the signer's credentials, never
 * sign): user name, password and one OTP, checked as auth_oauth_consent checks them (the SAM:
 * SAM_MSG_OAUTH_SERVICE); no session is opened. *who: the signer (token_hash unset). Audited
 * (oauth.service). Same errors as auth_oauth_consent but INK_ERR_BAD_PIN. */
int auth_oauth_service(const struct auth_ctx *ctx, const struct auth_req *rq,
                       const char *username, const char *password, const char *otp,
                       const char *client, struct auth_principal *who) INK_WUR;
/* Forgets a SAD in the SAM (an OAuth access token revoked); a malformed one is no error. */
int auth_sad_drop(const struct auth_ctx *ctx, const char *sad) INK_WUR;
/* signatures/signHash: spends the SAD on these hashes; sigs[i] malloc'd (DER for ECDSA). */
int auth_csc_sign(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, const char *cred, const char *sad,
                  const char *sig_alg, const char *hash_oid, long pss_salt,
                  const uint8_t *const *hashes, const size_t *hash_lens, size_t n, uint8_t **sigs,
                  size_t *sig_lens) INK_WUR;

/* Creates the first security officer during `inkan init` (no actor), with the one-time token
 * `inkan-sam --init` gave `inkan init` on a pipe (--token-fd). */
int auth_bootstrap_officer(const struct auth_ctx *ctx, const char *username, const char *token,
                           struct auth_new_secrets *secrets) INK_WUR;

#endif
