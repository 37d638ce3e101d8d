/* readers: the connections a signature reads its key on (keys_signer_open), beside the key
 * store's main connection. On k->db the read would wait for whatever the SAM's other requests
 * do there (an authorization's commits: its OTP step, its records); here it waits for
 * nothing but another signature's read (SQLite in WAL mode reads beside a writer).
 *
 * Nothing is read on a reader that the roll-back witness (witness.c) has not vouched for: a
 * reader's connection counts as checked once a witness check has *started* after it was
 * first seen on that connection (a new PostgreSQL connection after a restart, failover or
 * recovery may reach an older database than the one checked); until then the read waits for
 * one, made on the main connection under the caller's lock (keys_params.store_begin/end). The
 * readers are opened with the key store, before the start's check, which vouches for them
 * (SQLite: they hold the same file as k->db, never one put in its place later); a PostgreSQL
 * reader made again later (a restart, a failover) waits for a check of its own. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <pthread.h>
#include <stdlib.h>

struct keys_readers {
	pthread_mutex_t mu[KEYS_READERS];
	struct ksdb *db[KEYS_READERS];
	struct ksdb_stmt *secret[KEYS_READERS]; /* the key's statement, prepared once per reader */
	unsigned gen[KEYS_READERS];             /* the connection's generation when last seen */
	uint64_t seen_at[KEYS_READERS];         /* witness checks started when it was first seen */
	unsigned next;                          /* where the next search starts (a hint) */
};

size_t
keys_pool_lock(pthread_mutex_t *mu, size_t n, unsigned *next)
{
	size_t at = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED) % n, i;

	for (i = 0; i < n; i++)
		if (pthread_mutex_trylock(&mu[(at + i) % n]) == 0)
			return (at + i) % n;
	pthread_mutex_lock(&mu[at]);
	return at;
}

int
keys_readers_open(struct keys *k)
{
	struct keys_readers *c;
	size_t i;

	if (k->readers != NULL)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < KEYS_READERS; i++) {
		if (pthread_mutex_init(&c->mu[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&c->mu[i]);
			free(c);
			return INK_ERR_ALLOC;
		}
	}
	k->readers = c;
	for (i = 0; i < KEYS_READERS; i++) {
		if (keys_db_connect(k->dir, &c->db[i]) != 0) {
			keys_readers_close(k);
			return INK_ERR_STORE;
		}
		/* seen now: the next check (the start's) vouches for it */
		c->gen[i] = ksdb_generation(c->db[i], false);
		c->seen_at[i] = __atomic_load_n(&k->witness_started, __ATOMIC_ACQUIRE);
	}
	return 0;
}

void
keys_readers_close(struct keys *k)
{
	size_t i;

	if (k->readers == NULL)
		return;
	for (i = 0; i < KEYS_READERS; i++) {
		ksdb_finalize(k->readers->secret[i]);
		ksdb_close(k->readers->db[i]);
		pthread_mutex_destroy(&k->readers->mu[i]);
	}
	free(k->readers);
	k->readers = NULL;
}

/* A free reader (want: that one, SIZE_MAX: any), locked. (Each is opened once, with the key
 * store: a file opened later could be one put in its place.) */
static size_t
take(struct keys *k, size_t want)
{
	struct keys_readers *c = k->readers;
	size_t at;

	if (want != SIZE_MAX)
		pthread_mutex_lock(&c->mu[at = want]);
	else
		at = keys_pool_lock(c->mu, KEYS_READERS, &c->next);
	return at;
}

/* A witness check on the main connection, under the caller's lock. */
static int
recheck(struct keys *k)
{
	int r;

	if (k->params.store_begin != NULL)
		k->params.store_begin(k->params.slow_arg);
	(void)ksdb_generation(k->db, true);   /* a connection the server ended is made again */
	r = keys_witness_check(k);
	if (k->params.store_end != NULL)
		k->params.store_end(k->params.slow_arg);
	return r;
}

int
keys_reader_take(struct keys *k, struct keys_reader_use *u)
{
	struct keys_readers *c = k->readers;
	size_t at = SIZE_MAX;
	int tries, r;

	/* after a check, the reader it was made for (another one may need its own) */
	for (tries = 0; tries < 3; tries++) {
		if (keys_witness_refused(k) != 0)
			return INK_ERR_STORE;
		at = take(k, at);
		u->gen = ksdb_generation(c->db[at], true);
		if (c->gen[at] != u->gen) {   /* made again: seen now */
			c->gen[at] = u->gen;
			c->seen_at[at] = __atomic_load_n(&k->witness_started, __ATOMIC_ACQUIRE);
		}
		if (__atomic_load_n(&k->witness_passed, __ATOMIC_ACQUIRE) > c->seen_at[at]) {
			u->slot = at;
			u->db = c->db[at];
			u->st = &c->secret[at];
			return 0;
		}
		pthread_mutex_unlock(&c->mu[at]);
		if ((r = recheck(k)) != 0)
			return r;
	}
	log_error("keystore: a signature's key read found no connection the roll-back witness "
	          "vouches for");
	return INK_ERR_STORE;
}

bool
keys_reader_give(struct keys *k, const struct keys_reader_use *u)
{
	/* made again during the read: what it read is not vouched for */
	bool same = ksdb_generation(u->db, false) == u->gen;

	pthread_mutex_unlock(&k->readers->mu[u->slot]);
	return same;
}
