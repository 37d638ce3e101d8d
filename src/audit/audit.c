/* audit: stamps, bounds and writes audit events through the store; reads them back in pages. */
#include "audit/audit.h"

#include <pthread.h>
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
		return;
	}
	for (i = 0; i < n; i++)
		batch[i]->r = st->ops->audit_insert(st, recs[i], &batch[i]->seq);
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

static void
fill(struct store_audit_rec *rec, const struct audit_event *ev, int64_t now)
{
	memset(rec, 0, sizeof(*rec));
	rec->time = now;
	copy_field(rec->actor, sizeof(rec->actor), ev->actor);
	copy_field(rec->role, sizeof(rec->role), ev->role);
	copy_field(rec->action, sizeof(rec->action), ev->action);
	copy_field(rec->subject, sizeof(rec->subject), ev->subject);
	copy_field(rec->result, sizeof(rec->result), ev->result);
	copy_field(rec->request_id, sizeof(rec->request_id), ev->request_id);
	copy_field(rec->source, sizeof(rec->source), ev->source);
	copy_field(rec->detail, sizeof(rec->detail), ev->detail);
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
	if ((recs = calloc(n, sizeof(*recs))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++)
		fill(&recs[i], &evs[i], now);
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
