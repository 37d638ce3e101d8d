/* samlog: inkand's side of the SAM's own audit records — copied into the audit log as the SAM
 * made them (time, fields, request id "sam-<id>", source "inkan-sam"), and named to the SAM
 * with their positions when it signs a head over them, which it checks leaf by leaf. */
#include "server/server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "sam/sam.h"

static pthread_mutex_t pull_mu = PTHREAD_MUTEX_INITIALIZER;
/* Under pull_mu: the SAM key store's name for its records, and the highest of its record ids
 * in the log. */
static char epoch[SAM_EPOCH_MAX + 1];
static int64_t appended;

/* The id of a row that is a record of this SAM key store's, or 0 for any other row (a record
 * of a key store replaced since is not this one's). */
static int64_t
sam_id_of(const struct store_audit_rec *rec, const char *ep)
{
	char want[SAM_EPOCH_MAX + 8];
	long long id = 0;
	char tail;
	int n;

	n = snprintf(want, sizeof(want), "sam-%s-", ep);
	if (ep[0] == '\0' || strcmp(rec->source, SAM_AUDIT_SOURCE) != 0 ||
	    strncmp(rec->request_id, want, (size_t)n) != 0 ||
	    sscanf(rec->request_id + n, "%lld%c", &id, &tail) != 1 || id <= 0)
		return 0;
	return (int64_t)id;
}

int
srv_samlog_init(struct srv *s, uint64_t signed_size)
{
	struct store_audit_rec *recs = NULL;
	int64_t after = (int64_t)signed_size, id, *ids = NULL;
	size_t n = 0, np = 0, i;
	int r;

	/* Records copied before a crash and not yet under a head are in the log already: those of
	 * this node's SAM's pending ones (other nodes' SAMs hand their own records to their own
	 * inkand; the ids of all interleave) */
	pthread_mutex_lock(&pull_mu);
	appended = 0;
	if ((r = sam_log_pending(s->sam, 0, epoch, &ids, &recs, &np)) != 0)
		goto out;
	free(recs);
	recs = NULL;
	do {
		if ((r = audit_read(s->st, after, 1000, &recs, &n)) != 0)
			break;
		for (i = 0; i < n; i++) {
			id = sam_id_of(&recs[i], epoch);
			if (id > appended && np > 0 &&
			    (bsearch(&id, ids, np, sizeof(*ids), ink_cmp_i64) != NULL ||
			     (np == SAM_LOG_PENDING_MAX && id > ids[np - 1])))
				appended = id;
			after = recs[i].seq;
		}
		free(recs);
		recs = NULL;
	} while (n > 0);
out:
	free(ids);
	pthread_mutex_unlock(&pull_mu);
	return r;
}

/* One round: at most SAM_LOG_PENDING_MAX records; *got how many the SAM handed over. */
static int
pull_once(struct srv *s, size_t *got)
{
	struct audit_event ev[AUDIT_MANY_MAX];
	char now_epoch[SAM_EPOCH_MAX + 1];
	struct store_audit_rec *recs = NULL;
	int64_t *ids = NULL, last = 0;
	size_t n = 0, i, k = 0;
	int r;

	*got = 0;
	if ((r = sam_log_pending(s->sam, appended, now_epoch, &ids, &recs, &n)) != 0)
		goto out;
	/* A key store made anew (a disaster recovery while inkand ran on): its numbers start
	 * again. */
	if (strcmp(now_epoch, epoch) != 0) {
		snprintf(epoch, sizeof(epoch), "%s", now_epoch);
		appended = 0;
		free(ids);
		free(recs);
		ids = NULL;
		recs = NULL;
		if ((r = sam_log_pending(s->sam, 0, now_epoch, &ids, &recs, &n)) != 0)
			goto out;
	}
	*got = n;
	for (i = 0; i <= n; i++) {
		/* a full batch, or the end: append what is gathered, in order */
		if (k == AUDIT_MANY_MAX || (i == n && k > 0)) {
			if ((r = audit_append_many(s->st, ev, k)) != 0)
				goto out;
			appended = last;
			k = 0;
		}
		if (i == n || ids[i] <= appended)
			continue;
		ev[k++] = (struct audit_event){
			.actor = recs[i].actor, .role = recs[i].role, .action = recs[i].action,
			.subject = recs[i].subject, .result = recs[i].result,
			.request_id = recs[i].request_id, .source = recs[i].source,
			.detail = recs[i].detail, .time = recs[i].time,
		};
		last = ids[i];
	}
out:
	free(ids);
	free(recs);
	return r;
}

int
srv_samlog_pull(struct srv *s)
{
	size_t got = 0, round;
	int r = 0;

	/* Until the SAM has handed over all (a flood of refusals could leave many): bounded. */
	pthread_mutex_lock(&pull_mu);
	for (round = 0; round < 64; round++)
		if ((r = pull_once(s, &got)) != 0 || got < SAM_LOG_PENDING_MAX)
			break;
	pthread_mutex_unlock(&pull_mu);
	if (r != 0)
		log_error("cannot copy the SAM's records into the audit log: %s", ink_err_str(r));
	return r;
}

int
srv_samlog_pairs(struct srv *s, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN], size_t n,
                 int64_t **ids, int64_t **seqs, size_t *m)
{
	struct store_audit_rec *recs = NULL;
	uint8_t leaf[AUDIT_HASH_LEN];
	char ep[SAM_EPOCH_MAX + 1];
	int64_t after = (int64_t)from, id, *iv = NULL, *sv = NULL;
	size_t got = 0, i, cnt = 0;
	int r = 0;

	*ids = *seqs = NULL;
	*m = 0;
	if (n == 0)
		return 0;
	pthread_mutex_lock(&pull_mu);
	snprintf(ep, sizeof(ep), "%s", epoch);
	pthread_mutex_unlock(&pull_mu);
	if ((iv = calloc(n, sizeof(*iv))) == NULL || (sv = calloc(n, sizeof(*sv))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	while (after < (int64_t)(from + n)) {
		if ((r = audit_read(s->st, after, 1000, &recs, &got)) != 0 || got == 0)
			break;
		for (i = 0; i < got && recs[i].seq <= (int64_t)(from + n); i++) {
			after = recs[i].seq;
			/* only rows that are the leaves being signed (never a row someone else put
			 * there with the SAM's name on it) */
			if ((id = sam_id_of(&recs[i], ep)) == 0 || audit_leaf_hash(&recs[i], leaf) != 0 ||
			    memcmp(leaf, leaves[recs[i].seq - (int64_t)from - 1], AUDIT_HASH_LEN) != 0)
				continue;
			iv[cnt] = id;
			sv[cnt++] = recs[i].seq;
		}
		if (i < got)
			after = (int64_t)(from + n);
		free(recs);
		recs = NULL;
	}
	*ids = iv;
	*seqs = sv;
	*m = cnt;
	iv = sv = NULL;
out:
	free(recs);
	free(iv);
	free(sv);
	return r;
}
