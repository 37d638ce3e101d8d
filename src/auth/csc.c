/* csc: the account side of CSC signing — who may authorize and sign, the OTP step claimed once
 * for the account, and an audit record of every authorization and signature with the
 * credential, certificate serial and every hash, whatever the outcome (CEN/TS 419 241 L1/L2). */
#include "auth/auth.h"
#include "auth/auth_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "sam/sam.h"

/* Hashes per audit record: the detail column holds about 8 KB. */
#define HASHES_PER_RECORD 60

static int
csc_audit(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *a,
          const char *action, const char *client, const char *cred, const char *serial,
          const uint8_t *const *hashes, const size_t *lens, size_t n, int r)
{
	struct audit_event ev[AUDIT_MANY_MAX];
	char roles[STORE_TEXT_MAX], *details = NULL, *detail;
	size_t first, i, off, k, nrec;
	int err;

	/* One record per slice of hashes, so every value signed is on the record; all slices in
	 * one durable commit. Each detail is NUL-terminated as it is written: not zeroed first. */
	nrec = n == 0 ? 1 : (n + HASHES_PER_RECORD - 1) / HASHES_PER_RECORD;
	if (nrec > AUDIT_MANY_MAX ||
	    (details = malloc(nrec * (STORE_DETAIL_MAX + 1))) == NULL) {
		log_error("cannot audit %s", action);
		return INK_ERR_ALLOC;
	}
	auth_roles_str(a->roles, roles, sizeof(roles));
	for (k = 0, first = 0; k < nrec; k++, first += HASHES_PER_RECORD) {
		detail = details + k * (STORE_DETAIL_MAX + 1);
		off = (size_t)snprintf(detail, STORE_DETAIL_MAX + 1, "%s%s%sserial %s; hashes %zu-%zu of %zu:",
		                       client != NULL ? "client " : "", client != NULL ? client : "",
		                       client != NULL ? "; " : "",
		                       serial != NULL && *serial != '\0' ? serial : "-",
		                       n > 0 ? first + 1 : 0, first + HASHES_PER_RECORD < n ?
		                       first + HASHES_PER_RECORD : n, n);
		for (i = first; i < n && i < first + HASHES_PER_RECORD &&
		                off + 2 * lens[i] + 2 < STORE_DETAIL_MAX; i++) {
			detail[off++] = ' ';
			hex_encode(hashes[i], lens[i], detail + off);
			off += 2 * lens[i];
		}
		ev[k] = (struct audit_event){
			.actor = a->username, .role = roles, .action = action, .subject = cred,
			.result = r == 0 ? AUDIT_SUCCESS : ink_err_str(r), .request_id = rq->request_id,
			.source = rq->source, .detail = detail,
		};
	}
	if ((err = audit_append_many(ctx->st, ev, nrec)) != 0)
		log_error("cannot audit %s", action);
	free(details);
	return err;
}

/* A wrong or reused OTP counts against the account like a failed login. */
static void
count_otp_failure(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *a)
{
	struct audit_event ev = {
		.actor = a->username, .action = "auth.lockout", .subject = a->username,
		.result = "locked", .detail = "too many failed OTPs", .request_id = rq->request_id,
		.source = rq->source,
	};
	bool locked = false;

	if (ctx->st->ops->user_login_failed(ctx->st, a->user_id, ctx->cfg->max_login_failures,
	                                    &locked) != 0)
		log_error("cannot count a failed OTP");
	if (locked && audit_append(ctx->st, &ev) != 0)
		log_error("cannot audit a lockout");
}

static void
sad_encode(const uint8_t sad[static SAM_SAD_LEN], char out[static AUTH_SAD_CHARS + 1])
{
	char *b = NULL;
	size_t i, o = 0;

	out[0] = '\0';
	if (b64_encode(sad, SAM_SAD_LEN, &b) != 0)
		return;
	for (i = 0; b[i] != '\0' && o < AUTH_SAD_CHARS; i++) {
		if (b[i] == '=')
			break;
		out[o++] = b[i] == '+' ? '-' : b[i] == '/' ? '_' : b[i];
	}
	out[o] = '\0';
	OPENSSL_cleanse(b, strlen(b));
	free(b);
}

static int
sad_decode(const char *s, uint8_t sad[static SAM_SAD_LEN])
{
	char b[AUTH_SAD_CHARS + 2];
	uint8_t *raw = NULL;
	size_t i, n = 0;
	int r = INK_ERR_INVALID;

	if (s == NULL || strlen(s) != AUTH_SAD_CHARS)
		return INK_ERR_INVALID;
	for (i = 0; i < AUTH_SAD_CHARS; i++)
		b[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	b[i++] = '=';
	b[i] = '\0';
	if (b64_decode(b, &raw, &n) == 0 && n == SAM_SAD_LEN) {
		memcpy(sad, raw, SAM_SAD_LEN);
		r = 0;
	}
	if (raw != NULL)
		OPENSSL_clear_free(raw, n);
	OPENSSL_cleanse(b, sizeof(b));
	return r;
}

/* credentials/authorize (person and client NULL) or an OAuth consent (the person who gave it
 * to client): the same SAM checks. */
int
auth_sad_mint(const struct auth_ctx *ctx, const struct auth_req *rq,
              const struct auth_principal *actor, const char *person, const char *client,
              const char *cred, const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
              const char *hash_oid, const char *pin, const char *otp,
              char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in)
{
	uint8_t raw[SAM_SAD_LEN];
	char serial[41] = "";
	int64_t step = -1, expires = 0;
	int r = 0;

	sad[0] = '\0';
	*expires_in = 0;
	if (actor->password_change_only)
		r = INK_ERR_PASSWORD_CHANGE;
	else if (!auth_allowed(actor->roles, AUTH_PERM_SIGN))
		r = INK_ERR_DENIED;
	else if (n == 0 || n > (size_t)ctx->cfg->multisign)
		r = INK_ERR_TOO_LARGE;
	if (r == 0) {
		/* The SAM checks the OTP against its own record of the signer (seed, window, last
		 * step used, attempt counter) and claims its step for logins too. */
		struct sam_authz a = {
			.session = actor->token_hash, .client = client, .person = person, .cred = cred,
			.otp = otp != NULL && strlen(otp) <= SAM_OTP_MAX ? otp : "", .pin = pin,
			.hash_oid = hash_oid,
			.ttl = (uint32_t)ctx->cfg->sad_ttl, .hashes = hashes, .hash_lens = hash_lens, .n = n,
		};

		r = sam_authorize(ctx->sam, &a, raw, &step, &expires, serial);
		if (r == INK_ERR_AUTH && person == NULL)
			count_otp_failure(ctx, rq, actor);
	}
	if (csc_audit(ctx, rq, actor, client != NULL ? "oauth.authorize" : "csc.authorize", client,
	              cred, serial, hashes, hash_lens, n, r) != 0 && r == 0) {
		/* No authorization without its record. */
		if (sam_sad_drop(ctx->sam, raw) != 0)
			log_error("could not drop an unaudited SAD");
		r = INK_ERR_STORE;
	}
	if (r == 0) {
		sad_encode(raw, sad);
		*expires_in = expires - ink_now();
		if (*expires_in < 1)
			*expires_in = 1;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

int
auth_csc_authorize(const struct auth_ctx *ctx, const struct auth_req *rq,
                   const struct auth_principal *actor, const char *cred,
                   const uint8_t *const *hashes, const size_t *hash_lens, size_t n,
                   const char *hash_oid, const char *pin, const char *otp,
                   char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in)
{
	return auth_sad_mint(ctx, rq, actor, NULL, NULL, cred, hashes, hash_lens, n, hash_oid, pin,
	                     otp, sad, expires_in);
}

int
auth_sad_drop(const struct auth_ctx *ctx, const char *sad)
{
	uint8_t raw[SAM_SAD_LEN];
	int r;

	if (sad_decode(sad, raw) != 0)
		return 0;
	r = sam_sad_drop(ctx->sam, raw);
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}

int
auth_csc_sign(const struct auth_ctx *ctx, const struct auth_req *rq,
              const struct auth_principal *actor, const char *cred, const char *sad,
              const char *sig_alg, const char *hash_oid, long pss_salt,
              const uint8_t *const *hashes, const size_t *hash_lens, size_t n, uint8_t **sigs,
              size_t *sig_lens)
{
	uint8_t raw[SAM_SAD_LEN];
	char serial[41] = "";
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sigs[i] = NULL;
		sig_lens[i] = 0;
	}
	if (actor->password_change_only)
		r = INK_ERR_PASSWORD_CHANGE;
	else if (!auth_allowed(actor->roles, AUTH_PERM_SIGN))
		r = INK_ERR_DENIED;
	else if (sad_decode(sad, raw) != 0)
		r = INK_ERR_AUTH;
	else
		r = sam_sign(ctx->sam, actor->user_id, actor->token_hash, cred, raw, sig_alg, hash_oid,
		             pss_salt, hashes, hash_lens, n, sigs, sig_lens, serial);
	/* Durable before the client sees a signature: a failed audit withholds them. */
	if (csc_audit(ctx, rq, actor, "csc.signHash", NULL, cred, serial, hashes, hash_lens, n, r) != 0 &&
	    r == 0) {
		for (i = 0; i < n; i++) {
			free(sigs[i]);
			sigs[i] = NULL;
			sig_lens[i] = 0;
		}
		r = INK_ERR_STORE;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return r;
}
