/* ratelimit: token buckets — one for everyone, one per client in a table of fixed size — so
 * that a request class costs at most so many a second, whoever sends it. */
#include "server/server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Slots looked at for a client before it shares the overflow bucket. */
#define RATE_PROBES 8

struct bucket {
	double tokens;
	double last;           /* monotonic seconds of the last refill */
};

struct client {
	char key[64];          /* "" : free */
	struct bucket b;
};

struct srv_rate {
	pthread_mutex_t mu;
	double rate, per_client;       /* tokens a second; the burst is as many */
	struct bucket all, overflow;
	struct client *v;
	size_t slots;
};

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
srv_rate_new(int64_t rate, int64_t per_client, size_t slots, struct srv_rate **out)
{
	struct srv_rate *rl;
	double now = mono_now();

	*out = NULL;
	if (rate < 0 || per_client < 0 || slots == 0 || (slots & (slots - 1)) != 0)
		return INK_ERR_INVALID;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return INK_ERR_ALLOC;
	if ((rl->v = calloc(slots, sizeof(*rl->v))) == NULL) {
		free(rl);
		return INK_ERR_ALLOC;
	}
	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = (double)rate;
	rl->per_client = (double)per_client;
	rl->slots = slots;
	rl->all = (struct bucket){ .tokens = rl->rate, .last = now };
	rl->overflow = (struct bucket){ .tokens = rl->per_client, .last = now };
	*out = rl;
	return 0;
}

void
srv_rate_free(struct srv_rate *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->mu);
	free(rl->v);
	free(rl);
}

/* Refills b to now at rate (burst rate). */
static void
refill(struct bucket *b, double rate, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * rate;
		if (b->tokens > rate)
			b->tokens = rate;
		b->last = now;
	}
}

/* Seconds until b holds a whole token. */
static double
wait_for(const struct bucket *b, double rate)
{
	return b->tokens >= 1.0 ? 0.0 : (1.0 - b->tokens) / rate;
}

/* The client's bucket: its slot, a free one, one whose bucket has refilled completely (an
 * idle client, as good as new), or the bucket the clients beyond the table share. */
static struct bucket *
client_bucket(struct srv_rate *rl, const char *key, double now)
{
	struct client *c, *reuse = NULL;
	uint64_t h = 14695981039346656037ULL;
	const char *p;
	size_t i, k;

	for (p = key; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	for (k = 0, i = (size_t)h & (rl->slots - 1); k < RATE_PROBES && k < rl->slots;
	     k++, i = (i + 1) & (rl->slots - 1)) {
		c = &rl->v[i];
		if (strcmp(c->key, key) == 0)
			return &c->b;
		if (reuse == NULL && c->key[0] == '\0')
			reuse = c;
		if (reuse == NULL) {
			refill(&c->b, rl->per_client, now);
			if (c->b.tokens >= rl->per_client)
				reuse = c;
		}
	}
	if (reuse == NULL)
		return &rl->overflow;
	snprintf(reuse->key, sizeof(reuse->key), "%s", key);
	reuse->b = (struct bucket){ .tokens = rl->per_client, .last = now };
	return &reuse->b;
}

bool
srv_rate_take(struct srv_rate *rl, const char *client, unsigned *retry_after)
{
	struct bucket *b = NULL;
	double now = mono_now(), w = 0.0, wc;
	bool ok = true;

	*retry_after = 0;
	if (rl == NULL)
		return true;
	pthread_mutex_lock(&rl->mu);
	if (rl->rate > 0) {
		refill(&rl->all, rl->rate, now);
		w = wait_for(&rl->all, rl->rate);
	}
	if (rl->per_client > 0) {
		b = client_bucket(rl, client != NULL ? client : "", now);
		refill(b, rl->per_client, now);
		wc = wait_for(b, rl->per_client);
		if (wc > w)
			w = wc;
	}
	/* a refused request takes nothing: it costs nobody else their turn */
	if (w > 0.0) {
		ok = false;
		/* whole seconds, rounded up (w is at most one token's time: below 1 s a token) */
		*retry_after = w < 1.0 ? 1 : (unsigned)w + ((double)(unsigned)w < w ? 1 : 0);
	} else {
		if (rl->rate > 0)
			rl->all.tokens -= 1.0;
		if (b != NULL)
			b->tokens -= 1.0;
	}
	pthread_mutex_unlock(&rl->mu);
	return ok;
}
