/* keys: the key manager's master key (locked memory), key store (DB-2) and AES-256-GCM sealing. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_SCHEMA_VERSION 7
#define SEAL_VERSION 0x01
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_KEY_LEN 32
#define SEAL_INFO_PREFIX "inkan seal v1 "
/* Purposes are short fixed labels chosen by the code ("totp", "signing-key"), never user data. */
#define SEAL_PURPOSE_MAX 64

/* The key store schema, a versioned file compiled in (src/keys/sql/keystore-0001.sql). */
extern const char schema_keystore_0001[];
extern const char schema_keystore_0002[];
extern const char schema_keystore_0003[];
extern const char schema_keystore_0004[];
extern const char schema_keystore_0005[];
extern const char schema_keystore_0006[];
extern const char schema_keystore_0007[];
extern const char schema_keystore_pg_0001[];
extern const char schema_keystore_pg_0002[];
extern const char schema_keystore_pg_0003[];
extern const char schema_keystore_pg_0004[];

/* Creates an empty file with mode 0600 so that SQLite (which would use 0644 less the umask)
 * opens a file that was never readable by others; its journals inherit that mode. */
static int
create_private_file(const char *path)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return errno == EEXIST ? INK_ERR_EXISTS : INK_ERR_IO;
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		return INK_ERR_IO;
	}
	if (close(fd) != 0)
		return INK_ERR_IO;
	return 0;
}

static int
db_create(const char *path)
{
	struct ksdb *db = NULL;
	int r;

	if ((r = ksdb_open_sqlite(path, &db)) != 0)
		return r;
	if (ksdb_exec(db, schema_keystore_0001) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0002) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0003) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0004) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0005) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0006) != KSDB_OK ||
	    ksdb_exec(db, schema_keystore_0007) != KSDB_OK) {
		log_error("keystore schema: %s", ksdb_errmsg(db));
		r = INK_ERR_STORE;
	}
	ksdb_close(db);
	return r;
}

static int check_private(const char *path, const struct stat *st);
static int db_open(const char *path, struct ksdb **out);

/* The key store's PostgreSQL URI, from DIR/keystore.url (one line; a regular file of ours that
 * nobody else can read: with the passfile it names, the SAM's alone); INK_ERR_NOT_FOUND when
 * there is none: the key store is the SQLite file DIR/keystore.db. */
static int
read_url(const char *dir, char *url, size_t sz)
{
	char path[1024];
	struct stat st;
	ssize_t n;
	int fd, r;

	url[0] = '\0';
	if ((r = ink_path(path, sizeof(path), dir, KEYS_URL_FILE)) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return INK_ERR_NOT_FOUND;
		log_error("%s: %s", path, strerror(errno));
		return errno == ELOOP ? INK_ERR_CONFIG : INK_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		r = INK_ERR_IO;
		goto out;
	}
	if ((r = check_private(path, &st)) != 0)
		goto out;
	r = INK_ERR_CONFIG;
	if ((n = read(fd, url, sz)) <= 0 || (size_t)n >= sz) {
		log_error("%s: empty or longer than %zu bytes", path, sz - 1);
		goto out;
	}
	url[n] = '\0';
	url[strcspn(url, "\r\n")] = '\0';
	if (strncmp(url, "postgresql://", 13) != 0 && strncmp(url, "postgres://", 11) != 0) {
		log_error("%s: not a postgresql:// URI", path);
		goto out;
	}
	r = 0;
out:
	close(fd);
	if (r != 0)
		OPENSSL_cleanse(url, sz);
	return r;
}

/* The file that takes a PostgreSQL key store from version `from` to from + 1, NULL for none.
 * keystore-pg-0001.sql makes version 4 at once; each later file (keystore-pg-0002.sql, ...)
 * adds one version, as keystore-000N.sql does for SQLite, with no BEGIN/COMMIT of its own: it
 * runs inside pg_schema's transaction. */
static const char *
pg_upgrade(int64_t from)
{
	switch (from) {
	case 4:
		return schema_keystore_pg_0002;
	case 5:
		return schema_keystore_pg_0003;
	case 6:
		return schema_keystore_pg_0004;
	default:
		return NULL;
	}
}

/* Makes (create) or checks the key store's tables in PostgreSQL, and brings them to
 * KEYS_SCHEMA_VERSION, inside a transaction holding the key store's lock (ksdb_begin), so that
 * nodes starting together do it once. A key store newer than this program is refused. create
 * leaves the transaction open for the caller to commit; otherwise it is committed here. */
static int
pg_schema(struct ksdb *db, bool create)
{
	struct ksdb_stmt *st = NULL;
	const char *upgrade;
	int64_t version = 0;
	bool exists;
	int r = INK_ERR_STORE;

	if (ksdb_begin(db) != KSDB_OK ||
	    ksdb_prepare(db, "SELECT to_regclass('keystore_meta') IS NOT NULL", &st) != KSDB_OK ||
	    ksdb_step(st) != KSDB_ROW)
		goto out;
	exists = ksdb_column_int64(st, 0) != 0;
	ksdb_finalize(st);
	st = NULL;
	if (create && exists) {
		log_error("keystore: the PostgreSQL key store already holds one; init replaces nothing");
		r = INK_ERR_EXISTS;
		goto out;
	}
	if (!create && !exists) {
		log_error("keystore: no key store in PostgreSQL (inkan-sam --init makes it)");
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if (create && ksdb_exec(db, schema_keystore_pg_0001) != KSDB_OK)
		goto out;
	for (;;) {
		if (ksdb_prepare(db, "SELECT version FROM keystore_meta", &st) != KSDB_OK ||
		    ksdb_step(st) != KSDB_ROW)
			goto out;
		version = ksdb_column_int64(st, 0);
		ksdb_finalize(st);
		st = NULL;
		if (version >= KEYS_SCHEMA_VERSION || (upgrade = pg_upgrade(version)) == NULL)
			break;
		if (ksdb_exec(db, upgrade) != KSDB_OK)
			goto out;
		log_info("keystore: PostgreSQL key store upgraded to version %lld",
		         (long long)version + 1);
	}
	if (version != KEYS_SCHEMA_VERSION) {
		log_error("keystore: PostgreSQL schema version %lld, expected %d",
		          (long long)version, KEYS_SCHEMA_VERSION);
		goto out;
	}
	if (!create && ksdb_exec(db, "COMMIT") != KSDB_OK)
		goto out;
	r = 0;
out:
	if (r != 0 && (r != INK_ERR_EXISTS && r != INK_ERR_NOT_FOUND))
		log_error("keystore: %s", ksdb_errmsg(db));
	ksdb_finalize(st);
	if (r != 0 && ksdb_in_transaction(db))
		(void)ksdb_exec(db, "ROLLBACK");
	return r;
}

int
keys_db_connect(const char *dir, struct ksdb **out)
{
	char url[KEYS_URL_MAX], dpath[1024];
	int r;

	*out = NULL;
	if ((r = read_url(dir, url, sizeof(url))) == 0) {
		if ((r = ksdb_open_postgres(url, out)) == 0 && (r = pg_schema(*out, false)) != 0) {
			ksdb_close(*out);
			*out = NULL;
		}
		OPENSSL_cleanse(url, sizeof(url));
		return r;
	}
	if (r != INK_ERR_NOT_FOUND)
		return r;
	if ((r = ink_path(dpath, sizeof(dpath), dir, KEYS_DB_FILE)) != 0)
		return r;
	return db_open(dpath, out);
}

/* Refuses a path that exists (or cannot be checked): init never replaces anything. */
static int
must_not_exist(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return INK_ERR_EXISTS;
	return errno == ENOENT ? 0 : INK_ERR_IO;
}

int
keys_init_dir(const char *dir)
{
	char mpath[1024], dpath[1024], url[KEYS_URL_MAX];
	uint8_t *master = NULL;
	struct ksdb *pg = NULL;
	bool made_db = false, made_master = false;
	int r = INK_ERR_INTERNAL;

	if (dir == NULL)
		return INK_ERR_INVALID;
	if ((r = ink_path(mpath, sizeof(mpath), dir, KEYS_MASTER_FILE)) != 0 ||
	    (r = ink_path(dpath, sizeof(dpath), dir, KEYS_DB_FILE)) != 0)
		return r;
	/* A key store without its master key is still someone's data: refuse both cases. */
	if ((r = must_not_exist(mpath)) != 0 || (r = must_not_exist(dpath)) != 0)
		return r;
	if ((r = ink_mkdir(dir, 0700)) != 0)
		return r;
	if ((r = read_url(dir, url, sizeof(url))) == 0) {
		/* PostgreSQL: the tables are made in a transaction committed after the master key
		 * is written, so that a failed init leaves neither behind. */
		if ((r = ksdb_open_postgres(url, &pg)) != 0 || (r = pg_schema(pg, true)) != 0)
			goto out;
	} else if (r != INK_ERR_NOT_FOUND) {
		goto out;
	} else {
		if ((r = create_private_file(dpath)) != 0)
			goto out;
		made_db = true;
		if ((r = db_create(dpath)) != 0)
			goto out;
	}
	if ((master = secmem_alloc(KEYS_MASTER_LEN)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = ink_random(master, KEYS_MASTER_LEN)) != 0)
		goto out;
	/* ink_write_file renames over its target: check again right before, so that a master
	 * key created meanwhile by a concurrent init is not replaced. */
	if ((r = must_not_exist(mpath)) != 0)
		goto out;
	if ((r = ink_write_file(mpath, master, KEYS_MASTER_LEN, 0600)) != 0)
		goto out;
	made_master = true;
	if (pg != NULL && ksdb_exec(pg, "COMMIT") != KSDB_OK) {
		log_error("keystore: %s", ksdb_errmsg(pg));
		r = INK_ERR_STORE;
		goto out;
	}
	r = 0;
out:
	secmem_free(master);
	if (pg != NULL && ksdb_in_transaction(pg))
		(void)ksdb_exec(pg, "ROLLBACK");
	ksdb_close(pg);
	OPENSSL_cleanse(url, sizeof(url));
	if (r != 0) {
		/* Leave nothing half-made behind: a retry would otherwise meet INK_ERR_EXISTS. */
		if (made_master)
			(void)unlink(mpath);
		if (made_db)
			(void)unlink(dpath);
	}
	return r;
}

/* Checks that a secret file is a regular file of ours that nobody else can read. */
static int
check_private(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode)) {
		log_error("%s: not a regular file", path);
		return INK_ERR_CONFIG;
	}
	if ((st->st_mode & 077) != 0) {
		log_error("%s: mode %04o is readable by group or others; chmod 600 it",
		          path, (unsigned)(st->st_mode & 07777));
		return INK_ERR_CONFIG;
	}
	if (st->st_uid != geteuid()) {
		log_error("%s: not owned by this user", path);
		return INK_ERR_CONFIG;
	}
	return 0;
}

static int
read_master(const char *path, uint8_t *master)
{
	struct stat st;
	uint8_t extra;
	size_t got = 0;
	ssize_t n;
	int fd, r = INK_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? INK_ERR_NOT_FOUND : errno == ELOOP ? INK_ERR_CONFIG : INK_ERR_IO;
	}
	if (fstat(fd, &st) != 0)
		goto out;
	if ((r = check_private(path, &st)) != 0)
		goto out;
	if (st.st_size != KEYS_MASTER_LEN) {
		log_error("%s: %lld bytes, expected %d", path, (long long)st.st_size, KEYS_MASTER_LEN);
		r = INK_ERR_CONFIG;
		goto out;
	}
	r = INK_ERR_IO;
	while (got < KEYS_MASTER_LEN) {
		n = read(fd, master + got, KEYS_MASTER_LEN - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	/* The file must not have grown since fstat. */
	if (read(fd, &extra, 1) != 0) {
		r = INK_ERR_CONFIG;
		goto out;
	}
	r = 0;
out:
	close(fd);
	if (r != 0)
		OPENSSL_cleanse(master, KEYS_MASTER_LEN);
	return r;
}

static int
db_open(const char *path, struct ksdb **out)
{
	struct ksdb *db = NULL;
	struct ksdb_stmt *stmt = NULL;
	struct stat st;
	int r = INK_ERR_STORE;

	*out = NULL;
	if (lstat(path, &st) != 0) {
		log_error("%s: %s", path, strerror(errno));
		return errno == ENOENT ? INK_ERR_NOT_FOUND : INK_ERR_IO;
	}
	if ((r = check_private(path, &st)) != 0)
		return r;
	if ((r = ksdb_open_sqlite(path, &db)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_prepare(db, "SELECT version FROM keystore_meta", &stmt) != KSDB_OK ||
	    ksdb_step(stmt) != KSDB_ROW) {
		log_error("keystore %s: %s", path, ksdb_errmsg(db));
		goto out;
	}
	/* Upgrades, each a new file applied once (an earlier version's file is never edited):
	 * 1 -> 2 the audit log tables, 2 -> 3 the SAM's records of persons and its sessions,
	 * 3 -> 4 each credential's auth_mode, 4 -> 5 the master key's check value, 5 -> 6 the SADs' spend
	 * records, 6 -> 7 the index of the expiry sweep. */
	while (ksdb_column_int64(stmt, 0) >= 1 &&
	       ksdb_column_int64(stmt, 0) < KEYS_SCHEMA_VERSION) {
		static const char *const upgrades[] = { schema_keystore_0002, schema_keystore_0003,
		                                        schema_keystore_0004, schema_keystore_0005,
		                                        schema_keystore_0006, schema_keystore_0007 };
		int64_t from = ksdb_column_int64(stmt, 0);

		ksdb_finalize(stmt);
		stmt = NULL;
		if (ksdb_exec(db, upgrades[from - 1]) != KSDB_OK) {
			log_error("keystore %s: upgrading to version %lld: %s", path,
			          (long long)from + 1, ksdb_errmsg(db));
			(void)ksdb_exec(db, "ROLLBACK");
			goto out;
		}
		log_info("keystore upgraded to version %lld", (long long)from + 1);
		if (ksdb_prepare(db, "SELECT version FROM keystore_meta", &stmt) != KSDB_OK ||
		    ksdb_step(stmt) != KSDB_ROW)
			goto out;
	}
	if (ksdb_column_int64(stmt, 0) != KEYS_SCHEMA_VERSION) {
		log_error("keystore %s: schema version %lld, expected %d", path,
		          (long long)ksdb_column_int64(stmt, 0), KEYS_SCHEMA_VERSION);
		goto out;
	}
	*out = db;
	db = NULL;
	r = 0;
out:
	ksdb_finalize(stmt);
	ksdb_close(db);
	return r;
}

int
keys_kcv_read(struct ksdb *db, uint8_t kcv[static KEYS_KCV_LEN], bool *found)
{
	struct ksdb_stmt *st = NULL;
	int rc, r = INK_ERR_STORE;

	*found = false;
	if (ksdb_prepare(db, "SELECT kcv FROM master_check WHERE id = 1", &st) != KSDB_OK)
		goto out;
	if ((rc = ksdb_step(st)) == KSDB_DONE) {
		r = 0;
		goto out;
	}
	if (rc != KSDB_ROW || ksdb_column_bytes(st, 0) != KEYS_KCV_LEN ||
	    ksdb_column_blob(st, 0) == NULL)
		goto out;
	memcpy(kcv, ksdb_column_blob(st, 0), KEYS_KCV_LEN);
	*found = true;
	r = 0;
out:
	if (r != 0)
		log_error("keystore: cannot read the master key's check value: %s", ksdb_errmsg(db));
	ksdb_finalize(st);
	return r;
}

/* Checks the loaded master key against the key store's check value. A key store without one
 * (just made, or upgraded from version 4) gets this key's, unless the key store shows that
 * another key was its master: its audit log key does not open while it holds credentials
 * (with none, it is a key store made by init or being rebuilt by a join: nothing to lose). */
static int
master_check(struct keys *k)
{
	uint8_t want[KEYS_KCV_LEN], have[KEYS_KCV_LEN];
	struct ksdb_stmt *st = NULL;
	bool found = false;
	int64_t creds = 0;
	int r, opens;

	if ((r = keys_master_kcv(k->master, want)) != 0 ||
	    (r = keys_kcv_read(k->db, have, &found)) != 0)
		return r;
	if (!found) {
		r = INK_ERR_STORE;
		if (ksdb_prepare(k->db, "SELECT count(*) FROM credentials", &st) != KSDB_OK ||
		    ksdb_step(st) != KSDB_ROW)
			goto out;
		creds = ksdb_column_int64(st, 0);
		ksdb_finalize(st);
		st = NULL;
		opens = creds > 0 ? keys_log_key_opens(k) : 0;
		if (opens != 0 && opens != INK_ERR_NOT_FOUND) {
			log_error("keystore: the master key in %s does not open this key store's audit "
			          "log key: it is not the master key the key store was made with; refusing "
			          "to start", k->dir);
			r = INK_ERR_CONFIG;
			goto out;
		}
		/* two nodes upgrading at once: the first one's value stays, the second compares */
		if (ksdb_prepare(k->db, "INSERT INTO master_check (id, kcv) VALUES (1, ?1) "
		                       "ON CONFLICT (id) DO NOTHING", &st) != KSDB_OK ||
		    ksdb_bind_blob(st, 1, want, sizeof(want)) != KSDB_OK || ksdb_step(st) != KSDB_DONE) {
			log_error("keystore: cannot write the master key's check value: %s",
			          ksdb_errmsg(k->db));
			goto out;
		}
		ksdb_finalize(st);
		st = NULL;
		if ((r = keys_kcv_read(k->db, have, &found)) != 0)
			goto out;
		r = INK_ERR_STORE;
		if (!found)
			goto out;
		log_info("keystore: the master key's check value is written");
	}
	if (CRYPTO_memcmp(want, have, KEYS_KCV_LEN) != 0) {
		log_error("keystore: master key mismatch: the master key in %s is not the one this key "
		          "store was made with (its check value differs); refusing to start", k->dir);
		r = INK_ERR_CONFIG;
		goto out;
	}
	r = 0;
out:
	ksdb_finalize(st);
	return r;
}

/* This node's name, from dir/node.id, made (random) when missing: a regular file of ours that
 * nobody else can change, of 32 hex digits. */
static int
node_id(const char *dir, char node[static KEYS_NODE_LEN + 1])
{
	char path[1024], *text = NULL;
	uint8_t raw[KEYS_NODE_LEN / 2];
	struct stat st;
	size_t len = 0, i;
	int r;

	node[0] = '\0';
	if ((r = ink_path(path, sizeof(path), dir, KEYS_NODE_FILE)) != 0)
		return r;
	if (lstat(path, &st) != 0 && errno == ENOENT) {
		if ((r = ink_random(raw, sizeof(raw))) != 0)
			return r;
		hex_encode(raw, sizeof(raw), node);
		if ((r = ink_write_file(path, node, KEYS_NODE_LEN, 0600)) != 0) {
			log_error("%s: cannot write this node's name", path);
			return r;
		}
		return 0;
	}
	if (lstat(path, &st) != 0 || (r = check_private(path, &st)) != 0)
		return r != 0 ? r : INK_ERR_IO;
	if ((r = ink_read_file(path, 64, &text, &len)) != 0)
		return r;
	r = INK_ERR_CONFIG;
	if (len != KEYS_NODE_LEN) {
		log_error("%s: not %d hex digits", path, KEYS_NODE_LEN);
		goto out;
	}
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdef", text[i]) == NULL || text[i] == '\0') {
			log_error("%s: not %d hex digits", path, KEYS_NODE_LEN);
			goto out;
		}
	memcpy(node, text, KEYS_NODE_LEN);
	node[KEYS_NODE_LEN] = '\0';
	r = 0;
out:
	free(text);
	return r;
}

int
keys_open(const char *dir, struct keys **out)
{
	char mpath[1024];
	struct keys *k = NULL;
	int r = INK_ERR_INTERNAL;

	*out = NULL;
	if (dir == NULL)
		return INK_ERR_INVALID;
	if ((r = ink_path(mpath, sizeof(mpath), dir, KEYS_MASTER_FILE)) != 0)
		return r;
	/* The whole struct lives in secmem: it holds the only pointer to the master key. */
	if ((k = secmem_alloc(sizeof(*k))) == NULL)
		return INK_ERR_ALLOC;
	pthread_mutex_init(&k->dec_mu, NULL);
	if ((k->master = secmem_alloc(KEYS_MASTER_LEN)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = read_master(mpath, k->master)) != 0)
		goto out;
	if (snprintf(k->dir, sizeof(k->dir), "%s", dir) >= (int)sizeof(k->dir)) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = keys_db_connect(dir, &k->db)) != 0 || (r = master_check(k)) != 0 ||
	    (r = node_id(dir, k->node)) != 0)
		goto out;
	*out = k;
	k = NULL;
	r = 0;
out:
	keys_close(k);
	return r;
}

void
keys_close(struct keys *k)
{
	if (k == NULL)
		return;
	keys_p11_close(k->p11);
	for (size_t i = 0; i < KEYS_DEC_N; i++) {
		OSSL_DECODER_CTX_free(k->dec[i].ctx);
		EVP_PKEY_free(k->dec[i].out);
	}
	ksdb_finalize(k->st_secret);
	X509_STORE_free(k->ext_ca);
	keys_sads_close(k);
	keys_readers_close(k);
	ksdb_close(k->db);
	free(k->arl);
	keys_ocsp_forget(k);
	free(k->ocsp);
	secmem_free(k->master);
	pthread_mutex_destroy(&k->dec_mu);
	secmem_free(k);
}

int
keys_decode_private(struct keys *k, int kind, const uint8_t *der, size_t len, EVP_PKEY **out)
{
	static const char *const types[KEYS_DEC_N] = { "EC", "RSA", "ED25519" };
	struct keys_decoder *d;
	const unsigned char *p = der;
	size_t left = len;

	*out = NULL;
	if (len == 0 || len > LONG_MAX)
		return INK_ERR_CRYPTO;
	if (kind < 0 || kind >= KEYS_DEC_N) {
		/* Any kind: the cached decoders first (the CA, TSA and log keys are EC or RSA). */
		for (kind = 0; kind < KEYS_DEC_N; kind++)
			if (keys_decode_private(k, kind, der, len, out) == 0)
				return 0;
		if ((*out = d2i_AutoPrivateKey(NULL, &p, (long)len)) == NULL)
			return INK_ERR_CRYPTO;
		return 0;
	}
	/* (signatures open their keys side by side: keys_signer_open) */
	d = &k->dec[kind];
	pthread_mutex_lock(&k->dec_mu);
	if (d->ctx == NULL &&
	    (d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->out, "DER", "PrivateKeyInfo", types[kind],
	                                            OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL)) == NULL) {
		pthread_mutex_unlock(&k->dec_mu);
		return INK_ERR_CRYPTO;
	}
	EVP_PKEY_free(d->out);
	d->out = NULL;
	if (OSSL_DECODER_from_data(d->ctx, &p, &left) != 1 || d->out == NULL || left != 0) {
		EVP_PKEY_free(d->out);
		d->out = NULL;
		pthread_mutex_unlock(&k->dec_mu);
		return INK_ERR_CRYPTO;
	}
	*out = d->out;
	d->out = NULL;
	pthread_mutex_unlock(&k->dec_mu);
	return 0;
}

/* HKDF-SHA256(master, no salt, "inkan seal v1 " || purpose) into key[SEAL_KEY_LEN]. A key per
 * purpose means a blob sealed for one use cannot be opened as another. */
static int
derive_key_from(const uint8_t *master, const char *purpose, uint8_t *key)
{
	char info[sizeof(SEAL_INFO_PREFIX) + SEAL_PURPOSE_MAX];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[4];
	int n, r = INK_ERR_CRYPTO;

	n = snprintf(info, sizeof(info), "%s%s", SEAL_INFO_PREFIX, purpose);
	if (n < 0 || (size_t)n >= sizeof(info))
		return INK_ERR_INVALID;
	if ((kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master,
	                                              KEYS_MASTER_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, (size_t)n);
	params[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, key, SEAL_KEY_LEN, params) != 1)
		goto out;
	r = 0;
out:
	/* EVP_KDF_CTX_free wipes its copy of the master key. */
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	if (r != 0)
		OPENSSL_cleanse(key, SEAL_KEY_LEN);
	return r;
}

static int
derive_key(const struct keys *k, const char *purpose, uint8_t *key)
{
	return derive_key_from(k->master, purpose, key);
}

/* HMAC-SHA256 under the key derived from master for purpose. */
static int
mac_from(const uint8_t *master, const char *purpose, const uint8_t *data, size_t len,
         uint8_t out[static 32])
{
	uint8_t *key = NULL;
	unsigned int outl = 0;
	int r;

	if ((key = secmem_alloc(SEAL_KEY_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = derive_key_from(master, purpose, key)) == 0 &&
	    (HMAC(EVP_sha256(), key, SEAL_KEY_LEN, data, len, out, &outl) == NULL || outl != 32))
		r = INK_ERR_CRYPTO;
	secmem_free(key);
	return r;
}

int
keys_master_kcv(const uint8_t master[static KEYS_MASTER_LEN], uint8_t out[static KEYS_KCV_LEN])
{
	return mac_from(master, KEYS_KCV_PURPOSE, (const uint8_t *)KEYS_KCV_LABEL,
	                strlen(KEYS_KCV_LABEL), out);
}

void
keys_scrub(struct keys *k)
{
	if (k->db != NULL && !ksdb_in_transaction(k->db) && ksdb_scrub(k->db) != KSDB_OK)
		log_warn("keystore: the pages of destroyed secrets may stay in its write-ahead log "
		         "until its next checkpoint: %s", ksdb_errmsg(k->db));
}

bool
keys_slow_begin(const struct keys *k)
{
	/* Inside a transaction another request's statements would join it: keep the lock. */
	if (k->params.slow_begin == NULL || k->db == NULL || ksdb_in_transaction(k->db))
		return false;
	k->params.slow_begin(k->params.slow_arg);
	return true;
}

void
keys_slow_end(const struct keys *k, bool let_go)
{
	if (let_go)
		k->params.slow_end(k->params.slow_arg);
}

int
keys_mac(const struct keys *k, const char *purpose, const uint8_t *data, size_t len,
         uint8_t out[static 32])
{
	return mac_from(k->master, purpose, data, len, out);
}

static bool
purpose_valid(const char *purpose)
{
	size_t n;

	if (purpose == NULL)
		return false;
	n = strnlen(purpose, SEAL_PURPOSE_MAX + 1);
	return n > 0 && n <= SEAL_PURPOSE_MAX;
}

/* AAD = version || purpose || 0x00 || aad: the NUL ends the purpose, so ("a", "bc") and
 * ("ab", "c") differ, and the caller's aad binds the blob to its owner. */
static int
put_aad(EVP_CIPHER_CTX *ctx, const char *purpose, const uint8_t *aad, size_t aadlen)
{
	const uint8_t ver = SEAL_VERSION;
	int n;

	if (EVP_CipherUpdate(ctx, NULL, &n, &ver, 1) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (const uint8_t *)purpose, (int)strlen(purpose) + 1) != 1)
		return INK_ERR_CRYPTO;
	if (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1)
		return INK_ERR_CRYPTO;
	return 0;
}

int
keys_seal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
          const uint8_t *pt, size_t ptlen, uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *key = NULL, *nonce, *ct;
	int n = 0, fin = 0, r = INK_ERR_INTERNAL;

	*outlen = 0;
	if (k == NULL || !purpose_valid(purpose) || (aad == NULL && aadlen > 0) ||
	    (pt == NULL && ptlen > 0) || out == NULL)
		return INK_ERR_INVALID;
	/* EVP takes int lengths. */
	if (aadlen > INT_MAX || ptlen > INT_MAX - KEYS_SEAL_OVERHEAD)
		return INK_ERR_TOO_LARGE;
	if ((key = secmem_alloc(SEAL_KEY_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = derive_key(k, purpose, key)) != 0)
		goto out;
	/* Random 96-bit nonces: each purpose key seals few blobs, far below the 2^32 limit. */
	out[0] = SEAL_VERSION;
	nonce = out + 1;
	ct = out + 1 + SEAL_NONCE_LEN;
	if ((r = ink_random(nonce, SEAL_NONCE_LEN)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto out;
	if ((r = put_aad(ctx, purpose, aad, aadlen)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (ptlen > 0 && EVP_EncryptUpdate(ctx, ct, &n, pt, (int)ptlen) != 1)
		goto out;
	if (EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 || (size_t)n + (size_t)fin != ptlen)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SEAL_TAG_LEN, ct + ptlen) != 1)
		goto out;
	*outlen = ptlen + KEYS_SEAL_OVERHEAD;
	r = 0;
out:
	/* Freeing the context wipes its key schedule. */
	EVP_CIPHER_CTX_free(ctx);
	secmem_free(key);
	return r;
}

int
keys_unseal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
            const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *key = NULL, tag[SEAL_TAG_LEN];
	const uint8_t *nonce, *ct;
	size_t ctlen = 0;
	int n = 0, fin = 0, r = INK_ERR_INTERNAL;

	*outlen = 0;
	if (k == NULL || !purpose_valid(purpose) || (aad == NULL && aadlen > 0) || in == NULL ||
	    out == NULL)
		return INK_ERR_INVALID;
	if (aadlen > INT_MAX || inlen > INT_MAX)
		return INK_ERR_TOO_LARGE;
	/* A short blob or an unknown version cannot be authentic: same answer as a bad tag. */
	if (inlen < KEYS_SEAL_OVERHEAD || in[0] != SEAL_VERSION)
		return INK_ERR_CRYPTO;
	nonce = in + 1;
	ct = in + 1 + SEAL_NONCE_LEN;
	ctlen = inlen - KEYS_SEAL_OVERHEAD;
	memcpy(tag, ct + ctlen, SEAL_TAG_LEN);
	if ((key = secmem_alloc(SEAL_KEY_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = derive_key(k, purpose, key)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1)
		goto out;
	if ((r = put_aad(ctx, purpose, aad, aadlen)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (ctlen > 0 && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SEAL_TAG_LEN, tag) != 1)
		goto out;
	/* The tag is checked here: until then out holds unauthenticated plaintext. */
	if (EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1 || (size_t)n + (size_t)fin != ctlen)
		goto out;
	*outlen = ctlen;
	r = 0;
out:
	if (r != 0)
		OPENSSL_cleanse(out, ctlen);
	EVP_CIPHER_CTX_free(ctx);
	secmem_free(key);
	return r;
}
