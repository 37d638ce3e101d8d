/* ksdb: the key store's statement interface, handed to the connection's driver. */
#include "keys/ksdb.h"
#include "keys/ksdb_int.h"

void
ksdb_close(struct ksdb *db)
{
	if (db != NULL)
		db->ops->close(db);
}

int
ksdb_exec(struct ksdb *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

int
ksdb_begin(struct ksdb *db)
{
	return db->ops->begin(db);
}

const char *
ksdb_errmsg(struct ksdb *db)
{
	return db->ops->errmsg(db);
}

int64_t
ksdb_changes(struct ksdb *db)
{
	return db->ops->changes(db);
}

bool
ksdb_in_transaction(struct ksdb *db)
{
	return db->ops->in_transaction(db);
}

unsigned
ksdb_generation(struct ksdb *db, bool refresh)
{
	return db->ops->generation(db, refresh);
}

int
ksdb_scrub(struct ksdb *db)
{
	return db->ops->scrub(db);
}

int
ksdb_prepare(struct ksdb *db, const char *sql, struct ksdb_stmt **out)
{
	*out = NULL;
	return db->ops->prepare(db, sql, out);
}

int
ksdb_bind_int64(struct ksdb_stmt *st, int i, int64_t v)
{
	return st->db->ops->bind_int64(st, i, v);
}

int
ksdb_bind_text(struct ksdb_stmt *st, int i, const char *s, int len)
{
	return st->db->ops->bind_text(st, i, s, len);
}

int
ksdb_bind_blob(struct ksdb_stmt *st, int i, const void *p, size_t n)
{
	return st->db->ops->bind_blob(st, i, p, n);
}

int
ksdb_bind_null(struct ksdb_stmt *st, int i)
{
	return st->db->ops->bind_null(st, i);
}

int
ksdb_step(struct ksdb_stmt *st)
{
	return st->db->ops->step(st);
}

int
ksdb_reset(struct ksdb_stmt *st)
{
	return st->db->ops->reset(st);
}

void
ksdb_finalize(struct ksdb_stmt *st)
{
	if (st != NULL)
		st->db->ops->finalize(st);
}

bool
ksdb_column_is_null(struct ksdb_stmt *st, int col)
{
	return st->db->ops->column_is_null(st, col);
}

int64_t
ksdb_column_int64(struct ksdb_stmt *st, int col)
{
	return st->db->ops->column_int64(st, col);
}

int
ksdb_column_int(struct ksdb_stmt *st, int col)
{
	return (int)st->db->ops->column_int64(st, col);
}

const char *
ksdb_column_text(struct ksdb_stmt *st, int col)
{
	return st->db->ops->column_text(st, col);
}

const uint8_t *
ksdb_column_blob(struct ksdb_stmt *st, int col)
{
	return st->db->ops->column_blob(st, col);
}

size_t
ksdb_column_bytes(struct ksdb_stmt *st, int col)
{
	return st->db->ops->column_bytes(st, col);
}
