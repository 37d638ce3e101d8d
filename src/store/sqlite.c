/* store/sqlite: the embedded SQLite backend of the storage interface. */
#include "store/store.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Versioned schema files, compiled in by CMake from src/store/sql/. */
extern const char schema_sqlite_0001[];
extern const char schema_sqlite_0002[];
extern const char schema_sqlite_0003[];
extern const char schema_sqlite_0004[];
extern const char schema_sqlite_0005[];
extern const char schema_sqlite_0006[];

/* Applied in order to any database whose schema_version is lower; a new file is one new line. */
static const struct {
	int64_t version;
	const char *sql;
} schemas[] = {
	{ 1, schema_sqlite_0001 },
	{ 2, schema_sqlite_0002 },
	{ 3, schema_sqlite_0003 },
	{ 4, schema_sqlite_0004 },
	{ 5, schema_sqlite_0005 },
	{ 6, schema_sqlite_0006 },
};

#define BUSY_TIMEOUT_MS 5000

/* Prepared statements kept for reuse, found by their SQL text: parsing and planning a statement
 * cost more than running most of ours. */
#define STMT_CACHE 64

struct stmt_slot {
	sqlite3_stmt *q;
	bool busy;               /* handed out by prep(), not yet given back by done() */
};

struct sqlite_store {
	struct store base;       /* first: a struct store * is a struct sqlite_store * */
	sqlite3 *db;
	pthread_mutex_t mu;      /* one connection shared by every thread: one operation at a time */
	struct stmt_slot stmts[STMT_CACHE];
	size_t nstmts;
};

#define USER_COLS \
	"id, username, display_name, status, must_change_password, failed_logins, totp_last_step, " \
	"created_at, created_by, password_hash, totp_sealed, " \
	"(SELECT group_concat(role, ',') FROM user_roles WHERE user_roles.user_id = users.id)"

#define AUDIT_COLS "seq, time, actor, role, action, subject, result, request_id, source, detail"

static struct sqlite_store *
to_sqlite(struct store *st)
{
	return (struct sqlite_store *)st;
}

static void
lock(struct sqlite_store *s)
{
	if (pthread_mutex_lock(&s->mu) != 0)
		abort();	/* only possible with a corrupted mutex: continuing would race */
}

static void
unlock(struct sqlite_store *s)
{
	(void)pthread_mutex_unlock(&s->mu);
}

/* Maps a failed statement to a project code. SQLite's messages name tables and columns, never
 * bound values, so they are safe to log. */
static int
db_err(struct sqlite_store *s, const char *func, int rc)
{
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return INK_ERR_EXISTS;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* the row refers to a user that does not exist */
		return INK_ERR_NOT_FOUND;
	default:
		log_error("%s: sqlite error %d: %s", func, rc, sqlite3_errmsg(s->db));
		return INK_ERR_STORE;
	}
}

/* A statement for sql, from the cache when one is there and free; give it back with done().
 * Called under the lock. */
static int
prep(struct sqlite_store *s, const char *sql, sqlite3_stmt **out)
{
	size_t i;

	*out = NULL;
	for (i = 0; i < s->nstmts; i++) {
		if (!s->stmts[i].busy && strcmp(sqlite3_sql(s->stmts[i].q), sql) == 0) {
			s->stmts[i].busy = true;
			*out = s->stmts[i].q;
			return 0;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
		log_bug("prepare: %s", sqlite3_errmsg(s->db));
		sqlite3_finalize(*out);
		*out = NULL;
		return INK_ERR_STORE;
	}
	if (s->nstmts < STMT_CACHE)
		s->stmts[s->nstmts++] = (struct stmt_slot){ *out, true };
	return 0;
}

/* Gives back a statement from prep() (NULL is fine): a cached one is reset, its bindings
 * (caller's buffers, bound SQLITE_STATIC) dropped, and kept; any other is finalized. Called
 * under the lock, like every use of q. */
static void
done(struct sqlite_store *s, sqlite3_stmt *q)
{
	size_t i;

	if (q == NULL)
		return;
	for (i = 0; i < s->nstmts; i++) {
		if (s->stmts[i].q == q) {
			(void)sqlite3_reset(q);
			(void)sqlite3_clear_bindings(q);
			s->stmts[i].busy = false;
			return;
		}
	}
	sqlite3_finalize(q);
}

/* Binders: values stay owned by the caller (SQLITE_STATIC), so no copy of a hash is made and
 * every statement is finalized before its values go out of scope. */
static int
b_text(sqlite3_stmt *q, int i, const char *v)
{
	if (sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC) != SQLITE_OK) {
		log_bug("bind %d failed", i);
		return INK_ERR_STORE;
	}
	return 0;
}

static int
b_int(sqlite3_stmt *q, int i, int64_t v)
{
	if (sqlite3_bind_int64(q, i, v) != SQLITE_OK) {
		log_bug("bind %d failed", i);
		return INK_ERR_STORE;
	}
	return 0;
}

/* An empty blob is bound as NULL. */
static int
b_blob(sqlite3_stmt *q, int i, const void *v, size_t n)
{
	int rc;

	if (n > INT32_MAX)
		return INK_ERR_TOO_LARGE;
	rc = n == 0 ? sqlite3_bind_null(q, i) : sqlite3_bind_blob(q, i, v, (int)n, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		log_bug("bind %d failed", i);
		return INK_ERR_STORE;
	}
	return 0;
}

/* Steps a statement that returns no rows; *changes (optional) gets the rows it changed. */
static int
run(struct sqlite_store *s, sqlite3_stmt *q, const char *func, int *changes)
{
	int rc;

	if (changes != NULL)
		*changes = 0;
	if ((rc = sqlite3_step(q)) != SQLITE_DONE)
		return db_err(s, func, rc);
	if (changes != NULL)
		*changes = sqlite3_changes(s->db);
	return 0;
}

/* Fixed SQL only: never a value from outside. */
static int
exec_fixed(struct sqlite_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("sqlite: %s", msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return INK_ERR_STORE;
	}
	return 0;
}

/* IMMEDIATE takes the write lock at once: a deferred transaction that later upgrades can fail
 * with SQLITE_BUSY without waiting in WAL mode. */
static int
tx_begin(struct sqlite_store *s)
{
	return exec_fixed(s, "BEGIN IMMEDIATE");
}

static int
tx_commit(struct sqlite_store *s)
{
	return exec_fixed(s, "COMMIT");
}

/* Rolls back if a transaction is still open (SQLite ends some on its own after an error). */
static void
tx_rollback(struct sqlite_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)exec_fixed(s, "ROLLBACK");
}

/* Copies a text column into dst[dstsz]; NULL reads as "". Longer than the field is corruption,
 * not something to truncate silently. */
static int
col_text(sqlite3_stmt *q, int i, char *dst, size_t dstsz)
{
	const unsigned char *t;
	int n;

	dst[0] = '\0';
	if (sqlite3_column_type(q, i) == SQLITE_NULL)
		return 0;
	if ((t = sqlite3_column_text(q, i)) == NULL)
		return INK_ERR_ALLOC;
	n = sqlite3_column_bytes(q, i);
	if (n < 0 || (size_t)n >= dstsz) {
		log_bug("column %d longer than its field", i);
		return INK_ERR_STORE;
	}
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
	return 0;
}

/* Inserts one user_roles row per bit; runs inside the caller's transaction. */
static int
roles_write(struct sqlite_store *s, const char *id, uint32_t roles)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	int r;

	if ((r = prep(s, "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", &q)) != 0)
		goto out;
	for (i = 0; i < store_nroles; i++) {
		if ((roles & store_role_names[i].bit) == 0)
			continue;
		sqlite3_reset(q);
		if ((r = b_text(q, 1, id)) != 0 || (r = b_text(q, 2, store_role_names[i].name)) != 0 ||
		    (r = run(s, q, __func__, NULL)) != 0)
			goto out;
	}
	r = 0;
out:
	done(s, q);
	return r;
}

/* Reads one row selected with USER_COLS. */
static int
read_user(sqlite3_stmt *q, struct store_user *u)
{
	const void *blob;
	int r, n;

	memset(u, 0, sizeof(*u));
	if ((r = col_text(q, 0, u->id, sizeof(u->id))) != 0 ||
	    (r = col_text(q, 1, u->username, sizeof(u->username))) != 0 ||
	    (r = col_text(q, 2, u->display_name, sizeof(u->display_name))) != 0 ||
	    (r = col_text(q, 8, u->created_by, sizeof(u->created_by))) != 0 ||
	    (r = col_text(q, 9, u->password_hash, sizeof(u->password_hash))) != 0 ||
	    (r = store_roles_from_names((const char *)sqlite3_column_text(q, 11), &u->roles)) != 0)
		goto out;
	u->status = sqlite3_column_int(q, 3);
	u->must_change_password = sqlite3_column_int(q, 4) != 0;
	u->failed_logins = sqlite3_column_int64(q, 5);
	u->totp_last_step = sqlite3_column_int64(q, 6);
	u->created_at = sqlite3_column_int64(q, 7);
	if (sqlite3_column_type(q, 10) != SQLITE_NULL) {
		blob = sqlite3_column_blob(q, 10);
		n = sqlite3_column_bytes(q, 10);
		if (n < 0 || (size_t)n > sizeof(u->totp_sealed)) {
			log_bug("sealed TOTP seed longer than its field");
			r = INK_ERR_STORE;
			goto out;
		}
		if (n > 0)
			memcpy(u->totp_sealed, blob, (size_t)n);
		u->totp_sealed_len = (size_t)n;
	}
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(u, sizeof(*u));
	return r;
}

/* INK_ERR_NOT_FOUND unless a user with this id exists. */
static int
user_exists(struct sqlite_store *s, const char *id)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if ((r = prep(s, "SELECT 1 FROM users WHERE id = ?", &q)) != 0 || (r = b_text(q, 1, id)) != 0)
		goto out;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		r = 0;
	else if (rc == SQLITE_DONE)
		r = INK_ERR_NOT_FOUND;
	else
		r = db_err(s, __func__, rc);
out:
	done(s, q);
	return r;
}

/* ---- open and close ---- */

static int
schema_apply(struct sqlite_store *s)
{
	sqlite3_stmt *q = NULL;
	int64_t cur = 0, latest = schemas[INK_ARRAY_LEN(schemas) - 1].version;
	bool have_table = false;
	size_t i;
	int r, rc;

	/* Read the version inside the write transaction: two processes opening a new file at
	 * once must not both apply it. */
	if ((r = tx_begin(s)) != 0)
		return r;
	if ((r = prep(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
	    "name = 'schema_version'", &q)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	have_table = sqlite3_column_int(q, 0) != 0;
	done(s, q);
	q = NULL;
	if (have_table) {
		if ((r = prep(s, "SELECT coalesce(max(version), 0) FROM schema_version", &q)) != 0)
			goto out;
		if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
			r = db_err(s, __func__, rc);
			goto out;
		}
		cur = sqlite3_column_int64(q, 0);
		done(s, q);
		q = NULL;
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
		if ((r = prep(s, "INSERT INTO schema_version (version) VALUES (?)", &q)) != 0 ||
		    (r = b_int(q, 1, schemas[i].version)) != 0 || (r = run(s, q, __func__, NULL)) != 0)
			goto out;
		done(s, q);
		q = NULL;
		log_info("database schema version %" PRId64 " applied", schemas[i].version);
	}
	r = tx_commit(s);
out:
	done(s, q);
	if (r != 0)
		tx_rollback(s);
	return r;
}

/* WAL lets readers run beside the writer; it must be confirmed, as SQLite silently keeps the
 * old mode where WAL is impossible. */
static int
set_wal(struct sqlite_store *s)
{
	sqlite3_stmt *q = NULL;
	const unsigned char *mode;
	int r;

	if ((r = prep(s, "PRAGMA journal_mode = WAL", &q)) != 0)
		return r;
	r = INK_ERR_STORE;
	if (sqlite3_step(q) == SQLITE_ROW && (mode = sqlite3_column_text(q, 0)) != NULL &&
	    strcmp((const char *)mode, "wal") == 0)
		r = 0;
	else
		log_error("cannot switch the database to WAL mode");
	done(s, q);
	return r;
}

static void
sq_free(struct sqlite_store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nstmts; i++)
		sqlite3_finalize(s->stmts[i].q);
	/* close_v2 still releases everything if a statement leaked; a leak is our bug */
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		log_bug("database busy at close: %s", sqlite3_errmsg(s->db));
		(void)sqlite3_close_v2(s->db);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int
sq_open(const char *target, struct store **out)
{
	struct sqlite_store *s = NULL;
	struct stat sb;
	int fd, rc, r = INK_ERR_STORE;

	*out = NULL;
	if (target == NULL || *target == '\0')
		return INK_ERR_INVALID;
	/* Create the file ourselves so that it never exists with a wider mode than 0600 (SQLite
	 * gives its -wal and -shm files the mode of the database). */
	if ((fd = open(target, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		log_error("cannot open the database file: %s", strerror(errno));
		return INK_ERR_IO;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0)
		log_warn("the database file is accessible to group or others");
	close(fd);

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return INK_ERR_ALLOC;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return INK_ERR_INTERNAL;
	}
	/* FULLMUTEX as well as our lock: errmsg and changes() are read under our lock anyway,
	 * but the library stays safe if a future path forgets it. */
	rc = sqlite3_open_v2(target, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		log_error("sqlite open: %s", s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS) != SQLITE_OK)
		goto out;
	/* synchronous=FULL: an audit row is on disk when audit_insert returns. secure_delete:
	 * replaced password hashes and sealed seeds do not linger in free pages. */
	if ((r = set_wal(s)) != 0 ||
	    (r = exec_fixed(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
	    "PRAGMA secure_delete = ON")) != 0 ||
	    (r = schema_apply(s)) != 0)
		goto out;
	s->base.ops = &store_sqlite_ops;
	*out = &s->base;
	s = NULL;
	r = 0;
out:
	sq_free(s);
	return r;
}

static void
sq_close(struct store *st)
{
	sq_free(to_sqlite(st));
}

/* ---- users ---- */

static int
sq_user_insert(struct store *st, const struct store_user *u)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (!store_user_ok(u))
		return INK_ERR_INVALID;

	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	/* Usernames are unique regardless of case: "Alice" would otherwise pass for "alice". */
	if ((r = prep(s, "SELECT 1 FROM users WHERE username = ? COLLATE NOCASE", &q)) != 0 ||
	    (r = b_text(q, 1, u->username)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) != SQLITE_DONE) {
		r = rc == SQLITE_ROW ? INK_ERR_EXISTS : db_err(s, __func__, rc);
		goto out;
	}
	done(s, q);
	q = NULL;
	if ((r = prep(s, "INSERT INTO users (id, username, display_name, status, "
	    "must_change_password, failed_logins, totp_last_step, created_at, created_by, "
	    "password_hash, totp_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &q)) != 0)
		goto out;
	if ((r = b_text(q, 1, u->id)) != 0 || (r = b_text(q, 2, u->username)) != 0 ||
	    (r = b_text(q, 3, u->display_name)) != 0 || (r = b_int(q, 4, u->status)) != 0 ||
	    (r = b_int(q, 5, u->must_change_password ? 1 : 0)) != 0 ||
	    (r = b_int(q, 6, u->failed_logins)) != 0 || (r = b_int(q, 7, u->totp_last_step)) != 0 ||
	    (r = b_int(q, 8, u->created_at)) != 0 || (r = b_text(q, 9, u->created_by)) != 0 ||
	    (r = b_text(q, 10, u->password_hash)) != 0 ||
	    (r = b_blob(q, 11, u->totp_sealed, u->totp_sealed_len)) != 0)
		goto out;
	if ((r = run(s, q, __func__, NULL)) != 0 || (r = roles_write(s, u->id, u->roles)) != 0)
		goto out;
	r = tx_commit(s);
out:
	done(s, q);
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

static int
user_get(struct sqlite_store *s, const char *sql, const char *key, struct store_user *out)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (key == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, sql, &q)) != 0 || (r = b_text(q, 1, key)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		r = read_user(q, out);
	else if (rc == SQLITE_DONE)
		r = INK_ERR_NOT_FOUND;
	else
		r = db_err(s, __func__, rc);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_user_get_by_name(struct store *st, const char *username, struct store_user *out)
{
	return user_get(to_sqlite(st), "SELECT " USER_COLS " FROM users WHERE username = ? "
	                "COLLATE NOCASE",
	    username, out);
}

static int
sq_user_get_by_id(struct store *st, const char *id, struct store_user *out)
{
	return user_get(to_sqlite(st), "SELECT " USER_COLS " FROM users WHERE id = ?", id, out);
}

static int
sq_user_list(struct store *st, struct store_user **out, size_t *n)
{
	struct sqlite_store *s = to_sqlite(st);
	struct store_user *v = NULL;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	lock(s);
	if ((r = prep(s, "SELECT " USER_COLS " FROM users ORDER BY username", &q)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (cnt == cap && (r = store_users_grow(&v, cnt, &cap)) != 0)
			goto out;
		if ((r = read_user(q, &v[cnt])) != 0)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	done(s, q);
	unlock(s);
	store_users_free(v, cap);
	return r;
}

/* Runs an UPDATE the caller prepared and bound; INK_ERR_NOT_FOUND when no row matched.
 * Finalizes q. */
static int
user_update(struct sqlite_store *s, sqlite3_stmt *q, const char *func)
{
	int r, changed = 0;

	r = run(s, q, func, &changed);
	done(s, q);
	if (r == 0 && changed == 0)
		r = INK_ERR_NOT_FOUND;
	return r;
}

static int
sq_user_set_password(struct store *st, const char *id, const char *hash, bool must_change)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (id == NULL || hash == NULL || strlen(hash) > STORE_HASH_MAX)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET password_hash = ?, must_change_password = ? "
	    "WHERE id = ?", &q)) != 0)
		goto out;
	if ((r = b_text(q, 1, hash)) != 0 || (r = b_int(q, 2, must_change ? 1 : 0)) != 0 ||
	    (r = b_text(q, 3, id)) != 0)
		goto out;
	r = user_update(s, q, __func__);
	q = NULL;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* A disabled (deregistered) account is never active again, so the store refuses to change it
 * back. Activating also clears the failure count, or an unlocked account would lock again at
 * its next mistake. */
static int
sq_user_set_status(struct store *st, const char *id, int status)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	if (id == NULL || status < STORE_USER_ACTIVE || status > STORE_USER_DISABLED)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET status = ?1, failed_logins = "
	    "CASE WHEN ?1 = 0 THEN 0 ELSE failed_logins END "
	    "WHERE id = ?2 AND (status <> 2 OR ?1 = 2)", &q)) != 0)
		goto out;
	if ((r = b_int(q, 1, status)) != 0 || (r = b_text(q, 2, id)) != 0 ||
	    (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	/* users are never deleted: no change means missing or disabled */
	if (changed == 0 && (r = user_exists(s, id)) == 0)
		r = INK_ERR_DISABLED;
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_user_set_roles(struct store *st, const char *id, uint32_t roles)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (id == NULL || (roles & ~STORE_ROLES_KNOWN) != 0)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	if ((r = user_exists(s, id)) != 0)
		goto out;
	if ((r = prep(s, "DELETE FROM user_roles WHERE user_id = ?", &q)) != 0 ||
	    (r = b_text(q, 1, id)) != 0 || (r = run(s, q, __func__, NULL)) != 0)
		goto out;
	if ((r = roles_write(s, id, roles)) != 0)
		goto out;
	r = tx_commit(s);
out:
	done(s, q);
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

/* An empty seed (len 0) clears it. */
static int
sq_user_set_totp(struct store *st, const char *id, const uint8_t *sealed, size_t len)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (id == NULL || len > STORE_SEALED_MAX || (sealed == NULL && len != 0))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET totp_sealed = ? WHERE id = ?", &q)) != 0)
		goto out;
	if ((r = b_blob(q, 1, sealed, len)) != 0 || (r = b_text(q, 2, id)) != 0)
		goto out;
	r = user_update(s, q, __func__);
	q = NULL;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* Two statements in one write transaction: concurrent failures from several nodes each count,
 * and exactly one of them sees the account go from active to locked. */
static int
sq_user_login_failed(struct store *st, const char *id, int64_t max, bool *locked_now)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	*locked_now = false;
	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	if ((r = prep(s, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?",
	    &q)) != 0 || (r = b_text(q, 1, id)) != 0 || (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if (changed == 0) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	done(s, q);
	q = NULL;
	if ((r = prep(s, "UPDATE users SET status = 1 WHERE id = ? AND status = 0 AND "
	    "failed_logins >= ?", &q)) != 0 || (r = b_text(q, 1, id)) != 0 ||
	    (r = b_int(q, 2, max)) != 0 || (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if ((r = tx_commit(s)) != 0)
		goto out;
	*locked_now = changed != 0;
out:
	done(s, q);
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

static int
sq_user_login_reserve(struct store *st, const char *id, int64_t max)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? AND "
	    "status = 0 AND failed_logins < ?", &q)) != 0 || (r = b_text(q, 1, id)) != 0 ||
	    (r = b_int(q, 2, max)) != 0 || (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if (changed == 0 && (r = user_exists(s, id)) == 0)
		r = INK_ERR_LOCKED;
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_user_login_settle(struct store *st, const char *id, int64_t max, bool failed, bool *locked_now)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	*locked_now = false;
	if (id == NULL || max < 1)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, failed ? "UPDATE users SET status = 1 WHERE id = ? AND status = 0 AND "
	                          "failed_logins >= ?" :
	                          "UPDATE users SET failed_logins = failed_logins - 1 WHERE id = ? "
	                          "AND failed_logins > 0 AND ? > 0", &q)) != 0 ||
	    (r = b_text(q, 1, id)) != 0 || (r = b_int(q, 2, max)) != 0 ||
	    (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if (!failed)
		changed = 0;
	if (changed == 0 && (r = user_exists(s, id)) != 0)
		goto out;
	*locked_now = changed != 0;
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_user_login_ok(struct store *st, const char *id)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (id == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET failed_logins = 0 WHERE id = ?", &q)) != 0 ||
	    (r = b_text(q, 1, id)) != 0)
		goto out;
	r = user_update(s, q, __func__);
	q = NULL;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* One conditional UPDATE is the whole replay guard: of two requests with the same step, on
 * any number of nodes, only one changes the row. */
static int
sq_user_use_totp_step(struct store *st, const char *id, int64_t step)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	if (id == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE users SET totp_last_step = ?1 WHERE id = ?2 AND "
	    "totp_last_step < ?1", &q)) != 0 || (r = b_int(q, 1, step)) != 0 ||
	    (r = b_text(q, 2, id)) != 0 || (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if (changed == 0 && (r = user_exists(s, id)) == 0)
		r = INK_ERR_REPLAY;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* ---- identity verification ---- */

static int
sq_idv_insert(struct store *st, const struct store_idv *v)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_idv_ok(v))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO identity_verifications (user_id, method, evidence_ref, "
	    "officer, verified_at) VALUES (?, ?, ?, ?, ?)", &q)) != 0)
		goto out;
	if ((r = b_text(q, 1, v->user_id)) != 0 || (r = b_text(q, 2, v->method)) != 0 ||
	    (r = b_text(q, 3, v->evidence_ref)) != 0 || (r = b_text(q, 4, v->officer)) != 0 ||
	    (r = b_int(q, 5, v->verified_at)) != 0 || (r = run(s, q, __func__, NULL)) != 0)
		goto out;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* A user may be verified again; the latest record is the one that counts. */
static int
sq_idv_get(struct store *st, const char *user_id, struct store_idv *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (user_id == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "SELECT user_id, method, evidence_ref, officer, verified_at FROM "
	    "identity_verifications WHERE user_id = ? ORDER BY verified_at DESC, rowid DESC "
	    "LIMIT 1", &q)) != 0 || (r = b_text(q, 1, user_id)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_DONE) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	} else if (rc != SQLITE_ROW) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	if ((r = col_text(q, 0, out->user_id, sizeof(out->user_id))) != 0 ||
	    (r = col_text(q, 1, out->method, sizeof(out->method))) != 0 ||
	    (r = col_text(q, 2, out->evidence_ref, sizeof(out->evidence_ref))) != 0 ||
	    (r = col_text(q, 3, out->officer, sizeof(out->officer))) != 0)
		goto out;
	out->verified_at = sqlite3_column_int64(q, 4);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	done(s, q);
	unlock(s);
	return r;
}

/* ---- sessions ---- */

static int
sq_session_insert(struct store *st, const struct store_session *ss)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_terminated(ss->user_id, sizeof(ss->user_id)) || ss->user_id[0] == '\0')
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, "
	    "revoked, password_change_only) VALUES (?, ?, ?, ?, ?, ?)", &q)) != 0)
		goto out;
	if ((r = b_blob(q, 1, ss->token_hash, sizeof(ss->token_hash))) != 0 ||
	    (r = b_text(q, 2, ss->user_id)) != 0 || (r = b_int(q, 3, ss->created_at)) != 0 ||
	    (r = b_int(q, 4, ss->expires_at)) != 0 || (r = b_int(q, 5, ss->revoked ? 1 : 0)) != 0 ||
	    (r = b_int(q, 6, ss->password_change_only ? 1 : 0)) != 0 ||
	    (r = run(s, q, __func__, NULL)) != 0)
		goto out;
out:
	done(s, q);
	unlock(s);
	return r;
}

#define SESSION_COLS "token_hash, user_id, created_at, expires_at, revoked, password_change_only"

/* Reads the session of a row whose first six columns are SESSION_COLS (qualified or not). */
static int
read_session(sqlite3_stmt *q, struct store_session *out)
{
	if (sqlite3_column_bytes(q, 0) != (int)sizeof(out->token_hash) ||
	    sqlite3_column_blob(q, 0) == NULL) {
		log_bug("session hash of the wrong length");
		return INK_ERR_STORE;
	}
	memcpy(out->token_hash, sqlite3_column_blob(q, 0), sizeof(out->token_hash));
	out->created_at = sqlite3_column_int64(q, 2);
	out->expires_at = sqlite3_column_int64(q, 3);
	out->revoked = sqlite3_column_int(q, 4) != 0;
	out->password_change_only = sqlite3_column_int(q, 5) != 0;
	return col_text(q, 1, out->user_id, sizeof(out->user_id));
}

/* One session row by its hash, read by read_session and then by more (the columns after
 * SESSION_COLS), under the lock. */
static int
session_row(struct store *st, const char *sql, const uint8_t hash[static 32],
            struct store_session *out, int (*more)(sqlite3_stmt *q, void *arg), void *arg)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	lock(s);
	if ((r = prep(s, sql, &q)) != 0 || (r = b_blob(q, 1, hash, 32)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_DONE)
		r = INK_ERR_NOT_FOUND;
	else if (rc != SQLITE_ROW)
		r = db_err(s, __func__, rc);
	else if ((r = read_session(q, out)) == 0 && more != NULL)
		r = more(q, arg);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	done(s, q);
	unlock(s);
	return r;
}

/* Returns the row whether or not it has expired or been revoked: the caller decides. */
static int
sq_session_get(struct store *st, const uint8_t hash[static 32], struct store_session *out)
{
	return session_row(st, "SELECT " SESSION_COLS " FROM sessions WHERE token_hash = ?", hash,
	                   out, NULL, NULL);
}

static int
read_session_user(sqlite3_stmt *q, void *arg)
{
	struct store_user *u = arg;
	int r;

	if ((r = col_text(q, 1, u->id, sizeof(u->id))) != 0 ||
	    (r = col_text(q, 6, u->username, sizeof(u->username))) != 0 ||
	    (r = store_roles_from_names((const char *)sqlite3_column_text(q, 9), &u->roles)) != 0)
		return r;
	u->status = sqlite3_column_int(q, 7);
	u->must_change_password = sqlite3_column_int(q, 8) != 0;
	return 0;
}

/* The session and, in the same statement, its account as far as a request's authentication
 * needs it. */
static int
sq_session_get_user(struct store *st, const uint8_t hash[static 32], struct store_session *out,
                    struct store_user *u)
{
	int r;

	memset(u, 0, sizeof(*u));
	r = session_row(st, "SELECT sessions.token_hash, sessions.user_id, sessions.created_at, "
	                "sessions.expires_at, sessions.revoked, sessions.password_change_only, "
	                "users.username, users.status, users.must_change_password, "
	                "(SELECT group_concat(role, ',') FROM user_roles WHERE user_roles.user_id = users.id) "
	                "FROM sessions JOIN users ON users.id = sessions.user_id "
	                "WHERE sessions.token_hash = ?", hash, out, read_session_user, u);
	if (r != 0)
		memset(u, 0, sizeof(*u));
	return r;
}

/* One statement on one session row. */
static int
session_update(struct store *st, const char *sql, const uint8_t hash[static 32])
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	lock(s);
	if ((r = prep(s, sql, &q)) != 0 || (r = b_blob(q, 1, hash, 32)) != 0)
		goto out;
	r = user_update(s, q, __func__);
	q = NULL;
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_session_revoke(struct store *st, const uint8_t hash[static 32])
{
	return session_update(st, "UPDATE sessions SET revoked = 1 WHERE token_hash = ?", hash);
}

static int
sq_session_upgrade(struct store *st, const uint8_t hash[static 32])
{
	return session_update(st, "UPDATE sessions SET password_change_only = 0 "
	                          "WHERE token_hash = ? AND revoked = 0", hash);
}

/* A user without sessions is not an error; an unknown user is. keep: a session that stays. */
static int
revoke_user(struct store *st, const char *user_id, const uint8_t *keep)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	if (user_id == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE sessions SET revoked = 1 WHERE user_id = ? AND token_hash IS NOT ?",
	              &q)) != 0 || (r = b_text(q, 1, user_id)) != 0)
		goto out;
	if ((r = keep != NULL ? b_blob(q, 2, keep, 32) :
	         (sqlite3_bind_null(q, 2) == SQLITE_OK ? 0 : INK_ERR_STORE)) != 0 ||
	    (r = run(s, q, __func__, &changed)) != 0)
		goto out;
	if (changed == 0)
		r = user_exists(s, user_id);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_session_revoke_user(struct store *st, const char *user_id)
{
	return revoke_user(st, user_id, NULL);
}

static int
sq_session_revoke_others(struct store *st, const char *user_id, const uint8_t keep[static 32])
{
	return revoke_user(st, user_id, keep);
}

/* ---- audit rows ---- */

/* Inserts n rows in one transaction: with synchronous=FULL the WAL is synced once, at COMMIT,
 * before this returns (group commit). Called with the lock held. */
static int
audit_insert_locked(struct sqlite_store *s, const struct store_audit_rec *const *recs, size_t n,
                    int64_t *seqs)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	int r;

	if ((r = prep(s, "INSERT INTO audit_log (time, actor, role, action, subject, result, "
	    "request_id, source, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &q)) != 0)
		return r;
	if (n > 1 && (r = tx_begin(s)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct store_audit_rec *rec = recs[i];

		sqlite3_reset(q);
		if ((r = b_int(q, 1, rec->time)) != 0 || (r = b_text(q, 2, rec->actor)) != 0 ||
		    (r = b_text(q, 3, rec->role)) != 0 || (r = b_text(q, 4, rec->action)) != 0 ||
		    (r = b_text(q, 5, rec->subject)) != 0 || (r = b_text(q, 6, rec->result)) != 0 ||
		    (r = b_text(q, 7, rec->request_id)) != 0 || (r = b_text(q, 8, rec->source)) != 0 ||
		    (r = b_text(q, 9, rec->detail)) != 0)
			goto out;
		if ((r = run(s, q, __func__, NULL)) != 0)
			goto out;
		seqs[i] = sqlite3_last_insert_rowid(s->db);
	}
	if (n > 1)
		r = tx_commit(s);
out:
	if (r != 0) {
		tx_rollback(s);
		for (i = 0; i < n; i++)
			seqs[i] = 0;
	}
	done(s, q);
	return r;
}

static int
sq_audit_insert(struct store *st, const struct store_audit_rec *rec, int64_t *seq)
{
	struct sqlite_store *s = to_sqlite(st);
	int r;

	*seq = 0;
	if (!store_audit_rec_ok(rec))
		return INK_ERR_INVALID;
	lock(s);
	r = audit_insert_locked(s, &rec, 1, seq);
	unlock(s);
	return r;
}

static int
sq_audit_insert_batch(struct store *st, const struct store_audit_rec *const *recs, size_t n,
                      int64_t *seqs)
{
	struct sqlite_store *s = to_sqlite(st);
	int r;

	if (!store_audit_batch_ok(recs, n, seqs))
		return INK_ERR_INVALID;
	if (n == 0)
		return 0;
	lock(s);
	r = audit_insert_locked(s, recs, n, seqs);
	unlock(s);
	return r;
}

static int
read_audit(sqlite3_stmt *q, struct store_audit_rec *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->seq = sqlite3_column_int64(q, 0);
	a->time = sqlite3_column_int64(q, 1);
	if ((r = col_text(q, 2, a->actor, sizeof(a->actor))) != 0 ||
	    (r = col_text(q, 3, a->role, sizeof(a->role))) != 0 ||
	    (r = col_text(q, 4, a->action, sizeof(a->action))) != 0 ||
	    (r = col_text(q, 5, a->subject, sizeof(a->subject))) != 0 ||
	    (r = col_text(q, 6, a->result, sizeof(a->result))) != 0 ||
	    (r = col_text(q, 7, a->request_id, sizeof(a->request_id))) != 0 ||
	    (r = col_text(q, 8, a->source, sizeof(a->source))) != 0 ||
	    (r = col_text(q, 9, a->detail, sizeof(a->detail))) != 0)
		return r;
	return 0;
}

static int
sq_audit_list(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
    size_t *n)
{
	struct sqlite_store *s = to_sqlite(st);
	struct store_audit_rec *v = NULL, *nv;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int r, rc;

	*out = NULL;
	*n = 0;
	if (limit == 0)
		return 0;
	if (limit > (uint64_t)INT64_MAX)
		limit = (size_t)INT64_MAX;
	lock(s);
	if ((r = prep(s, "SELECT " AUDIT_COLS " FROM audit_log WHERE seq > ? ORDER BY seq "
	    "LIMIT ?", &q)) != 0 || (r = b_int(q, 1, after)) != 0 ||
	    (r = b_int(q, 2, (int64_t)limit)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? (limit < 64 ? limit : 64) : cap * 2;
			if (cap > SIZE_MAX / sizeof(*v) || (nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			v = nv;
		}
		if ((r = read_audit(q, &v[cnt])) != 0)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	done(s, q);
	unlock(s);
	free(v);
	return r;
}

static int
sq_audit_last_seq(struct store *st, int64_t *seq)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, rc;

	*seq = 0;
	lock(s);
	/* archived rows are gone from the table but keep their numbers */
	if ((r = prep(s, "SELECT max(coalesce((SELECT max(seq) FROM audit_log), 0), "
	    "coalesce((SELECT max(last_seq) FROM audit_archives), 0))", &q)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	*seq = sqlite3_column_int64(q, 0);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_checkpoint_insert(struct store *st, const struct store_checkpoint *c)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_checkpoint_ok(c))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO audit_checkpoints (size, root, time, sig) VALUES (?, ?, ?, ?)",
	    &q)) != 0 || (r = b_int(q, 1, c->size)) != 0 || (r = b_blob(q, 2, c->root, 32)) != 0 ||
	    (r = b_int(q, 3, c->time)) != 0 || (r = b_blob(q, 4, c->sig, c->sig_len)) != 0)
		goto out;
	r = run(s, q, __func__, NULL);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_checkpoint_list(struct store *st, int64_t min_size, int64_t max_size,
                   struct store_checkpoint **out, size_t *n)
{
	struct sqlite_store *s = to_sqlite(st);
	struct store_checkpoint *v = NULL, *nv;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0, len;
	const void *p;
	int r, rc;

	*out = NULL;
	*n = 0;
	lock(s);
	if ((r = prep(s, "SELECT id, size, root, time, sig FROM audit_checkpoints WHERE size >= ? "
	    "AND size <= ? ORDER BY id", &q)) != 0 || (r = b_int(q, 1, min_size)) != 0 ||
	    (r = b_int(q, 2, max_size)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if (cap > SIZE_MAX / sizeof(*v) || (nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			v = nv;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		v[cnt].id = sqlite3_column_int64(q, 0);
		v[cnt].size = sqlite3_column_int64(q, 1);
		v[cnt].time = sqlite3_column_int64(q, 3);
		/* a root or signature of the wrong length is kept as it is (cut to the field):
		 * the verifier reports it, the store does not judge */
		p = sqlite3_column_blob(q, 2);
		len = (size_t)sqlite3_column_bytes(q, 2);
		if (p != NULL)
			memcpy(v[cnt].root, p, len < 32 ? len : 32);
		p = sqlite3_column_blob(q, 4);
		len = (size_t)sqlite3_column_bytes(q, 4);
		if (p != NULL) {
			v[cnt].sig_len = len < STORE_SIG_MAX ? len : STORE_SIG_MAX;
			memcpy(v[cnt].sig, p, v[cnt].sig_len);
		}
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	done(s, q);
	unlock(s);
	free(v);
	return r;
}

static int
sq_archive_insert(struct store *st, const struct store_archive *a)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_archive_ok(a))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO audit_archives (first_seq, last_seq, frontier, file, sha256, "
	    "made_at) VALUES (?, ?, ?, ?, ?, ?)", &q)) != 0 || (r = b_int(q, 1, a->first_seq)) != 0 ||
	    (r = b_int(q, 2, a->last_seq)) != 0 ||
	    (r = b_blob(q, 3, a->frontier, a->frontier_len)) != 0 || (r = b_text(q, 4, a->file)) != 0 ||
	    (r = b_text(q, 5, a->sha256)) != 0 || (r = b_int(q, 6, a->made_at)) != 0)
		goto out;
	r = run(s, q, __func__, NULL);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_archive_last(struct store *st, struct store_archive *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	const void *p;
	size_t len;
	int r, rc;

	memset(out, 0, sizeof(*out));
	lock(s);
	if ((r = prep(s, "SELECT id, first_seq, last_seq, frontier, file, sha256, made_at FROM "
	    "audit_archives ORDER BY id DESC LIMIT 1", &q)) != 0)
		goto out;
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	out->id = sqlite3_column_int64(q, 0);
	out->first_seq = sqlite3_column_int64(q, 1);
	out->last_seq = sqlite3_column_int64(q, 2);
	p = sqlite3_column_blob(q, 3);
	len = (size_t)sqlite3_column_bytes(q, 3);
	if (len > sizeof(out->frontier)) {
		r = INK_ERR_STORE;
		goto out;
	}
	if (p != NULL)
		memcpy(out->frontier, p, len);
	out->frontier_len = len;
	out->made_at = sqlite3_column_int64(q, 6);
	if ((r = col_text(q, 4, out->file, sizeof(out->file))) != 0 ||
	    (r = col_text(q, 5, out->sha256, sizeof(out->sha256))) != 0)
		goto out;
out:
	done(s, q);
	unlock(s);
	return r;
}

static void
sq_engine(struct store *st, char *out, size_t outsz)
{
	(void)st;
	snprintf(out, outsz, "SQLite %s", sqlite3_libversion());
}

/* ---- OAuth clients ---- */

#define CLIENT_COLS "id, name, redirect_uris, public, secret_hash, created_at, created_by, " \
	"removed_at, public_key"

static int
sq_oauth_client_insert(struct store *st, const struct store_oauth_client *c)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	bool keyed;
	int r;

	if (!store_oauth_client_ok(c))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO oauth_clients (" CLIENT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, 0, "
	    "?)", &q)) != 0)
		goto out;
	keyed = c->public_key[0] != '\0';
	if ((r = b_text(q, 1, c->id)) != 0 || (r = b_text(q, 2, c->name)) != 0 ||
	    (r = b_text(q, 3, c->redirect_uris)) != 0 ||
	    (r = b_int(q, 4, c->public_client ? 1 : 0)) != 0 ||
	    (r = c->public_client || keyed ?
	         (sqlite3_bind_null(q, 5) == SQLITE_OK ? 0 : INK_ERR_STORE) :
	         b_blob(q, 5, c->secret_hash, sizeof(c->secret_hash))) != 0 ||
	    (r = b_int(q, 6, c->created_at)) != 0 || (r = b_text(q, 7, c->created_by)) != 0 ||
	    (r = keyed ? b_text(q, 8, c->public_key) :
	         (sqlite3_bind_null(q, 8) == SQLITE_OK ? 0 : INK_ERR_STORE)) != 0)
		goto out;
	r = run(s, q, __func__, NULL);
out:
	done(s, q);
	unlock(s);
	return r;
}

static int
read_client(sqlite3_stmt *q, struct store_oauth_client *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = col_text(q, 0, c->id, sizeof(c->id))) != 0 ||
	    (r = col_text(q, 1, c->name, sizeof(c->name))) != 0 ||
	    (r = col_text(q, 2, c->redirect_uris, sizeof(c->redirect_uris))) != 0 ||
	    (r = col_text(q, 6, c->created_by, sizeof(c->created_by))) != 0 ||
	    (sqlite3_column_type(q, 8) != SQLITE_NULL &&
	     (r = col_text(q, 8, c->public_key, sizeof(c->public_key))) != 0))
		return r;
	c->public_client = sqlite3_column_int(q, 3) != 0;
	if (!c->public_client && c->public_key[0] == '\0') {
		if (sqlite3_column_bytes(q, 4) != (int)sizeof(c->secret_hash) ||
		    sqlite3_column_blob(q, 4) == NULL) {
			log_bug("client secret hash of the wrong length");
			return INK_ERR_STORE;
		}
		memcpy(c->secret_hash, sqlite3_column_blob(q, 4), sizeof(c->secret_hash));
	}
	c->created_at = sqlite3_column_int64(q, 5);
	c->removed_at = sqlite3_column_int64(q, 7);
	return 0;
}

static int
sq_oauth_client_get(struct store *st, const char *id, struct store_oauth_client *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	lock(s);
	if ((r = prep(s, "SELECT " CLIENT_COLS " FROM oauth_clients WHERE id = ?", &q)) != 0 ||
	    (r = b_text(q, 1, id)) != 0)
		goto out;
	if ((rc = sqlite3_step(q)) == SQLITE_DONE)
		r = INK_ERR_NOT_FOUND;
	else if (rc != SQLITE_ROW)
		r = db_err(s, __func__, rc);
	else
		r = read_client(q, out);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_oauth_client_list(struct store *st, struct store_oauth_client **out, size_t *n)
{
	struct sqlite_store *s = to_sqlite(st);
	struct store_oauth_client *v = NULL, *nv;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int r = 0, rc;

	*out = NULL;
	*n = 0;
	lock(s);
	if ((r = prep(s, "SELECT " CLIENT_COLS " FROM oauth_clients WHERE removed_at = 0 "
	    "ORDER BY name, id", &q)) != 0)
		goto out;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			v = nv;
		}
		if ((r = read_client(q, &v[cnt])) != 0)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = db_err(s, __func__, rc);
		goto out;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	done(s, q);
	unlock(s);
	free(v);
	return r;
}

static int
sq_oauth_client_remove(struct store *st, const char *id, int64_t when)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	lock(s);
	if ((r = prep(s, "UPDATE oauth_clients SET removed_at = ? WHERE id = ? AND removed_at = 0",
	    &q)) == 0 && (r = b_int(q, 1, when)) == 0 && (r = b_text(q, 2, id)) == 0 &&
	    (r = run(s, q, __func__, &changed)) == 0 && changed == 0)
		r = INK_ERR_NOT_FOUND;
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_oauth_jti_use(struct store *st, const char *client_id, const char *jti, int64_t expires_at,
                 int64_t now)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (client_id == NULL || jti == NULL)
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "DELETE FROM oauth_jti WHERE expires_at < ?", &q)) != 0 ||
	    (r = b_int(q, 1, now)) != 0 || (r = run(s, q, __func__, NULL)) != 0)
		goto out;
	done(s, q);
	q = NULL;
	if ((r = prep(s, "INSERT INTO oauth_jti (client_id, jti, expires_at) VALUES (?, ?, ?)",
	    &q)) != 0 || (r = b_text(q, 1, client_id)) != 0 || (r = b_text(q, 2, jti)) != 0 ||
	    (r = b_int(q, 3, expires_at)) != 0)
		goto out;
	if ((r = run(s, q, __func__, NULL)) == INK_ERR_EXISTS)
		r = INK_ERR_REPLAY;
out:
	done(s, q);
	unlock(s);
	return r;
}

/* ---- OAuth service-scope tokens ---- */

#define TOKEN_COLS "hash, kind, family, client_id, user_id, created_at, expires_at, used_at, " \
	"revoked_at"

static int
sq_oauth_token_insert(struct store *st, const struct store_oauth_token *t)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_oauth_token_ok(t))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "INSERT INTO oauth_tokens (" TOKEN_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
	    &q)) != 0)
		goto out;
	if ((r = b_blob(q, 1, t->hash, sizeof(t->hash))) != 0 || (r = b_int(q, 2, t->kind)) != 0 ||
	    (r = b_text(q, 3, t->family)) != 0 || (r = b_text(q, 4, t->client_id)) != 0 ||
	    (r = b_text(q, 5, t->user_id)) != 0 || (r = b_int(q, 6, t->created_at)) != 0 ||
	    (r = b_int(q, 7, t->expires_at)) != 0)
		goto out;
	r = run(s, q, __func__, NULL);
out:
	done(s, q);
	unlock(s);
	return r;
}

/* Steps q to its one row: 0 there, INK_ERR_NOT_FOUND when it has none. */
static int
row_one(struct sqlite_store *s, sqlite3_stmt *q, const char *func)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? INK_ERR_NOT_FOUND : db_err(s, func, rc);
}

static int
sq_oauth_token_get(struct store *st, const uint8_t hash[static 32], struct store_oauth_token *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	lock(s);
	if ((r = prep(s, "SELECT " TOKEN_COLS " FROM oauth_tokens WHERE hash = ?", &q)) != 0 ||
	    (r = b_blob(q, 1, hash, 32)) != 0 || (r = row_one(s, q, __func__)) != 0)
		goto out;
	memcpy(out->hash, hash, 32);
	out->kind = sqlite3_column_int(q, 1);
	if ((r = col_text(q, 2, out->family, sizeof(out->family))) != 0 ||
	    (r = col_text(q, 3, out->client_id, sizeof(out->client_id))) != 0 ||
	    (r = col_text(q, 4, out->user_id, sizeof(out->user_id))) != 0)
		goto out;
	out->created_at = sqlite3_column_int64(q, 5);
	out->expires_at = sqlite3_column_int64(q, 6);
	out->used_at = sqlite3_column_int64(q, 7);
	out->revoked_at = sqlite3_column_int64(q, 8);
out:
	if (r != 0)
		memset(out, 0, sizeof(*out));
	done(s, q);
	unlock(s);
	return r;
}

/* One UPDATE of a token by hash (when, hash); err when it changed no row. */
static int
token_mark(struct store *st, const char *sql, const uint8_t hash[static 32], int64_t when,
           int err, const char *func)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	lock(s);
	if ((r = prep(s, sql, &q)) == 0 && (r = b_int(q, 1, when)) == 0 &&
	    (r = b_blob(q, 2, hash, 32)) == 0 && (r = run(s, q, func, &changed)) == 0 && changed == 0)
		r = err;
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_oauth_token_use(struct store *st, const uint8_t hash[static 32], int64_t when)
{
	return token_mark(st, "UPDATE oauth_tokens SET used_at = ? WHERE hash = ? AND used_at = 0 "
	                  "AND revoked_at = 0", hash, when, INK_ERR_REPLAY, __func__);
}

static int
sq_oauth_token_revoke(struct store *st, const uint8_t hash[static 32], int64_t when)
{
	return token_mark(st, "UPDATE oauth_tokens SET revoked_at = ? WHERE hash = ? AND "
	                  "revoked_at = 0", hash, when, INK_ERR_NOT_FOUND, __func__);
}

static int
sq_oauth_token_revoke_family(struct store *st, const char *family, int64_t when, size_t *n)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	*n = 0;
	lock(s);
	if ((r = prep(s, "UPDATE oauth_tokens SET revoked_at = ? WHERE family = ? AND revoked_at = 0",
	    &q)) == 0 && (r = b_int(q, 1, when)) == 0 && (r = b_text(q, 2, family)) == 0 &&
	    (r = run(s, q, __func__, &changed)) == 0)
		*n = (size_t)changed;
	done(s, q);
	unlock(s);
	return r;
}

/* ---- OAuth flows (pages, pushed requests, codes, credential-scope tokens) ---- */

#define FLOW_COLS "kind, hash, client_id, source, expires_at, keep_until, state, aux, body"

/* Reads a row selected with FLOW_COLS into *out (body malloc'd). */
static int
read_flow(sqlite3_stmt *q, struct store_oauth_flow *out)
{
	const void *b;
	int n, r;

	out->kind = sqlite3_column_int(q, 0);
	if (sqlite3_column_bytes(q, 1) != 32 || (b = sqlite3_column_blob(q, 1)) == NULL) {
		log_bug("oauth_flows: a hash of another length");
		return INK_ERR_STORE;
	}
	memcpy(out->hash, b, 32);
	if ((r = col_text(q, 2, out->client_id, sizeof(out->client_id))) != 0 ||
	    (r = col_text(q, 3, out->source, sizeof(out->source))) != 0)
		return r;
	out->expires_at = sqlite3_column_int64(q, 4);
	out->keep_until = sqlite3_column_int64(q, 5);
	out->state = sqlite3_column_int(q, 6);
	if (sqlite3_column_type(q, 7) != SQLITE_NULL) {
		if (sqlite3_column_bytes(q, 7) != 32 || (b = sqlite3_column_blob(q, 7)) == NULL)
			return INK_ERR_STORE;
		memcpy(out->aux, b, 32);
		out->has_aux = true;
	}
	if (sqlite3_column_type(q, 8) != SQLITE_NULL) {
		n = sqlite3_column_bytes(q, 8);
		if (n <= 0 || n > STORE_FLOW_BODY_MAX || (b = sqlite3_column_blob(q, 8)) == NULL)
			return INK_ERR_STORE;
		if ((out->body = malloc((size_t)n)) == NULL)
			return INK_ERR_ALLOC;
		memcpy(out->body, b, (size_t)n);
		out->body_len = (size_t)n;
	}
	return 0;
}

/* One number from a query with up to three bound values (kind, then text or int64 ones). */
static int
flow_count(struct sqlite_store *s, const char *sql, int kind, const char *source, int64_t now,
           int64_t *out)
{
	sqlite3_stmt *q = NULL;
	int r, i = 2;

	*out = 0;
	if ((r = prep(s, sql, &q)) != 0 || (r = b_int(q, 1, kind)) != 0 ||
	    (source != NULL && (r = b_text(q, i++, source)) != 0) || (r = b_int(q, i, now)) != 0 ||
	    (r = row_one(s, q, __func__)) != 0)
		goto out;
	*out = sqlite3_column_int64(q, 0);
out:
	done(s, q);
	return r;
}

/* Deletes the oldest live row of kind (of source when not NULL). Holding the transaction. */
static int
flow_evict(struct sqlite_store *s, int kind, const char *source, int64_t now)
{
	sqlite3_stmt *q = NULL;
	int r, i = 2;

	if ((r = prep(s, source != NULL ?
	    "DELETE FROM oauth_flows WHERE kind = ?1 AND hash = (SELECT hash FROM oauth_flows "
	    "WHERE kind = ?1 AND source = ?2 AND keep_until > ?3 ORDER BY keep_until LIMIT 1)" :
	    "DELETE FROM oauth_flows WHERE kind = ?1 AND hash = (SELECT hash FROM oauth_flows "
	    "WHERE kind = ?1 AND keep_until > ?2 ORDER BY keep_until LIMIT 1)", &q)) == 0 &&
	    (r = b_int(q, 1, kind)) == 0 && (source == NULL || (r = b_text(q, i++, source)) == 0) &&
	    (r = b_int(q, i, now)) == 0)
		r = run(s, q, __func__, NULL);
	done(s, q);
	return r;
}

/* Makes room for one more row of kind from source under the caps (see store.h). */
static int
flow_room(struct sqlite_store *s, int kind, const char *source, int64_t now, size_t source_max,
          size_t kind_max, bool evict)
{
	int64_t n;
	int r;

	if (source_max > 0) {
		if ((r = flow_count(s, "SELECT count(*) FROM oauth_flows WHERE kind = ? AND source = ? "
		    "AND keep_until > ?", kind, source, now, &n)) != 0)
			return r;
		if ((size_t)n >= source_max && (!evict || (r = flow_evict(s, kind, source, now)) != 0))
			return evict ? r : INK_ERR_BUSY;
	}
	if (kind_max > 0) {
		if ((r = flow_count(s, "SELECT count(*) FROM oauth_flows WHERE kind = ? AND "
		    "keep_until > ?", kind, NULL, now, &n)) != 0)
			return r;
		if ((size_t)n >= kind_max && (!evict || (r = flow_evict(s, kind, NULL, now)) != 0))
			return evict ? r : INK_ERR_BUSY;
	}
	return 0;
}

static int
sq_oauth_flow_insert(struct store *st, const struct store_oauth_flow *f, int64_t now,
                     size_t source_max, size_t kind_max, bool evict)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	if (!store_oauth_flow_ok(f))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = tx_begin(s)) != 0)
		goto out;
	if ((r = flow_room(s, f->kind, f->source, now, source_max, kind_max, evict)) != 0)
		goto out;
	if ((r = prep(s, "INSERT INTO oauth_flows (" FLOW_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    &q)) != 0 || (r = b_int(q, 1, f->kind)) != 0 || (r = b_blob(q, 2, f->hash, 32)) != 0 ||
	    (r = b_text(q, 3, f->client_id)) != 0 || (r = b_text(q, 4, f->source)) != 0 ||
	    (r = b_int(q, 5, f->expires_at)) != 0 || (r = b_int(q, 6, f->keep_until)) != 0 ||
	    (r = b_int(q, 7, f->state)) != 0 ||
	    (r = b_blob(q, 8, f->aux, f->has_aux ? 32 : 0)) != 0 ||
	    (r = b_blob(q, 9, f->body, f->body != NULL ? f->body_len : 0)) != 0 ||
	    (r = run(s, q, __func__, NULL)) != 0)
		goto out;
	r = tx_commit(s);
out:
	done(s, q);
	if (r != 0)
		tx_rollback(s);
	unlock(s);
	return r;
}

/* Runs q (bound by the caller) for its one row into *out. */
static int
flow_read_one(struct sqlite_store *s, sqlite3_stmt *q, const char *func,
              struct store_oauth_flow *out)
{
	int r;

	if ((r = row_one(s, q, func)) == 0 && (r = read_flow(q, out)) != 0)
		store_oauth_flow_clear(out);
	return r;
}

static int
sq_oauth_flow_get(struct store *st, int kind, const uint8_t hash[static 32],
                  struct store_oauth_flow *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	lock(s);
	if ((r = prep(s, "SELECT " FLOW_COLS " FROM oauth_flows WHERE kind = ? AND hash = ?",
	    &q)) == 0 && (r = b_int(q, 1, kind)) == 0 && (r = b_blob(q, 2, hash, 32)) == 0)
		r = flow_read_one(s, q, __func__, out);
	done(s, q);
	unlock(s);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int
sq_oauth_flow_take(struct store *st, int kind, const uint8_t hash[static 32], int64_t now,
                   struct store_oauth_flow *out)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	lock(s);
	/* one statement: whichever connection's UPDATE runs first moves the row out of LIVE, the
	 * other's WHERE then matches nothing */
	if ((r = prep(s, "UPDATE oauth_flows SET state = 1 WHERE kind = ? AND hash = ? AND "
	    "state = 0 AND expires_at > ? RETURNING " FLOW_COLS, &q)) == 0 &&
	    (r = b_int(q, 1, kind)) == 0 && (r = b_blob(q, 2, hash, 32)) == 0 &&
	    (r = b_int(q, 3, now)) == 0)
		r = flow_read_one(s, q, __func__, out);
	done(s, q);
	unlock(s);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

static int
sq_oauth_flow_update(struct store *st, const struct store_oauth_flow *f, int from)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int r, changed = 0;

	if (!store_oauth_flow_ok(f))
		return INK_ERR_INVALID;
	lock(s);
	if ((r = prep(s, "UPDATE oauth_flows SET state = ?, aux = ?, expires_at = ?, keep_until = ?, "
	    "body = ? WHERE kind = ? AND hash = ? AND state = ?", &q)) == 0 &&
	    (r = b_int(q, 1, f->state)) == 0 && (r = b_blob(q, 2, f->aux, f->has_aux ? 32 : 0)) == 0 &&
	    (r = b_int(q, 3, f->expires_at)) == 0 && (r = b_int(q, 4, f->keep_until)) == 0 &&
	    (r = b_blob(q, 5, f->body, f->body != NULL ? f->body_len : 0)) == 0 &&
	    (r = b_int(q, 6, f->kind)) == 0 && (r = b_blob(q, 7, f->hash, 32)) == 0 &&
	    (r = b_int(q, 8, from)) == 0 && (r = run(s, q, __func__, &changed)) == 0 && changed == 0)
		r = INK_ERR_NOT_FOUND;
	done(s, q);
	unlock(s);
	return r;
}

static int
sq_oauth_prune(struct store *st, int64_t now, size_t *n)
{
	static const char *const sql[] = {
		"DELETE FROM oauth_flows WHERE keep_until <= ?",
		"DELETE FROM oauth_tokens WHERE expires_at <= ?",
		"DELETE FROM oauth_jti WHERE expires_at < ?",
	};
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	size_t i;
	int r = 0, changed;

	*n = 0;
	lock(s);
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && r == 0; i++) {
		if ((r = prep(s, sql[i], &q)) == 0 && (r = b_int(q, 1, now)) == 0 &&
		    (r = run(s, q, __func__, &changed)) == 0)
			*n += (size_t)changed;
		done(s, q);
		q = NULL;
	}
	unlock(s);
	return r;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.engine = sq_engine,
	.user_insert = sq_user_insert,
	.user_get_by_name = sq_user_get_by_name,
	.user_get_by_id = sq_user_get_by_id,
	.user_list = sq_user_list,
	.user_set_password = sq_user_set_password,
	.user_set_status = sq_user_set_status,
	.user_set_roles = sq_user_set_roles,
	.user_set_totp = sq_user_set_totp,
	.user_login_failed = sq_user_login_failed,
	.user_login_reserve = sq_user_login_reserve,
	.user_login_settle = sq_user_login_settle,
	.user_login_ok = sq_user_login_ok,
	.user_use_totp_step = sq_user_use_totp_step,
	.idv_insert = sq_idv_insert,
	.idv_get = sq_idv_get,
	.session_insert = sq_session_insert,
	.session_get = sq_session_get,
	.session_get_user = sq_session_get_user,
	.session_revoke = sq_session_revoke,
	.session_upgrade = sq_session_upgrade,
	.session_revoke_user = sq_session_revoke_user,
	.session_revoke_others = sq_session_revoke_others,
	.audit_insert = sq_audit_insert,
	.audit_insert_batch = sq_audit_insert_batch,
	.audit_list = sq_audit_list,
	.audit_last_seq = sq_audit_last_seq,
	.checkpoint_insert = sq_checkpoint_insert,
	.checkpoint_list = sq_checkpoint_list,
	.archive_insert = sq_archive_insert,
	.archive_last = sq_archive_last,
	.oauth_client_insert = sq_oauth_client_insert,
	.oauth_client_get = sq_oauth_client_get,
	.oauth_client_list = sq_oauth_client_list,
	.oauth_client_remove = sq_oauth_client_remove,
	.oauth_jti_use = sq_oauth_jti_use,
	.oauth_token_insert = sq_oauth_token_insert,
	.oauth_token_get = sq_oauth_token_get,
	.oauth_token_use = sq_oauth_token_use,
	.oauth_token_revoke = sq_oauth_token_revoke,
	.oauth_token_revoke_family = sq_oauth_token_revoke_family,
	.oauth_flow_insert = sq_oauth_flow_insert,
	.oauth_flow_get = sq_oauth_flow_get,
	.oauth_flow_take = sq_oauth_flow_take,
	.oauth_flow_update = sq_oauth_flow_update,
	.oauth_prune = sq_oauth_prune,
};

const char *
store_engine_version(void)
{
	return sqlite3_libversion();
}
