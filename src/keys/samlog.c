/* samlog: the SAM's own audit records, kept in the key store until inkand has copied them into
 * the audit log and a checkpoint the SAM signed holds them (sam/log.c checks that). */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static void
text_col(struct ksdb_stmt *st, int col, char *out, size_t outsz)
{
	const char *t = ksdb_column_text(st, col);

	snprintf(out, outsz, "%s", t != NULL ? t : "");
}

/* The SAM's records are kept as these columns, 8 parameters a record (bind_rec). */
#define SAM_AUDIT_INSERT \
	"INSERT INTO sam_audit (actor, role, action, subject, result, detail, time, node) VALUES "

/* Binds a record to the parameters after at (at + 1 .. at + 8). */
static bool
bind_rec(struct ksdb_stmt *st, int at, const struct store_audit_rec *a, const char *node)
{
	const char *vals[] = { a->actor, a->role, a->action, a->subject, a->result, a->detail };
	size_t c;

	for (c = 0; c < INK_ARRAY_LEN(vals); c++)
		if (ksdb_bind_text(st, at + (int)c + 1, vals[c], -1) != KSDB_OK)
			return false;
	return ksdb_bind_int64(st, at + 7, a->time) == KSDB_OK &&
	    ksdb_bind_text(st, at + 8, node, -1) == KSDB_OK;
}

int
keys_samlog_add(struct keys *k, const struct store_audit_rec *rec, int64_t *id)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	*id = 0;
	if (ksdb_prepare(k->db, SAM_AUDIT_INSERT "(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", &st) !=
	    KSDB_OK || !bind_rec(st, 0, rec, k->node) || ksdb_step(st) != KSDB_ROW)
		goto out;
	*id = ksdb_column_int64(st, 0);
	if (ksdb_step(st) != KSDB_DONE) {
		*id = 0;
		goto out;
	}
	r = 0;
out:
	if (r != 0)
		log_error("keystore: cannot keep a SAM audit record: %s", ksdb_errmsg(k->db));
	ksdb_finalize(st);
	return r;
}

static void
row_to_rec(struct ksdb_stmt *st, struct store_audit_rec *a)
{
	memset(a, 0, sizeof(*a));
	a->time = ksdb_column_int64(st, 1);
	text_col(st, 2, a->actor, sizeof(a->actor));
	text_col(st, 3, a->role, sizeof(a->role));
	text_col(st, 4, a->action, sizeof(a->action));
	text_col(st, 5, a->subject, sizeof(a->subject));
	text_col(st, 6, a->result, sizeof(a->result));
	text_col(st, 7, a->detail, sizeof(a->detail));
}

/* Not in the log yet. NOT EXISTS, not NOT IN: PostgreSQL answers "id NOT IN (SELECT id ...)"
 * by reading (and hashing) the whole of sam_audit_logged, which grows with every record ever
 * logged; NOT EXISTS probes its primary key. */
#define UNLOGGED "NOT EXISTS (SELECT 1 FROM sam_audit_logged l WHERE l.id = sam_audit.id)"

/* This node's records (and those made before nodes had names) not in the log yet. */
#define PENDING_SQL "SELECT id, time, actor, role, action, subject, result, detail FROM sam_audit " \
	"WHERE id > ?1 AND node IN ('', ?2) AND " UNLOGGED " ORDER BY id"

/* A pending walk's lower bound: records are logged in time, and a walk from the start would
 * read every record ever made (millions, on a service that has run a while) at each
 * checkpoint. What a walk finds moves the bound up: every record of this node's below the
 * first one it finds pending is logged (they only ever become so; a record is this node's
 * only if this process made it, under the same lock), or, when it finds none, every one of
 * this node's up to the highest it could see. Learnt on one connection: a new one (the
 * database restarted, failed over or was recovered, and its id sequence may have gone back),
 * a restore or a roll-back the witness finds start it again from 0. */
static int64_t
low_get(struct keys *k)
{
	unsigned gen = ksdb_generation(k->db, false);

	if (gen != k->samlog_gen) {
		k->samlog_gen = gen;
		k->samlog_low = 0;
	}
	return k->samlog_low;
}

static void
low_saw(struct keys *k, int64_t first_pending, int64_t top)
{
	int64_t low = first_pending > 0 ? first_pending - 1 : top;

	if (ksdb_generation(k->db, false) == k->samlog_gen && low > k->samlog_low)
		k->samlog_low = low;
}

int
keys_samlog_scan(struct keys *k, int (*fn)(void *arg, int64_t id, struct store_audit_rec *rec),
                 void *arg)
{
	struct store_audit_rec *a = NULL;
	struct ksdb_stmt *st = NULL;
	int64_t top = 0, first = 0, low, id;
	int rc, r = INK_ERR_STORE;

	if ((a = malloc(sizeof(*a))) == NULL)
		return INK_ERR_ALLOC;
	low = low_get(k);
	/* (ORDER BY ... LIMIT 1, not max(): read backwards from the newest, both engines stop at
	 * the first of this node's) */
	if (ksdb_prepare(k->db, "SELECT id FROM sam_audit WHERE node IN ('', ?1) ORDER BY id DESC "
	                 "LIMIT 1", &st) != KSDB_OK || ksdb_bind_text(st, 1, k->node, -1) != KSDB_OK)
		goto out;
	if ((rc = ksdb_step(st)) == KSDB_ROW)
		top = ksdb_column_int64(st, 0);
	else if (rc != KSDB_DONE)
		goto out;
	ksdb_finalize(st);
	st = NULL;
	if (ksdb_prepare(k->db, PENDING_SQL, &st) != KSDB_OK ||
	    ksdb_bind_int64(st, 1, low) != KSDB_OK ||
	    ksdb_bind_text(st, 2, k->node, -1) != KSDB_OK)
		goto out;
	while ((rc = ksdb_step(st)) == KSDB_ROW) {
		id = ksdb_column_int64(st, 0);
		if (first == 0)
			first = id;
		row_to_rec(st, a);
		if ((r = fn(arg, id, a)) != 0) {
			r = r > 0 ? 0 : r;
			goto done;
		}
	}
	if (rc != KSDB_DONE)
		goto out;
	r = 0;
done:
	if (r == 0 && (first > 0 || top > 0))
		low_saw(k, first, top);
out:
	ksdb_finalize(st);
	free(a);
	return r;
}

/* Rows of one multi-row INSERT: a flush of held records or a checkpoint's marks is a few
 * statements, not one round trip a record (on PostgreSQL each is one; KS_MAX_PARAMS bounds the
 * parameters of one statement). */
#define ADD_ROWS 16     /* x 8 parameters */
#define MARK_ROWS 64    /* x 2 parameters */
_Static_assert(ADD_ROWS * 8 <= KSDB_MAX_PARAMS && MARK_ROWS * 2 <= KSDB_MAX_PARAMS,
               "a statement of held records or marks has more parameters than the key store takes");

/* head, then rows groups of cols bare placeholders, then tail: our own text for any rows, never
 * a value. Prepared statements are found by their text: at most ADD_ROWS (MARK_ROWS) texts.
 * False when it does not fit in sz (a text cut short could still be a statement). */
static bool
values_sql(char *out, size_t sz, const char *head, size_t rows, size_t cols, const char *tail)
{
	size_t o, r, c;

	o = (size_t)snprintf(out, sz, "%s", head);
	for (r = 0; r < rows && o < sz; r++)
		for (c = 0; c < cols && o < sz; c++)
			o += (size_t)snprintf(out + o, sz - o, "%s?%s", c > 0 ? ", " : r > 0 ? ", (" : "(",
			                      c + 1 == cols ? ")" : "");
	if (o < sz)
		o += (size_t)snprintf(out + o, sz - o, "%s", tail);
	if (o >= sz) {
		log_bug("keystore: a statement of %zu rows does not fit", rows);
		return false;
	}
	return true;
}

/* Binds row j of a multi-row statement (its parameters after at). */
typedef bool (*bind_row_fn)(struct ksdb_stmt *st, int at, size_t j, const void *arg);

/* n rows, at most per rows (cols parameters each) a statement of head, placeholders and tail,
 * inside the caller's transaction; what names them in the log of a failure. */
static int
insert_rows_in(struct keys *k, size_t n, size_t per, size_t cols, const char *head,
               const char *tail, bind_row_fn bind, const void *arg, const char *what)
{
	struct ksdb_stmt *st = NULL;
	char sql[1024];
	size_t i, j, m;
	int r = 0;

	for (i = 0; i < n; i += m) {
		m = n - i < per ? n - i : per;
		r = INK_ERR_STORE;
		if (!values_sql(sql, sizeof(sql), head, m, cols, tail) ||
		    ksdb_prepare(k->db, sql, &st) != KSDB_OK)
			goto out;
		for (j = 0; j < m; j++)
			if (!bind(st, (int)(j * cols), i + j, arg))
				goto out;
		if (ksdb_step(st) != KSDB_DONE)
			goto out;
		ksdb_finalize(st);
		st = NULL;
		r = 0;
	}
out:
	ksdb_finalize(st);
	if (r != 0)
		log_error("keystore: cannot %s: %s", what, ksdb_errmsg(k->db));
	return r;
}

/* The same in a transaction of its own (rolled back on failure). */
static int
insert_rows(struct keys *k, size_t n, size_t per, size_t cols, const char *head,
            const char *tail, bind_row_fn bind, const void *arg, const char *what)
{
	int r;

	if ((r = keys_begin(k)) != 0)
		return r;
	if ((r = insert_rows_in(k, n, per, cols, head, tail, bind, arg, what)) == 0 &&
	    (r = keys_exec(k, "COMMIT")) != 0)
		log_error("keystore: cannot %s: %s", what, ksdb_errmsg(k->db));
	if (r != 0)
		(void)keys_exec(k, "ROLLBACK");
	return r;
}

struct recs_arg {
	const struct store_audit_rec *recs;
	const char *node;
};

static bool
bind_held(struct ksdb_stmt *st, int at, size_t j, const void *arg)
{
	const struct recs_arg *a = arg;

	return bind_rec(st, at, &a->recs[j], a->node);
}

int
keys_samlog_add_many(struct keys *k, const struct store_audit_rec *recs, size_t n)
{
	struct recs_arg a = { .recs = recs, .node = k->node };

	return insert_rows(k, n, ADD_ROWS, 8, SAM_AUDIT_INSERT, "", bind_held, &a,
	                   "keep the SAM's audit records");
}

int
keys_samlog_pending(struct keys *k, int64_t after, size_t max, int64_t **ids,
                    struct store_audit_rec **recs, size_t *n)
{
	struct ksdb_stmt *st = NULL;
	int64_t *iv = NULL, *iv2;
	struct store_audit_rec *rv = NULL, *rv2;
	size_t cnt = 0, cap = 0;
	int64_t low;
	int rc, r = INK_ERR_STORE;

	*ids = NULL;
	*recs = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	low = low_get(k);
	if (ksdb_prepare(k->db, PENDING_SQL " LIMIT ?3", &st) != KSDB_OK ||
	    ksdb_bind_int64(st, 1, after > low ? after : low) != KSDB_OK ||
	    ksdb_bind_text(st, 2, k->node, -1) != KSDB_OK ||
	    ksdb_bind_int64(st, 3, (int64_t)max) != KSDB_OK)
		goto out;
	/* grown as rows come: a record is some 9 KiB, most calls find few */
	while ((rc = ksdb_step(st)) == KSDB_ROW && cnt < max) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((iv2 = reallocarray(iv, cap, sizeof(*iv))) == NULL) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			iv = iv2;
			if ((rv2 = reallocarray(rv, cap, sizeof(*rv))) == NULL) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			rv = rv2;
		}
		iv[cnt] = ksdb_column_int64(st, 0);
		row_to_rec(st, &rv[cnt++]);
	}
	if (rc != KSDB_DONE && rc != KSDB_ROW)
		goto out;
	*ids = iv;
	*recs = rv;
	*n = cnt;
	iv = NULL;
	rv = NULL;
	r = 0;
out:
	ksdb_finalize(st);
	free(iv);
	free(rv);
	return r;
}

int
keys_samlog_range(struct keys *k, int64_t lo, int64_t hi,
                  int (*fn)(void *arg, int64_t id, struct store_audit_rec *rec, bool mine),
                  void *arg)
{
	struct store_audit_rec *a = NULL;
	struct ksdb_stmt *st = NULL;
	const char *node;
	int rc, r = INK_ERR_STORE;

	if ((a = malloc(sizeof(*a))) == NULL)
		return INK_ERR_ALLOC;
	if (ksdb_prepare(k->db, "SELECT id, time, actor, role, action, subject, result, detail, "
	                       "node FROM sam_audit WHERE id >= ?1 AND id <= ?2 AND " UNLOGGED
	                       " ORDER BY id", &st) != KSDB_OK ||
	    ksdb_bind_int64(st, 1, lo) != KSDB_OK || ksdb_bind_int64(st, 2, hi) != KSDB_OK)
		goto out;
	while ((rc = ksdb_step(st)) == KSDB_ROW) {
		row_to_rec(st, a);
		node = ksdb_column_text(st, 8);
		if ((r = fn(arg, ksdb_column_int64(st, 0), a, node == NULL || node[0] == '\0' ||
		            strcmp(node, k->node) == 0)) != 0) {
			r = r > 0 ? 0 : r;
			goto out;
		}
	}
	r = rc == KSDB_DONE ? 0 : INK_ERR_STORE;
out:
	ksdb_finalize(st);
	free(a);
	return r;
}

int
keys_samlog_epoch(struct keys *k, char epoch[static KEYS_SAMLOG_EPOCH_LEN + 1])
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	epoch[0] = '\0';
	if (ksdb_prepare(k->db, "SELECT epoch FROM sam_meta", &st) == KSDB_OK &&
	    ksdb_step(st) == KSDB_ROW && ksdb_column_bytes(st, 0) == KEYS_SAMLOG_EPOCH_LEN) {
		text_col(st, 0, epoch, KEYS_SAMLOG_EPOCH_LEN + 1);
		r = 0;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_samlog_included(struct keys *k, int64_t id, int64_t log_seq)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	/* a row of its own, added once: the record itself is never touched */
	if (ksdb_prepare(k->db, "INSERT INTO sam_audit_logged (log_seq, id) VALUES (?, ?)", &st) == KSDB_OK &&
	    ksdb_bind_int64(st, 1, log_seq) == KSDB_OK &&
	    ksdb_bind_int64(st, 2, id) == KSDB_OK)
		r = ksdb_step(st) == KSDB_DONE ? 0 : INK_ERR_EXISTS;
	ksdb_finalize(st);
	return r;
}

struct marks_arg {
	const int64_t *ids, *log_seqs;
};

static bool
bind_mark(struct ksdb_stmt *st, int at, size_t j, const void *arg)
{
	const struct marks_arg *a = arg;

	return ksdb_bind_int64(st, at + 1, a->log_seqs[j]) == KSDB_OK &&
	    ksdb_bind_int64(st, at + 2, a->ids[j]) == KSDB_OK;
}

/* Each autocommitted mark would be a commit (and an fsync) of its own, under the SAM's lock: a
 * checkpoint of a busy minute names hundreds. A mark already there stays as it is (and fails
 * nothing: in PostgreSQL a failed statement would end the transaction). */
#define MARKS_SQL "INSERT INTO sam_audit_logged (log_seq, id) VALUES "
#define MARKS_TAIL " ON CONFLICT DO NOTHING"
#define MARKS_WHAT "mark SAM records as logged"

int
keys_samlog_included_many(struct keys *k, const int64_t *ids, const int64_t *log_seqs, size_t n)
{
	struct marks_arg a = { .ids = ids, .log_seqs = log_seqs };

	if (n == 0)
		return 0;
	return insert_rows(k, n, MARK_ROWS, 2, MARKS_SQL, MARKS_TAIL, bind_mark, &a, MARKS_WHAT);
}

int
keys_samlog_mark_in(struct keys *k, const int64_t *ids, const int64_t *log_seqs, size_t n)
{
	struct marks_arg a = { .ids = ids, .log_seqs = log_seqs };

	return insert_rows_in(k, n, MARK_ROWS, 2, MARKS_SQL, MARKS_TAIL, bind_mark, &a, MARKS_WHAT);
}
