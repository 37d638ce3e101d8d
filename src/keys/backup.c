/* backup: the whole key store in one blob sealed under the master key; signers' keys inside it
 * stay sealed under their PINs, so a stolen backup plus the database yields no usable key. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Version 2 adds the audit log's key and tree state, version 3 the SAM's records of persons;
 * older backups still restore. */
#define BACKUP_MAGIC "INKANBK4"
#define BACKUP_MAGIC_V3 "INKANBK3"
#define BACKUP_MAGIC_V2 "INKANBK2"
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
	const char *keep;     /* restore: a row is inserted only WHERE this holds ("" always) */
	const char *restore;  /* restore: this statement (?1.. the columns) instead of an INSERT */
};

static const struct table_def tables[] = {
	{ "ca", "name, blob, cert", "tbb", "", NULL },
	{ "revoked", "serial, revoked_at, reason", "tii", "", NULL },
	{ "crl", "id, number, made_at, der", "iiib", "", NULL },
	{ "credentials", "id, owner, backend, algo, salt, blob, pubkey, cert, serial, not_before, "
	  "not_after, status, pin_failures, created_at, revoked_at, reason, subject_cn, subject_serial, "
	  "kdf_m, kdf_t, kdf_p",
	  "ttttbbbbtiiiiiiittiii", "", NULL },
	/* last: a version-1 backup ends before it. The log's state in use (a view); restoring it
	 * adds rows, and refuses to take the same log back (keystore-0002.sql). The same log
	 * already further on (a restore over the live key store) stays where it is. */
	{ "log_state", "blob, pubkey, size, frontier, time, sig, closed", "bbibibi",
	  "NOT EXISTS (SELECT 1 FROM log_state AS s WHERE s.pubkey = ?2 AND s.size > ?3)", NULL },
	/* last: a version-2 backup ends before it. The persons the SAM serves (sealed seeds,
	 * counters and all: nobody's second factor is in the clear here either); a person the live
	 * store knows keeps the live record. Sessions and the SAM's audit records stay as they are. */
	{ "persons", "id, username, display_name, pseudonym, roles, status, idv_method, idv_evidence, "
	  "idv_doc, created_at, created_by, totp, totp_pending, activation, otp_step, otp_failures, "
	  "activated_at, activated_from",
	  "ttttiittbitbbbiiit",
	  "NOT EXISTS (SELECT 1 FROM persons AS p WHERE p.id = ?1 OR lower(p.username) = lower(?2) OR "
	  "p.pseudonym = ?4 OR p.idv_doc = ?9)", NULL },
	/* last: a version-3 backup ends before it. Each credential's authMode (keystore-0004.sql):
	 * the owner's choice of the consent page alone is restored with the key, not only when a
	 * live key store of the same CA is there to replay it (a restore onto a new machine). A
	 * backup only ever raises it: 0 in the backup leaves what the restored row has. */
	{ "credentials", "id, auth_mode", "ti", "",
	  "UPDATE credentials SET auth_mode = 1 WHERE id = CAST(?1 AS TEXT) AND "
	  "CAST(?2 AS BIGINT) = 1" },
};

/* A value is a tag byte (0 NULL, 1 present) then u64 or a u32-length string. */
static int
put_value(struct ink_buf *b, struct ksdb_stmt *st, int col, char kind)
{
	int r;

	if (ksdb_column_is_null(st, col))
		return buf_put_u8(b, 0);
	if ((r = buf_put_u8(b, 1)) != 0)
		return r;
	if (kind == 'i')
		return buf_put_u64(b, (uint64_t)ksdb_column_int64(st, col));
	if (kind == 't')
		return buf_put_string(b, ksdb_column_text(st, col), ksdb_column_bytes(st, col));
	return buf_put_string(b, ksdb_column_blob(st, col), ksdb_column_bytes(st, col));
}

static int
dump_table(struct keys *k, const struct table_def *t, struct ink_buf *b)
{
	struct ksdb_stmt *st = NULL;
	char sql[512];
	size_t rows = 0, count_at;
	int rc, r = INK_ERR_STORE, i, ncols = (int)strlen(t->kinds);

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s", t->cols, t->name);
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return r;
	count_at = b->len;
	if ((r = buf_put_u32(b, 0)) != 0)
		goto out;
	while ((rc = ksdb_step(st)) == KSDB_ROW) {
		for (i = 0; i < ncols; i++)
			if ((r = put_value(b, st, i, t->kinds[i])) != 0)
				goto out;
		rows++;
	}
	if (rc != KSDB_DONE) {
		r = INK_ERR_STORE;
		goto out;
	}
	b->data[count_at] = (uint8_t)(rows >> 24);
	b->data[count_at + 1] = (uint8_t)(rows >> 16);
	b->data[count_at + 2] = (uint8_t)(rows >> 8);
	b->data[count_at + 3] = (uint8_t)rows;
	r = 0;
out:
	ksdb_finalize(st);
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
	/* One transaction holding the writer (ksdb_begin): the tables are dumped as one consistent
	 * state on either engine (PostgreSQL's READ COMMITTED alone would not give one). */
	if ((r = keys_begin(k)) != 0)
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
	struct ksdb_stmt *st = NULL;
	char sql[2048], marks[640];
	const uint8_t *p;
	size_t n;
	uint32_t rows, row;
	uint64_t v;
	uint8_t tag;
	int r, i, ncols = (int)strlen(t->kinds), off = 0;

	*rows_out = 0;
	/* Typed, so that PostgreSQL knows each parameter of a SELECT list (BLOB: SQLite's type, a
	 * domain over BYTEA in keystore-pg-0001.sql). */
	for (i = 0; i < ncols; i++)
		off += snprintf(marks + off, sizeof(marks) - (size_t)off, "%sCAST(?%d AS %s)",
		                i ? ", " : "", i + 1, t->kinds[i] == 'i' ? "BIGINT" :
		                t->kinds[i] == 't' ? "TEXT" : "BLOB");
	if (t->restore != NULL)
		snprintf(sql, sizeof(sql), "%s", t->restore);
	else
		snprintf(sql, sizeof(sql), "INSERT INTO %s (%s) SELECT %s%s%s", t->name, t->cols,
		         marks, t->keep[0] != '\0' ? " WHERE " : "", t->keep);
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return INK_ERR_STORE;
	if ((r = buf_get_u32(b, &rows)) != 0)
		goto out;
	for (row = 0; row < rows; row++) {
		ksdb_reset(st);
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
				ksdb_bind_int64(st, i + 1, (int64_t)v);
			} else {
				if ((r = buf_get_string_ptr(b, &p, &n, FIELD_MAX)) != 0)
					goto out;
				if (t->kinds[i] == 't')
					ksdb_bind_text(st, i + 1, (const char *)p, (int)n);
				else
					ksdb_bind_blob(st, i + 1, p, n);
			}
		}
		if (ksdb_step(st) != KSDB_DONE) {
			log_error("restore into %s: %s", t->name, ksdb_errmsg(k->db));
			r = strstr(ksdb_errmsg(k->db), LOG_GOES_BACK) != NULL ? INK_ERR_REPLAY :
			                                                           INK_ERR_STORE;
			goto out;
		}
	}
	*rows_out = rows;
	r = 0;
out:
	ksdb_finalize(st);
	return r;
}

static int
count_rows(struct keys *k, const char *sql, int64_t *n)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	*n = 0;
	if (ksdb_prepare(k->db, sql, &st) == KSDB_OK && ksdb_step(st) == KSDB_ROW) {
		*n = ksdb_column_int64(st, 0);
		r = 0;
	}
	ksdb_finalize(st);
	return r;
}

/* What the live key store being replaced knows, kept for the restored one. */
struct live_state {
	uint8_t *issuing;          /* its issuing CA certificate (DER), NULL if none */
	size_t issuing_len;
	int64_t creds;             /* its credentials, of any status */
	int64_t crl_number;
	uint8_t *crl;              /* its CRL (DER), NULL if none */
	size_t crl_len;
};

static void
live_state_free(struct live_state *l)
{
	free(l->issuing);
	free(l->crl);
	memset(l, 0, sizeof(*l));
}

/* A copy of column col of the one row sql selects (*out NULL when there is no row). */
static int
select_blob(struct keys *k, const char *sql, int col, uint8_t **out, size_t *len)
{
	struct ksdb_stmt *st = NULL;
	int rc, n, r = INK_ERR_STORE;

	*out = NULL;
	*len = 0;
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return r;
	if ((rc = ksdb_step(st)) == KSDB_DONE) {
		r = 0;
		goto out;
	}
	if (rc != KSDB_ROW || (n = ksdb_column_bytes(st, col)) <= 0)
		goto out;
	if ((*out = malloc((size_t)n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*out, ksdb_column_blob(st, col), (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	ksdb_finalize(st);
	return r;
}

/* Reads the live store's witness before it is replaced: its CA, CRL and counts, and its
 * credentials' and revocations' rows into temporary tables (inside the restore's transaction). */
static int
live_state_read(struct keys *k, struct live_state *l)
{
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = select_blob(k, "SELECT cert FROM ca WHERE name = 'issuing'", 0, &l->issuing,
	                     &l->issuing_len)) != 0 ||
	    (r = select_blob(k, "SELECT der FROM crl WHERE id = 1", 0, &l->crl, &l->crl_len)) != 0 ||
	    (r = count_rows(k, "SELECT count(*) FROM credentials", &l->creds)) != 0)
		return r;
	if (l->crl != NULL &&
	    (r = count_rows(k, "SELECT number FROM crl WHERE id = 1", &l->crl_number)) != 0)
		return r;
	return keys_exec(k, "DROP TABLE IF EXISTS live_cred; "
	                 "DROP TABLE IF EXISTS live_revoked; "
	                 "CREATE TEMP TABLE live_cred AS SELECT id, status, revoked_at, reason, "
	                 "pin_failures, auth_mode, blob IS NULL AS gone FROM credentials; "
	                 "CREATE TEMP TABLE live_revoked AS SELECT serial, revoked_at, reason "
	                 "FROM revoked;");
}

/* Runs one statement; *changes: the rows it changed. */
static int
exec_changes(struct keys *k, const char *sql, int64_t *changes)
{
	int r;

	*changes = 0;
	if ((r = keys_exec(k, sql)) == 0)
		*changes = ksdb_changes(k->db);
	return r;
}

/* Replays onto the restored credentials what the live store of the same CA knows: revoked and
 * destroyed keys stay so (their sealed keys removed), locks, PIN failure counts and an owner's
 * authMode oauth2code stay, and its revoked serials join the list. INK_ERR_EXISTS when a live key that can still be used (or
 * certified) is missing from the backup: the restore would lose it. */
static int
replay_live(struct keys *k, const struct live_state *l, int64_t *replayed, int64_t *serials,
            int64_t *crl_floor)
{
	size_t added = 0;
	int64_t n = 0, crl_number = 0, oauth_only = 0;
	int r;

	if ((r = count_rows(k, "SELECT count(*) FROM live_cred AS l WHERE l.status IN (0, 1, 2) "
	                    "AND NOT l.gone AND l.id NOT IN (SELECT id FROM credentials)", &n)) != 0)
		return r;
	if (n > 0) {
		log_op("restore refused: %lld live key(s) made after the backup would be lost "
		       "(revoke them first)", (long long)n);
		return INK_ERR_EXISTS;
	}
	if ((r = exec_changes(k, "UPDATE credentials SET blob = NULL, "
	                      "status = CASE WHEN l.status IN (3, 4) THEN l.status ELSE 4 END, "
	                      "revoked_at = coalesce(l.revoked_at, credentials.revoked_at), "
	                      "reason = coalesce(l.reason, credentials.reason) "
	                      "FROM live_cred AS l WHERE credentials.id = l.id AND "
	                      "(l.status IN (3, 4) OR l.gone) AND "
	                      "(credentials.status NOT IN (3, 4) OR credentials.blob IS NOT NULL)",
	                      replayed)) != 0 ||
	    (r = exec_changes(k, "UPDATE credentials SET "
	                      "pin_failures = CASE WHEN l.pin_failures > credentials.pin_failures "
	                      "THEN l.pin_failures ELSE credentials.pin_failures END, "
	                      "status = CASE WHEN l.status = 2 AND credentials.status = 1 THEN 2 "
	                      "ELSE credentials.status END "
	                      "FROM live_cred AS l WHERE credentials.id = l.id AND "
	                      "credentials.status IN (0, 1, 2) AND (l.pin_failures > "
	                      "credentials.pin_failures OR (l.status = 2 AND credentials.status = 1))",
	                      &n)) != 0 ||
	    /* an owner's choice of the consent page alone is not undone by an older backup */
	    (r = exec_changes(k, "UPDATE credentials SET auth_mode = 1 FROM live_cred AS l "
	                      "WHERE credentials.id = l.id AND l.auth_mode = 1 AND "
	                      "credentials.auth_mode = 0", &oauth_only)) != 0 ||
	    (r = exec_changes(k, "INSERT INTO revoked (serial, revoked_at, reason) "
	                      "SELECT serial, revoked_at, reason FROM live_revoked WHERE true "
	                      "ON CONFLICT DO NOTHING", serials)) != 0)
		return r;
	if (n > 0)
		log_info("restore: %lld lock(s) and PIN failure count(s) of the live key store kept",
		         (long long)n);
	if (oauth_only > 0)
		log_info("restore: %lld key(s) kept for the OAuth consent page alone, as live",
		         (long long)oauth_only);
	*crl_floor = l->crl_number;
	/* Its CRL too, for serials whose rows someone removed from the revoked table. */
	if (l->crl != NULL) {
		if (keys_ca_crl_witness(k, l->crl, l->crl_len, &added, &crl_number) != 0)
			log_warn("restore: the live key store's CRL does not verify; its revoked table "
			         "alone is replayed");
		*serials += (int64_t)added;
		if (crl_number > *crl_floor)
			*crl_floor = crl_number;
	}
	return 0;
}

int
keys_restore(struct keys *k, const uint8_t *blob, size_t len, const uint8_t *crl, size_t crl_len,
             bool no_witness_ok, int (*check)(void *arg), void *arg, size_t *count)
{
	struct ink_buf pt;
	struct live_state live;
	size_t i, rows = 0, cred_rows = 0, ntables = INK_ARRAY_LEN(tables), added = 0;
	const char *magic = BACKUP_MAGIC;
	uint8_t *issuing = NULL;
	size_t issuing_len = 0;
	int64_t replayed = 0, serials = 0, crl_floor = 0, number = 0, n = 0;
	bool same_ca, witness_live;
	int r;

	*count = 0;
	memset(&live, 0, sizeof(live));
	buf_init(&pt, BACKUP_MAX, true);
	if (len >= BACKUP_MAGIC_LEN && memcmp(blob, BACKUP_MAGIC_V3, BACKUP_MAGIC_LEN) == 0) {
		magic = BACKUP_MAGIC_V3;
		ntables -= 1;
	} else if (len >= BACKUP_MAGIC_LEN && memcmp(blob, BACKUP_MAGIC_V2, BACKUP_MAGIC_LEN) == 0) {
		magic = BACKUP_MAGIC_V2;
		ntables -= 2;
	} else if (len >= BACKUP_MAGIC_LEN && memcmp(blob, BACKUP_MAGIC_V1, BACKUP_MAGIC_LEN) == 0) {
		magic = BACKUP_MAGIC_V1;
		ntables -= 3;
	}
	if (len < BACKUP_MAGIC_LEN + KEYS_SEAL_OVERHEAD || len > BACKUP_MAX ||
	    memcmp(blob, magic, BACKUP_MAGIC_LEN) != 0 || (crl == NULL && crl_len != 0)) {
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
	/* A restore may bring another CA or revocations: no pre-produced OCSP answer stands; nor
	 * what the SAM knew of its logged records. */
	keys_ocsp_forget(k);
	k->samlog_low = 0;
	/* All or nothing: the live store is read, replaced and replayed in one transaction. */
	if ((r = keys_begin(k)) != 0)
		goto out;
	if ((r = live_state_read(k, &live)) != 0)
		goto rollback;
	/* The backup's CA replaces the one a fresh `inkan init` made. */
	if ((r = keys_exec(k, "DELETE FROM ca; DELETE FROM revoked; DELETE FROM crl; "
	                   "DELETE FROM credentials;")) != 0)
		goto rollback;
	for (i = 0; i < ntables; i++) {
		if ((r = restore_table(k, &tables[i], &pt, &rows)) != 0)
			goto rollback;
		if (strcmp(tables[i].name, "credentials") == 0 && tables[i].restore == NULL)
			cred_rows = rows;
	}
	if (buf_remaining(&pt) != 0) {
		r = INK_ERR_PROTOCOL;
		goto rollback;
	}
	/* Witness 1: the live store, when it is this backup's own CA's. */
	if ((r = select_blob(k, "SELECT cert FROM ca WHERE name = 'issuing'", 0, &issuing,
	                     &issuing_len)) != 0)
		goto rollback;
	same_ca = issuing != NULL && live.issuing != NULL && issuing_len == live.issuing_len &&
	          memcmp(issuing, live.issuing, issuing_len) == 0;
	if (live.creds > 0 && !same_ca) {
		log_op("restore refused: the key store holds credentials of another CA");
		r = INK_ERR_EXISTS;
		goto rollback;
	}
	witness_live = same_ca && (live.creds > 0 || live.crl != NULL);
	if (same_ca && (r = replay_live(k, &live, &replayed, &serials, &crl_floor)) != 0)
		goto rollback;
	/* Witness 2: a CRL the backup's issuing CA signed, no older than the backup's own. */
	if (crl_len > 0) {
		if ((r = keys_ca_crl_witness(k, crl, crl_len, &added, &number)) != 0) {
			log_op("restore refused: the CRL sent with it is %s",
			       r == INK_ERR_UNTRUSTED ? "not signed by the backup's issuing CA" :
			                                "malformed");
			goto rollback;
		}
		serials += (int64_t)added;
		if ((r = count_rows(k, "SELECT coalesce(max(number), 0) FROM crl", &n)) != 0)
			goto rollback;
		if (number < n) {
			/* refused, not ignored: whoever sends an old list wants the new one unseen */
			log_op("restore refused: the CRL sent with it (number %lld) is older than the "
			       "backup's (%lld): it shows nothing about what came after",
			       (long long)number, (long long)n);
			r = INK_ERR_NO_WITNESS;
			goto rollback;
		}
		if (number > crl_floor)
			crl_floor = number;
	}
	if (!witness_live && crl_len == 0) {
		if (!no_witness_ok) {
			log_op("restore refused: nothing shows what was revoked after the backup (the key "
			       "store holds no credentials or CRL of its CA, and no current CRL was sent)");
			r = INK_ERR_NO_WITNESS;
			goto rollback;
		}
		log_warn("restore without a witness of later revocations (dual control checked)");
	}
	/* Every serial on the union list: its key is revoked and destroyed. */
	if ((r = exec_changes(k, "UPDATE credentials SET status = 3, blob = NULL, "
	                      "revoked_at = r.revoked_at, reason = r.reason FROM revoked AS r "
	                      "WHERE credentials.serial IS NOT NULL AND "
	                      "upper(credentials.serial) = upper(r.serial) AND "
	                      "credentials.status NOT IN (3, 4)", &n)) != 0)
		goto rollback;
	replayed += n;
	/* The CRL goes forward: numbered above the live one, the backup's and the one sent. */
	if (issuing != NULL) {
		if ((r = count_rows(k, "SELECT coalesce(max(number), 0) FROM crl", &n)) != 0)
			goto rollback;
		if ((r = keys_ca_crl_renew(k, n > crl_floor ? n : crl_floor)) != 0 ||
		    (r = count_rows(k, "SELECT number FROM crl WHERE id = 1", &number)) != 0)
			goto rollback;
	}
	/* A backup without the log key (INKANBK1) leaves the store's; if that one was sealed
	 * under another master key (a join), a fresh key takes over. */
	if (ntables < INK_ARRAY_LEN(tables) - 2 && (r = keys_log_key_ensure(k)) != 0)
		goto rollback;
	if (check != NULL && (r = check(arg)) != 0) {
		log_op("restore refused by the caller's check inside it: %s", ink_err_str(r));
		goto rollback;
	}
	if ((r = keys_exec(k, "DROP TABLE live_cred; DROP TABLE live_revoked;")) != 0 ||
	    (r = keys_exec(k, "COMMIT")) != 0)
		goto rollback;
	keys_scrub(k);   /* the replaced key store's pages */
	/* The root may have changed with the CA: its cached list is made again when asked for. */
	free(k->arl);
	k->arl = NULL;
	k->arl_len = 0;
	/* the restored state, its own witnesses applied, is the newest this node has seen */
	if ((r = keys_witness_accept(k)) != 0)
		goto out;
	log_info("restore: %zu credential(s); replayed %lld revocation(s) and destruction(s) onto "
	         "them and %lld revoked serial(s) onto the CRL (witnesses: %s%s%s); CRL number %lld",
	         cred_rows, (long long)replayed, (long long)serials, witness_live ? "live key store" : "",
	         witness_live && crl_len > 0 ? ", " : "", crl_len > 0 ? "CRL sent" :
	         witness_live ? "" : "none, dual control", (long long)number);
	*count = cred_rows;
	goto out;
rollback:
	(void)keys_exec(k, "ROLLBACK");
	if (r == INK_ERR_PROTOCOL)
		r = INK_ERR_INVALID;
out:
	free(issuing);
	live_state_free(&live);
	buf_free(&pt);
	return r;
}
