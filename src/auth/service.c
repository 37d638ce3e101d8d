/* service: the account operations behind the HTTP layer — login, sessions, registration,
 * roles — each one deciding permission itself and leaving an audit record, success or not. */
#include "auth/auth.h"
#include "auth/auth_int.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "audit/audit.h"
#include "sam/sam.h"

#define ONE_TIME_PASSWORD_LEN 20
#define OTPAUTH_ISSUER "inkan"

/* ---- helpers ---- */

static struct auth_argon2
argon2_params(const struct auth_ctx *ctx)
{
	struct auth_argon2 a = {
		.m_kib = (uint32_t)ctx->cfg->argon2_m_kib,
		.t = (uint32_t)ctx->cfg->argon2_t,
		.p = (uint32_t)ctx->cfg->argon2_p,
	};
	return a;
}

/* Writes one audit record; the caller decides whether a failure to log is fatal. */
static int
svc_audit(const struct auth_ctx *ctx, const struct auth_req *rq, const char *actor,
          uint32_t roles, const char *action, const char *subject, const char *result,
          const char *detail)
{
	char rolestr[STORE_TEXT_MAX];
	struct audit_event ev = {
		.actor = actor,
		.role = NULL,
		.action = action,
		.subject = subject,
		.result = result,
		.request_id = rq != NULL ? rq->request_id : NULL,
		.source = rq != NULL ? rq->source : NULL,
		.detail = detail,
	};
	int r;

	auth_roles_str(roles, rolestr, sizeof(rolestr));
	ev.role = rolestr[0] != '\0' ? rolestr : NULL;
	if ((r = audit_append(ctx->st, &ev)) != 0)
		log_error("audit record for %s could not be written: %s", action, ink_err_str(r));
	return r;
}

/* Records a refusal and returns err, so refusals read as one line at the call site. */
static int
refuse(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *actor,
       const char *action, const char *subject, const char *why, int err)
{
	(void)svc_audit(ctx, rq, actor != NULL ? actor->username : NULL,
	                actor != NULL ? actor->roles : 0, action, subject, why, NULL);
	return err;
}

/* The same for a refusal that names no account and no authenticated caller (garbage from the
 * network): counted per source past the first few, so that a flood of them cannot flood the
 * log. A refusal that names an account stays a record of its own, and so does "unknown user":
 * a login for it must cost what a wrong password costs (no timing oracle for usernames). */
static int
refuse_anon(const struct auth_ctx *ctx, const struct auth_req *rq, const char *action,
            const char *why, int err)
{
	struct audit_event ev = {
		.action = action,
		.result = why,
		.request_id = rq != NULL ? rq->request_id : NULL,
		.source = rq != NULL ? rq->source : NULL,
	};
	int r;

	if (ctx->refusals == NULL)
		return refuse(ctx, rq, NULL, action, NULL, why, err);
	if ((r = audit_refusal(ctx->refusals, &ev, rq != NULL ? rq->source_key : NULL)) != 0)
		log_error("audit record for %s could not be written: %s", action, ink_err_str(r));
	return err;
}

static void
account_from_user(const struct store_user *u, struct auth_account *a)
{
	memset(a, 0, sizeof(*a));
	memcpy(a->id, u->id, sizeof(a->id));
	memcpy(a->username, u->username, sizeof(a->username));
	memcpy(a->display_name, u->display_name, sizeof(a->display_name));
	memcpy(a->created_by, u->created_by, sizeof(a->created_by));
	a->roles = u->roles;
	a->status = u->status;
	a->must_change_password = u->must_change_password;
	a->failed_logins = u->failed_logins;
	a->created_at = u->created_at;
}

static void
user_wipe(struct store_user *u)
{
	OPENSSL_cleanse(u, sizeof(*u));
}

/* Loads the identity record, if any, into the account view. */
static int
account_load_idv(const struct auth_ctx *ctx, struct auth_account *a)
{
	int r = ctx->st->ops->idv_get(ctx->st, a->id, &a->idv);

	if (r == INK_ERR_NOT_FOUND)
		return 0;
	if (r == 0)
		a->has_idv = true;
	return r;
}

/* The caller must hold perm and a full (not password-change-only) session. */
static int
actor_may(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *actor,
          enum auth_perm perm, const char *action, const char *subject)
{
	if (actor->password_change_only)
		return refuse(ctx, rq, actor, action, subject, "password change required",
		              INK_ERR_PASSWORD_CHANGE);
	if (!auth_allowed(actor->roles, perm))
		return refuse(ctx, rq, actor, action, subject, "denied: role not permitted",
		              INK_ERR_DENIED);
	return 0;
}

void
auth_secrets_free(struct auth_new_secrets *s)
{
	if (s == NULL)
		return;
	secmem_free(s->password);
	secmem_free(s->totp_seed_b32);
	secmem_free(s->otpauth_uri);
	memset(s, 0, sizeof(*s));
}

/* A hash to verify against when the user does not exist, so the answer takes as long. */
static pthread_mutex_t dummy_mu = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[STORE_HASH_MAX + 1];

static void
equalise_timing(const struct auth_ctx *ctx, const char *password)
{
	struct auth_argon2 a = argon2_params(ctx);
	int r = 0;

	pthread_mutex_lock(&dummy_mu);
	if (dummy_hash[0] == '\0')
		r = auth_password_hash(&a, "inkan-no-such-user", dummy_hash);
	pthread_mutex_unlock(&dummy_mu);
	/* The result is meaningless by construction; only the time it takes matters. */
	if (r == 0 && auth_password_verify(dummy_hash, password) == 0)
		log_bug("dummy hash matched");
}

/* ---- login and sessions ---- */

/* Settles a reserved attempt that failed (user_login_reserve counted it) and records the
 * lockout it may cause. */
static void
attempt_failed(const struct auth_ctx *ctx, const struct auth_req *rq, const char *action,
               const struct store_user *u, const char *why)
{
	bool locked_now = false;
	int r;

	r = ctx->st->ops->user_login_settle(ctx->st, u->id, ctx->cfg->max_login_failures, true,
	                                    &locked_now);
	if (r != 0)
		log_error("cannot count a failed login: %s", ink_err_str(r));
	(void)svc_audit(ctx, rq, u->username, u->roles, action, u->username, why, NULL);
	if (locked_now) {
		ink_alert(INK_ALERT_ACCOUNT_LOCKED, "account %s locked after %lld failed logins",
		          u->username, (long long)ctx->cfg->max_login_failures);
		(void)svc_audit(ctx, rq, u->username, u->roles, "auth.lockout", u->username, "locked",
		                "too many failed logins");
	}
}

static void
login_failed(const struct auth_ctx *ctx, const struct auth_req *rq, const struct store_user *u,
             const char *why)
{
	attempt_failed(ctx, rq, "auth.login", u, why);
}

/* The password of username, as a login checks it: the account active, one attempt reserved on
 * its counter before the slow check (*pending: the caller settles it), refusals audited as
 * action; an unknown user costs what a wrong password costs. */
static int
password_step(const struct auth_ctx *ctx, const struct auth_req *rq, const char *action,
              const char *username, const char *password, struct store_user *u, bool *pending)
{
	int r;

	*pending = false;
	if (!auth_username_valid(username)) {
		equalise_timing(ctx, password);
		return refuse_anon(ctx, rq, action, "invalid username", INK_ERR_AUTH);
	}
	r = ctx->st->ops->user_get_by_name(ctx->st, username, u);
	if (r == INK_ERR_NOT_FOUND) {
		equalise_timing(ctx, password);
		return refuse(ctx, rq, NULL, action, username, "unknown user", INK_ERR_AUTH);
	}
	if (r != 0)
		return r;
	if (u->status != STORE_USER_ACTIVE) {
		equalise_timing(ctx, password);
		return refuse(ctx, rq, NULL, action, username, u->status == STORE_USER_DISABLED ?
		              "account disabled" : "account locked", INK_ERR_AUTH);
	}
	r = ctx->st->ops->user_login_reserve(ctx->st, u->id, ctx->cfg->max_login_failures);
	if (r == INK_ERR_LOCKED) {
		equalise_timing(ctx, password);
		return refuse(ctx, rq, NULL, action, username, "account locked", INK_ERR_AUTH);
	}
	if (r != 0)
		return r;
	*pending = true;
	r = auth_password_verify(u->password_hash, password);
	if (r == INK_ERR_AUTH) {
		*pending = false;
		attempt_failed(ctx, rq, action, u, "wrong password");
	}
	return r;
}

/* The first half of a consent on the page by a signer without a session: their password (as
 * a login checks it, the attempt reserved: *pending), a finished set-up and the signer's role;
 * *who the signer once the password was right. */
static int
consent_signer(const struct auth_ctx *ctx, const struct auth_req *rq, const char *username,
               const char *password, struct store_user *u, bool *pending,
               struct auth_principal *who)
{
	int r;

	if ((r = password_step(ctx, rq, "oauth.consent", username, password, u, pending)) != 0)
		return r;
	/* A set-up account, or one that is no signer's, signs nothing: the attempt is given back
	 * (the password was right; nothing else was tried). */
	if (u->must_change_password)
		return refuse(ctx, rq, NULL, "oauth.consent", u->username,
		              "account set-up not finished", INK_ERR_PASSWORD_CHANGE);
	if (!auth_allowed(u->roles, AUTH_PERM_SIGN))
		return refuse(ctx, rq, NULL, "oauth.consent", u->username, "not a signer",
		              INK_ERR_DENIED);
	memcpy(who->user_id, u->id, sizeof(who->user_id));
	memcpy(who->username, u->username, sizeof(who->username));
	who->roles = u->roles;
	return 0;
}

/* The second half, once the SAM answered r: the reserved attempt settled as a login's would
 * be (the SAM counted a wrong OTP too). */
static int
consent_settle(const struct auth_ctx *ctx, const struct auth_req *rq, const struct store_user *u,
               bool *pending, int r)
{
	if (r == INK_ERR_AUTH) {
		*pending = false;
		attempt_failed(ctx, rq, "oauth.consent", u, "wrong OTP");
	} else if (r == 0 || r == INK_ERR_BAD_PIN) {
		/* password and OTP were right: the account's counter is cleared as a login clears it
		 * (a wrong PIN is the credential's to count, in the SAM) */
		if (ctx->st->ops->user_login_ok(ctx->st, u->id) == 0)
			*pending = false;
		else
			log_error("cannot clear the login counter after a consent");
	}
	return r == INK_ERR_ENROL ? INK_ERR_PASSWORD_CHANGE : r;
}

/* Gives back an attempt nothing decided. */
static void
consent_end(const struct auth_ctx *ctx, struct store_user *u, bool pending)
{
	bool locked = false;

	if (pending && ctx->st->ops->user_login_settle(ctx->st, u->id, ctx->cfg->max_login_failures,
	                                               false, &locked) != 0)
		log_error("cannot give back an undecided consent attempt");
	user_wipe(u);
}

int
auth_oauth_consent(const struct auth_ctx *ctx, const struct auth_req *rq, const char *username,
                   const char *password, const char *client, const char *cred,
                   const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
                   const char *hash_oid, const char *pin, const char *otp,
                   char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in,
                   struct auth_principal *who)
{
	struct store_user u;
	bool pending = false;
	int r;

	memset(&u, 0, sizeof(u));
	memset(who, 0, sizeof(*who));
	sad[0] = '\0';
	*expires_in = 0;
	if (client == NULL || client[0] == '\0')
		return INK_ERR_INVALID;
	if ((r = consent_signer(ctx, rq, username, password, &u, &pending, who)) != 0)
		goto out;
	/* The SAD's binding: random, of this consent alone (no session stands behind it). */
	if ((r = ink_random(who->token_hash, sizeof(who->token_hash))) != 0)
		goto out;
	r = auth_sad_mint(ctx, rq, who, u.id, client, cred, hashes, hash_lens, n, hash_oid, pin, otp,
	                  sad, expires_in);
	r = consent_settle(ctx, rq, &u, &pending, r);
out:
	consent_end(ctx, &u, pending);
	return r;
}

int
auth_oauth_service(const struct auth_ctx *ctx, const struct auth_req *rq, const char *username,
                   const char *password, const char *otp, const char *client,
                   struct auth_principal *who)
{
	struct store_user u;
	int64_t step = -1;
	bool pending = false;
	int r;

	memset(&u, 0, sizeof(u));
	memset(who, 0, sizeof(*who));
	if (client == NULL || client[0] == '\0')
		return INK_ERR_INVALID;
	if ((r = consent_signer(ctx, rq, username, password, &u, &pending, who)) != 0)
		goto out;
	r = consent_settle(ctx, rq, &u, &pending,
	                   sam_oauth_service(ctx->sam, u.id, client, otp, &step));
	{
		char detail[96];

		snprintf(detail, sizeof(detail), "client %s; service scope%s", client,
		         r == 0 ? "" : "; refused by inkan-sam");
		if (svc_audit(ctx, rq, u.username, u.roles, "oauth.service", u.username,
		              r == 0 ? AUDIT_SUCCESS : ink_err_str(r), detail) != 0 && r == 0)
			r = INK_ERR_STORE;   /* no grant without its record */
	}
out:
	consent_end(ctx, &u, pending);
	return r;
}

int
auth_login(const struct auth_ctx *ctx, const struct auth_req *rq, const char *username,
           const char *password, const char *otp, char token[static AUTH_TOKEN_CHARS + 1],
           int64_t *expires_in, bool *must_change, bool *enrol)
{
	struct store_user u;
	struct store_session s;
	int64_t step = -1, now;
	uint32_t roles = 0;
	bool pending = false, locked = false, setup = false;
	int r;

	memset(&u, 0, sizeof(u));
	memset(&s, 0, sizeof(s));
	token[0] = '\0';
	*expires_in = 0;
	*must_change = false;
	*enrol = false;
	if ((r = password_step(ctx, rq, "auth.login", username, password, &u, &pending)) != 0)
		goto out;
	/* The second factor is the SAM's to check, against its own record of the person; the
	 * SAM opens its own session for this token, which every act on a key will name. A person
	 * who has not enrolled yet gets a set-up session (password change and enrolment only). */
	if ((r = auth_token_new(token, s.token_hash)) != 0)
		goto out;
	/* Before the person enrolled, the SAM wants its activation code: at the first login the
	 * one-time password is that code; after a re-enrolment the person keeps their password and
	 * brings the code the officer handed over in the place of the OTP (both needed: neither
	 * the officer nor inkand alone can activate the person). */
	r = sam_login(ctx->sam, u.id, s.token_hash, strlen(otp) <= SAM_OTP_MAX ? otp : "",
	              u.must_change_password ? password : otp, rq != NULL ? rq->source : NULL,
	              &roles, &setup, &step);
	if (r == INK_ERR_AUTH) {
		pending = false;
		login_failed(ctx, rq, &u, "wrong OTP");
		goto out;
	}
	if (r == INK_ERR_LOCKED || r == INK_ERR_DISABLED || r == INK_ERR_NOT_FOUND) {
		pending = false;
		login_failed(ctx, rq, &u, r == INK_ERR_LOCKED ? "locked in the SAM" :
		             "the SAM does not serve this account");
		r = INK_ERR_AUTH;
		goto out;
	}
	if (r != 0) {
		(void)refuse(ctx, rq, NULL, "auth.login", username, ink_err_str(r), r);
		goto out;
	}
	if ((r = ctx->st->ops->user_login_ok(ctx->st, u.id)) != 0)
		goto out;
	pending = false;
	now = ink_now();
	memcpy(s.user_id, u.id, sizeof(s.user_id));
	s.created_at = now;
	s.expires_at = now + ctx->cfg->session_ttl;
	s.password_change_only = u.must_change_password || setup;
	if ((r = ctx->st->ops->session_insert(ctx->st, &s)) != 0)
		goto out;
	if ((r = svc_audit(ctx, rq, u.username, u.roles, "auth.login", u.username, AUDIT_SUCCESS,
	                   u.must_change_password ? "password change required" :
	                   setup ? "second factor not enrolled yet" : NULL)) != 0) {
		(void)ctx->st->ops->session_revoke(ctx->st, s.token_hash);
		goto out;
	}
	*expires_in = ctx->cfg->session_ttl;
	*must_change = u.must_change_password;
	*enrol = setup;
	r = 0;
out:
	/* An attempt that nothing decided (the SAM or the store failed) is given back. */
	if (pending && ctx->st->ops->user_login_settle(ctx->st, u.id, ctx->cfg->max_login_failures,
	                                               false, &locked) != 0)
		log_error("cannot give back an undecided login attempt");
	if (r != 0)
		OPENSSL_cleanse(token, AUTH_TOKEN_CHARS + 1);
	user_wipe(&u);
	OPENSSL_cleanse(&s, sizeof(s));
	return r;
}

/* The session and its account in one read; absent_ok: a token that is no session's gives
 * INK_ERR_NOT_FOUND, neither refused nor audited (the caller tries it as another kind). */
static int
authenticate(const struct auth_ctx *ctx, const struct auth_req *rq, const char *token,
             bool absent_ok, struct auth_principal *out)
{
	struct store_session s;
	struct store_user u;
	uint8_t hash[32];
	int r;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	memset(&u, 0, sizeof(u));
	if (auth_token_hash(token, hash) != 0)
		return refuse_anon(ctx, rq, "auth.token", "malformed token", INK_ERR_AUTH);
	r = ctx->st->ops->session_get_user(ctx->st, hash, &s, &u);
	if (r == INK_ERR_NOT_FOUND)
		return absent_ok ? INK_ERR_NOT_FOUND : auth_refuse_token(ctx, rq);
	if (r != 0)
		return r;
	if (s.revoked) {
		r = refuse(ctx, rq, NULL, "auth.token", u.username, "revoked token", INK_ERR_AUTH);
		goto out;
	}
	if (ink_now() >= s.expires_at) {
		r = refuse(ctx, rq, NULL, "auth.token", u.username, "expired token", INK_ERR_EXPIRED);
		goto out;
	}
	if (u.status == STORE_USER_LOCKED) {
		r = refuse(ctx, rq, NULL, "auth.token", u.username, "account locked", INK_ERR_LOCKED);
		goto out;
	}
	if (u.status != STORE_USER_ACTIVE) {
		r = refuse(ctx, rq, NULL, "auth.token", u.username, "account disabled", INK_ERR_DISABLED);
		goto out;
	}
	memcpy(out->user_id, u.id, sizeof(out->user_id));
	memcpy(out->username, u.username, sizeof(out->username));
	out->roles = u.roles;
	out->password_change_only = s.password_change_only;
	out->enrol_only = s.password_change_only && !u.must_change_password;
	memcpy(out->token_hash, s.token_hash, sizeof(out->token_hash));
	r = 0;
out:
	user_wipe(&u);
	OPENSSL_cleanse(&s, sizeof(s));
	return r;
}

int
auth_authenticate(const struct auth_ctx *ctx, const struct auth_req *rq, const char *token,
                  struct auth_principal *out)
{
	return authenticate(ctx, rq, token, false, out);
}

int
auth_authenticate_session(const struct auth_ctx *ctx, const struct auth_req *rq,
                          const char *token, struct auth_principal *out)
{
	return authenticate(ctx, rq, token, true, out);
}

int
auth_refuse_token(const struct auth_ctx *ctx, const struct auth_req *rq)
{
	return refuse_anon(ctx, rq, "auth.token", "unknown token", INK_ERR_AUTH);
}

int
auth_logout(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *p,
            const char *token)
{
	struct store_session s;
	uint8_t hash[32];
	int r;

	memcpy(hash, p->token_hash, sizeof(hash));
	if (token != NULL) {
		if (auth_token_hash(token, hash) != 0)
			return refuse(ctx, rq, p, "auth.revoke", p->username, "malformed token",
			              INK_ERR_INVALID);
		r = ctx->st->ops->session_get(ctx->st, hash, &s);
		/* Another account's token is answered exactly like an unknown one. */
		if (r == INK_ERR_NOT_FOUND ||
		    (r == 0 && !ink_ct_equal(s.user_id, p->user_id, sizeof(s.user_id))))
			return refuse(ctx, rq, p, "auth.revoke", p->username, "unknown token",
			              INK_ERR_INVALID);
		if (r != 0)
			return r;
	}
	if ((r = ctx->st->ops->session_revoke(ctx->st, hash)) != 0)
		return r;
	if (sam_logout(ctx->sam, hash, SAM_LOGOUT_THIS) != 0)
		log_warn("the SAM did not end its session (it ends at its expiry)");
	return svc_audit(ctx, rq, p->username, p->roles, "auth.revoke", p->username, AUDIT_SUCCESS,
	                 token != NULL ? "other token of the account" : NULL);
}

int
auth_change_password(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *p, const char *old_pw, const char *new_pw,
                     bool *kept)
{
	struct auth_argon2 a = argon2_params(ctx);
	struct store_user u;
	char hash[STORE_HASH_MAX + 1], why[128];
	bool pending = false, locked = false;
	int r;

	*kept = false;
	memset(&u, 0, sizeof(u));
	if ((r = ctx->st->ops->user_get_by_id(ctx->st, p->user_id, &u)) != 0)
		goto out;
	/* A guess at the old password is an attempt like a login's, counted before the check:
	 * parallel requests on one stolen token cannot try more than max_login_failures. */
	r = ctx->st->ops->user_login_reserve(ctx->st, u.id, ctx->cfg->max_login_failures);
	if (r == INK_ERR_LOCKED) {
		equalise_timing(ctx, old_pw);
		r = refuse(ctx, rq, p, "auth.passwd", p->username, "account locked", INK_ERR_AUTH);
		goto out;
	}
	if (r != 0)
		goto out;
	pending = true;
	r = auth_password_verify(u.password_hash, old_pw);
	if (r == INK_ERR_AUTH) {
		pending = false;
		login_failed(ctx, rq, &u, "password change: wrong old password");
		goto out;
	}
	if (r != 0)
		goto out;
	if (auth_password_policy(new_pw, u.username, (size_t)ctx->cfg->password_min_len, why,
	                         sizeof(why)) != 0) {
		r = refuse(ctx, rq, p, "auth.passwd", p->username, why, INK_ERR_POLICY);
		goto out;
	}
	if (strcmp(old_pw, new_pw) == 0) {
		r = refuse(ctx, rq, p, "auth.passwd", p->username, "new password equals the old one",
		           INK_ERR_POLICY);
		goto out;
	}
	if ((r = auth_password_hash(&a, new_pw, hash)) != 0)
		goto out;
	if ((r = ctx->st->ops->user_set_password(ctx->st, u.id, hash, false)) != 0)
		goto out;
	/* Every session ends; but the set-up session of a person who has yet to enrol goes on
	 * (to enrolment only): the SAM opened it on the one-time code, which now is spent. */
	{
		struct sam_person sp;

		*kept = p->password_change_only && sam_person_get(ctx->sam, u.id, &sp) == 0 &&
		        !sp.enrolled;
	}
	if ((r = *kept ? ctx->st->ops->session_revoke_others(ctx->st, u.id, p->token_hash) :
	         ctx->st->ops->session_revoke_user(ctx->st, u.id)) != 0)
		goto out;
	if (sam_logout(ctx->sam, p->token_hash, *kept ? SAM_LOGOUT_OTHERS : SAM_LOGOUT_ALL) != 0)
		log_warn("the SAM did not end the account's sessions (they end at their expiry)");
	r = svc_audit(ctx, rq, p->username, p->roles, "auth.passwd", p->username, AUDIT_SUCCESS,
	              *kept ? "other sessions ended; this one goes on to enrolment" :
	              "all sessions ended");
out:
	/* The right old password (or a failure to decide) gives the attempt back. */
	if (pending && ctx->st->ops->user_login_settle(ctx->st, u.id, ctx->cfg->max_login_failures,
	                                               false, &locked) != 0)
		log_error("cannot give back a password-change attempt");
	OPENSSL_cleanse(hash, sizeof(hash));
	user_wipe(&u);
	return r;
}

/* ---- registration ---- */

static bool
text_given(const char *t)
{
	return t != NULL && *t != '\0' && strlen(t) <= STORE_TEXT_MAX;
}

/* Makes the account row and its one-time password; the SAM registers the person first (in
 * its own record, with the checks of its own; reg->user_id is filled in here) and issues the
 * one-time password itself (its activation code, which it checks again at the first login:
 * inkand alone cannot open a person's first session). The TOTP seed is not made here: the
 * person enrols it themselves at their first login (auth_enrol). The first security officer
 * (no actor) gets a password of inkand's and the seed at once: nobody else exists yet. */
static int
create_account(const struct auth_ctx *ctx, const struct auth_principal *actor,
               struct sam_reg *reg, struct store_user *u, struct auth_new_secrets *secrets)
{
	struct auth_argon2 a = argon2_params(ctx);
	char pseudonym[SAM_PSEUDONYM_MAX + 1];
	uint8_t rnd[16];
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), u->id);
	reg->user_id = u->id;
	snprintf(u->username, sizeof(u->username), "%s", reg->username);
	snprintf(u->display_name, sizeof(u->display_name), "%s", reg->display_name);
	snprintf(u->created_by, sizeof(u->created_by), "%s", actor != NULL ? actor->username : "-");
	u->roles = reg->roles;
	u->status = STORE_USER_ACTIVE;
	u->must_change_password = true;
	u->created_at = ink_now();
	if (actor != NULL)
		r = sam_register(ctx->sam, actor->token_hash, reg, pseudonym, &secrets->password);
	else if ((secrets->password = secmem_alloc(ONE_TIME_PASSWORD_LEN + 1)) == NULL)
		r = INK_ERR_ALLOC;
	else if ((r = auth_password_generate(secrets->password, ONE_TIME_PASSWORD_LEN + 1,
	                                     ONE_TIME_PASSWORD_LEN)) == 0)
		r = sam_bootstrap(ctx->sam, u->id, u->username, reg->bootstrap_token,
		                  &secrets->totp_seed_b32);
	if (r != 0)
		return r;
	if ((r = auth_password_hash(&a, secrets->password, u->password_hash)) != 0)
		return r;
	if (secrets->totp_seed_b32 != NULL &&
	    ((secrets->otpauth_uri = secmem_alloc(512)) == NULL ||
	     (r = auth_otpauth_uri(OTPAUTH_ISSUER, u->username, secrets->totp_seed_b32,
	                           secrets->otpauth_uri, 512)) != 0))
		return secrets->otpauth_uri == NULL ? INK_ERR_ALLOC : r;
	return ctx->st->ops->user_insert(ctx->st, u);
}

int
auth_user_create(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *username,
                 const char *display_name, uint32_t roles, const struct auth_idv *idv,
                 struct auth_account *acct, struct auth_new_secrets *secrets)
{
	struct store_user u;
	struct store_idv v;
	const char *why = NULL;
	char rolestr[STORE_TEXT_MAX];
	bool signer = (roles & AUTH_ROLE_SIGNER) != 0;
	int r;

	memset(acct, 0, sizeof(*acct));
	memset(secrets, 0, sizeof(*secrets));
	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	if (!auth_username_valid(username))
		return refuse(ctx, rq, actor, "user.create", NULL, "invalid username", INK_ERR_INVALID);
	if ((r = actor_may(ctx, rq, actor, signer ? AUTH_PERM_SIGNER_MANAGE :
	                   AUTH_PERM_PRIVILEGED_MANAGE, "user.create", username)) != 0)
		return r;
	if (auth_roles_check(roles, &why) != 0)
		return refuse(ctx, rq, actor, "user.create", username, why, INK_ERR_SOD);
	if (display_name != NULL && strlen(display_name) > STORE_TEXT_MAX)
		return refuse(ctx, rq, actor, "user.create", username, "display name too long",
		              INK_ERR_INVALID);
	if (signer && (!text_given(idv->method) || !text_given(idv->evidence) ||
	               !text_given(idv->doc_type) || !text_given(idv->doc_number)))
		return refuse(ctx, rq, actor, "user.create", username,
		              "identity verification record required (method, evidence, document type "
		              "and number)", INK_ERR_INVALID);
	/* A taken name is refused before the SAM registers anyone (the SAM's record of a person,
	 * and of their identity document, is never taken back). */
	r = ctx->st->ops->user_get_by_name(ctx->st, username, &u);
	user_wipe(&u);
	if (r == 0)
		return refuse(ctx, rq, actor, "user.create", username, "username taken", INK_ERR_EXISTS);
	if (r != INK_ERR_NOT_FOUND)
		return r;
	{
		struct sam_reg reg = {
			.username = username, .roles = roles,
			.display_name = display_name != NULL && *display_name != '\0' ? display_name :
			                username,
			.idv_method = signer ? idv->method : NULL,
			.idv_evidence = signer ? idv->evidence : NULL,
			.doc_type = signer ? idv->doc_type : NULL,
			.doc_number = signer ? idv->doc_number : NULL,
		};

		r = create_account(ctx, actor, &reg, &u, secrets);
	}
	if (r == INK_ERR_EXISTS || r == INK_ERR_IDENTITY || r == INK_ERR_DENIED ||
	    r == INK_ERR_SOD || r == INK_ERR_AUTH || r == INK_ERR_EXPIRED) {
		/* The SAM's own checks: the number itself is in no record. */
		r = refuse(ctx, rq, actor, "user.create", username,
		           r == INK_ERR_EXISTS ? "username taken" :
		           r == INK_ERR_IDENTITY ? "identity document already registered" :
		           r == INK_ERR_DENIED || r == INK_ERR_SOD ? "refused by the SAM: role" :
		           "refused by the SAM: no live officer session", r);
		goto out;
	}
	if (r != 0)
		goto out;
	if (signer) {
		memcpy(v.user_id, u.id, sizeof(v.user_id));
		snprintf(v.method, sizeof(v.method), "%s", idv->method);
		snprintf(v.evidence_ref, sizeof(v.evidence_ref), "%s", idv->evidence);
		snprintf(v.officer, sizeof(v.officer), "%s", actor->username);
		v.verified_at = u.created_at;
		if ((r = ctx->st->ops->idv_insert(ctx->st, &v)) != 0) {
			/* Never leave a signer without its identity record usable. */
			(void)ctx->st->ops->user_set_status(ctx->st, u.id, STORE_USER_DISABLED);
			goto out;
		}
	}
	auth_roles_str(roles, rolestr, sizeof(rolestr));
	if ((r = svc_audit(ctx, rq, actor->username, actor->roles, "user.create", username,
	                   AUDIT_SUCCESS, rolestr)) != 0) {
		(void)ctx->st->ops->user_set_status(ctx->st, u.id, STORE_USER_DISABLED);
		goto out;
	}
	account_from_user(&u, acct);
	if (signer) {
		acct->has_idv = true;
		acct->idv = v;
	}
	r = 0;
out:
	if (r != 0)
		auth_secrets_free(secrets);
	user_wipe(&u);
	return r;
}

int
auth_bootstrap_officer(const struct auth_ctx *ctx, const char *username, const char *token,
                       struct auth_new_secrets *secrets)
{
	struct store_user u;
	int r;

	memset(secrets, 0, sizeof(*secrets));
	if (!auth_username_valid(username))
		return INK_ERR_INVALID;
	{
		struct sam_reg reg = {
			.username = username, .display_name = "Security officer",
			.roles = AUTH_ROLE_SECURITY_OFFICER, .bootstrap_token = token,
		};

		r = create_account(ctx, NULL, &reg, &u, secrets);
	}
	if (r == 0)
		r = svc_audit(ctx, NULL, NULL, 0, "user.create", username, AUDIT_SUCCESS,
		              "first security officer, created by inkan init");
	if (r != 0)
		auth_secrets_free(secrets);
	user_wipe(&u);
	return r;
}

int
auth_user_list(const struct auth_ctx *ctx, const struct auth_req *rq,
               const struct auth_principal *actor, struct auth_account **out, size_t *n)
{
	struct store_user *users = NULL;
	struct auth_account *accts = NULL;
	size_t count = 0, i;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = actor_may(ctx, rq, actor, AUTH_PERM_USER_READ, "user.list", NULL)) != 0)
		return r;
	if ((r = ctx->st->ops->user_list(ctx->st, &users, &count)) != 0)
		goto out;
	if (count > 0 && (accts = calloc(count, sizeof(*accts))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < count; i++) {
		account_from_user(&users[i], &accts[i]);
		if ((r = account_load_idv(ctx, &accts[i])) != 0)
			goto out;
	}
	if ((r = svc_audit(ctx, rq, actor->username, actor->roles, "user.list", NULL, AUDIT_SUCCESS,
	                   NULL)) != 0)
		goto out;
	*out = accts;
	*n = count;
	accts = NULL;
out:
	free(accts);
	store_users_free(users, count);
	return r;
}

/* Loads the target of an officer's action; unknown users are refused and audited. */
static int
load_target(const struct auth_ctx *ctx, const struct auth_req *rq,
            const struct auth_principal *actor, const char *action, const char *username,
            struct store_user *u)
{
	int r;

	if (!auth_username_valid(username))
		return refuse(ctx, rq, actor, action, NULL, "invalid username", INK_ERR_NOT_FOUND);
	r = ctx->st->ops->user_get_by_name(ctx->st, username, u);
	if (r == INK_ERR_NOT_FOUND)
		return refuse(ctx, rq, actor, action, username, "unknown user", r);
	return r;
}

int
auth_user_show(const struct auth_ctx *ctx, const struct auth_req *rq,
               const struct auth_principal *actor, const char *username, struct auth_account *out)
{
	struct store_user u;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&u, 0, sizeof(u));
	/* Anyone may see their own account; only officers see others. */
	if (strcmp(username, actor->username) != 0 &&
	    (r = actor_may(ctx, rq, actor, AUTH_PERM_USER_READ, "user.show", username)) != 0)
		return r;
	if (actor->password_change_only)
		return refuse(ctx, rq, actor, "user.show", username, "password change required",
		              INK_ERR_PASSWORD_CHANGE);
	if ((r = load_target(ctx, rq, actor, "user.show", username, &u)) != 0)
		goto out;
	account_from_user(&u, out);
	if ((r = account_load_idv(ctx, out)) != 0)
		goto out;
	/* What the SAM says of the person (not inkand's copy): pseudonym and activation. */
	{
		struct sam_person sp;

		if (sam_person_get(ctx->sam, u.id, &sp) == 0) {
			out->has_sam = true;
			snprintf(out->pseudonym, sizeof(out->pseudonym), "%s", sp.pseudonym);
			snprintf(out->activated_from, sizeof(out->activated_from), "%s",
			         sp.activated_from);
			out->activated_at = sp.enrolled ? (sp.activated_at > 0 ? sp.activated_at :
			                                   sp.created_at) : 0;
		}
	}
	r = svc_audit(ctx, rq, actor->username, actor->roles, "user.show", username, AUDIT_SUCCESS,
	              NULL);
out:
	user_wipe(&u);
	return r;
}

/* Active security officers other than except_id. */
static int
count_other_officers(const struct auth_ctx *ctx, const char *except_id, size_t *count)
{
	struct store_user *users = NULL;
	size_t n = 0, i;
	int r;

	*count = 0;
	if ((r = ctx->st->ops->user_list(ctx->st, &users, &n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((users[i].roles & AUTH_ROLE_SECURITY_OFFICER) &&
		    users[i].status != STORE_USER_DISABLED && strcmp(users[i].id, except_id) != 0)
			(*count)++;
	store_users_free(users, n);
	return 0;
}

int
auth_user_remove(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *username, const char *otp)
{
	struct store_user u;
	size_t officers = 0;
	int r;

	memset(&u, 0, sizeof(u));
	if (actor->password_change_only)
		return refuse(ctx, rq, actor, "user.remove", username, "password change required",
		              INK_ERR_PASSWORD_CHANGE);
	if (!auth_allowed(actor->roles, AUTH_PERM_SIGNER_MANAGE) &&
	    !auth_allowed(actor->roles, AUTH_PERM_PRIVILEGED_MANAGE))
		return refuse(ctx, rq, actor, "user.remove", username, "denied: role not permitted",
		              INK_ERR_DENIED);
	if ((r = load_target(ctx, rq, actor, "user.remove", username, &u)) != 0)
		goto out;
	if ((r = actor_may(ctx, rq, actor, (u.roles & AUTH_ROLE_SIGNER) ? AUTH_PERM_SIGNER_MANAGE :
	                   AUTH_PERM_PRIVILEGED_MANAGE, "user.remove", username)) != 0)
		goto out;
	if (strcmp(u.id, actor->user_id) == 0) {
		r = refuse(ctx, rq, actor, "user.remove", username, "denied: own account",
		           INK_ERR_DENIED);
		goto out;
	}
	if (u.roles & AUTH_ROLE_SECURITY_OFFICER) {
		if ((r = count_other_officers(ctx, u.id, &officers)) != 0)
			goto out;
		if (officers == 0) {
			r = refuse(ctx, rq, actor, "user.remove", username,
			           "denied: last security officer", INK_ERR_SOD);
			goto out;
		}
	}
	/* The SAM first, which checks the officer's session, role and fresh OTP itself, destroys
	 * the keys and revokes their certificates: if it refuses, nothing changes here. */
	{
		uint32_t destroyed = 0;
		char detail[64];

		r = sam_person_remove(ctx->sam, actor->token_hash, u.id, otp, &destroyed);
		snprintf(detail, sizeof(detail), "%u key(s) destroyed, certificates revoked",
		         (unsigned)destroyed);
		(void)svc_audit(ctx, rq, actor->username, actor->roles, "key.destroy", username,
		                r == 0 ? AUDIT_SUCCESS : ink_err_str(r), r == 0 ? detail : NULL);
		if (r != 0)
			goto out;
	}
	if ((r = ctx->st->ops->user_set_status(ctx->st, u.id, STORE_USER_DISABLED)) != 0)
		goto out;
	if ((r = ctx->st->ops->session_revoke_user(ctx->st, u.id)) != 0)
		goto out;
	r = svc_audit(ctx, rq, actor->username, actor->roles, "user.remove", username,
	              AUDIT_SUCCESS, "account disabled, sessions ended, records kept");
out:
	user_wipe(&u);
	return r;
}

int
auth_user_unlock(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *username, const char *otp)
{
	struct store_user u;
	int r;

	memset(&u, 0, sizeof(u));
	if (!auth_allowed(actor->roles, AUTH_PERM_UNLOCK) &&
	    !auth_allowed(actor->roles, AUTH_PERM_PRIVILEGED_MANAGE))
		return actor_may(ctx, rq, actor, AUTH_PERM_UNLOCK, "user.unlock", username);
	if ((r = load_target(ctx, rq, actor, "user.unlock", username, &u)) != 0)
		goto out;
	/* a signer by a registration officer, a privileged account by a security officer */
	if ((r = actor_may(ctx, rq, actor, (u.roles & AUTH_ROLE_SIGNER) ? AUTH_PERM_UNLOCK :
	                   AUTH_PERM_PRIVILEGED_MANAGE, "user.unlock", username)) != 0)
		goto out;
	if (strcmp(u.id, actor->user_id) == 0) {
		r = refuse(ctx, rq, actor, "user.unlock", username, "denied: own account",
		           INK_ERR_DENIED);
		goto out;
	}
	if (u.status == STORE_USER_DISABLED) {
		r = refuse(ctx, rq, actor, "user.unlock", username, "account deregistered",
		           INK_ERR_DISABLED);
		goto out;
	}
	/* The SAM's lock (wrong one-time passwords) is lifted by the SAM, on the officer's proof. */
	if ((r = sam_person_unlock(ctx->sam, actor->token_hash, u.id, otp)) != 0) {
		r = refuse(ctx, rq, actor, "user.unlock", username, ink_err_str(r), r);
		goto out;
	}
	if ((r = ctx->st->ops->user_set_status(ctx->st, u.id, STORE_USER_ACTIVE)) != 0 ||
	    (r = ctx->st->ops->user_login_ok(ctx->st, u.id)) != 0)
		goto out;
	r = svc_audit(ctx, rq, actor->username, actor->roles, "user.unlock", username,
	              AUDIT_SUCCESS, NULL);
out:
	user_wipe(&u);
	return r;
}

int
auth_role_change(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *username, uint32_t role,
                 bool grant)
{
	const char *action = grant ? "role.grant" : "role.revoke", *why = NULL;
	struct store_user u;
	uint32_t roles;
	size_t officers = 0;
	char detail[STORE_TEXT_MAX];
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = actor_may(ctx, rq, actor, AUTH_PERM_PRIVILEGED_MANAGE, action, username)) != 0)
		return r;
	if (auth_role_name(role) == NULL || !(role & AUTH_ROLES_PRIVILEGED))
		return refuse(ctx, rq, actor, action, username,
		              "only privileged roles are granted here; signers are registered",
		              INK_ERR_SOD);
	if ((r = load_target(ctx, rq, actor, action, username, &u)) != 0)
		goto out;
	if (strcmp(u.id, actor->user_id) == 0) {
		r = refuse(ctx, rq, actor, action, username, "denied: own account", INK_ERR_SOD);
		goto out;
	}
	if (u.status == STORE_USER_DISABLED) {
		r = refuse(ctx, rq, actor, action, username, "account deregistered", INK_ERR_DISABLED);
		goto out;
	}
	roles = grant ? (u.roles | role) : (u.roles & ~role);
	if (roles == 0) {
		r = refuse(ctx, rq, actor, action, username,
		           "an account keeps at least one role; deregister it instead", INK_ERR_SOD);
		goto out;
	}
	if (auth_roles_check(roles, &why) != 0) {
		r = refuse(ctx, rq, actor, action, username, why, INK_ERR_SOD);
		goto out;
	}
	if (!grant && role == AUTH_ROLE_SECURITY_OFFICER) {
		if ((r = count_other_officers(ctx, u.id, &officers)) != 0)
			goto out;
		if (officers == 0) {
			r = refuse(ctx, rq, actor, action, username, "denied: last security officer",
			           INK_ERR_SOD);
			goto out;
		}
	}
	/* The SAM decides with its own record (and writes it); inkand's copy follows. */
	if ((r = sam_role_set(ctx->sam, actor->token_hash, u.id, role, grant, &roles)) != 0) {
		r = refuse(ctx, rq, actor, action, username, "refused by the SAM", r);
		goto out;
	}
	if ((r = ctx->st->ops->user_set_roles(ctx->st, u.id, roles)) != 0)
		goto out;
	/* A role change ends the account's sessions: new rights need a new login. */
	if ((r = ctx->st->ops->session_revoke_user(ctx->st, u.id)) != 0)
		goto out;
	snprintf(detail, sizeof(detail), "%s", auth_role_name(role));
	r = svc_audit(ctx, rq, actor->username, actor->roles, action, username, AUDIT_SUCCESS, detail);
out:
	user_wipe(&u);
	return r;
}

/* ---- TOTP enrolment by the account holder ---- */

int
auth_enrol(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *p,
           struct auth_new_secrets *secrets)
{
	int r;

	memset(secrets, 0, sizeof(*secrets));
	if (!p->enrol_only)
		return refuse(ctx, rq, p, "auth.enrol", p->username,
		              p->password_change_only ? "password change required" : "enrolled already",
		              p->password_change_only ? INK_ERR_PASSWORD_CHANGE : INK_ERR_EXISTS);
	if ((r = sam_enrol(ctx->sam, p->token_hash, &secrets->totp_seed_b32)) != 0)
		return refuse(ctx, rq, p, "auth.enrol", p->username, ink_err_str(r), r);
	if ((secrets->otpauth_uri = secmem_alloc(512)) == NULL)
		r = INK_ERR_ALLOC;
	else
		r = auth_otpauth_uri(OTPAUTH_ISSUER, p->username, secrets->totp_seed_b32,
		                     secrets->otpauth_uri, 512);
	if (r == 0)
		r = svc_audit(ctx, rq, p->username, p->roles, "auth.enrol", p->username, AUDIT_SUCCESS,
		              "new TOTP seed shown to the account holder");
	if (r != 0)
		auth_secrets_free(secrets);
	return r;
}

int
auth_enrol_confirm(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *p, const char *otp)
{
	uint32_t roles = 0;
	int r;

	if (!p->enrol_only)
		return refuse(ctx, rq, p, "auth.enrol.confirm", p->username, "no enrolment under way",
		              INK_ERR_ENROL);
	r = sam_enrol_confirm(ctx->sam, p->token_hash, otp, rq != NULL ? rq->source : NULL, &roles);
	if (r == INK_ERR_AUTH) {
		bool locked = false;

		if (ctx->st->ops->user_login_failed(ctx->st, p->user_id, ctx->cfg->max_login_failures,
		                                    &locked) != 0)
			log_error("cannot count a failed OTP");
	}
	if (r != 0)
		return refuse(ctx, rq, p, "auth.enrol.confirm", p->username, ink_err_str(r), r);
	if ((r = ctx->st->ops->session_upgrade(ctx->st, p->token_hash)) != 0)
		return r;
	return svc_audit(ctx, rq, p->username, p->roles, "auth.enrol.confirm", p->username,
	                 AUDIT_SUCCESS, "second factor activated by the account holder");
}

int
auth_user_reenrol(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, const char *username, const char *otp,
                  struct auth_new_secrets *secrets)
{
	struct store_user u;
	int r;

	memset(&u, 0, sizeof(u));
	memset(secrets, 0, sizeof(*secrets));
	if (!auth_allowed(actor->roles, AUTH_PERM_UNLOCK) &&
	    !auth_allowed(actor->roles, AUTH_PERM_PRIVILEGED_MANAGE))
		return actor_may(ctx, rq, actor, AUTH_PERM_UNLOCK, "user.reenrol", username);
	if ((r = load_target(ctx, rq, actor, "user.reenrol", username, &u)) != 0)
		goto out;
	if ((r = actor_may(ctx, rq, actor, (u.roles & AUTH_ROLE_SIGNER) ? AUTH_PERM_UNLOCK :
	                   AUTH_PERM_PRIVILEGED_MANAGE, "user.reenrol", username)) != 0)
		goto out;
	if ((r = sam_reenrol(ctx->sam, actor->token_hash, u.id, otp, &secrets->password)) != 0) {
		r = refuse(ctx, rq, actor, "user.reenrol", username, ink_err_str(r), r);
		goto out;
	}
	/* The SAM's new activation code goes to the person out of band; they log in with their
	 * own password and the code (in the OTP's place) and enrol a new seed. The password stays:
	 * the officer holds the code but not the password. */
	if ((r = ctx->st->ops->session_revoke_user(ctx->st, u.id)) != 0)
		goto out;
	r = svc_audit(ctx, rq, actor->username, actor->roles, "user.reenrol", username,
	              AUDIT_SUCCESS, "second factor reset; an activation code for a new enrolment");
out:
	if (r != 0)
		auth_secrets_free(secrets);
	user_wipe(&u);
	return r;
}
