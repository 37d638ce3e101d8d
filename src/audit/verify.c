/* verify: recomputes the audit log's Merkle tree from its records and checks it against every
 * signed checkpoint; the first problem is reported with the record or range it concerns. */
#include "audit/audit.h"

#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct audit_verifier {
	struct audit_frontier f;
	struct store_checkpoint *cps;    /* sorted by size (then id) */
	size_t ncp, next;                /* next checkpoint to meet */
	uint64_t good;                   /* size of the last checkpoint that matched */
	struct audit_verify_report *rep;
	bool failed;
};

static int
fail(struct audit_verifier *v, int64_t bad_seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct audit_verifier *v, int64_t bad_seq, const char *fmt, ...)
{
	va_list ap;

	if (!v->failed) {
		va_start(ap, fmt);
		vsnprintf(v->rep->error, sizeof(v->rep->error), fmt, ap);
		va_end(ap);
		v->rep->bad_seq = bad_seq;
		v->failed = true;
	}
	return INK_ERR_CRYPTO;
}

static int
cmp_cp(const void *a, const void *b)
{
	const struct store_checkpoint *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

void
audit_verifier_free(struct audit_verifier *v)
{
	if (v == NULL)
		return;
	free(v->cps);
	free(v);
}

/* Checks every checkpoint of the current size against the recomputed root. */
static int
meet(struct audit_verifier *v)
{
	const struct store_checkpoint *c;
	uint8_t root[AUDIT_HASH_LEN];
	bool have = false;

	while (v->next < v->ncp && (uint64_t)v->cps[v->next].size == v->f.size) {
		c = &v->cps[v->next];
		if (!have) {
			audit_frontier_root(&v->f, root);
			have = true;
		}
		if (CRYPTO_memcmp(root, c->root, AUDIT_HASH_LEN) != 0)
			return fail(v, (int64_t)v->good + 1,
			            "checkpoint %lld (size %lld) does not match the records: a record in "
			            "seq %llu..%lld was changed, swapped, inserted or removed",
			            (long long)c->id, (long long)c->size, (unsigned long long)v->good + 1,
			            (long long)c->size);
		v->good = v->f.size;
		v->rep->covered = v->good;
		v->rep->checkpoints++;
		v->next++;
	}
	return 0;
}

int
audit_verifier_new(const uint8_t *spki, size_t spki_len, const struct store_checkpoint *cps,
                   size_t ncp, uint64_t prefix_size, const uint8_t *frontier, size_t flen,
                   struct audit_verify_report *rep, struct audit_verifier **out)
{
	struct audit_verifier *v = NULL;
	struct audit_head h;
	size_t i, k;
	int r;

	*out = NULL;
	memset(rep, 0, sizeof(*rep));
	if (spki == NULL || spki_len == 0)
		return INK_ERR_INVALID;
	audit_key_fingerprint(spki, spki_len, rep->key_sha256);
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return INK_ERR_ALLOC;
	v->rep = rep;
	if (ncp > 0 && (v->cps = calloc(ncp, sizeof(*v->cps))) == NULL) {
		free(v);
		return INK_ERR_ALLOC;
	}
	if ((r = audit_frontier_load(&v->f, prefix_size, frontier, flen)) != 0) {
		r = fail(v, (int64_t)prefix_size + 1, "the frontier before seq %llu is malformed",
		         (unsigned long long)prefix_size + 1);
		goto out;
	}
	v->good = prefix_size;
	for (i = 0, k = 0; i < ncp; i++) {
		memset(&h, 0, sizeof(h));
		h.size = (uint64_t)cps[i].size;
		memcpy(h.root, cps[i].root, AUDIT_HASH_LEN);
		h.time = cps[i].time;
		if (cps[i].sig_len > sizeof(h.sig) || cps[i].size < 0) {
			r = fail(v, 0, "checkpoint %lld is malformed", (long long)cps[i].id);
			goto out;
		}
		memcpy(h.sig, cps[i].sig, cps[i].sig_len);
		h.sig_len = cps[i].sig_len;
		if (audit_head_verify(&h, spki, spki_len) != 0) {
			r = fail(v, 0, "checkpoint %lld (size %lld): the signature does not verify with "
			         "the log key", (long long)cps[i].id, (long long)cps[i].size);
			goto out;
		}
		/* heads before the first record given cannot be recomputed here */
		if ((uint64_t)cps[i].size >= prefix_size)
			v->cps[k++] = cps[i];
	}
	v->ncp = k;
	if (k > 0)
		qsort(v->cps, k, sizeof(*v->cps), cmp_cp);
	if ((r = meet(v)) != 0)
		goto out;
	*out = v;
	v = NULL;
out:
	audit_verifier_free(v);
	return r;
}

int
audit_verifier_add(struct audit_verifier *v, const struct store_audit_rec *rec)
{
	uint8_t leaf[AUDIT_HASH_LEN];
	uint64_t want = v->f.size + 1;
	int r;

	if (v->failed)
		return INK_ERR_CRYPTO;
	if (v->rep->records == 0)
		v->rep->first_seq = (uint64_t)rec->seq;
	v->rep->records++;
	if (rec->seq <= 0 || (uint64_t)rec->seq != want) {
		if (rec->seq > 0 && (uint64_t)rec->seq > want)
			return fail(v, (int64_t)want, "record seq %llu is missing (the next record is "
			            "seq %lld)", (unsigned long long)want, (long long)rec->seq);
		return fail(v, rec->seq, "record seq %lld is out of order or duplicated (expected "
		            "seq %llu)", (long long)rec->seq, (unsigned long long)want);
	}
	if ((r = audit_leaf_hash(rec, leaf)) != 0)
		return r;
	audit_frontier_add(&v->f, leaf);
	v->rep->last_seq = (uint64_t)rec->seq;
	return meet(v);
}

int
audit_verifier_finish(struct audit_verifier *v)
{
	const struct store_checkpoint *c;

	if (v->failed)
		return INK_ERR_CRYPTO;
	if (v->next < v->ncp) {
		c = &v->cps[v->next];
		return fail(v, (int64_t)v->f.size + 1, "checkpoint %lld covers %lld records but the "
		            "log ends at seq %llu: records %llu..%lld are missing (truncated)",
		            (long long)c->id, (long long)c->size, (unsigned long long)v->f.size,
		            (unsigned long long)v->f.size + 1, (long long)c->size);
	}
	return 0;
}

void
audit_verifier_frontier(const struct audit_verifier *v, struct audit_frontier *out)
{
	*out = v->f;
}

int
audit_store_verify(struct store *st, const uint8_t *spki, size_t spki_len,
                   int (*fn)(void *arg, const struct store_audit_rec *rec), void *arg,
                   struct store_checkpoint *last, struct audit_verify_report *rep)
{
	struct audit_verifier *v = NULL;
	struct store_checkpoint *cps = NULL;
	struct store_audit_rec *recs = NULL;
	size_t ncp = 0, n = 0, i;
	int64_t after = 0;
	int r;

	memset(last, 0, sizeof(*last));
	memset(rep, 0, sizeof(*rep));
	if ((r = st->ops->checkpoint_list(st, 0, INT64_MAX, &cps, &ncp)) != 0)
		return r;
	for (i = 0; i < ncp; i++)
		if (cps[i].size > last->size || (cps[i].size == last->size && cps[i].id > last->id))
			*last = cps[i];
	/* every record stays in the store: the tree starts empty */
	if ((r = audit_verifier_new(spki, spki_len, cps, ncp, 0, NULL, 0, rep, &v)) != 0)
		goto out;
	rep->anchored = true;   /* the caller's key */
	do {
		free(recs);
		recs = NULL;
		if ((r = audit_read(st, after, 1000, &recs, &n)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if ((r = audit_verifier_add(v, &recs[i])) != 0)
				goto out;
			if (fn != NULL && (r = fn(arg, &recs[i])) != 0)
				goto out;
			after = recs[i].seq;
		}
	} while (n > 0);
	r = audit_verifier_finish(v);
out:
	audit_verifier_free(v);
	free(recs);
	free(cps);
	return r;
}
