/* refusals: refusals of requests nobody authenticated, per source address — the first few of
 * each action in an interval written as they come, the rest counted and written as one
 * "audit.refusals" record per source when the interval ends (or at shutdown). A flood of
 * bad requests then costs a bounded number of records and durable commits, and no refusal
 * goes unrecorded: every one is either its own record or counted in one. */
#include "audit/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Distinct (action, reason) pairs counted per source; further ones are counted as "other". */
#define REF_REASONS 8
#define REF_ACTION_MAX 40
#define REF_WHY_MAX 88
#define REF_SOURCE_MAX 64
#define REF_OTHER_SOURCES "other-sources"
/* One record's detail: a few short reasons, far below the detail column's size. */
#define REF_DETAIL_MAX 4096

struct ref_reason {
	char action[REF_ACTION_MAX];
	char why[REF_WHY_MAX];
	uint64_t count;        /* refusals of this kind in the interval */
	uint64_t written;      /* of which written as records of their own */
};

struct ref_source {
	char source[REF_SOURCE_MAX];   /* "" : the slot is free */
	int64_t first, last;           /* times of its first and last refusal in the interval */
	uint64_t total, written;
	uint64_t other;                /* refusals beyond REF_REASONS kinds (never written singly) */
	unsigned nreasons;
	struct ref_reason r[REF_REASONS];
};

/* One interval's counts: open addressing over slots sources, plus the bucket for the sources
 * that found the table full. */
struct ref_table {
	struct ref_source *v;
	size_t used;
	uint64_t singles;              /* refusals written as records of their own */
	int64_t start;                 /* time of the interval's first refusal; 0: none yet */
	struct ref_source others;
};

struct audit_refusals {
	pthread_mutex_t mu;            /* cur and the counts in it */
	pthread_mutex_t flush_mu;      /* one flush at a time; owns spare */
	struct store *st;
	int64_t interval;
	uint64_t burst;
	size_t slots;
	struct ref_table cur, spare;
	char detail[AUDIT_MANY_MAX][REF_DETAIL_MAX];   /* under flush_mu */
};

static void
table_clear(struct ref_table *t, size_t slots)
{
	memset(t->v, 0, slots * sizeof(*t->v));
	memset(&t->others, 0, sizeof(t->others));
	snprintf(t->others.source, sizeof(t->others.source), "%s", REF_OTHER_SOURCES);
	t->used = 0;
	t->singles = 0;
	t->start = 0;
}

int
audit_refusals_new(struct store *st, int64_t interval, unsigned burst, size_t slots,
                   struct audit_refusals **out)
{
	struct audit_refusals *ar = NULL;

	*out = NULL;
	if (st == NULL || interval < 1 || slots == 0 || slots > 65536 || (slots & (slots - 1)) != 0)
		return INK_ERR_INVALID;
	if ((ar = calloc(1, sizeof(*ar))) == NULL)
		return INK_ERR_ALLOC;
	if ((ar->cur.v = calloc(slots, sizeof(*ar->cur.v))) == NULL ||
	    (ar->spare.v = calloc(slots, sizeof(*ar->spare.v))) == NULL) {
		free(ar->cur.v);
		free(ar);
		return INK_ERR_ALLOC;
	}
	pthread_mutex_init(&ar->mu, NULL);
	pthread_mutex_init(&ar->flush_mu, NULL);
	ar->st = st;
	ar->interval = interval;
	ar->burst = burst;
	ar->slots = slots;
	table_clear(&ar->cur, slots);
	table_clear(&ar->spare, slots);
	*out = ar;
	return 0;
}

void
audit_refusals_free(struct audit_refusals *ar)
{
	if (ar == NULL)
		return;
	pthread_mutex_destroy(&ar->mu);
	pthread_mutex_destroy(&ar->flush_mu);
	free(ar->cur.v);
	free(ar->spare.v);
	free(ar);
}

/* FNV-1a: where a source's slot search starts. */
static size_t
source_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

/* The source's counts in t: its slot, a free one, or (table full) the others' bucket. */
static struct ref_source *
source_find(struct ref_table *t, size_t slots, const char *src)
{
	size_t i, k, mask = slots - 1;

	for (k = 0, i = source_hash(src) & mask; k < slots; k++, i = (i + 1) & mask) {
		if (strcmp(t->v[i].source, src) == 0)
			return &t->v[i];
		if (t->v[i].source[0] == '\0') {
			/* the last slot stays free: a search for an unknown source always ends */
			if (t->used + 1 >= slots)
				break;
			snprintf(t->v[i].source, sizeof(t->v[i].source), "%s", src);
			t->used++;
			return &t->v[i];
		}
	}
	return &t->others;
}

static void
cut_copy(char *dst, size_t dstsz, const char *src)
{
	snprintf(dst, dstsz, "%s", src != NULL && src[0] != '\0' ? src : "-");
}

int
audit_refusal(struct audit_refusals *ar, const struct audit_event *ev, const char *key)
{
	char action[REF_ACTION_MAX], why[REF_WHY_MAX], src[REF_SOURCE_MAX];
	struct ref_source *s;
	struct ref_reason *rr = NULL;
	int64_t now = ink_now();
	uint64_t same = 0;
	unsigned i;
	bool single = false, passed = false;
	int r;

	if (ar == NULL || ev == NULL)
		return INK_ERR_INVALID;
	cut_copy(action, sizeof(action), ev->action);
	cut_copy(why, sizeof(why), ev->result);
	cut_copy(src, sizeof(src), key != NULL ? key : ev->source);
	pthread_mutex_lock(&ar->mu);
	if (ar->cur.start == 0)
		ar->cur.start = now;
	s = source_find(&ar->cur, ar->slots, src);
	if (s->total == 0)
		s->first = now;
	s->last = now;
	s->total++;
	/* a known source past the burst: once an interval, an alert */
	passed = s != &ar->cur.others && s->total == ar->burst + 1;
	for (i = 0; i < s->nreasons; i++) {
		if (strcmp(s->r[i].action, action) != 0)
			continue;
		same += s->r[i].written;
		if (strcmp(s->r[i].why, why) == 0)
			rr = &s->r[i];
	}
	if (rr == NULL && s->nreasons < REF_REASONS) {
		rr = &s->r[s->nreasons++];
		memcpy(rr->action, action, sizeof(action));
		memcpy(rr->why, why, sizeof(why));
	}
	if (rr == NULL) {
		s->other++;
	} else {
		rr->count++;
		/* the first few of each action from a known source are records of their own, and
		 * never more than AUDIT_REFUSAL_SINGLES in all: many sources flood no more than one */
		if (s != &ar->cur.others && same < ar->burst &&
		    ar->cur.singles < AUDIT_REFUSAL_SINGLES) {
			rr->written++;
			s->written++;
			ar->cur.singles++;
			single = true;
		}
	}
	pthread_mutex_unlock(&ar->mu);
	if (passed)
		ink_alert(INK_ALERT_REFUSALS, "source %s refused more than %llu times in this interval "
		          "(last: %s, %s)", src, (unsigned long long)ar->burst, action, why);
	if (!single)
		return 0;
	if ((r = audit_append(ar->st, ev)) != 0) {
		/* not written: then it is counted (same interval or not: its time says when) */
		pthread_mutex_lock(&ar->mu);
		s = source_find(&ar->cur, ar->slots, src);
		for (i = 0; i < s->nreasons; i++)
			if (strcmp(s->r[i].action, action) == 0 && strcmp(s->r[i].why, why) == 0 &&
			    s->r[i].written > 0) {
				s->r[i].written--;
				s->written--;
				if (ar->cur.singles > 0)
					ar->cur.singles--;
				break;
			}
		pthread_mutex_unlock(&ar->mu);
	}
	return r;
}

/* The record of one source's interval. */
static int
source_event(const struct ref_source *s, int64_t interval, struct audit_event *ev, char *detail,
             size_t dsz)
{
	char first[21], last[21];
	json_t *o = NULL, *a = NULL;
	unsigned i;
	size_t n;
	int r = INK_ERR_ALLOC;

	ink_time_str(s->first, first);
	ink_time_str(s->last, last);
	if ((a = json_array()) == NULL)
		goto out;
	for (i = 0; i < s->nreasons; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "action", s->r[i].action,
		                                       "result", s->r[i].why,
		                                       "count", (json_int_t)s->r[i].count,
		                                       "recorded", (json_int_t)s->r[i].written)) != 0)
			goto out;
	if ((o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:O}", "interval", (json_int_t)interval,
	                   "first", first, "last", last, "total", (json_int_t)s->total,
	                   "recorded", (json_int_t)s->written,
	                   "counted", (json_int_t)(s->total - s->written),
	                   "other_reasons", (json_int_t)s->other, "refusals", a)) == NULL)
		goto out;
	if ((n = json_dumpb(o, detail, dsz - 1, JSON_COMPACT)) == 0 || n >= dsz) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	detail[n] = '\0';
	*ev = (struct audit_event){
		.action = "audit.refusals",
		.subject = "refusals of unauthenticated requests",
		.result = "aggregated",
		.source = s->source,
		.detail = detail,
	};
	r = 0;
out:
	json_decref(a);
	json_decref(o);
	return r;
}


/* Writes the records of t: every source with refusals that were only counted. */
static int
table_write(struct audit_refusals *ar, const struct ref_table *t)
{
	struct audit_event ev[AUDIT_MANY_MAX];
	size_t i, n = 0;
	int r = 0, e;

	for (i = 0; i <= ar->slots; i++) {
		const struct ref_source *s = i < ar->slots ? &t->v[i] : &t->others;

		if (s->total == 0 || s->total == s->written)
			continue;
		if ((e = source_event(s, ar->interval, &ev[n], ar->detail[n], sizeof(ar->detail[n]))) != 0) {
			log_error("cannot describe the refusals of %s: %s", s->source, ink_err_str(e));
			r = r != 0 ? r : e;
			continue;
		}
		if (++n == AUDIT_MANY_MAX) {
			if ((e = audit_append_many(ar->st, ev, n)) != 0 && r == 0)
				r = e;
			n = 0;
		}
	}
	if (n > 0 && (e = audit_append_many(ar->st, ev, n)) != 0 && r == 0)
		r = e;
	return r;
}

int
audit_refusals_flush(struct audit_refusals *ar, bool all, int64_t *next)
{
	struct ref_table t;
	int64_t now = ink_now();
	int r = 0;

	*next = 0;
	if (ar == NULL)
		return INK_ERR_INVALID;
	pthread_mutex_lock(&ar->flush_mu);
	pthread_mutex_lock(&ar->mu);
	if (ar->cur.start != 0 && (all || now >= ar->cur.start + ar->interval)) {
		/* the interval's counts change places with the empty spare: requests go on counting */
		t = ar->cur;
		ar->cur = ar->spare;
		ar->spare = t;
	} else {
		*next = ar->cur.start != 0 ? ar->cur.start + ar->interval : 0;
		pthread_mutex_unlock(&ar->mu);
		pthread_mutex_unlock(&ar->flush_mu);
		return 0;
	}
	pthread_mutex_unlock(&ar->mu);
	if ((r = table_write(ar, &ar->spare)) != 0)
		log_error("refusals of unauthenticated requests not all recorded: %s", ink_err_str(r));
	table_clear(&ar->spare, ar->slots);
	pthread_mutex_lock(&ar->mu);
	*next = ar->cur.start != 0 ? ar->cur.start + ar->interval : 0;
	pthread_mutex_unlock(&ar->mu);
	pthread_mutex_unlock(&ar->flush_mu);
	return r;
}
