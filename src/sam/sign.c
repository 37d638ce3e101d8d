/* sign: the SAM's signing path. Authorize checks the OTP, then the PIN, and mints a SAD bound
 * to signer, session, credential and hashes; sign spends it. inkand decides nothing here. */
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "keys/keys.h"
#include "policy/policy.h"

#define ID_MAX 64
#define OID_MAX 64
#define TTL_MAX 3600

/* The hashes of a request, pointing into the request buffer. */
struct hash_list {
	const uint8_t *p[SAD_MAX_HASHES];
	size_t len[SAD_MAX_HASHES];
	size_t n;
};

static int
get_hashes(struct ink_buf *req, struct hash_list *h)
{
	uint32_t n, i;
	int r;

	h->n = 0;
	if ((r = buf_get_u32(req, &n)) != 0 || n == 0 || n > SAD_MAX_HASHES)
		return INK_ERR_PROTOCOL;
	for (i = 0; i < n; i++)
		if (buf_get_string_ptr(req, &h->p[i], &h->len[i], SAD_HASH_MAX) != 0)
			return INK_ERR_PROTOCOL;
	h->n = n;
	return 0;
}

/* Digest lengths: the named algorithm's, or (none named) one of SHA-256/384/512's. */
static int
check_lengths(const char *hash_oid, const struct hash_list *h)
{
	const struct policy_hash_alg *alg = NULL;
	size_t i;

	if (hash_oid[0] != '\0' && (alg = policy_hash_by_oid(hash_oid)) == NULL)
		return INK_ERR_POLICY;
	for (i = 0; i < h->n; i++) {
		if (alg != NULL ? h->len[i] != alg->len :
		    (h->len[i] != 32 && h->len[i] != 48 && h->len[i] != 64))
			return INK_ERR_INVALID;
	}
	return 0;
}

/* A short digest of the authorized hashes for the SAM's record (its detail is short; inkand's
 * record lists every hash): the first 16 bytes of SHA-256 over each length and value. */
static void
hashes_digest(const struct hash_list *h, char out[static 33])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t d[32], len[4];
	unsigned int n = 0;
	size_t i;
	bool ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;

	for (i = 0; ok && i < h->n; i++) {
		len[0] = (uint8_t)(h->len[i] >> 24);
		len[1] = (uint8_t)(h->len[i] >> 16);
		len[2] = (uint8_t)(h->len[i] >> 8);
		len[3] = (uint8_t)h->len[i];
		ok = EVP_DigestUpdate(md, len, 4) == 1 && EVP_DigestUpdate(md, h->p[i], h->len[i]) == 1;
	}
	if (ok && EVP_DigestFinal_ex(md, d, &n) == 1)
		hex_encode(d, 16, out);
	else
		snprintf(out, 33, "-");
	EVP_MD_CTX_free(md);
}

/* An OAuth client's id as inkand makes them (128 random bits, lower-case hex): it goes into the
 * SAM's own record, where nothing else may be smuggled in its name. */
bool
sam_client_id_valid(const char *id)
{
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return i == 32;
}

/* Who asks for a SAD: a signer's session (credentials/authorize), or an OAuth consent of a
 * signer without a session (their id names them). */
enum authz_kind { AUTHZ_SESSION, AUTHZ_CONSENT };

/* The signer: the person of the SAM's own session, or (consent) the one named, as the SAM's
 * record has them now. */
static int
authz_signer(struct sam_state *s, enum authz_kind kind, const char *person,
             const uint8_t *session, struct keys_person *who)
{
	if (kind == AUTHZ_CONSENT)
		return sam_signer_by_id(s, person, who);
	return sam_actor(s, session, AUTH_ROLE_SIGNER, false, who);
}

/* [cstring person (consent)], string session (consent: the SAD's binding), [cstring client
 * (consent)], cred, otp, pin, hash OID, u32 ttl, u32 n, n x string hash -> string sad,
 * u64 otp step, u64 expires, cstring serial. The signer's seed, window and attempt counter are
 * the SAM's, whichever way they come. */
static int
authorize(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep, enum authz_kind kind)
{
	char cred[ID_MAX + 1], otp[SAM_OTP_MAX + 1], pin[KEYS_PIN_MAX + 2], hash_oid[OID_MAX + 1];
	char client[ID_MAX + 1] = "", digest[33] = "", person[ID_MAX + 1] = "";
	bool oauth = kind != AUTHZ_SESSION;
	const uint8_t *session;
	const char *owner;
	uint32_t ttl;
	struct hash_list *h = NULL;
	struct keys_person who;
	struct keys_cred c;
	uint8_t *kek = NULL, sad[SAD_ID_LEN];
	int64_t step = -1, expires;
	bool held = false;
	int r;

	memset(&c, 0, sizeof(c));
	owner = who.id;
	if ((h = calloc(1, sizeof(*h))) == NULL || (kek = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((kind == AUTHZ_CONSENT && (buf_get_cstring(req, person, sizeof(person)) != 0 ||
	                               person[0] == '\0')) ||
	    sam_get_session(req, &session) != 0 ||
	    (oauth && (buf_get_cstring(req, client, sizeof(client)) != 0 || !sam_client_id_valid(client))) ||
	    buf_get_cstring(req, cred, sizeof(cred)) != 0 ||
	    buf_get_cstring(req, otp, sizeof(otp)) != 0 ||
	    buf_get_cstring(req, pin, sizeof(pin)) != 0 ||
	    buf_get_cstring(req, hash_oid, sizeof(hash_oid)) != 0 || buf_get_u32(req, &ttl) != 0 ||
	    get_hashes(req, h) != 0 || buf_remaining(req) != 0 || ttl == 0 || ttl > TTL_MAX) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	/* The SAM's own reading of the configuration, not inkand's word: no SAD longer-lived or
	 * wider than the service (and its assurance level) allows. */
	if (s->cfg != NULL && (ttl > s->cfg->sad_ttl || h->n > (size_t)s->cfg->multisign)) {
		log_warn("refused an authorization beyond sad_ttl or multisign");
		r = ttl > s->cfg->sad_ttl ? INK_ERR_POLICY : INK_ERR_TOO_LARGE;
		goto out;
	}
	sam_act_subject(s, cred);
	if (oauth)  /* a refusal's record names the client too */
		sam_act_detail(s, "OAuth client %s", client);
	/* Under ks alone (dispatch): signatures go on meanwhile; mu only where their state is
	 * touched: the credential's hold, the SAD table (lock.c). */
	if ((r = authz_signer(s, kind, person, session, &who)) != 0)
		goto out;
	/* The credential first: it must be this signer's (nobody makes another's wait) ... */
	if ((r = keys_cred_get(s->keys, owner, cred, &c)) != 0)
		goto out;
	keys_cred_clear(&c);
	/* One PIN check of a credential at a time (its counter sees each wrong PIN before the next
	 * is tried), beside its signatures; no change of it meanwhile. The locks are let go while
	 * the PIN is stretched: other requests go on. */
	if ((r = sam_cred_hold(s, cred, SAM_USE_PIN)) != 0)
		goto out;
	held = true;
	/* ... and usable at all, as it is now that nothing changes it. */
	if ((r = keys_cred_get(s->keys, owner, cred, &c)) != 0)
		goto out;
	if (c.status == KEYS_LOCKED)
		r = INK_ERR_LOCKED;
	else if (c.status == KEYS_PENDING)
		r = INK_ERR_POLICY;
	else if (c.status != KEYS_ACTIVE)
		r = INK_ERR_DISABLED;
	else if (c.not_after <= ink_now())
		r = INK_ERR_EXPIRED;
	else if (!oauth && (c.auth_mode == KEYS_AUTH_OAUTH_ONLY ||
	                    (s->cfg != NULL && !s->cfg->allow_explicit_authorize))) {
		/* The owner (or the service, in the SAM's own reading of its configuration) chose
		 * the consent page: PIN and OTP that came through a client activate nothing. */
		sam_act_detail(s, "explicit authorization refused: authMode oauth2code (%s)",
		               c.auth_mode == KEYS_AUTH_OAUTH_ONLY ? "the owner's choice" :
		               "allow_explicit_authorize");
		r = INK_ERR_DENIED;
	} else
		r = check_lengths(hash_oid, h);
	if (r != 0)
		goto out;
	/* The OTP before the PIN: no PIN guessing without the second factor. */
	if ((r = sam_check_otp(s, owner, otp, &step)) != 0)
		goto out;
	r = keys_cred_open(s->keys, owner, cred, pin, kek);
	if (r == INK_ERR_AUTH)
		r = INK_ERR_BAD_PIN;
	if (r != 0)
		goto out;
	/* The lock was let go while the PIN was stretched: the signer is checked again, as they
	 * stand now (locked, logged out, second factor reset meanwhile: no SAD). Once issued, a
	 * SAD goes with its session or its person's standing (sad_drop_owner, _session). */
	if ((r = authz_signer(s, kind, person, session, &who)) != 0)
		goto out;
	expires = ink_now() + ttl;
	{
		struct sad_grant g = {
			.owner = owner, .session = session, .cred = cred, .serial = c.serial, .hashes = h->p,
			.hash_lens = h->len, .n = h->n, .kek = kek, .expires = expires,
			.hash_oid = hash_oid,
		};

		unsigned was = sam_sads_enter(s);

		r = sad_issue(s->sads, &g, sad);
		sam_sads_leave(s, was);
		if (r != 0)
			goto out;
	}
	if (oauth) {
		hashes_digest(h, digest);
		sam_act_detail(s, "OAuth client %s, certificate serial %s, %zu hash(es) (digest %s), "
		               "OTP step %lld%s", client, c.serial, h->n, digest, (long long)step,
		               kind == AUTHZ_CONSENT ? ", one-step consent (no session)" : "");
	} else {
		sam_act_detail(s, "certificate serial %s, %zu hash(es), OTP step %lld", c.serial, h->n,
		               (long long)step);
	}
	if ((r = buf_put_string(rep, sad, sizeof(sad))) != 0 ||
	    (r = buf_put_u64(rep, (uint64_t)step)) != 0 ||
	    (r = buf_put_u64(rep, (uint64_t)expires)) != 0 || (r = buf_put_cstring(rep, c.serial)) != 0) {
		unsigned was = sam_sads_enter(s);

		sad_drop(s->sads, sad);
		sam_sads_leave(s, was);
	}
out:
	if (held)
		sam_cred_release(s, cred, SAM_USE_PIN);
	OPENSSL_cleanse(pin, sizeof(pin));
	OPENSSL_cleanse(otp, sizeof(otp));
	OPENSSL_cleanse(sad, sizeof(sad));
	secmem_free(kek);
	free(h);
	keys_cred_clear(&c);
	return r;
}

int
sam_handle_authorize(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	return authorize(s, req, rep, AUTHZ_SESSION);
}

/* A signer without a session consented on inkand's page with password (inkand's check, as
 * for LOGIN), PIN and one OTP: the same checks as AUTHORIZE (OTP, then PIN; the client's id
 * on the SAM's own record) on the person the request names, and no session is opened — the SAD is bound to the consent's own binding and ends
 * with its expiry or its use. */
int
sam_handle_oauth_consent(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	return authorize(s, req, rep, AUTHZ_CONSENT);
}

/* The detail of a refused SAD's record. */
static const char *
sad_refusal(int r)
{
	return r == INK_ERR_CRYPTO ? "SAD refused: its spend record fails its MAC (edited in the key "
	                             "store)" : "SAD refused";
}

/* sad_check, a refusal recorded: a refused SAD is the SAM's record too (the owner as the
 * request names it). Called holding s->mu, let go over the key store's round trip when the
 * SADs are on connections of their own. */
static int
sad_allows(struct sam_state *s, const uint8_t *sad, const char *owner, const uint8_t *session,
           const char *cred, const char *digest_oid, const struct hash_list *h,
           uint8_t kek[static 32], char serial[static 41], struct sad_spend *sp)
{
	bool unlocked = sad_table_unlocked(s->sads);
	int r;

	if (unlocked)
		sam_unlock(s, SAM_LOCK_MU);
	r = sad_check(s->sads, sad, owner, session, cred, digest_oid, h->p, h->len, h->n, kek,
	              serial, sp);
	if (unlocked)
		sam_lock(s, SAM_LOCK_MU);
	if (r != 0)
		sam_hold_record(s, owner, "sam.sign", cred, r, sad_refusal(r));
	return r;
}

/* sad_consume, a refusal recorded; s->mu as in sad_allows. */
static int
sad_spends(struct sam_state *s, const uint8_t *sad, const struct sad_spend *sp,
           const char *owner, const char *cred, const struct hash_list *h)
{
	bool unlocked = sad_table_unlocked(s->sads);
	int r;

	if (unlocked)
		sam_unlock(s, SAM_LOCK_MU);
	r = sad_consume(s->sads, sad, sp, h->p, h->len, h->n);
	if (unlocked)
		sam_lock(s, SAM_LOCK_MU);
	if (r != 0)
		sam_hold_record(s, owner, "sam.sign", cred, r, sad_refusal(r));
	return r;
}

/* Called holding s->mu only, never s->ks (lock.c). Everything is checked and the SAD spent
 * before a signature is made; the key's opening and the signatures are made without s->mu,
 * so that other requests run beside this one (no state of the SAM is touched while s->mu is
 * let go; the credential's hold keeps its changes out until these signatures are done), and
 * so are the SAD's read and spend when the key store keeps them (several nodes: their round
 * trips would hold every other request up). A failure after the SAD was spent leaves it spent.
 *
 * The SAD is read once: its check prepares the spend, which then writes the counts it read
 * over with what they become, in one conditional statement — when several nodes share the
 * key store, the statement that reads the key (keys_signer_open_spend). Whatever happened to the SAD
 * between the check and the spend (another request spent it, a revocation, a lock or a logout
 * dropped it) makes that statement change nothing; the spend then reads it again and decides
 * on what it finds. The credential itself is checked again once held (keys_signer_open). */
int
sam_handle_sign(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char owner[ID_MAX + 1], cred[ID_MAX + 1], sig_alg[OID_MAX + 1], hash_oid[OID_MAX + 1];
	char serial[41] = "";
	const struct policy_sig_alg *pa;
	const char *digest;
	const uint8_t *session, *sad;
	size_t session_len, sad_len, i;
	struct hash_list *h = NULL;
	struct keys_signer *sg = NULL;
	struct sad_spend sp = { 0 };
	struct keys_sad_spend_req ksp;
	uint8_t *kek = NULL, **sigs = NULL;
	size_t *sig_lens = NULL, threads;
	uint32_t salt = 0;
	bool shared, with_read, held = false;
	int spent, r;

	if ((h = calloc(1, sizeof(*h))) == NULL || (kek = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (buf_get_cstring(req, owner, sizeof(owner)) != 0 || owner[0] == '\0' ||
	    buf_get_string_ptr(req, &session, &session_len, 32) != 0 || session_len != 32 ||
	    buf_get_cstring(req, cred, sizeof(cred)) != 0 ||
	    buf_get_string_ptr(req, &sad, &sad_len, SAD_ID_LEN) != 0 || sad_len != SAD_ID_LEN ||
	    buf_get_cstring(req, sig_alg, sizeof(sig_alg)) != 0 ||
	    buf_get_cstring(req, hash_oid, sizeof(hash_oid)) != 0 || buf_get_u32(req, &salt) != 0 ||
	    (salt != UINT32_MAX && salt > 4096) || get_hashes(req, h) != 0 ||
	    buf_remaining(req) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	/* The digest the signatures will be made with: the one the signature algorithm names, or
	 * (RSASSA-PSS) the one given; the SAD must allow the hashes as that digest. */
	if ((pa = policy_sig_alg_by_oid(sig_alg)) == NULL ||
	    (digest = pa->hash_oid != NULL ? pa->hash_oid : hash_oid)[0] == '\0') {
		r = INK_ERR_POLICY;
		goto out;
	}
	/* A SAD that allows nothing waits for nothing: checked before the credential is held
	 * (nobody makes another's credential wait). */
	if ((r = sad_allows(s, sad, owner, session, cred, digest, h, kek, serial, &sp)) != 0)
		goto out;
	if ((r = sam_cred_hold(s, cred, SAM_USE_SIGN)) != 0)
		goto out;
	held = true;
	/* No signature the SAM could not record: the held records must have room. */
	if (!sam_held_room(s))
		sam_flush_records(s);
	if (!sam_held_room(s)) {
		r = INK_ERR_STORE;
		goto out;
	}
	if ((sigs = calloc(h->n, sizeof(*sigs))) == NULL ||
	    (sig_lens = calloc(h->n, sizeof(*sig_lens))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	/* The key is read on a connection of the signatures' own and opened without mu: the
	 * credential is held, nothing of the SAM's is touched, and no other request's commit on
	 * the key store's main connection is waited for (lock.c). */
	with_read = sad_spend_with_read(s->sads, &sp, &ksp);
	sam_unlock(s, SAM_LOCK_MU);
	r = keys_signer_open_spend(s->keys, cred, kek, sig_alg,
	                           hash_oid[0] != '\0' ? hash_oid : NULL,
	                           salt == UINT32_MAX ? -1 : (long)salt, h->len, h->n,
	                           with_read ? &ksp : NULL, &spent, &sg);
	if (with_read)
		sad_spent_with_read(s->sads, &sp, spent);
	sam_lock(s, SAM_LOCK_MU);
	if (r == INK_ERR_DISABLED || r == INK_ERR_LOCKED || r == INK_ERR_EXPIRED) {
		/* The key changed state since the authorization: the SAD dies with it (a shared
		 * key store deletes it on its main connection: under ks). */
		if (sad_table_unlocked(s->sads))
			sam_lock(s, SAM_LOCK_KS);
		sad_drop(s->sads, sad);
		sam_unlock(s, SAM_LOCK_KS);
		sam_hold_record(s, owner, "sam.sign", cred, r, "SAD refused: its key is not usable");
		goto out;
	}
	if (r == INK_ERR_AUTH) {
		/* The kek the SAD was checked with no longer opens the key: its PIN changed between
		 * the check and the hold (a change drops the credential's SADs). Refused as the SAD
		 * that is no more, as the spend would have refused it. */
		sam_hold_record(s, owner, "sam.sign", cred, r, sad_refusal(r));
		goto out;
	}
	if (r == 0 && spent != 0 && spent != INK_ERR_REPLAY && spent != KEYS_SPEND_NOT_TRIED)
		r = INK_ERR_STORE;      /* (never: an unknown spend fails the read) */
	if (r != 0)
		goto out;
	/* Spent before any signature is made, in one step of the key store when several nodes
	 * share it: the same hashes pass no second check, here or on another node. Spent with
	 * the key's read already, or read again here when its counts changed meanwhile. */
	if (spent != 0 &&
	    (r = sad_spends(s, sad, spent == KEYS_SPEND_NOT_TRIED ? &sp : NULL, owner, cred, h)) != 0)
		goto out;
	/* The cores are shared among the requests signing now: one that has the machine to itself
	 * spreads its batch over all of them, several side by side start no threads of their own
	 * (starting them costs more than it gains when the cores are busy anyway). */
	threads = s->cores / (s->signing + 1);
	if (threads == 0)
		threads = 1;
	shared = keys_signer_shared(sg);
	s->signing++;
	/* a token's session is the key store's, used under ks (lock.c) */
	sam_unlock(s, SAM_LOCK_MU);
	if (shared)
		sam_lock(s, SAM_LOCK_KS);
	r = keys_signer_sign(sg, h->p, h->len, h->n, threads, sigs, sig_lens);
	sam_unlock(s, SAM_LOCK_KS);
	sam_lock(s, SAM_LOCK_MU);
	s->signing--;
	{
		char detail[96];

		snprintf(detail, sizeof(detail), "certificate serial %s, %zu signature(s)", serial, h->n);
		/* signatures the SAM could not record are not handed out */
		if (sam_hold_record(s, owner, "sam.sign", cred, r, detail) != 0 && r == 0)
			r = INK_ERR_STORE;
	}
	if (r != 0)
		goto out;
	/* The serial came with the SAD: no second read of the key store on this path. */
	if ((r = buf_put_u32(rep, (uint32_t)h->n)) != 0)
		goto out;
	for (i = 0; i < h->n; i++)
		if ((r = buf_put_string(rep, sigs[i], sig_lens[i])) != 0)
			goto out;
	r = buf_put_cstring(rep, serial);
out:
	if (held)
		sam_cred_release(s, cred, SAM_USE_SIGN);
	keys_signer_free(sg);
	sad_spend_clear(&sp);
	for (i = 0; sigs != NULL && h != NULL && i < h->n; i++)
		free(sigs[i]);
	free(sigs);
	free(sig_lens);
	secmem_free(kek);
	free(h);
	return r;
}

int
sam_handle_sad_drop(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *sad;
	size_t len;
	unsigned was;
	int r;

	(void)rep;
	if (buf_get_string_ptr(req, &sad, &len, SAD_ID_LEN) != 0 || len != SAD_ID_LEN ||
	    buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	was = sam_sads_enter(s);
	r = sad_drop(s->sads, sad);
	sam_sads_leave(s, was);
	return r;
}
