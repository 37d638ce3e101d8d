/* sads: the key store's table of SAD spend records (keystore-0006.sql), what lets a SAD minted
 * on one node be spent on another exactly once. The records are made and checked by inkan-sam
 * (sam/sad.c); here they are only kept, read, spent by one conditional statement and deleted.
 * What a record can and cannot give a DBA is in docs/architecture.md ("SADs across nodes"). */
#include "keys/keys.h"
#include "keys/keys_int.h"
#include "keys/ksdb_int.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SAD_INFO "inkan sad v1"
#define SAD_GRACE 60   /* an expired record is kept this long (s) for a clear "expired" */

void
keys_sad_clear(struct keys_sad *s)
{
	if (s == NULL)
		return;
	if (s->granted != NULL)
		OPENSSL_clear_free(s->granted, s->granted_len);
	if (s->lefts != NULL)
		OPENSSL_clear_free(s->lefts, s->lefts_len);
	OPENSSL_cleanse(s, sizeof(*s));
}

bool
keys_sads_shared(const struct keys *k)
{
	return k != NULL && k->db != NULL && strcmp(k->db->ops->name, "postgresql") == 0;
}

/* HKDF is fetched once: a provider lookup per SAD check would cost more than the derivation. */
static EVP_KDF *hkdf_alg;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

static void
hkdf_fetch(void)
{
	hkdf_alg = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

int
keys_sad_derive(const struct keys *k, const uint8_t sad[static 32], uint8_t seal[static 32],
                uint8_t mac[static 32])
{
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	uint8_t out[64];
	int r = INK_ERR_CRYPTO;

	if (pthread_once(&hkdf_once, hkdf_fetch) != 0 || hkdf_alg == NULL ||
	    (kctx = EVP_KDF_CTX_new(hkdf_alg)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, k->master, KEYS_MASTER_LEN);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)sad, 32);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (char *)SAD_INFO,
	                                              sizeof(SAD_INFO) - 1);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, sizeof(out), params) == 1) {
		memcpy(seal, out, 32);
		memcpy(mac, out + 32, 32);
		r = 0;
	}
out:
	EVP_KDF_CTX_free(kctx);   /* wipes its copy of the master key */
	OPENSSL_cleanse(out, sizeof(out));
	if (r != 0) {
		OPENSSL_cleanse(seal, 32);
		OPENSSL_cleanse(mac, 32);
	}
	return r;
}

/* ---- the SAD statements' own connections ----
 * A read and a spend are made per signHash, each a round trip and the spend a durable commit:
 * on k->db they would hold the SAM's lock, which every other request needs, for all of them.
 * On connections of their own (the first free one of KEYS_SAD_CONNS, each with its lock) they
 * run beside everything else, and PostgreSQL commits the spends of several requests together.
 * Every other statement of the key store stays on k->db. */
struct keys_sad_conns {
	pthread_mutex_t mu[KEYS_SAD_CONNS];
	struct ksdb *db[KEYS_SAD_CONNS];
	unsigned next;               /* where the next search starts: a hint, moved atomically */
};

int
keys_sads_open(struct keys *k)
{
	struct keys_sad_conns *c;
	size_t i;

	if (!keys_sads_shared(k) || k->sadc != NULL)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < KEYS_SAD_CONNS; i++)
		if (pthread_mutex_init(&c->mu[i], NULL) != 0) {
			while (i-- > 0)
				pthread_mutex_destroy(&c->mu[i]);
			free(c);
			return INK_ERR_ALLOC;
		}
	k->sadc = c;
	return 0;
}

void
keys_sads_close(struct keys *k)
{
	size_t i;

	if (k->sadc == NULL)
		return;
	for (i = 0; i < KEYS_SAD_CONNS; i++) {
		ksdb_close(k->sadc->db[i]);
		pthread_mutex_destroy(&k->sadc->mu[i]);
	}
	free(k->sadc);
	k->sadc = NULL;
}

/* A connection for one statement: k->db without keys_sads_open (the caller holds what guards
 * k), else a free one of the SAD connections, opened at its first use, locked until
 * conn_give. NULL when it cannot be opened (logged). */
static struct ksdb *
conn_take(struct keys *k, size_t *slot)
{
	struct keys_sad_conns *c = k->sadc;
	size_t at;

	if (c == NULL)
		return k->db;
	*slot = at = keys_pool_lock(c->mu, KEYS_SAD_CONNS, &c->next);
	if (c->db[at] == NULL && keys_db_connect(k->dir, &c->db[at]) != 0) {
		log_error("keystore: cannot open a connection for SADs");
		c->db[at] = NULL;
		pthread_mutex_unlock(&c->mu[at]);
		return NULL;
	}
	return c->db[at];
}

static void
conn_give(struct keys *k, size_t slot)
{
	if (k->sadc != NULL)
		pthread_mutex_unlock(&k->sadc->mu[slot]);
}

static int
prepare(struct ksdb *db, const char *sql, struct ksdb_stmt **st)
{
	if (ksdb_prepare(db, sql, st) != KSDB_OK) {
		log_error("keystore: %s", ksdb_errmsg(db));
		return INK_ERR_STORE;
	}
	return 0;
}

/* Steps a statement that returns no row to its end and frees it. */
static int
run(struct ksdb *db, struct ksdb_stmt *st)
{
	int r = 0;

	if (ksdb_step(st) != KSDB_DONE) {
		log_error("keystore: %s", ksdb_errmsg(db));
		r = INK_ERR_STORE;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_sad_put(struct keys *k, const struct keys_sad *s)
{
	struct ksdb_stmt *st = NULL;
	int r;

	if ((r = prepare(k->db, "DELETE FROM sads WHERE expires <= ?1", &st)) != 0)
		return r;
	ksdb_bind_int64(st, 1, ink_now() - SAD_GRACE);
	if ((r = run(k->db, st)) != 0)
		return r;
	if ((r = prepare(k->db, "INSERT INTO sads (id_hash, owner, session, cred, serial, hash_oid, "
	                    "expires, granted, sealed, mac, lefts) "
	                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", &st)) != 0)
		return r;
	if (ksdb_bind_blob(st, 1, s->id_hash, 32) != KSDB_OK ||
	    ksdb_bind_text(st, 2, s->owner, -1) != KSDB_OK ||
	    ksdb_bind_blob(st, 3, s->session, 32) != KSDB_OK ||
	    ksdb_bind_text(st, 4, s->cred, -1) != KSDB_OK ||
	    ksdb_bind_text(st, 5, s->serial, -1) != KSDB_OK ||
	    ksdb_bind_text(st, 6, s->hash_oid, -1) != KSDB_OK ||
	    ksdb_bind_int64(st, 7, s->expires) != KSDB_OK ||
	    ksdb_bind_blob(st, 8, s->granted, s->granted_len) != KSDB_OK ||
	    ksdb_bind_blob(st, 9, s->sealed, sizeof(s->sealed)) != KSDB_OK ||
	    ksdb_bind_blob(st, 10, s->mac, sizeof(s->mac)) != KSDB_OK ||
	    ksdb_bind_blob(st, 11, s->lefts, s->lefts_len) != KSDB_OK) {
		ksdb_finalize(st);
		return INK_ERR_STORE;
	}
	return run(k->db, st);
}

/* Copies a text column into out[sz]; false when it is NULL or does not fit. */
static bool
get_text(struct ksdb_stmt *st, int col, char *out, size_t sz)
{
	const char *t = ksdb_column_text(st, col);
	size_t n = ksdb_column_bytes(st, col);

	if (t == NULL || n >= sz || strlen(t) != n)
		return false;
	memcpy(out, t, n + 1);
	return true;
}

/* Copies a blob column of exactly n bytes into out. */
static bool
get_fixed(struct ksdb_stmt *st, int col, uint8_t *out, size_t n)
{
	const uint8_t *b = ksdb_column_blob(st, col);

	if (b == NULL || ksdb_column_bytes(st, col) != n)
		return false;
	memcpy(out, b, n);
	return true;
}

/* A malloc'd copy of a blob column (at least one byte). */
static bool
get_blob(struct ksdb_stmt *st, int col, uint8_t **out, size_t *n)
{
	const uint8_t *b = ksdb_column_blob(st, col);

	*n = ksdb_column_bytes(st, col);
	if (b == NULL || *n == 0 || (*out = malloc(*n)) == NULL) {
		*n = 0;
		return false;
	}
	memcpy(*out, b, *n);
	return true;
}

int
keys_sad_get(struct keys *k, const uint8_t id_hash[static 32], struct keys_sad *out)
{
	struct ksdb_stmt *st = NULL;
	struct ksdb *db;
	size_t slot = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((db = conn_take(k, &slot)) == NULL)
		return INK_ERR_STORE;
	if ((r = prepare(db, "SELECT owner, session, cred, serial, hash_oid, expires, granted, sealed, "
	                     "mac, lefts FROM sads WHERE id_hash = ?1", &st)) != 0)
		goto out;
	if (ksdb_bind_blob(st, 1, id_hash, 32) != KSDB_OK) {
		r = INK_ERR_STORE;
		goto out;
	}
	switch (ksdb_step(st)) {
	case KSDB_ROW:
		memcpy(out->id_hash, id_hash, 32);
		out->expires = ksdb_column_int64(st, 5);
		/* a column of the wrong shape is an edited row: refused as a record that is none */
		r = get_text(st, 0, out->owner, sizeof(out->owner)) &&
		    get_fixed(st, 1, out->session, sizeof(out->session)) &&
		    get_text(st, 2, out->cred, sizeof(out->cred)) &&
		    get_text(st, 3, out->serial, sizeof(out->serial)) &&
		    get_text(st, 4, out->hash_oid, sizeof(out->hash_oid)) &&
		    get_blob(st, 6, &out->granted, &out->granted_len) &&
		    get_fixed(st, 7, out->sealed, sizeof(out->sealed)) &&
		    get_fixed(st, 8, out->mac, sizeof(out->mac)) &&
		    get_blob(st, 9, &out->lefts, &out->lefts_len) ? 0 : INK_ERR_CRYPTO;
		break;
	case KSDB_DONE:
		r = INK_ERR_NOT_FOUND;
		break;
	default:
		log_error("keystore: %s", ksdb_errmsg(db));
		r = INK_ERR_STORE;
	}
out:
	ksdb_finalize(st);
	conn_give(k, slot);
	if (r != 0)
		keys_sad_clear(out);
	return r;
}

int
keys_sad_spend(struct keys *k, const uint8_t id_hash[static 32], const uint8_t *from,
               size_t from_len, const uint8_t *to, size_t to_len, bool last)
{
	struct ksdb_stmt *st = NULL;
	struct ksdb *db;
	size_t slot = 0;
	int r;

	if ((db = conn_take(k, &slot)) == NULL)
		return INK_ERR_STORE;
	/* The counts this request read are still there, or it changes nothing: of two nodes
	 * spending the same counts at once, the second finds them changed. */
	r = last ? prepare(db, "DELETE FROM sads WHERE id_hash = ?1 AND lefts = ?2", &st) :
	           prepare(db, "UPDATE sads SET lefts = ?3 WHERE id_hash = ?1 AND lefts = ?2", &st);
	if (r != 0)
		goto out;
	if (ksdb_bind_blob(st, 1, id_hash, 32) != KSDB_OK ||
	    ksdb_bind_blob(st, 2, from, from_len) != KSDB_OK ||
	    (!last && ksdb_bind_blob(st, 3, to, to_len) != KSDB_OK)) {
		r = INK_ERR_STORE;
		goto out;
	}
	if (ksdb_step(st) != KSDB_DONE) {
		log_error("keystore: %s", ksdb_errmsg(db));
		r = INK_ERR_STORE;
	} else {
		r = ksdb_changes(db) == 1 ? 0 : INK_ERR_REPLAY;
	}
out:
	ksdb_finalize(st);
	conn_give(k, slot);
	return r;
}

int
keys_sad_drop(struct keys *k, const uint8_t *id_hash, const char *cred, const char *owner,
              const uint8_t *session)
{
	struct ksdb_stmt *st = NULL;
	int r, b;

	if (id_hash != NULL)
		r = prepare(k->db, "DELETE FROM sads WHERE id_hash = ?1", &st);
	else if (cred != NULL)
		r = prepare(k->db, "DELETE FROM sads WHERE cred = ?1", &st);
	else if (owner != NULL)
		r = prepare(k->db, "DELETE FROM sads WHERE owner = ?1", &st);
	else if (session != NULL)
		r = prepare(k->db, "DELETE FROM sads WHERE session = ?1", &st);
	else
		return INK_ERR_INVALID;
	if (r != 0)
		return r;
	b = id_hash != NULL ? ksdb_bind_blob(st, 1, id_hash, 32) :
	    cred != NULL    ? ksdb_bind_text(st, 1, cred, -1) :
	    owner != NULL   ? ksdb_bind_text(st, 1, owner, -1) :
	                      ksdb_bind_blob(st, 1, session, 32);
	if (b != KSDB_OK) {
		ksdb_finalize(st);
		return INK_ERR_STORE;
	}
	return run(k->db, st);
}
