/* credentials: who may ask the key manager (in inkan-sam) for what, with an audit record of
 * every request — credential id and certificate serial included — whatever its outcome. */
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "keys/keys.h"
#include "sam/sam.h"

static void
key_audit(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *a,
          const char *action, const char *id, const char *serial, int r)
{
	char roles[STORE_TEXT_MAX], detail[STORE_TEXT_MAX];
	struct audit_event ev = {
		.actor = a->username,
		.action = action,
		.subject = id,
		.result = r == 0 ? AUDIT_SUCCESS : ink_err_str(r),
		.request_id = rq->request_id,
		.source = rq->source,
	};

	auth_roles_str(a->roles, roles, sizeof(roles));
	ev.role = roles;
	if (serial != NULL && *serial != '\0') {
		snprintf(detail, sizeof(detail), "certificate serial %s", serial);
		ev.detail = detail;
	}
	if (audit_append(ctx->st, &ev) != 0)
		log_error("cannot audit %s", action);
}

/* Full session and the permission, or a refusal that is audited. */
static int
may(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *a,
    enum auth_perm perm, const char *action, const char *id)
{
	int r = 0;

	if (a->password_change_only)
		r = INK_ERR_PASSWORD_CHANGE;
	else if (!auth_allowed(a->roles, perm))
		r = INK_ERR_DENIED;
	if (r != 0)
		key_audit(ctx, rq, a, action, id, NULL, r);
	return r;
}

/* Refuses a signing PIN equal to the login password: the two factors must stay two. */
static int
pin_not_password(const struct auth_ctx *ctx, const struct auth_principal *a, const char *pin)
{
	struct store_user u;
	int r;

	memset(&u, 0, sizeof(u));
	if ((r = ctx->st->ops->user_get_by_id(ctx->st, a->user_id, &u)) != 0)
		return r;
	r = auth_password_verify(u.password_hash, pin);
	OPENSSL_cleanse(&u, sizeof(u));
	if (r == 0)
		return INK_ERR_POLICY;
	return r == INK_ERR_AUTH ? 0 : r;
}

int
auth_key_create(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *actor, const char *algo, const char *pin,
                bool external, struct sam_cred *out, uint8_t **csr, size_t *csr_len)
{
	int r;

	memset(out, 0, sizeof(*out));
	*csr = NULL;
	*csr_len = 0;
	if ((r = may(ctx, rq, actor, AUTH_PERM_SIGN, "key.create", NULL)) != 0)
		return r;
	if ((r = pin_not_password(ctx, actor, pin)) != 0) {
		key_audit(ctx, rq, actor, "key.create", NULL, NULL, r);
		return r;
	}
	/* The certificate names the SAM's own record of the signer (the registration officer's
	 * record and the pseudonym the SAM assigned), never what inkand or the caller says. */
	r = sam_key_create(ctx->sam, actor->token_hash, algo, pin, external, out, csr, csr_len);
	key_audit(ctx, rq, actor, "key.create", r == 0 ? out->id : NULL, r == 0 ? out->serial : NULL, r);
	return r;
}

int
auth_key_list(const struct auth_ctx *ctx, const struct auth_req *rq,
              const struct auth_principal *actor, struct sam_cred **out, size_t *n)
{
	bool admin = auth_allowed(actor->roles, AUTH_PERM_KEY_ADMIN);
	int r;

	*out = NULL;
	*n = 0;
	if (!admin && (r = may(ctx, rq, actor, AUTH_PERM_SIGN, "key.list", NULL)) != 0)
		return r;
	if (actor->password_change_only)
		return INK_ERR_PASSWORD_CHANGE;
	r = sam_key_list(ctx->sam, admin ? NULL : actor->user_id, out, n);
	if (admin)
		key_audit(ctx, rq, actor, "key.list", NULL, NULL, r);
	return r;
}

/* The owner filter for an operation on one key: a signer only their own; a key admin any. */
static const char *
owner_of(const struct auth_principal *a, bool admin_allowed)
{
	if (admin_allowed && auth_allowed(a->roles, AUTH_PERM_KEY_ADMIN))
		return NULL;
	return a->user_id;
}

static bool
signer_or_admin(const struct auth_principal *a)
{
	return auth_allowed(a->roles, AUTH_PERM_SIGN) || auth_allowed(a->roles, AUTH_PERM_KEY_ADMIN);
}

int
auth_key_show(const struct auth_ctx *ctx, const struct auth_req *rq,
              const struct auth_principal *actor, const char *id, struct sam_cred *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (actor->password_change_only || !signer_or_admin(actor)) {
		r = actor->password_change_only ? INK_ERR_PASSWORD_CHANGE : INK_ERR_DENIED;
		key_audit(ctx, rq, actor, "key.show", id, NULL, r);
		return r;
	}
	r = sam_key_get(ctx->sam, owner_of(actor, true), id, out);
	if (r != 0)
		key_audit(ctx, rq, actor, "key.show", id, NULL, r);
	return r;
}

int
auth_key_import(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *actor, const char *id, const uint8_t *der,
                size_t len, struct sam_cred *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = may(ctx, rq, actor, AUTH_PERM_SIGN, "key.certificate", id)) != 0)
		return r;
	r = sam_key_import(ctx->sam, actor->token_hash, id, der, len, out);
	key_audit(ctx, rq, actor, "key.certificate", id, r == 0 ? out->serial : NULL, r);
	return r;
}

/* A wrong code counts against the account like a failed login (the SAM counts it too, in
 * its own record, and locks the person there; the step is claimed by the SAM). */
static void
otp_outcome(const struct auth_ctx *ctx, const struct auth_principal *a, int r)
{
	bool locked = false;

	if (r == INK_ERR_AUTH &&
	    ctx->st->ops->user_login_failed(ctx->st, a->user_id, ctx->cfg->max_login_failures,
	                                    &locked) != 0)
		log_error("cannot count a failed OTP");
}

int
auth_key_pin(const struct auth_ctx *ctx, const struct auth_req *rq,
             const struct auth_principal *actor, const char *id, const char *old_pin,
             const char *new_pin, const char *otp)
{
	int64_t step = -1;
	int r;

	if ((r = may(ctx, rq, actor, AUTH_PERM_SIGN, "key.pin", id)) != 0)
		return r;
	if ((r = pin_not_password(ctx, actor, new_pin)) == 0) {
		r = sam_key_pin(ctx->sam, actor->token_hash, id, old_pin, new_pin, otp, &step);
		otp_outcome(ctx, actor, r);
	}
	key_audit(ctx, rq, actor, "key.pin", id, NULL, r);
	return r;
}

int
auth_key_auth_mode(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *actor, const char *id, const char *pin,
                   bool oauth_only, const char *otp)
{
	int64_t step = -1;
	int r;
	const char *action = oauth_only ? "key.auth_mode.oauth2code" : "key.auth_mode.explicit";

	if ((r = may(ctx, rq, actor, AUTH_PERM_SIGN, action, id)) != 0)
		return r;
	r = sam_key_auth_mode(ctx->sam, actor->token_hash, id, pin,
	                      oauth_only ? KEYS_AUTH_OAUTH_ONLY : KEYS_AUTH_SERVICE, otp, &step);
	otp_outcome(ctx, actor, r);
	key_audit(ctx, rq, actor, action, id, NULL, r);
	return r;
}

int
auth_key_revoke(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *actor, const char *id, int reason)
{
	struct sam_cred c;
	int r;

	memset(&c, 0, sizeof(c));
	if (actor->password_change_only || !signer_or_admin(actor)) {
		r = actor->password_change_only ? INK_ERR_PASSWORD_CHANGE : INK_ERR_DENIED;
		key_audit(ctx, rq, actor, "key.revoke", id, NULL, r);
		return r;
	}
	/* The serial is looked up first so the record names the certificate revoked. */
	if ((r = sam_key_get(ctx->sam, owner_of(actor, true), id, &c)) == 0)
		r = sam_key_revoke(ctx->sam, actor->token_hash, id, (uint32_t)reason);
	key_audit(ctx, rq, actor, "key.revoke", id, c.serial, r);
	sam_cred_clear(&c);
	return r;
}

int
auth_key_renew(const struct auth_ctx *ctx, const struct auth_req *rq,
               const struct auth_principal *actor, const char *id, const char *pin,
               const char *otp, struct sam_cred *out)
{
	int64_t step = -1;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = may(ctx, rq, actor, AUTH_PERM_SIGN, "key.renew", id)) != 0)
		return r;
	r = sam_key_renew(ctx->sam, actor->token_hash, id, pin, otp, out, &step);
	otp_outcome(ctx, actor, r);
	key_audit(ctx, rq, actor, "key.renew", id, r == 0 ? out->serial : NULL, r);
	if (r == 0)
		key_audit(ctx, rq, actor, "key.create", out->id, out->serial, 0);
	return r;
}

int
auth_key_unlock(const struct auth_ctx *ctx, const struct auth_req *rq,
                const struct auth_principal *actor, const char *id)
{
	int r;

	if ((r = may(ctx, rq, actor, AUTH_PERM_UNLOCK, "key.unlock", id)) != 0)
		return r;
	r = sam_key_unlock(ctx->sam, actor->token_hash, id);
	key_audit(ctx, rq, actor, "key.unlock", id, NULL, r);
	return r;
}

int
auth_backup(const struct auth_ctx *ctx, const struct auth_req *rq,
            const struct auth_principal *actor, uint8_t **blob, size_t *len)
{
	int r;

	*blob = NULL;
	*len = 0;
	if ((r = may(ctx, rq, actor, AUTH_PERM_BACKUP, "backup.create", NULL)) != 0)
		return r;
	r = sam_backup(ctx->sam, actor->token_hash, blob, len);
	key_audit(ctx, rq, actor, "backup.create", NULL, NULL, r);
	return r;
}

int
auth_restore(const struct auth_ctx *ctx, const struct auth_req *rq,
             const struct auth_principal *actor, const struct auth_restore_req *a,
             uint32_t *count)
{
	struct store_user u;
	int r, bare;

	*count = 0;
	memset(&u, 0, sizeof(u));
	if ((r = may(ctx, rq, actor, AUTH_PERM_BACKUP, "backup.restore", NULL)) != 0)
		return r;
	r = a->second_officer == NULL ? 0 : ctx->st->ops->user_get_by_name(ctx->st, a->second_officer, &u);
	if (r == 0 && a->second_officer == NULL)
		r = sam_restore(ctx->sam, actor->token_hash, a->otp, a->blob, a->len, a->crl,
		                a->crl_len, count);
	/* No SAM session (a bare key store, after a disaster), or two officers: the SAM checks
	 * them against the backup's own records of them. On a SAM that serves persons the bare
	 * form is refused, and the first answer stands. */
	if ((a->second_officer != NULL && r == 0) || (a->second_officer == NULL && r == INK_ERR_AUTH)) {
		struct sam_bare_restore b = {
			.operator_id = actor->user_id, .operator_otp = a->otp,
			.officer_id = a->second_officer != NULL ? u.id : NULL,
			.officer_otp = a->second_otp,
		};

		bare = sam_restore_bare(ctx->sam, &b, a->blob, a->len, a->crl, a->crl_len, count);
		if (bare != INK_ERR_EXISTS || a->second_officer != NULL)
			r = bare;
	}
	key_audit(ctx, rq, actor, "backup.restore", NULL, NULL, r);
	OPENSSL_cleanse(&u, sizeof(u));
	return r;
}
