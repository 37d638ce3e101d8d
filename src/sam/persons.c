/* persons: the SAM's side of who may act — registration, roles, TOTP enrolment, logins, the
 * sessions the SAM opened itself, and every act's proof: a live SAM session of a person whose
 * role (in the SAM's own record) allows it, and a fresh OTP for the gravest acts. */
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "keys/keys.h"

#define ID_MAX KEYS_ID_LEN
#define SOURCE_MAX KEYS_TEXT_MAX
#define ACTIVATION_LEN 20         /* characters of a one-time activation code */
#define ACTIVATION_MAX 64

/* ---- proofs ---- */

int
sam_get_session(struct ink_buf *req, const uint8_t **hash)
{
	size_t len = 0;

	if (buf_get_string_ptr(req, hash, &len, 32) != 0 || len != 32)
		return INK_ERR_PROTOCOL;
	return 0;
}

/* The person as the SAM's record has them now (who, just read): active; not_enrolled (a set-up
 * session, or a person who never enrolled) only when setup_ok; holding need_role (0: any). */
static int
person_check(struct sam_state *s, const struct keys_person *who, bool not_enrolled,
             uint32_t need_role, bool setup_ok)
{
	sam_act_actor(s, who->username, who->roles);
	if (who->status == KEYS_PERSON_LOCKED)
		return INK_ERR_LOCKED;
	if (who->status != KEYS_PERSON_ACTIVE)
		return INK_ERR_DISABLED;
	if (not_enrolled && !setup_ok)
		return INK_ERR_ENROL;
	if (need_role != 0 && (who->roles & need_role) == 0) {
		log_warn("refused: the SAM's record of the acting person lacks the role");
		return INK_ERR_DENIED;
	}
	return 0;
}

/* The session's person and their record in one read of the key store: a round trip fewer on
 * every request that names a session (an authorization, two; a signHash names none: its SAD
 * is bound to the session). A key store that cannot be read answers INK_ERR_STORE (503, try
 * again), not INK_ERR_AUTH. */
int
sam_actor(struct sam_state *s, const uint8_t hash[static 32], uint32_t need_role, bool setup_ok,
          struct keys_person *who)
{
	struct keys_session ss;
	int r;

	if ((r = keys_session_actor(s->keys, hash, &ss, who)) != 0)
		return r;
	return person_check(s, who, ss.setup, need_role, setup_ok);
}

int
sam_signer_by_id(struct sam_state *s, const char *id, struct keys_person *who)
{
	int r;

	/* whether they enrolled is known once their record is read */
	if ((r = keys_person_get(s->keys, id, who)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
	if ((r = person_check(s, who, false, AUTH_ROLE_SIGNER, false)) != 0)
		return r;
	return who->enrolled ? 0 : INK_ERR_ENROL;
}

/* Ends sessions as keys_session_end does (one, every one of a person, or all of the person's
 * but one), and with them the SADs they hold: a SAD outlives neither its session nor its
 * person's standing. All but one: every SAD of the person goes (the safer reading). */
static int
end_sessions(struct sam_state *s, const uint8_t *hash, const char *person)
{
	unsigned was = sam_sads_enter(s);
	int r = person != NULL ? sad_drop_owner(s->sads, person) : sad_drop_session(s->sads, hash);
	int e;

	sam_sads_leave(s, was);
	e = keys_session_end(s->keys, hash, person);

	/* SADs the key store kept still sign on every node: the act is not done (a retry is) */
	return r != 0 ? r : e;
}

/* Counts a wrong second factor against the person (locked at the configured limit, their
 * SADs dropped with it). */
static void
count_failure(struct sam_state *s, const char *person)
{
	bool locked_now = false;

	if (keys_person_fail(s->keys, person, s->cfg->max_login_failures, &locked_now) != 0)
		log_error("cannot count a wrong one-time password");
	if (locked_now) {
		unsigned was = sam_sads_enter(s);
		int r = sad_drop_owner(s->sads, person);

		sam_sads_leave(s, was);
		if (r != 0)
			log_error("the SADs of %s, locked now, are still in the key store", person);
		ink_alert(INK_ALERT_PERSON_LOCKED, "person %s locked in inkan-sam after %lld wrong "
		          "one-time passwords", person, (long long)s->cfg->max_login_failures);
	}
}

/* A new one-time activation code for the person (kept as a keyed hash); *code secmem. */
static int
new_activation(struct sam_state *s, const char *person, char **code)
{
	int r;

	if ((*code = secmem_alloc(ACTIVATION_LEN + 1)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = auth_password_generate(*code, ACTIVATION_LEN + 1, ACTIVATION_LEN)) != 0 ||
	    (r = keys_person_activation_set(s->keys, person, *code)) != 0) {
		secmem_free(*code);
		*code = NULL;
	}
	return r;
}

/* Checks code against a seed of the person (the confirmed one, or the pending one while
 * enrolling) at the SAM's clock and with the SAM's own window; claims its step. A wrong or
 * reused code counts against the person, who is locked at the configured limit. */
static int
check_code(struct sam_state *s, const char *person, bool pending, const char *code, int64_t *step)
{
	struct keys_person p;
	uint8_t *seed = NULL;
	size_t seed_len = 0;
	int r;

	*step = -1;
	if ((r = keys_person_get(s->keys, person, &p)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
	if (p.status == KEYS_PERSON_LOCKED)
		return INK_ERR_LOCKED;
	if (p.status != KEYS_PERSON_ACTIVE)
		return INK_ERR_DISABLED;
	if ((seed = secmem_alloc(KEYS_SEED_MAX + KEYS_SEAL_OVERHEAD)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = keys_person_seed(s->keys, person, pending, seed, &seed_len)) != 0)
		goto out;
	r = auth_totp_verify(seed, seed_len, code, ink_now(), (int)s->cfg->totp_window, step);
	if (r == 0 && (r = keys_person_claim_step(s->keys, person, *step)) == INK_ERR_REPLAY)
		r = INK_ERR_AUTH;
	if (r == INK_ERR_AUTH) {
		*step = -1;
		count_failure(s, person);
	}
out:
	secmem_free(seed);
	return r;
}

int
sam_check_otp(struct sam_state *s, const char *person, const char *code, int64_t *step)
{
	return check_code(s, person, false, code, step);
}

/* Reads an OTP field and checks it for the person (the gravest acts' fresh proof). */
int
sam_fresh_otp(struct sam_state *s, struct ink_buf *req, const char *person, int64_t *step)
{
	char otp[SAM_OTP_MAX + 1];
	int r;

	*step = -1;
	if (buf_get_cstring(req, otp, sizeof(otp)) != 0)
		return INK_ERR_PROTOCOL;
	r = sam_check_otp(s, person, otp, step);
	OPENSSL_cleanse(otp, sizeof(otp));
	return r;
}

/* A new random seed, stored sealed (pending or confirmed); *b32 (secmem) is shown once. */
static int
new_seed(struct sam_state *s, const char *person, bool pending, char **b32)
{
	uint8_t *seed = NULL;
	int r;

	*b32 = NULL;
	if ((seed = secmem_alloc(AUTH_TOTP_SEED_LEN)) == NULL ||
	    (*b32 = secmem_alloc(AUTH_TOTP_B32_MAX)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = ink_random(seed, AUTH_TOTP_SEED_LEN)) != 0 ||
	    (r = keys_person_seed_store(s->keys, person, pending, seed, AUTH_TOTP_SEED_LEN)) != 0)
		goto out;
	r = auth_base32_encode(seed, AUTH_TOTP_SEED_LEN, *b32, AUTH_TOTP_B32_MAX);
out:
	secmem_free(seed);
	if (r != 0) {
		secmem_free(*b32);
		*b32 = NULL;
	}
	return r;
}

/* ---- handlers ---- */

/* cstring id, cstring username, cstring bootstrap token -> cstring seed (base32), cstring
 * pseudonym. The first security officer, with the one-time token `inkan-sam --init` gave
 * `inkan init`, while the SAM serves nobody yet; never again. */
int
sam_handle_bootstrap(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[ID_MAX + 1], username[KEYS_NAME_MAX + 1], pseudonym[KEYS_PSEUDONYM_MAX + 1];
	char token[KEYS_BOOTSTRAP_TOKEN_LEN + 1];
	char *b32 = NULL;
	size_t n = 0;
	int r;

	if (buf_get_cstring(req, id, sizeof(id)) != 0 || id[0] == '\0' ||
	    buf_get_cstring(req, username, sizeof(username)) != 0 || username[0] == '\0' ||
	    buf_get_cstring(req, token, sizeof(token)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	r = keys_bootstrap_token_take(s->keys, token);
	OPENSSL_cleanse(token, sizeof(token));
	if (r != 0) {
		log_warn("refused a bootstrap without the token of inkan-sam --init");
		return r;
	}
	if ((r = keys_person_count_role(s->keys, AUTH_ROLES_ALL, NULL, &n)) != 0)
		return r;
	if (n != 0) {
		log_warn("refused a second bootstrap: the SAM already serves persons");
		return INK_ERR_EXISTS;
	}
	{
		struct keys_registration reg = {
			.id = id, .username = username, .display_name = "Security officer",
			.roles = AUTH_ROLE_SECURITY_OFFICER, .created_by = "-",
		};

		if ((r = keys_person_add(s->keys, &reg, pseudonym)) != 0)
			return r;
	}
	sam_act_subject(s, id);
	if ((r = new_seed(s, id, false, &b32)) != 0)
		return r;
	if ((r = buf_put_cstring(rep, b32)) == 0)
		r = buf_put_cstring(rep, pseudonym);
	secmem_free(b32);
	log_info("first security officer registered");
	return r;
}

/* cstring id, string token hash, cstring otp, cstring activation code, cstring source
 * -> u32 roles, u8 setup, u64 step. An enrolled person brings a fresh OTP; one who has not
 * enrolled yet the one-time activation code the SAM issued (at registration or re-enrolment),
 * and gets a set-up session that can only enrol. */
int
sam_handle_login(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[ID_MAX + 1], otp[SAM_OTP_MAX + 1], act[ACTIVATION_MAX + 1], source[SOURCE_MAX + 1];
	const uint8_t *hash;
	struct keys_person p;
	int64_t step = -1;
	bool setup;
	int r;

	if (buf_get_cstring(req, id, sizeof(id)) != 0 || sam_get_session(req, &hash) != 0 ||
	    buf_get_cstring(req, otp, sizeof(otp)) != 0 ||
	    buf_get_cstring(req, act, sizeof(act)) != 0 ||
	    buf_get_cstring(req, source, sizeof(source)) != 0 || buf_remaining(req) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	sam_act_subject(s, id);
	if ((r = keys_person_get(s->keys, id, &p)) != 0) {
		r = r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
		goto out;
	}
	sam_act_actor(s, p.username, 0);
	if (p.status == KEYS_PERSON_LOCKED)
		r = INK_ERR_LOCKED;
	else if (p.status != KEYS_PERSON_ACTIVE)
		r = INK_ERR_DISABLED;
	if (r != 0)
		goto out;
	setup = !p.enrolled;
	if (!setup)
		r = sam_check_otp(s, id, otp, &step);
	else if ((r = keys_person_activation_check(s->keys, id, act)) == INK_ERR_AUTH)
		count_failure(s, id);
	if (r != 0)
		goto out;
	if ((r = keys_session_open(s->keys, hash, id, setup, s->cfg->session_ttl)) != 0)
		goto out;
	if ((r = buf_put_u32(rep, p.roles)) != 0 || (r = buf_put_u8(rep, setup ? 1 : 0)) != 0 ||
	    (r = buf_put_u64(rep, (uint64_t)step)) != 0)
		goto out;
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	OPENSSL_cleanse(act, sizeof(act));
	return r;
}

/* string token hash, u8 which (0 this session, 1 every session of its person, 2 every other
 * one) -> (nothing). */
int
sam_handle_logout(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *hash;
	struct keys_session ss;
	uint8_t all = 0;
	int r;

	(void)rep;
	if (sam_get_session(req, &hash) != 0 || buf_get_u8(req, &all) != 0 || all > 2 ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (all == 0)
		return end_sessions(s, hash, NULL);
	if ((r = keys_session_get(s->keys, hash, &ss)) != 0 && r != INK_ERR_EXPIRED)
		return r == INK_ERR_AUTH ? 0 : r;
	return end_sessions(s, all == 2 ? hash : NULL, ss.person);
}

/* string token hash (a setup session) -> cstring seed (base32), shown to the person alone. */
int
sam_handle_enrol(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *hash;
	struct keys_person who;
	char *b32 = NULL;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = sam_actor(s, hash, 0, true, &who)) != 0)
		return r;
	if (who.enrolled) {
		log_warn("refused a second seed for an enrolled person (re-enrolment is an officer's act)");
		return INK_ERR_EXISTS;
	}
	if ((r = new_seed(s, who.id, true, &b32)) != 0)
		return r;
	r = buf_put_cstring(rep, b32);
	secmem_free(b32);
	return r;
}

/* string token hash, cstring otp, cstring source -> u64 step, u32 roles: the first code of the
 * pending seed confirms it; the session becomes a full one. */
int
sam_handle_enrol_confirm(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char otp[SAM_OTP_MAX + 1], source[SOURCE_MAX + 1];
	const uint8_t *hash;
	struct keys_person who;
	int64_t step = -1;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, otp, sizeof(otp)) != 0 ||
	    buf_get_cstring(req, source, sizeof(source)) != 0 || buf_remaining(req) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((r = sam_actor(s, hash, 0, true, &who)) != 0)
		goto out;
	if (who.enrolled || !who.seed_pending) {
		r = INK_ERR_ENROL;
		goto out;
	}
	if ((r = check_code(s, who.id, true, otp, &step)) != 0)
		goto out;
	if ((r = keys_person_seed_activate(s->keys, who.id, source)) != 0 ||
	    (r = keys_person_activation_set(s->keys, who.id, NULL)) != 0 ||
	    (r = keys_session_upgrade(s->keys, hash)) != 0)
		goto out;
	log_info("a person confirmed their second factor");
	if ((r = buf_put_u64(rep, (uint64_t)step)) == 0)
		r = buf_put_u32(rep, who.roles);
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	return r;
}

/* string actor session, cstring id, cstring username, cstring display name, u32 roles,
 * cstring idv method, cstring idv evidence, cstring document type, cstring document number
 * -> cstring pseudonym, cstring activation code. A signer is registered by a registration
 * officer, with a verified identity and its document; a privileged account by a security
 * officer. The one-time activation code (the account's first password) goes to the officer
 * for delivery out of band; the SAM keeps only its keyed hash. */
int
sam_handle_register(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[ID_MAX + 1], username[KEYS_NAME_MAX + 1], name[KEYS_CN_MAX + 1];
	char method[KEYS_TEXT_MAX + 1], evidence[KEYS_TEXT_MAX + 1], dtype[KEYS_TEXT_MAX + 1];
	char dnum[KEYS_TEXT_MAX + 1], pseudonym[KEYS_PSEUDONYM_MAX + 1], *code = NULL;
	const uint8_t *hash;
	const char *why = NULL;
	struct keys_person who;
	uint32_t roles;
	bool signer;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, id, sizeof(id)) != 0 ||
	    buf_get_cstring(req, username, sizeof(username)) != 0 ||
	    buf_get_cstring(req, name, sizeof(name)) != 0 || buf_get_u32(req, &roles) != 0 ||
	    buf_get_cstring(req, method, sizeof(method)) != 0 ||
	    buf_get_cstring(req, evidence, sizeof(evidence)) != 0 ||
	    buf_get_cstring(req, dtype, sizeof(dtype)) != 0 ||
	    buf_get_cstring(req, dnum, sizeof(dnum)) != 0 || buf_remaining(req) != 0 ||
	    id[0] == '\0' || username[0] == '\0' || name[0] == '\0') {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	sam_act_subject(s, id);
	if ((r = auth_roles_check(roles, &why)) != 0) {
		log_warn("refused a registration: %s", why);
		goto out;
	}
	signer = (roles & AUTH_ROLE_SIGNER) != 0;
	if ((r = sam_actor(s, hash, signer ? AUTH_ROLE_REGISTRATION_OFFICER :
	                   AUTH_ROLE_SECURITY_OFFICER, false, &who)) != 0)
		goto out;
	if (signer && (method[0] == '\0' || evidence[0] == '\0' || dtype[0] == '\0' ||
	               dnum[0] == '\0')) {
		r = INK_ERR_INVALID;
		goto out;
	}
	{
		struct keys_registration reg = {
			.id = id, .username = username, .display_name = name, .roles = roles,
			.idv_method = signer ? method : NULL, .idv_evidence = signer ? evidence : NULL,
			.doc_type = signer ? dtype : NULL, .doc_number = signer ? dnum : NULL,
			.created_by = who.id,
		};

		r = keys_person_add(s->keys, &reg, pseudonym);
	}
	if (r == INK_ERR_IDENTITY)
		log_warn("refused a second registration of one identity document");
	if (r != 0)
		goto out;
	log_info("person %s registered by %s", id, who.id);
	sam_act_detail(s, "%s, pseudonym %s", signer ? "signer" :
	         "privileged account", pseudonym);
	if ((r = new_activation(s, id, &code)) != 0)
		goto out;
	if ((r = buf_put_cstring(rep, pseudonym)) == 0)
		r = buf_put_cstring(rep, code);
out:
	secmem_free(code);
	OPENSSL_cleanse(dnum, sizeof(dnum));
	return r;
}

/* Reads the acting officer's session and the target. The officer must hold role, or (role 0)
 * the role for the target: a registration officer for a signer, a security officer for a
 * privileged account. Refuses acts on oneself. */
static int
officer_act(struct sam_state *s, struct ink_buf *req, uint32_t role, struct keys_person *who,
            char target[static ID_MAX + 1], struct keys_person *t)
{
	const uint8_t *hash;
	int r;

	if (sam_get_session(req, &hash) != 0 || buf_get_cstring(req, target, ID_MAX + 1) != 0)
		return INK_ERR_PROTOCOL;
	sam_act_subject(s, target);
	if ((r = keys_person_get(s->keys, target, t)) != 0)
		return r;
	if (role == 0)
		role = (t->roles & AUTH_ROLE_SIGNER) ? AUTH_ROLE_REGISTRATION_OFFICER :
		                                       AUTH_ROLE_SECURITY_OFFICER;
	if ((r = sam_actor(s, hash, role, false, who)) != 0)
		return r;
	if (strcmp(who->id, t->id) == 0) {
		log_warn("refused an officer's act on their own account");
		return INK_ERR_SOD;
	}
	return 0;
}

/* officer_act for the target's officer, then that officer's fresh OTP, the request's end. */
static int
grave_officer_act(struct sam_state *s, struct ink_buf *req, struct keys_person *who,
                  char target[static ID_MAX + 1], struct keys_person *t)
{
	int64_t step;
	int r;

	if ((r = officer_act(s, req, 0, who, target, t)) != 0 ||
	    (r = sam_fresh_otp(s, req, who->id, &step)) != 0)
		return r;
	return buf_remaining(req) != 0 ? INK_ERR_PROTOCOL : 0;
}

/* string actor session, cstring target, u32 role, u8 grant -> u32 roles (security officer;
 * privileged roles only; never on oneself; separation of duties; one security officer stays). */
int
sam_handle_role_set(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char target[ID_MAX + 1];
	struct keys_person who, t;
	const char *why = NULL;
	uint32_t role, roles;
	uint8_t grant;
	size_t others = 0;
	int r;

	if ((r = officer_act(s, req, AUTH_ROLE_SECURITY_OFFICER, &who, target, &t)) != 0)
		return r;
	if (buf_get_u32(req, &role) != 0 || buf_get_u8(req, &grant) != 0 || grant > 1 ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (auth_role_name(role) == NULL || (role & AUTH_ROLES_PRIVILEGED) == 0 ||
	    t.status == KEYS_PERSON_GONE)
		return INK_ERR_SOD;
	roles = grant ? (t.roles | role) : (t.roles & ~role);
	if ((r = auth_roles_check(roles, &why)) != 0) {
		log_warn("refused a role change: %s", why);
		return r;
	}
	if (!grant && role == AUTH_ROLE_SECURITY_OFFICER) {
		if ((r = keys_person_count_role(s->keys, AUTH_ROLE_SECURITY_OFFICER, t.id, &others)) != 0)
			return r;
		if (others == 0)
			return INK_ERR_SOD;
	}
	if ((r = keys_person_set_roles(s->keys, t.id, roles)) != 0 ||
	    (r = end_sessions(s, NULL, t.id)) != 0)
		return r;
	log_info("roles of %s changed by %s", t.id, who.id);
	return buf_put_u32(rep, roles);
}

/* string actor session, cstring target, cstring actor's OTP -> (nothing): the officer for the
 * target lifts the lock the SAM set after wrong one-time passwords, with a fresh code of
 * their own (at most one unlock per officer and time step: no guessing on between unlocks).
 * A person who is not locked is left as they are (their failure count too). */
int
sam_handle_person_unlock(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char target[ID_MAX + 1], unused[SAM_OTP_MAX + 1];
	struct keys_person who, t;
	int64_t step;
	int r;

	(void)rep;
	if ((r = officer_act(s, req, 0, &who, target, &t)) != 0)
		return r;
	if (t.status == KEYS_PERSON_GONE)
		return INK_ERR_DISABLED;
	if (t.status != KEYS_PERSON_LOCKED) {
		r = buf_get_cstring(req, unused, sizeof(unused)) != 0 || buf_remaining(req) != 0 ?
		    INK_ERR_PROTOCOL : 0;
		OPENSSL_cleanse(unused, sizeof(unused));
		return r;
	}
	if ((r = sam_fresh_otp(s, req, who.id, &step)) != 0)
		return r;
	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_person_set_status(s->keys, t.id, KEYS_PERSON_ACTIVE)) != 0)
		return r;
	log_info("person %s unlocked by %s", t.id, who.id);
	return 0;
}

/* string actor session, cstring target, cstring actor's fresh OTP -> cstring activation code:
 * a lost phone. The seed is gone; with the new one-time code (delivered out of band) the
 * person opens a set-up session and enrols a new seed, and their keys work only with it. */
int
sam_handle_reenrol(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char target[ID_MAX + 1], *code = NULL;
	struct keys_person who, t;
	int r;

	if ((r = grave_officer_act(s, req, &who, target, &t)) != 0)
		return r;
	if (t.status == KEYS_PERSON_GONE)
		return INK_ERR_DISABLED;
	if ((r = keys_person_seed_store(s->keys, t.id, false, NULL, 0)) != 0 ||
	    (r = end_sessions(s, NULL, t.id)) != 0 ||
	    (r = new_activation(s, t.id, &code)) != 0)
		return r;
	log_info("second factor of %s reset by %s", t.id, who.id);
	r = buf_put_cstring(rep, code);
	secmem_free(code);
	return r;
}

/* string actor session, cstring target, cstring actor's fresh OTP -> u32 keys destroyed:
 * deregistration (a signer by a registration officer, a privileged account by a security
 * officer). Keys destroyed, certificates revoked, sessions ended; the record stays. */
int
sam_handle_person_remove(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char target[ID_MAX + 1];
	struct keys_person who, t;
	size_t n = 0, others = 0;
	int r;

	if ((r = grave_officer_act(s, req, &who, target, &t)) != 0)
		return r;
	if (t.roles & AUTH_ROLE_SECURITY_OFFICER) {
		if ((r = keys_person_count_role(s->keys, AUTH_ROLE_SECURITY_OFFICER, t.id, &others)) != 0)
			return r;
		if (others == 0)
			return INK_ERR_SOD;
	}
	if ((r = keys_cred_destroy_owner(s->keys, t.id, &n)) != 0)
		return r;
	if ((r = keys_person_set_status(s->keys, t.id, KEYS_PERSON_GONE)) != 0 ||
	    (r = end_sessions(s, NULL, t.id)) != 0)
		return r;
	log_info("person %s deregistered by %s (%zu keys destroyed)", t.id, who.id, n);
	return buf_put_u32(rep, (uint32_t)n);
}

/* cstring id -> cstring username, display name, pseudonym, u32 roles, u32 status, u8 enrolled,
 * u64 created, u64 activated, cstring activated from, u64 otp failures (no secret). */
int
sam_handle_person_get(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[ID_MAX + 1];
	struct keys_person p;
	int r;

	if (buf_get_cstring(req, id, sizeof(id)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_person_get(s->keys, id, &p)) != 0)
		return r;
	if ((r = buf_put_cstring(rep, p.username)) != 0 ||
	    (r = buf_put_cstring(rep, p.display_name)) != 0 ||
	    (r = buf_put_cstring(rep, p.pseudonym)) != 0 || (r = buf_put_u32(rep, p.roles)) != 0 ||
	    (r = buf_put_u32(rep, (uint32_t)p.status)) != 0 ||
	    (r = buf_put_u8(rep, p.enrolled ? 1 : 0)) != 0 ||
	    (r = buf_put_u64(rep, (uint64_t)p.created_at)) != 0 ||
	    (r = buf_put_u64(rep, (uint64_t)p.activated_at)) != 0 ||
	    (r = buf_put_cstring(rep, p.activated_from)) != 0)
		return r;
	return buf_put_u64(rep, (uint64_t)p.otp_failures);
}

/* cstring person id, cstring client id, cstring otp -> u64 step: a signer without a session
 * grants an OAuth client the service scope (list and read their credentials; nothing that
 * signs) on inkand's page, with password (inkand's check, as for LOGIN) and one OTP. The SAM
 * checks the person (an active, enrolled signer) and the OTP (its step claimed once, a wrong
 * one counted as at LOGIN), and records the grant; it opens no session and unlocks no key. */
int
sam_handle_oauth_service(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char id[ID_MAX + 1], client[ID_MAX + 1], otp[SAM_OTP_MAX + 1];
	struct keys_person who;
	int64_t step = -1;
	int r;

	if (buf_get_cstring(req, id, sizeof(id)) != 0 || id[0] == '\0' ||
	    buf_get_cstring(req, client, sizeof(client)) != 0 || !sam_client_id_valid(client) ||
	    buf_get_cstring(req, otp, sizeof(otp)) != 0 || buf_remaining(req) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	sam_act_subject(s, id);
	sam_act_detail(s, "OAuth client %s, service scope", client);
	if ((r = sam_signer_by_id(s, id, &who)) != 0 || (r = sam_check_otp(s, id, otp, &step)) != 0)
		goto out;
	sam_act_detail(s, "OAuth client %s, service scope, OTP step %lld", client, (long long)step);
	r = buf_put_u64(rep, (uint64_t)step);
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	return r;
}
