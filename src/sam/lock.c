/* lock: the SAM's two locks, and which of them this thread holds.
 *
 * ks is the key store's: its main connection (k->db, with its transactions) and everything of
 * the SAM that is read or changed through it (persons, sessions, credentials, the SAM's own
 * records). Every request but a signature holds it from start to end, and lets it go only
 * where it waits or works on no state (a PIN stretching, a key generation, a wait for a
 * credential, a time-stamp's signature).
 *
 * mu is what signatures share with the rest, in memory: the credentials' holds, the SAD table
 * (in memory on one node), the held records, the count of requests signing. A signature
 * (SAM_MSG_SIGN) takes mu only, reads its key on a connection of its own (keys_signer_open)
 * and so never waits behind another request's commits. Every other request takes mu only
 * around what it touches of those (sam_cred_hold/release, sam_sads_enter/leave,
 * sam_hold_record, sam_flush_records), never over a statement of the key store: a commit
 * (an authorization's OTP step, a checkpoint's marks) holds ks alone.
 *
 * Order: a signature's reader (keys/readers.c) before ks before mu. Taking ks while holding mu
 * lets mu go first and takes it back after (what mu guards may have changed meanwhile:
 * callers hold a credential where that matters). */
#include "sam/sam_int.h"

static _Thread_local unsigned held;

unsigned
sam_held(void)
{
	return held;
}

void
sam_lock(struct sam_state *s, unsigned what)
{
	if ((what & SAM_LOCK_KS) && !(held & SAM_LOCK_KS)) {
		if (held & SAM_LOCK_MU)
			pthread_mutex_unlock(&s->mu);
		pthread_mutex_lock(&s->ks);
		held |= SAM_LOCK_KS;
		if (held & SAM_LOCK_MU)
			pthread_mutex_lock(&s->mu);
	}
	if ((what & SAM_LOCK_MU) && !(held & SAM_LOCK_MU)) {
		pthread_mutex_lock(&s->mu);
		held |= SAM_LOCK_MU;
	}
}

void
sam_unlock(struct sam_state *s, unsigned what)
{
	if ((what & SAM_LOCK_MU) && (held & SAM_LOCK_MU)) {
		held &= ~SAM_LOCK_MU;
		pthread_mutex_unlock(&s->mu);
	}
	if ((what & SAM_LOCK_KS) && (held & SAM_LOCK_KS)) {
		held &= ~SAM_LOCK_KS;
		pthread_mutex_unlock(&s->ks);
	}
}

unsigned
sam_let_go(struct sam_state *s)
{
	unsigned was = held;

	sam_unlock(s, was);
	return was;
}

void
sam_relock(struct sam_state *s, unsigned was)
{
	sam_unlock(s, held & ~was);
	sam_lock(s, was);
}

unsigned
sam_sads_enter(struct sam_state *s)
{
	unsigned was = held;

	if (!sad_table_unlocked(s->sads))
		sam_lock(s, SAM_LOCK_MU);
	return was;
}

void
sam_sads_leave(struct sam_state *s, unsigned was)
{
	sam_relock(s, was);
}

void
sam_wait_holds(struct sam_state *s)
{
	bool ks = (held & SAM_LOCK_KS) != 0;

	/* A request waiting for a credential holds no ks: what it waits for (a signature's
	 * flush of its records, a PIN check's commits) may need it. */
	if (ks) {
		held &= ~SAM_LOCK_KS;
		pthread_mutex_unlock(&s->ks);
	}
	pthread_cond_wait(&s->holds_freed, &s->mu);
	if (ks)
		sam_lock(s, SAM_LOCK_KS);
}

/* keys_params.slow_begin/end: around an Argon2id run or a key generation inside the key
 * manager, nothing of the SAM's state is touched: both locks are let go. */
static _Thread_local unsigned slow_was;

void
sam_slow_begin(void *arg)
{
	slow_was = sam_let_go(arg);
}

void
sam_slow_end(void *arg)
{
	sam_lock(arg, slow_was);
}

/* keys_params.store_begin/end: a signature's key read found its connection new (keys/): that
 * connection is compared with the roll-back witness under ks (a refusal marks the key store
 * rolled back, state ks guards). */
static _Thread_local unsigned store_was;

void
sam_store_begin(void *arg)
{
	store_was = held;
	sam_lock(arg, SAM_LOCK_KS);
}

void
sam_store_end(void *arg)
{
	if (!(store_was & SAM_LOCK_KS))
		sam_unlock(arg, SAM_LOCK_KS);
}
