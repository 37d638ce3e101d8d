/* tree: the audit log's Merkle tree kept for proofs — the hashes of its complete subtrees of
 * TREE_CHUNK leaves and larger, read from the store once and extended as the log grows, so that
 * an inclusion or consistency proof costs O(log n) hashes and at most two reads of TREE_CHUNK
 * records instead of a rebuild of the whole tree. */
#include "audit/audit.h"
#include "audit/audit_int.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Leaves under one kept hash: 2^TREE_CHUNK_BITS. The tree then costs 64 / TREE_CHUNK bytes a record
 * (twice that while an array waits to fill after doubling), and a proof reads at most two
 * chunks of records. */
#define TREE_CHUNK_BITS 5
#define TREE_CHUNK ((uint64_t)1 << TREE_CHUNK_BITS)
#define TREE_LEVELS (64 - TREE_CHUNK_BITS)
/* Records read per query while the tree catches up with the log. */
#define TREE_PAGE (32 * TREE_CHUNK)

/* level[j][i]: the root of the perfect subtree of leaves [i << (B + j), (i + 1) << (B + j)),
 * B = TREE_CHUNK_BITS; level[0] has one hash per complete chunk of the log. */
struct level {
	uint8_t (*h)[AUDIT_HASH_LEN];
	uint64_t n, cap;
};

static pthread_mutex_t tree_mu = PTHREAD_MUTEX_INITIALIZER;   /* everything below */
static struct store *tree_st;          /* the store the kept hashes are of */
static struct level tree_lv[TREE_LEVELS];
static uint64_t tree_chunks;           /* complete chunks kept: leaves [0, tree_chunks * CHUNK) */

/* Called holding tree_mu. */
static void
forget(void)
{
	unsigned j;

	for (j = 0; j < TREE_LEVELS; j++) {
		free(tree_lv[j].h);
		tree_lv[j] = (struct level){ 0 };
	}
	tree_chunks = 0;
	tree_st = NULL;
}

void
audit_tree_forget(void)
{
	pthread_mutex_lock(&tree_mu);
	forget();
	pthread_mutex_unlock(&tree_mu);
}

static int
level_push(struct level *l, const uint8_t h[static AUDIT_HASH_LEN])
{
	uint8_t (*nv)[AUDIT_HASH_LEN];
	uint64_t cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 64 : l->cap * 2;
		if (cap > SIZE_MAX / AUDIT_HASH_LEN || (nv = realloc(l->h, (size_t)cap * AUDIT_HASH_LEN)) == NULL)
			return INK_ERR_ALLOC;
		l->h = nv;
		l->cap = cap;
	}
	memcpy(l->h[l->n++], h, AUDIT_HASH_LEN);
	return 0;
}

/* MTH of a perfect run of leaf hashes (n a power of two). */
static void
perfect_root(const uint8_t (*leaves)[AUDIT_HASH_LEN], uint64_t n, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];

	if (n == 1) {
		memcpy(out, leaves[0], AUDIT_HASH_LEN);
		return;
	}
	perfect_root(leaves, n / 2, l);
	perfect_root(leaves + n / 2, n / 2, r);
	audit_hash_node(l, r, out);
}

/* Adds one complete chunk's root and every subtree it completes. */
static int
chunk_add(const uint8_t root[static AUDIT_HASH_LEN])
{
	uint8_t cur[AUDIT_HASH_LEN];
	unsigned j = 0;
	int r;

	memcpy(cur, root, AUDIT_HASH_LEN);
	for (;;) {
		if ((r = level_push(&tree_lv[j], cur)) != 0)
			return r;
		if ((tree_lv[j].n & 1) != 0 || j + 1 >= TREE_LEVELS)
			break;
		audit_hash_node(tree_lv[j].h[tree_lv[j].n - 2], tree_lv[j].h[tree_lv[j].n - 1], cur);
		j++;
	}
	tree_chunks++;
	return 0;
}

/* The leaf hashes of records from+1 .. from+n (n at most TREE_PAGE), in order and without a
 * gap (INK_ERR_NOT_FOUND otherwise: the records do not make up the tree). */
static int
read_leaves(struct store *st, uint64_t from, uint64_t n, uint8_t (*out)[AUDIT_HASH_LEN])
{
	struct store_audit_rec *v = NULL;
	size_t got = 0, i;
	int r;

	if ((r = st->ops->audit_list(st, (int64_t)from, (size_t)n, &v, &got)) != 0)
		return r;
	if (got != n)
		r = INK_ERR_NOT_FOUND;
	for (i = 0; i < got && r == 0; i++) {
		if ((uint64_t)v[i].seq != from + i + 1)
			r = INK_ERR_NOT_FOUND;
		else
			r = audit_leaf_hash(&v[i], out[i]);
	}
	free(v);
	return r;
}

/* Brings the kept hashes up to every complete chunk of the first size records. */
static int
catch_up(struct store *st, uint64_t size)
{
	uint8_t (*leaves)[AUDIT_HASH_LEN] = NULL, root[AUDIT_HASH_LEN];
	uint64_t want = size / TREE_CHUNK, from, n, k;
	int r = 0;

	if (tree_st != st) {
		forget();
		tree_st = st;
	}
	if (tree_chunks >= want)
		return 0;
	if ((leaves = malloc(TREE_PAGE * AUDIT_HASH_LEN)) == NULL)
		return INK_ERR_ALLOC;
	while (r == 0 && tree_chunks < want) {
		from = tree_chunks * TREE_CHUNK;
		n = (want - tree_chunks) * TREE_CHUNK;
		if (n > TREE_PAGE)
			n = TREE_PAGE;
		if ((r = read_leaves(st, from, n, leaves)) != 0)
			break;
		for (k = 0; k < n && r == 0; k += TREE_CHUNK) {
			perfect_root((const uint8_t (*)[AUDIT_HASH_LEN])leaves + k, TREE_CHUNK, root);
			r = chunk_add(root);
		}
	}
	free(leaves);
	return r;
}

/* One proof's view: the kept hashes, and the leaves of at most two chunks read for it. */
struct view {
	struct store *st;
	uint64_t n;                          /* tree size */
	uint64_t chunk[2];                   /* which chunk each slot holds (UINT64_MAX: none) */
	uint8_t leaves[2][TREE_CHUNK][AUDIT_HASH_LEN];
	unsigned next;                       /* the slot to fill next */
};

static int
view_leaf(struct view *v, uint64_t i, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t root[AUDIT_HASH_LEN];
	uint64_t c = i / TREE_CHUNK, first = c * TREE_CHUNK, n;
	unsigned s;
	int r;

	for (s = 0; s < 2; s++)
		if (v->chunk[s] == c) {
			memcpy(out, v->leaves[s][i - first], AUDIT_HASH_LEN);
			return 0;
		}
	s = v->next;
	v->next ^= 1;
	v->chunk[s] = UINT64_MAX;
	n = v->n - first < TREE_CHUNK ? v->n - first : TREE_CHUNK;
	if ((r = read_leaves(v->st, first, n, v->leaves[s])) != 0)
		return r;
	/* a complete chunk must still be the one kept: a row changed since then is not proved */
	if (n == TREE_CHUNK && c < tree_chunks) {
		perfect_root((const uint8_t (*)[AUDIT_HASH_LEN])v->leaves[s], TREE_CHUNK, root);
		if (CRYPTO_memcmp(root, tree_lv[0].h[c], AUDIT_HASH_LEN) != 0)
			return INK_ERR_NOT_FOUND;
	}
	v->chunk[s] = c;
	memcpy(out, v->leaves[s][i - first], AUDIT_HASH_LEN);
	return 0;
}

/* MTH(D[lo:hi]) as RFC 9162 defines it; a perfect aligned subtree of a chunk or more is kept. */
static int
view_mth(void *arg, uint64_t lo, uint64_t hi, uint8_t out[static AUDIT_HASH_LEN])
{
	uint8_t l[AUDIT_HASH_LEN], r[AUDIT_HASH_LEN];
	struct view *v = arg;
	uint64_t w = hi - lo, k;
	unsigned j;
	int e;

	if (w == 1)
		return view_leaf(v, lo, out);
	if ((w & (w - 1)) == 0 && w >= TREE_CHUNK && lo % w == 0 && hi <= tree_chunks * TREE_CHUNK) {
		for (j = 0; ((uint64_t)TREE_CHUNK << j) < w; j++)
			;
		memcpy(out, tree_lv[j].h[lo / w], AUDIT_HASH_LEN);
		return 0;
	}
	for (k = 1; k << 1 < w; k <<= 1)
		;
	if ((e = view_mth(v, lo, lo + k, l)) != 0 || (e = view_mth(v, lo + k, hi, r)) != 0)
		return e;
	audit_hash_node(l, r, out);
	return 0;
}

/* Sets up the view of the first n records, the kept hashes brought up to them, and checks
 * that their root is root (the checkpoint's). A mismatch forgets the kept hashes, so that the
 * next proof reads them afresh, and is INK_ERR_NOT_FOUND. Called holding tree_mu. */
static int
view_open(struct view *v, struct store *st, uint64_t n, const uint8_t root[static AUDIT_HASH_LEN])
{
	uint8_t got[AUDIT_HASH_LEN];
	int r;

	memset(v, 0, sizeof(*v));
	v->st = st;
	v->n = n;
	v->chunk[0] = v->chunk[1] = UINT64_MAX;
	if (st == NULL || n == 0)
		return INK_ERR_INVALID;
	if ((r = catch_up(st, n)) != 0 || (r = view_mth(v, 0, n, got)) != 0)
		return r;
	if (CRYPTO_memcmp(got, root, AUDIT_HASH_LEN) != 0) {
		forget();
		return INK_ERR_NOT_FOUND;
	}
	return 0;
}

int
audit_tree_inclusion(struct store *st, uint64_t size, const uint8_t root[static AUDIT_HASH_LEN],
                     uint64_t m, uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	struct view *v;
	int r;

	*plen = 0;
	if (m >= size)
		return INK_ERR_INVALID;
	if ((v = malloc(sizeof(*v))) == NULL)
		return INK_ERR_ALLOC;
	pthread_mutex_lock(&tree_mu);
	if ((r = view_open(v, st, size, root)) == 0)
		r = audit_inclusion_proof_fn(view_mth, v, size, m, path, plen);
	pthread_mutex_unlock(&tree_mu);
	free(v);
	return r;
}

int
audit_tree_consistency(struct store *st, uint64_t size, const uint8_t root[static AUDIT_HASH_LEN],
                       uint64_t m, const uint8_t root_m[static AUDIT_HASH_LEN],
                       uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen)
{
	uint8_t got[AUDIT_HASH_LEN];
	struct view *v;
	int r;

	*plen = 0;
	if (m == 0 || m > size)
		return INK_ERR_INVALID;
	if ((v = malloc(sizeof(*v))) == NULL)
		return INK_ERR_ALLOC;
	pthread_mutex_lock(&tree_mu);
	if ((r = view_open(v, st, size, root)) == 0 && (r = view_mth(v, 0, m, got)) == 0) {
		/* the first tree is a prefix of these records too: otherwise the proof proves nothing */
		if (CRYPTO_memcmp(got, root_m, AUDIT_HASH_LEN) != 0)
			r = INK_ERR_NOT_FOUND;
		else
			r = audit_consistency_proof_fn(view_mth, v, size, m, path, plen);
	}
	pthread_mutex_unlock(&tree_mu);
	free(v);
	return r;
}
