/* pool: a few worker threads at a lower CPU priority for heavy jobs (Argon2id runs), so that
 * on saturated cores a short request (a signature) is scheduled before them and never waits a
 * whole run, while the jobs still get their share (a nice value, not an idle class, which
 * would starve them under a bulk signer). Three settings of each worker, none of which needs a
 * privilege (docs/performance.md, Session 8):
 * - nice INK_POOL_NICE_ARGON2 above the process's: the share of saturated cores (CFS/EEVDF
 *   weight 335 : 1024);
 * - SCHED_BATCH, which keeps that weight: a worker woken for a job never preempts a running
 *   thread (a batch task preempts nobody on wakeup; the tick does);
 * - a time slice longer than the default (Linux >= 6.12, sched_attr.sched_runtime on a fair
 *   policy): a thread woken with the default slice — a signature's path through inkand and
 *   the SAM — then preempts a worker at once instead of waiting out the worker's protected
 *   slice (EEVDF "shorter slices preempt on wakeup"); the share does not depend on the slice.
 *   Older kernels take the policy and the nice value without the slice.
 * The caller bounds how many jobs it hands in at once (a gate slot each), so a job never waits
 * for a worker. */
#include "common/common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct job {
	void (*fn)(void *);
	void *arg;
	bool done;
	struct job *next;
};

struct ink_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *head, *tail;
	bool stop;
	unsigned n;
	int nice;
	pthread_t *threads;
};

/* The kernel's struct sched_attr, first version (SCHED_ATTR_SIZE_VER0): glibc 2.36 has no
 * sched_setattr(). */
struct pool_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};
_Static_assert(sizeof(struct pool_sched_attr) == 48, "struct sched_attr, version 0");

/* This thread: SCHED_BATCH at nice more than its own with a long slice (INK_POOL_SLICE_NS:
 * well above the default of 0.7 ms x (1 + log2 CPUs), 2.8 ms at most, and below the kernel's
 * limit of 100 ms), or without the slice where the kernel has none to give. Failing all of it
 * only costs the priority. */
static void
lower_priority(int nice)
{
	struct pool_sched_attr a = {
		.size = sizeof(a), .policy = SCHED_BATCH, .runtime = INK_POOL_SLICE_NS,
	};
	struct sched_param sp = { .sched_priority = 0 };
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int now;

	errno = 0;
	now = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno != 0)
		now = 0;
	a.nice = now + nice > 19 ? 19 : now + nice;
	nice = a.nice;
	if (syscall(SYS_sched_setattr, tid, &a, 0U) == 0)
		return;
	a.runtime = 0;
	if (syscall(SYS_sched_setattr, tid, &a, 0U) == 0)
		return;
	if (sched_setscheduler(tid, SCHED_BATCH, &sp) != 0)
		log_warn("heavy-job worker: cannot take the batch scheduling policy");
	if (setpriority(PRIO_PROCESS, (id_t)tid, nice) != 0)
		log_warn("heavy-job worker: cannot lower its priority");
}

static void *
worker(void *arg)
{
	struct ink_pool *p = arg;
	struct job *j;

	/* Linux: a thread's policy, nice value and slice are its own (on its thread ID). Named,
	 * so that an operator (and t_mixed) can tell the stretchings in /proc/PID/task. */
	(void)pthread_setname_np(pthread_self(), "inkan-stretch");
	lower_priority(p->nice);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->head == NULL)
			break;
		j = p->head;
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->fn(j->arg);
		pthread_mutex_lock(&p->mu);
		j->done = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
ink_pool_new(unsigned n, int nice, struct ink_pool **out)
{
	struct ink_pool *p;

	*out = NULL;
	if (n == 0 || n > INK_GATE_SLOTS_MAX)
		return INK_ERR_INVALID;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->threads = calloc(n, sizeof(*p->threads))) == NULL) {
		free(p);
		return INK_ERR_ALLOC;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	p->nice = nice;
	for (; p->n < n; p->n++)
		if (pthread_create(&p->threads[p->n], NULL, worker, p) != 0) {
			ink_pool_free(p);
			return INK_ERR_INTERNAL;
		}
	*out = p;
	return 0;
}

void
ink_pool_free(struct ink_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}

void
ink_pool_run(struct ink_pool *p, void (*fn)(void *), void *arg)
{
	struct job j = { .fn = fn, .arg = arg };

	pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->next = &j;
	else
		p->head = &j;
	p->tail = &j;
	pthread_cond_signal(&p->work);
	while (!j.done)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
