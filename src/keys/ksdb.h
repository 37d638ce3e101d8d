/* ksdb: the key store's database driver, the only way src/keys/ reaches its database (DB-2).
 *
 * A narrow statement interface (prepare, bind, step, column, exec) over one connection, with a
 * driver behind it per engine: SQLite today (ksdb_sqlite.c), PostgreSQL next. Statements are
 * fixed text with `?` placeholders numbered from 1; no SQL text is ever built from a value.
 * Only inkan-sam's key manager uses it; inkand's code never does (docs/scaling.md).
 *
 * Not thread-safe, like struct keys: the caller serialises every use of one connection. */
#ifndef INKAN_KSDB_H
#define INKAN_KSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

struct ksdb;
struct ksdb_stmt;

/* What the calls below return: KSDB_OK for a call that worked, KSDB_ROW / KSDB_DONE from
 * ksdb_step, KSDB_CONSTRAINT when a step broke a constraint (unique, check, foreign key, a
 * trigger's refusal), KSDB_ERROR for anything else (ksdb_errmsg says what). */
enum {
	KSDB_OK = 0,
	KSDB_ERROR = 1,
	KSDB_CONSTRAINT = 2,
	KSDB_ROW = 100,
	KSDB_DONE = 101,
};

/* The most parameters one statement may have, on either engine. */
#define KSDB_MAX_PARAMS 128

/* ---- connections ---- */

/* Opens an existing SQLite key store file (never creates one; a link is refused), with
 * secure_delete (a destroyed key's blob is overwritten in the file) and foreign keys on.
 * INK_ERR_STORE when it cannot be opened. */
int ksdb_open_sqlite(const char *path, struct ksdb **out) INK_WUR;
/* Connects to the key store in PostgreSQL (libpq URI, the role inkan_sam; a password inside
 * the URI is refused: INK_ERR_CONFIG) with search_path = inkan_keys, terse errors and a
 * statement timeout. The tables are not checked here (keys.c does). */
int ksdb_open_postgres(const char *uri, struct ksdb **out) INK_WUR;
/* Closes the connection; accepts NULL. Every statement must have been finalised. */
void ksdb_close(struct ksdb *db);
/* Runs fixed SQL text of one or more statements, with no parameters and no rows wanted. */
int ksdb_exec(struct ksdb *db, const char *sql);
/* Opens a write transaction holding the key store's single writer until COMMIT or ROLLBACK
 * (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN and the key store's advisory lock), so that
 * read-then-write sequences (attempt counters, TOTP steps, sequence numbers) never interleave
 * across connections or nodes. */
int ksdb_begin(struct ksdb *db);
/* The engine's last error, for the log: never a bound value (SQLSTATE and primary message). */
const char *ksdb_errmsg(struct ksdb *db);
/* Rows changed by the last INSERT, UPDATE or DELETE. */
int64_t ksdb_changes(struct ksdb *db);
/* True inside BEGIN ... COMMIT/ROLLBACK. */
bool ksdb_in_transaction(struct ksdb *db);
/* Counts the times the connection was made again (a database restart, failover or recovery
 * ends every connection): the key store may since be another one (witness.c checks it). With
 * refresh, outside a transaction, a connection the server ended is first made again. SQLite: 0. */
unsigned ksdb_generation(struct ksdb *db, bool refresh);
/* After a commit that destroyed or replaced sealed secrets: no copy of the pages as they were
 * is left in a file of the driver's (SQLite: the write-ahead log is copied back into the file,
 * where secure_delete zeroed them, and cut to nothing). PostgreSQL: nothing (its WAL and
 * backups are the DBA's, docs/scaling.md). KSDB_OK or KSDB_ERROR. */
int ksdb_scrub(struct ksdb *db);

/* ---- statements ---- */

/* Prepares one statement of fixed text; KSDB_OK or KSDB_ERROR (*out NULL). */
int ksdb_prepare(struct ksdb *db, const char *sql, struct ksdb_stmt **out) INK_WUR;
/* Binds parameter i (from 1). Values are copied: the caller's buffer may go at once. A text of
 * len < 0 runs to its NUL. */
int ksdb_bind_int64(struct ksdb_stmt *st, int i, int64_t v);
int ksdb_bind_text(struct ksdb_stmt *st, int i, const char *s, int len);
int ksdb_bind_blob(struct ksdb_stmt *st, int i, const void *p, size_t n);
int ksdb_bind_null(struct ksdb_stmt *st, int i);
/* Runs the statement the first time, then moves to its next row: KSDB_ROW while there is one,
 * then KSDB_DONE; KSDB_CONSTRAINT or KSDB_ERROR on failure. */
int ksdb_step(struct ksdb_stmt *st);
/* Makes the statement ready to run again, its bindings cleared. */
int ksdb_reset(struct ksdb_stmt *st);
/* Frees the statement; accepts NULL. */
void ksdb_finalize(struct ksdb_stmt *st);

/* Columns of the current row, from 0. A NULL reads as 0, as a NULL text, and as a NULL blob of
 * 0 bytes (as does an empty blob: ksdb_column_is_null tells them apart). Pointers stay valid
 * until the next step, reset or finalize. */
bool ksdb_column_is_null(struct ksdb_stmt *st, int col);
int64_t ksdb_column_int64(struct ksdb_stmt *st, int col);
int ksdb_column_int(struct ksdb_stmt *st, int col);
const char *ksdb_column_text(struct ksdb_stmt *st, int col);
const uint8_t *ksdb_column_blob(struct ksdb_stmt *st, int col);
/* The length of a text (without its NUL) or blob column. */
size_t ksdb_column_bytes(struct ksdb_stmt *st, int col);

#endif
