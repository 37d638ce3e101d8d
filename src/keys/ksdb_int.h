/* ksdb internals: the table of functions each key store driver fills (ksdb_sqlite.c). */
#ifndef INKAN_KSDB_INT_H
#define INKAN_KSDB_INT_H

#include "keys/ksdb.h"

struct ksdb_ops {
	const char *name;                     /* "sqlite", "postgresql" */
	void (*close)(struct ksdb *db);
	int (*exec)(struct ksdb *db, const char *sql);
	int (*begin)(struct ksdb *db);
	const char *(*errmsg)(struct ksdb *db);
	int64_t (*changes)(struct ksdb *db);
	bool (*in_transaction)(struct ksdb *db);
	unsigned (*generation)(struct ksdb *db, bool refresh);
	int (*scrub)(struct ksdb *db);
	int (*prepare)(struct ksdb *db, const char *sql, struct ksdb_stmt **out);
	int (*bind_int64)(struct ksdb_stmt *st, int i, int64_t v);
	int (*bind_text)(struct ksdb_stmt *st, int i, const char *s, int len);
	int (*bind_blob)(struct ksdb_stmt *st, int i, const void *p, size_t n);
	int (*bind_null)(struct ksdb_stmt *st, int i);
	int (*step)(struct ksdb_stmt *st);
	int (*reset)(struct ksdb_stmt *st);
	void (*finalize)(struct ksdb_stmt *st);
	bool (*column_is_null)(struct ksdb_stmt *st, int col);
	int64_t (*column_int64)(struct ksdb_stmt *st, int col);
	const char *(*column_text)(struct ksdb_stmt *st, int col);
	const uint8_t *(*column_blob)(struct ksdb_stmt *st, int col);
	size_t (*column_bytes)(struct ksdb_stmt *st, int col);
};

/* Each driver's connection and statement begin with these. */
struct ksdb {
	const struct ksdb_ops *ops;
};
struct ksdb_stmt {
	struct ksdb *db;
};

#endif
