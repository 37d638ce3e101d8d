/* ksdb_sqlite: the key store's SQLite driver (the embedded default, one file per node). */
#include "keys/ksdb.h"
#include "keys/ksdb_int.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

struct ks_sqlite {
	struct ksdb base;
	sqlite3 *db;
};

struct ks_sqlite_stmt {
	struct ksdb_stmt base;
	sqlite3_stmt *st;
};

static sqlite3 *
conn(struct ksdb *db)
{
	return ((struct ks_sqlite *)db)->db;
}

static sqlite3_stmt *
stmt(struct ksdb_stmt *st)
{
	return ((struct ks_sqlite_stmt *)st)->st;
}

static int
result(int rc)
{
	switch (rc) {
	case SQLITE_OK:
		return KSDB_OK;
	case SQLITE_ROW:
		return KSDB_ROW;
	case SQLITE_DONE:
		return KSDB_DONE;
	}
	return (rc & 0xff) == SQLITE_CONSTRAINT ? KSDB_CONSTRAINT : KSDB_ERROR;
}

static void
sq_close(struct ksdb *db)
{
	struct ks_sqlite *s = (struct ks_sqlite *)db;

	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s);
}

static int
sq_exec(struct ksdb *db, const char *sql)
{
	return result(sqlite3_exec(conn(db), sql, NULL, NULL, NULL));
}

static int
sq_begin(struct ksdb *db)
{
	return sq_exec(db, "BEGIN IMMEDIATE");
}

static const char *
sq_errmsg(struct ksdb *db)
{
	return sqlite3_errmsg(conn(db));
}

static int64_t
sq_changes(struct ksdb *db)
{
	return sqlite3_changes(conn(db));
}

/* One file, opened once: never made again. */
static unsigned
sq_generation(struct ksdb *db, bool refresh)
{
	(void)db;
	(void)refresh;
	return 0;
}

static int
sq_scrub(struct ksdb *db)
{
	return result(sqlite3_wal_checkpoint_v2(conn(db), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
	                                        NULL));
}

static bool
sq_in_transaction(struct ksdb *db)
{
	return sqlite3_get_autocommit(conn(db)) == 0;
}

static int
sq_prepare(struct ksdb *db, const char *sql, struct ksdb_stmt **out)
{
	struct ks_sqlite_stmt *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return KSDB_ERROR;
	s->base.db = db;
	if (sqlite3_prepare_v2(conn(db), sql, -1, &s->st, NULL) != SQLITE_OK || s->st == NULL) {
		sqlite3_finalize(s->st);
		free(s);
		return KSDB_ERROR;
	}
	*out = &s->base;
	return KSDB_OK;
}

static int
sq_bind_int64(struct ksdb_stmt *st, int i, int64_t v)
{
	return result(sqlite3_bind_int64(stmt(st), i, v));
}

static int
sq_bind_text(struct ksdb_stmt *st, int i, const char *s, int len)
{
	return result(sqlite3_bind_text(stmt(st), i, s, len, SQLITE_TRANSIENT));
}

static int
sq_bind_blob(struct ksdb_stmt *st, int i, const void *p, size_t n)
{
	if (n > INT_MAX)
		return KSDB_ERROR;
	return result(sqlite3_bind_blob(stmt(st), i, p, (int)n, SQLITE_TRANSIENT));
}

static int
sq_bind_null(struct ksdb_stmt *st, int i)
{
	return result(sqlite3_bind_null(stmt(st), i));
}

static int
sq_step(struct ksdb_stmt *st)
{
	return result(sqlite3_step(stmt(st)));
}

static int
sq_reset(struct ksdb_stmt *st)
{
	int rc = sqlite3_reset(stmt(st));

	(void)sqlite3_clear_bindings(stmt(st));
	return result(rc);
}

static void
sq_finalize(struct ksdb_stmt *st)
{
	sqlite3_finalize(stmt(st));
	free(st);
}

static bool
sq_column_is_null(struct ksdb_stmt *st, int col)
{
	return sqlite3_column_type(stmt(st), col) == SQLITE_NULL;
}

static int64_t
sq_column_int64(struct ksdb_stmt *st, int col)
{
	return sqlite3_column_int64(stmt(st), col);
}

static const char *
sq_column_text(struct ksdb_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(stmt(st), col);
}

static const uint8_t *
sq_column_blob(struct ksdb_stmt *st, int col)
{
	return sqlite3_column_blob(stmt(st), col);
}

static size_t
sq_column_bytes(struct ksdb_stmt *st, int col)
{
	int n = sqlite3_column_bytes(stmt(st), col);

	return n > 0 ? (size_t)n : 0;
}

static const struct ksdb_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.exec = sq_exec,
	.begin = sq_begin,
	.errmsg = sq_errmsg,
	.changes = sq_changes,
	.in_transaction = sq_in_transaction,
	.generation = sq_generation,
	.scrub = sq_scrub,
	.prepare = sq_prepare,
	.bind_int64 = sq_bind_int64,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.reset = sq_reset,
	.finalize = sq_finalize,
	.column_is_null = sq_column_is_null,
	.column_int64 = sq_column_int64,
	.column_text = sq_column_text,
	.column_blob = sq_column_blob,
	.column_bytes = sq_column_bytes,
};

/* WAL: a signature's read of its key on a connection of its own runs beside a commit of
 * another request (an OTP step, an authorization's records) instead of waiting for it, and a
 * commit is one sync of the log, not of a journal and the file. Confirmed, as SQLite silently
 * keeps the old mode where WAL is impossible. The -wal and -shm files take the key store's
 * own mode (0600). */
static int
set_wal(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *mode;
	int r = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && (mode = sqlite3_column_text(q, 0)) != NULL &&
	    strcmp((const char *)mode, "wal") == 0)
		r = 0;
	sqlite3_finalize(q);
	return r;
}

int
ksdb_open_sqlite(const char *path, struct ksdb **out)
{
	struct ks_sqlite *s = NULL;
	int r = INK_ERR_STORE;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return INK_ERR_ALLOC;
	s->base.ops = &sqlite_ops;
	/* No SQLITE_OPEN_CREATE: a missing key store is an error, never silently a new one. */
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		log_error("keystore %s: %s", path, s->db != NULL ? sqlite3_errmsg(s->db) : "no memory");
		goto out;
	}
	(void)sqlite3_busy_timeout(s->db, 5000);
	/* Destroyed keys are overwritten in the file, not just unlinked from the b-tree.
	 * synchronous=FULL: a commit (an OTP step claimed, a wrong PIN counted) is on disk when it
	 * returns. */
	if (sqlite3_exec(s->db, "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; "
	                 "PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("keystore %s: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	if (set_wal(s->db) != 0) {
		log_error("keystore %s: cannot switch to WAL mode: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	*out = &s->base;
	s = NULL;
	r = 0;
out:
	if (s != NULL)
		sq_close(&s->base);
	return r;
}
