/* ksdb_postgres: the key store's PostgreSQL driver (libpq), in the schema inkan_keys that only
 * the role inkan_sam may use (docs/scaling.md). */
#include "keys/ksdb.h"
#include "keys/ksdb_int.h"
#include "store/store.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key store's single writer across every node (ksdb_begin): a lock of the table
 * keystore_meta, which only the role inkan_sam may take (LOCK TABLE needs a privilege on the
 * table; inkand's role has none on the schema), so no other role of the database can hold the
 * SAMs' writes hostage. Before the tables exist (the first inkan-sam making them) an advisory
 * lock of ours stands in, "inkks" in ASCII, another number than inkand's migration lock: any
 * role could take that one, which can delay the key store's creation, never its use. */
#define KS_WRITER_LOCK "452725033843"
#define KS_BEGIN                                                                                  \
	"BEGIN; DO $ks$ BEGIN IF to_regclass('keystore_meta') IS NULL THEN "                      \
	"PERFORM pg_advisory_xact_lock(" KS_WRITER_LOCK "); "                                     \
	"ELSE LOCK TABLE keystore_meta IN EXCLUSIVE MODE; END IF; END $ks$"
#define KS_MAX_PARAMS KSDB_MAX_PARAMS
#define KS_MAX_COLS 64                    /* bytea columns decoded; a wider row's read as none */
#define KS_SQL_MAX 4096
#define KS_NAME_MAX 32                    /* "ks" generation "_" index */

/* A server-side prepared statement, found again by its rewritten text. */
struct ks_pg_prep {
	char *sql;
	char name[KS_NAME_MAX];
};

struct ks_pg {
	struct ksdb base;
	PGconn *conn;
	struct ks_pg_prep *preps;
	size_t nprep, capprep;
	int64_t changes;
	unsigned generation;              /* counts reconnections: statement names never repeat */
	bool tx;                          /* inside a transaction, as the server last said */
	char err[256];
};

struct ks_pg_stmt {
	struct ksdb_stmt base;
	char *sql;                        /* the rewritten text: prepared again on a new connection */
	char name[KS_NAME_MAX];           /* the connection's prepared statement for it */
	int nparams;
	char *val[KS_MAX_PARAMS];
	int len[KS_MAX_PARAMS];
	int fmt[KS_MAX_PARAMS];           /* 0 text (and integers as text), 1 binary (blobs) */
	PGresult *res;
	int row;                          /* the current row; -1 before the first */
	uint8_t *blob[KS_MAX_COLS];       /* decoded bytea of the current row, per column */
	size_t bloblen[KS_MAX_COLS];
};

static struct ks_pg *
conn_of(struct ksdb *db)
{
	return (struct ks_pg *)db;
}

static struct ks_pg_stmt *
stmt_of(struct ksdb_stmt *st)
{
	return (struct ks_pg_stmt *)st;
}

/* Keeps SQLSTATE and primary message only: the DETAIL of a constraint error quotes values. */
static int
failed(struct ks_pg *c, const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (res == NULL || state == NULL)
		snprintf(c->err, sizeof(c->err), "postgresql: %s",
		         PQstatus(c->conn) != CONNECTION_OK ? "connection lost" : "no result");
	else
		snprintf(c->err, sizeof(c->err), "postgresql %s: %s", state,
		         msg != NULL ? msg : "(no message)");
	log_debug("%s", c->err);   /* the caller decides what it means, and logs */
	/* 23xxx integrity constraints; P0001 a trigger's RAISE EXCEPTION (SQLite: RAISE(ABORT)) */
	if (state != NULL && (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0))
		return KSDB_CONSTRAINT;
	return KSDB_ERROR;
}

static void
pg_close(struct ksdb *db)
{
	struct ks_pg *c = conn_of(db);

	for (size_t i = 0; i < c->nprep; i++)
		free(c->preps[i].sql);
	free(c->preps);
	PQfinish(c->conn);
	free(c);
}

/* What every connection is set to, the first and each after a reconnection: the key store's
 * schema and nothing else; errors without the DETAIL that quotes values; no statement hangs
 * the SAM for ever behind a lock. */
static int
session_setup(struct ks_pg *c)
{
	PGresult *res;
	int r = KSDB_OK;

	(void)PQsetErrorVerbosity(c->conn, PQERRORS_TERSE);
	res = PQexec(c->conn, "SET search_path = inkan_keys; SET statement_timeout = '30s'; "
	             "SET client_min_messages = warning");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		r = failed(c, res);
	PQclear(res);
	return r;
}

/* Keeps what the server says of the transaction after a command (nothing when it is gone). */
static void
note_tx(struct ks_pg *c)
{
	PGTransactionStatusType ts = PQtransactionStatus(c->conn);

	if (ts != PQTRANS_UNKNOWN)
		c->tx = ts != PQTRANS_IDLE;
}

/* A connection the server ended (a restart, a failover) is made again, outside a transaction
 * only: one ended while idle is seen before the statement is sent, which then runs on the new
 * connection; otherwise the statement that found it gone failed and the next one runs on the
 * new connection, the SAM not restarted. Its prepared statements went with the old one. */
static int
reconnect(struct ks_pg *c)
{
	if (PQstatus(c->conn) == CONNECTION_OK && (c->tx || !ink_pg_idle_lost(c->conn)))
		return KSDB_OK;
	/* A transaction the server lost must not go on in autocommit on a new connection: its
	 * caller is refused until it rolls back (pg_exec). */
	if (c->tx) {
		snprintf(c->err, sizeof(c->err), "postgresql: the connection went inside a transaction");
		return KSDB_ERROR;
	}
	for (size_t i = 0; i < c->nprep; i++)
		free(c->preps[i].sql);
	c->nprep = 0;
	c->generation++;
	PQreset(c->conn);
	if (PQstatus(c->conn) != CONNECTION_OK) {
		snprintf(c->err, sizeof(c->err), "postgresql: the connection is gone");
		return KSDB_ERROR;
	}
	if (session_setup(c) != KSDB_OK)
		return KSDB_ERROR;
	log_info("key store: the database connection is back");
	return KSDB_OK;
}

static int
pg_exec(struct ksdb *db, const char *sql)
{
	struct ks_pg *c = conn_of(db);
	PGresult *res;
	ExecStatusType s;
	int r = KSDB_OK;

	if (c->tx && PQstatus(c->conn) != CONNECTION_OK &&
	    (strcmp(sql, "ROLLBACK") == 0 || strcmp(sql, "COMMIT") == 0)) {
		/* the server rolled the lost transaction back: so much for a ROLLBACK; a COMMIT
		 * fails, its work gone */
		c->tx = false;
		return reconnect(c) == KSDB_OK && strcmp(sql, "ROLLBACK") == 0 ? KSDB_OK : KSDB_ERROR;
	}
	if (reconnect(c) != KSDB_OK)
		return KSDB_ERROR;
	res = PQexec(c->conn, sql);
	note_tx(c);
	s = PQresultStatus(res);

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		r = failed(c, res);
	else
		c->changes = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return r;
}

/* A BEGIN whose lock was not had (statement_timeout: another SAM held it that long) leaves an
 * aborted transaction behind it: rolled back here, or every later statement of the SAM would
 * fail until a restart (SQLite's BEGIN IMMEDIATE that finds the database busy leaves none).
 * Never the caller's own transaction: one that was open stays as it is, failed, for its caller
 * to roll back. */
static int
pg_begin(struct ksdb *db)
{
	struct ks_pg *c = conn_of(db);
	bool was_tx = c->tx;
	PGresult *res;
	int r;

	r = pg_exec(db, KS_BEGIN);
	if (r != KSDB_OK && !was_tx && c->tx && PQstatus(c->conn) == CONNECTION_OK) {
		res = PQexec(c->conn, "ROLLBACK");
		note_tx(c);
		PQclear(res);
	}
	return r;
}

static const char *
pg_errmsg(struct ksdb *db)
{
	return conn_of(db)->err;
}

static int64_t
pg_changes(struct ksdb *db)
{
	return conn_of(db)->changes;
}

static bool
pg_in_transaction(struct ksdb *db)
{
	return conn_of(db)->tx;
}

static unsigned
pg_generation(struct ksdb *db, bool refresh)
{
	struct ks_pg *c = conn_of(db);

	if (refresh && !c->tx)
		(void)reconnect(c);
	return c->generation;
}

static int
pg_scrub(struct ksdb *db)
{
	(void)db;
	return KSDB_OK;
}

/* Rewrites `?N` and `?` to `$N`, outside quoted text and comments (copied as they are); counts
 * the parameters. A bare `?` is numbered as SQLite numbers it: one more than the largest number
 * given so far (not the last one), so that one text binds the same values on both engines. The
 * text is ours (a literal of src/keys/), never a value. */
static int
rewrite(const char *sql, char *out, size_t outsz, int *nparams)
{
	size_t o = 0;
	int max = 0;
	char quote = 0;           /* ' or ", or '-' in a -- comment, '*' in a block comment */

	for (const char *p = sql; *p != '\0'; p++) {
		if (o + 12 >= outsz)
			return KSDB_ERROR;
		if (quote != 0) {
			if ((quote == '-' && *p == '\n') || (quote == '*' && p[0] == '*' && p[1] == '/') ||
			    ((quote == '\'' || quote == '"') && *p == quote)) {
				if (quote == '*')
					out[o++] = *p++;
				quote = 0;
			}
			out[o++] = *p;
			continue;
		}
		if (*p == '\'' || *p == '"' || (p[0] == '-' && p[1] == '-') ||
		    (p[0] == '/' && p[1] == '*')) {
			quote = *p == '/' ? '*' : *p;
			out[o++] = *p;
			if (quote == '-' || quote == '*')
				out[o++] = *++p;
			continue;
		}
		if (*p != '?') {
			out[o++] = *p;
			continue;
		}
		if (isdigit((unsigned char)p[1])) {
			char *end;
			long n = strtol(p + 1, &end, 10);

			if (n < 1 || n > KS_MAX_PARAMS)
				return KSDB_ERROR;
			max = (int)n > max ? (int)n : max;
			o += (size_t)snprintf(out + o, outsz - o, "$%ld", n);
			p = end - 1;
		} else {
			if (max + 1 > KS_MAX_PARAMS)
				return KSDB_ERROR;
			max++;
			o += (size_t)snprintf(out + o, outsz - o, "$%d", max);
		}
	}
	if (quote == '\'' || quote == '"')
		return KSDB_ERROR;   /* an unterminated literal: not ours */
	out[o] = '\0';
	*nparams = max;
	return KSDB_OK;
}

/* The connection's prepared statement for text (rewritten), preparing it on first use; its
 * name into name. */
static int
prepared(struct ks_pg *c, const char *text, char name[static KS_NAME_MAX])
{
	PGresult *res = NULL;
	char *copy = NULL;
	size_t i;

	for (i = 0; i < c->nprep; i++)
		if (strcmp(c->preps[i].sql, text) == 0) {
			memcpy(name, c->preps[i].name, KS_NAME_MAX);
			return KSDB_OK;
		}
	if (c->nprep == c->capprep) {
		size_t cap = c->capprep ? 2 * c->capprep : 32;
		struct ks_pg_prep *v = realloc(c->preps, cap * sizeof(*v));

		if (v == NULL)
			return KSDB_ERROR;
		c->preps = v;
		c->capprep = cap;
	}
	if ((copy = strdup(text)) == NULL)
		return KSDB_ERROR;
	snprintf(c->preps[i].name, sizeof(c->preps[i].name), "ks%u_%zu", c->generation % 100000, i);
	res = PQprepare(c->conn, c->preps[i].name, text, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		(void)failed(c, res);
		PQclear(res);
		free(copy);
		/* our own text, never a value: the bug is ours (or the connection is gone) */
		if (PQstatus(c->conn) == CONNECTION_OK)
			log_bug("key store statement refused (%s): %s", c->err, text);
		return KSDB_ERROR;
	}
	PQclear(res);
	c->preps[i].sql = copy;
	c->nprep++;
	memcpy(name, c->preps[i].name, KS_NAME_MAX);
	return KSDB_OK;
}

static int
pg_prepare(struct ksdb *db, const char *sql, struct ksdb_stmt **out)
{
	struct ks_pg *c = conn_of(db);
	struct ks_pg_stmt *s = NULL;
	char text[KS_SQL_MAX];
	int n = 0;

	if (rewrite(sql, text, sizeof(text), &n) != KSDB_OK) {
		snprintf(c->err, sizeof(c->err), "statement too long or too many parameters");
		log_bug("%s", c->err);
		return KSDB_ERROR;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->sql = strdup(text)) == NULL) {
		free(s);
		return KSDB_ERROR;
	}
	s->base.db = db;
	s->nparams = n;
	s->row = -1;
	if (reconnect(c) != KSDB_OK || prepared(c, text, s->name) != KSDB_OK) {
		free(s->sql);
		free(s);
		return KSDB_ERROR;
	}
	*out = &s->base;
	return KSDB_OK;
}

static int
put(struct ks_pg_stmt *s, int i, const void *p, size_t n, int fmt, bool null)
{
	char *v = NULL;

	if (i < 1 || i > KS_MAX_PARAMS || n > INT_MAX)
		return KSDB_ERROR;
	if (i > s->nparams)
		s->nparams = i;
	if (!null) {
		if ((v = malloc(n + 1)) == NULL)
			return KSDB_ERROR;
		if (n > 0)
			memcpy(v, p, n);
		v[n] = '\0';
	}
	free(s->val[i - 1]);
	s->val[i - 1] = v;
	s->len[i - 1] = (int)n;
	s->fmt[i - 1] = fmt;
	return KSDB_OK;
}

static int
pg_bind_int64(struct ksdb_stmt *st, int i, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);

	return put(stmt_of(st), i, num, (size_t)n, 0, false);
}

static int
pg_bind_text(struct ksdb_stmt *st, int i, const char *s, int len)
{
	if (s == NULL)
		return put(stmt_of(st), i, NULL, 0, 0, true);
	return put(stmt_of(st), i, s, len < 0 ? strlen(s) : (size_t)len, 0, false);
}

static int
pg_bind_blob(struct ksdb_stmt *st, int i, const void *p, size_t n)
{
	/* as SQLite: a NULL pointer binds NULL */
	return put(stmt_of(st), i, p, n, 1, p == NULL);
}

static int
pg_bind_null(struct ksdb_stmt *st, int i)
{
	return put(stmt_of(st), i, NULL, 0, 0, true);
}

static void
forget_row(struct ks_pg_stmt *s)
{
	for (size_t i = 0; i < KS_MAX_COLS; i++) {
		PQfreemem(s->blob[i]);
		s->blob[i] = NULL;
		s->bloblen[i] = 0;
	}
}

static int
pg_step(struct ksdb_stmt *st)
{
	struct ks_pg_stmt *s = stmt_of(st);
	struct ks_pg *c = conn_of(st->db);
	ExecStatusType status;

	forget_row(s);
	if (s->res == NULL) {
		if (reconnect(c) != KSDB_OK || prepared(c, s->sql, s->name) != KSDB_OK)
			return KSDB_ERROR;
		s->res = PQexecPrepared(c->conn, s->name, s->nparams, (const char *const *)s->val,
		                        s->len, s->fmt, 0);
		note_tx(c);
		status = PQresultStatus(s->res);
		if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
			int r = failed(c, s->res);

			PQclear(s->res);
			s->res = NULL;
			s->row = -1;
			return r;
		}
		c->changes = strtoll(PQcmdTuples(s->res), NULL, 10);
		s->row = -1;
	}
	if (s->row + 1 < PQntuples(s->res)) {
		s->row++;
		return KSDB_ROW;
	}
	s->row = PQntuples(s->res);
	return KSDB_DONE;
}

static int
pg_reset(struct ksdb_stmt *st)
{
	struct ks_pg_stmt *s = stmt_of(st);

	forget_row(s);
	PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	for (int i = 0; i < KS_MAX_PARAMS; i++) {
		free(s->val[i]);
		s->val[i] = NULL;
		s->len[i] = 0;
		s->fmt[i] = 0;
	}
	return KSDB_OK;
}

static void
pg_finalize(struct ksdb_stmt *st)
{
	(void)pg_reset(st);
	free(stmt_of(st)->sql);
	free(st);
}

static bool
has_value(struct ks_pg_stmt *s, int col)
{
	return s->res != NULL && s->row >= 0 && s->row < PQntuples(s->res) && col >= 0 &&
	    col < PQnfields(s->res) && !PQgetisnull(s->res, s->row, col);
}

static bool
pg_column_is_null(struct ksdb_stmt *st, int col)
{
	return !has_value(stmt_of(st), col);
}

static int64_t
pg_column_int64(struct ksdb_stmt *st, int col)
{
	struct ks_pg_stmt *s = stmt_of(st);
	const char *v;

	if (!has_value(s, col))
		return 0;
	v = PQgetvalue(s->res, s->row, col);
	/* booleans ('t'/'f') read as 1/0, as SQLite's */
	if (strcmp(v, "t") == 0)
		return 1;
	if (strcmp(v, "f") == 0)
		return 0;
	return strtoll(v, NULL, 10);
}

static const char *
pg_column_text(struct ksdb_stmt *st, int col)
{
	struct ks_pg_stmt *s = stmt_of(st);

	return has_value(s, col) ? PQgetvalue(s->res, s->row, col) : NULL;
}

/* A bytea column comes as text (\x and hex digits), decoded once per row. */
static const uint8_t *
pg_column_blob(struct ksdb_stmt *st, int col)
{
	struct ks_pg_stmt *s = stmt_of(st);

	if (!has_value(s, col) || col >= KS_MAX_COLS)
		return NULL;
	if (PQftype(s->res, col) != 17 /* BYTEAOID */)
		return (const uint8_t *)PQgetvalue(s->res, s->row, col);
	if (s->blob[col] == NULL)
		s->blob[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(s->res, s->row, col),
		                               &s->bloblen[col]);
	return s->bloblen[col] > 0 ? s->blob[col] : NULL;
}

static size_t
pg_column_bytes(struct ksdb_stmt *st, int col)
{
	struct ks_pg_stmt *s = stmt_of(st);

	if (!has_value(s, col))
		return 0;
	/* a bytea's length is its decoded one, as pg_column_blob gives it: never the length of
	 * its text (a caller copies that many bytes from the blob's pointer) */
	if (PQftype(s->res, col) == 17)
		return col < KS_MAX_COLS && pg_column_blob(st, col) != NULL ? s->bloblen[col] : 0;
	return (size_t)PQgetlength(s->res, s->row, col);
}

static const struct ksdb_ops postgres_ops = {
	.name = "postgresql",
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.errmsg = pg_errmsg,
	.changes = pg_changes,
	.in_transaction = pg_in_transaction,
	.generation = pg_generation,
	.scrub = pg_scrub,
	.prepare = pg_prepare,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.column_is_null = pg_column_is_null,
	.column_int64 = pg_column_int64,
	.column_text = pg_column_text,
	.column_blob = pg_column_blob,
	.column_bytes = pg_column_bytes,
};

int
ksdb_open_postgres(const char *uri, struct ksdb **out)
{
	static const char *const keywords[] = { "connect_timeout", "application_name", "dbname",
	                                        NULL };
	const char *values[] = { "10", "inkan-sam", NULL, NULL };
	struct ks_pg *c = NULL;
	int r;

	*out = NULL;
	if (uri == NULL || *uri == '\0')
		return INK_ERR_INVALID;
	/* a password in the URI would sit wherever the file is copied: refused, as for inkand */
	if ((r = store_pg_uri_check(uri)) != 0)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return INK_ERR_ALLOC;
	c->base.ops = &postgres_ops;
	values[2] = uri;
	r = INK_ERR_STORE;
	if ((c->conn = PQconnectdbParams(keywords, values, 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (PQstatus(c->conn) != CONNECTION_OK) {
		/* libpq's message names the host and the reason, never the password */
		log_error("key store: cannot connect to PostgreSQL: %s", PQerrorMessage(c->conn));
		goto out;
	}
	if (session_setup(c) != KSDB_OK) {
		log_error("key store: %s", c->err);
		goto out;
	}
	*out = &c->base;
	c = NULL;
	r = 0;
out:
	if (c != NULL)
		pg_close(&c->base);
	return r;
}
