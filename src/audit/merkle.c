/* merkle: the RFC 9162 hash tree of the audit log — canonical record bytes, leaf and node
 * hashes, the frontier that appends without the leaves, inclusion and consistency proofs. */
#include "audit/audit.h"
#include "audit/audit_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_VERSION 1

static void
put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
audit_entry_encode(const struct store_audit_rec *rec, uint8_t **out, size_t *len)
{
	const char *f[8] = { rec->actor, rec->role, rec->action, rec->subject, rec->result,
	                     rec->request_id, rec->source, rec->detail };
	size_t fl[8], total = 1 + 8 + 8, i, off;
	uint8_t *p;

	*out = NULL;
	*len = 0;
	for (i = 0; i < 8; i++) {
		fl[i] = strlen(f[i]);
		total += 4 + fl[i];
	}
	if ((p = malloc(total)) == NULL)
		return INK_ERR_ALLOC;
	p[0] = ENTRY_VERSION;
	put_u64(p + 1, (uint64_t)rec->seq);
	put_u64(p + 9, (uint64_t)rec->time);
	off = 17;
	for (i = 0; i < 8; i++) {
		put_u32(p + off, (uint32_t)fl[i]);
		memcpy(p + off + 4, f[i], fl[i]);
		off += 4 + fl[i];
	}
	*out = p;
	*len = total;
	return 0;
}

/* SHA-256 fetched once: an implicit fetch per hash would dominate the verification time. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	(void)pthread_once(&sha256_once, sha256_fetch);
	return sha256_md != NULL ? sha256_md : EVP_sha256();
}

void
audit_hash_leaf_bytes(const uint8_t *data, size_t len, uint8_t out[static AUDIT_HASH_LEN])
{
	static const uint8_t zero = 0x00;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	/* without memory there is no hash: an all-zero value never matches, so the check fails */
	memset(out, 0, AUDIT_HASH_LEN);
	if (c == NULL)
		return;
	if (EVP_DigestInit_ex(c, sha256(), NULL) != 1 || EVP_DigestUpdate(c, &zero, 1) != 1 ||
	    EVP_DigestUpdate(c, data, len) != 1 || EVP_DigestFinal_ex(c, out, NULL) != 1)
		memset(out, 0, AUDIT_HASH_LEN);
	EVP_MD_CTX_free(c);
}

int
audit_leaf_hash(const struct store_audit_rec *rec, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t *e = NULL;
	size_t n = 0;
	int r;

	if ((r = audit_entry_encode(rec, &e, &n)) != 0)
		return r;
	audit_hash_leaf_bytes(e, n, out);
	free(e);
	return 0;
}

void
audit_hash_node(const uint8_t l[static AUDIT_HASH_LEN], const uint8_t r[static AUDIT_HASH_LEN],
                uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t b[1 + 2 * AUDIT_HASH_LEN];

	b[0] = 0x01;
	memcpy(b + 1, l, AUDIT_HASH_LEN);
	memcpy(b + 1 + AUDIT_HASH_LEN, r, AUDIT_HASH_LEN);
	if (EVP_Digest(b, sizeof(b), out, NULL, sha256(), NULL) != 1)
		memset(out, 0, AUDIT_HASH_LEN);
}

void
audit_frontier_add(struct audit_frontier *f, const uint8_t leaf[static AUDIT_HASH_LEN])
{
	uint8_t cur[AUDIT_HASH_LEN];
	uint64_t k = f->size;

	memcpy(cur, leaf, AUDIT_HASH_LEN);
	/* each trailing 1 bit of the old size is a subtree as large as cur: merge them */
	while ((k & 1) != 0 && f->n > 0) {
		f->n--;
		audit_hash_node(f->h[f->n], cur, cur);
		k >>= 1;
	}
	memcpy(f->h[f->n++], cur, AUDIT_HASH_LEN);
	f->size++;
}

void
audit_frontier_root(const struct audit_frontier *f, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t r[AUDIT_HASH_LEN];
	unsigned i;

	if (f->n == 0) {
		if (EVP_Digest("", 0, out, NULL, sha256(), NULL) != 1)
			memset(out, 0, AUDIT_HASH_LEN);
		return;
	}
	memcpy(r, f->h[f->n - 1], AUDIT_HASH_LEN);
	for (i = f->n - 1; i-- > 0;)
		audit_hash_node(f->h[i], r, r);
	memcpy(out, r, AUDIT_HASH_LEN);
}

static unsigned
popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v != 0; v &= v - 1)
		n++;
	return n;
}

int
audit_frontier_load(struct audit_frontier *f, uint64_t size, const uint8_t *hashes, size_t len)
{
	unsigned n = popcount64(size);

	memset(f, 0, sizeof(*f));
	if (len != (size_t)n * AUDIT_HASH_LEN || n > AUDIT_FRONTIER_MAX)
		return INK_ERR_INVALID;
	f->size = size;
	f->n = n;
	if (len > 0)
		memcpy(f->h, hashes, len);
	return 0;
}

/* Largest power of two below n (n >= 2). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* The leaves a proof is made from: an archived prefix known only by its frontier (its
 * perfect subtrees), then the leaf hashes from prefix size on. */
struct tree {
	const struct audit_frontier *prefix;    /* NULL: no prefix */
	const uint8_t (*leaves)[AUDIT_HASH_LEN]; /* leaves[i] is leaf A + i */
	uint64_t a;                              /* prefix size */
	audit_mth_fn fn;                         /* or: every hash from here (tree.c) */
	void *arg;
};

/* MTH of the leaves [lo, hi), hi > lo; a range inside the prefix must be one of its subtrees. */
static int
mth(const struct tree *t, uint64_t lo, uint64_t hi, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];
	uint64_t k, start = 0;
	unsigned i;
	int bit, e;

	if (t->fn != NULL)
		return t->fn(t->arg, lo, hi, out);
	if (hi <= t->a) {
		for (i = 0, bit = 63; i < t->prefix->n; i++) {
			while (bit >= 0 && (t->a & ((uint64_t)1 << bit)) == 0)
				bit--;
			if (start == lo && start + ((uint64_t)1 << bit) == hi) {
				memcpy(out, t->prefix->h[i], AUDIT_HASH_LEN);
				return 0;
			}
			start += (uint64_t)1 << bit;
			bit--;
		}
		return INK_ERR_NOT_FOUND;	/* archived and not a subtree kept */
	}
	if (hi - lo == 1) {
		memcpy(out, t->leaves[lo - t->a], AUDIT_HASH_LEN);
		return 0;
	}
	k = split(hi - lo);
	if ((e = mth(t, lo, lo + k, l)) != 0 || (e = mth(t, lo + k, hi, r)) != 0)
		return e;
	audit_hash_node(l, r, out);
	return 0;
}

static int
path_add(uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen, const uint8_t h[static AUDIT_HASH_LEN])
{
	if (*plen >= AUDIT_PROOF_MAX)
		return INK_ERR_TOO_LARGE;
	memcpy(path[(*plen)++], h, AUDIT_HASH_LEN);
	return 0;
}

/* PATH(m, D[lo:hi]) with the sibling hashes appended bottom-up. */
static int
incl(const struct tree *t, uint64_t lo, uint64_t hi, uint64_t m, uint8_t (*path)[AUDIT_HASH_LEN],
     size_t *plen)
{
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t k;
	int r;

	if (hi - lo <= 1)
		return 0;
	k = split(hi - lo);
	if (m < lo + k) {
		if ((r = incl(t, lo, lo + k, m, path, plen)) != 0 || (r = mth(t, lo + k, hi, h)) != 0)
			return r;
	} else {
		if ((r = incl(t, lo + k, hi, m, path, plen)) != 0 || (r = mth(t, lo, lo + k, h)) != 0)
			return r;
	}
	return path_add(path, plen, h);
}

int
audit_inclusion_proof_after(const struct audit_frontier *prefix,
                            const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                            uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	struct tree t = { .prefix = prefix, .leaves = leaves, .a = prefix != NULL ? prefix->size : 0 };

	*plen = 0;
	if (m >= n || m < t.a)
		return INK_ERR_INVALID;
	return incl(&t, 0, n, m, path, plen);
}

int
audit_inclusion_proof(const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                      uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	return audit_inclusion_proof_after(NULL, leaves, n, m, path, plen);
}

int
audit_inclusion_proof_fn(audit_mth_fn fn, void *arg, uint64_t n, uint64_t m,
                         uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	struct tree t = { .fn = fn, .arg = arg };

	*plen = 0;
	if (fn == NULL || m >= n)
		return INK_ERR_INVALID;
	return incl(&t, 0, n, m, path, plen);
}

int
audit_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[static AUDIT_HASH_LEN],
                       const uint8_t (*path)[AUDIT_HASH_LEN], size_t plen,
                       const uint8_t root[static AUDIT_HASH_LEN])
{
	uint8_t r[AUDIT_HASH_LEN];
	uint64_t fn, sn;
	size_t i;

	if (index >= size)
		return INK_ERR_CRYPTO;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, AUDIT_HASH_LEN);
	for (i = 0; i < plen; i++) {
		if (sn == 0)
			return INK_ERR_CRYPTO;
		if ((fn & 1) != 0 || fn == sn) {
			audit_hash_node(path[i], r, r);
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			audit_hash_node(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || CRYPTO_memcmp(r, root, AUDIT_HASH_LEN) != 0)
		return INK_ERR_CRYPTO;
	return 0;
}

/* SUBPROOF(m, D[lo:hi], b). */
static int
subproof(const struct tree *t, uint64_t lo, uint64_t hi, uint64_t m, bool b,
         uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t n = hi - lo, k;
	int r;

	if (m == n) {
		if (b)
			return 0;
		if ((r = mth(t, lo, hi, h)) != 0)
			return r;
		return path_add(path, plen, h);
	}
	k = split(n);
	if (m <= k) {
		if ((r = subproof(t, lo, lo + k, m, b, path, plen)) != 0 || (r = mth(t, lo + k, hi, h)) != 0)
			return r;
	} else {
		if ((r = subproof(t, lo + k, hi, m - k, false, path, plen)) != 0 ||
		    (r = mth(t, lo, lo + k, h)) != 0)
			return r;
	}
	return path_add(path, plen, h);
}

int
audit_consistency_proof_after(const struct audit_frontier *prefix,
                              const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                              uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	struct tree t = { .prefix = prefix, .leaves = leaves, .a = prefix != NULL ? prefix->size : 0 };

	*plen = 0;
	if (m > n)
		return INK_ERR_INVALID;
	if (m == 0 || m == n)
		return 0;
	return subproof(&t, 0, n, m, true, path, plen);
}

int
audit_consistency_proof(const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint64_t m,
                        uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	return audit_consistency_proof_after(NULL, leaves, n, m, path, plen);
}

int
audit_consistency_proof_fn(audit_mth_fn fn, void *arg, uint64_t n, uint64_t m,
                           uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	struct tree t = { .fn = fn, .arg = arg };

	*plen = 0;
	if (fn == NULL || m > n)
		return INK_ERR_INVALID;
	if (m == 0 || m == n)
		return 0;
	return subproof(&t, 0, n, m, true, path, plen);
}

int
audit_consistency_verify(uint64_t m, uint64_t n, const uint8_t root1[static AUDIT_HASH_LEN],
                         const uint8_t root2[static AUDIT_HASH_LEN],
                         const uint8_t (*path)[AUDIT_HASH_LEN], size_t plen)
{
	uint8_t fr[AUDIT_HASH_LEN], sr[AUDIT_HASH_LEN];
	uint64_t fn, sn;
	size_t i = 0;

	if (m > n)
		return INK_ERR_CRYPTO;
	if (m == n)
		return plen == 0 && CRYPTO_memcmp(root1, root2, AUDIT_HASH_LEN) == 0 ? 0 :
		    INK_ERR_CRYPTO;
	if (m == 0)
		return plen == 0 ? 0 : INK_ERR_CRYPTO;
	if (plen == 0)
		return INK_ERR_CRYPTO;
	/* a first tree of a power-of-two size is itself the first node of the path */
	if ((m & (m - 1)) == 0) {
		memcpy(fr, root1, AUDIT_HASH_LEN);
	} else {
		memcpy(fr, path[0], AUDIT_HASH_LEN);
		i = 1;
	}
	memcpy(sr, fr, AUDIT_HASH_LEN);
	fn = m - 1;
	sn = n - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < plen; i++) {
		if (sn == 0)
			return INK_ERR_CRYPTO;
		if ((fn & 1) != 0 || fn == sn) {
			audit_hash_node(path[i], fr, fr);
			audit_hash_node(path[i], sr, sr);
			if ((fn & 1) == 0)
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			audit_hash_node(sr, path[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || CRYPTO_memcmp(fr, root1, AUDIT_HASH_LEN) != 0 ||
	    CRYPTO_memcmp(sr, root2, AUDIT_HASH_LEN) != 0)
		return INK_ERR_CRYPTO;
	return 0;
}

size_t
audit_head_text(const struct audit_head *h, char out[static AUDIT_HEAD_TEXT_MAX])
{
	char hex[2 * AUDIT_HASH_LEN + 1];
	int n;

	hex_encode(h->root, AUDIT_HASH_LEN, hex);
	n = snprintf(out, AUDIT_HEAD_TEXT_MAX, "inkan audit checkpoint v1\nsize=%llu\nroot=%s\ntime=%lld\n",
	             (unsigned long long)h->size, hex, (long long)h->time);
	return n < 0 ? 0 : (size_t)n;
}

int
audit_attest_verify(const char *text, const uint8_t *sig, size_t sig_len, const uint8_t *spki,
                    size_t spki_len)
{
	const uint8_t *p = spki;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	int r = INK_ERR_CRYPTO;

	if (spki == NULL || spki_len == 0 || spki_len > 4096 ||
	    (pk = d2i_PUBKEY(NULL, &p, (long)spki_len)) == NULL)
		return INK_ERR_INVALID;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, pk) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, (const uint8_t *)text, strlen(text)) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	return r;
}

/* A head's text and an attestation's are told apart by their first line: one signer, one
 * verification. */
int
audit_head_verify(const struct audit_head *h, const uint8_t *spki, size_t spki_len)
{
	char text[AUDIT_HEAD_TEXT_MAX];

	(void)audit_head_text(h, text);
	return audit_attest_verify(text, h->sig, h->sig_len, spki, spki_len);
}
