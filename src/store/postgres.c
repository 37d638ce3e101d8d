/* store/postgres: the PostgreSQL backend of the storage interface (libpq), for several nodes. */
#include "store/store.h"
#include "store/store_int.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Versioned schema files, compiled in by CMake from src/store/sql/. */
extern const char schema_postgres_0001[];
extern const char schema_postgres_0002[];
extern const char schema_postgres_0003[];
extern const char schema_postgres_0004[];
extern const char schema_postgres_0005[];
extern const char schema_postgres_0006[];
extern const char schema_postgres_0007[];

/* Applied in order to any database whose schema_version is lower; a new file is one new line. */
static const struct {
	int64_t version;
	const char *sql;
} schemas[] = {
	{ 1, schema_postgres_0001 },
	{ 2, schema_postgres_0002 },
	{ 3, schema_postgres_0003 },
	{ 4, schema_postgres_0004 },
	{ 5, schema_postgres_0005 },
	{ 6, schema_postgres_0006 },
	{ 7, schema_postgres_0007 },
};

/* Nodes opening a new database at once take turns at the migrations (pg_advisory_xact_lock):
 * an arbitrary constant of ours, "inkan" in ASCII. */
#define MIGRATION_LOCK "1768843630"

/* Server-side prepared statements, found by their SQL text: every statement we run is one of
 * these (no SQL text is ever built from a value). Lost with the connection, made again. */
#define STMT_CACHE 96
#define MAX_PARAMS 12

struct pg_stmt {
	const char *sql;         /* a string literal of this file */
	char name[16];
};

struct pg_store {
	struct store base;       /* first: a struct store * is a struct pg_store * */
	PGconn *conn;
	pthread_mutex_t mu;      /* one connection shared by every thread: one operation at a time */
	struct pg_stmt stmts[STMT_CACHE];
	size_t nstmts;
	unsigned generation;     /* counts reconnections, so statement names never repeat */
	bool broken;             /* the server said it is going away: reconnect at next use */
};

/* A statement's parameters: integers and text go as text (the server converts them to the
 * column's type), byte strings as binary; NULL for an empty byte string. */
struct pg_params {
	const char *v[MAX_PARAMS];
	int len[MAX_PARAMS];
	int fmt[MAX_PARAMS];
	char num[MAX_PARAMS][24];
	int n;
};

#define USER_COLS \
	"id, username, display_name, status, must_change_password, failed_logins, totp_last_step, " \
	"created_at, created_by, password_hash, totp_sealed, " \
	"(SELECT string_agg(role, ',') FROM user_roles WHERE user_roles.user_id = users.id)"

#define AUDIT_COLS "seq, time, actor, role, action, subject, result, request_id, source, detail"

/* SQLite's "username = ? COLLATE NOCASE", and the expression of the unique index. */
#define USERNAME_IS "lower(username COLLATE \"C\") = lower($1 COLLATE \"C\")"

static struct pg_store *
to_pg(struct store *st)
{
	return (struct pg_store *)st;
}

/* ---- connection ---- */

static void
forget_statements(struct pg_store *s)
{
	s->nstmts = 0;
	s->generation++;
}

static int exec_fixed(struct pg_store *s, const char *sql);

/* What every connection is set to, the first one and each after a reconnection: errors
 * without the DETAIL that quotes row values; a statement must not hang a request for ever
 * behind a lock. Our times are UTC seconds in BIGINT columns: no other setting changes
 * what they mean. */
static int
session_setup(struct pg_store *s)
{
	int r;

	(void)PQsetErrorVerbosity(s->conn, PQERRORS_TERSE);
	if ((r = exec_fixed(s, "SET statement_timeout = '30s'")) != 0 ||
	    (r = exec_fixed(s, "SET client_min_messages = warning")) != 0)
		return r;
	return 0;
}

/* Brings a lost connection back (a database restart or failover): one the server ended while
 * it was idle is seen before use, and the operation runs on a new connection; one lost during
 * an operation fails that operation, and the next one runs on a new connection, without
 * restarting anything. Between operations no transaction is open. */
static void
lock(struct pg_store *s)
{
	if (pthread_mutex_lock(&s->mu) != 0)
		abort();	/* only possible with a corrupted mutex: continuing would race */
	if (s->broken || ink_pg_idle_lost(s->conn)) {
		s->broken = false;
		forget_statements(s);
		PQreset(s->conn);
		if (PQstatus(s->conn) == CONNECTION_OK && session_setup(s) == 0)
			log_info("the database connection is back");
	}
}

static void
unlock(struct pg_store *s)
{
	(void)pthread_mutex_unlock(&s->mu);
}

/* SQLSTATEs that say "not now" rather than "wrong": the connection (class 08), the server
 * shutting down or starting (57P01-57P03: a restart, a failover), too many connections, a
 * deadlock or serialization failure (40P01, 40001). The request may be tried again. */
static bool
transient(const char *state)
{
	return state != NULL && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
	    strcmp(state, "53300") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "40001") == 0);
}

/* Maps a failed result to a project code. Only the SQLSTATE and the primary message are
 * logged (terse verbosity, set at open): the DETAIL line of a constraint error quotes the
 * values of the row, which may be a user's data. */
static int
db_err(struct pg_store *s, const char *func, const PGresult *res)
{
	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state != NULL && strcmp(state, "23505") == 0)	/* unique_violation */
		return INK_ERR_EXISTS;
	if (state != NULL && strcmp(state, "23503") == 0)	/* foreign_key_violation */
		return INK_ERR_NOT_FOUND;	/* the row refers to a user that does not exist */
	/* The database is away (restart, failover, network): INK_ERR_BUSY, so that the request
	 * is answered 503 with Retry-After; the next operation reconnects (lock()). The server's
	 * word that it is going away may come before libpq sees the connection closed. */
	if (PQstatus(s->conn) != CONNECTION_OK || transient(state)) {
		if (state == NULL || strncmp(state, "40", 2) != 0)
			s->broken = true;
		log_error("%s: the database is not available (%s)", func, state != NULL ? state : "-");
		return INK_ERR_BUSY;
	}
	log_error("%s: postgresql error %s: %s", func, state != NULL ? state : "-",
	    msg != NULL ? msg : "(no message)");
	return INK_ERR_STORE;
}

/* The name of the prepared statement for sql, preparing it on first use. Under the lock. */
static int
prep(struct pg_store *s, const char *sql, const char **name)
{
	PGresult *res;
	size_t i;
	int r;

	*name = NULL;
	for (i = 0; i < s->nstmts; i++) {
		if (s->stmts[i].sql == sql || strcmp(s->stmts[i].sql, sql) == 0) {
			*name = s->stmts[i].name;
			return 0;
		}
	}
	if (s->nstmts == STMT_CACHE) {
		log_bug("more distinct statements than the cache holds");
		return INK_ERR_INTERNAL;
	}
	snprintf(s->stmts[i].name, sizeof(s->stmts[i].name), "i%u_%zu", s->generation % 100000, i);
	res = PQprepare(s->conn, s->stmts[i].name, sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		r = db_err(s, "prepare", res);
		PQclear(res);
		return r == 0 ? INK_ERR_STORE : r;
	}
	PQclear(res);
	s->stmts[i].sql = sql;
	s->nstmts++;
	*name = s->stmts[i].name;
	return 0;
}

/* A statement with more parameters than MAX_PARAMS is our bug: run() refuses it. */
static bool
p_full(struct pg_params *p)
{
	if (p->n < MAX_PARAMS)
		return false;
	p->n = MAX_PARAMS + 1;
	return true;
}

static void
p_text(struct pg_params *p, const char *v)
{
	if (p_full(p))
		return;
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void
p_int(struct pg_params *p, int64_t v)
{
	if (p_full(p))
		return;
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p_text(p, p->num[p->n]);
}

static void
p_bool(struct pg_params *p, bool v)
{
	p_text(p, v ? "true" : "false");
}

/* An empty byte string is bound as NULL, as in the SQLite backend. */
static void
p_blob(struct pg_params *p, const void *v, size_t n)
{
	if (p_full(p))
		return;
	p->v[p->n] = n == 0 ? NULL : v;
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Runs a prepared statement with binary results. *res (optional) gets the rows of a query;
 * *changes (optional) the rows an INSERT, UPDATE or DELETE changed. Under the lock. */
static int
run(struct pg_store *s, const char *sql, const struct pg_params *p, const char *func,
    PGresult **res, int *changes)
{
	const char *name;
	PGresult *rs;
	ExecStatusType st;
	int r;

	if (res != NULL)
		*res = NULL;
	if (changes != NULL)
		*changes = 0;
	if (p != NULL && p->n > MAX_PARAMS) {
		log_bug("%s: more than %d parameters", func, MAX_PARAMS);
		return INK_ERR_INTERNAL;
	}
	if ((r = prep(s, sql, &name)) != 0)
		return r;
	rs = PQexecPrepared(s->conn, name, p != NULL ? p->n : 0, p != NULL ? p->v : NULL,
	    p != NULL ? p->len : NULL, p != NULL ? p->fmt : NULL, 1);
	st = PQresultStatus(rs);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = db_err(s, func, rs);
		PQclear(rs);
		return r;
	}
	if (changes != NULL)
		*changes = atoi(PQcmdTuples(rs));
	if (res != NULL)
		*res = rs;
	else
		PQclear(rs);
	return 0;
}

/* Fixed SQL only: never a value from outside. */
static int
exec_fixed(struct pg_store *s, const char *sql)
{
	PGresult *res = PQexec(s->conn, sql);
	int r = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		r = db_err(s, "exec", res);
	PQclear(res);
	return r;
}

/* READ COMMITTED is enough for every transaction here: each one that the SQLite backend's
 * single writer makes safe takes a row lock instead (UPDATE ... WHERE id = $1 locks the user's
 * row until COMMIT; audit rows take the audit log's advisory lock), named where it is taken. */
static int
tx_begin(struct pg_store *s)
{
	return exec_fixed(s, "BEGIN");
}

static int
tx_commit(struct pg_store *s)
{
	return exec_fixed(s, "COMMIT");
}

static void
tx_rollback(struct pg_store *s)
{
	if (PQtransactionStatus(s->conn) != PQTRANS_IDLE &&
	    PQtransactionStatus(s->conn) != PQTRANS_UNKNOWN)
		(void)exec_fixed(s, "ROLLBACK");
}

/* ---- reading binary results ---- */

/* An integer column of any width (boolean, smallint, integer, bigint); NULL reads as 0. */
static int64_t
col_int(const PGresult *res, int row, int col)
{
	const uint8_t *p = (const uint8_t *)PQgetvalue(res, row, col);
	uint64_t v = 0;
	int i, n = PQgetlength(res, row, col);

	if (PQgetisnull(res, row, col) || n < 1 || n > 8)
		return 0;
	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	if (n < 8 && (p[0] & 0x80) != 0)	/* sign-extend */
		v |= ~UINT64_C(0) << (8 * n);
	return (int64_t)v;
}

/* Copies a text column into dst[dstsz]; NULL reads as "". Longer than the field is corruption,
 * not something to truncate silently. */
static int
col_text(const PGresult *res, int row, int col, char *dst, size_t dstsz)
{
	int n = PQgetlength(res, row, col);

	dst[0] = '\0';
	if (PQgetisnull(res, row, col))
		return 0;
	if (n < 0 || (size_t)n >= dstsz) {
		log_bug("column %d longer than its field", col);
		return INK_ERR_STORE;
	}
	memcpy(dst, PQgetvalue(res, row, col), (size_t)n);
	dst[n] = '\0';
	return 0;
}

/* Copies a byte-string column into dst[max], cut to max when cut is set (else longer is
 * corruption); *len gets the bytes copied. NULL reads as empty. */
static int
col_blob(const PGresult *res, int row, int col, void *dst, size_t max, bool cut, size_t *len)
{
	size_t n = (size_t)PQgetlength(res, row, col);

	*len = 0;
	if (PQgetisnull(res, row, col))
		return 0;
	if (n > max) {
		if (!cut) {
			log_bug("column %d longer than its field", col);
			return INK_ERR_STORE;
		}
		n = max;
	}
	if (n > 0)
		memcpy(dst, PQgetvalue(res, row, col), n);
	*len = n;
	return 0;
}

/* Reads one row selected with USER_COLS. */
static int
read_user(const PGresult *res, int row, struct store_user *u)
{
	int r;

	memset(u, 0, sizeof(*u));
	if ((r = col_text(res, row, 0, u->id, sizeof(u->id))) != 0 ||
	    (r = col_text(res, row, 1, u->username, sizeof(u->username))) != 0 ||
	    (r = col_text(res, row, 2, u->display_name, sizeof(u->display_name))) != 0 ||
	    (r = col_text(res, row, 8, u->created_by, sizeof(u->created_by))) != 0 ||
	    (r = col_text(res, row, 9, u->password_hash, sizeof(u->password_hash))) != 0 ||
	    (r = col_blob(res, row, 10, u->totp_sealed, sizeof(u->totp_sealed), false,
	    &u->totp_sealed_len)) != 0 ||
	    (r = store_roles_from_names(PQgetisnull(res, row, 11) ? NULL :
	    PQgetvalue(res, row, 11), &u->roles)) != 0) {
		OPENSSL_cleanse(u, sizeof(*u));
		return r;
	}
	u->status = (int)col_int(res, row, 3);
	u->must_change_password = col_int(res, row, 4) != 0;
	u->failed_logins = col_int(res, row, 5);
	u->totp_last_step = col_int(res, row, 6);
	u->created_at = col_int(res, row, 7);
	return 0;
}

/* Frees rows selected with USER_COLS (NULL is fine), wiping their password hashes and sealed
 * seeds first. */
static void
clear_users(PGresult *res)
{
	int i;

	if (res == NULL)
		return;
	for (i = 0; i < PQntuples(res); i++) {
		OPENSSL_cleanse(PQgetvalue(res, i, 9), (size_t)PQgetlength(res, i, 9));
		OPENSSL_cleanse(PQgetvalue(res, i, 10), (size_t)PQgetlength(res, i, 10));
	}
	PQclear(res);
}

/* INK_ERR_NOT_FOUND unless a user with this id exists. Under the lock. lock_row (inside a
 * transaction): the row stays locked until COMMIT. */
static int
user_exists_row(struct pg_store *s, const char *id, bool lock_row)
{
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	p_text(&p, id);
	if ((r = run(s, lock_row ? "SELECT 1 FROM users WHERE id = $1 FOR UPDATE" :
	    "SELECT 1 FROM users WHERE id = $1", &p, __func__, &res, NULL)) != 0)
		return r;
	r = PQntuples(res) > 0 ? 0 : INK_ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

static int
user_exists(struct pg_store *s, const char *id)
{
	return user_exists_row(s, id, false);
}

/* ---- open and close ---- */

static int
schema_apply(struct pg_store *s)
{
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int64_t cur = 0, latest = schemas[INK_ARRAY_LEN(schemas) - 1].version;
	size_t i;
	int r;

	if ((r = tx_begin(s)) != 0)
		return r;
	/* two nodes opening a new database at once must not both apply a version */
	if ((r = exec_fixed(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")")) != 0 ||
	    (r = run(s, "SELECT to_regclass('schema_version') IS NOT NULL", NULL, __func__, &res,
	    NULL)) != 0)
		goto out;
	if (PQntuples(res) == 1 && col_int(res, 0, 0) != 0) {
		PQclear(res);
		res = NULL;
		if ((r = run(s, "SELECT coalesce(max(version), 0) FROM schema_version", NULL,
		    __func__, &res, NULL)) != 0)
			goto out;
		cur = PQntuples(res) == 1 ? col_int(res, 0, 0) : 0;
	}
	if (cur > latest) {
		log_error("database schema version %" PRId64 " is newer than this program's %" PRId64,
		    cur, latest);
		r = INK_ERR_STORE;
		goto out;
	}
	for (i = 0; i < INK_ARRAY_LEN(schemas); i++) {
		if (schemas[i].version <= cur)
			continue;
		if ((r = exec_fixed(s, schemas[i].sql)) != 0) {
			log_error("applying schema version %" PRId64 " failed", schemas[i].version);
			goto out;
		}
		p.n = 0;
		p_int(&p, schemas[i].version);
		if ((r = run(s, "INSERT INTO schema_version (version) VALUES ($1)", &p, __func__,
		    NULL, NULL)) != 0)
			goto out;
		log_info("database schema version %" PRId64 " applied", schemas[i].version);
	}
	r = tx_commit(s);
out:
	PQclear(res);
	if (r != 0)
		tx_rollback(s);
	return r;
}

/* A password written into the URI would sit in inkan.conf and everywhere the setting is shown:
 * refused; libpq reads it from a passfile (passfile=, PGPASSFILE or ~/.pgpass) instead. */
int
store_pg_uri_check(const char *uri)
{
	PQconninfoOption *opts, *o;
	char *err = NULL;
	int r = 0;

	if ((opts = PQconninfoParse(uri, &err)) == NULL) {
		/* libpq's message may quote the URI: not logged */
		log_error("the PostgreSQL URI cannot be parsed");
		PQfreemem(err);
		return INK_ERR_CONFIG;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && o->val[0] != '\0') {
			log_error("the PostgreSQL URI holds a password: put it in a passfile instead "
			          "(docs/configuration.md)");
			r = INK_ERR_CONFIG;
		}
	}
	PQconninfoFree(opts);
	return r;
}

static void
pg_free(struct pg_store *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int
pg_open(const char *target, struct store **out)
{
	/* Defaults the URI may override (later values win): a connection attempt to a host that
	 * does not answer must not hold the store's lock for minutes; and the DBA sees who we are. */
	static const char *const keywords[] = { "connect_timeout", "application_name", "dbname",
	                                        NULL };
	const char *values[] = { "10", "inkan", NULL, NULL };
	struct pg_store *s = NULL;
	int r = INK_ERR_STORE;

	*out = NULL;
	if (target == NULL || *target == '\0')
		return INK_ERR_INVALID;
	if ((r = store_pg_uri_check(target)) != 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return INK_ERR_ALLOC;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return INK_ERR_INTERNAL;
	}
	values[2] = target;
	s->conn = PQconnectdbParams(keywords, values, 1);
	if (s->conn == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		/* libpq's message names the host and the reason, never the password */
		log_error("cannot connect to PostgreSQL: %s", PQerrorMessage(s->conn));
		r = INK_ERR_STORE;
		goto out;
	}
	if ((r = session_setup(s)) != 0 || (r = schema_apply(s)) != 0)
		goto out;
	s->base.ops = &store_postgres_ops;
	*out = &s->base;
	s = NULL;
	r = 0;
out:
	pg_free(s);
	return r;
}

static void
pg_close(struct store *st)
{
	pg_free(to_pg(st));
}

/* ---- users ---- */

/* Inserts one user_roles row per bit; runs inside the caller's transaction. */
static int
roles_write(struct pg_store *s, const char *id, uint32_t roles)
{
	struct pg_params p;
	size_t i;
	int r;

	for (i = 0; i < store_nroles; i++) {
		if ((roles & store_role_names[i].bit) == 0)
			continue;
		p.n = 0;
		p_text(&p, id);
		p_text(&p, store_role_names[i].name);
		if ((r = run(s, "INSERT INTO user_roles (user_id, role) VALUES ($1, $2)", &p,
		    __func__, NULL, NULL)) != 0)
			return r;
	}
	return 0;
}

/* The unique index on lower(username) refuses a name taken in any case, even by another
 * node's insert in flight: no SELECT before the INSERT is needed. */
static int
pg_user_insert(struct store *st, const struct store_user *u)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r;

	if (!store_user_ok(u))
		return INK_ERR_INVALID;
	p_text(&p, u->id);
	p_text(&p, u->username);
	p_text(&p, u->display_name);
	p_int(&p, u->status);
	p_bool(&p, u->must_change_password);
	p_int(&p, u->failed_logins);
	p_int(&p, u->totp_last_step);
	p_int(&p, u->created_at);
	p_text(&p, u->created_by);
	p_text(&p, u->password_hash);
	p_blob(&p, u->totp_sealed, u->totp_sealed_len);
	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	if ((r = run(s, "INSERT INTO users (id, username, display_name, status, "
	    "must_change_password, failed_logins, totp_last_step, created_at, created_by, "
	    "password_hash, totp_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	    &p, __func__, NULL, NULL)) != 0 || (r = roles_write(s, u->id, u->roles)) != 0)
		goto out;
	r = tx_commit(s);
out:
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

static int
user_get(struct pg_store *s, const char *sql, const char *key, struct store_user *out)
{
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (key == NULL)
		return INK_ERR_INVALID;
	p_text(&p, key);
	lock(s);
	if ((r = run(s, sql, &p, __func__, &res, NULL)) == 0)
		r = PQntuples(res) == 0 ? INK_ERR_NOT_FOUND : read_user(res, 0, out);
	unlock(s);
	clear_users(res);
	return r;
}

static int
pg_user_get_by_name(struct store *st, const char *username, struct store_user *out)
{
	return user_get(to_pg(st), "SELECT " USER_COLS " FROM users WHERE " USERNAME_IS,
	    username, out);
}

static int
pg_user_get_by_id(struct store *st, const char *id, struct store_user *out)
{
	return user_get(to_pg(st), "SELECT " USER_COLS " FROM users WHERE id = $1", id, out);
}

static int
pg_user_list(struct store *st, struct store_user **out, size_t *n)
{
	struct pg_store *s = to_pg(st);
	struct store_user *v = NULL;
	PGresult *res = NULL;
	size_t cnt = 0;
	int r, rows = 0;

	*out = NULL;
	*n = 0;
	lock(s);
	r = run(s, "SELECT " USER_COLS " FROM users ORDER BY username COLLATE \"C\"", NULL,
	    __func__, &res, NULL);
	unlock(s);
	if (r != 0)
		goto out;
	rows = PQntuples(res);
	if (rows > 0 && (v = calloc((size_t)rows, sizeof(*v))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (cnt = 0; cnt < (size_t)rows; cnt++) {
		if ((r = read_user(res, (int)cnt, &v[cnt])) != 0)
			goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	clear_users(res);
	store_users_free(v, (size_t)(rows > 0 ? rows : 0));
	return r;
}

/* Runs an UPDATE on one row; INK_ERR_NOT_FOUND when no row matched. */
static int
update_one(struct store *st, const char *sql, const struct pg_params *p, const char *func)
{
	struct pg_store *s = to_pg(st);
	int r, changed = 0;

	lock(s);
	r = run(s, sql, p, func, NULL, &changed);
	unlock(s);
	if (r == 0 && changed == 0)
		r = INK_ERR_NOT_FOUND;
	return r;
}

/* Runs one statement that returns no rows, under the lock. */
static int
exec_one(struct store *st, const char *sql, const struct pg_params *p, const char *func)
{
	struct pg_store *s = to_pg(st);
	int r;

	lock(s);
	r = run(s, sql, p, func, NULL, NULL);
	unlock(s);
	return r;
}

static int
pg_user_set_password(struct store *st, const char *id, const char *hash, bool must_change)
{
	struct pg_params p = { .n = 0 };

	if (id == NULL || hash == NULL || strlen(hash) > STORE_HASH_MAX)
		return INK_ERR_INVALID;
	p_text(&p, hash);
	p_bool(&p, must_change);
	p_text(&p, id);
	return update_one(st, "UPDATE users SET password_hash = $1, must_change_password = $2 "
	                      "WHERE id = $3", &p, __func__);
}

/* DISABLED is final; ACTIVE clears the failure count (see the SQLite backend). */
static int
pg_user_set_status(struct store *st, const char *id, int status)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	if (id == NULL || status < STORE_USER_ACTIVE || status > STORE_USER_DISABLED)
		return INK_ERR_INVALID;
	p_int(&p, status);
	p_text(&p, id);
	lock(s);
	if ((r = run(s, "UPDATE users SET status = $1, failed_logins = "
	    "CASE WHEN $1 = 0 THEN 0 ELSE failed_logins END "
	    "WHERE id = $2 AND (status <> 2 OR $1 = 2)", &p, __func__, NULL, &changed)) == 0 &&
	    changed == 0 && (r = user_exists(s, id)) == 0)
		r = INK_ERR_DISABLED;	/* users are never deleted: missing or disabled */
	unlock(s);
	return r;
}

/* The first statement (a row lock on the user, taken by UPDATE) keeps two nodes changing the
 * same user's roles from interleaving their DELETE and INSERTs. */
static int
pg_user_set_roles(struct store *st, const char *id, uint32_t roles)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r;

	if (id == NULL || (roles & ~STORE_ROLES_KNOWN) != 0)
		return INK_ERR_INVALID;
	p_text(&p, id);
	lock(s);
	if ((r = tx_begin(s)) != 0 || (r = user_exists_row(s, id, true)) != 0)
		goto out;
	if ((r = run(s, "DELETE FROM user_roles WHERE user_id = $1", &p, __func__, NULL,
	    NULL)) != 0 || (r = roles_write(s, id, roles)) != 0)
		goto out;
	r = tx_commit(s);
out:
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

static int
pg_user_set_totp(struct store *st, const char *id, const uint8_t *sealed, size_t len)
{
	struct pg_params p = { .n = 0 };

	if (id == NULL || len > STORE_SEALED_MAX || (sealed == NULL && len != 0))
		return INK_ERR_INVALID;
	p_blob(&p, sealed, len);
	p_text(&p, id);
	return update_one(st, "UPDATE users SET totp_sealed = $1 WHERE id = $2", &p, __func__);
}

/* The first UPDATE locks the user's row until COMMIT: concurrent failures from several nodes
 * each count, and exactly one of them sees the account go from active to locked. */
static int
pg_user_login_failed(struct store *st, const char *id, int64_t max, bool *locked_now)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	*locked_now = false;
	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	p_text(&p, id);
	p_int(&p, max);
	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	if ((r = run(s, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 AND "
	    "$2::bigint > 0", &p, __func__, NULL, &changed)) != 0)
		goto out;
	if (changed == 0) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = run(s, "UPDATE users SET status = 1 WHERE id = $1 AND status = 0 AND "
	    "failed_logins >= $2", &p, __func__, NULL, &changed)) != 0 ||
	    (r = tx_commit(s)) != 0)
		goto out;
	*locked_now = changed != 0;
out:
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

/* One conditional UPDATE: the row lock makes parallel reservations from any node count one
 * after the other, so they cannot overshoot max. */
static int
pg_user_login_reserve(struct store *st, const char *id, int64_t max)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	p_text(&p, id);
	p_int(&p, max);
	lock(s);
	if ((r = run(s, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 AND "
	    "status = 0 AND failed_logins < $2", &p, __func__, NULL, &changed)) == 0 &&
	    changed == 0 && (r = user_exists(s, id)) == 0)
		r = INK_ERR_LOCKED;
	unlock(s);
	return r;
}

static int
pg_user_login_settle(struct store *st, const char *id, int64_t max, bool failed,
                     bool *locked_now)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	*locked_now = false;
	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	p_text(&p, id);
	p_int(&p, max);
	lock(s);
	if ((r = run(s, failed ? "UPDATE users SET status = 1 WHERE id = $1 AND status = 0 AND "
	                         "failed_logins >= $2" :
	                         "UPDATE users SET failed_logins = failed_logins - 1 WHERE id = $1 "
	                         "AND failed_logins > 0 AND $2::bigint > 0",
	    &p, __func__, NULL, &changed)) != 0)
		goto out;
	if (!failed)
		changed = 0;
	if (changed == 0 && (r = user_exists(s, id)) != 0)
		goto out;
	*locked_now = changed != 0;
out:
	unlock(s);
	return r;
}

static int
pg_user_login_ok(struct store *st, const char *id)
{
	struct pg_params p = { .n = 0 };

	if (id == NULL)
		return INK_ERR_INVALID;
	p_text(&p, id);
	return update_one(st, "UPDATE users SET failed_logins = 0 WHERE id = $1", &p, __func__);
}

/* One conditional UPDATE is the whole replay guard: of two requests with the same step, on
 * any number of nodes, only one changes the row (the second waits for the first's row lock,
 * then finds the condition false). */
static int
pg_user_use_totp_step(struct store *st, const char *id, int64_t step)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	if (id == NULL)
		return INK_ERR_INVALID;
	p_int(&p, step);
	p_text(&p, id);
	lock(s);
	if ((r = run(s, "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND "
	    "totp_last_step < $1", &p, __func__, NULL, &changed)) == 0 && changed == 0 &&
	    (r = user_exists(s, id)) == 0)
		r = INK_ERR_REPLAY;
	unlock(s);
	return r;
}

/* ---- identity verification ---- */

static int
pg_idv_insert(struct store *st, const struct store_idv *v)
{
	struct pg_params p = { .n = 0 };

	if (!store_idv_ok(v))
		return INK_ERR_INVALID;
	p_text(&p, v->user_id);
	p_text(&p, v->method);
	p_text(&p, v->evidence_ref);
	p_text(&p, v->officer);
	p_int(&p, v->verified_at);
	return exec_one(st, "INSERT INTO identity_verifications (user_id, method, evidence_ref, "
	    "officer, verified_at) VALUES ($1, $2, $3, $4, $5)", &p, __func__);
}

static int
pg_idv_get(struct store *st, const char *user_id, struct store_idv *out)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (user_id == NULL)
		return INK_ERR_INVALID;
	p_text(&p, user_id);
	lock(s);
	r = run(s, "SELECT user_id, method, evidence_ref, officer, verified_at FROM "
	    "identity_verifications WHERE user_id = $1 ORDER BY verified_at DESC, id DESC LIMIT 1",
	    &p, __func__, &res, NULL);
	unlock(s);
	if (r != 0)
		goto out;
	if (PQntuples(res) == 0) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = col_text(res, 0, 0, out->user_id, sizeof(out->user_id))) != 0 ||
	    (r = col_text(res, 0, 1, out->method, sizeof(out->method))) != 0 ||
	    (r = col_text(res, 0, 2, out->evidence_ref, sizeof(out->evidence_ref))) != 0 ||
	    (r = col_text(res, 0, 3, out->officer, sizeof(out->officer))) != 0)
		goto out;
	out->verified_at = col_int(res, 0, 4);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	PQclear(res);
	return r;
}

/* ---- sessions ---- */

static int
pg_session_insert(struct store *st, const struct store_session *ss)
{
	struct pg_params p = { .n = 0 };

	if (!store_terminated(ss->user_id, sizeof(ss->user_id)) || ss->user_id[0] == '\0')
		return INK_ERR_INVALID;
	p_blob(&p, ss->token_hash, sizeof(ss->token_hash));
	p_text(&p, ss->user_id);
	p_int(&p, ss->created_at);
	p_int(&p, ss->expires_at);
	p_bool(&p, ss->revoked);
	p_bool(&p, ss->password_change_only);
	return exec_one(st, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, "
	    "revoked, password_change_only) VALUES ($1, $2, $3, $4, $5, $6)", &p, __func__);
}

#define SESSION_COLS "token_hash, user_id, created_at, expires_at, revoked, password_change_only"

/* Reads the session of a row whose first six columns are SESSION_COLS (qualified or not). */
static int
read_session(const PGresult *res, struct store_session *out)
{
	size_t len = 0;
	int r;

	if ((r = col_blob(res, 0, 0, out->token_hash, sizeof(out->token_hash), false, &len)) != 0 ||
	    len != sizeof(out->token_hash)) {
		log_bug("session hash of the wrong length");
		return INK_ERR_STORE;
	}
	if ((r = col_text(res, 0, 1, out->user_id, sizeof(out->user_id))) != 0)
		return r;
	out->created_at = col_int(res, 0, 2);
	out->expires_at = col_int(res, 0, 3);
	out->revoked = col_int(res, 0, 4) != 0;
	out->password_change_only = col_int(res, 0, 5) != 0;
	return 0;
}

/* Returns the row whether or not it has expired or been revoked: the caller decides. */
static int
pg_session_get(struct store *st, const uint8_t hash[static 32], struct store_session *out)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	p_blob(&p, hash, 32);
	lock(s);
	r = run(s, "SELECT " SESSION_COLS " FROM sessions WHERE token_hash = $1", &p, __func__,
	    &res, NULL);
	unlock(s);
	if (r == 0)
		r = PQntuples(res) == 0 ? INK_ERR_NOT_FOUND : read_session(res, out);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	PQclear(res);
	return r;
}

/* The session and, in the same statement, its account as far as a request's authentication
 * needs it. */
static int
pg_session_get_user(struct store *st, const uint8_t hash[static 32], struct store_session *out,
                    struct store_user *u)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	memset(u, 0, sizeof(*u));
	p_blob(&p, hash, 32);
	lock(s);
	r = run(s, "SELECT sessions.token_hash, sessions.user_id, sessions.created_at, "
	    "sessions.expires_at, sessions.revoked, sessions.password_change_only, users.username, "
	    "users.status, users.must_change_password, (SELECT string_agg(role, ',') FROM user_roles "
	    "WHERE user_roles.user_id = users.id) FROM sessions JOIN users ON users.id = "
	    "sessions.user_id WHERE sessions.token_hash = $1", &p, __func__, &res, NULL);
	unlock(s);
	if (r == 0 && PQntuples(res) == 0)
		r = INK_ERR_NOT_FOUND;
	if (r == 0 && (r = read_session(res, out)) == 0 &&
	    (r = col_text(res, 0, 6, u->username, sizeof(u->username))) == 0 &&
	    (r = store_roles_from_names(PQgetisnull(res, 0, 9) ? NULL : PQgetvalue(res, 0, 9),
	    &u->roles)) == 0) {
		memcpy(u->id, out->user_id, sizeof(u->id));
		u->status = (int)col_int(res, 0, 7);
		u->must_change_password = col_int(res, 0, 8) != 0;
	}
	if (r != 0) {
		memset(out, 0, sizeof(*out));
		memset(u, 0, sizeof(*u));
	}
	PQclear(res);
	return r;
}

static int
session_update(struct store *st, const char *sql, const uint8_t hash[static 32])
{
	struct pg_params p = { .n = 0 };

	p_blob(&p, hash, 32);
	return update_one(st, sql, &p, __func__);
}

static int
pg_session_revoke(struct store *st, const uint8_t hash[static 32])
{
	return session_update(st, "UPDATE sessions SET revoked = true WHERE token_hash = $1", hash);
}

static int
pg_session_upgrade(struct store *st, const uint8_t hash[static 32])
{
	return session_update(st, "UPDATE sessions SET password_change_only = false "
	                          "WHERE token_hash = $1 AND NOT revoked", hash);
}

/* A user without sessions is not an error; an unknown user is. keep: a session that stays. */
static int
revoke_user(struct store *st, const char *user_id, const uint8_t *keep)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	if (user_id == NULL)
		return INK_ERR_INVALID;
	p_text(&p, user_id);
	p_blob(&p, keep, keep != NULL ? 32 : 0);
	lock(s);
	if ((r = run(s, "UPDATE sessions SET revoked = true WHERE user_id = $1 AND "
	    "token_hash IS DISTINCT FROM $2", &p, __func__, NULL, &changed)) == 0 && changed == 0)
		r = user_exists(s, user_id);
	unlock(s);
	return r;
}

static int
pg_session_revoke_user(struct store *st, const char *user_id)
{
	return revoke_user(st, user_id, NULL);
}

static int
pg_session_revoke_others(struct store *st, const char *user_id, const uint8_t keep[static 32])
{
	return revoke_user(st, user_id, keep);
}

/* ---- audit rows ----
 * The insert trigger numbers each row one past the highest under an advisory lock held until
 * its transaction ends: writers on every node take turns, numbers have no gap and become
 * visible in order (postgres-0001.sql). */

/* One field of n records as a one-dimensional PostgreSQL array in its binary form (what
 * array_send writes): no literal to escape here and none for the server to parse. A header of
 * five 32-bit numbers (dimensions 1, no NULLs, the element type, n, lower bound 1), then each
 * element as its length and bytes: a text field's bytes (off: its offset in the record) or,
 * with off == SIZE_MAX, the record's time as an 8-byte integer. All in network byte order.
 * malloc'd, *len its length; NULL when out of memory. */
#define INT8OID 20
#define TEXTOID 25

static uint8_t *
put_be(uint8_t *o, uint64_t v, size_t n)
{
	while (n-- > 0)
		*o++ = (uint8_t)(v >> (8 * n));
	return o;
}

static uint8_t *
field_array(const struct store_audit_rec *const *recs, size_t n, size_t off, int *len)
{
	size_t total = 20, i, l;
	uint8_t *out, *o;

	for (i = 0; i < n; i++)
		total += 4 + (off == SIZE_MAX ? 8 : strlen((const char *)recs[i] + off));
	if (total > INT32_MAX || (o = out = malloc(total)) == NULL)
		return NULL;
	o = put_be(o, 1, 4);
	o = put_be(o, 0, 4);
	o = put_be(o, off == SIZE_MAX ? INT8OID : TEXTOID, 4);
	o = put_be(o, n, 4);
	o = put_be(o, 1, 4);
	for (i = 0; i < n; i++) {
		if (off == SIZE_MAX) {
			o = put_be(o, 8, 4);
			o = put_be(o, (uint64_t)recs[i]->time, 8);
			continue;
		}
		l = strlen((const char *)recs[i] + off);
		o = put_be(o, l, 4);
		memcpy(o, (const char *)recs[i] + off, l);
		o += l;
	}
	*len = (int)total;
	return out;
}

static int
seq_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* audit_insert_many's statement, under the lock. */
static int
insert_many_locked(struct pg_store *s, const struct pg_params *p, size_t n, int64_t *seqs)
{
	PGresult *res = NULL;
	size_t i;
	int r;

	if ((r = run(s, "INSERT INTO audit_log (time, actor, role, action, subject, result, "
	    "request_id, source, detail) SELECT t, a, ro, ac, su, re, rq, so, de FROM "
	    "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
	    "$7::text[], $8::text[], $9::text[]) WITH ORDINALITY AS u (t, a, ro, ac, su, re, rq, "
	    "so, de, ord) ORDER BY ord RETURNING seq", p, __func__, &res, NULL)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (PQntuples(res) != (int)n)
		goto out;
	for (i = 0; i < n; i++)
		seqs[i] = col_int(res, (int)i, 0);
	qsort(seqs, n, sizeof(*seqs), seq_cmp);
	for (i = 1; i < n; i++)
		if (seqs[i] != seqs[i - 1] + 1) {
			/* Committed already: the statement trigger (postgres-0007.sql) refuses such rows,
			 * so reaching this means it is gone. The rows stay in the log; the requests they
			 * record fail (closed), as for a commit whose answer was lost. */
			log_bug("a group of audit rows was numbered with a gap: the schema's check is gone");
			goto out;
		}
	r = 0;
out:
	PQclear(res);
	return r;
}

/* Several rows in one statement: one INSERT for a whole group commit, alone in its transaction
 * (one round trip). The numbering trigger runs row by row in the order of ORDINALITY (a
 * row-level trigger's queries see the rows the same statement inserted before), so the rows'
 * numbers are consecutive in that order; a statement trigger checks it and fails the INSERT,
 * committing nothing, if they are not (postgres-0007.sql). Given back sorted. */
static int
audit_insert_many(struct pg_store *s, const struct store_audit_rec *const *recs, size_t n,
                  int64_t *seqs)
{
	static const size_t field_off[] = {
		SIZE_MAX, /* the time */
		offsetof(struct store_audit_rec, actor), offsetof(struct store_audit_rec, role),
		offsetof(struct store_audit_rec, action), offsetof(struct store_audit_rec, subject),
		offsetof(struct store_audit_rec, result), offsetof(struct store_audit_rec, request_id),
		offsetof(struct store_audit_rec, source), offsetof(struct store_audit_rec, detail),
	};
	uint8_t *arr[INK_ARRAY_LEN(field_off)] = { 0 };
	int len[INK_ARRAY_LEN(field_off)];
	struct pg_params p = { .n = 0 };
	size_t i;
	int r = INK_ERR_ALLOC;

	for (i = 0; i < INK_ARRAY_LEN(field_off); i++)
		if ((arr[i] = field_array(recs, n, field_off[i], &len[i])) == NULL)
			goto out;
	for (i = 0; i < INK_ARRAY_LEN(arr); i++)
		p_blob(&p, arr[i], (size_t)len[i]);
	lock(s);
	r = insert_many_locked(s, &p, n, seqs);
	unlock(s);
out:
	if (r != 0)
		for (i = 0; i < n; i++)
			seqs[i] = 0;
	for (i = 0; i < INK_ARRAY_LEN(arr); i++)
		free(arr[i]);
	return r;
}

static int
audit_insert_rows(struct pg_store *s, const struct store_audit_rec *const *recs, size_t n,
                  int64_t *seqs)
{
	struct pg_params p = { .n = 0 };
	const struct store_audit_rec *rec = recs[0];
	PGresult *res = NULL;
	int r;

	if (n > 1)
		return audit_insert_many(s, recs, n, seqs);
	p_int(&p, rec->time);
	p_text(&p, rec->actor);
	p_text(&p, rec->role);
	p_text(&p, rec->action);
	p_text(&p, rec->subject);
	p_text(&p, rec->result);
	p_text(&p, rec->request_id);
	p_text(&p, rec->source);
	p_text(&p, rec->detail);
	lock(s);
	r = run(s, "INSERT INTO audit_log (time, actor, role, action, subject, result, "
	    "request_id, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	    "RETURNING seq", &p, __func__, &res, NULL);
	unlock(s);
	if (r == 0 && PQntuples(res) != 1)
		r = INK_ERR_STORE;
	seqs[0] = r == 0 ? col_int(res, 0, 0) : 0;
	PQclear(res);
	return r;
}

static int
pg_audit_insert(struct store *st, const struct store_audit_rec *rec, int64_t *seq)
{
	*seq = 0;
	if (!store_audit_rec_ok(rec))
		return INK_ERR_INVALID;
	return audit_insert_rows(to_pg(st), &rec, 1, seq);
}

static int
pg_audit_insert_batch(struct store *st, const struct store_audit_rec *const *recs, size_t n,
                      int64_t *seqs)
{
	if (!store_audit_batch_ok(recs, n, seqs))
		return INK_ERR_INVALID;
	if (n == 0)
		return 0;
	return audit_insert_rows(to_pg(st), recs, n, seqs);
}

static int
read_audit(const PGresult *res, int row, struct store_audit_rec *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->seq = col_int(res, row, 0);
	a->time = col_int(res, row, 1);
	if ((r = col_text(res, row, 2, a->actor, sizeof(a->actor))) != 0 ||
	    (r = col_text(res, row, 3, a->role, sizeof(a->role))) != 0 ||
	    (r = col_text(res, row, 4, a->action, sizeof(a->action))) != 0 ||
	    (r = col_text(res, row, 5, a->subject, sizeof(a->subject))) != 0 ||
	    (r = col_text(res, row, 6, a->result, sizeof(a->result))) != 0 ||
	    (r = col_text(res, row, 7, a->request_id, sizeof(a->request_id))) != 0 ||
	    (r = col_text(res, row, 8, a->source, sizeof(a->source))) != 0 ||
	    (r = col_text(res, row, 9, a->detail, sizeof(a->detail))) != 0)
		return r;
	return 0;
}

/* Runs a query under the lock and gives back its rows (a malloc'd array of elem-sized
 * elements, each filled by read) */
static int
query_rows(struct store *st, const char *sql, const struct pg_params *p, const char *func,
           size_t elem, int (*read)(const PGresult *, int, void *), void **out, size_t *n)
{
	struct pg_store *s = to_pg(st);
	PGresult *res = NULL;
	uint8_t *v = NULL;
	int r, rows, i;

	*out = NULL;
	*n = 0;
	lock(s);
	r = run(s, sql, p, func, &res, NULL);
	unlock(s);
	if (r != 0)
		return r;
	rows = PQntuples(res);
	if (rows > 0 && (v = calloc((size_t)rows, elem)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < rows; i++) {
		if ((r = read(res, i, v + (size_t)i * elem)) != 0)
			goto out;
	}
	*out = v;
	*n = (size_t)rows;
	v = NULL;
out:
	PQclear(res);
	free(v);
	return r;
}

static int
read_audit_v(const PGresult *res, int row, void *a)
{
	return read_audit(res, row, a);
}

static int
pg_audit_list(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
              size_t *n)
{
	struct pg_params p = { .n = 0 };

	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	if (limit > (uint64_t)INT64_MAX)
		limit = (size_t)INT64_MAX;
	p_int(&p, after);
	p_int(&p, (int64_t)limit);
	return query_rows(st, "SELECT " AUDIT_COLS " FROM audit_log WHERE seq > $1 ORDER BY seq "
	    "LIMIT $2", &p, __func__, sizeof(**out), read_audit_v, (void **)out, n);
}

/* The counter is the last number given, committed or not yet: only committed rows are
 * counted, as a reader of audit_log sees them. */
static int
pg_audit_last_seq(struct store *st, int64_t *seq)
{
	struct pg_store *s = to_pg(st);
	PGresult *res = NULL;
	int r;

	*seq = 0;
	lock(s);
	r = run(s, "SELECT greatest(coalesce((SELECT max(seq) FROM audit_log), 0), "
	    "coalesce((SELECT max(last_seq) FROM audit_archives), 0))", NULL, __func__, &res, NULL);
	unlock(s);
	if (r == 0 && PQntuples(res) == 1)
		*seq = col_int(res, 0, 0);
	PQclear(res);
	return r;
}

static int
pg_checkpoint_insert(struct store *st, const struct store_checkpoint *c)
{
	struct pg_params p = { .n = 0 };

	if (!store_checkpoint_ok(c))
		return INK_ERR_INVALID;
	p_int(&p, c->size);
	p_blob(&p, c->root, 32);
	p_int(&p, c->time);
	p_blob(&p, c->sig, c->sig_len);
	return exec_one(st, "INSERT INTO audit_checkpoints (size, root, time, sig) VALUES ($1, $2, "
	    "$3, $4)", &p, __func__);
}

/* A root or signature of the wrong length is kept as it is (cut to the field): the verifier
 * reports it, the store does not judge. */
static int
read_checkpoint(const PGresult *res, int row, void *out)
{
	struct store_checkpoint *c = out;
	size_t len;

	memset(c, 0, sizeof(*c));
	c->id = col_int(res, row, 0);
	c->size = col_int(res, row, 1);
	c->time = col_int(res, row, 3);
	(void)col_blob(res, row, 2, c->root, sizeof(c->root), true, &len);
	return col_blob(res, row, 4, c->sig, sizeof(c->sig), true, &c->sig_len);
}

static int
pg_checkpoint_list(struct store *st, int64_t min_size, int64_t max_size,
                   struct store_checkpoint **out, size_t *n)
{
	struct pg_params p = { .n = 0 };

	p_int(&p, min_size);
	p_int(&p, max_size);
	return query_rows(st, "SELECT id, size, root, time, sig FROM audit_checkpoints WHERE "
	    "size >= $1 AND size <= $2 ORDER BY id", &p, __func__, sizeof(**out), read_checkpoint,
	    (void **)out, n);
}

static int
pg_archive_insert(struct store *st, const struct store_archive *a)
{
	struct pg_params p = { .n = 0 };

	if (!store_archive_ok(a))
		return INK_ERR_INVALID;
	p_int(&p, a->first_seq);
	p_int(&p, a->last_seq);
	p_blob(&p, a->frontier, a->frontier_len);
	p_text(&p, a->file);
	p_text(&p, a->sha256);
	p_int(&p, a->made_at);
	return exec_one(st, "INSERT INTO audit_archives (first_seq, last_seq, frontier, file, "
	    "sha256, made_at) VALUES ($1, $2, $3, $4, $5, $6)", &p, __func__);
}

static int
read_archive(const PGresult *res, int row, void *out)
{
	struct store_archive *a = out;
	int r;

	memset(a, 0, sizeof(*a));
	a->id = col_int(res, row, 0);
	a->first_seq = col_int(res, row, 1);
	a->last_seq = col_int(res, row, 2);
	a->made_at = col_int(res, row, 6);
	if ((r = col_blob(res, row, 3, a->frontier, sizeof(a->frontier), false,
	    &a->frontier_len)) != 0 ||
	    (r = col_text(res, row, 4, a->file, sizeof(a->file))) != 0 ||
	    (r = col_text(res, row, 5, a->sha256, sizeof(a->sha256))) != 0)
		return r;
	return 0;
}

static int
pg_archive_last(struct store *st, struct store_archive *out)
{
	struct store_archive *v = NULL;
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = query_rows(st, "SELECT id, first_seq, last_seq, frontier, file, sha256, made_at "
	    "FROM audit_archives ORDER BY id DESC LIMIT 1", NULL, __func__, sizeof(*v),
	    read_archive, (void **)&v, &n)) != 0)
		return r;
	if (n == 0)
		r = INK_ERR_NOT_FOUND;
	else
		*out = v[0];
	free(v);
	return r;
}

/* The server's version as it said at connection (libpq keeps it; no query). */
static void
pg_engine(struct store *st, char *out, size_t outsz)
{
	struct pg_store *s = to_pg(st);
	const char *v;

	lock(s);
	v = PQparameterStatus(s->conn, "server_version");
	snprintf(out, outsz, "PostgreSQL %s", v != NULL ? v : "(unknown)");
	unlock(s);
}

/* ---- OAuth clients ---- */

#define CLIENT_COLS "id, name, redirect_uris, public, secret_hash, created_at, created_by, " \
	"removed_at, public_key"

static int
pg_oauth_client_insert(struct store *st, const struct store_oauth_client *c)
{
	struct pg_params p = { .n = 0 };
	bool keyed = c->public_key[0] != '\0';

	if (!store_oauth_client_ok(c))
		return INK_ERR_INVALID;
	p_text(&p, c->id);
	p_text(&p, c->name);
	p_text(&p, c->redirect_uris);
	p_bool(&p, c->public_client);
	p_blob(&p, c->public_client || keyed ? NULL : c->secret_hash,
	       c->public_client || keyed ? 0 : sizeof(c->secret_hash));
	p_int(&p, c->created_at);
	p_text(&p, c->created_by);
	p_text(&p, keyed ? c->public_key : NULL);
	return exec_one(st, "INSERT INTO oauth_clients (" CLIENT_COLS ") VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, 0, $8)", &p, __func__);
}

/* Reads one row selected with CLIENT_COLS. */
static int
read_client(const PGresult *res, int row, struct store_oauth_client *c)
{
	size_t len = 0;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = col_text(res, row, 0, c->id, sizeof(c->id))) != 0 ||
	    (r = col_text(res, row, 1, c->name, sizeof(c->name))) != 0 ||
	    (r = col_text(res, row, 2, c->redirect_uris, sizeof(c->redirect_uris))) != 0 ||
	    (r = col_text(res, row, 6, c->created_by, sizeof(c->created_by))) != 0 ||
	    (!PQgetisnull(res, row, 8) &&
	     (r = col_text(res, row, 8, c->public_key, sizeof(c->public_key))) != 0))
		return r;
	c->public_client = col_int(res, row, 3) != 0;
	if (!c->public_client && c->public_key[0] == '\0' &&
	    ((r = col_blob(res, row, 4, c->secret_hash, sizeof(c->secret_hash), false, &len)) != 0 ||
	    len != sizeof(c->secret_hash))) {
		log_bug("client secret hash of the wrong length");
		return INK_ERR_STORE;
	}
	c->created_at = col_int(res, row, 5);
	c->removed_at = col_int(res, row, 7);
	return 0;
}

static int
pg_oauth_client_get(struct store *st, const char *id, struct store_oauth_client *out)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (id == NULL)
		return INK_ERR_INVALID;
	p_text(&p, id);
	lock(s);
	r = run(s, "SELECT " CLIENT_COLS " FROM oauth_clients WHERE id = $1", &p, __func__, &res, NULL);
	unlock(s);
	if (r == 0)
		r = PQntuples(res) == 0 ? INK_ERR_NOT_FOUND : read_client(res, 0, out);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	PQclear(res);
	return r;
}

static int
pg_oauth_client_list(struct store *st, struct store_oauth_client **out, size_t *n)
{
	struct pg_store *s = to_pg(st);
	struct store_oauth_client *v = NULL;
	PGresult *res = NULL;
	int r, rows = 0, i;

	*out = NULL;
	*n = 0;
	lock(s);
	r = run(s, "SELECT " CLIENT_COLS " FROM oauth_clients WHERE removed_at = 0 "
	    "ORDER BY name COLLATE \"C\", id COLLATE \"C\"", NULL, __func__, &res, NULL);
	unlock(s);
	if (r != 0)
		goto out;
	rows = PQntuples(res);
	if (rows > 0 && (v = calloc((size_t)rows, sizeof(*v))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < rows; i++)
		if ((r = read_client(res, i, &v[i])) != 0)
			goto out;
	*out = v;
	*n = (size_t)rows;
	v = NULL;
out:
	PQclear(res);
	free(v);
	return r;
}

static int
pg_oauth_client_remove(struct store *st, const char *id, int64_t when)
{
	struct pg_params p = { .n = 0 };

	if (id == NULL)
		return INK_ERR_INVALID;
	p_int(&p, when);
	p_text(&p, id);
	return update_one(st, "UPDATE oauth_clients SET removed_at = $1 WHERE id = $2 AND "
	    "removed_at = 0", &p, __func__);
}

static int
pg_oauth_jti_use(struct store *st, const char *client_id, const char *jti, int64_t expires_at,
                 int64_t now)
{
	struct pg_params d = { .n = 0 }, p = { .n = 0 };
	int r;

	if (client_id == NULL || jti == NULL)
		return INK_ERR_INVALID;
	p_int(&d, now);
	if ((r = exec_one(st, "DELETE FROM oauth_jti WHERE expires_at < $1", &d, __func__)) != 0)
		return r;
	p_text(&p, client_id);
	p_text(&p, jti);
	p_int(&p, expires_at);
	/* two nodes racing on one jti: the primary key lets one insert through */
	r = exec_one(st, "INSERT INTO oauth_jti (client_id, jti, expires_at) VALUES ($1, $2, $3)",
	             &p, __func__);
	return r == INK_ERR_EXISTS ? INK_ERR_REPLAY : r;
}

/* ---- OAuth service-scope tokens ---- */

#define TOKEN_COLS "hash, kind, family, client_id, user_id, created_at, expires_at, used_at, " \
	"revoked_at"

static int
pg_oauth_token_insert(struct store *st, const struct store_oauth_token *t)
{
	struct pg_params p = { .n = 0 };

	if (!store_oauth_token_ok(t))
		return INK_ERR_INVALID;
	p_blob(&p, t->hash, sizeof(t->hash));
	p_int(&p, t->kind);
	p_text(&p, t->family);
	p_text(&p, t->client_id);
	p_text(&p, t->user_id);
	p_int(&p, t->created_at);
	p_int(&p, t->expires_at);
	return exec_one(st, "INSERT INTO oauth_tokens (" TOKEN_COLS ") VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, 0, 0)", &p, __func__);
}

static int
pg_oauth_token_get(struct store *st, const uint8_t hash[static 32], struct store_oauth_token *out)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	p_blob(&p, hash, 32);
	lock(s);
	r = run(s, "SELECT " TOKEN_COLS " FROM oauth_tokens WHERE hash = $1", &p, __func__, &res, NULL);
	unlock(s);
	if (r == 0 && PQntuples(res) == 0)
		r = INK_ERR_NOT_FOUND;
	if (r == 0 && (r = col_text(res, 0, 2, out->family, sizeof(out->family))) == 0 &&
	    (r = col_text(res, 0, 3, out->client_id, sizeof(out->client_id))) == 0 &&
	    (r = col_text(res, 0, 4, out->user_id, sizeof(out->user_id))) == 0) {
		memcpy(out->hash, hash, 32);
		out->kind = (int)col_int(res, 0, 1);
		out->created_at = col_int(res, 0, 5);
		out->expires_at = col_int(res, 0, 6);
		out->used_at = col_int(res, 0, 7);
		out->revoked_at = col_int(res, 0, 8);
	}
	if (r != 0)
		memset(out, 0, sizeof(*out));
	PQclear(res);
	return r;
}

static int
pg_oauth_token_use(struct store *st, const uint8_t hash[static 32], int64_t when)
{
	struct pg_params p = { .n = 0 };
	int r;

	p_int(&p, when);
	p_blob(&p, hash, 32);
	r = update_one(st, "UPDATE oauth_tokens SET used_at = $1 WHERE hash = $2 AND used_at = 0 AND "
	    "revoked_at = 0", &p, __func__);
	return r == INK_ERR_NOT_FOUND ? INK_ERR_REPLAY : r;
}

static int
pg_oauth_token_revoke(struct store *st, const uint8_t hash[static 32], int64_t when)
{
	struct pg_params p = { .n = 0 };

	p_int(&p, when);
	p_blob(&p, hash, 32);
	return update_one(st, "UPDATE oauth_tokens SET revoked_at = $1 WHERE hash = $2 AND "
	    "revoked_at = 0", &p, __func__);
}

static int
pg_oauth_token_revoke_family(struct store *st, const char *family, int64_t when, size_t *n)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r, changed = 0;

	*n = 0;
	if (family == NULL)
		return INK_ERR_INVALID;
	p_int(&p, when);
	p_text(&p, family);
	lock(s);
	r = run(s, "UPDATE oauth_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at = 0", &p,
	        __func__, NULL, &changed);
	unlock(s);
	if (r == 0)
		*n = (size_t)changed;
	return r;
}

/* ---- OAuth flows (pages, pushed requests, codes, credential-scope tokens) ---- */

#define FLOW_COLS "kind, hash, client_id, source, expires_at, keep_until, state, aux, body"

/* Reads row 0 of a result selected with FLOW_COLS into *out (body malloc'd). */
static int
read_flow(const PGresult *res, struct store_oauth_flow *out)
{
	size_t len;
	int n, r;

	out->kind = (int)col_int(res, 0, 0);
	if ((r = col_blob(res, 0, 1, out->hash, 32, false, &len)) != 0 || len != 32 ||
	    (r = col_text(res, 0, 2, out->client_id, sizeof(out->client_id))) != 0 ||
	    (r = col_text(res, 0, 3, out->source, sizeof(out->source))) != 0)
		return r != 0 ? r : INK_ERR_STORE;
	out->expires_at = col_int(res, 0, 4);
	out->keep_until = col_int(res, 0, 5);
	out->state = (int)col_int(res, 0, 6);
	if (!PQgetisnull(res, 0, 7)) {
		if ((r = col_blob(res, 0, 7, out->aux, 32, false, &len)) != 0 || len != 32)
			return r != 0 ? r : INK_ERR_STORE;
		out->has_aux = true;
	}
	if (!PQgetisnull(res, 0, 8)) {
		n = PQgetlength(res, 0, 8);
		if (n <= 0 || n > STORE_FLOW_BODY_MAX)
			return INK_ERR_STORE;
		if ((out->body = malloc((size_t)n)) == NULL)
			return INK_ERR_ALLOC;
		memcpy(out->body, PQgetvalue(res, 0, 8), (size_t)n);
		out->body_len = (size_t)n;
	}
	return 0;
}

/* Runs a statement returning at most one FLOW_COLS row into *out (INK_ERR_NOT_FOUND: none). */
static int
flow_read_one(struct store *st, const char *sql, const struct pg_params *p, const char *func,
              struct store_oauth_flow *out)
{
	struct pg_store *s = to_pg(st);
	PGresult *res = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	lock(s);
	r = run(s, sql, p, func, &res, NULL);
	unlock(s);
	if (r == 0 && PQntuples(res) == 0)
		r = INK_ERR_NOT_FOUND;
	if (r == 0 && (r = read_flow(res, out)) != 0)
		store_oauth_flow_clear(out);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	PQclear(res);
	return r;
}

/* Makes room for one more row of kind from source under the caps (see store.h). In the
 * transaction, under the lock. */
static int
flow_room(struct pg_store *s, int kind, const char *source, int64_t now, size_t source_max,
          size_t kind_max, bool evict)
{
	struct pg_params p;
	PGresult *res = NULL;
	int64_t n;
	int r, pass;

	for (pass = 0; pass < 2; pass++) {
		size_t max = pass == 0 ? source_max : kind_max;

		if (max == 0)
			continue;
		p.n = 0;
		p_int(&p, kind);
		p_int(&p, now);
		if (pass == 0)
			p_text(&p, source);
		if ((r = run(s, pass == 0 ? "SELECT count(*) FROM oauth_flows WHERE kind = $1 AND "
		    "keep_until > $2 AND source = $3" : "SELECT count(*) FROM oauth_flows WHERE "
		    "kind = $1 AND keep_until > $2", &p, __func__, &res, NULL)) != 0)
			return r;
		n = PQntuples(res) == 1 ? col_int(res, 0, 0) : 0;
		PQclear(res);
		res = NULL;
		if ((size_t)n < max)
			continue;
		if (!evict)
			return INK_ERR_BUSY;
		if ((r = run(s, pass == 0 ? "DELETE FROM oauth_flows WHERE kind = $1 AND hash = (SELECT "
		    "hash FROM oauth_flows WHERE kind = $1 AND keep_until > $2 AND source = $3 "
		    "ORDER BY keep_until LIMIT 1)" : "DELETE FROM oauth_flows WHERE kind = $1 AND "
		    "hash = (SELECT hash FROM oauth_flows WHERE kind = $1 AND keep_until > $2 "
		    "ORDER BY keep_until LIMIT 1)", &p, __func__, NULL, NULL)) != 0)
			return r;
	}
	return 0;
}

static int
pg_oauth_flow_insert(struct store *st, const struct store_oauth_flow *f, int64_t now,
                     size_t source_max, size_t kind_max, bool evict)
{
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	int r;

	if (!store_oauth_flow_ok(f))
		return INK_ERR_INVALID;
	p_int(&p, f->kind);
	p_blob(&p, f->hash, 32);
	p_text(&p, f->client_id);
	p_text(&p, f->source);
	p_int(&p, f->expires_at);
	p_int(&p, f->keep_until);
	p_int(&p, f->state);
	p_blob(&p, f->aux, f->has_aux ? 32 : 0);
	p_blob(&p, f->body, f->body != NULL ? f->body_len : 0);
	lock(s);
	if ((r = tx_begin(s)) == 0 &&
	    (r = flow_room(s, f->kind, f->source, now, source_max, kind_max, evict)) == 0 &&
	    (r = run(s, "INSERT INTO oauth_flows (" FLOW_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "$8, $9)", &p, __func__, NULL, NULL)) == 0)
		r = tx_commit(s);
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

static int
pg_oauth_flow_get(struct store *st, int kind, const uint8_t hash[static 32],
                  struct store_oauth_flow *out)
{
	struct pg_params p = { .n = 0 };

	p_int(&p, kind);
	p_blob(&p, hash, 32);
	return flow_read_one(st, "SELECT " FLOW_COLS " FROM oauth_flows WHERE kind = $1 AND "
	                     "hash = $2", &p, __func__, out);
}

static int
pg_oauth_flow_take(struct store *st, int kind, const uint8_t hash[static 32], int64_t now,
                   struct store_oauth_flow *out)
{
	struct pg_params p = { .n = 0 };

	p_int(&p, kind);
	p_blob(&p, hash, 32);
	p_int(&p, now);
	/* one statement: a second node's UPDATE waits on the row lock, then re-checks state = 0
	 * against the committed row (READ COMMITTED) and matches nothing */
	return flow_read_one(st, "UPDATE oauth_flows SET state = 1 WHERE kind = $1 AND hash = $2 AND "
	                     "state = 0 AND expires_at > $3 RETURNING " FLOW_COLS, &p, __func__, out);
}

static int
pg_oauth_flow_update(struct store *st, const struct store_oauth_flow *f, int from)
{
	struct pg_params p = { .n = 0 };

	if (!store_oauth_flow_ok(f))
		return INK_ERR_INVALID;
	p_int(&p, f->state);
	p_blob(&p, f->aux, f->has_aux ? 32 : 0);
	p_int(&p, f->expires_at);
	p_int(&p, f->keep_until);
	p_blob(&p, f->body, f->body != NULL ? f->body_len : 0);
	p_int(&p, f->kind);
	p_blob(&p, f->hash, 32);
	p_int(&p, from);
	return update_one(st, "UPDATE oauth_flows SET state = $1, aux = $2, expires_at = $3, "
	                  "keep_until = $4, body = $5 WHERE kind = $6 AND hash = $7 AND state = $8",
	                  &p, __func__);
}

static int
pg_oauth_prune(struct store *st, int64_t now, size_t *n)
{
	static const char *const sql[] = {
		"DELETE FROM oauth_flows WHERE keep_until <= $1",
		"DELETE FROM oauth_tokens WHERE expires_at <= $1",
		"DELETE FROM oauth_jti WHERE expires_at < $1",
	};
	struct pg_store *s = to_pg(st);
	struct pg_params p = { .n = 0 };
	size_t i;
	int r = 0, changed;

	*n = 0;
	p_int(&p, now);
	lock(s);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && r == 0; i++)
		if ((r = run(s, sql[i], &p, __func__, NULL, &changed)) == 0)
			*n += (size_t)changed;
	unlock(s);
	return r;
}

const struct store_ops store_postgres_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.engine = pg_engine,
	.user_insert = pg_user_insert,
	.user_get_by_name = pg_user_get_by_name,
	.user_get_by_id = pg_user_get_by_id,
	.user_list = pg_user_list,
	.user_set_password = pg_user_set_password,
	.user_set_status = pg_user_set_status,
	.user_set_roles = pg_user_set_roles,
	.user_set_totp = pg_user_set_totp,
	.user_login_failed = pg_user_login_failed,
	.user_login_reserve = pg_user_login_reserve,
	.user_login_settle = pg_user_login_settle,
	.user_login_ok = pg_user_login_ok,
	.user_use_totp_step = pg_user_use_totp_step,
	.idv_insert = pg_idv_insert,
	.idv_get = pg_idv_get,
	.session_insert = pg_session_insert,
	.session_get = pg_session_get,
	.session_get_user = pg_session_get_user,
	.session_revoke = pg_session_revoke,
	.session_upgrade = pg_session_upgrade,
	.session_revoke_user = pg_session_revoke_user,
	.session_revoke_others = pg_session_revoke_others,
	.audit_insert = pg_audit_insert,
	.audit_insert_batch = pg_audit_insert_batch,
	.audit_list = pg_audit_list,
	.audit_last_seq = pg_audit_last_seq,
	.checkpoint_insert = pg_checkpoint_insert,
	.checkpoint_list = pg_checkpoint_list,
	.archive_insert = pg_archive_insert,
	.archive_last = pg_archive_last,
	.oauth_client_insert = pg_oauth_client_insert,
	.oauth_client_get = pg_oauth_client_get,
	.oauth_client_list = pg_oauth_client_list,
	.oauth_client_remove = pg_oauth_client_remove,
	.oauth_jti_use = pg_oauth_jti_use,
	.oauth_token_insert = pg_oauth_token_insert,
	.oauth_token_get = pg_oauth_token_get,
	.oauth_token_use = pg_oauth_token_use,
	.oauth_token_revoke = pg_oauth_token_revoke,
	.oauth_token_revoke_family = pg_oauth_token_revoke_family,
	.oauth_flow_insert = pg_oauth_flow_insert,
	.oauth_flow_get = pg_oauth_flow_get,
	.oauth_flow_take = pg_oauth_flow_take,
	.oauth_flow_update = pg_oauth_flow_update,
	.oauth_prune = pg_oauth_prune,
};
