/* witness: the key store's roll-back witness, a file of the SAM's own directory outside the
 * database. A point-in-time recovery, a restore of the database from a base backup or a DBA
 * who rolls the tables back brings back old rows: a credential revoked or destroyed since is
 * `active` again with its sealed key. The witness holds the newest state of the key store this
 * node has seen or made that such a roll-back undoes — the audit log's last signed head (it
 * only grows, and every revocation or destruction makes audit records), the count of revoked
 * serials and the CRL number (both only grow) — and a key store behind it is refused, every
 * key store use of the SAM with it, until a security officer accepts it (docs/keys.md). */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

#define WITNESS_MAGIC "inkan key store witness v1"
#define WITNESS_MAX 512

struct witness {
	uint64_t size;                 /* the audit log's last signed head */
	uint8_t root[AUDIT_HASH_LEN];
	int64_t revoked;               /* rows of the revoked serials */
	int64_t crl;                   /* the CRL's number (0: none made) */
};

/* The key store's state now, as db reads it. */
static int
store_state_on(struct ksdb *db, struct witness *w)
{
	struct audit_frontier f;
	struct ksdb_stmt *st = NULL;
	int rc, r = INK_ERR_STORE;

	memset(w, 0, sizeof(*w));
	if (ksdb_prepare(db, "SELECT size, frontier FROM log_state", &st) != KSDB_OK)
		goto out;
	if ((rc = ksdb_step(st)) == KSDB_ROW) {
		w->size = (uint64_t)ksdb_column_int64(st, 0);
		if (audit_frontier_load(&f, w->size, ksdb_column_blob(st, 1),
		                        ksdb_column_bytes(st, 1)) != 0)
			goto out;
		audit_frontier_root(&f, w->root);
	} else if (rc == KSDB_DONE) {
		/* no audit log key yet: the empty tree, as its first state reads */
		if (audit_frontier_load(&f, 0, NULL, 0) != 0)
			goto out;
		audit_frontier_root(&f, w->root);
	} else
		goto out;
	ksdb_finalize(st);
	st = NULL;
	if (ksdb_prepare(db, "SELECT (SELECT count(*) FROM revoked), "
	                       "(SELECT coalesce(max(number), 0) FROM crl)", &st) != KSDB_OK ||
	    ksdb_step(st) != KSDB_ROW)
		goto out;
	w->revoked = ksdb_column_int64(st, 0);
	w->crl = ksdb_column_int64(st, 1);
	r = 0;
out:
	if (r != 0)
		log_error("key store: cannot read its state for the roll-back witness: %s",
		          ksdb_errmsg(db));
	ksdb_finalize(st);
	return r;
}

static int
store_state(struct keys *k, struct witness *w)
{
	return store_state_on(k->db, w);
}

static int
unhex(const char *hex, uint8_t *out, size_t len)
{
	int hi, lo;

	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((hi = hex_digit(hex[2 * i])) < 0 || (lo = hex_digit(hex[2 * i + 1])) < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
witness_path(const struct keys *k, char *out, size_t outsz)
{
	return ink_path(out, outsz, k->dir, KEYS_WITNESS_FILE);
}

/* INK_ERR_NOT_FOUND when there is no witness yet; INK_ERR_STORE for a damaged one. */
static int
witness_read(const struct keys *k, struct witness *w)
{
	char path[1024], text[WITNESS_MAX + 1], hex[2 * AUDIT_HASH_LEN + 2];
	unsigned long long size;
	long long revoked, crl;
	FILE *fp;
	size_t n;
	int r;

	memset(w, 0, sizeof(*w));
	if ((r = witness_path(k, path, sizeof(path))) != 0)
		return r;
	if ((fp = fopen(path, "re")) == NULL)
		return access(path, F_OK) != 0 ? INK_ERR_NOT_FOUND : INK_ERR_STORE;
	n = fread(text, 1, WITNESS_MAX, fp);
	fclose(fp);
	text[n] = '\0';
	if (sscanf(text, WITNESS_MAGIC "\nlog %llu %65s\nrevoked %lld\ncrl %lld\n", &size, hex,
	           &revoked, &crl) != 4 || unhex(hex, w->root, AUDIT_HASH_LEN) != 0 || revoked < 0 || crl < 0) {
		log_error("the key store's roll-back witness %s is damaged", path);
		return INK_ERR_STORE;
	}
	w->size = size;
	w->revoked = revoked;
	w->crl = crl;
	return 0;
}

/* Written atomically (temporary file, fsync, rename), then the directory synced. */
static int
witness_write(const struct keys *k, const struct witness *w)
{
	char path[1024], text[WITNESS_MAX], hex[2 * AUDIT_HASH_LEN + 1];
	int n, fd, r;

	if ((r = witness_path(k, path, sizeof(path))) != 0)
		return r;
	hex_encode(w->root, AUDIT_HASH_LEN, hex);
	n = snprintf(text, sizeof(text), WITNESS_MAGIC "\nlog %" PRIu64 " %s\nrevoked %" PRId64
	             "\ncrl %" PRId64 "\n", w->size, hex, w->revoked, w->crl);
	if (n < 0 || n >= (int)sizeof(text))
		return INK_ERR_INTERNAL;
	if ((r = ink_write_file(path, text, (size_t)n, 0600)) != 0) {
		log_error("cannot write the key store's roll-back witness %s", path);
		return INK_ERR_STORE;
	}
	if ((fd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return INK_ERR_STORE;
	r = fsync(fd) == 0 ? 0 : INK_ERR_STORE;
	close(fd);
	return r;
}

/* What a roll-back undoes: the store is behind the witness. */
static const char *
behind(const struct witness *db, const struct witness *w)
{
	if (db->size < w->size)
		return "its audit log head is smaller than one this node has seen";
	if (db->size == w->size && CRYPTO_memcmp(db->root, w->root, AUDIT_HASH_LEN) != 0)
		return "its audit log head has another root than this node has seen at that size";
	if (db->revoked < w->revoked)
		return "it has fewer revoked serials than this node has seen";
	if (db->crl < w->crl)
		return "its CRL number is lower than this node has seen";
	return NULL;
}

static void
refuse(struct keys *k, const char *why)
{
	__atomic_store_n(&k->rolled_back, true, __ATOMIC_RELEASE);
	k->samlog_low = 0;     /* the records it knew logged may be pending again */
	ink_alert(INK_ALERT_AUDIT, "the key store is older than this node has seen: a database "
	          "recovery or a roll-back of its tables? (%s). Every signature and authorization "
	          "is refused until a security officer re-applies the revocations and runs "
	          "inkan-sam --accept-rollback (docs/keys.md)", why);
}

/* The key store as db reads it (*now) against the witness (*w): INK_ERR_NOT_FOUND when this
 * node has none yet; INK_ERR_STORE when it is behind it or unreadable (refused). */
static int
against_witness(struct keys *k, struct ksdb *db, struct witness *now, struct witness *w)
{
	const char *why;
	int r;

	if (k->rolled_back)
		return INK_ERR_STORE;
	if ((r = store_state_on(db, now)) != 0 ||
	    (r = witness_read(k, w)) == INK_ERR_NOT_FOUND)
		return r;
	if (r != 0) {
		refuse(k, "the witness cannot be read");
		return INK_ERR_STORE;
	}
	if ((why = behind(now, w)) != NULL) {
		refuse(k, why);
		return INK_ERR_STORE;
	}
	return 0;
}

int
keys_witness_check(struct keys *k)
{
	struct witness db, w;
	unsigned gen = ksdb_generation(k->db, false);
	int r;

	if ((r = against_witness(k, k->db, &db, &w)) == INK_ERR_NOT_FOUND) {
		/* the first start of this node on the key store: what it finds is what it has seen */
		log_info("key store: roll-back witness made (audit log head of size %" PRIu64 ")",
		         db.size);
		w = db;
	} else if (r != 0) {
		return r;
	}
	/* moved on (another node signed heads, revoked): the witness follows */
	if (memcmp(&db, &w, sizeof(db)) != 0 || r == INK_ERR_NOT_FOUND) {
		if ((r = witness_write(k, &db)) != 0)
			return r;
	}
	k->witness_gen = gen;
	k->witness_seen = true;
	return 0;
}

int
keys_witness_check_on(struct keys *k, struct ksdb *db)
{
	struct witness now, w;
	int r = against_witness(k, db, &now, &w);

	/* no witness yet: the start's check on the main connection makes it */
	return r == INK_ERR_NOT_FOUND ? INK_ERR_STORE : r;
}

int
keys_witness_refused(const struct keys *k)
{
	return __atomic_load_n(&k->rolled_back, __ATOMIC_ACQUIRE) ? INK_ERR_STORE : 0;
}

int
keys_witness_gate(struct keys *k)
{
	if (k->rolled_back)
		return INK_ERR_STORE;
	if (k->witness_seen && ksdb_generation(k->db, true) == k->witness_gen)
		return 0;
	return keys_witness_check(k);
}

int
keys_witness_fresh(struct keys *k)
{
	if (k->rolled_back)
		return INK_ERR_STORE;
	return k->witness_seen && ksdb_generation(k->db, false) != k->witness_gen ?
	       keys_witness_check(k) : 0;
}

int
keys_witness_accept(struct keys *k)
{
	struct witness db, w;
	int r;

	if ((r = store_state(k, &db)) != 0)
		return r;
	if (witness_read(k, &w) == 0 && behind(&db, &w) != NULL)
		log_warn("the key store's roll-back witness is set back to the key store as it is "
		         "(audit log head of size %" PRIu64 ", was %" PRIu64 "): accepted by a "
		         "security officer", db.size, w.size);
	if ((r = witness_write(k, &db)) != 0)
		return r;
	__atomic_store_n(&k->rolled_back, false, __ATOMIC_RELEASE);
	k->witness_gen = ksdb_generation(k->db, false);
	k->witness_seen = true;
	return 0;
}
