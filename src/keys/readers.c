/* readers: the connections a signature reads its key on (keys_signer_open), beside the key
 * store's main connection. On k->db the read would wait for whatever the SAM's other requests
 * do there (an authorization's commits: its OTP step, its records); here it waits for
 * nothing but another signature's read (SQLite in WAL mode reads beside a writer).
 *
 * Nothing is read on a reader that the roll-back witness (witness.c) has not vouched for: its
 * own connection is compared with the witness before its first read and after each
 * reconnection (a new PostgreSQL connection after a restart or a failover may reach another,
 * older database than the main connection does; an SQLite reader could hold another file),
 * under the caller's lock (keys_params.store_begin/end). Opened with the key store, after the
 * start's witness check, and compared with the witness then; never opened again (an SQLite
 * file opened later could be one put in its place). */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <pthread.h>
#include <stdlib.h>

struct keys_readers {
	pthread_mutex_t mu[KEYS_READERS];
	struct ksdb *db[KEYS_READERS];
	struct ksdb_stmt *secret[KEYS_READERS]; /* the key's statement, prepared once per reader */
	bool vouched[KEYS_READERS];             /* compared with the witness ... */
	unsigned gen[KEYS_READERS];             /* ... on the connection of this generation */
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
		/* vouched for now, while nothing else runs (else at its first use) */
		if (keys_witness_check_on(k, c->db[i]) == 0) {
			c->vouched[i] = true;
			c->gen[i] = ksdb_generation(c->db[i], false);
		}
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

/* Compares the reader's connection with the witness, under the caller's lock. */
static int
vouch(struct keys *k, struct ksdb *db)
{
	int r;

	if (k->params.store_begin != NULL)
		k->params.store_begin(k->params.slow_arg);
	r = keys_witness_check_on(k, db);
	if (k->params.store_end != NULL)
		k->params.store_end(k->params.slow_arg);
	return r;
}

int
keys_reader_take(struct keys *k, struct keys_reader_use *u)
{
	struct keys_readers *c = k->readers;
	size_t at;
	int r;

	if (keys_witness_refused(k) != 0)
		return INK_ERR_STORE;
	at = keys_pool_lock(c->mu, KEYS_READERS, &c->next);
	/* (a connection the server ended is made again here: a new generation) */
	u->gen = ksdb_generation(c->db[at], true);
	if (!c->vouched[at] || c->gen[at] != u->gen) {
		c->vouched[at] = false;
		if ((r = vouch(k, c->db[at])) != 0 || ksdb_generation(c->db[at], false) != u->gen) {
			pthread_mutex_unlock(&c->mu[at]);
			log_error("keystore: a signature's key read on a connection the roll-back "
			          "witness does not vouch for: refused");
			return r != 0 ? r : INK_ERR_STORE;
		}
		c->vouched[at] = true;
		c->gen[at] = u->gen;
	}
	u->slot = at;
	u->db = c->db[at];
	u->st = &c->secret[at];
	return 0;
}

bool
keys_reader_give(struct keys *k, const struct keys_reader_use *u)
{
	/* made again during the read: what it read is not vouched for */
	bool same = ksdb_generation(u->db, false) == u->gen;

	pthread_mutex_unlock(&k->readers->mu[u->slot]);
	return same;
}
