/* server: inkan-sam's request loop. Every request is parsed through the bounded buffer and
 * checked here; the master key never leaves this process. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "keys/keys.h"
#include "policy/policy.h"

#define SAM_USER_ID_MAX 64

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
	c.auth_mode = (uint32_t)k->auth_mode;
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

/* A credential's SADs dropped (sam_sads_enter/leave around the table). */
static int
drop_cred_sads(struct sam_state *s, const char *id)
{
	unsigned was = sam_sads_enter(s);
	int r = sad_drop_cred(s->sads, id);

	sam_sads_leave(s, was);
	return r;
}

/* Holds credential id for a change (hold.c) once owner (NULL: any owner) is seen to have it:
 * nobody makes another's credential wait. */
static int
hold_for_change(struct sam_state *s, const char *owner, const char *id)
{
	struct keys_cred c;
	int r;

	if ((r = keys_cred_get(s->keys, owner, id, &c)) != 0)
		return r;
	keys_cred_clear(&c);
	return sam_cred_hold(s, id, SAM_USE_CHANGE);
}

/* string session (a signer), algo, pin, u8 external -> cred, string csr. The certificate names
 * the SAM's own record of the signer: display name and pseudonym, never what the request says. */
static int
handle_key_create(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char algo[KEYS_ALGO_MAX + 1], pin[KEYS_PIN_MAX + 2];
	const uint8_t *hash;
	struct keys_person who;
	struct keys_cred c;
	struct keys_subject subj = { .common_name = who.display_name, .serial_number = who.pseudonym };
	uint8_t external = 0, *csr = NULL;
	size_t csr_len = 0;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = sam_get_session(req, &hash)) != 0 ||
	    (r = buf_get_cstring(req, algo, sizeof(algo))) != 0 ||
	    (r = buf_get_cstring(req, pin, sizeof(pin))) != 0 ||
	    (r = buf_get_u8(req, &external)) != 0 || buf_remaining(req) != 0 || external > 1) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((r = sam_actor(s, hash, AUTH_ROLE_SIGNER, false, &who)) != 0)
		goto out;
	if ((r = keys_cred_create(s->keys, who.id, &subj, algo, pin, external == 1, &c,
	                          external ? &csr : NULL, &csr_len)) != 0)
		goto out;
	sam_act_subject(s, c.id);
	sam_act_detail(s, "%s, certificate serial %s", c.algo,
	         c.serial[0] != '\0' ? c.serial : "(pending)");
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

/* string session (the owner), id, string cert -> cred */
static int
handle_key_import(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1];
	const uint8_t *der, *hash;
	size_t len;
	struct keys_person who;
	struct keys_cred c;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_string_ptr(req, &der, &len, 65536) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	sam_act_subject(s, id);
	if ((r = sam_actor(s, hash, AUTH_ROLE_SIGNER, false, &who)) != 0 ||
	    (r = hold_for_change(s, who.id, id)) != 0)
		return r;
	if ((r = keys_cred_import_cert(s->keys, who.id, id, der, len, &c)) == 0)
		r = put_cred(rep, &c);
	sam_cred_release(s, id, SAM_USE_CHANGE);
	keys_cred_clear(&c);
	return r;
}

/* string session (the owner), id, old pin, new pin, otp -> u64 otp step. No PIN is tried (and
 * no PIN counter moves) without a fresh OTP. */
/* The rest of an act of a signer on their key id with a PIN: their session, then a fresh OTP
 * (no PIN is tried without it), then nothing more in the request. */
static int
owner_with_otp(struct sam_state *s, struct ink_buf *req, const uint8_t *hash, const char *id,
               struct keys_person *who, int64_t *step)
{
	int r;

	sam_act_subject(s, id);
	if ((r = sam_actor(s, hash, AUTH_ROLE_SIGNER, false, who)) != 0 ||
	    (r = sam_fresh_otp(s, req, who->id, step)) != 0)
		return r;
	return buf_remaining(req) != 0 ? INK_ERR_PROTOCOL : 0;
}

static int
handle_key_pin(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1], old_pin[KEYS_PIN_MAX + 2], new_pin[KEYS_PIN_MAX + 2];
	const uint8_t *hash;
	struct keys_person who;
	int64_t step = -1;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_cstring(req, old_pin, sizeof(old_pin)) != 0 ||
	    buf_get_cstring(req, new_pin, sizeof(new_pin)) != 0)
		r = INK_ERR_PROTOCOL;
	else if ((r = owner_with_otp(s, req, hash, id, &who, &step)) == 0 &&
	    (r = hold_for_change(s, who.id, id)) == 0) {
		r = keys_cred_change_pin(s->keys, who.id, id, old_pin, new_pin);
		sam_cred_release(s, id, SAM_USE_CHANGE);
		if (r == INK_ERR_AUTH)
			r = INK_ERR_BAD_PIN;
		if (r == 0)
			r = buf_put_u64(rep, (uint64_t)step);
	}
	explicit_bzero(old_pin, sizeof(old_pin));
	explicit_bzero(new_pin, sizeof(new_pin));
	return r;
}

/* string session (the owner), id, pin, u32 mode, otp -> u64 otp step. Only the owner decides
 * whether their key may also be activated by a client that forwards PIN and OTP (never a
 * compromised inkand on its own: it has neither): a fresh OTP, then the PIN, as for a PIN
 * change. */
static int
handle_key_auth_mode(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1], pin[KEYS_PIN_MAX + 2];
	const uint8_t *hash;
	struct keys_person who;
	uint8_t *kek = NULL;
	uint32_t mode = 0;
	int64_t step = -1;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_cstring(req, pin, sizeof(pin)) != 0 || buf_get_u32(req, &mode) != 0 ||
	    (mode != KEYS_AUTH_SERVICE && mode != KEYS_AUTH_OAUTH_ONLY))
		r = INK_ERR_PROTOCOL;
	else if ((kek = secmem_alloc(32)) == NULL)
		r = INK_ERR_ALLOC;
	else if ((r = owner_with_otp(s, req, hash, id, &who, &step)) == 0 &&
	    (r = hold_for_change(s, who.id, id)) == 0) {
		sam_act_detail(s, "authMode %s", mode == KEYS_AUTH_OAUTH_ONLY ? "oauth2code" :
		               "as the service (allow_explicit_authorize)");
		r = keys_cred_open(s->keys, who.id, id, pin, kek);
		if (r == INK_ERR_AUTH)
			r = INK_ERR_BAD_PIN;
		if (r == 0)
			r = keys_cred_set_auth_mode(s->keys, who.id, id, (int)mode);
		/* an OAuth-only key keeps no SAD a client was given for it */
		if (r == 0 && mode == KEYS_AUTH_OAUTH_ONLY)
			r = drop_cred_sads(s, id);   /* kept SADs: not done (a retry is) */
		sam_cred_release(s, id, SAM_USE_CHANGE);
		if (r == 0)
			r = buf_put_u64(rep, (uint64_t)step);
	}
	secmem_free(kek);
	explicit_bzero(pin, sizeof(pin));
	return r;
}

/* string session, id, u32 reason -> (nothing). The signer their own key, with their login
 * session alone (a forgotten PIN must not stand in the way of revoking a compromised key); a
 * security officer any key. */
static int
handle_key_revoke(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1];
	const char *owner;
	const uint8_t *hash;
	struct keys_person who;
	uint32_t reason;
	int r;

	(void)rep;
	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_u32(req, &reason) != 0 || buf_remaining(req) != 0 || reason > 10)
		return INK_ERR_PROTOCOL;
	sam_act_subject(s, id);
	if ((r = sam_actor(s, hash, AUTH_ROLE_SIGNER | AUTH_ROLE_SECURITY_OFFICER, false, &who)) != 0)
		return r;
	owner = (who.roles & AUTH_ROLE_SECURITY_OFFICER) ? NULL : who.id;
	if ((r = hold_for_change(s, owner, id)) != 0)
		return r;
	/* After the signatures under way with it are made, before any other starts. */
	r = keys_cred_revoke(s->keys, owner, id, (int)reason);
	/* Live authorizations of a revoked key end with it (any the key store kept meet the
	 * revoked key: keys_signer_open refuses them). */
	if (r == 0 && drop_cred_sads(s, id) != 0)
		log_warn("a revoked key's SADs stay in the key store until their expiry");
	sam_cred_release(s, id, SAM_USE_CHANGE);
	if (r == 0)
		log_info("credential %s revoked by %s", id, who.id);
	return r;
}

/* string session (the owner), id, pin, otp -> cred, u64 otp step */
static int
handle_key_renew(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1], pin[KEYS_PIN_MAX + 2];
	const uint8_t *hash;
	struct keys_person who;
	struct keys_subject subj = { .common_name = who.display_name, .serial_number = who.pseudonym };
	struct keys_cred c;
	int64_t step = -1;
	int r;

	memset(&c, 0, sizeof(c));
	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_cstring(req, pin, sizeof(pin)) != 0)
		r = INK_ERR_PROTOCOL;
	else if ((r = owner_with_otp(s, req, hash, id, &who, &step)) == 0 &&
	    (r = hold_for_change(s, who.id, id)) == 0) {
		r = keys_cred_renew(s->keys, who.id, id, pin, &subj, &c);
		if (r == 0 && drop_cred_sads(s, id) != 0)
			log_warn("a renewed key's earlier SADs stay in the key store until their expiry");
		sam_cred_release(s, id, SAM_USE_CHANGE);
		if (r == INK_ERR_AUTH)
			r = INK_ERR_BAD_PIN;
		if (r == 0 && (r = put_cred(rep, &c)) == 0)
			r = buf_put_u64(rep, (uint64_t)step);
	}
	explicit_bzero(pin, sizeof(pin));
	keys_cred_clear(&c);
	return r;
}

/* string session (a registration officer), id -> (nothing) */
static int
handle_key_unlock(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[SAM_USER_ID_MAX + 1];
	const uint8_t *hash;
	struct keys_person who;
	struct keys_cred c;
	int r;

	(void)rep;
	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	sam_act_subject(s, id);
	if ((r = sam_actor(s, hash, AUTH_ROLE_REGISTRATION_OFFICER, false, &who)) != 0 ||
	    (r = hold_for_change(s, NULL, id)) != 0)
		return r;
	if ((r = keys_cred_get(s->keys, NULL, id, &c)) == 0) {
		r = strcmp(c.owner, who.id) == 0 ? INK_ERR_SOD : keys_cred_unlock(s->keys, id);
		keys_cred_clear(&c);
	}
	sam_cred_release(s, id, SAM_USE_CHANGE);
	if (r == 0)
		log_info("credential %s unlocked by %s", id, who.id);
	return r;
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

/* string session (a system operator) -> string blob */
static int
handle_backup(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *hash;
	struct keys_person who;
	uint8_t *blob = NULL;
	size_t len = 0;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = sam_actor(s, hash, AUTH_ROLE_SYSTEM_OPERATOR, false, &who)) != 0)
		return r;
	if ((r = keys_backup(s->keys, &blob, &len)) != 0)
		return r;
	r = buf_put_string(rep, blob, len);
	free(blob);
	log_info("backup made (%zu bytes) for %s", len, who.id);
	return r;
}

/* Reads string blob, string crl ("" none) and restores; check (may be NULL) runs inside the
 * restore's transaction; dual: two officers' proofs stand in for a witness. */
static int
restore(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep, bool dual,
        int (*check)(void *arg), void *arg)
{
	const uint8_t *blob, *crl;
	size_t len, crl_len, n = 0;
	int r;

	if (buf_get_string_ptr(req, &blob, &len, SAM_FRAME_MAX) != 0 ||
	    buf_get_string_ptr(req, &crl, &crl_len, SAM_FRAME_MAX) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	/* Without a witness of later revocations only the bare machine's dual control will do. */
	if ((r = keys_restore(s->keys, blob, len, crl_len > 0 ? crl : NULL, crl_len, dual, check, arg,
	                      &n)) != 0)
		return r;
	sam_act_detail(s, "%zu credential(s)%s", n,
	         dual ? "; two officers' proofs (no witness needed)" : "");
	log_info("backup restored (%zu credentials)", n);
	if (s->cfg != NULL && publish_log_key(s->cfg, s->keys) != 0)
		log_error("cannot publish the restored audit log key");
	return buf_put_u32(rep, (uint32_t)n);
}

/* string session (a system operator), cstring fresh otp, string blob, string crl -> u32 count */
static int
handle_restore(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *hash;
	struct keys_person who;
	int64_t step;
	int r;

	if (sam_get_session(req, &hash) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = sam_actor(s, hash, AUTH_ROLE_SYSTEM_OPERATOR, false, &who)) != 0 ||
	    (r = sam_fresh_otp(s, req, who.id, &step)) != 0)
		return r;
	return restore(s, req, rep, false, NULL, NULL);
}

/* The officers of a bare-machine restore, checked against the records the backup brought: a
 * system operator and a security officer. */
struct bare_proof {
	struct sam_state *s;
	const char *id[2];
	const char *otp[2];
	int n;
};

static int
bare_check(void *arg)
{
	static const uint32_t need[2] = { AUTH_ROLE_SYSTEM_OPERATOR, AUTH_ROLE_SECURITY_OFFICER };
	struct bare_proof *b = arg;
	struct keys_person p;
	char operator[sizeof(p.username)] = "";
	int64_t step;
	int i, r;

	if (b->n == 2 && strcmp(b->id[0], b->id[1]) == 0)
		return INK_ERR_SOD;
	for (i = 0; i < b->n; i++) {
		if ((r = keys_person_get(b->s->keys, b->id[i], &p)) != 0)
			return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
		if ((p.roles & need[i]) == 0 || p.status != KEYS_PERSON_ACTIVE)
			return INK_ERR_DENIED;
		if ((r = sam_check_otp(b->s, b->id[i], b->otp[i], &step)) != 0)
			return r;
		if (i == 0)
			snprintf(operator, sizeof(operator), "%s", p.username);
	}
	/* Named only once both proofs passed: a refusal's record does not tell which failed. */
	sam_act_actor(b->s, operator, 0);
	return 0;
}

/* cstring operator id, otp, security officer id ("" none), otp, string blob, string crl
 * -> u32 count: disaster recovery onto a key store that serves nobody (no session can be
 * checked there). The officers' fresh codes are checked against the backup's own records of
 * them, in the restore's transaction: a wrong one and nothing is restored. Always both (dual
 * control): a CRL sent along is applied, but it cannot show that it is the CA's last one. */
static int
handle_restore_bare(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id0[SAM_USER_ID_MAX + 1], id1[SAM_USER_ID_MAX + 1];
	char otp0[SAM_OTP_MAX + 1], otp1[SAM_OTP_MAX + 1];
	struct bare_proof b = { .s = s, .id = { id0, id1 }, .otp = { otp0, otp1 }, .n = 1 };
	size_t persons = 0;
	int r;

	if (buf_get_cstring(req, id0, sizeof(id0)) != 0 || buf_get_cstring(req, otp0, sizeof(otp0)) != 0 ||
	    buf_get_cstring(req, id1, sizeof(id1)) != 0 || buf_get_cstring(req, otp1, sizeof(otp1)) != 0)
		r = INK_ERR_PROTOCOL;
	else if ((r = keys_person_count_role(s->keys, AUTH_ROLES_ALL, NULL, &persons)) == 0) {
		sam_act_subject(s, "key store");
		b.n = 2;
		if (persons > 0) {
			log_warn("refused a bare-machine restore: the SAM serves persons (use a session)");
			r = INK_ERR_EXISTS;
		} else if (id1[0] == '\0') {
			/* a CRL cannot show that it is the CA's last one: never one officer alone */
			log_warn("refused a bare-machine restore without a security officer's proof");
			r = INK_ERR_SOD;
		} else
			r = restore(s, req, rep, true, bare_check, &b);
	}
	OPENSSL_cleanse(otp0, sizeof(otp0));
	OPENSSL_cleanse(otp1, sizeof(otp1));
	return r;
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
	[SAM_MSG_KEY_CREATE] = handle_key_create,
	[SAM_MSG_KEY_LIST] = handle_key_list,
	[SAM_MSG_KEY_GET] = handle_key_get,
	[SAM_MSG_KEY_IMPORT] = handle_key_import,
	[SAM_MSG_KEY_PIN] = handle_key_pin,
	[SAM_MSG_KEY_REVOKE] = handle_key_revoke,
	[SAM_MSG_KEY_RENEW] = handle_key_renew,
	[SAM_MSG_KEY_UNLOCK] = handle_key_unlock,
	[SAM_MSG_CA_CHAIN] = handle_ca_chain,
	[SAM_MSG_CA_CRL] = handle_ca_crl,
	[SAM_MSG_CA_ARL] = handle_ca_arl,
	[SAM_MSG_BACKUP] = handle_backup,
	[SAM_MSG_RESTORE] = handle_restore,
	[SAM_MSG_RESTORE_BARE] = handle_restore_bare,
	[SAM_MSG_AUTHORIZE] = sam_handle_authorize,
	[SAM_MSG_OAUTH_CONSENT] = sam_handle_oauth_consent,
	[SAM_MSG_OAUTH_SERVICE] = sam_handle_oauth_service,
	[SAM_MSG_SIGN] = sam_handle_sign,
	[SAM_MSG_SAD_DROP] = sam_handle_sad_drop,
	[SAM_MSG_LOG_HEAD] = sam_handle_log_head,
	[SAM_MSG_LOG_EXTEND] = sam_handle_log_extend,
	[SAM_MSG_LOG_PENDING] = sam_handle_log_pending,
	[SAM_MSG_LOG_CLOSE] = sam_handle_log_close,
	[SAM_MSG_TSA_STAMP] = sam_handle_tsa_stamp,
	[SAM_MSG_OCSP] = sam_handle_ocsp,
	[SAM_MSG_CA_TSA] = sam_handle_ca_tsa,
	[SAM_MSG_BOOTSTRAP] = sam_handle_bootstrap,
	[SAM_MSG_LOGIN] = sam_handle_login,
	[SAM_MSG_LOGOUT] = sam_handle_logout,
	[SAM_MSG_ENROL] = sam_handle_enrol,
	[SAM_MSG_ENROL_CONFIRM] = sam_handle_enrol_confirm,
	[SAM_MSG_REGISTER] = sam_handle_register,
	[SAM_MSG_ROLE_SET] = sam_handle_role_set,
	[SAM_MSG_PERSON_UNLOCK] = sam_handle_person_unlock,
	[SAM_MSG_REENROL] = sam_handle_reenrol,
	[SAM_MSG_PERSON_REMOVE] = sam_handle_person_remove,
	[SAM_MSG_PERSON_GET] = sam_handle_person_get,
	[SAM_MSG_ATTEST] = sam_handle_attest,
	[SAM_MSG_KEY_AUTH_MODE] = handle_key_auth_mode,
};

/* The key manager's settings from the shared configuration. */
static int
open_keys(const struct ink_config *cfg, struct sam_state *s, struct keys **out)
{
	struct keys_params p = {
		.argon2_m_kib = (uint32_t)cfg->argon2_m_kib,
		.argon2_t = (uint32_t)cfg->argon2_t,
		.argon2_p = (uint32_t)cfg->argon2_p,
		.kdf_gate = s != NULL ? s->kdf_gate : NULL,
		.kdf_pool = s != NULL ? s->kdf_pool : NULL,
		/* the SAM's lock is let go while a PIN is stretched or a key made */
		.slow_begin = s != NULL ? sam_slow_begin : NULL,
		.slow_end = s != NULL ? sam_slow_end : NULL,
		.store_begin = s != NULL ? sam_store_begin : NULL,
		.store_end = s != NULL ? sam_store_end : NULL,
		.slow_arg = s,
		.max_pin_failures = cfg->pin_max_failures,
		.pin_min_len = (int)policy_pin_min(cfg),
		.level = (int)cfg->assurance_level,
		.cert_days = (int)cfg->cert_days,
		.cert_minutes = (int)cfg->cert_minutes,
		.policy_oid = cfg->cert_policy_oid,
		.organization = cfg->ca_organization,
		.key_backend = cfg->key_backend,
		.pkcs11_module = cfg->pkcs11_module,
		.pkcs11_allowed_modules = cfg->pkcs11_allowed_modules,
		.pkcs11_token_label = cfg->pkcs11_token_label,
		.pkcs11_pin_file = cfg->pkcs11_pin_file,
		.external_ca_file = cfg->external_ca_file,
	};
	const char *base = cfg->ca_base_url[0] != '\0' ? cfg->ca_base_url : cfg->public_url;
	char dir[1024], crl_url[256], arl_url[256], ocsp_url[256];
	struct keys *k = NULL;
	int r;

	*out = NULL;
	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0)
		return r;
	if (snprintf(crl_url, sizeof(crl_url), "%s/ca/crl", base) >= (int)sizeof(crl_url) ||
	    snprintf(arl_url, sizeof(arl_url), "%s/ca/arl", base) >= (int)sizeof(arl_url) ||
	    snprintf(ocsp_url, sizeof(ocsp_url), "%s/ocsp", base) >= (int)sizeof(ocsp_url))
		return INK_ERR_CONFIG;
	p.crl_url = crl_url;
	p.arl_url = arl_url;
	p.ocsp_url = ocsp_url;
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
sam_init(const struct ink_config *cfg, int token_fd)
{
	struct keys *k = NULL;
	char dir[1024], *pem = NULL;
	int r;

	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0 ||
	    (r = keys_init_dir(dir)) != 0)
		return r;
	if ((r = open_keys(cfg, NULL, &k)) != 0)
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
	if ((r = publish_log_key(cfg, k)) != 0)
		goto out;
	/* the one-time token with which `inkan init` (and nobody after it) makes the first
	 * security officer: written only to the pipe inkan init gave (never to a file) */
	if (token_fd >= 0) {
		char token[KEYS_BOOTSTRAP_TOKEN_LEN + 1];

		if ((r = keys_bootstrap_token_new(k, token)) == 0)
			r = ink_write_fd(token_fd, token, strlen(token));
		OPENSSL_cleanse(token, sizeof(token));
	}
out:
	free(pem);
	keys_close(k);
	return r;
}

int
sam_accept_rollback(const struct ink_config *cfg)
{
	struct keys *k = NULL;
	int r;

	if ((r = open_keys(cfg, NULL, &k)) != 0)
		return r;
	if ((r = keys_witness_accept(k)) == 0)
		log_warn("the key store as it is now is accepted as this node's roll-back witness");
	keys_close(k);
	return r;
}

int
sam_join(const struct ink_config *cfg)
{
	struct keys *k = NULL;
	char *pem = NULL;
	int r;

	/* keys_open compares this node's master key with the key store's check value */
	if ((r = open_keys(cfg, NULL, &k)) != 0)
		return r;
	/* a key store that has served: its CA and its audit log key, none made here */
	if ((r = keys_log_key_opens(k)) != 0) {
		log_error("the key store has no audit log key of this master key: not one to join "
		          "(inkan-sam --init makes a new one)");
		r = r == INK_ERR_NOT_FOUND ? INK_ERR_NOT_FOUND : INK_ERR_CONFIG;
		goto out;
	}
	if ((r = keys_ca_root_pem(k, &pem)) != 0) {
		log_error("the key store has no CA: not one to join (inkan-sam --init makes one)");
		goto out;
	}
	if ((r = write_public(cfg, "root.pem", pem)) != 0)
		goto out;
	free(pem);
	pem = NULL;
	if ((r = keys_ca_chain_pem(k, &pem)) != 0 || (r = write_public(cfg, "chain.pem", pem)) != 0 ||
	    (r = publish_log_key(cfg, k)) != 0)
		goto out;
	log_info("joined the key store: this node's master key matches it; its CA and audit log "
	         "key published in %s/ca", cfg->data_dir);
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

/* The requests that change everything at once, and so have the SAM to themselves (after the
 * requests under way are done): a restore replaces the key store, a person's removal
 * destroys all their keys, the log's close ends the service. */
static bool
alone(uint8_t type)
{
	return type == SAM_MSG_RESTORE || type == SAM_MSG_RESTORE_BARE ||
	    type == SAM_MSG_PERSON_REMOVE || type == SAM_MSG_LOG_CLOSE;
}

/* Runs one request. Requests run side by side: each holds ks (a signature mu instead; the
 * others take mu only around what signatures share: lock.c) except where it touches none of
 * the SAM's state (signing, a PIN stretching, a key generation), and what it does meanwhile
 * with a credential is held (hold.c), so that no key changes under a signature or a PIN check
 * and nothing else waits. A signHash or a time-stamp is no act with its own record: both hold
 * their records. */
static int
dispatch(struct sam_state *s, uint8_t type, struct ink_buf *req, struct ink_buf *rep)
{
	bool sign = type == SAM_MSG_SIGN || type == SAM_MSG_TSA_STAMP;
	const char *act = sam_act_name(type);
	int r;

	if (alone(type))
		pthread_rwlock_wrlock(&s->use);
	else
		pthread_rwlock_rdlock(&s->use);
	sam_lock(s, type == SAM_MSG_SIGN ? SAM_LOCK_MU : SAM_LOCK_KS);
	sam_act_begin(s);
	/* Records held from signatures go to the key store ahead of any other act's: first, or
	 * for an authorization (the most frequent act, beside signatures) with its own record in
	 * one transaction (sam_act_record). */
	if (!sign && type != SAM_MSG_AUTHORIZE && type != SAM_MSG_OAUTH_CONSENT)
		sam_flush_records(s);
	/* After the log's close only the log is served: the SAM's own shutdown marker stands. */
	if (s->closing && type != SAM_MSG_PING && type != SAM_MSG_LOG_HEAD &&
	    type != SAM_MSG_LOG_PENDING && type != SAM_MSG_LOG_EXTEND) {
		r = INK_ERR_DISABLED;
		log_warn("refused a request after the log's close (type %u)", (unsigned)type);
	} else if (type != SAM_MSG_PING &&
	           (r = type == SAM_MSG_SIGN ? keys_witness_refused(s->keys) :
	                keys_witness_gate(s->keys)) != 0) {
		/* (a signature, without ks, asks only whether the key store was found rolled back;
		 * its key read checks its own connection: keys_signer_open) */
		/* a key store older than this node has seen (witness.c): nothing until an officer
		 * accepts it; the refusal is kept in the SAM's own records where they can go */
		log_warn("refused a request (type %u): the key store is behind this node's roll-back "
		         "witness", (unsigned)type);
		if (act != NULL)
			sam_act_record(s, act, r);
	} else {
		r = handlers[type](s, req, rep);
		/* The SAM's acts leave their own record, allowed or refused. */
		if (act != NULL)
			sam_act_record(s, act, r);
	}
	(void)sam_let_go(s);
	pthread_rwlock_unlock(&s->use);
	return r;
}

/* A request the SAM cannot read (an unknown type, a body that is not its type's, a frame
 * beyond the cap) comes only from a faulty or hostile inkand: no person's act, but the SAM's
 * record all the same, held and written with the next ones (at the latest when the SAM ends),
 * until the log's close. The acts' refusals have their own records (dispatch). */
static void
protocol_record(struct sam_state *s, const char *what, uint8_t type)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "%s (type %u)", what, (unsigned)type);
	pthread_rwlock_rdlock(&s->use);
	/* After the log's close (set under the write side of use) the shutdown marker stays the
	 * SAM's last record: a final head holds nothing after it. The log line remains. */
	if (!s->closing)
		(void)sam_hold_record(s, NULL, "sam.protocol", NULL, INK_ERR_PROTOCOL, detail);
	pthread_rwlock_unlock(&s->use);
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
			if (r == INK_ERR_IO) {
				r = 0; /* inkand closed the channel: a normal stop */
			} else {
				log_error("malformed frame from inkand: %s", ink_err_str(r));
				protocol_record(ch->s, "a malformed frame ended the SAM", 0);
			}
			break;
		}
		rep.len = rep.off = 0;
		type = 0;
		if ((r = buf_put_u8(&rep, SAM_REPLY_OK)) != 0)
			break;
		if (buf_get_u8(&req, &type) != 0 || type >= INK_ARRAY_LEN(handlers) ||
		    handlers[type] == NULL) {
			r = INK_ERR_PROTOCOL;
			protocol_record(ch->s, "an unknown request", type);
		} else if ((r = dispatch(ch->s, type, &req, &rep)) == INK_ERR_PROTOCOL &&
		           sam_act_name(type) == NULL) {
			protocol_record(ch->s, "a malformed request", type);
		}
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
	pthread_mutex_init(&s.ks, NULL);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.holds_freed, NULL);
	/* Writers first: a restore does not wait behind a stream of requests. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s.use, &ra);
	pthread_rwlockattr_destroy(&ra);
	/* as many PIN stretchings at once as argon2_slots allows inkand and the SAM together */
	if ((r = ink_gate_new(config_slots(cfg->argon2_slots), INK_GATE_QUEUE_MAX, 60000, &s.kdf_gate)) != 0 ||
	    (r = ink_pool_new(config_slots(cfg->argon2_slots), INK_POOL_NICE_ARGON2, &s.kdf_pool)) != 0 ||
	    (r = open_keys(cfg, &s, &s.keys)) != 0 || (r = sad_table_new(s.keys, &s.sads)) != 0)
		goto out;
	/* A key store older than this node has seen (a database recovery, a key store file copied
	 * back): no start until a security officer runs inkan-sam --accept-rollback (witness.c). */
	if ((r = keys_witness_check(s.keys)) != 0) {
		log_error("inkan-sam does not start: the key store is behind this node's roll-back "
		          "witness (docs/keys.md)");
		goto out;
	}
	if ((r = keys_readers_open(s.keys)) != 0)
		goto out;
	if (publish_log_key(cfg, s.keys) != 0)
		log_error("cannot publish the audit log key");
	/* a data directory from before the OCSP responder gets its key and certificate now */
	if (keys_ocsp_ensure(s.keys) != 0)
		log_error("cannot make the OCSP responder's key and certificate");
	/* Every start is the SAM's own record: a restart between a log's close and its next
	 * records is there for the auditor to see. */
	sam_act_begin(&s);
	sam_act_record(&s, "sam.start", 0);
	snprintf(s.tsa_policy, sizeof(s.tsa_policy), "%s", cfg->tsa_policy_oid);
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
	if (s.keys != NULL)
		sam_flush_records(&s);
	free(s.held);
	free(s.spare);
	sad_table_free(s.sads);
	keys_close(s.keys);
	ink_gate_free(s.kdf_gate);
	ink_pool_free(s.kdf_pool);
	pthread_rwlock_destroy(&s.use);
	pthread_cond_destroy(&s.holds_freed);
	pthread_mutex_destroy(&s.mu);
	pthread_mutex_destroy(&s.ks);
	return r;
}
