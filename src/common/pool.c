/* pool: a few worker threads at a lower CPU priority for heavy jobs (Argon2id runs), so that
 * on saturated cores a short request (a signature) is scheduled before them and never waits a
 * whole run, while the jobs still get their share (a nice value, not an idle class). The
 * caller bounds how many jobs it hands in at once (a gate slot each), so a job never waits
 * for a worker. */
#include "common/common.h"

#include <pthread.h>
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

static void *
worker(void *arg)
{
	struct ink_pool *p = arg;
	struct job *j;

	/* Linux: a thread's nice value is its own (setpriority on its thread ID); raising it
	 * needs no privilege. Failing it only costs the priority. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), p->nice) != 0)
		log_warn("heavy-job worker: cannot lower its priority");
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
