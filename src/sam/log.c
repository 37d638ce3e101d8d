/* log: inkan-sam's side of the audit log — it signs tree heads with the log key, over leaf
 * hashes it folds into its own frontier, never over a root inkand names; and it keeps records
 * of its own acts, which inkand must put into the log unchanged and in order before the SAM
 * signs a head past them. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "keys/keys.h"

static int
put_head(struct ink_buf *b, const struct audit_head *h)
{
	int r;

	if ((r = buf_put_u64(b, h->size)) != 0 || (r = buf_put_string(b, h->root, AUDIT_HASH_LEN)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)h->time)) != 0 ||
	    (r = buf_put_string(b, h->sig, h->sig_len)) != 0)
		return r;
	return 0;
}

int
sam_handle_log_head(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	size_t len = 0;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	bool closed = false;

	if ((r = keys_log_head(s->keys, &h, &closed, &spki, &len)) != 0)
		return r;
	if ((r = put_head(rep, &h)) == 0 && (r = buf_put_u8(rep, closed ? 1 : 0)) == 0)
		r = buf_put_string(rep, spki, len);
	free(spki);
	return r;
}

/* A SAM record may wait this long for a head (inkand checkpoints every
 * audit_checkpoint_interval): past it, no head is signed that leaves it out. */
#define GRACE_MIN 300

static const struct {
	uint8_t type;
	const char *action;
} acts[] = {
	{ SAM_MSG_KEY_CREATE, "sam.key.create" },
	{ SAM_MSG_KEY_IMPORT, "sam.key.certificate" },
	{ SAM_MSG_KEY_PIN, "sam.key.pin" },
	{ SAM_MSG_KEY_AUTH_MODE, "sam.key.auth_mode" },
	{ SAM_MSG_KEY_REVOKE, "sam.key.revoke" },
	{ SAM_MSG_KEY_RENEW, "sam.key.renew" },
	{ SAM_MSG_KEY_UNLOCK, "sam.key.unlock" },
	{ SAM_MSG_BACKUP, "sam.backup" },
	{ SAM_MSG_RESTORE, "sam.restore" },
	{ SAM_MSG_RESTORE_BARE, "sam.restore.bare" },
	{ SAM_MSG_AUTHORIZE, "sam.authorize" },
	{ SAM_MSG_OAUTH_CONSENT, "sam.oauth.consent" },
	{ SAM_MSG_OAUTH_SERVICE, "sam.oauth.service" },
	{ SAM_MSG_BOOTSTRAP, "sam.person.bootstrap" },
	{ SAM_MSG_LOGIN, "sam.login" },
	{ SAM_MSG_ENROL, "sam.person.enrol" },
	{ SAM_MSG_ENROL_CONFIRM, "sam.person.enrol.confirm" },
	{ SAM_MSG_REGISTER, "sam.person.register" },
	{ SAM_MSG_ROLE_SET, "sam.person.role" },
	{ SAM_MSG_PERSON_UNLOCK, "sam.person.unlock" },
	{ SAM_MSG_REENROL, "sam.person.reenrol" },
	{ SAM_MSG_PERSON_REMOVE, "sam.person.remove" },
};

const char *
sam_act_name(uint8_t type)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(acts); i++)
		if (acts[i].type == type)
			return acts[i].action;
	return NULL;
}

/* What the request this thread serves records of itself (written after the handler). Each
 * channel's thread serves one request at a time, and requests let go of mu while they sign or
 * stretch a PIN: the act is the thread's, never shared. */
struct sam_act {
	char actor[65];               /* the acting person's username ("" before one is known) */
	char role[160];
	char subject[257];
	char detail[320];
};

static _Thread_local struct sam_act cur_act;

void
sam_act_begin(struct sam_state *s)
{
	(void)s;
	memset(&cur_act, 0, sizeof(cur_act));
}

void
sam_act_subject(struct sam_state *s, const char *subject)
{
	(void)s;
	snprintf(cur_act.subject, sizeof(cur_act.subject), "%s", subject);
}

void
sam_act_actor(struct sam_state *s, const char *username, uint32_t roles)
{
	(void)s;
	snprintf(cur_act.actor, sizeof(cur_act.actor), "%s", username);
	if (roles != 0)
		auth_roles_str(roles, cur_act.role, sizeof(cur_act.role));
}

void
sam_act_detail(struct sam_state *s, const char *fmt, ...)
{
	va_list ap;

	(void)s;
	va_start(ap, fmt);
	vsnprintf(cur_act.detail, sizeof(cur_act.detail), fmt, ap);
	va_end(ap);
}

static int
held_alloc(struct sam_state *s)
{
	if (s->held == NULL && (s->held = calloc(SAM_HELD_MAX, sizeof(*s->held))) == NULL)
		return INK_ERR_ALLOC;
	if (s->spare == NULL && s->flushing == 0 &&
	    (s->spare = calloc(SAM_HELD_MAX, sizeof(*s->spare))) == NULL)
		return INK_ERR_ALLOC;
	return 0;
}

/* Room for one more held record: those held and those being written count. */
bool
sam_held_room(const struct sam_state *s)
{
	return s->nheld + s->flushing < SAM_HELD_MAX;
}

void
sam_act_record(struct sam_state *s, const char *action, int r)
{
	struct audit_event ev = {
		.actor = cur_act.actor, .role = cur_act.role, .action = action,
		.subject = cur_act.subject, .result = r == 0 ? AUDIT_SUCCESS : ink_err_str(r),
		.detail = cur_act.detail,
	};
	struct store_audit_rec rec;
	int64_t id = 0;
	unsigned was = sam_held();

	sam_lock(s, SAM_LOCK_KS | SAM_LOCK_MU);
	/* The fields as inkand's audit_append will store them, so that the leaf the SAM computes
	 * at the checkpoint is the leaf of the row; its time taken under mu, after the held
	 * records' it goes behind. */
	audit_record_fill(&rec, &ev, ink_now());
	/* Records held from signatures are still ahead of it: written with it, in one transaction
	 * (one commit, not two). */
	if (held_alloc(s) == 0 && sam_held_room(s)) {
		s->held[s->nheld++] = rec;
		sam_flush_records(s);
	} else {
		sam_flush_records(s);
		sam_unlock(s, SAM_LOCK_MU);
		if (keys_samlog_add(s->keys, &rec, &id) != 0)
			log_error("cannot keep the SAM's record of %s", action);
	}
	sam_relock(s, was);
}

int
sam_hold_record(struct sam_state *s, const char *actor, const char *action, const char *subject,
                int r, const char *detail)
{
	struct audit_event ev = {
		.actor = actor, .action = action, .subject = subject,
		.result = r == 0 ? AUDIT_SUCCESS : ink_err_str(r), .detail = detail,
	};
	unsigned was = sam_held();
	int rc = 0;

	sam_lock(s, SAM_LOCK_MU);
	if (held_alloc(s) != 0) {
		log_error("cannot hold the SAM's record of %s", action);
		rc = INK_ERR_STORE;
		goto out;
	}
	if (!sam_held_room(s))
		sam_flush_records(s);
	if (!sam_held_room(s)) {
		/* other requests filled the room while this one worked unlocked: what it made is
		 * not handed out (fail closed) */
		log_error("the SAM's held records cannot be written: %s not recorded", action);
		rc = INK_ERR_STORE;
		goto out;
	}
	audit_record_fill(&s->held[s->nheld++], &ev, ink_now());
out:
	sam_relock(s, was);
	return rc;
}

/* Takes ks (a signature that finds no room has none) and mu as it needs them. The held
 * records are written under ks, one writer at a time, and without mu: signatures hold more
 * records meanwhile (in the other array) and do not wait for the commit. A failed write puts
 * them back ahead of those (they fit: both together are at most SAM_HELD_MAX), for the next
 * flush. */
void
sam_flush_records(struct sam_state *s)
{
	struct store_audit_rec *recs;
	unsigned was = sam_held();
	size_t n;
	int r;

	sam_lock(s, SAM_LOCK_KS | SAM_LOCK_MU);
	if ((n = s->nheld) == 0 || held_alloc(s) != 0)
		goto out;
	recs = s->held;
	s->held = s->spare;
	s->spare = NULL;
	s->nheld = 0;
	s->flushing = n;
	sam_unlock(s, SAM_LOCK_MU);
	r = keys_samlog_add_many(s->keys, recs, n);
	sam_lock(s, SAM_LOCK_MU);
	s->flushing = 0;
	if (r != 0) {
		log_error("cannot write the SAM's held records");
		memcpy(recs + n, s->held, s->nheld * sizeof(*recs));
		s->spare = s->held;
		s->held = recs;
		s->nheld += n;
	} else {
		s->spare = recs;
	}
out:
	sam_relock(s, was);
}

/* The record as it must stand in the log at seq. */
static void
as_logged(struct store_audit_rec *rec, const char *epoch, int64_t id, int64_t seq)
{
	rec->seq = seq;
	snprintf(rec->request_id, sizeof(rec->request_id), "sam-%s-%lld", epoch, (long long)id);
	snprintf(rec->source, sizeof(rec->source), "%s", SAM_AUDIT_SOURCE);
}

int
sam_handle_log_pending(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	struct store_audit_rec *recs = NULL;
	char epoch[KEYS_SAMLOG_EPOCH_LEN + 1];
	int64_t *ids = NULL;
	uint64_t after = 0;
	size_t n = 0, i;
	int r;

	if (buf_get_u64(req, &after) != 0 || after > INT64_MAX || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	sam_flush_records(s);
	if ((r = keys_samlog_epoch(s->keys, epoch)) != 0 ||
	    (r = keys_samlog_pending(s->keys, (int64_t)after, SAM_LOG_PENDING_MAX, &ids, &recs,
	                             &n)) != 0)
		return r;
	if ((r = buf_put_cstring(rep, epoch)) != 0 || (r = buf_put_u32(rep, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct store_audit_rec *a = &recs[i];

		if ((r = buf_put_u64(rep, (uint64_t)ids[i])) != 0 ||
		    (r = buf_put_u64(rep, (uint64_t)a->time)) != 0 ||
		    (r = buf_put_cstring(rep, a->actor)) != 0 || (r = buf_put_cstring(rep, a->role)) != 0 ||
		    (r = buf_put_cstring(rep, a->action)) != 0 ||
		    (r = buf_put_cstring(rep, a->subject)) != 0 ||
		    (r = buf_put_cstring(rep, a->result)) != 0 ||
		    (r = buf_put_cstring(rep, a->detail)) != 0)
			goto out;
	}
out:
	free(ids);
	free(recs);
	return r;
}

/* The SAM's own shutdown record: it must be in the final head, and the SAM serves nothing but
 * the log after it (a final head without it is refused). */
int
sam_handle_log_close(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	(void)rep;
	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (!s->closing) {
		sam_flush_records(s);
		sam_act_begin(s);
		sam_act_record(s, "sam.log.close", 0);
		s->closing = true;
	}
	return 0;
}

/* The check of this node's pending records against one extension (see check_own_records). */
struct own_check {
	const int64_t *ids;         /* the ids of this node's records named, in the extension's order */
	uint32_t m, i;              /* how many; matched so far */
	int64_t oldest;             /* time before which no record may be left out */
	bool final;
	int r;
};

static int
check_one(void *arg, int64_t id, struct store_audit_rec *rec)
{
	struct own_check *c = arg;

	if (c->i == c->m) {
		/* the first record the extension leaves out: only a young one, and never at the end */
		if (c->final || rec->time < c->oldest) {
			log_warn("refused a checkpoint: it leaves out the SAM's own records");
			c->r = INK_ERR_INVALID;
		}
		return 1;
	}
	if (c->ids[c->i] != id) {
		log_warn("refused a checkpoint: the SAM's records are out of order or out of it");
		c->r = INK_ERR_INVALID;
		return 1;
	}
	c->i++;
	return 0;
}

/* One record an extension names: its id, and where in the extension's list it is. */
struct named {
	int64_t id;
	uint32_t at;
};

static int
named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The records an extension names, met in id order as the key store gives them back (one
 * statement for the lot), each checked against its leaf. */
struct leaf_check {
	const char *epoch;
	uint64_t from;
	const uint8_t *leaves;
	const int64_t *seqs;
	const struct named *named;  /* sorted by id */
	bool *mine;                 /* by position in the extension */
	uint32_t m, next;           /* how many; met so far */
	int r;
};

static int
leaf_one(void *arg, int64_t id, struct store_audit_rec *rec, bool mine)
{
	struct leaf_check *c = arg;
	uint8_t leaf[AUDIT_HASH_LEN];
	uint32_t at;

	if (c->next == c->m || id < c->named[c->next].id)
		return 0;       /* not named: another node's, or one left for later */
	if (id > c->named[c->next].id) {
		log_warn("refused a checkpoint: it names SAM records the SAM never made");
		c->r = INK_ERR_INVALID;
		return 1;
	}
	at = c->named[c->next++].at;
	as_logged(rec, c->epoch, id, c->seqs[at]);
	if (audit_leaf_hash(rec, leaf) != 0) {
		c->r = INK_ERR_INTERNAL;
		return 1;
	}
	if (CRYPTO_memcmp(leaf, c->leaves + (size_t)(c->seqs[at] - (int64_t)c->from - 1) *
	                  AUDIT_HASH_LEN, AUDIT_HASH_LEN) != 0) {
		log_warn("refused a checkpoint: a SAM record in it was changed");
		c->r = INK_ERR_INVALID;
		return 1;
	}
	c->mine[at] = mine;
	return 0;
}

/* Checks that the extension from+1..from+n holds, at the seqs the pairs name (in order), the
 * pending records they name, each unchanged and named once — this node's and, where several
 * nodes share the key store, the other nodes' SAMs' (whichever node signs next covers them) —
 * that this node's named ones are its oldest pending ones, in order, and that none of its own
 * older than the grace (none at all when final) is left out. */
static int
check_own_records(struct sam_state *s, uint64_t from, const uint8_t *leaves, uint32_t n,
                  const int64_t *ids, const int64_t *seqs, uint32_t m, bool final)
{
	struct own_check c = { .final = final };
	struct leaf_check lc = { .from = from, .leaves = leaves, .seqs = seqs, .m = m };
	char epoch[KEYS_SAMLOG_EPOCH_LEN + 1];
	int64_t grace = 2 * s->cfg->audit_checkpoint_interval, last_seq = 0, *own = NULL;
	struct named *named = NULL;
	bool *mine = NULL;
	uint32_t i;
	int r;

	c.oldest = ink_now() - (grace < GRACE_MIN ? GRACE_MIN : grace);
	sam_flush_records(s);
	if ((r = keys_samlog_epoch(s->keys, epoch)) != 0)
		return r;
	lc.epoch = epoch;
	if (m > 0 && ((own = calloc(m, sizeof(*own))) == NULL ||
	              (named = calloc(m, sizeof(*named))) == NULL ||
	              (mine = calloc(m, sizeof(*mine))) == NULL)) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	r = INK_ERR_INVALID;
	for (i = 0; i < m; i++) {
		if (seqs[i] <= last_seq || seqs[i] <= (int64_t)from ||
		    seqs[i] > (int64_t)from + (int64_t)n) {
			log_warn("refused a checkpoint: the SAM's records are out of order or out of it");
			goto out;
		}
		last_seq = seqs[i];
		named[i] = (struct named){ .id = ids[i], .at = i };
	}
	if (m > 0) {
		qsort(named, m, sizeof(*named), named_cmp);
		for (i = 1; i < m; i++)
			if (named[i].id == named[i - 1].id) {
				log_warn("refused a checkpoint: it names a SAM record twice");
				goto out;
			}
		lc.named = named;
		lc.mine = mine;
		if ((r = keys_samlog_range(s->keys, named[0].id, named[m - 1].id, leaf_one, &lc)) != 0)
			goto out;
		if ((r = lc.r) != 0)
			goto out;
		r = INK_ERR_INVALID;
		if (lc.next != m) {
			log_warn("refused a checkpoint: it names SAM records the SAM never made");
			goto out;
		}
	}
	/* this node's, in the extension's order */
	for (i = 0; i < m; i++)
		if (mine[i])
			own[c.m++] = ids[i];
	c.ids = own;
	if ((r = keys_samlog_scan(s->keys, check_one, &c)) != 0)
		goto out;
	if ((r = c.r) != 0)
		goto out;
	r = INK_ERR_INVALID;
	if (c.i != c.m) {
		log_warn("refused a checkpoint: it names SAM records the SAM never made");
		goto out;
	}
	if (final && !s->closing) {
		log_warn("refused a final checkpoint: the SAM did not close the log");
		goto out;
	}
	r = 0;
out:
	free(own);
	free(named);
	free(mine);
	return r;
}

/* 0 when the last signed head has size from; INK_ERR_EXISTS when it has another. */
static int
head_is(struct sam_state *s, uint64_t from)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	size_t len = 0;
	bool closed = false;
	int r;

	if ((r = keys_log_head(s->keys, &h, &closed, &spki, &len)) != 0)
		return r;
	free(spki);
	if (h.size != from) {
		/* with several nodes, another node's checkpoint came first: an everyday answer */
		log_info("not extending the audit log tree from size %llu: the last signed head has "
		         "size %llu", (unsigned long long)from, (unsigned long long)h.size);
		return INK_ERR_EXISTS;
	}
	return 0;
}

int
sam_handle_log_extend(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	struct audit_head h;
	uint64_t from = 0, id, seq;
	uint32_t n = 0, m = 0, i;
	int64_t *ids = NULL, *seqs = NULL;
	uint8_t final = 0;
	const uint8_t *leaves;
	int r;

	if (buf_get_u64(req, &from) != 0 || buf_get_u8(req, &final) != 0 || final > 1 ||
	    buf_get_u32(req, &m) != 0 || m > KEYS_LOG_LEAVES_MAX)
		return INK_ERR_PROTOCOL;
	if ((m > 0 && ((ids = calloc(m, sizeof(*ids))) == NULL ||
	               (seqs = calloc(m, sizeof(*seqs))) == NULL))) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < m; i++) {
		if (buf_get_u64(req, &id) != 0 || buf_get_u64(req, &seq) != 0 || id > INT64_MAX ||
		    seq > INT64_MAX) {
			r = INK_ERR_PROTOCOL;
			goto out;
		}
		ids[i] = (int64_t)id;
		seqs[i] = (int64_t)seq;
	}
	if (buf_get_u32(req, &n) != 0 || n > KEYS_LOG_LEAVES_MAX ||
	    buf_remaining(req) != (size_t)n * AUDIT_HASH_LEN) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	leaves = req->data + req->off;
	/* a stale size first (another node's SAM signed since: the caller reads back from the
	 * new head), before the records: those the other head covered are no longer pending */
	if ((r = head_is(s, from)) != 0)
		goto out;
	if ((r = check_own_records(s, from, leaves, n, ids, seqs, m, final == 1)) != 0) {
		/* the same, had the other node signed while these were checked */
		if (r == INK_ERR_INVALID && head_is(s, from) == INK_ERR_EXISTS)
			r = INK_ERR_EXISTS;
		goto out;
	}
	/* the head and the marks of the records it covers: one transaction, or a lost connection
	 * between them would leave logged records pending, and every later check refused */
	if ((r = keys_log_extend(s->keys, from, leaves, n, final == 1, ids, seqs, m, &h)) != 0)
		goto out;
	req->off += (size_t)n * AUDIT_HASH_LEN;
	r = put_head(rep, &h);
out:
	free(ids);
	free(seqs);
	return r;
}
