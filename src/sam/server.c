/* server: inkan-sam's request loop. Every request is parsed through the bounded buffer and
 * checked here; the master key never leaves this process. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "keys/keys.h"

#define SAM_PURPOSE_TOTP "totp-seed"
#define SAM_CN_MAX 256
#define SAM_USER_ID_MAX 64
#define SAM_WINDOW_MAX 3

typedef int (*sam_handler)(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep);

static int write_public(const struct ink_config *cfg, const char *name, const char *text);
static int publish_log_key(const struct ink_config *cfg, struct keys *k);

static int
handle_ping(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	(void)s;
	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	return buf_put_u32(rep, (uint32_t)getpid());
}

static int
handle_totp_new(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char user_id[SAM_USER_ID_MAX + 1], b32[AUTH_TOTP_B32_MAX];
	uint8_t *seed = NULL, sealed[SAM_SEALED_MAX];
	size_t sealed_len = 0;
	int r;

	if ((r = buf_get_cstring(req, user_id, sizeof(user_id))) != 0 || buf_remaining(req) != 0 ||
	    user_id[0] == '\0')
		return INK_ERR_PROTOCOL;
	/* Seeds are made for new accounts only: a second seed for a signer who already has keys
	 * would hand whoever asked (a compromised inkand) that signer's second factor. */
	{
		struct keys_cred *v = NULL;
		size_t n = 0;

		if ((r = keys_cred_list(s->keys, user_id, &v, &n)) != 0)
			return r;
		keys_creds_free(v, n);
		if (n > 0) {
			log_warn("refused a new TOTP seed for an account that holds credentials");
			return INK_ERR_EXISTS;
		}
	}
	if ((seed = secmem_alloc(AUTH_TOTP_SEED_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = ink_random(seed, AUTH_TOTP_SEED_LEN)) != 0)
		goto out;
	if ((r = keys_seal(s->keys, SAM_PURPOSE_TOTP, (const uint8_t *)user_id, strlen(user_id),
	                   seed, AUTH_TOTP_SEED_LEN, sealed, &sealed_len)) != 0)
		goto out;
	if ((r = auth_base32_encode(seed, AUTH_TOTP_SEED_LEN, b32, sizeof(b32))) != 0)
		goto out;
	if ((r = buf_put_string(rep, sealed, sealed_len)) != 0 ||
	    (r = buf_put_cstring(rep, b32)) != 0)
		goto out;
out:
	explicit_bzero(b32, sizeof(b32));
	secmem_free(seed);
	return r;
}

static int
handle_totp_check(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char user_id[SAM_USER_ID_MAX + 1], code[SAM_OTP_MAX + 1];
	const uint8_t *sealed;
	size_t sealed_len;
	uint32_t window;
	int64_t step = -1;
	int r;

	if ((r = buf_get_cstring(req, user_id, sizeof(user_id))) != 0 ||
	    (r = buf_get_string_ptr(req, &sealed, &sealed_len, SAM_SEALED_MAX)) != 0 ||
	    (r = buf_get_cstring(req, code, sizeof(code))) != 0 ||
	    (r = buf_get_u32(req, &window)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (window > SAM_WINDOW_MAX || user_id[0] == '\0') {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	/* A seed sealed for another user fails (the user id is the associated data), and a step
	 * this SAM has seen for the user — at a login or an authorization — is not accepted again:
	 * one code serves one purpose once. */
	if ((r = sam_check_otp(s, user_id, sealed, sealed_len, code, window, &step)) != 0)
		goto out;
	r = buf_put_u64(rep, (uint64_t)step);
out:
	explicit_bzero(code, sizeof(code));
	return r;
}

/* ---- key manager ---- */

static int
put_cred(struct ink_buf *rep, const struct keys_cred *k)
{
	struct sam_cred c;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", k->id);
	snprintf(c.owner, sizeof(c.owner), "%s", k->owner);
	snprintf(c.algo, sizeof(c.algo), "%s", k->algo);
	snprintf(c.serial, sizeof(c.serial), "%s", k->serial);
	c.status = (uint32_t)k->status;
	c.pin_failures = (uint64_t)k->pin_failures;
	c.created_at = k->created_at;
	c.not_before = k->not_before;
	c.not_after = k->not_after;
	c.revoked_at = k->revoked_at;
	c.reason = (uint32_t)k->reason;
	c.cert = k->cert;
	c.cert_len = k->cert_len;
	c.pub = k->pub;
	c.pub_len = k->pub_len;
	return sam_put_cred(rep, &c);
}

/* Reads an owner field: "" means any owner (officers' operations), else a user id. */
static int
get_owner(struct ink_buf *req, char owner[static SAM_USER_ID_MAX + 1], const char **ownerp)
{
	int r;

	if ((r = buf_get_cstring(req, owner, SAM_USER_ID_MAX + 1)) != 0)
		return r;
	*ownerp = owner[0] != '\0' ? owner : NULL;
	return 0;
}

static int
handle_key_create(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], cn[SAM_CN_MAX + 1], serial[SAM_USER_ID_MAX + 1];
	char algo[KEYS_ALGO_MAX + 1], pin[KEYS_PIN_MAX + 2];
	struct keys_cred c;
	struct keys_subject subj = { .common_name = cn, .serial_number = serial };
	uint8_t external = 0, *csr = NULL;
	size_t csr_len = 0;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = buf_get_cstring(req, owner, sizeof(owner))) != 0 ||
	    (r = buf_get_cstring(req, cn, sizeof(cn))) != 0 ||
	    (r = buf_get_cstring(req, serial, sizeof(serial))) != 0 ||
	    (r = buf_get_cstring(req, algo, sizeof(algo))) != 0 ||
	    (r = buf_get_cstring(req, pin, sizeof(pin))) != 0 ||
	    (r = buf_get_u8(req, &external)) != 0 || buf_remaining(req) != 0 || external > 1 ||
	    owner[0] == '\0' || cn[0] == '\0') {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((r = keys_cred_create(s->keys, owner, &subj, algo, pin, external == 1, &c,
	                          external ? &csr : NULL, &csr_len)) != 0)
		goto out;
	if ((r = put_cred(rep, &c)) != 0)
		goto out;
	r = buf_put_string(rep, csr, csr_len);
	log_info("credential %s created (%s)", c.id, c.algo);
out:
	explicit_bzero(pin, sizeof(pin));
	free(csr);
	keys_cred_clear(&c);
	return r;
}

static int
handle_key_list(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1];
	const char *o = NULL;
	struct keys_cred *v = NULL;
	size_t n = 0, i;
	int r;

	if ((r = get_owner(req, owner, &o)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_cred_list(s->keys, o, &v, &n)) != 0)
		return r;
	if ((r = buf_put_u32(rep, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = put_cred(rep, &v[i])) != 0)
			goto out;
out:
	keys_creds_free(v, n);
	return r;
}

static int
handle_key_get(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], id[SAM_USER_ID_MAX + 1];
	const char *o = NULL;
	struct keys_cred c;
	int r;

	if (get_owner(req, owner, &o) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_cred_get(s->keys, o, id, &c)) != 0)
		return r;
	r = put_cred(rep, &c);
	keys_cred_clear(&c);
	return r;
}

static int
handle_key_import(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], id[SAM_USER_ID_MAX + 1];
	const uint8_t *der;
	size_t len;
	struct keys_cred c;
	int r;

	if (buf_get_cstring(req, owner, sizeof(owner)) != 0 || owner[0] == '\0' ||
	    buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_string_ptr(req, &der, &len, 65536) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_cred_import_cert(s->keys, owner, id, der, len, &c)) != 0)
		return r;
	r = put_cred(rep, &c);
	keys_cred_clear(&c);
	return r;
}

/* The second factor that every PIN check needs: string sealed seed, cstring otp, u32 window.
 * No PIN is tried (and no PIN counter moves) without a fresh OTP. */
static int
second_factor(struct sam_state *s, struct ink_buf *req, const char *owner, int64_t *step)
{
	const uint8_t *sealed;
	size_t sealed_len;
	char otp[SAM_OTP_MAX + 1];
	uint32_t window;
	int r;

	*step = -1;
	if (buf_get_string_ptr(req, &sealed, &sealed_len, SAM_SEALED_MAX) != 0 ||
	    buf_get_cstring(req, otp, sizeof(otp)) != 0 || buf_get_u32(req, &window) != 0 ||
	    buf_remaining(req) != 0 || window > 3)
		r = INK_ERR_PROTOCOL;
	else
		r = sam_check_otp(s, owner, sealed, sealed_len, otp, window, step);
	explicit_bzero(otp, sizeof(otp));
	return r;
}

static int
handle_key_pin(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], id[SAM_USER_ID_MAX + 1];
	char old_pin[KEYS_PIN_MAX + 2], new_pin[KEYS_PIN_MAX + 2];
	int64_t step = -1;
	int r;

	if (buf_get_cstring(req, owner, sizeof(owner)) != 0 || owner[0] == '\0' ||
	    buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_cstring(req, old_pin, sizeof(old_pin)) != 0 ||
	    buf_get_cstring(req, new_pin, sizeof(new_pin)) != 0)
		r = INK_ERR_PROTOCOL;
	else if ((r = second_factor(s, req, owner, &step)) == 0) {
		r = keys_cred_change_pin(s->keys, owner, id, old_pin, new_pin);
		if (r == INK_ERR_AUTH)
			r = INK_ERR_BAD_PIN;
		if (r == 0)
			r = buf_put_u64(rep, (uint64_t)step);
	}
	explicit_bzero(old_pin, sizeof(old_pin));
	explicit_bzero(new_pin, sizeof(new_pin));
	return r;
}

static int
handle_key_revoke(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], id[SAM_USER_ID_MAX + 1];
	const char *o = NULL;
	uint32_t reason;

	(void)rep;
	if (get_owner(req, owner, &o) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_u32(req, &reason) != 0 || buf_remaining(req) != 0 || reason > 10)
		return INK_ERR_PROTOCOL;
	/* Live authorizations of a revoked key end with it. */
	sad_drop_cred(s->sads, id);
	return keys_cred_revoke(s->keys, o, id, (int)reason);
}

static int
handle_key_renew(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1], id[SAM_USER_ID_MAX + 1], pin[KEYS_PIN_MAX + 2];
	char cn[SAM_CN_MAX + 1], serial[SAM_USER_ID_MAX + 1];
	struct keys_subject subj = { .common_name = cn, .serial_number = serial };
	struct keys_cred c;
	int64_t step = -1;
	int r;

	memset(&c, 0, sizeof(c));
	if (buf_get_cstring(req, owner, sizeof(owner)) != 0 || owner[0] == '\0' ||
	    buf_get_cstring(req, id, sizeof(id)) != 0 || buf_get_cstring(req, pin, sizeof(pin)) != 0 ||
	    buf_get_cstring(req, cn, sizeof(cn)) != 0 ||
	    buf_get_cstring(req, serial, sizeof(serial)) != 0)
		r = INK_ERR_PROTOCOL;
	else if ((r = second_factor(s, req, owner, &step)) == 0) {
		r = keys_cred_renew(s->keys, owner, id, pin, &subj, &c);
		if (r == INK_ERR_AUTH)
			r = INK_ERR_BAD_PIN;
		if (r == 0 && (r = put_cred(rep, &c)) == 0)
			r = buf_put_u64(rep, (uint64_t)step);
	}
	explicit_bzero(pin, sizeof(pin));
	keys_cred_clear(&c);
	return r;
}

static int
handle_key_destroy(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[SAM_USER_ID_MAX + 1];
	size_t n = 0;
	int r;

	if (buf_get_cstring(req, owner, sizeof(owner)) != 0 || owner[0] == '\0' ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_cred_destroy_owner(s->keys, owner, &n)) != 0)
		return r;
	return buf_put_u32(rep, (uint32_t)n);
}

static int
handle_key_unlock(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1];

	(void)rep;
	if (buf_get_cstring(req, id, sizeof(id)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	return keys_cred_unlock(s->keys, id);
}

static int
handle_ca_chain(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char *pem = NULL;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_ca_chain_pem(s->keys, &pem)) != 0)
		return r;
	r = buf_put_cstring(rep, pem);
	free(pem);
	return r;
}

/* Answers with the DER that make produces (the CRL or the ARL). */
static int
der_reply(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep,
          int (*make)(struct keys *, uint8_t **, size_t *))
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = make(s->keys, &der, &len)) != 0)
		return r;
	r = buf_put_string(rep, der, len);
	free(der);
	return r;
}

static int
handle_ca_crl(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	return der_reply(s, req, rep, keys_ca_crl);
}

static int
handle_ca_arl(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	return der_reply(s, req, rep, keys_ca_arl);
}

static int
handle_backup(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_backup(s->keys, &blob, &len)) != 0)
		return r;
	r = buf_put_string(rep, blob, len);
	free(blob);
	log_info("backup made (%zu bytes)", len);
	return r;
}

static int
handle_restore(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *blob, *crl = NULL;
	size_t len, crl_len = 0, n = 0;
	int r;

	if (buf_get_string_ptr(req, &blob, &len, SAM_FRAME_MAX) != 0 ||
	    (buf_remaining(req) != 0 && buf_get_string_ptr(req, &crl, &crl_len, SAM_FRAME_MAX) != 0) ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	/* No dual control is checked here yet: a restore needs a witness (live store or CRL). */
	if ((r = keys_restore(s->keys, blob, len, crl_len > 0 ? crl : NULL, crl_len, false, &n)) != 0)
		return r;
	log_info("backup restored (%zu credentials)", n);
	if (s->cfg != NULL && publish_log_key(s->cfg, s->keys) != 0)
		log_error("cannot publish the restored audit log key");
	return buf_put_u32(rep, (uint32_t)n);
}

/* Publishes the audit log's public key as DATA/ca/audit-log.pem (at init, at start, and after
 * a restore brought another key). */
static int
publish_log_key(const struct ink_config *cfg, struct keys *k)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	char *pem = NULL;
	size_t len = 0;
	bool closed = false;
	int r;

	if ((r = keys_log_head(k, &h, &closed, &spki, &len)) == 0 &&
	    (r = audit_spki_to_pem(spki, len, &pem)) == 0)
		r = write_public(cfg, "audit-log.pem", pem);
	free(spki);
	free(pem);
	return r;
}

static const sam_handler handlers[] = {
	[SAM_MSG_PING] = handle_ping,
	[SAM_MSG_TOTP_NEW] = handle_totp_new,
	[SAM_MSG_TOTP_CHECK] = handle_totp_check,
	[SAM_MSG_KEY_CREATE] = handle_key_create,
	[SAM_MSG_KEY_LIST] = handle_key_list,
	[SAM_MSG_KEY_GET] = handle_key_get,
	[SAM_MSG_KEY_IMPORT] = handle_key_import,
	[SAM_MSG_KEY_PIN] = handle_key_pin,
	[SAM_MSG_KEY_REVOKE] = handle_key_revoke,
	[SAM_MSG_KEY_RENEW] = handle_key_renew,
	[SAM_MSG_KEY_DESTROY] = handle_key_destroy,
	[SAM_MSG_KEY_UNLOCK] = handle_key_unlock,
	[SAM_MSG_CA_CHAIN] = handle_ca_chain,
	[SAM_MSG_CA_CRL] = handle_ca_crl,
	[SAM_MSG_CA_ARL] = handle_ca_arl,
	[SAM_MSG_BACKUP] = handle_backup,
	[SAM_MSG_RESTORE] = handle_restore,
	[SAM_MSG_AUTHORIZE] = sam_handle_authorize,
	[SAM_MSG_SIGN] = sam_handle_sign,
	[SAM_MSG_SAD_DROP] = sam_handle_sad_drop,
	[SAM_MSG_LOG_HEAD] = sam_handle_log_head,
	[SAM_MSG_LOG_EXTEND] = sam_handle_log_extend,
	[SAM_MSG_TSA_STAMP] = sam_handle_tsa_stamp,
};

/* The key manager's settings from the shared configuration. */
static int
open_keys(const struct ink_config *cfg, struct keys **out)
{
	struct keys_params p = {
		.argon2_m_kib = (uint32_t)cfg->argon2_m_kib,
		.argon2_t = (uint32_t)cfg->argon2_t,
		.argon2_p = (uint32_t)cfg->argon2_p,
		.max_pin_failures = cfg->pin_max_failures,
		.level = (int)cfg->assurance_level,
		.cert_days = (int)cfg->cert_days,
		.policy_oid = cfg->cert_policy_oid,
		.organization = cfg->ca_organization,
		.key_backend = cfg->key_backend,
		.pkcs11_module = cfg->pkcs11_module,
		.pkcs11_allowed_modules = cfg->pkcs11_allowed_modules,
		.pkcs11_token_label = cfg->pkcs11_token_label,
		.pkcs11_pin_file = cfg->pkcs11_pin_file,
		.external_ca_file = cfg->external_ca_file,
	};
	char dir[1024], crl_url[256], arl_url[256];
	struct keys *k = NULL;
	int r;

	*out = NULL;
	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0)
		return r;
	if (snprintf(crl_url, sizeof(crl_url), "%s/ca/crl", cfg->public_url) >= (int)sizeof(crl_url) ||
	    snprintf(arl_url, sizeof(arl_url), "%s/ca/arl", cfg->public_url) >= (int)sizeof(arl_url))
		return INK_ERR_CONFIG;
	p.crl_url = crl_url;
	p.arl_url = arl_url;
	if ((r = keys_open(dir, &k)) != 0) {
		log_error("cannot open the key manager in %s: %s", dir, ink_err_str(r));
		return r;
	}
	if ((r = keys_set_params(k, &p)) != 0) {
		keys_close(k);
		return r;
	}
	*out = k;
	return 0;
}

/* Writes DIR/ca/NAME (public data, 0644). */
static int
write_public(const struct ink_config *cfg, const char *name, const char *text)
{
	char dir[1024], path[1100];
	int r;

	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "ca")) != 0 ||
	    (r = ink_mkdir(dir, 0755)) != 0 || (r = ink_path(path, sizeof(path), dir, name)) != 0)
		return r;
	return ink_write_file(path, text, strlen(text), 0644);
}

int
sam_init(const struct ink_config *cfg)
{
	struct keys *k = NULL;
	char dir[1024], *pem = NULL;
	int r;

	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0 ||
	    (r = keys_init_dir(dir)) != 0)
		return r;
	if ((r = open_keys(cfg, &k)) != 0)
		return r;
	if ((r = keys_ca_init(k)) != 0)
		goto out;
	if ((r = keys_ca_root_pem(k, &pem)) != 0 || (r = write_public(cfg, "root.pem", pem)) != 0)
		goto out;
	free(pem);
	pem = NULL;
	if ((r = keys_ca_chain_pem(k, &pem)) != 0 || (r = write_public(cfg, "chain.pem", pem)) != 0)
		goto out;
	/* the audit log key is made now, and its public half published beside the CA */
	r = publish_log_key(cfg, k);
out:
	free(pem);
	keys_close(k);
	return r;
}

/* One channel from inkand, served by its own thread. */
struct channel {
	struct sam_state *s;
	int fd;
	const int *all;            /* every channel's descriptor: the first to end ends the rest */
	size_t nall;
	int r;
};

/* Runs one request. A signHash shares the SAM with other signHash requests (it lets go of
 * s->mu while its signatures are made, see sam_handle_sign); anything else has the SAM to
 * itself, after the signatures under way are done, so that no key changes under a signature. */
static int
dispatch(struct sam_state *s, uint8_t type, struct ink_buf *req, struct ink_buf *rep)
{
	bool sign = type == SAM_MSG_SIGN;
	int r;

	if (sign)
		pthread_rwlock_rdlock(&s->use);
	else
		pthread_rwlock_wrlock(&s->use);
	pthread_mutex_lock(&s->mu);
	r = handlers[type](s, req, rep);
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&s->use);
	return r;
}

static void *
channel_main(void *arg)
{
	struct channel *ch = arg;
	struct ink_buf req, rep;
	size_t used_rep, i;
	uint8_t type = 0;
	int r;

	buf_init(&req, SAM_FRAME_MAX, true);
	buf_init(&rep, SAM_FRAME_MAX, true);
	for (;;) {
		if ((r = sam_frame_read(ch->fd, &req)) != 0) {
			if (r == INK_ERR_IO)
				r = 0; /* inkand closed the channel: a normal stop */
			else
				log_error("malformed frame from inkand: %s", ink_err_str(r));
			break;
		}
		rep.len = rep.off = 0;
		type = 0;
		if ((r = buf_put_u8(&rep, SAM_REPLY_OK)) != 0)
			break;
		if (buf_get_u8(&req, &type) != 0 || type >= INK_ARRAY_LEN(handlers) ||
		    handlers[type] == NULL)
			r = INK_ERR_PROTOCOL;
		else
			r = dispatch(ch->s, type, &req, &rep);
		used_rep = rep.len;
		if (r != 0) {
			if (r == INK_ERR_PROTOCOL)
				log_warn("refused a malformed or unknown request (type %u)", (unsigned)type);
			rep.len = rep.off = 0;
			if (buf_put_u8(&rep, SAM_REPLY_ERR) != 0 || buf_put_u32(&rep, (uint32_t)-r) != 0)
				break;
		}
		if (rep.len > used_rep)
			used_rep = rep.len;
		if ((r = sam_frame_write(ch->fd, &rep)) != 0)
			break;
		/* Nothing from one request survives into the next: all this one wrote is wiped (what
		 * earlier ones wrote was, and a growing buffer wipes the old copy). */
		if (req.data != NULL)
			explicit_bzero(req.data, req.len);
		if (rep.data != NULL)
			explicit_bzero(rep.data, used_rep);
	}
	/* This channel is done: so is the SAM. Wake the other channels' threads. */
	for (i = 0; i < ch->nall; i++)
		shutdown(ch->all[i], SHUT_RDWR);
	buf_free(&req);
	buf_free(&rep);
	ch->r = r;
	return NULL;
}

int
sam_serve(const int *fds, size_t nfds, const struct ink_config *cfg)
{
	struct sam_state s = { 0 };
	struct channel ch[SAM_CHANNELS_MAX];
	pthread_t th[SAM_CHANNELS_MAX];
	pthread_rwlockattr_t ra;
	size_t i, started = 0;
	long cores;
	int r;

	if (nfds == 0 || nfds > SAM_CHANNELS_MAX)
		return INK_ERR_INVALID;
	s.cfg = cfg;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	s.cores = cores > 0 ? (size_t)cores : 1;
	pthread_mutex_init(&s.mu, NULL);
	/* Writers first: a key's revocation does not wait behind a stream of signatures. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s.use, &ra);
	pthread_rwlockattr_destroy(&ra);
	if ((r = open_keys(cfg, &s.keys)) != 0 || (r = sad_table_new(&s.sads)) != 0)
		goto out;
	if (publish_log_key(cfg, s.keys) != 0)
		log_error("cannot publish the audit log key");
	snprintf(s.tsa_policy, sizeof(s.tsa_policy), "%s", cfg->tsa_policy_oid);
	if ((s.otp = calloc(SAM_OTP_OWNERS, sizeof(*s.otp))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < nfds; i++) {
		ch[i] = (struct channel){ .s = &s, .fd = fds[i], .all = fds, .nall = nfds };
		if (pthread_create(&th[i], NULL, channel_main, &ch[i]) != 0) {
			r = INK_ERR_INTERNAL;
			for (size_t j = 0; j < nfds; j++)
				shutdown(fds[j], SHUT_RDWR);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		if (ch[i].r != 0 && r == 0)
			r = ch[i].r;
	}
out:
	sad_table_free(s.sads);
	free(s.otp);
	keys_close(s.keys);
	pthread_rwlock_destroy(&s.use);
	pthread_mutex_destroy(&s.mu);
	return r;
}
