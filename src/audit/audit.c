/* audit: stamps, bounds and writes audit events through the store; reads them back in pages. */
#include "audit/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One page of audit_read(): large enough for an export loop, small enough to bound memory. */
#define AUDIT_READ_MAX 1000

/* Copies src into dst[dstsz]: NULL or empty becomes "-" so that every column reads as
 * something; longer values are cut at the field size (a byte boundary: UTF-8 is not promised);
 * control characters become '?' so that an exported row stays one line and cannot forge
 * another. */
static void
copy_field(char *dst, size_t dstsz, const char *src)
{
	size_t i, n;

	if (src == NULL || *src == '\0')
		src = "-";
	n = strnlen(src, dstsz - 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

void
audit_record_fill(struct store_audit_rec *rec, const struct audit_event *ev, int64_t now)
{
	memset(rec, 0, sizeof(*rec));
	rec->time = ev->time != 0 ? ev->time : now;
	copy_field(rec->actor, sizeof(rec->actor), ev->actor);
	copy_field(rec->role, sizeof(rec->role), ev->role);
	copy_field(rec->action, sizeof(rec->action), ev->action);
	copy_field(rec->subject, sizeof(rec->subject), ev->subject);
	copy_field(rec->result, sizeof(rec->result), ev->result);
	copy_field(rec->request_id, sizeof(rec->request_id), ev->request_id);
	copy_field(rec->source, sizeof(rec->source), ev->source);
	copy_field(rec->detail, sizeof(rec->detail), ev->detail);
}

/* ---- the tree's pending leaves ----
 * inkand remembers the leaf hash of every record it wrote itself since the last checkpoint,
 * and hands exactly these to the signer: a row put into the database by anything else is
 * never signed, so it cannot match a checkpoint. */

struct pending {
	int64_t seq;
	uint8_t leaf[AUDIT_HASH_LEN];
};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;   /* the fields below */
static pthread_mutex_t ckpt_mu = PTHREAD_MUTEX_INITIALIZER;  /* one checkpoint at a time */
static struct store *log_st;          /* the store being tracked; NULL: not tracking */
static audit_signer_fn log_signer;
static void *log_signer_arg;
static uint64_t log_signed;           /* size of the last signed head */
static int64_t log_signed_time;       /* its time (0: unknown) */
static struct pending *log_pend;
static size_t log_npend, log_cap;
static int64_t clock_tolerance = 5;
static int64_t clock_last;            /* latest time stamp handed out */
static bool log_shared;               /* several nodes write the store: see audit_log_shared */

/* Queues leaves in seq order; a seq not above the last queued is already there. */
static int
pend_add(int64_t seq, const uint8_t leaf[static AUDIT_HASH_LEN])
{
	struct pending *nv;

	if ((log_npend > 0 && seq <= log_pend[log_npend - 1].seq) || seq <= (int64_t)log_signed)
		return 0;
	if (log_npend == log_cap) {
		size_t cap = log_cap == 0 ? 1024 : log_cap * 2;

		if ((nv = realloc(log_pend, cap * sizeof(*nv))) == NULL)
			return INK_ERR_ALLOC;
		log_pend = nv;
		log_cap = cap;
	}
	log_pend[log_npend].seq = seq;
	memcpy(log_pend[log_npend].leaf, leaf, AUDIT_HASH_LEN);
	log_npend++;
	return 0;
}

/* Called after a durable write of n records with their seqs. */
static void
log_track(struct store *st, const struct store_audit_rec *const *recs, const int64_t *seqs, size_t n)
{
	struct store_audit_rec tmp;
	uint8_t leaf[AUDIT_HASH_LEN];
	size_t i;

	pthread_mutex_lock(&log_mu);
	/* shared: the queue is the database's, read back at each checkpoint */
	if (log_st == st && !log_shared) {
		for (i = 0; i < n; i++) {
			tmp = *recs[i];
			tmp.seq = seqs[i];
			if (audit_leaf_hash(&tmp, leaf) != 0 || pend_add(seqs[i], leaf) != 0)
				/* the next checkpoint will then not match: loud, never silent */
				log_error("audit record %lld could not be queued for the tree",
				          (long long)seqs[i]);
		}
	}
	pthread_mutex_unlock(&log_mu);
}

/* ---- group commit ----
 * Concurrent appends queue here; whoever finds no commit in progress takes the whole queue
 * (for its store, up to GC_MAX records) and writes it as one durable transaction, so many
 * requests share one sync. Each caller still returns only once its own record is on disk. */

#define GC_MAX 256

struct gc_item {
	struct store *st;
	const struct store_audit_rec *rec;
	int64_t seq;
	int r;
	bool done;
	struct gc_item *next;
};

static pthread_mutex_t gc_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc_cv = PTHREAD_COND_INITIALIZER;
static struct gc_item *gc_queue;
static bool gc_busy;

/* Writes a batch taken off the queue (no lock held). */
static void
gc_write(struct gc_item **batch, size_t n)
{
	const struct store_audit_rec *recs[GC_MAX] = { NULL };
	int64_t seqs[GC_MAX] = { 0 };
	struct store *st;
	size_t i;
	int r = 0;

	if (n == 0)
		return;
	st = batch[0]->st;
	for (i = 0; i < n; i++)
		recs[i] = batch[i]->rec;
	if (st->ops->audit_insert_batch != NULL) {
		r = st->ops->audit_insert_batch(st, recs, n, seqs);
		for (i = 0; i < n; i++) {
			batch[i]->r = r;
			batch[i]->seq = r == 0 ? seqs[i] : 0;
		}
		if (r == 0)
			log_track(st, recs, seqs, n);
		return;
	}
	for (i = 0; i < n; i++) {
		batch[i]->r = st->ops->audit_insert(st, recs[i], &batch[i]->seq);
		if (batch[i]->r == 0)
			log_track(st, &recs[i], &batch[i]->seq, 1);
	}
}

/* Queues n records (at most AUDIT_MANY_MAX) and returns once all are durable. */
static int
gc_append(struct store *st, const struct store_audit_rec *recs, size_t n)
{
	struct gc_item mine[AUDIT_MANY_MAX], **pp, *batch[GC_MAX];
	size_t k, b, i, left = n;
	int r = 0;

	memset(mine, 0, sizeof(mine));
	pthread_mutex_lock(&gc_mu);
	/* FIFO: append at the tail so records keep their arrival order. */
	for (pp = &gc_queue; *pp != NULL; pp = &(*pp)->next)
		;
	for (k = 0; k < n; k++) {
		mine[k].st = st;
		mine[k].rec = &recs[k];
		*pp = &mine[k];
		pp = &mine[k].next;
	}
	while (left > 0) {
		if (gc_busy) {
			pthread_cond_wait(&gc_cv, &gc_mu);
		} else {
			gc_busy = true;
			b = 0;
			for (pp = &gc_queue; *pp != NULL && b < GC_MAX;) {
				if ((*pp)->st == st) {
					batch[b++] = *pp;
					*pp = (*pp)->next;
				} else {
					pp = &(*pp)->next;
				}
			}
			pthread_mutex_unlock(&gc_mu);
			gc_write(batch, b);
			pthread_mutex_lock(&gc_mu);
			for (i = 0; i < b; i++)
				batch[i]->done = true;
			gc_busy = false;
			pthread_cond_broadcast(&gc_cv);
		}
		for (left = 0, k = 0; k < n; k++)
			left += mine[k].done ? 0 : 1;
	}
	pthread_mutex_unlock(&gc_mu);
	for (k = 0; k < n; k++)
		if (mine[k].r != 0 && r == 0)
			r = mine[k].r;
	return r;
}


/* A clock that went back beyond the tolerance is its own event, written before the record
 * that noticed it (12.4.4). */
static int
clock_check(struct store *st, int64_t now)
{
	struct audit_event ev = { .action = "clock.backwards", .result = "anomaly" };
	struct store_audit_rec rec;
	char detail[96];
	int64_t last;

	pthread_mutex_lock(&log_mu);
	last = clock_last;
	if (now > clock_last)
		clock_last = now;
	pthread_mutex_unlock(&log_mu);
	if (last == 0 || now >= last - clock_tolerance)
		return 0;
	snprintf(detail, sizeof(detail), "clock went back %lld s (from %lld to %lld)",
	         (long long)(last - now), (long long)last, (long long)now);
	ev.detail = detail;
	log_warn("%s", detail);
	audit_record_fill(&rec, &ev, now);
	return gc_append(st, &rec, 1);
}

void
audit_set_clock_tolerance(int64_t seconds)
{
	pthread_mutex_lock(&log_mu);
	clock_tolerance = seconds < 0 ? 0 : seconds;
	pthread_mutex_unlock(&log_mu);
}

int
audit_append_many(struct store *st, const struct audit_event *evs, size_t n)
{
	struct store_audit_rec *recs = NULL;
	int64_t now = ink_now();
	size_t i;
	int r;

	if (st == NULL || evs == NULL || n == 0 || n > AUDIT_MANY_MAX)
		return INK_ERR_INVALID;
	if ((r = clock_check(st, now)) != 0)
		return r;
	if ((recs = calloc(n, sizeof(*recs))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++)
		audit_record_fill(&recs[i], &evs[i], now);
	if ((r = gc_append(st, recs, n)) != 0)
		/* the action name is ours, never user data */
		log_error("audit trail write failed for %s: %s", recs[0].action, ink_err_str(r));
	free(recs);
	return r;
}

int
audit_append(struct store *st, const struct audit_event *ev)
{
	return audit_append_many(st, ev, 1);
}

int
audit_read(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return INK_ERR_INVALID;
	if (limit > AUDIT_READ_MAX)
		limit = AUDIT_READ_MAX;
	return st->ops->audit_list(st, after, limit, out, n);
}

/* ---- checkpoints ---- */

#define RECOVER_PAGE 1000
/* Leaves per signing request: 2 MB on the SAM channel. */
#define SIGN_BATCH 65536

/* Queues (or, closed, counts in *foreign) the records above log_signed, from the store; under
 * log_mu. */
static int
read_back(struct store *st, bool closed, uint64_t *recovered, uint64_t *foreign)
{
	struct store_audit_rec *v = NULL;
	uint8_t leaf[AUDIT_HASH_LEN];
	int64_t after = (int64_t)log_signed;
	size_t n = 0, i;
	int r = 0;

	do {
		if ((r = st->ops->audit_list(st, after, RECOVER_PAGE, &v, &n)) != 0)
			break;
		for (i = 0; i < n && r == 0; i++) {
			if (closed)
				(*foreign)++;
			else if ((r = audit_leaf_hash(&v[i], leaf)) == 0 &&
			         (r = pend_add(v[i].seq, leaf)) == 0)
				(*recovered)++;
			after = v[i].seq;
			if (v[i].time > clock_last)
				clock_last = v[i].time;
		}
		free(v);
		v = NULL;
	} while (r == 0 && n == RECOVER_PAGE);
	return r;
}

void
audit_log_shared(bool shared)
{
	pthread_mutex_lock(&log_mu);
	log_shared = shared;
	pthread_mutex_unlock(&log_mu);
}

int
audit_log_start(struct store *st, uint64_t signed_size, bool closed, audit_signer_fn fn,
                void *arg, uint64_t *recovered, uint64_t *foreign)
{
	struct store_checkpoint *cps = NULL;
	size_t ncp = 0;
	int r = 0;

	*recovered = 0;
	*foreign = 0;
	if (st == NULL || fn == NULL || signed_size > INT64_MAX)
		return INK_ERR_INVALID;
	/* the time of the stored checkpoint of the signer's last head, for audit_log_status() */
	if (signed_size > 0 && st->ops->checkpoint_list(st, (int64_t)signed_size,
	                                                (int64_t)signed_size, &cps, &ncp) == 0) {
		if (ncp > 0)
			log_signed_time = cps[ncp - 1].time;
		free(cps);
	}
	pthread_mutex_lock(&log_mu);
	log_st = st;
	log_signer = fn;
	log_signer_arg = arg;
	log_signed = signed_size;
	log_npend = 0;
	/* Records written after the signer's last head and before a crash: only the database
	 * has them now (shared: and those of the other nodes). */
	r = read_back(st, closed && !log_shared, recovered, foreign);
	if (r != 0)
		log_st = NULL;
	pthread_mutex_unlock(&log_mu);
	return r;
}

void
audit_log_stop(void)
{
	pthread_mutex_lock(&ckpt_mu);
	pthread_mutex_lock(&log_mu);
	log_st = NULL;
	log_signer = NULL;
	log_shared = false;
	clock_last = 0;
	free(log_pend);
	log_pend = NULL;
	log_npend = log_cap = 0;
	pthread_mutex_unlock(&log_mu);
	pthread_mutex_unlock(&ckpt_mu);
	audit_tree_forget();
}

void
audit_log_status(uint64_t *pending, uint64_t *signed_size, int64_t *signed_time)
{
	pthread_mutex_lock(&log_mu);
	*pending = log_st != NULL ? log_npend : 0;
	*signed_size = log_signed;
	*signed_time = log_signed_time;
	pthread_mutex_unlock(&log_mu);
}

/* One signing round over at most SIGN_BATCH queued leaves. */
static int
checkpoint_once(struct store *st, struct audit_head *h, bool *more)
{
	uint8_t (*leaves)[AUDIT_HASH_LEN] = NULL;
	struct store_checkpoint c;
	audit_signer_fn fn;
	uint64_t from;
	size_t n, i;
	void *arg;
	int r;

	*more = false;
	pthread_mutex_lock(&log_mu);
	if (log_st != st || log_signer == NULL) {
		pthread_mutex_unlock(&log_mu);
		return INK_ERR_INVALID;
	}
	n = log_npend < SIGN_BATCH ? log_npend : SIGN_BATCH;
	from = log_signed;
	fn = log_signer;
	arg = log_signer_arg;
	if (n > 0 && (leaves = malloc(n * AUDIT_HASH_LEN)) == NULL) {
		pthread_mutex_unlock(&log_mu);
		return INK_ERR_ALLOC;
	}
	for (i = 0; i < n; i++)
		memcpy(leaves[i], log_pend[i].leaf, AUDIT_HASH_LEN);
	/* a seq that is not its leaf number: a row this process did not write took a seq */
	if (n > 0 && log_pend[n - 1].seq != (int64_t)(from + n))
		log_error("audit records up to %lld are leaves up to %llu: the log was changed "
		          "outside inkand", (long long)log_pend[n - 1].seq,
		          (unsigned long long)(from + n));
	pthread_mutex_unlock(&log_mu);
	memset(h, 0, sizeof(*h));
	if ((r = fn(arg, from, (const uint8_t (*)[AUDIT_HASH_LEN])leaves, n, h)) != 0)
		goto out;
	if (h->size != from + n) {
		log_error("the log signer answered a head of size %llu, not %llu",
		          (unsigned long long)h->size, (unsigned long long)(from + n));
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.size = (int64_t)h->size;
	memcpy(c.root, h->root, AUDIT_HASH_LEN);
	c.time = h->time;
	if (h->sig_len > sizeof(c.sig)) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	memcpy(c.sig, h->sig, h->sig_len);
	c.sig_len = h->sig_len;
	/* an empty round only refreshes the head for the caller: no row */
	if (n > 0 && (r = st->ops->checkpoint_insert(st, &c)) != 0)
		goto out;
	pthread_mutex_lock(&log_mu);
	memmove(log_pend, log_pend + n, (log_npend - n) * sizeof(*log_pend));
	log_npend -= n;
	log_signed = h->size;
	log_signed_time = h->time;
	*more = log_npend > 0;
	pthread_mutex_unlock(&log_mu);
out:
	free(leaves);
	return r;
}

int
audit_checkpoint(struct store *st, struct audit_head *out)
{
	struct audit_head h;
	bool more = true, empty;
	int r = 0;

	if (st == NULL)
		return INK_ERR_INVALID;
	pthread_mutex_lock(&ckpt_mu);
	pthread_mutex_lock(&log_mu);
	/* shared: every node's records above the last head this process knows, as numbered by
	 * the database (committed in order: no gap); a head another node signed since makes the
	 * signer refuse, and the signer callback reads back from that head (INK_ERR_EXISTS) */
	if (log_shared && log_st == st) {
		uint64_t got = 0, none = 0;

		log_npend = 0;
		if ((r = read_back(st, false, &got, &none)) != 0) {
			pthread_mutex_unlock(&log_mu);
			pthread_mutex_unlock(&ckpt_mu);
			return r;
		}
	}
	empty = log_npend == 0;
	pthread_mutex_unlock(&log_mu);
	/* nothing new: a caller that shows a head (an export, a proof) gets a fresh one, re-signed;
	 * the timer's checkpoint adds no row when the log has not grown */
	if (empty && out == NULL) {
		pthread_mutex_unlock(&ckpt_mu);
		return 0;
	}
	if (empty)
		r = checkpoint_once(st, &h, &more);
	while (r == 0 && more)
		r = checkpoint_once(st, &h, &more);
	/* the signer was elsewhere (and the signer callback re-read the records after its
	 * head): once more */
	if (r == INK_ERR_EXISTS) {
		more = true;
		r = 0;
		while (r == 0 && more)
			r = checkpoint_once(st, &h, &more);
	}
	pthread_mutex_unlock(&ckpt_mu);
	if (r == 0 && out != NULL)
		*out = h;
	return r;
}
