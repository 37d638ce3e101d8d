/* backup: the whole key store in one blob sealed under the master key; signers' keys inside it
 * stay sealed under their PINs, so a stolen backup plus the database yields no usable key. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Version 2 adds the audit log's key and tree state; version 1 backups still restore. */
#define BACKUP_MAGIC "INKANBK2"
#define BACKUP_MAGIC_V1 "INKANBK1"
#define BACKUP_MAGIC_LEN 8
#define BACKUP_PURPOSE "backup"
#define BACKUP_MAX (256u * 1024u * 1024u)
#define FIELD_MAX (1u << 20)
/* The refusal of keystore-0002.sql's log_state_restore trigger. */
#define LOG_GOES_BACK "the audit log would go back"

/* Column kinds of the tables a backup carries, in a fixed order. */
struct table_def {
	const char *name;
	const char *cols;     /* comma-separated */
	const char *kinds;    /* per column: t text, i integer, b blob (NULL allowed: n-prefix via tag) */
};

static const struct table_def tables[] = {
	{ "ca", "name, blob, cert", "tbb" },
	{ "revoked", "serial, revoked_at, reason", "tii" },
	{ "crl", "id, number, made_at, der", "iiib" },
	{ "credentials", "id, owner, backend, algo, salt, blob, pubkey, cert, serial, not_before, "
	  "not_after, status, pin_failures, created_at, revoked_at, reason, subject_cn, subject_serial, "
	  "kdf_m, kdf_t, kdf_p",
	  "ttttbbbbtiiiiiiittiii" },
	/* last: a version-1 backup ends before it. The log's state in use (a view); restoring it
	 * adds rows, and refuses to take the same log back (keystore-0002.sql). */
	{ "log_state", "blob, pubkey, size, frontier, time, sig, closed", "bbibibi" },
};

/* A value is a tag byte (0 NULL, 1 present) then u64 or a u32-length string. */
static int
put_value(struct ink_buf *b, sqlite3_stmt *st, int col, char kind)
{
	int r;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return buf_put_u8(b, 0);
	if ((r = buf_put_u8(b, 1)) != 0)
		return r;
	if (kind == 'i')
		return buf_put_u64(b, (uint64_t)sqlite3_column_int64(st, col));
	if (kind == 't')
		return buf_put_string(b, sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
	return buf_put_string(b, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
}

static int
dump_table(struct keys *k, const struct table_def *t, struct ink_buf *b)
{
	sqlite3_stmt *st = NULL;
	char sql[512];
	size_t rows = 0, count_at;
	int rc, r = INK_ERR_STORE, i, ncols = (int)strlen(t->kinds);

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s", t->cols, t->name);
	if (sqlite3_prepare_v2(k->db, sql, -1, &st, NULL) != SQLITE_OK)
		return r;
	count_at = b->len;
	if ((r = buf_put_u32(b, 0)) != 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < ncols; i++)
			if ((r = put_value(b, st, i, t->kinds[i])) != 0)
				goto out;
		rows++;
	}
	if (rc != SQLITE_DONE) {
		r = INK_ERR_STORE;
		goto out;
	}
	b->data[count_at] = (uint8_t)(rows >> 24);
	b->data[count_at + 1] = (uint8_t)(rows >> 16);
	b->data[count_at + 2] = (uint8_t)(rows >> 8);
	b->data[count_at + 3] = (uint8_t)rows;
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

int
keys_backup(struct keys *k, uint8_t **blob, size_t *len)
{
	struct ink_buf pt;
	uint8_t *out = NULL;
	size_t i, outlen = 0;
	int r;

	*blob = NULL;
	*len = 0;
	buf_init(&pt, BACKUP_MAX, true);
	/* One read transaction: the tables are dumped as one consistent state. */
	if ((r = keys_exec(k, "BEGIN")) != 0)
		goto out;
	for (i = 0; i < INK_ARRAY_LEN(tables); i++)
		if ((r = dump_table(k, &tables[i], &pt)) != 0)
			break;
	(void)keys_exec(k, "COMMIT");
	if (r != 0)
		goto out;
	if ((out = malloc(BACKUP_MAGIC_LEN + pt.len + KEYS_SEAL_OVERHEAD)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(out, BACKUP_MAGIC, BACKUP_MAGIC_LEN);
	if ((r = keys_seal(k, BACKUP_PURPOSE, (const uint8_t *)BACKUP_MAGIC, BACKUP_MAGIC_LEN, pt.data,
	                   pt.len, out + BACKUP_MAGIC_LEN, &outlen)) != 0)
		goto out;
	*blob = out;
	*len = BACKUP_MAGIC_LEN + outlen;
	out = NULL;
out:
	free(out);
	buf_free(&pt);
	return r;
}

static int
restore_table(struct keys *k, const struct table_def *t, struct ink_buf *b, size_t *rows_out)
{
	sqlite3_stmt *st = NULL;
	char sql[768], marks[128];
	const uint8_t *p;
	size_t n;
	uint32_t rows, row;
	uint64_t v;
	uint8_t tag;
	int r, i, ncols = (int)strlen(t->kinds), off = 0;

	*rows_out = 0;
	for (i = 0; i < ncols; i++)
		off += snprintf(marks + off, sizeof(marks) - (size_t)off, "%s?%d", i ? ", " : "", i + 1);
	snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) VALUES (%s)", t->name, t->cols, marks);
	if (sqlite3_prepare_v2(k->db, sql, -1, &st, NULL) != SQLITE_OK)
		return INK_ERR_STORE;
	if ((r = buf_get_u32(b, &rows)) != 0)
		goto out;
	for (row = 0; row < rows; row++) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		for (i = 0; i < ncols; i++) {
			if ((r = buf_get_u8(b, &tag)) != 0)
				goto out;
			if (tag == 0)
				continue;
			if (tag != 1) {
				r = INK_ERR_PROTOCOL;
				goto out;
			}
			if (t->kinds[i] == 'i') {
				if ((r = buf_get_u64(b, &v)) != 0)
					goto out;
				sqlite3_bind_int64(st, i + 1, (int64_t)v);
			} else {
				if ((r = buf_get_string_ptr(b, &p, &n, FIELD_MAX)) != 0)
					goto out;
				if (t->kinds[i] == 't')
					sqlite3_bind_text(st, i + 1, (const char *)p, (int)n, SQLITE_STATIC);
				else
					sqlite3_bind_blob(st, i + 1, p, (int)n, SQLITE_STATIC);
			}
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_error("restore into %s: %s", t->name, sqlite3_errmsg(k->db));
			r = strstr(sqlite3_errmsg(k->db), LOG_GOES_BACK) != NULL ? INK_ERR_REPLAY :
			                                                           INK_ERR_STORE;
			goto out;
		}
	}
	*rows_out = rows;
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

static int
count_rows(struct keys *k, const char *sql, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int r = INK_ERR_STORE;

	*n = 0;
	if (sqlite3_prepare_v2(k->db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
keys_restore(struct keys *k, const uint8_t *blob, size_t len, size_t *count)
{
	struct ink_buf pt;
	size_t i, rows = 0, cred_rows = 0, ntables = INK_ARRAY_LEN(tables);
	const char *magic = BACKUP_MAGIC;
	int64_t existing = 0;
	int r;

	*count = 0;
	buf_init(&pt, BACKUP_MAX, true);
	if (len >= BACKUP_MAGIC_LEN && memcmp(blob, BACKUP_MAGIC_V1, BACKUP_MAGIC_LEN) == 0) {
		magic = BACKUP_MAGIC_V1;
		ntables--;
	}
	if (len < BACKUP_MAGIC_LEN + KEYS_SEAL_OVERHEAD || len > BACKUP_MAX ||
	    memcmp(blob, magic, BACKUP_MAGIC_LEN) != 0) {
		r = INK_ERR_INVALID;
		goto out;
	}
	if ((r = buf_put(&pt, blob, len)) != 0)   /* room for the plaintext, overwritten below */
		goto out;
	/* A truncated, corrupted or foreign (other master key) backup fails here, whole. */
	if (keys_unseal(k, BACKUP_PURPOSE, (const uint8_t *)magic, BACKUP_MAGIC_LEN,
	                blob + BACKUP_MAGIC_LEN, len - BACKUP_MAGIC_LEN, pt.data, &pt.len) != 0) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	pt.off = 0;
	if ((r = count_rows(k, "SELECT count(*) FROM credentials", &existing)) != 0)
		goto out;
	if (existing != 0) {
		log_op("restore refused: the key store already holds credentials");
		r = INK_ERR_EXISTS;
		goto out;
	}
	if ((r = keys_exec(k, "BEGIN IMMEDIATE")) != 0)
		goto out;
	/* The backup's CA replaces the one a fresh `inkan init` made. */
	if ((r = keys_exec(k, "DELETE FROM ca; DELETE FROM revoked; DELETE FROM crl;")) != 0)
		goto rollback;
	for (i = 0; i < ntables; i++) {
		if ((r = restore_table(k, &tables[i], &pt, &rows)) != 0)
			goto rollback;
		if (strcmp(tables[i].name, "credentials") == 0)
			cred_rows = rows;
	}
	/* A backup without the log key (INKANBK1) leaves the store's; if that one was sealed
	 * under another master key (a join), a fresh key takes over. */
	if (ntables != INK_ARRAY_LEN(tables) && (r = keys_log_key_ensure(k)) != 0)
		goto rollback;
	if (buf_remaining(&pt) != 0) {
		r = INK_ERR_PROTOCOL;
		goto rollback;
	}
	if ((r = keys_exec(k, "COMMIT")) != 0)
		goto rollback;
	*count = cred_rows;
	goto out;
rollback:
	(void)keys_exec(k, "ROLLBACK");
	if (r == INK_ERR_PROTOCOL)
		r = INK_ERR_INVALID;
out:
	buf_free(&pt);
	return r;
}
