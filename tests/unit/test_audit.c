/* test_audit: audit_append() stamps, bounds and stores events; audit_read() pages them back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "audit/audit.h"

/* ---- a real store on a temporary file ---- */

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/inkan-test-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/inkan.db", f->dir);
	if (store_open(f->path, &f->st) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	(void)rmdir(f->dir);
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	static const char *suffixes[] = { "", "-wal", "-shm" };
	struct fx *f = *state;
	char p[160];
	size_t i;

	store_close(f->st);
	for (i = 0; i < INK_ARRAY_LEN(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_append_read(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {
		.actor = "rita",
		.role = "registration_officer",
		.action = "user.create",
		.subject = "alice",
		.result = AUDIT_SUCCESS,
		.request_id = "req-1",
		.source = "192.0.2.7",
		.detail = "roles=signer",
	};
	struct store_audit_rec *recs = NULL;
	int64_t before, after;
	size_t n = 0;

	before = ink_now();
	assert_int_equal(audit_append(f->st, &ev), 0);
	ev.action = "auth.login";
	ev.result = "bad password";
	assert_int_equal(audit_append(f->st, &ev), 0);
	after = ink_now();

	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_true(recs[0].seq < recs[1].seq);
	assert_true(recs[0].time >= before && recs[0].time <= after);
	assert_true(recs[1].time >= recs[0].time && recs[1].time <= after);
	assert_string_equal(recs[0].actor, "rita");
	assert_string_equal(recs[0].role, "registration_officer");
	assert_string_equal(recs[0].action, "user.create");
	assert_string_equal(recs[0].subject, "alice");
	assert_string_equal(recs[0].result, "success");
	assert_string_equal(recs[0].request_id, "req-1");
	assert_string_equal(recs[0].source, "192.0.2.7");
	assert_string_equal(recs[0].detail, "roles=signer");
	assert_string_equal(recs[1].action, "auth.login");
	assert_string_equal(recs[1].result, "bad password");

	/* paging from the last seen sequence number */
	after = recs[0].seq;
	free(recs);
	recs = NULL;
	assert_int_equal(audit_read(f->st, after, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].action, "auth.login");
	free(recs);
}

static void
test_null_fields(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = { .action = "system.start" };
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	assert_int_equal(audit_append(f->st, &ev), 0);
	ev.actor = "";
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].actor, "-");
	assert_string_equal(recs[0].role, "-");
	assert_string_equal(recs[0].action, "system.start");
	assert_string_equal(recs[0].subject, "-");
	assert_string_equal(recs[0].result, "-");
	assert_string_equal(recs[0].request_id, "-");
	assert_string_equal(recs[0].source, "-");
	assert_string_equal(recs[0].detail, "-");
	assert_string_equal(recs[1].actor, "-");
	free(recs);
}

static void
test_truncation(void **state)
{
	struct fx *f = *state;
	char longname[STORE_NAME_MAX * 3], longtext[STORE_TEXT_MAX * 3];
	static char longdetail[STORE_DETAIL_MAX * 2];
	struct audit_event ev;
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longtext, 't', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	memset(longdetail, 'd', sizeof(longdetail) - 1);
	longdetail[sizeof(longdetail) - 1] = '\0';
	/* a multi-byte character cut at the end must not break anything */
	memcpy(longname + STORE_NAME_MAX - 1, "\xc3\xa9", 2);
	ev = (struct audit_event){
		.actor = longname, .role = longtext, .action = longname, .subject = longtext,
		.result = longname, .request_id = longname, .source = longname, .detail = longdetail,
	};
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(recs[0].actor), STORE_NAME_MAX);
	assert_memory_equal(recs[0].actor, longname, STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].role), STORE_TEXT_MAX);
	assert_int_equal(strlen(recs[0].action), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].subject), STORE_TEXT_MAX);
	assert_int_equal(strlen(recs[0].result), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].request_id), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].source), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].detail), STORE_DETAIL_MAX);
	free(recs);
}

static void
test_control_characters(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {
		.action = "auth.login",
		.subject = "alice\nseq=9 actor=admin action=key.destroy\r\x1b[2J\x7f",
	};
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].subject, "alice?seq=9 actor=admin action=key.destroy??[2J?");
	free(recs);
}

/* ---- a stand-in backend: what audit.c hands the store, and what it does with failures ---- */

struct fake {
	struct store base;
	struct store_audit_rec last;
	size_t last_limit;
	int fail;
};

static int
fake_audit_insert(struct store *st, const struct store_audit_rec *rec, int64_t *seq)
{
	struct fake *fk = (struct fake *)st;

	*seq = 0;
	if (fk->fail != 0)
		return fk->fail;
	fk->last = *rec;
	*seq = 1;
	return 0;
}

static int
fake_audit_list(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
    size_t *n)
{
	struct fake *fk = (struct fake *)st;

	(void)after;
	*out = NULL;
	*n = 0;
	fk->last_limit = limit;
	return fk->fail;
}

static const struct store_ops fake_ops = {
	.name = "fake",
	.audit_insert = fake_audit_insert,
	.audit_list = fake_audit_list,
};

#define GC_THREADS 8
#define GC_EACH 40

static void *
gc_worker(void *arg)
{
	struct store *st = arg;
	struct audit_event ev = { .action = "test.gc", .result = AUDIT_SUCCESS };
	int i;

	for (i = 0; i < GC_EACH; i++)
		if (audit_append(st, &ev) != 0)
			return (void *)1;
	return NULL;
}

/* Group commit: concurrent appends all land, each once, with strictly increasing numbers. */
static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	pthread_t th[GC_THREADS];
	struct store_audit_rec *recs = NULL;
	size_t n = 0, i;
	void *ret;

	for (i = 0; i < GC_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, gc_worker, f->st), 0);
	for (i = 0; i < GC_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(audit_read(f->st, 0, 1000, &recs, &n), 0);
	assert_int_equal(n, GC_THREADS * GC_EACH);
	for (i = 1; i < n; i++)
		assert_true(recs[i].seq == recs[i - 1].seq + 1);
	free(recs);
}

static void
test_read_limit_capped(void **state)
{
	struct fake fk = { .base = { .ops = &fake_ops } };
	struct store_audit_rec *recs = (void *)1;
	size_t n = 5;

	(void)state;
	assert_int_equal(audit_read(&fk.base, 0, 1000000, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 1000);
	assert_null(recs);
	assert_int_equal(n, 0);
	assert_int_equal(audit_read(&fk.base, 0, SIZE_MAX, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 1000);
	assert_int_equal(audit_read(&fk.base, 0, 7, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 7);
}

static void
test_store_failure_is_returned(void **state)
{
	struct fake fk = { .base = { .ops = &fake_ops }, .fail = INK_ERR_STORE };
	struct audit_event ev = { .action = "user.create" };

	(void)state;
	assert_int_equal(audit_append(&fk.base, &ev), INK_ERR_STORE);
	fk.fail = 0;
	assert_int_equal(audit_append(&fk.base, &ev), 0);
	assert_true(fk.last.time > 0);
	assert_int_equal(fk.last.seq, 0);
	assert_string_equal(fk.last.action, "user.create");
}


/* ---- the Merkle tree (RFC 9162) ---- */

/* Reference MTH straight from the definition, over leaf hashes. */
static void
ref_mth(uint8_t (*l)[AUDIT_HASH_LEN], size_t n, uint8_t out[AUDIT_HASH_LEN])
{
	uint8_t a[AUDIT_HASH_LEN], b[AUDIT_HASH_LEN];
	size_t k = 1;

	if (n == 1) {
		memcpy(out, l[0], AUDIT_HASH_LEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	ref_mth(l, k, a);
	ref_mth(l + k, n - k, b);
	audit_hash_node(a, b, out);
}

static void
hexeq(const uint8_t *h, const char *hex)
{
	char got[2 * AUDIT_HASH_LEN + 1];

	hex_encode(h, AUDIT_HASH_LEN, got);
	assert_string_equal(got, hex);
}

/* The certificate-transparency test vectors (RFC 6962 = RFC 9162 hashing). */
static void
test_merkle_vectors(void **state)
{
	static const struct { const char *d; size_t n; } in[8] = {
		{ "", 0 }, { "\x00", 1 }, { "\x10", 1 }, { "\x20\x21", 2 }, { "\x30\x31", 2 },
		{ "\x40\x41\x42\x43", 4 }, { "\x50\x51\x52\x53\x54\x55\x56\x57", 8 },
		{ "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f", 16 },
	};
	struct audit_frontier f;
	uint8_t leaf[AUDIT_HASH_LEN], root[AUDIT_HASH_LEN];
	size_t i;

	(void)state;
	memset(&f, 0, sizeof(f));
	audit_frontier_root(&f, root);
	hexeq(root, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (i = 0; i < 8; i++) {
		audit_hash_leaf_bytes((const uint8_t *)in[i].d, in[i].n, leaf);
		audit_frontier_add(&f, leaf);
		if (i == 0) {
			audit_frontier_root(&f, root);
			hexeq(root, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
		}
	}
	audit_frontier_root(&f, root);
	hexeq(root, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

#define MT_MAX 70

/* Every tree size up to MT_MAX: the frontier's root equals the definition; every inclusion
 * and consistency proof verifies, and fails for another leaf, root or size. */
static void
test_merkle_proofs(void **state)
{
	static uint8_t l[MT_MAX][AUDIT_HASH_LEN], roots[MT_MAX + 1][AUDIT_HASH_LEN];
	uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN], bad[AUDIT_HASH_LEN], root[AUDIT_HASH_LEN];
	struct audit_frontier f, g;
	size_t n, m, plen;
	uint8_t b;

	(void)state;
	memset(&f, 0, sizeof(f));
	for (n = 0; n < MT_MAX; n++) {
		b = (uint8_t)n;
		audit_hash_leaf_bytes(&b, 1, l[n]);
		audit_frontier_add(&f, l[n]);
		audit_frontier_root(&f, roots[n + 1]);
		ref_mth(l, n + 1, root);
		assert_memory_equal(root, roots[n + 1], AUDIT_HASH_LEN);
		/* the frontier survives its serialisation */
		assert_int_equal(audit_frontier_load(&g, f.size, f.h[0], f.n * AUDIT_HASH_LEN), 0);
		audit_frontier_root(&g, root);
		assert_memory_equal(root, roots[n + 1], AUDIT_HASH_LEN);
	}
	assert_int_equal(audit_frontier_load(&g, 3, f.h[0], AUDIT_HASH_LEN), INK_ERR_INVALID);
	for (n = 1; n <= MT_MAX; n++) {
		for (m = 0; m < n; m++) {
			assert_int_equal(audit_inclusion_proof((const uint8_t (*)[AUDIT_HASH_LEN])l, n, m, path, &plen), 0);
			assert_int_equal(audit_inclusion_verify(m, n, l[m], (const uint8_t (*)[AUDIT_HASH_LEN])path, plen, roots[n]), 0);
			assert_int_equal(audit_inclusion_verify(m, n, l[(m + 1) % n], (const uint8_t (*)[AUDIT_HASH_LEN])path, plen, roots[n]),
			                 n == 1 ? 0 : INK_ERR_CRYPTO);
			/* the path alone fits other sizes too: the signed root is what decides */
			if (n < MT_MAX)
				assert_int_equal(audit_inclusion_verify(m, n + 1, l[m], (const uint8_t (*)[AUDIT_HASH_LEN])path, plen,
				                 roots[n + 1]), INK_ERR_CRYPTO);
			if (plen > 0) {
				memcpy(bad, path[0], AUDIT_HASH_LEN);
				path[0][0] ^= 1;
				assert_int_equal(audit_inclusion_verify(m, n, l[m], (const uint8_t (*)[AUDIT_HASH_LEN])path, plen, roots[n]),
				                 INK_ERR_CRYPTO);
				memcpy(path[0], bad, AUDIT_HASH_LEN);
			}
		}
		assert_int_equal(audit_inclusion_proof((const uint8_t (*)[AUDIT_HASH_LEN])l, n, n, path, &plen), INK_ERR_INVALID);
		for (m = 1; m <= n; m++) {
			assert_int_equal(audit_consistency_proof((const uint8_t (*)[AUDIT_HASH_LEN])l, n, m, path, &plen), 0);
			assert_int_equal(audit_consistency_verify(m, n, roots[m], roots[n], (const uint8_t (*)[AUDIT_HASH_LEN])path, plen), 0);
			if (m < n) {
				/* another first tree is not a prefix */
				assert_int_equal(audit_consistency_verify(m, n, roots[m + 1], roots[n],
				                 (const uint8_t (*)[AUDIT_HASH_LEN])path, plen), INK_ERR_CRYPTO);
				assert_int_equal(audit_consistency_verify(m, n, roots[m], roots[n - 1],
				                 (const uint8_t (*)[AUDIT_HASH_LEN])path, plen), INK_ERR_CRYPTO);
			}
		}
	}
}

/* Appends records seq from+1 .. to to the store, as one commit each 64. */
static void
tree_fill(struct store *st, int from, int to)
{
	static struct store_audit_rec recs[64];
	const struct store_audit_rec *p[64];
	int64_t seqs[64];
	struct audit_event ev = { .actor = "alice", .action = "csc.signHash", .result = AUDIT_SUCCESS };
	char detail[32];
	int i, k;

	for (i = from; i < to;) {
		for (k = 0; k < 64 && i < to; k++, i++) {
			snprintf(detail, sizeof(detail), "record %d", i + 1);
			ev.detail = detail;
			audit_record_fill(&recs[k], &ev, 1700000000 + i);
			p[k] = &recs[k];
		}
		assert_int_equal(st->ops->audit_insert_batch(st, p, (size_t)k, seqs), 0);
	}
}

/* The proofs from the kept tree are those of the whole tree rebuilt, hash for hash, for every
 * leaf at sizes around the kept chunks (32 leaves), as the log grows under it; a root the
 * records do not make is refused. */
static void
test_tree_proofs(void **state)
{
	static const uint64_t sizes[] = { 1, 2, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 200, 256, 300 };
	uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN], want[AUDIT_PROOF_MAX][AUDIT_HASH_LEN];
	uint8_t root[AUDIT_HASH_LEN], root_m[AUDIT_HASH_LEN], bad[AUDIT_HASH_LEN];
	uint8_t (*l)[AUDIT_HASH_LEN] = NULL;
	struct audit_frontier prefix, f;
	struct fx *fx = *state;
	size_t plen, wlen, i, k;
	uint64_t n, m, have = 0;

	audit_tree_forget();
	for (i = 0; i < INK_ARRAY_LEN(sizes); i++) {
		n = sizes[i];
		tree_fill(fx->st, (int)have, (int)n);
		have = n;
		assert_int_equal(audit_read_leaves(fx->st, n, &prefix, &l), 0);
		memset(&f, 0, sizeof(f));
		for (k = 0; k < n; k++)
			audit_frontier_add(&f, l[k]);
		audit_frontier_root(&f, root);
		for (m = 0; m < n; m++) {
			assert_int_equal(audit_inclusion_proof((const uint8_t (*)[AUDIT_HASH_LEN])l, n, m, want, &wlen), 0);
			assert_int_equal(audit_tree_inclusion(fx->st, n, root, m, path, &plen), 0);
			assert_int_equal(plen, wlen);
			assert_memory_equal(path, want, wlen * AUDIT_HASH_LEN);
		}
		for (m = 1; m <= n; m++) {
			memset(&f, 0, sizeof(f));
			for (k = 0; k < m; k++)
				audit_frontier_add(&f, l[k]);
			audit_frontier_root(&f, root_m);
			assert_int_equal(audit_consistency_proof((const uint8_t (*)[AUDIT_HASH_LEN])l, n, m, want, &wlen), 0);
			assert_int_equal(audit_tree_consistency(fx->st, n, root, m, root_m, path, &plen), 0);
			assert_int_equal(plen, wlen);
			assert_memory_equal(path, want, wlen * AUDIT_HASH_LEN);
		}
		free(l);
		l = NULL;
	}
	/* a root the records do not make, a first tree that is not theirs, a record not there */
	memcpy(bad, root, AUDIT_HASH_LEN);
	bad[0] ^= 1;
	assert_int_equal(audit_tree_inclusion(fx->st, have, bad, 0, path, &plen), INK_ERR_NOT_FOUND);
	assert_int_equal(audit_tree_inclusion(fx->st, have, root, 0, path, &plen), 0);
	assert_int_equal(audit_tree_consistency(fx->st, have, root, 5, bad, path, &plen), INK_ERR_NOT_FOUND);
	assert_int_equal(audit_tree_inclusion(fx->st, have + 40, root, 0, path, &plen), INK_ERR_NOT_FOUND);
	assert_int_equal(audit_tree_inclusion(fx->st, have, root, have, path, &plen), INK_ERR_INVALID);
	audit_tree_forget();
}

/* The records with seq > after and this action. */
static size_t
count_action(struct store *st, int64_t after, const char *action, struct store_audit_rec *last)
{
	struct store_audit_rec *v = NULL;
	size_t n = 0, i, k = 0;

	assert_int_equal(audit_read(st, after, 1000, &v, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(v[i].action, action) == 0) {
			k++;
			if (last != NULL)
				*last = v[i];
		}
	free(v);
	return k;
}

/* Every record with seq > after (audit_read gives at most 1000 at a time); *v malloc'd. */
static void
read_all(struct store *st, int64_t after, struct store_audit_rec **v, size_t *n)
{
	struct store_audit_rec *page = NULL, *all = NULL;
	size_t k = 0, m;

	for (;;) {
		assert_int_equal(audit_read(st, after, 1000, &page, &m), 0);
		assert_non_null(all = realloc(all, (k + m + 1) * sizeof(*all)));
		if (m > 0)
			memcpy(all + k, page, m * sizeof(*page));
		k += m;
		free(page);
		page = NULL;
		if (m < 1000)
			break;
		after = all[k - 1].seq;
	}
	*v = all;
	*n = k;
}

static void
refuse(struct audit_refusals *ar, const char *src, const char *action, const char *why)
{
	struct audit_event ev = { .action = action, .result = why, .source = src, .subject = "/x" };

	assert_int_equal(audit_refusal(ar, &ev, NULL), 0);
}

/* 400 refusals from one source: 5 records of their own and one with the count of all 400,
 * written when the interval is over (not before) or at once when asked (shutdown); each
 * action has its own allowance; sources beyond the table and kinds beyond 8 are counted, not
 * dropped. */
static void
test_refusals(void **state)
{
	struct fx *fx = *state;
	struct audit_refusals *ar = NULL;
	struct store_audit_rec rec;
	json_t *d;
	char src[32], why[32];
	int64_t next = 0, last = 0;
	int i;

	assert_int_equal(audit_refusals_new(fx->st, 60, 5, 3, &ar), INK_ERR_INVALID);
	assert_int_equal(audit_refusals_new(fx->st, 60, 5, 4, &ar), 0);
	for (i = 0; i < 400; i++)
		refuse(ar, "10.0.0.1", "auth.token", "no bearer token");
	for (i = 0; i < 7; i++)
		refuse(ar, "10.0.0.1", "tsa.timestamp", "rate limited");
	assert_int_equal(count_action(fx->st, 0, "auth.token", NULL), 5);
	assert_int_equal(count_action(fx->st, 0, "tsa.timestamp", NULL), 5);
	/* the interval is not over: nothing yet */
	assert_int_equal(audit_refusals_flush(ar, false, &next), 0);
	assert_true(next >= ink_now() + 59);
	assert_int_equal(count_action(fx->st, 0, "audit.refusals", NULL), 0);
	assert_int_equal(audit_refusals_flush(ar, true, &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(count_action(fx->st, 0, "audit.refusals", &rec), 1);
	assert_string_equal(rec.source, "10.0.0.1");
	assert_string_equal(rec.result, "aggregated");
	assert_non_null(d = json_loads(rec.detail, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(d, "total")), 407);
	assert_int_equal(json_integer_value(json_object_get(d, "recorded")), 10);
	assert_int_equal(json_integer_value(json_object_get(d, "counted")), 397);
	assert_int_equal(json_integer_value(json_object_get(d, "interval")), 60);
	assert_int_equal(json_array_size(json_object_get(d, "refusals")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(d, "refusals"), 0),
	                                                   "count")), 400);
	json_decref(d);
	/* nothing counted since: nothing more */
	assert_int_equal(audit_refusals_flush(ar, true, &next), 0);
	assert_int_equal(count_action(fx->st, 0, "audit.refusals", NULL), 1);
	{
		struct store_audit_rec *v = NULL;
		size_t n = 0;

		assert_int_equal(audit_read(fx->st, 0, 1000, &v, &n), 0);
		last = n > 0 ? v[n - 1].seq : 0;
		free(v);
	}
	/* a new interval: the allowance again; four sources in a table of 4 (3 usable), and
	 * eleven kinds from one source */
	for (i = 0; i < 4; i++) {
		snprintf(src, sizeof(src), "10.0.1.%d", i);
		refuse(ar, src, "auth.token", "no bearer token");
		refuse(ar, src, "auth.token", "no bearer token");
	}
	for (i = 0; i < 11; i++) {
		snprintf(why, sizeof(why), "reason %d", i);
		refuse(ar, "10.0.1.0", "auth.login", why);
	}
	/* 3 sources x 2, and 5 of the 8 kinds that have a slot: 11 records of their own */
	assert_int_equal(count_action(fx->st, last, "auth.token", NULL), 6);
	assert_int_equal(count_action(fx->st, last, "auth.login", NULL), 5);
	assert_int_equal(audit_refusals_flush(ar, true, &next), 0);
	assert_int_equal(count_action(fx->st, last, "audit.refusals", NULL), 2);
	{
		struct store_audit_rec *v = NULL;
		size_t n = 0, k, seen = 0;

		assert_int_equal(audit_read(fx->st, last, 1000, &v, &n), 0);
		for (k = 0; k < n; k++) {
			if (strcmp(v[k].action, "audit.refusals") != 0)
				continue;
			assert_non_null(d = json_loads(v[k].detail, 0, NULL));
			if (strcmp(v[k].source, "other-sources") == 0) {
				assert_int_equal(json_integer_value(json_object_get(d, "total")), 2);
				assert_int_equal(json_integer_value(json_object_get(d, "recorded")), 0);
				seen |= 1;
			} else {
				assert_string_equal(v[k].source, "10.0.1.0");
				assert_int_equal(json_integer_value(json_object_get(d, "total")), 13);
				assert_int_equal(json_integer_value(json_object_get(d, "recorded")), 7);
				assert_int_equal(json_integer_value(json_object_get(d, "other_reasons")), 4);
				seen |= 2;
			}
			json_decref(d);
		}
		free(v);
		assert_int_equal(seen, 3);
	}
	audit_refusals_free(ar);

	/* Many sources flood no more than one: past AUDIT_REFUSAL_SINGLES records of their own in
	 * an interval, every refusal is counted only; and a key groups addresses (an IPv6 /64). */
	{
		struct store_audit_rec *v = NULL;
		struct audit_event ev = { .action = "auth.token", .result = "no bearer token",
		                          .subject = "/x" };
		size_t n = 0, k, own = 0;
		int64_t after = 0;

		read_all(fx->st, 0, &v, &n);
		after = n > 0 ? v[n - 1].seq : 0;
		free(v);
		assert_int_equal(audit_refusals_new(fx->st, 60, 5, 4096, &ar), 0);
		for (i = 0; i < AUDIT_REFUSAL_SINGLES + 100; i++) {
			snprintf(src, sizeof(src), "10.2.%d.%d", i / 250, i % 250);
			ev.source = src;
			assert_int_equal(audit_refusal(ar, &ev, NULL), 0);
		}
		for (i = 0; i < 10; i++) {
			snprintf(src, sizeof(src), "2001:db8:0:1::%d", i + 1);
			ev.source = src;
			assert_int_equal(audit_refusal(ar, &ev, "2001:db8:0:1::/64"), 0);
		}
		read_all(fx->st, after, &v, &n);
		for (k = 0; k < n; k++)
			own += strcmp(v[k].action, "auth.token") == 0;
		free(v);
		assert_int_equal(own, AUDIT_REFUSAL_SINGLES);
		assert_int_equal(audit_refusals_flush(ar, true, &next), 0);
		read_all(fx->st, after, &v, &n);
		for (k = 0, own = 0; k < n; k++) {
			if (strcmp(v[k].action, "audit.refusals") != 0)
				continue;
			own++;
			if (strcmp(v[k].source, "2001:db8:0:1::/64") == 0) {
				assert_non_null(d = json_loads(v[k].detail, 0, NULL));
				assert_int_equal(json_integer_value(json_object_get(d, "total")), 10);
				assert_int_equal(json_integer_value(json_object_get(d, "recorded")), 0);
				json_decref(d);
			}
		}
		free(v);
		/* the 100 sources past the cap and the /64 each have their count */
		assert_int_equal(own, 101);
		audit_refusals_free(ar);
	}
}

/* ---- checkpoints, bundles and the verifier, with an in-process signer ---- */

struct signer {
	EVP_PKEY *key;
	struct audit_frontier f;
	int calls;
};

static int
test_sign(void *arg, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN], size_t n,
          struct audit_head *out)
{
	struct signer *sg = arg;
	char text[AUDIT_HEAD_TEXT_MAX];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t i, tl, sl = sizeof(out->sig);

	sg->calls++;
	if (md == NULL || from != sg->f.size) {
		EVP_MD_CTX_free(md);
		return INK_ERR_EXISTS;
	}
	for (i = 0; i < n; i++)
		audit_frontier_add(&sg->f, leaves[i]);
	memset(out, 0, sizeof(*out));
	out->size = sg->f.size;
	audit_frontier_root(&sg->f, out->root);
	out->time = ink_now();
	tl = audit_head_text(out, text);
	if (EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, sg->key) != 1 ||
	    EVP_DigestSign(md, out->sig, &sl, (const uint8_t *)text, tl) != 1)
		abort();
	out->sig_len = sl;
	EVP_MD_CTX_free(md);
	return 0;
}

static void
test_checkpoint_and_verify(void **state)
{
	struct fx *f = *state;
	struct signer sg = { 0 };
	struct audit_event ev = { .actor = "alice", .action = "csc.signHash", .result = AUDIT_SUCCESS };
	struct audit_verify_report rep;
	struct audit_head h;
	struct store_audit_rec *recs = NULL, *rec;
	uint8_t *spki = NULL;
	json_t *b = NULL, *cp;
	uint64_t rec_n = 0, foreign = 0;
	int64_t seq = 0;
	size_t n = 0;
	int i, len;

	assert_non_null(sg.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	assert_true((len = i2d_PUBKEY(sg.key, &spki)) > 0);
	assert_int_equal(audit_log_start(f->st, 0, false, test_sign, &sg, &rec_n, &foreign), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_checkpoint(f->st, &h), 0);
	assert_int_equal(h.size, 10);
	assert_int_equal(audit_head_verify(&h, spki, (size_t)len), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_checkpoint(f->st, &h), 0);
	assert_int_equal(h.size, 15);
	/* a head altered after signing no longer verifies */
	h.size++;
	assert_int_equal(audit_head_verify(&h, spki, (size_t)len), INK_ERR_CRYPTO);
	h.size--;

	/* a full bundle verifies; a partial one too */
	assert_int_equal(audit_bundle_build(f->st, 1, 0, spki, (size_t)len, &h, &b), 0);
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), 0);
	assert_int_equal(rep.records, 15);
	assert_int_equal(rep.checkpoints, 3);
	assert_int_equal(rep.covered, 15);
	json_decref(b);
	assert_int_equal(audit_bundle_build(f->st, 4, 12, spki, (size_t)len, &h, &b), 0);
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), 0);
	assert_int_equal(rep.first_seq, 4);
	assert_int_equal(rep.last_seq, 12);
	assert_int_equal(rep.checkpoints, 1);
	json_decref(b);

	/* a changed record names the range; a checkpoint over more records names the cut */
	assert_int_equal(audit_bundle_build(f->st, 1, 0, spki, (size_t)len, &h, &b), 0);
	json_object_set_new(json_array_get(json_object_get(b, "records"), 11), "actor", json_string("bob"));
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), INK_ERR_CRYPTO);
	assert_non_null(strstr(rep.error, "seq 11..15"));
	assert_int_equal(rep.bad_seq, 11);
	json_decref(b);
	assert_int_equal(audit_bundle_build(f->st, 1, 0, spki, (size_t)len, &h, &b), 0);
	assert_int_equal(json_array_remove(json_object_get(b, "records"), 14), 0);
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), INK_ERR_CRYPTO);
	assert_non_null(strstr(rep.error, "records 15..15 are missing"));
	/* a checkpoint whose signature does not fit */
	cp = json_array_get(json_object_get(b, "checkpoints"), 0);
	json_object_set_new(cp, "time", json_integer(json_integer_value(json_object_get(cp, "time")) + 1));
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), INK_ERR_CRYPTO);
	assert_non_null(strstr(rep.error, "signature does not verify"));
	json_decref(b);

	/* a row not written by audit_append is never signed: the next checkpoint does not match */
	assert_int_equal(audit_read(f->st, 14, 1, &recs, &n), 0);
	assert_int_equal(n, 1);
	rec = &recs[0];
	snprintf(rec->actor, sizeof(rec->actor), "mallory");
	assert_int_equal(f->st->ops->audit_insert(f->st, rec, &seq), 0);
	free(recs);
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_checkpoint(f->st, &h), 0);
	assert_int_equal(h.size, 16);
	assert_int_equal(audit_bundle_build(f->st, 1, 0, spki, (size_t)len, &h, &b), 0);
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), INK_ERR_CRYPTO);
	assert_int_equal(rep.bad_seq, 16);
	json_decref(b);

	audit_log_stop();
	OPENSSL_free(spki);
	EVP_PKEY_free(sg.key);
}

/* Several nodes on one database: the signer's head moves on under another node, and rows
 * other nodes wrote lie between this node's own. */
struct shared_signer {
	struct signer sg;
	struct store *st;
};

static int
shared_sign(void *arg, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN], size_t n,
            struct audit_head *out)
{
	struct shared_signer *ss = arg;
	uint64_t rec_n = 0, foreign = 0;
	int r = test_sign(&ss->sg, from, leaves, n, out);

	/* as inkand's sign_head: read back from the signer's head */
	if (r == INK_ERR_EXISTS &&
	    audit_log_start(ss->st, ss->sg.f.size, false, shared_sign, ss, &rec_n, &foreign) != 0)
		abort();
	return r;
}

/* Another node: a row of its own, straight into the shared database. */
static void
other_node_writes(struct store *st, const char *actor)
{
	struct audit_event ev = { .actor = actor, .action = "csc.signHash", .result = AUDIT_SUCCESS };
	struct store_audit_rec rec;
	int64_t seq = 0;

	audit_record_fill(&rec, &ev, ink_now());
	assert_int_equal(st->ops->audit_insert(st, &rec, &seq), 0);
}

static void
test_shared_checkpoints(void **state)
{
	struct fx *f = *state;
	struct shared_signer ss = { .st = f->st };
	struct audit_event ev = { .actor = "alice", .action = "csc.signHash", .result = AUDIT_SUCCESS };
	struct audit_verify_report rep;
	struct audit_head h;
	struct store_audit_rec *recs = NULL;
	uint8_t *spki = NULL, leaf[AUDIT_HASH_LEN];
	uint64_t rec_n = 0, foreign = 0;
	json_t *b = NULL;
	size_t n = 0, i;
	int len;

	assert_non_null(ss.sg.key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	assert_true((len = i2d_PUBKEY(ss.sg.key, &spki)) > 0);
	audit_log_shared(true);
	/* a clean stop's head: on a shared database the rows above it are other nodes' */
	other_node_writes(f->st, "node-b");
	assert_int_equal(audit_log_start(f->st, 0, true, shared_sign, &ss, &rec_n, &foreign), 0);
	assert_int_equal(foreign, 0);
	assert_int_equal(rec_n, 1);
	assert_int_equal(audit_append(f->st, &ev), 0);
	other_node_writes(f->st, "node-b");
	assert_int_equal(audit_append(f->st, &ev), 0);
	/* every node's rows, in the database's order */
	assert_int_equal(audit_checkpoint(f->st, &h), 0);
	assert_int_equal(h.size, 4);
	/* another node's SAM signs the next two first */
	other_node_writes(f->st, "node-b");
	other_node_writes(f->st, "node-b");
	assert_int_equal(audit_read(f->st, 4, 10, &recs, &n), 0);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(audit_leaf_hash(&recs[i], leaf), 0);
		audit_frontier_add(&ss.sg.f, leaf);
	}
	free(recs);
	assert_int_equal(audit_append(f->st, &ev), 0);
	/* this node's checkpoint from 4 is refused, and the retry extends the other's head */
	ss.sg.calls = 0;
	assert_int_equal(audit_checkpoint(f->st, &h), 0);
	assert_int_equal(ss.sg.calls, 2);
	assert_int_equal(h.size, 7);
	assert_int_equal(audit_bundle_build(f->st, 1, 0, spki, (size_t)len, &h, &b), 0);
	assert_int_equal(audit_bundle_verify(b, NULL, &rep), 0);
	assert_int_equal(rep.records, 7);
	assert_int_equal(rep.covered, 7);
	json_decref(b);

	audit_log_stop();
	OPENSSL_free(spki);
	EVP_PKEY_free(ss.sg.key);
}

/* Records stamped ahead of the clock (as if it had been set back since): the next append
 * is preceded by a clock.backwards event. */
static void
test_clock_backwards(void **state)
{
	struct fx *f = *state;
	struct signer sg = { 0 };
	struct audit_event ev = { .action = "user.show", .result = AUDIT_SUCCESS };
	struct store_audit_rec ahead, *recs = NULL;
	uint64_t rec_n = 0, foreign = 0;
	int64_t seq = 0;
	size_t n = 0;

	memset(&ahead, 0, sizeof(ahead));
	ahead.time = ink_now() + 3600;
	snprintf(ahead.action, sizeof(ahead.action), "user.create");
	snprintf(ahead.actor, sizeof(ahead.actor), "-");
	assert_int_equal(f->st->ops->audit_insert(f->st, &ahead, &seq), 0);
	assert_int_equal(audit_log_start(f->st, 0, false, test_sign, &sg, &rec_n, &foreign), 0);
	assert_int_equal(rec_n, 1);
	audit_set_clock_tolerance(5);
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(recs[1].action, "clock.backwards");
	assert_non_null(strstr(recs[1].detail, "clock went back"));
	assert_string_equal(recs[2].action, "user.show");
	free(recs);
	audit_log_stop();
}

/* The verdicts that rest on the SAM's signed claims: the rules the CLI recomputes. */
static void
test_sam_verdicts(void **state)
{
	json_t *cl = NULL;
	const char *ids[16];
	char note[512];
	bool met = true, whole = false;

	(void)state;
	assert_int_equal(audit_attest_parse(AUDIT_ATTEST_PREFIX "uid=0\nmaster_key_file=0600 uid 0\n"
	                                    "key_backend=soft\npkcs11_token_kind=none\n"
	                                    "pkcs11_required=no\npersons_registration_officer=0\n"
	                                    "privileged_signers=0\nall_privileged_roles_held=0\n"
	                                    "security_officer_conflicts=0\npersons_security_officer=1\n"
	                                    "max_login_failures=5\npin_max_failures=11\nsad_ttl=300\n"
	                                    "level_sad_ttl_max=600\nmultisign=100\n"
	                                    "level_multisign_max=100\nrsa2048=refused\n", &cl), 0);
	assert_true(audit_sam_controls(ids, INK_ARRAY_LEN(ids)) >= 8);
	assert_int_equal(audit_sam_verdict(cl, "9.2.1", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	assert_true(whole);
	assert_non_null(strstr(note, "registration officer"));
	assert_int_equal(audit_sam_verdict(cl, "9.2.3", &met, &whole, note, sizeof(note)), 0);
	assert_true(met);
	assert_int_equal(audit_sam_verdict(cl, "9.4.1", &met, &whole, note, sizeof(note)), 0);
	assert_true(met);
	assert_int_equal(audit_sam_verdict(cl, "10.1.2", &met, &whole, note, sizeof(note)), 0);
	assert_true(met);
	/* only part of 9.2.4 and of privsep is the SAM's: not met there, not met at all */
	assert_int_equal(audit_sam_verdict(cl, "9.2.4", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	assert_false(whole);
	assert_int_equal(audit_sam_verdict(cl, "privsep", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	assert_false(whole);
	assert_int_equal(audit_sam_verdict(cl, "12.4.4", &met, &whole, note, sizeof(note)),
	                 INK_ERR_NOT_FOUND);
	/* a master key others may read, a ceiling passed, a claim missing: not met */
	json_object_set_new(cl, "master_key_file", json_string("0644 uid 0"));
	json_object_set_new(cl, "sad_ttl", json_string("900"));
	json_object_del(cl, "persons_security_officer");
	assert_int_equal(audit_sam_verdict(cl, "10.1.2", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	assert_int_equal(audit_sam_verdict(cl, "9.4.1", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	assert_int_equal(audit_sam_verdict(cl, "9.2.3", &met, &whole, note, sizeof(note)), 0);
	assert_false(met);
	json_decref(cl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sam_verdicts),
		cmocka_unit_test(test_merkle_vectors),
		cmocka_unit_test(test_merkle_proofs),
		cmocka_unit_test_setup_teardown(test_tree_proofs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_checkpoints, setup, teardown),
		cmocka_unit_test(test_read_limit_capped),
		cmocka_unit_test(test_store_failure_is_returned),
	};

	ink_log_init("test_audit", INK_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
