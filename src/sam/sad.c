/* sad: signature activation data — bound to the signer, their session, one credential and
 * exactly the authorized hashes, counted and short-lived (EN 419 241 SCAL2).
 *
 * A SAD is 32 random bytes R, handed to the client; the SAM keeps only a spend record under
 * SHA-256(R) (struct keys_sad): what R is bound to, the hashes with their counts, the counts
 * left, the kek sealed under a key derived from the master key and R (keys_sad_derive), and a
 * MAC over all but the counts left under another such key. Neither key exists without R, which
 * only the client holds: a record, alone or with the master key, opens no kek, and an edited
 * record (a hash added, a count or expiry raised, another owner or credential) fails its MAC.
 * One node (SQLite key store) keeps the records in memory; several (PostgreSQL) keep them in
 * the key store, where a spend is one conditional statement on the counts it read: a SAD
 * minted on one node is spent on any, each count once (docs/architecture.md). A node of
 * several also keeps a copy of the records it minted (following its own spends of them), which
 * spares the key store's read when a SAD comes back to it: only a hint, never a permission —
 * the spend is still the key store's conditional statement on the counts the copy holds, which
 * a copy gone stale (spent, dropped or expired on another node) makes change nothing; the
 * record is then read from the key store and decided on as ever. */
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"
#include "policy/policy.h"

#define SAD_GRACE 60      /* an expired record is kept this long (s) for a clear "expired" */
#define SPEND_TRIES 16    /* spends lost to other requests' before giving up (INK_ERR_BUSY) */
#define SEAL_AAD "inkan sad v1 kek"
#define MAC_LABEL "inkan sad v1 record"
/* One node's records are found by 12 bits of the first two bytes of SHA-256(R) (uniform, and
 * telling nothing of R): a look-up reads the few records of one bucket, not all live ones. */
#define SAD_BUCKETS 4096

struct sad_entry {                /* one node: the records in memory */
	struct keys_sad rec;
	struct sad_entry *next;
};

struct sad_table {
	struct keys *keys;
	bool shared;                  /* the records are the key store's (several nodes) */
	/* One node: the records. Several: this node's copies (see above), under copy_mu, since the
	 * SADs' calls then run without the SAM's lock. */
	pthread_mutex_t copy_mu;
	struct sad_entry *bucket[SAD_BUCKETS];
	size_t live;
};

/* A record's hashes and counts, as its granted and lefts blobs hold them: granted = u32 n,
 * then n times (u8 length, the digest, u32 count); lefts = u32 total left, then n u32. */
struct grant {
	size_t n;
	const uint8_t **h;
	size_t *len;
	uint32_t *count;
	uint32_t *left;
	uint32_t total;               /* left in all */
};

static void
grant_free(struct grant *g)
{
	free(g->h);
	free(g->len);
	free(g->count);
	free(g->left);
	memset(g, 0, sizeof(*g));
}

static int
grant_alloc(struct grant *g, size_t n)
{
	memset(g, 0, sizeof(*g));
	if ((g->h = calloc(n, sizeof(*g->h))) == NULL || (g->len = calloc(n, sizeof(*g->len))) == NULL ||
	    (g->count = calloc(n, sizeof(*g->count))) == NULL ||
	    (g->left = calloc(n, sizeof(*g->left))) == NULL) {
		grant_free(g);
		return INK_ERR_ALLOC;
	}
	return 0;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads rec's hashes and counts into g; false for blobs of the wrong shape or counts left
 * beyond those granted (which no spend makes: an edited record). */
static bool
grant_parse(const struct keys_sad *rec, struct grant *g)
{
	const uint8_t *p = rec->granted, *end = rec->granted + rec->granted_len;
	uint64_t granted = 0, left = 0;
	size_t i, n;

	if (rec->granted_len < 4 || (n = get_u32(p)) == 0 || n > SAD_MAX_HASHES ||
	    rec->lefts_len != 4 * (n + 1) || grant_alloc(g, n) != 0)
		return false;
	p += 4;
	g->n = n;
	for (i = 0; i < n; i++) {
		if (end - p < 1 || p[0] == 0 || p[0] > SAD_HASH_MAX || end - p < 1 + p[0] + 4)
			goto bad;
		g->len[i] = p[0];
		g->h[i] = p + 1;
		g->count[i] = get_u32(p + 1 + p[0]);
		p += 1 + g->len[i] + 4;
		g->left[i] = get_u32(rec->lefts + 4 * (i + 1));
		if (g->left[i] > g->count[i])
			goto bad;
		granted += g->count[i];
		left += g->left[i];
	}
	g->total = get_u32(rec->lefts);
	if (p != end || granted > SAD_MAX_HASHES || g->total > left)
		goto bad;
	return true;
bad:
	grant_free(g);
	return false;
}

/* The counts left of g as a lefts blob (malloc'd, 4 * (n + 1) bytes). */
static uint8_t *
lefts_encode(const struct grant *g, size_t *len)
{
	uint8_t *b;
	size_t i;

	*len = 4 * (g->n + 1);
	if ((b = malloc(*len)) == NULL)
		return NULL;
	put_u32(b, g->total);
	for (i = 0; i < g->n; i++)
		put_u32(b + 4 * (i + 1), g->left[i]);
	return b;
}

static int
sha256(const uint8_t *in, size_t len, uint8_t out[static 32])
{
	unsigned int n = 0;

	return EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) == 1 ? 0 : INK_ERR_CRYPTO;
}

/* What the kek is sealed to: the record's id and its bindings, NUL-ended texts. */
static size_t
seal_aad(const struct keys_sad *rec, uint8_t *out)
{
	size_t n = 0, l;

	memcpy(out, SEAL_AAD, sizeof(SEAL_AAD));
	n += sizeof(SEAL_AAD);
	memcpy(out + n, rec->id_hash, 32);
	n += 32;
	l = strlen(rec->owner) + 1;
	memcpy(out + n, rec->owner, l);
	n += l;
	memcpy(out + n, rec->session, 32);
	n += 32;
	l = strlen(rec->cred) + 1;
	memcpy(out + n, rec->cred, l);
	return n + l;
}

/* AES-256-GCM under seal (a key of one SAD, used for this one kek: a fixed nonce is safe). */
static int
kek_seal(const uint8_t seal[static 32], struct keys_sad *rec, const uint8_t *kek,
         uint8_t *out, bool open)
{
	static const uint8_t nonce[12];
	uint8_t aad[sizeof(SEAL_AAD) + 32 + 33 + 32 + 33];
	EVP_CIPHER_CTX *c = NULL;
	size_t alen = seal_aad(rec, aad);
	int n, r = INK_ERR_CRYPTO;

	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, seal, nonce, open ? 0 : 1) != 1 ||
	    EVP_CipherUpdate(c, NULL, &n, aad, (int)alen) != 1)
		goto out;
	if (open) {
		if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, rec->sealed + 32) != 1 ||
		    EVP_CipherUpdate(c, out, &n, rec->sealed, 32) != 1 || n != 32 ||
		    EVP_CipherFinal_ex(c, out + n, &n) != 1)
			goto out;
	} else {
		if (EVP_CipherUpdate(c, rec->sealed, &n, kek, 32) != 1 || n != 32 ||
		    EVP_CipherFinal_ex(c, rec->sealed + n, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, rec->sealed + 32) != 1)
			goto out;
	}
	r = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (r != 0 && open)
		OPENSSL_cleanse(out, 32);
	return r;
}

/* HMAC-SHA256 under mac of everything in rec fixed at issue: all but the counts left. */
static int
rec_mac(const uint8_t mac[static 32], const struct keys_sad *rec, uint8_t out[static 32])
{
	const char *texts[] = { rec->owner, rec->cred, rec->serial, rec->hash_oid };
	uint8_t *buf, *p;
	unsigned int outl = 0;
	size_t i, l, len = sizeof(MAC_LABEL) + 32 + 32 + 8 + 4 + rec->granted_len + sizeof(rec->sealed);
	int r = 0;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		len += strlen(texts[i]) + 1;
	if ((p = buf = malloc(len)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(p, MAC_LABEL, sizeof(MAC_LABEL));
	p += sizeof(MAC_LABEL);
	memcpy(p, rec->id_hash, 32);
	memcpy(p + 32, rec->session, 32);
	p += 64;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		l = strlen(texts[i]) + 1;
		memcpy(p, texts[i], l);
		p += l;
	}
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)((uint64_t)rec->expires >> (56 - 8 * i));
	put_u32(p, (uint32_t)rec->granted_len);
	memcpy(p + 4, rec->granted, rec->granted_len);
	p += 4 + rec->granted_len;
	memcpy(p, rec->sealed, sizeof(rec->sealed));
	if (HMAC(EVP_sha256(), mac, 32, buf, len, out, &outl) == NULL || outl != 32)
		r = INK_ERR_CRYPTO;
	free(buf);
	return r;
}

/* ---- where the records are: memory (one node) or the key store (several) ---- */

static void
entry_free(struct sad_entry *e)
{
	if (e == NULL)
		return;
	keys_sad_clear(&e->rec);
	free(e);
}

static struct sad_entry **
bucket_of(struct sad_table *t, const uint8_t id_hash[static 32])
{
	return &t->bucket[(((size_t)id_hash[0] << 8) | id_hash[1]) % SAD_BUCKETS];
}

static struct sad_entry *
mem_find(struct sad_table *t, const uint8_t id_hash[static 32])
{
	struct sad_entry *e;

	for (e = *bucket_of(t, id_hash); e != NULL; e = e->next)
		if (CRYPTO_memcmp(e->rec.id_hash, id_hash, 32) == 0)
			return e;
	return NULL;
}

/* Copies rec into out, the blobs too. */
static int
rec_copy(const struct keys_sad *rec, struct keys_sad *out)
{
	*out = *rec;
	out->granted = malloc(rec->granted_len);
	out->lefts = malloc(rec->lefts_len);
	if (out->granted == NULL || out->lefts == NULL) {
		free(out->granted);
		free(out->lefts);
		memset(out, 0, sizeof(*out));
		return INK_ERR_ALLOC;
	}
	memcpy(out->granted, rec->granted, rec->granted_len);
	memcpy(out->lefts, rec->lefts, rec->lefts_len);
	return 0;
}

/* Puts rec (taken over: cleared here whatever happens) into memory. */
static int
mem_put(struct sad_table *t, struct keys_sad *rec)
{
	struct sad_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL) {
		keys_sad_clear(rec);
		return INK_ERR_ALLOC;
	}
	e->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	e->next = *bucket_of(t, e->rec.id_hash);
	*bucket_of(t, e->rec.id_hash) = e;
	t->live++;
	return 0;
}

/* Takes the record of id_hash out of memory, if there. */
static void
mem_forget(struct sad_table *t, const uint8_t id_hash[static 32])
{
	struct sad_entry **pp, *e;

	for (pp = bucket_of(t, id_hash); (e = *pp) != NULL; pp = &e->next) {
		if (CRYPTO_memcmp(e->rec.id_hash, id_hash, 32) == 0) {
			*pp = e->next;
			entry_free(e);
			t->live--;
			return;
		}
	}
}

/* Several nodes: a spend of id_hash's counts from `from` to `to` that the key store made
 * (r == 0) or refused; the copy follows a spend made on the counts it holds, and goes
 * otherwise (stale, or unknown: the next look-up reads the key store). */
static void
copy_spent(struct sad_table *t, const uint8_t id_hash[static 32], const uint8_t *from,
           size_t from_len, const uint8_t *to, size_t to_len, bool last, int r)
{
	struct sad_entry *e;

	pthread_mutex_lock(&t->copy_mu);
	if ((e = mem_find(t, id_hash)) != NULL) {
		if (r == 0 && !last && from != NULL && to != NULL && e->rec.lefts_len == from_len &&
		    to_len == from_len && memcmp(e->rec.lefts, from, from_len) == 0)
			memcpy(e->rec.lefts, to, to_len);
		else
			mem_forget(t, id_hash);
	}
	pthread_mutex_unlock(&t->copy_mu);
}

/* Stores rec (taken over: cleared here whatever happens). Several nodes: in the key store,
 * and a copy in memory while there is room for it. */
static int
rec_put(struct sad_table *t, struct keys_sad *rec)
{
	int r;

	if (!t->shared)
		return mem_put(t, rec);
	if ((r = keys_sad_put(t->keys, rec)) != 0) {
		keys_sad_clear(rec);
		return r;
	}
	pthread_mutex_lock(&t->copy_mu);
	if (t->live < SAD_MAX_LIVE)
		(void)mem_put(t, rec);    /* no copy is no harm */
	else
		keys_sad_clear(rec);
	pthread_mutex_unlock(&t->copy_mu);
	return 0;
}

/* The record of id_hash; several nodes: from this node's copy unless fresh, else (or without
 * a copy) from the key store. */
static int
rec_get(struct sad_table *t, const uint8_t id_hash[static 32], bool fresh, struct keys_sad *out)
{
	struct sad_entry *e;
	int r = INK_ERR_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if (t->shared) {
		if (!fresh) {
			pthread_mutex_lock(&t->copy_mu);
			if ((e = mem_find(t, id_hash)) != NULL)
				r = rec_copy(&e->rec, out);
			pthread_mutex_unlock(&t->copy_mu);
			if (e != NULL)
				return r;
		}
		return keys_sad_get(t->keys, id_hash, out);
	}
	if ((e = mem_find(t, id_hash)) == NULL)
		return INK_ERR_NOT_FOUND;
	return rec_copy(&e->rec, out);
}

/* What sweep drops besides the expired and used-up records: those of this SAD, credential,
 * owner or session (NULL: none of that kind). */
struct sad_match {
	const uint8_t *id_hash;
	const char *cred;
	const char *owner;
	const uint8_t *session;
};

static bool
used_up(const struct keys_sad *rec)
{
	return rec->lefts_len < 4 || get_u32(rec->lefts) == 0;
}

/* Drops from one bucket the records m matches, and the expired and used-up ones. */
static void
sweep_bucket(struct sad_table *t, struct sad_entry **pp, const struct sad_match *m, int64_t now)
{
	struct sad_entry *e;

	while ((e = *pp) != NULL) {
		if (e->rec.expires <= now - SAD_GRACE || used_up(&e->rec) ||
		    (m != NULL && m->id_hash != NULL && CRYPTO_memcmp(e->rec.id_hash, m->id_hash, 32) == 0) ||
		    (m != NULL && m->session != NULL && CRYPTO_memcmp(e->rec.session, m->session, 32) == 0) ||
		    (m != NULL && m->cred != NULL && strcmp(e->rec.cred, m->cred) == 0) ||
		    (m != NULL && m->owner != NULL && strcmp(e->rec.owner, m->owner) == 0)) {
			*pp = e->next;
			entry_free(e);
			t->live--;
		} else {
			pp = &e->next;
		}
	}
}

/* Drops the records m matches, and in memory (several nodes: the copies) the expired and
 * used-up ones (of one SAD's bucket when m names that SAD alone, else of all). An error when
 * the key store did not delete them: they are still spendable on every node. */
static int
sweep(struct sad_table *t, const struct sad_match *m)
{
	int64_t now = ink_now();
	size_t b;
	int r = 0;

	if (t->shared)
		pthread_mutex_lock(&t->copy_mu);
	if (m != NULL && m->id_hash != NULL && m->session == NULL && m->cred == NULL &&
	    m->owner == NULL) {
		sweep_bucket(t, bucket_of(t, m->id_hash), m, now);
	} else {
		for (b = 0; b < SAD_BUCKETS; b++)
			sweep_bucket(t, &t->bucket[b], m, now);
	}
	if (t->shared) {
		pthread_mutex_unlock(&t->copy_mu);
		if (m != NULL &&
		    (r = keys_sad_drop(t->keys, m->id_hash, m->cred, m->owner, m->session)) != 0)
			log_error("could not delete SAD records from the key store: they stay live");
	}
	return r;
}

/* The counts left of id_hash become to (the record goes when last) only if they are still
 * from; INK_ERR_REPLAY when they are not (or the record is gone). */
static int
rec_spend(struct sad_table *t, const uint8_t id_hash[static 32], const uint8_t *from,
          size_t from_len, const uint8_t *to, size_t to_len, bool last)
{
	struct sad_entry *e;
	int r;

	if (t->shared) {
		r = keys_sad_spend(t->keys, id_hash, from, from_len, to, to_len, last);
		copy_spent(t, id_hash, from, from_len, to, to_len, last, r);
		return r;
	}
	if ((e = mem_find(t, id_hash)) == NULL || e->rec.lefts_len != from_len ||
	    memcmp(e->rec.lefts, from, from_len) != 0 || to_len != from_len)
		return INK_ERR_REPLAY;
	memcpy(e->rec.lefts, to, to_len);
	return last ? sweep(t, &(struct sad_match){ .id_hash = id_hash }) : 0;
}

/* ---- the table ---- */

int
sad_table_new(struct keys *k, struct sad_table **out)
{
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return INK_ERR_ALLOC;
	(*out)->keys = k;
	(*out)->shared = keys_sads_shared(k);
	if (pthread_mutex_init(&(*out)->copy_mu, NULL) != 0) {
		free(*out);
		*out = NULL;
		return INK_ERR_ALLOC;
	}
	if ((*out)->shared && keys_sads_open(k) != 0) {
		pthread_mutex_destroy(&(*out)->copy_mu);
		free(*out);
		*out = NULL;
		return INK_ERR_ALLOC;
	}
	return 0;
}

bool
sad_table_unlocked(const struct sad_table *t)
{
	return t->shared;
}

void
sad_table_free(struct sad_table *t)
{
	struct sad_entry *e, *n;
	size_t b;

	if (t == NULL)
		return;
	for (b = 0; b < SAD_BUCKETS; b++) {
		for (e = t->bucket[b]; e != NULL; e = n) {
			n = e->next;
			entry_free(e);
		}
	}
	pthread_mutex_destroy(&t->copy_mu);
	free(t);
}

/* The granted blob of g's hashes (duplicates become one hash allowed that many times), and its
 * lefts blob: everything allowed. */
static int
grant_encode(const struct sad_grant *g, struct keys_sad *rec)
{
	uint8_t *p;
	size_t i, j, n = 0, cap = 4;
	size_t *first = NULL;      /* first[j]: the index in g of distinct hash j */
	uint32_t *count = NULL;
	int r = INK_ERR_ALLOC;

	if ((first = calloc(g->n, sizeof(*first))) == NULL || (count = calloc(g->n, sizeof(*count))) == NULL)
		goto out;
	for (i = 0; i < g->n; i++) {
		if (g->hash_lens[i] == 0 || g->hash_lens[i] > SAD_HASH_MAX) {
			r = INK_ERR_INVALID;
			goto out;
		}
		for (j = 0; j < n; j++)
			if (g->hash_lens[first[j]] == g->hash_lens[i] &&
			    memcmp(g->hashes[first[j]], g->hashes[i], g->hash_lens[i]) == 0)
				break;
		if (j == n) {
			first[n++] = i;
			cap += 1 + g->hash_lens[i] + 4;
		}
		count[j]++;
	}
	rec->lefts_len = 4 * (n + 1);
	if ((rec->granted = malloc(cap)) == NULL || (rec->lefts = malloc(rec->lefts_len)) == NULL)
		goto out;
	rec->granted_len = cap;
	p = rec->granted;
	put_u32(p, (uint32_t)n);
	p += 4;
	put_u32(rec->lefts, (uint32_t)g->n);
	for (j = 0; j < n; j++) {
		*p++ = (uint8_t)g->hash_lens[first[j]];
		memcpy(p, g->hashes[first[j]], g->hash_lens[first[j]]);
		p += g->hash_lens[first[j]];
		put_u32(p, count[j]);
		p += 4;
		put_u32(rec->lefts + 4 * (j + 1), count[j]);
	}
	r = 0;
out:
	free(first);
	free(count);
	return r;
}

int
sad_issue(struct sad_table *t, const struct sad_grant *g, uint8_t sad[static SAD_ID_LEN])
{
	struct keys_sad rec = { 0 };
	uint8_t *seal = NULL, *mac = NULL;
	int r;

	OPENSSL_cleanse(sad, SAD_ID_LEN);
	if (g->n == 0 || g->n > SAD_MAX_HASHES || strlen(g->owner) > 32 || strlen(g->cred) > 32 ||
	    (g->serial != NULL && strlen(g->serial) >= sizeof(rec.serial)) ||
	    (g->hash_oid != NULL && strlen(g->hash_oid) >= sizeof(rec.hash_oid)))
		return INK_ERR_INVALID;
	(void)sweep(t, NULL);   /* memory only: cannot fail */
	if (!t->shared && t->live >= SAD_MAX_LIVE)
		return INK_ERR_TOO_LARGE;
	if ((seal = secmem_alloc(32)) == NULL || (mac = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(rec.owner, g->owner, strlen(g->owner) + 1);
	memcpy(rec.cred, g->cred, strlen(g->cred) + 1);
	snprintf(rec.serial, sizeof(rec.serial), "%s", g->serial != NULL ? g->serial : "");
	snprintf(rec.hash_oid, sizeof(rec.hash_oid), "%s", g->hash_oid != NULL ? g->hash_oid : "");
	memcpy(rec.session, g->session, 32);
	rec.expires = g->expires;
	if ((r = grant_encode(g, &rec)) != 0 || (r = ink_random(sad, SAD_ID_LEN)) != 0 ||
	    (r = sha256(sad, SAD_ID_LEN, rec.id_hash)) != 0 ||
	    (r = keys_sad_derive(t->keys, sad, seal, mac)) != 0 ||
	    (r = kek_seal(seal, &rec, g->kek, NULL, false)) != 0 || (r = rec_mac(mac, &rec, rec.mac)) != 0)
		goto out;
	r = rec_put(t, &rec);
out:
	if (r != 0)
		OPENSSL_cleanse(sad, SAD_ID_LEN);
	keys_sad_clear(&rec);
	secmem_free(seal);
	secmem_free(mac);
	return r;
}

/* The record of sad (fresh: from the key store, not this node's copy), its MAC checked and its
 * counts read; the kek opened into kek when not NULL. INK_ERR_AUTH: no record; INK_ERR_CRYPTO:
 * a record that is not what this SAM made for this SAD (edited in the key store), with a
 * warning in the SAM's log. */
static int
load(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN], bool fresh, struct keys_sad *rec,
     struct grant *g, uint8_t *kek)
{
	uint8_t id_hash[32], want[32];
	uint8_t *seal = NULL, *mac = NULL;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = sha256(sad, SAD_ID_LEN, id_hash)) != 0)
		return r;
	if ((r = rec_get(t, id_hash, fresh, rec)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
	if ((seal = secmem_alloc(32)) == NULL || (mac = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = keys_sad_derive(t->keys, sad, seal, mac)) != 0 || (r = rec_mac(mac, rec, want)) != 0)
		goto out;
	if (CRYPTO_memcmp(want, rec->mac, 32) != 0 || !grant_parse(rec, g) ||
	    (kek != NULL && kek_seal(seal, rec, NULL, kek, true) != 0)) {
		log_warn("a SAD's spend record fails its MAC or shape: edited in the key store");
		grant_free(g);
		r = INK_ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		keys_sad_clear(rec);
	secmem_free(seal);
	secmem_free(mac);
	return r;
}

/* The index in g of the digest h; hint is where it usually is (signHash sends the hashes in
 * the order they were authorized), so a batch is found in linear rather than quadratic time. */
static size_t
find_hash(const struct grant *g, const uint8_t *h, size_t len, size_t hint)
{
	size_t j;

	if (hint < g->n && g->len[hint] == len && CRYPTO_memcmp(g->h[hint], h, len) == 0)
		return hint;
	for (j = 0; j < g->n; j++)
		if (g->len[j] == len && CRYPTO_memcmp(g->h[j], h, len) == 0)
			return j;
	return g->n;
}

/* Takes n hashes off g's counts; INK_ERR_TOO_LARGE (more than remain), INK_ERR_NOT_AUTHORIZED
 * (a hash not, or no longer, allowed; repeats within the request counted). */
static int
take(struct grant *g, const uint8_t *const *hashes, const size_t *hash_lens, size_t n)
{
	size_t i, j;

	if (n > g->total)
		return INK_ERR_TOO_LARGE;
	for (i = 0; i < n; i++) {
		if ((j = find_hash(g, hashes[i], hash_lens[i], i)) == g->n || g->left[j] == 0)
			return INK_ERR_NOT_AUTHORIZED;
		g->left[j]--;
	}
	g->total -= (uint32_t)n;
	return 0;
}

int
sad_check(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN], const char *owner,
          const uint8_t session[static 32], const char *cred, const char *digest_oid,
          const uint8_t *const *hashes, const size_t *hash_lens, size_t n, uint8_t kek[static 32],
          char serial[static 41], struct sad_spend *sp)
{
	struct keys_sad rec;
	struct grant g;
	int r;

	OPENSSL_cleanse(kek, 32);
	serial[0] = '\0';
	if (sp != NULL)
		memset(sp, 0, sizeof(*sp));
	if ((r = load(t, sad, false, &rec, &g, kek)) != 0)
		return r;
	/* Someone else's SAD, or one from another session or for another key, is no SAD at all. */
	if (strcmp(rec.owner, owner) != 0 || CRYPTO_memcmp(rec.session, session, 32) != 0 ||
	    strcmp(rec.cred, cred) != 0)
		r = INK_ERR_AUTH;
	else if (ink_now() >= rec.expires) {
		/* refused anyway; a shared key store's row goes with the next SAD put (keys_sad_put),
		 * not here, where the caller may not hold what guards the key store */
		if (!t->shared)
			(void)sweep(t, &(struct sad_match){ .id_hash = rec.id_hash });
		r = INK_ERR_SAD_EXPIRED;
	} else if (n == 0)
		r = INK_ERR_INVALID;
	/* The bytes the signer authorized, as the digest they were shown as: not as another digest
	 * of the same length (SHA3-256 for SHA-256) under an algorithm chosen at signing. */
	else if (rec.hash_oid[0] != '\0' ? strcmp(digest_oid, rec.hash_oid) != 0 :
	         !policy_hash_is_sha2(digest_oid))
		r = INK_ERR_NOT_AUTHORIZED;
	else
		r = take(&g, hashes, hash_lens, n);
	if (r == 0 && sp != NULL) {
		/* the counts as read, and as they will be: sad_consume writes one over the other */
		if ((sp->to = lefts_encode(&g, &sp->to_len)) == NULL) {
			r = INK_ERR_ALLOC;
		} else {
			memcpy(sp->id_hash, rec.id_hash, 32);
			sp->expires = rec.expires;
			sp->from = rec.lefts;
			sp->from_len = rec.lefts_len;
			sp->last = g.total == 0;
			rec.lefts = NULL;
			rec.lefts_len = 0;
		}
	}
	if (r == 0)
		memcpy(serial, rec.serial, sizeof(rec.serial));
	else
		OPENSSL_cleanse(kek, 32);
	grant_free(&g);
	keys_sad_clear(&rec);
	return r;
}

void
sad_spend_clear(struct sad_spend *sp)
{
	free(sp->from);
	free(sp->to);
	memset(sp, 0, sizeof(*sp));
}

bool
sad_spend_with_read(const struct sad_table *t, const struct sad_spend *sp,
                    struct keys_sad_spend_req *out)
{
	if (!t->shared || sp->from == NULL || sp->to == NULL || ink_now() >= sp->expires)
		return false;
	*out = (struct keys_sad_spend_req){
		.id_hash = sp->id_hash, .from = sp->from, .from_len = sp->from_len, .to = sp->to,
		.to_len = sp->to_len, .last = sp->last,
	};
	return true;
}

void
sad_spent_with_read(struct sad_table *t, const struct sad_spend *sp, int spent)
{
	if (t->shared && spent != KEYS_SPEND_NOT_TRIED)
		copy_spent(t, sp->id_hash, sp->from, sp->from_len, sp->to, sp->to_len, sp->last, spent);
}

int
sad_consume(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN],
            const struct sad_spend *sp, const uint8_t *const *hashes,
            const size_t *hash_lens, size_t n)
{
	struct keys_sad rec;
	struct grant g;
	uint8_t *to = NULL;
	size_t to_len = 0;
	int tries, r = INK_ERR_BUSY;

	/* The spend the check prepared, if nobody spent or dropped the SAD since: one write. */
	if (sp != NULL && sp->from != NULL && sp->to != NULL) {
		if (ink_now() >= sp->expires)
			return INK_ERR_SAD_EXPIRED;
		r = rec_spend(t, sp->id_hash, sp->from, sp->from_len, sp->to, sp->to_len, sp->last);
		if (r != INK_ERR_REPLAY)
			return r;
	}
	/* Read, take, and write back only if nobody spent meanwhile; else read again. */
	for (tries = 0; tries < SPEND_TRIES; tries++) {
		if ((r = load(t, sad, true, &rec, &g, NULL)) != 0)
			return r;
		if (ink_now() >= rec.expires)
			r = INK_ERR_SAD_EXPIRED;
		else if ((r = take(&g, hashes, hash_lens, n)) == 0 &&
		         (to = lefts_encode(&g, &to_len)) == NULL)
			r = INK_ERR_ALLOC;
		if (r == 0)
			r = rec_spend(t, rec.id_hash, rec.lefts, rec.lefts_len, to, to_len, g.total == 0);
		free(to);
		to = NULL;
		grant_free(&g);
		keys_sad_clear(&rec);
		if (r != INK_ERR_REPLAY)
			return r;
	}
	return INK_ERR_BUSY;
}

int
sad_drop(struct sad_table *t, const uint8_t sad[static SAD_ID_LEN])
{
	uint8_t h[32];
	int r;

	if ((r = sha256(sad, SAD_ID_LEN, h)) != 0)
		return r;
	return sweep(t, &(struct sad_match){ .id_hash = h });
}

int
sad_drop_cred(struct sad_table *t, const char *cred)
{
	return sweep(t, &(struct sad_match){ .cred = cred });
}

int
sad_drop_owner(struct sad_table *t, const char *owner)
{
	return sweep(t, &(struct sad_match){ .owner = owner });
}

int
sad_drop_session(struct sad_table *t, const uint8_t session[static 32])
{
	return sweep(t, &(struct sad_match){ .session = session });
}
