/* gate: at most N heavy jobs (Argon2id runs) at once, a bounded queue that is fair between
 * sources, and a clear "busy" instead of unbounded waiting or memory. */
#include "common/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum waiter_state { W_WAITING, W_ADMITTED, W_REFUSED };

struct waiter {
	char source[INK_GATE_SOURCE_MAX];
	bool first;               /* goes before every waiter without */
	enum waiter_state state;
	pthread_cond_t cv;
	struct waiter *prev, *next;
};

struct ink_gate {
	pthread_mutex_t mu;
	unsigned slots, queue, wait_ms;
	unsigned busy, nwait;
	char (*running)[INK_GATE_SOURCE_MAX]; /* the source of each slot ("" free) */
	struct waiter *head, *tail;           /* oldest first */
};

int
ink_gate_new(unsigned slots, unsigned queue, unsigned wait_ms, struct ink_gate **out)
{
	struct ink_gate *g;

	*out = NULL;
	if (slots == 0 || slots > INK_GATE_SLOTS_MAX || queue > INK_GATE_QUEUE_MAX)
		return INK_ERR_INVALID;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return INK_ERR_ALLOC;
	if ((g->running = calloc(slots, sizeof(*g->running))) == NULL) {
		free(g);
		return INK_ERR_ALLOC;
	}
	pthread_mutex_init(&g->mu, NULL);
	g->slots = slots;
	g->queue = queue;
	g->wait_ms = wait_ms;
	*out = g;
	return 0;
}

void
ink_gate_free(struct ink_gate *g)
{
	if (g == NULL)
		return;
	pthread_mutex_destroy(&g->mu);
	free(g->running);
	free(g);
}

unsigned
ink_gate_slots(const struct ink_gate *g)
{
	return g->slots;
}

void
ink_gate_load(struct ink_gate *g, unsigned *busy, unsigned *waiting)
{
	pthread_mutex_lock(&g->mu);
	*busy = g->busy;
	*waiting = g->nwait;
	pthread_mutex_unlock(&g->mu);
}

/* ---- under g->mu ---- */

static void
take_slot(struct ink_gate *g, const char *source)
{
	unsigned i;

	for (i = 0; i < g->slots; i++) {
		if (g->running[i][0] == '\0') {
			snprintf(g->running[i], sizeof(g->running[i]), "%s", source[0] ? source : "-");
			break;
		}
	}
	g->busy++;
}

static void
give_slot(struct ink_gate *g, const char *source)
{
	unsigned i;

	if (source[0] == '\0')
		source = "-";
	for (i = 0; i < g->slots; i++) {
		if (strcmp(g->running[i], source) == 0) {
			g->running[i][0] = '\0';
			break;
		}
	}
	if (g->busy > 0)
		g->busy--;
}

static unsigned
running_of(const struct ink_gate *g, const char *source)
{
	unsigned i, n = 0;

	for (i = 0; i < g->slots; i++)
		n += strcmp(g->running[i], source) == 0;
	return n;
}

static unsigned
waiting_of(const struct ink_gate *g, const char *source)
{
	const struct waiter *w;
	unsigned n = 0;

	for (w = g->head; w != NULL; w = w->next)
		n += strcmp(w->source, source) == 0;
	return n;
}

static void
unlink_waiter(struct ink_gate *g, struct waiter *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		g->head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		g->tail = w->prev;
	w->prev = w->next = NULL;
	g->nwait--;
}

/* The queue is full. A newcomer that goes first takes the place of the newest waiter that
 * does not. Otherwise the newest waiter (not one that goes first) of the source that holds
 * the most places gives its place up when that source holds at least two more than the
 * newcomer's: one source (or a few) filling the queue cannot shut another out. NULL: the
 * newcomer is the one refused. */
static struct waiter *
victim_for(struct ink_gate *g, const char *source, bool first)
{
	struct waiter *w, *best = NULL;
	unsigned mine = waiting_of(g, source) + running_of(g, source), most = 0, n;

	for (w = g->tail; w != NULL; w = w->prev) {
		if (w->first)
			continue;
		if (first)
			return w;
		n = waiting_of(g, w->source) + running_of(g, w->source);
		if (n > most) {
			most = n;
			best = w;
		}
	}
	return best != NULL && most >= mine + 2 ? best : NULL;
}

/* The next to run: among those that go first if any, the oldest waiter of the sources with
 * the fewest jobs running. */
static struct waiter *
next_waiter(struct ink_gate *g)
{
	struct waiter *w, *best = NULL;
	unsigned least = ~0u, n;
	bool first = false;

	for (w = g->head; w != NULL && !first; w = w->next)
		first = w->first;
	for (w = g->head; w != NULL; w = w->next) {
		if (w->first != first)
			continue;
		n = running_of(g, w->source);
		if (n < least) {
			least = n;
			best = w;
			if (n == 0)
				break;
		}
	}
	return best;
}

int
ink_gate_enter(struct ink_gate *g, const char *source, bool first)
{
	struct waiter w = { .state = W_WAITING, .first = first }, *victim;
	struct timespec deadline;
	pthread_condattr_t ca;
	int r;

	snprintf(w.source, sizeof(w.source), "%s", source != NULL && source[0] ? source : "-");
	pthread_mutex_lock(&g->mu);
	if (g->busy < g->slots && g->head == NULL) {
		take_slot(g, w.source);
		pthread_mutex_unlock(&g->mu);
		return 0;
	}
	if (g->nwait >= g->queue) {
		if ((victim = victim_for(g, w.source, first)) == NULL) {
			pthread_mutex_unlock(&g->mu);
			return INK_ERR_BUSY;
		}
		unlink_waiter(g, victim);
		victim->state = W_REFUSED;
		pthread_cond_signal(&victim->cv);
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	w.prev = g->tail;
	if (g->tail != NULL)
		g->tail->next = &w;
	else
		g->head = &w;
	g->tail = &w;
	g->nwait++;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += g->wait_ms / 1000;
	deadline.tv_nsec += (long)(g->wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (w.state == W_WAITING) {
		if (pthread_cond_timedwait(&w.cv, &g->mu, &deadline) == ETIMEDOUT &&
		    w.state == W_WAITING) {
			unlink_waiter(g, &w);
			w.state = W_REFUSED;
		}
	}
	r = w.state == W_ADMITTED ? 0 : INK_ERR_BUSY;
	pthread_mutex_unlock(&g->mu);
	pthread_cond_destroy(&w.cv);
	return r;
}

void
ink_gate_leave(struct ink_gate *g, const char *source)
{
	struct waiter *w;

	pthread_mutex_lock(&g->mu);
	give_slot(g, source != NULL ? source : "");
	if (g->busy < g->slots && (w = next_waiter(g)) != NULL) {
		unlink_waiter(g, w);
		w->state = W_ADMITTED;
		take_slot(g, w->source);
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&g->mu);
}
