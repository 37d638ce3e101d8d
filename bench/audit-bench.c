/* audit-bench: the audit log's speed — durable appends per second with group commit versus one
 * fsync (SQLite commit, synchronous=FULL) per record, both from many threads, and
 * verification speed (records/s) over a log of a million records with signed checkpoints.
 * Run by `make bench-audit`; never by ctest.
 *
 * usage: inkan-audit-bench [-t THREADS] [-g RECORDS] [-s RECORDS] [-n RECORDS] [-c EVERY]
 *        [-b RECORDS] [--json] [--dir DIR]
 *   -t  appending threads (default 32)
 *   -g  records appended with group commit (default 20000)
 *   -s  records appended with one commit each (default 3000)
 *   -n  records in the verified log (default 1000000)
 *   -c  a signed checkpoint every c records (default 10000)
 *   -b  records in the export bundle verified from JSON (default 100000)
 *   -p  records in the tree of the inclusion proofs timed (default 100000): rebuilt from the
 *       store per proof (as before the kept tree) against audit_tree_inclusion() */
#include <getopt.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void
die(const char *what, int r)
{
	fprintf(stderr, "audit-bench: %s: %s\n", what, ink_err_str(r));
	exit(1);
}

static struct store *
fresh_store(const char *dir, const char *name)
{
	char path[1024];
	struct store *st = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	if ((r = store_open(path, &st)) != 0)
		die("store_open", r);
	return st;
}

/* ---- appends ---- */

struct worker {
	struct store *st;
	long n;
	bool group;      /* audit_append (group commit) or the store's own insert (one commit) */
	int id;
};

static void
mk_event(struct audit_event *ev, char *detail, size_t dsz, int id, long i)
{
	snprintf(detail, dsz, "serial 4f2a; hashes 1-1 of 1: %064lx", (unsigned long)i * 2654435761u);
	*ev = (struct audit_event){ .actor = "alice", .role = "signer", .action = "csc.signHash",
	                            .subject = "3563edd12a5bd3ca048c3fc44161115f",
	                            .result = AUDIT_SUCCESS, .request_id = "b1e2c3d4e5f60718",
	                            .source = "127.0.0.1", .detail = detail };
	(void)id;
}

static void *
append_worker(void *arg)
{
	struct worker *w = arg;
	struct audit_event ev;
	struct store_audit_rec rec;
	char detail[128];
	int64_t seq;
	long i;
	int r;

	for (i = 0; i < w->n; i++) {
		mk_event(&ev, detail, sizeof(detail), w->id, i);
		if (w->group) {
			if ((r = audit_append(w->st, &ev)) != 0)
				die("audit_append", r);
		} else {
			memset(&rec, 0, sizeof(rec));
			rec.time = ink_now();
			snprintf(rec.actor, sizeof(rec.actor), "%s", ev.actor);
			snprintf(rec.role, sizeof(rec.role), "%s", ev.role);
			snprintf(rec.action, sizeof(rec.action), "%s", ev.action);
			snprintf(rec.subject, sizeof(rec.subject), "%s", ev.subject);
			snprintf(rec.result, sizeof(rec.result), "%s", ev.result);
			snprintf(rec.request_id, sizeof(rec.request_id), "%s", ev.request_id);
			snprintf(rec.source, sizeof(rec.source), "%s", ev.source);
			snprintf(rec.detail, sizeof(rec.detail), "%s", ev.detail);
			if ((r = w->st->ops->audit_insert(w->st, &rec, &seq)) != 0)
				die("audit_insert", r);
		}
	}
	return NULL;
}

static double
appends(const char *dir, int threads, long total, bool group)
{
	struct store *st = fresh_store(dir, group ? "group.db" : "single.db");
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	double t0, dt;
	int i;

	if (th == NULL || w == NULL)
		die("calloc", INK_ERR_ALLOC);
	t0 = now_s();
	for (i = 0; i < threads; i++) {
		w[i] = (struct worker){ .st = st, .n = total / threads, .group = group, .id = i };
		if (pthread_create(&th[i], NULL, append_worker, &w[i]) != 0)
			die("pthread_create", INK_ERR_INTERNAL);
	}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	dt = now_s() - t0;
	store_close(st);
	free(th);
	free(w);
	return (double)(total / threads * threads) / dt;
}

/* ---- a large signed log ---- */

static void
sign_head(EVP_PKEY *key, struct audit_head *h)
{
	char text[AUDIT_HEAD_TEXT_MAX];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t tl = audit_head_text(h, text), sl = sizeof(h->sig);

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) != 1 ||
	    EVP_DigestSign(md, h->sig, &sl, (const uint8_t *)text, tl) != 1)
		die("sign", INK_ERR_CRYPTO);
	h->sig_len = sl;
	EVP_MD_CTX_free(md);
}

#define BATCH 256

static void
build_log(struct store *st, EVP_PKEY *key, long n, long every)
{
	static struct store_audit_rec recs[BATCH];
	const struct store_audit_rec *ptrs[BATCH];
	struct audit_frontier f;
	struct audit_event ev;
	struct store_checkpoint c;
	struct audit_head h;
	uint8_t leaf[AUDIT_HASH_LEN];
	int64_t seqs[BATCH];
	char detail[128];
	long i = 0, k, b;
	int r;

	memset(&f, 0, sizeof(f));
	while (i < n) {
		b = n - i < BATCH ? n - i : BATCH;
		for (k = 0; k < b; k++) {
			mk_event(&ev, detail, sizeof(detail), 0, i + k);
			memset(&recs[k], 0, sizeof(recs[k]));
			recs[k].time = ink_now();
			snprintf(recs[k].actor, sizeof(recs[k].actor), "%s", ev.actor);
			snprintf(recs[k].role, sizeof(recs[k].role), "%s", ev.role);
			snprintf(recs[k].action, sizeof(recs[k].action), "%s", ev.action);
			snprintf(recs[k].subject, sizeof(recs[k].subject), "%s", ev.subject);
			snprintf(recs[k].result, sizeof(recs[k].result), "%s", ev.result);
			snprintf(recs[k].request_id, sizeof(recs[k].request_id), "%s", ev.request_id);
			snprintf(recs[k].source, sizeof(recs[k].source), "%s", ev.source);
			snprintf(recs[k].detail, sizeof(recs[k].detail), "%s", ev.detail);
			ptrs[k] = &recs[k];
		}
		if ((r = st->ops->audit_insert_batch(st, ptrs, (size_t)b, seqs)) != 0)
			die("audit_insert_batch", r);
		for (k = 0; k < b; k++) {
			recs[k].seq = seqs[k];
			if ((r = audit_leaf_hash(&recs[k], leaf)) != 0)
				die("leaf", r);
			audit_frontier_add(&f, leaf);
			if (f.size % (uint64_t)every == 0 || f.size == (uint64_t)n) {
				memset(&h, 0, sizeof(h));
				h.size = f.size;
				audit_frontier_root(&f, h.root);
				h.time = ink_now();
				sign_head(key, &h);
				memset(&c, 0, sizeof(c));
				c.size = (int64_t)h.size;
				memcpy(c.root, h.root, AUDIT_HASH_LEN);
				c.time = h.time;
				memcpy(c.sig, h.sig, h.sig_len);
				c.sig_len = h.sig_len;
				if ((r = st->ops->checkpoint_insert(st, &c)) != 0)
					die("checkpoint_insert", r);
			}
		}
		i += b;
	}
}

/* Streams every record out of the store through the verifier. */
static double
verify_store(struct store *st, const uint8_t *spki, size_t len, long n, struct audit_verify_report *rep)
{
	struct store_checkpoint *cps = NULL;
	struct store_audit_rec *v = NULL;
	struct audit_verifier *ver = NULL;
	int64_t after = 0;
	size_t got, i, ncp = 0;
	double t0 = now_s();
	int r;

	if ((r = st->ops->checkpoint_list(st, 0, INT64_MAX, &cps, &ncp)) != 0 ||
	    (r = audit_verifier_new(spki, len, cps, ncp, 0, NULL, 0, rep, &ver)) != 0)
		die("verifier", r);
	do {
		if ((r = st->ops->audit_list(st, after, 10000, &v, &got)) != 0)
			die("audit_list", r);
		for (i = 0; i < got; i++)
			if ((r = audit_verifier_add(ver, &v[i])) != 0)
				die(rep->error, r);
		if (got > 0)
			after = v[got - 1].seq;
		free(v);
		v = NULL;
	} while (got > 0);
	if ((r = audit_verifier_finish(ver)) != 0)
		die(rep->error, r);
	audit_verifier_free(ver);
	free(cps);
	if ((long)rep->records != n)
		die("record count", INK_ERR_INTERNAL);
	return (double)n / (now_s() - t0);
}

/* ---- inclusion proofs: the whole tree rebuilt per proof against the kept tree ---- */

struct proof_times {
	double rebuild_ms;     /* read every record, hash, prove: one proof */
	double first_ms;       /* the kept tree's first proof (it reads the log once) */
	double kept_us;        /* every later proof */
	int rebuilt, kept;
};

static void
proofs(struct store *st, uint64_t size, struct proof_times *pt)
{
	uint8_t (*leaves)[AUDIT_HASH_LEN] = NULL, path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN];
	uint8_t want[AUDIT_PROOF_MAX][AUDIT_HASH_LEN], root[AUDIT_HASH_LEN];
	struct audit_frontier prefix, f;
	size_t plen = 0, wlen = 0;
	uint64_t i, m;
	double t0;
	int k, r;

	memset(pt, 0, sizeof(*pt));
	/* the root, to check the kept tree's answers against */
	if ((r = audit_read_leaves(st, size, &prefix, &leaves)) != 0)
		die("audit_read_leaves", r);
	memset(&f, 0, sizeof(f));
	for (i = 0; i < size; i++)
		audit_frontier_add(&f, leaves[i]);
	audit_frontier_root(&f, root);
	free(leaves);
	leaves = NULL;
	t0 = now_s();
	for (k = 0; k < 5; k++) {
		m = (uint64_t)k * 2654435761u % size;
		if ((r = audit_read_leaves(st, size, &prefix, &leaves)) != 0 ||
		    (r = audit_inclusion_proof_after(&prefix, (const uint8_t (*)[AUDIT_HASH_LEN])leaves,
		                                     size, m, want, &wlen)) != 0)
			die("rebuilt proof", r);
		free(leaves);
		leaves = NULL;
	}
	pt->rebuilt = k;
	pt->rebuild_ms = (now_s() - t0) * 1000 / k;
	audit_tree_forget();
	t0 = now_s();
	if ((r = audit_tree_inclusion(st, size, root, 0, path, &plen)) != 0)
		die("audit_tree_inclusion", r);
	pt->first_ms = (now_s() - t0) * 1000;
	t0 = now_s();
	for (k = 0; k < 2000; k++) {
		m = ((uint64_t)k * 2654435761u) % size;
		if ((r = audit_tree_inclusion(st, size, root, m, path, &plen)) != 0)
			die("audit_tree_inclusion", r);
	}
	pt->kept = k;
	pt->kept_us = (now_s() - t0) * 1e6 / k;
	/* the same path, hash for hash, as the rebuild's (the last rebuilt leaf) */
	m = (uint64_t)4 * 2654435761u % size;
	if ((r = audit_tree_inclusion(st, size, root, m, path, &plen)) != 0 || plen != wlen ||
	    memcmp(path, want, plen * AUDIT_HASH_LEN) != 0)
		die("kept tree proof differs from the rebuilt one", INK_ERR_INTERNAL);
	audit_tree_forget();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_verify_report rep;
	struct audit_head h;
	char dir[512] = "", path[1024];
	EVP_PKEY *key = NULL;
	uint8_t *spki = NULL;
	struct store *st;
	json_t *b = NULL;
	long groupn = 20000, singlen = 3000, n = 1000000, every = 10000, bundlen = 100000;
	long proofn = 100000;
	struct proof_times pt;
	int threads = 32, ch, len, r;
	bool json = false;
	double g, s, vs, vb, tb, t0, build;

	while ((ch = getopt_long(argc, argv, "t:g:s:n:c:b:p:", opts, NULL)) != -1) {
		switch (ch) {
		case 't': threads = atoi(optarg); break;
		case 'g': groupn = atol(optarg); break;
		case 's': singlen = atol(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'c': every = atol(optarg); break;
		case 'b': bundlen = atol(optarg); break;
		case 'p': proofn = atol(optarg); break;
		case 'j': json = true; break;
		case 'd': snprintf(dir, sizeof(dir), "%s", optarg); break;
		default:
			fprintf(stderr, "usage: inkan-audit-bench [-t THREADS] [-g N] [-s N] [-n N] [-c EVERY] [-b N] [-p N] [--json] [--dir DIR]\n");
			return 2;
		}
	}
	if (threads < 1 || groupn < threads || singlen < threads || n < 1 || every < 1 || bundlen < 1 ||
	    bundlen > n || proofn < 1 || proofn > n)
		return 2;
	ink_log_init("audit-bench", INK_LOG_WARN);
	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/var/tmp/inkan-audit-bench-XXXXXX");
		if (mkdtemp(dir) == NULL)
			die("mkdtemp", INK_ERR_IO);
	}
	fprintf(stderr, "audit-bench: appends, %d threads ...\n", threads);
	g = appends(dir, threads, groupn, true);
	s = appends(dir, threads, singlen, false);

	fprintf(stderr, "audit-bench: building a log of %ld records, a checkpoint every %ld ...\n", n, every);
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")) == NULL || (len = i2d_PUBKEY(key, &spki)) <= 0)
		die("key", INK_ERR_CRYPTO);
	st = fresh_store(dir, "large.db");
	t0 = now_s();
	build_log(st, key, n, every);
	build = now_s() - t0;
	fprintf(stderr, "audit-bench: verifying from the store ...\n");
	vs = verify_store(st, spki, (size_t)len, n, &rep);
	fprintf(stderr, "audit-bench: verifying a %ld-record export bundle ...\n", bundlen);
	memset(&h, 0, sizeof(h));
	t0 = now_s();
	if ((r = audit_bundle_build(st, 1, bundlen, spki, (size_t)len, NULL, &b)) != 0)
		die("bundle", r);
	snprintf(path, sizeof(path), "%s/bundle.json", dir);
	if (json_dump_file(b, path, JSON_COMPACT) != 0)
		die("json_dump_file", INK_ERR_IO);
	tb = now_s() - t0;
	json_decref(b);
	t0 = now_s();
	if ((b = json_load_file(path, 0, NULL)) == NULL)
		die("json_load_file", INK_ERR_IO);
	if ((r = audit_bundle_verify(b, NULL, &rep)) != 0)
		die(rep.error, r);
	vb = (double)bundlen / (now_s() - t0);
	json_decref(b);
	fprintf(stderr, "audit-bench: inclusion proofs in a tree of %ld records ...\n", proofn);
	proofs(st, (uint64_t)proofn, &pt);
	store_close(st);
	if (json)
		printf("{\"threads\": %d, \"appends_group_commit_per_s\": %.0f, "
		       "\"appends_one_commit_each_per_s\": %.0f, \"log_records\": %ld, "
		       "\"checkpoint_every\": %ld, \"verify_store_records_per_s\": %.0f, "
		       "\"bundle_records\": %ld, \"verify_bundle_records_per_s\": %.0f, "
		       "\"build_s\": %.1f, \"export_s\": %.1f, \"proof_tree_records\": %ld, "
		       "\"proof_rebuilt_ms\": %.1f, \"proof_kept_first_ms\": %.1f, "
		       "\"proof_kept_us\": %.1f}\n", threads, g, s, n, every, vs, bundlen,
		       vb, build, tb, proofn, pt.rebuild_ms, pt.first_ms, pt.kept_us);
	else
		printf("durable appends, %d threads:\n"
		       "  group commit          %10.0f records/s\n"
		       "  one commit per record %10.0f records/s  (x%.1f)\n"
		       "verification (tree recomputed, every checkpoint signature checked):\n"
		       "  %ld records from the store, checkpoint every %ld: %10.0f records/s (%.1f s)\n"
		       "  %ld-record export bundle (JSON load + verify): %10.0f records/s\n"
		       "inclusion proofs in a tree of %ld records:\n"
		       "  tree rebuilt from the store per proof %10.1f ms a proof (%d proofs)\n"
		       "  kept tree, first proof (reads the log)  %10.1f ms\n"
		       "  kept tree, later proofs                 %10.1f us a proof (%d proofs)\n",
		       threads, g, s, g / s, n, every, vs, (double)n / vs, bundlen, vb, proofn,
		       pt.rebuild_ms, pt.rebuilt, pt.first_ms, pt.kept_us, pt.kept);
	EVP_PKEY_free(key);
	OPENSSL_free(spki);
	fprintf(stderr, "audit-bench: data left in %s (remove it)\n", dir);
	return 0;
}
