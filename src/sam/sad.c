/* sad: signature activation data, kept only in inkan-sam's memory — bound to the signer, their
 * session, one credential and exactly the authorized hashes, counted and short-lived (EN 419
 * 241 SCAL2). The key-encryption key it unlocks lives in locked memory until the SAD ends. */
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

struct sad_hash {
	uint8_t h[SAD_HASH_MAX];
	size_t len;
	uint32_t left;               /* signatures still allowed over this digest */
};

struct sad_entry {
	uint8_t id_hash[32];         /* SHA-256 of the SAD: the SAD itself is not kept */
	char owner[33];
	uint8_t session[32];
	char cred[33];
	char serial[41];
	char hash_oid[65];           /* the digest authorized ("" none named: SHA-2 by length) */
	int64_t expires;
	uint32_t left;               /* signatures still allowed in total */
	struct sad_hash *hashes;
	size_t nhashes;
	uint8_t *kek;                /* secmem */
	struct sad_entry *next;
};

struct sad_table {
	struct sad_entry *head;
	size_t live;
};

static int
sha256(const uint8_t *in, size_t len, uint8_t out[static 32])
{
	unsigned int n = 0;

	return EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : INK_ERR_CRYPTO;
}

static void
entry_free(struct sad_entry *e)
{
	if (e == NULL)
		return;
	secmem_free(e->kek);
	if (e->hashes != NULL) {
		OPENSSL_cleanse(e->hashes, e->nhashes * sizeof(*e->hashes));
		free(e->hashes);
	}
	OPENSSL_cleanse(e, sizeof(*e));
	free(e);
}

int
sad_table_new(struct sad_table **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? 0 : INK_ERR_ALLOC;
}

void
sad_table_free(struct sad_table *t)
{
	struct sad_entry *e, *n;

	if (t == NULL)
		return;
	for (e = t->head; e != NULL; e = n) {
		n = e->next;
		entry_free(e);
	}
	free(t);
}

/* What sweep drops besides the expired and used-up entries: those of this SAD, credential,
 * owner or session (NULL: none of that kind). */
struct sad_match {
	const uint8_t *id_hash;
	const char *cred;
	const char *owner;
	const uint8_t *session;
};

/* Unlinks and frees the entries m matches (expired ones always). */
static void
sweep(struct sad_table *t, const struct sad_match *m_in)
{
	struct sad_entry **pp = &t->head, *e;
	int64_t now = ink_now();
	uint8_t id_buf[32], session_buf[32];
	char cred_buf[33], owner_buf[33];
	struct sad_match m = { 0 };

	/* Callers may pass a field of an entry this loop frees: work on copies. */
	if (m_in != NULL && m_in->id_hash != NULL)
		m.id_hash = memcpy(id_buf, m_in->id_hash, sizeof(id_buf));
	if (m_in != NULL && m_in->session != NULL)
		m.session = memcpy(session_buf, m_in->session, sizeof(session_buf));
	if (m_in != NULL && m_in->cred != NULL) {
		snprintf(cred_buf, sizeof(cred_buf), "%s", m_in->cred);
		m.cred = cred_buf;
	}
	if (m_in != NULL && m_in->owner != NULL) {
		snprintf(owner_buf, sizeof(owner_buf), "%s", m_in->owner);
		m.owner = owner_buf;
	}

	while ((e = *pp) != NULL) {
		if (e->expires <= now - 60 || e->left == 0 ||
		    (m.id_hash != NULL && CRYPTO_memcmp(e->id_hash, m.id_hash, 32) == 0) ||
		    (m.session != NULL && CRYPTO_memcmp(e->session, m.session, 32) == 0) ||
		    (m.cred != NULL && strcmp(e->cred, m.cred) == 0) ||
		    (m.owner != NULL && strcmp(e->owner, m.owner) == 0)) {
			*pp = e->next;
			entry_free(e);
			t->live--;
		} else {
			pp = &e->next;
		}
	}
}

int
sad_issue(struct sad_table *t, const struct sad_grant *g, uint8_t sad[static SAD_ID_LEN])
{
	struct sad_entry *e = NULL;
	size_t i, j;
	int r;

	OPENSSL_cleanse(sad, SAD_ID_LEN);
	if (g->n == 0 || g->n > SAD_MAX_HASHES || strlen(g->owner) > 32 || strlen(g->cred) > 32 ||
	    (g->hash_oid != NULL && strlen(g->hash_oid) >= sizeof(e->hash_oid)))
		return INK_ERR_INVALID;
	sweep(t, NULL);
	if (t->live >= SAD_MAX_LIVE)
		return INK_ERR_TOO_LARGE;
	if ((e = calloc(1, sizeof(*e))) == NULL || (e->hashes = calloc(g->n, sizeof(*e->hashes))) == NULL ||
	    (e->kek = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(e->owner, g->owner, strlen(g->owner) + 1);
	memcpy(e->cred, g->cred, strlen(g->cred) + 1);
	snprintf(e->serial, sizeof(e->serial), "%s", g->serial != NULL ? g->serial : "");
	snprintf(e->hash_oid, sizeof(e->hash_oid), "%s", g->hash_oid != NULL ? g->hash_oid : "");
	memcpy(e->session, g->session, 32);
	memcpy(e->kek, g->kek, 32);
	e->expires = g->expires;
	e->left = (uint32_t)g->n;
	/* Duplicates in the request become one digest allowed that many times. */
	for (i = 0; i < g->n; i++) {
		if (g->hash_lens[i] == 0 || g->hash_lens[i] > SAD_HASH_MAX) {
			r = INK_ERR_INVALID;
			goto out;
		}
		for (j = 0; j < e->nhashes; j++)
			if (e->hashes[j].len == g->hash_lens[i] &&
			    memcmp(e->hashes[j].h, g->hashes[i], g->hash_lens[i]) == 0)
				break;
		if (j == e->nhashes) {
			memcpy(e->hashes[j].h, g->hashes[i], g->hash_lens[i]);
			e->hashes[j].len = g->hash_lens[i];
			e->nhashes++;
		}
		e->hashes[j].left++;
	}
	if ((r = ink_random(sad, SAD_ID_LEN)) != 0 || (r = sha256(sad, SAD_ID_LEN, e->id_hash)) != 0)
		goto out;
	e->next = t->head;
	t->head = e;
	t->live++;
	e = NULL;
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(sad, SAD_ID_LEN);
	entry_free(e);
	return r;
}

static struct sad_entry *
find(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN])
{
	struct sad_entry *e;
	uint8_t h[32];

	if (sha256(sad, SAD_ID_LEN, h) != 0)
		return NULL;
	for (e = t->head; e != NULL; e = e->next)
		if (CRYPTO_memcmp(e->id_hash, h, 32) == 0)
			return e;
	return NULL;
}

/* The digest h; hint is where it usually is (signHash sends the hashes in the order they were
 * authorized), so a batch is found in linear rather than quadratic time. */
static struct sad_hash *
find_hash(struct sad_entry *e, const uint8_t *h, size_t len, size_t hint)
{
	size_t j;

	if (hint < e->nhashes && e->hashes[hint].len == len &&
	    CRYPTO_memcmp(e->hashes[hint].h, h, len) == 0)
		return &e->hashes[hint];
	for (j = 0; j < e->nhashes; j++)
		if (e->hashes[j].len == len && CRYPTO_memcmp(e->hashes[j].h, h, len) == 0)
			return &e->hashes[j];
	return NULL;
}

int
sad_check(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN], const char *owner,
          const uint8_t session[static 32], const char *cred, const char *digest_oid,
          const uint8_t *const *hashes, const size_t *hash_lens, size_t n, uint8_t kek[static 32],
          char serial[static 41])
{
	struct sad_entry *e;
	struct sad_hash *sh;
	uint32_t *need = NULL;
	size_t i;
	int r;

	OPENSSL_cleanse(kek, 32);
	serial[0] = '\0';
	if ((e = find(t, sad)) == NULL)
		return INK_ERR_AUTH;
	/* Someone else's SAD, or one from another session or for another key, is no SAD at all. */
	if (strcmp(e->owner, owner) != 0 || CRYPTO_memcmp(e->session, session, 32) != 0 ||
	    strcmp(e->cred, cred) != 0)
		return INK_ERR_AUTH;
	if (ink_now() >= e->expires) {
		sweep(t, &(struct sad_match){ .id_hash = e->id_hash });
		return INK_ERR_SAD_EXPIRED;
	}
	if (n == 0)
		return INK_ERR_INVALID;
	/* The bytes the signer authorized, as the digest they were shown as: not as another digest
	 * of the same length (SHA3-256 for SHA-256) under an algorithm chosen at signing. */
	if (e->hash_oid[0] != '\0' ? strcmp(digest_oid, e->hash_oid) != 0 :
	    !policy_hash_is_sha2(digest_oid))
		return INK_ERR_NOT_AUTHORIZED;
	if (n > e->left)
		return INK_ERR_TOO_LARGE;
	/* Each hash at most as often as authorized, counting repeats within this request. */
	if ((need = calloc(e->nhashes, sizeof(*need))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if ((sh = find_hash(e, hashes[i], hash_lens[i], i)) == NULL ||
		    ++need[sh - e->hashes] > sh->left) {
			r = INK_ERR_NOT_AUTHORIZED;
			goto out;
		}
	}
	memcpy(kek, e->kek, 32);
	memcpy(serial, e->serial, sizeof(e->serial));
	r = 0;
out:
	free(need);
	return r;
}

void
sad_consume(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN],
            const uint8_t *const *hashes, const size_t *hash_lens, size_t n)
{
	struct sad_entry *e = find(t, sad);
	struct sad_hash *sh;
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n && e->left > 0; i++) {
		if ((sh = find_hash(e, hashes[i], hash_lens[i], i)) != NULL && sh->left > 0) {
			sh->left--;
			e->left--;
		}
	}
	if (e->left == 0)
		sweep(t, &(struct sad_match){ .id_hash = e->id_hash });
}

void
sad_drop(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN])
{
	uint8_t h[32];

	if (sha256(sad, SAD_ID_LEN, h) == 0)
		sweep(t, &(struct sad_match){ .id_hash = h });
}

void
sad_drop_cred(struct sad_table *t, const char *cred)
{
	sweep(t, &(struct sad_match){ .cred = cred });
}

void
sad_drop_owner(struct sad_table *t, const char *owner)
{
	sweep(t, &(struct sad_match){ .owner = owner });
}

void
sad_drop_session(struct sad_table *t, const uint8_t session[static 32])
{
	sweep(t, &(struct sad_match){ .session = session });
}
