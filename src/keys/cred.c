/* cred: signers' keys in the software backend — generated here, sealed under a key derived
 * from the master key AND Argon2id(PIN), opened for one operation, wiped after it. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <argon2.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "policy/policy.h"

#define CRED_VERSION 0x01
#define CRED_NONCE 12
#define CRED_TAG 16
#define CRED_SALT 16
#define CRED_AAD_LABEL "inkan credential v1"
#define CRED_KDF_INFO "inkan credential kek v1"
#define CRED_KEY_MAX (16 * 1024)   /* PKCS#8 of RSA-4096 is ~2.4 KB */

static int expire_sweep(struct keys *k);

static const char cred_cols[] =
    "id, owner, algo, status, pin_failures, created_at, serial, not_before, not_after, "
    "revoked_at, reason, cert, pubkey, auth_mode";

void
keys_cred_clear(struct keys_cred *c)
{
	if (c == NULL)
		return;
	free(c->cert);
	free(c->pub);
	memset(c, 0, sizeof(*c));
}

void
keys_creds_free(struct keys_cred *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++)
		keys_cred_clear(&c[i]);
	free(c);
}

_Static_assert(KEYS_PIN_MAX == POLICY_PIN_MAX, "the SAM's PIN buffers hold the longest PIN");

int
keys_pin_check_policy(const struct keys *k, const char *pin)
{
	int min = k->params.pin_min_len > 0 ? k->params.pin_min_len : POLICY_PIN_MIN_DEFAULT;
	char why[160];

	/* The SAM's own check: whatever inkand let through, a trivial PIN seals no key. */
	if (policy_check_pin(pin, (size_t)min, why, sizeof(why)) != 0) {
		log_op("new PIN refused by policy: %s", why);
		return INK_ERR_POLICY;
	}
	return 0;
}

/* ---- the key-encryption key ---- */

/* Argon2id's working memory on the stretching workers: each worker keeps one mapping from one
 * run to the next (pre-faulted, out of core dumps), instead of 64 MiB mapped, faulted in page
 * by page, zeroed by the kernel and unmapped again each run — work that two runs side by side
 * pay on the same cores and the same memory bus. The memory stays bounded by the workers'
 * count x one run's memory, the bound the SAM sets anyway. libargon2 wipes it before handing
 * it back (its free_memory clears the blocks first, under a switch of its own that is on and
 * not exported), and a run that fails is wiped here, so nothing of a PIN's stretching outlives
 * the run. */
struct arena {
	uint8_t *p;
	size_t n;
};

static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static bool arena_ready;

static void
arena_drop(void *v)
{
	struct arena *a = v;

	if (a->p != NULL)
		munmap(a->p, a->n);
	free(a);
}

static void
arena_init(void)
{
	arena_ready = pthread_key_create(&arena_key, arena_drop) == 0;
}

static int
arena_alloc(uint8_t **mem, size_t n)
{
	struct arena *a = pthread_getspecific(arena_key);
	void *p;

	*mem = NULL;
	if (a == NULL) {
		if ((a = calloc(1, sizeof(*a))) == NULL)
			return ARGON2_MEMORY_ALLOCATION_ERROR;
		if (pthread_setspecific(arena_key, a) != 0) {
			free(a);
			return ARGON2_MEMORY_ALLOCATION_ERROR;
		}
	}
	if (a->n < n) {
		if (a->p != NULL)
			munmap(a->p, a->n);
		a->p = NULL;
		a->n = 0;
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		         -1, 0);
		if (p == MAP_FAILED)
			return ARGON2_MEMORY_ALLOCATION_ERROR;
		(void)madvise(p, n, MADV_DONTDUMP);
		a->p = p;
		a->n = n;
	}
	*mem = a->p;
	return ARGON2_OK;
}

static void
arena_give_back(uint8_t *mem, size_t n)
{
	/* wiped by libargon2 already; kept for the worker's next run */
	(void)mem;
	(void)n;
}

struct stretch {
	const struct keys_kdf *cost;
	const char *pin;
	const uint8_t *salt;
	size_t saltlen;
	uint8_t *out;
	bool arena;                /* on a worker: its own kept memory */
	int r;
};

static void
stretch_run(void *arg)
{
	struct stretch *st = arg;
	argon2_context c = {
		.out = st->out, .outlen = 32, .pwd = (uint8_t *)(uintptr_t)st->pin,
		.pwdlen = (uint32_t)strlen(st->pin), .salt = (uint8_t *)(uintptr_t)st->salt,
		.saltlen = (uint32_t)st->saltlen, .t_cost = st->cost->t, .m_cost = st->cost->m_kib,
		.lanes = st->cost->p, .threads = st->cost->p, .version = ARGON2_VERSION_13,
		.allocate_cbk = arena_alloc, .free_cbk = arena_give_back, .flags = ARGON2_DEFAULT_FLAGS,
	};

	/* the same computation as argon2id_hash_raw (version 1.3, lanes = threads = p) */
	if (st->arena && pthread_once(&arena_once, arena_init) == 0 && arena_ready) {
		st->r = argon2_ctx(&c, Argon2_id);
		if (st->r != ARGON2_OK) {
			/* a run that failed half-way (a lane's thread) returns without its wipe */
			struct arena *a = pthread_getspecific(arena_key);

			if (a != NULL && a->p != NULL)
				OPENSSL_cleanse(a->p, a->n);
		}
	} else {
		st->r = argon2id_hash_raw(st->cost->t, st->cost->m_kib, st->cost->p, st->pin,
		                          strlen(st->pin), st->salt, st->saltlen, st->out, 32);
	}
	OPENSSL_cleanse(&c, sizeof(c));
}

int
keys_pin_stretch(const struct keys *k, const struct keys_kdf *cost, const char *pin,
                 const uint8_t *salt, size_t saltlen, uint8_t out[static 32])
{
	struct stretch st = { .cost = cost, .pin = pin, .salt = salt, .saltlen = saltlen, .out = out };
	bool let_go;
	int r;

	/* Other requests go on meanwhile: the wait and the run touch no key store state. */
	let_go = keys_slow_begin(k);
	/* The SAM bounds its own Argon2id runs: it does not count on inkand to. */
	if (k->params.kdf_gate != NULL && (r = ink_gate_enter(k->params.kdf_gate, "sam", false)) != 0) {
		keys_slow_end(k, let_go);
		return r;
	}
	/* on a worker of lower priority: a signature never waits a whole run for a core */
	if (k->params.kdf_pool != NULL) {
		st.arena = true;
		ink_pool_run(k->params.kdf_pool, stretch_run, &st);
	} else {
		stretch_run(&st);
	}
	if (k->params.kdf_gate != NULL)
		ink_gate_leave(k->params.kdf_gate, "sam");
	keys_slow_end(k, let_go);
	return st.r == ARGON2_OK ? 0 : INK_ERR_CRYPTO;
}

/* kek = HKDF-SHA256(ikm = master || Argon2id(PIN, salt), salt, info): neither the database
 * with the master key nor the PIN alone yields it. */
static int
derive_kek(struct keys *k, const struct keys_kdf *cost, const char *pin, const uint8_t *salt,
           size_t saltlen, uint8_t kek[static 32])
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5], *p = params;
	uint8_t *ikm = NULL;
	int r = INK_ERR_CRYPTO;

	if ((ikm = secmem_alloc(KEYS_MASTER_LEN + 32)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(ikm, k->master, KEYS_MASTER_LEN);
	if ((r = keys_pin_stretch(k, cost, pin, salt, saltlen, ikm + KEYS_MASTER_LEN)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, KEYS_MASTER_LEN + 32);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (char *)CRED_KDF_INFO,
	                                         strlen(CRED_KDF_INFO));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, kek, 32, params) != 1)
		goto out;
	r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	secmem_free(ikm);
	return r;
}

/* The cost new seals use: the configured one. */
static struct keys_kdf
current_cost(const struct keys *k)
{
	struct keys_kdf c = { k->params.argon2_m_kib, k->params.argon2_t, k->params.argon2_p };

	return c;
}

/* Associated data: the blob opens only as this credential of this owner with this algorithm.
 * EVP_CipherUpdate serves the sealing and the opening context alike. */
static int
put_aad(EVP_CIPHER_CTX *ctx, const char *id, const char *owner, const char *algo)
{
	const char *parts[] = { CRED_AAD_LABEL, id, owner, algo };
	int outl;
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(parts); i++)
		if (EVP_CipherUpdate(ctx, NULL, &outl, (const uint8_t *)parts[i],
		                     (int)strlen(parts[i]) + 1) != 1)
			return INK_ERR_CRYPTO;
	return 0;
}

/* Seals a PKCS#8 key: version || nonce || ciphertext || tag; *out malloc'd. */
static int
seal_key(const uint8_t kek[static 32], const char *id, const char *owner, const char *algo,
         const uint8_t *pt, size_t ptlen, uint8_t **out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *b = NULL;
	size_t len = 1 + CRED_NONCE + ptlen + CRED_TAG;
	int outl, r = INK_ERR_CRYPTO;

	*out = NULL;
	*outlen = 0;
	if (ptlen > CRED_KEY_MAX || (b = malloc(len)) == NULL)
		return INK_ERR_ALLOC;
	b[0] = CRED_VERSION;
	if ((r = ink_random(b + 1, CRED_NONCE)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, b + 1) != 1 ||
	    put_aad(ctx, id, owner, algo) != 0 ||
	    EVP_EncryptUpdate(ctx, b + 1 + CRED_NONCE, &outl, pt, (int)ptlen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, b + 1 + CRED_NONCE + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRED_TAG, b + 1 + CRED_NONCE + ptlen) != 1)
		goto out;
	*out = b;
	*outlen = len;
	b = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	free(b);
	return r;
}

/* Opens a sealed key into secmem *pt; INK_ERR_AUTH when the tag fails (wrong PIN, foreign
 * blob, tampering — indistinguishable by design). */
static int
open_key(const uint8_t kek[static 32], const char *id, const char *owner, const char *algo,
         const uint8_t *b, size_t len, uint8_t **pt, size_t *ptlen)
{
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t *p = NULL;
	size_t n;
	int outl, r = INK_ERR_CRYPTO;

	*pt = NULL;
	*ptlen = 0;
	if (len < 1 + CRED_NONCE + CRED_TAG || b[0] != CRED_VERSION ||
	    len - (1 + CRED_NONCE + CRED_TAG) > CRED_KEY_MAX)
		return INK_ERR_AUTH;
	n = len - (1 + CRED_NONCE + CRED_TAG);
	if ((p = secmem_alloc(n + 1)) == NULL)
		return INK_ERR_ALLOC;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, b + 1) != 1 ||
	    put_aad(ctx, id, owner, algo) != 0 ||
	    EVP_DecryptUpdate(ctx, p, &outl, b + 1 + CRED_NONCE, (int)n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRED_TAG,
	                        (void *)(b + 1 + CRED_NONCE + n)) != 1)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, p + outl, &outl) != 1) {
		r = INK_ERR_AUTH;
		goto out;
	}
	*pt = p;
	*ptlen = n;
	p = NULL;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	secmem_free(p);
	return r;
}

/* ---- key generation ---- */

struct algo_def {
	const char *name;
	enum policy_key_type type;
	int bits;
	const char *curve;
};

static const struct algo_def algos[] = {
	{ "P-256", POLICY_KEY_EC, 256, "P-256" },
	{ "P-384", POLICY_KEY_EC, 384, "P-384" },
	{ "P-521", POLICY_KEY_EC, 521, "P-521" },
	{ "RSA-2048", POLICY_KEY_RSA, 2048, NULL },
	{ "RSA-3072", POLICY_KEY_RSA, 3072, NULL },
	{ "RSA-4096", POLICY_KEY_RSA, 4096, NULL },
	{ "Ed25519", POLICY_KEY_ED25519, 256, NULL },
};

static const struct algo_def *
algo_find(const char *name)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(algos); i++)
		if (strcmp(algos[i].name, name) == 0)
			return &algos[i];
	return NULL;
}

/* A new key pair; other requests go on meanwhile (an RSA-4096 key takes seconds). */
static int
generate(const struct keys *k, const struct algo_def *a, EVP_PKEY **out)
{
	bool let_go;

	*out = NULL;
	if (a->type != POLICY_KEY_EC && a->type != POLICY_KEY_RSA && a->type != POLICY_KEY_ED25519)
		return INK_ERR_UNSUPPORTED;
	let_go = keys_slow_begin(k);
	if (a->type == POLICY_KEY_EC)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", a->curve);
	else if (a->type == POLICY_KEY_RSA)
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)a->bits);
	else
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	keys_slow_end(k, let_go);
	return *out != NULL ? 0 : INK_ERR_CRYPTO;
}

/* PKCS#8 DER of a private key into secmem. */
static int
pkcs8_der(EVP_PKEY *pkey, uint8_t **out, size_t *outlen)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *der = NULL, *s = NULL;
	int n = 0, r = INK_ERR_CRYPTO;

	*out = NULL;
	*outlen = 0;
	if ((p8 = EVP_PKEY2PKCS8(pkey)) == NULL || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0)
		goto out;
	if ((s = secmem_alloc((size_t)n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(s, der, (size_t)n);
	*out = s;
	*outlen = (size_t)n;
	r = 0;
out:
	if (der != NULL)
		OPENSSL_clear_free(der, n > 0 ? (size_t)n : 0);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return r;
}

static int
pub_der(EVP_PKEY *pkey, uint8_t **out, size_t *outlen)
{
	uint8_t *der = NULL;
	int n;

	*out = NULL;
	*outlen = 0;
	if ((n = i2d_PUBKEY(pkey, &der)) <= 0)
		return INK_ERR_CRYPTO;
	if ((*out = malloc((size_t)n)) == NULL) {
		OPENSSL_free(der);
		return INK_ERR_ALLOC;
	}
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

/* ---- rows ---- */

static int
copy_blob(struct ksdb_stmt *st, int col, uint8_t **out, size_t *outlen)
{
	const void *p = ksdb_column_blob(st, col);
	int n = ksdb_column_bytes(st, col);

	*out = NULL;
	*outlen = 0;
	if (p == NULL || n <= 0)
		return 0;
	if ((*out = malloc((size_t)n)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(*out, p, (size_t)n);
	*outlen = (size_t)n;
	return 0;
}

static void
copy_text(struct ksdb_stmt *st, int col, char *out, size_t outsz)
{
	const char *t = ksdb_column_text(st, col);

	snprintf(out, outsz, "%s", t != NULL ? t : "");
}

static int
row_to_cred(struct ksdb_stmt *st, struct keys_cred *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	copy_text(st, 0, c->id, sizeof(c->id));
	copy_text(st, 1, c->owner, sizeof(c->owner));
	copy_text(st, 2, c->algo, sizeof(c->algo));
	c->status = ksdb_column_int(st, 3);
	c->pin_failures = ksdb_column_int64(st, 4);
	c->created_at = ksdb_column_int64(st, 5);
	copy_text(st, 6, c->serial, sizeof(c->serial));
	c->not_before = ksdb_column_int64(st, 7);
	c->not_after = ksdb_column_int64(st, 8);
	c->revoked_at = ksdb_column_int64(st, 9);
	c->reason = ksdb_column_int(st, 10);
	c->auth_mode = ksdb_column_int(st, 13);
	if ((r = copy_blob(st, 11, &c->cert, &c->cert_len)) != 0 ||
	    (r = copy_blob(st, 12, &c->pub, &c->pub_len)) != 0) {
		keys_cred_clear(c);
		return r;
	}
	return 0;
}

int
keys_exec(struct keys *k, const char *sql)
{
	return ksdb_exec(k->db, sql) == KSDB_OK ? 0 : INK_ERR_STORE;
}

int
keys_begin(struct keys *k)
{
	return ksdb_begin(k->db) == KSDB_OK ? 0 : INK_ERR_STORE;
}

/* The private parts of one row, for opening the key. */
struct cred_secret {
	char id[KEYS_ID_LEN + 1];
	char owner[KEYS_ID_LEN + 1];
	char algo[KEYS_ALGO_MAX + 1];
	int status;
	int64_t not_after;
	uint8_t salt[CRED_SALT];
	uint8_t *blob;
	size_t blob_len;
	char subject_cn[257];
	char subject_serial[KEYS_ID_LEN + 1];
	bool p11;                  /* inkan p11: backend 'pkcs11' (blob wrapped by the token) */
	struct keys_kdf kdf;       /* the Argon2id cost this blob was sealed with */
};

static void
cred_secret_clear(struct cred_secret *s)
{
	free(s->blob);
	memset(s, 0, sizeof(*s));
}

/* The columns of a credential's row that opening its key needs, in secret_row's order. */
#define SECRET_COLS "id, owner, algo, status, not_after, salt, blob, subject_cn, " \
                    "subject_serial, backend, kdf_m, kdf_t, kdf_p"

/* The row st stands on (SECRET_COLS) into s. */
static int
secret_row(struct ksdb_stmt *st, struct cred_secret *s)
{
	const void *salt;
	int r;

	copy_text(st, 0, s->id, sizeof(s->id));
	copy_text(st, 1, s->owner, sizeof(s->owner));
	copy_text(st, 2, s->algo, sizeof(s->algo));
	s->status = ksdb_column_int(st, 3);
	s->not_after = ksdb_column_int64(st, 4);
	salt = ksdb_column_blob(st, 5);
	if (salt == NULL || ksdb_column_bytes(st, 5) != CRED_SALT)
		return INK_ERR_STORE;
	memcpy(s->salt, salt, CRED_SALT);
	if ((r = copy_blob(st, 6, &s->blob, &s->blob_len)) != 0)
		return r;
	copy_text(st, 7, s->subject_cn, sizeof(s->subject_cn));
	copy_text(st, 8, s->subject_serial, sizeof(s->subject_serial));
	s->p11 = ksdb_column_text(st, 9) != NULL &&
	    strcmp(ksdb_column_text(st, 9), "pkcs11") == 0;
	s->kdf.m_kib = (uint32_t)ksdb_column_int64(st, 10);
	s->kdf.t = (uint32_t)ksdb_column_int64(st, 11);
	s->kdf.p = (uint32_t)ksdb_column_int64(st, 12);
	return 0;
}

/* The credential's row, read on db with *stp (prepared at its first use: every signHash reads
 * a key; kept reset between uses). */
static int
read_secret(struct ksdb *db, struct ksdb_stmt **stp, const char *owner, const char *id,
            struct cred_secret *s)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE, rc;

	memset(s, 0, sizeof(*s));
	if (*stp == NULL &&
	    ksdb_prepare(db, "SELECT " SECRET_COLS " FROM credentials WHERE id = ?1 AND "
	                 "(CAST(?2 AS TEXT) IS NULL OR owner = ?2)", stp) != KSDB_OK) {
		ksdb_finalize(*stp);
		*stp = NULL;
		goto out;
	}
	st = *stp;
	ksdb_bind_text(st, 1, id, -1);
	if (owner != NULL)
		ksdb_bind_text(st, 2, owner, -1);
	else
		ksdb_bind_null(st, 2);
	rc = ksdb_step(st);
	if (rc == KSDB_DONE) {
		/* Another owner's credential is answered exactly like a missing one. */
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if (rc == KSDB_ROW)
		r = secret_row(st, s);
out:
	if (st != NULL)
		(void)ksdb_reset(st);
	if (r != 0)
		cred_secret_clear(s);
	return r;
}

static bool rsa2048_ok(const struct keys *k);

/* Whether a key of algo a may make alg's signatures over digests of hash_len bytes with the
 * RSASSA-PSS salt length asked for (-1: the digest length); *salt the one it will use (-1 when
 * not RSASSA-PSS). EdDSA signs messages, not digests: no hash-based signature for it here. */
static int
algo_allows(const struct keys *k, const struct policy_sig_alg *alg, const struct algo_def *a,
            size_t hash_len, long pss_salt, long *salt)
{
	*salt = -1;
	if (a == NULL || a->type != alg->key_type || alg->key_type == POLICY_KEY_ED25519 ||
	    (a->type == POLICY_KEY_RSA && a->bits == 2048 && !rsa2048_ok(k)))
		return INK_ERR_POLICY;
	if (alg->hash_oid == NULL && a->type == POLICY_KEY_RSA) {
		*salt = pss_salt < 0 ? (long)hash_len : pss_salt;
		return policy_pss_salt_ok(a->bits, hash_len, *salt) ? 0 : INK_ERR_POLICY;
	}
	return pss_salt >= 0 ? INK_ERR_POLICY : 0;
}

/* The names of the algorithms algo_allows lets make this request's signatures, comma-separated
 * ("" when none). */
static void
algos_allowed(const struct keys *k, const struct policy_sig_alg *alg, size_t hash_len,
              long pss_salt, char *out, size_t outsz)
{
	size_t i, n = 0;
	long salt;

	out[0] = '\0';
	for (i = 0; i < INK_ARRAY_LEN(algos); i++)
		if (algo_allows(k, alg, &algos[i], hash_len, pss_salt, &salt) == 0 &&
		    n + strlen(algos[i].name) + 2 <= outsz)
			n += (size_t)snprintf(out + n, outsz - n, "%s%s", n > 0 ? "," : "",
			                      algos[i].name);
}

/* read_secret for a signature, with the SAD's spend in the same statement (PostgreSQL: a
 * data-modifying WITH; keys_sad_spend's conditions, and the SAD not expired): always one row,
 * the key's columns NULL when there is no such credential, then whether the spend changed a
 * record. The spend is made only for a credential that can make these signatures as far as its
 * row tells (active, not past its end, of one of the algorithms allowed: what keys_signer_open
 * refuses after the read costs no count, as on one node). ?1 the SAD, ?2 its lefts as read,
 * ?3 the credential, ?4 KEYS_ACTIVE, ?5 now, ?6 the algorithms allowed, ?7 what the lefts
 * become. */
static int
read_secret_spend(struct ksdb *db, const char *id, const char *algos_ok,
                  const struct keys_sad_spend_req *sp, struct cred_secret *s, int *spent)
{
#define SPEND_IF "id_hash = ?1 AND lefts = ?2 AND expires > ?5 AND EXISTS (SELECT 1 FROM " \
                 "credentials c WHERE c.id = ?3 AND c.status = ?4 AND c.not_after > ?5 AND " \
                 "c.algo = ANY (string_to_array(?6, ',')))"
#define SPEND_READ " RETURNING 1) SELECT " SECRET_COLS ", (SELECT count(*) FROM sp) FROM " \
                   "(SELECT 1) AS one LEFT JOIN credentials ON credentials.id = ?3"
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	memset(s, 0, sizeof(*s));
	*spent = INK_ERR_STORE;
	if (ksdb_prepare(db, sp->last ?
	                 "WITH sp AS (DELETE FROM sads WHERE " SPEND_IF SPEND_READ :
	                 "WITH sp AS (UPDATE sads SET lefts = ?7 WHERE " SPEND_IF SPEND_READ,
	                 &st) != KSDB_OK ||
	    ksdb_bind_blob(st, 1, sp->id_hash, 32) != KSDB_OK ||
	    ksdb_bind_blob(st, 2, sp->from, sp->from_len) != KSDB_OK ||
	    ksdb_bind_text(st, 3, id, -1) != KSDB_OK ||
	    ksdb_bind_int64(st, 4, KEYS_ACTIVE) != KSDB_OK ||
	    ksdb_bind_int64(st, 5, ink_now()) != KSDB_OK ||
	    ksdb_bind_text(st, 6, algos_ok, -1) != KSDB_OK ||
	    (!sp->last && ksdb_bind_blob(st, 7, sp->to, sp->to_len) != KSDB_OK))
		goto out;
#undef SPEND_READ
#undef SPEND_IF
	if (ksdb_step(st) != KSDB_ROW) {
		log_error("keystore: cannot read a key and spend its SAD: %s", ksdb_errmsg(db));
		goto out;
	}
	*spent = ksdb_column_int64(st, 13) == 1 ? 0 : INK_ERR_REPLAY;
	r = ksdb_column_is_null(st, 0) ? INK_ERR_NOT_FOUND : secret_row(st, s);
out:
	ksdb_finalize(st);
	if (r != 0)
		cred_secret_clear(s);
	return r;
}

static int
load_secret(struct keys *k, const char *owner, const char *id, struct cred_secret *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = keys_witness_fresh(k)) != 0 || (r = read_secret(k->db, &k->st_secret, owner, id, s)) != 0)
		return r;
	/* the row may come from a connection made again meanwhile, onto a recovered database:
	 * never a key used before the roll-back witness was checked on it (witness.c) */
	if ((r = keys_witness_fresh(k)) != 0)
		cred_secret_clear(s);
	return r;
}

/* load_secret for a signature: on a reader of its own (readers.c) when there are any, read
 * again when its connection was made again during the read; with sp's spend in the same
 * statement when the SADs are shared (*spent as keys_signer_open_spend says), never read
 * again then (the spend may have been made). */
static int
load_secret_signing(struct keys *k, const char *id, struct cred_secret *s,
                    const struct policy_sig_alg *alg, size_t hash_len, long pss_salt,
                    const struct keys_sad_spend_req *sp, int *spent)
{
	struct keys_reader_use u;
	char algos_ok[128];
	int tries, r;

	if (k->readers == NULL)
		return load_secret(k, NULL, id, s);
	if (sp != NULL && keys_sads_shared(k)) {
		algos_allowed(k, alg, hash_len, pss_salt, algos_ok, sizeof(algos_ok));
		if ((r = keys_reader_take(k, &u)) != 0)
			return r;
		r = read_secret_spend(u.db, id, algos_ok, sp, s, spent);
		if (keys_reader_give(k, &u))
			return r;
		cred_secret_clear(s);
		*spent = INK_ERR_STORE;
		return INK_ERR_STORE;
	}
	for (tries = 0; tries < 3; tries++) {
		if ((r = keys_reader_take(k, &u)) != 0)
			return r;
		r = read_secret(u.db, u.st, NULL, id, s);
		if (keys_reader_give(k, &u))
			return r;
		cred_secret_clear(s);
	}
	return INK_ERR_STORE;
}

/* Counts a wrong PIN, locking the credential at the limit, in one statement whose RETURNING
 * says whether this PIN locked it: an alert, once, however many SAMs count at the same time
 * (two statements would let a second counter pass the limit between them on PostgreSQL). */
static void
count_wrong_pin(struct keys *k, const char *id)
{
	struct ksdb_stmt *st = NULL;

	if (ksdb_prepare(k->db, "UPDATE credentials SET pin_failures = pin_failures + 1, "
	                 "status = CASE WHEN pin_failures + 1 >= ?1 AND status = ?2 THEN ?3 "
	                 "ELSE status END WHERE id = ?4 RETURNING status, pin_failures",
	                 &st) != KSDB_OK) {
		log_error("cannot count a wrong PIN: %s", ksdb_errmsg(k->db));
		return;
	}
	ksdb_bind_int64(st, 1, k->params.max_pin_failures);
	ksdb_bind_int64(st, 2, KEYS_ACTIVE);
	ksdb_bind_int64(st, 3, KEYS_LOCKED);
	ksdb_bind_text(st, 4, id, -1);
	if (ksdb_step(st) != KSDB_ROW) {
		log_error("cannot count a wrong PIN: %s", ksdb_errmsg(k->db));
	} else {
		/* this PIN locked it (the count has just reached the limit) */
		bool locked_now = ksdb_column_int64(st, 0) == KEYS_LOCKED &&
		                  ksdb_column_int64(st, 1) == k->params.max_pin_failures;

		if (ksdb_step(st) != KSDB_DONE)
			log_error("cannot count a wrong PIN: %s", ksdb_errmsg(k->db));
		else if (locked_now)
			ink_alert(INK_ALERT_KEY_LOCKED, "credential %s locked after %lld wrong PINs", id,
			          (long long)k->params.max_pin_failures);
	}
	ksdb_finalize(st);
}

/* Runs an UPDATE with text/int parameters ("t" text, "i" int64, "b" blob+len, "n" null). */
static int
exec_update(struct keys *k, const char *sql, const char *types, ...)
{
	struct ksdb_stmt *st = NULL;
	va_list ap;
	int r = INK_ERR_STORE, i;

	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK) {
		log_bug("keystore statement: %s", ksdb_errmsg(k->db));
		return INK_ERR_STORE;
	}
	va_start(ap, types);
	for (i = 0; types[i] != '\0'; i++) {
		switch (types[i]) {
		case 't':
			ksdb_bind_text(st, i + 1, va_arg(ap, const char *), -1);
			break;
		case 'i':
			ksdb_bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			ksdb_bind_blob(st, i + 1, p, n);
			break;
		}
		default:
			ksdb_bind_null(st, i + 1);
			break;
		}
	}
	va_end(ap);
	if (ksdb_step(st) == KSDB_DONE)
		r = ksdb_changes(k->db) > 0 ? 0 : INK_ERR_NOT_FOUND;
	else
		log_error("keystore update: %s", ksdb_errmsg(k->db));
	ksdb_finalize(st);
	return r;
}

int
keys_cred_get(struct keys *k, const char *owner, const char *id, struct keys_cred *out)
{
	struct ksdb_stmt *st = NULL;
	char sql[512];
	int r = INK_ERR_STORE, rc;

	memset(out, 0, sizeof(*out));
	if (expire_sweep(k) != 0)
		return INK_ERR_STORE;
	snprintf(sql, sizeof(sql), "SELECT %s FROM credentials WHERE id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR owner = ?2)",
	         cred_cols);
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return INK_ERR_STORE;
	ksdb_bind_text(st, 1, id, -1);
	if (owner != NULL)
		ksdb_bind_text(st, 2, owner, -1);
	else
		ksdb_bind_null(st, 2);
	rc = ksdb_step(st);
	if (rc == KSDB_ROW)
		r = row_to_cred(st, out);
	else if (rc == KSDB_DONE)
		r = INK_ERR_NOT_FOUND;
	ksdb_finalize(st);
	return r;
}

int
keys_cred_list(struct keys *k, const char *owner, struct keys_cred **out, size_t *n)
{
	struct ksdb_stmt *st = NULL;
	struct keys_cred *v = NULL, *nv;
	size_t cnt = 0;
	char sql[512];
	int r = INK_ERR_STORE, rc;

	*out = NULL;
	*n = 0;
	if (expire_sweep(k) != 0)
		return INK_ERR_STORE;
	snprintf(sql, sizeof(sql), "SELECT %s FROM credentials WHERE (CAST(?1 AS TEXT) IS NULL OR owner = ?1) "
	         "ORDER BY created_at, id", cred_cols);
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return INK_ERR_STORE;
	if (owner != NULL)
		ksdb_bind_text(st, 1, owner, -1);
	else
		ksdb_bind_null(st, 1);
	while ((rc = ksdb_step(st)) == KSDB_ROW) {
		if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		v = nv;
		if ((r = row_to_cred(st, &v[cnt])) != 0)
			goto out;
		cnt++;
	}
	if (rc != KSDB_DONE)
		goto out;
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	r = 0;
out:
	keys_creds_free(v, cnt);
	ksdb_finalize(st);
	return r;
}

/* ---- create ---- */

/* Inserts a new row; cert may be NULL (pending, external CA). */
static int
insert_cred(struct keys *k, const char *id, const char *owner, const char *algo,
            const uint8_t *salt, const uint8_t *blob, size_t bloblen, const uint8_t *pub,
            size_t publen, const uint8_t *cert, size_t certlen, const char *serial, int64_t nb,
            int64_t na, const struct keys_subject *subj, int64_t now, const char *backend)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, "INSERT INTO credentials (id, owner, backend, algo, salt, blob, pubkey, cert, serial, "
	        "not_before, not_after, status, pin_failures, created_at, subject_cn, subject_serial, "
	        "kdf_m, kdf_t, kdf_p) "
	        "VALUES (?1, ?2, ?15, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14, ?16, ?17, ?18)", &st) != KSDB_OK)
		goto out;
	ksdb_bind_text(st, 1, id, -1);
	ksdb_bind_text(st, 2, owner, -1);
	ksdb_bind_text(st, 3, algo, -1);
	ksdb_bind_blob(st, 4, salt, CRED_SALT);
	ksdb_bind_blob(st, 5, blob, bloblen);
	ksdb_bind_blob(st, 6, pub, publen);
	if (cert != NULL) {
		ksdb_bind_blob(st, 7, cert, certlen);
		ksdb_bind_text(st, 8, serial, -1);
		ksdb_bind_int64(st, 9, nb);
		ksdb_bind_int64(st, 10, na);
	}
	ksdb_bind_int64(st, 11, cert != NULL ? KEYS_ACTIVE : KEYS_PENDING);
	ksdb_bind_int64(st, 12, now);
	ksdb_bind_text(st, 13, subj->common_name, -1);
	ksdb_bind_text(st, 14, subj->serial_number, -1);
	ksdb_bind_text(st, 15, backend, -1);
	ksdb_bind_int64(st, 16, k->params.argon2_m_kib);
	ksdb_bind_int64(st, 17, k->params.argon2_t);
	ksdb_bind_int64(st, 18, k->params.argon2_p);
	if (ksdb_step(st) != KSDB_DONE) {
		log_error("keystore insert: %s", ksdb_errmsg(k->db));
		goto out;
	}
	r = 0;
out:
	ksdb_finalize(st);
	return r;
}

/* A PKCS#10 request's signature made inside the token, by the key just made there. */
struct p11_csr {
	struct keys *k;
	const uint8_t *data;        /* the key's derivation data (KEYS_P11_DATA_LEN) */
	const uint8_t *blob;        /* the key, wrapped */
	size_t bloblen;
	enum policy_key_type type;
};

static int
p11_csr_sign(void *arg, const EVP_MD *md, const uint8_t *dg, size_t dglen, uint8_t **sig,
             size_t *siglen)
{
	const struct p11_csr *pc = arg;
	const uint8_t *digests[1] = { dg };

	return keys_p11_sign(pc->k, pc->data, pc->blob, pc->bloblen, pc->type, -1, md, digests,
	                     &dglen, 1, sig, siglen);
}

/* RSA-2048 where the assurance level still accepts it (and CRYPTREC's date: until 2030). */
static bool
rsa2048_ok(const struct keys *k)
{
	const struct policy_level *l = policy_level_of(k->params.level);

	return l != NULL && l->rsa2048 && ink_now() <= POLICY_RSA2048_LAST_UTC;
}

int
keys_cred_create(struct keys *k, const char *owner, const struct keys_subject *subj,
                 const char *algo, const char *pin, bool external_ca, struct keys_cred *out,
                 uint8_t **csr, size_t *csr_len)
{
	const struct algo_def *a;
	const char *warning = NULL;
	char why[160], id[KEYS_ID_LEN + 1], serial[41] = "";
	uint8_t rnd[16], salt[CRED_SALT], *kek = NULL, *p8 = NULL, *blob = NULL, *pub = NULL;
	uint8_t *certder = NULL;
	size_t p8len = 0, bloblen = 0, publen = 0, certlen = 0;
	EVP_PKEY *pkey = NULL;
	int64_t nb = 0, na = 0, now = ink_now();
	struct keys_kdf cost = current_cost(k);
	int r;

	memset(out, 0, sizeof(*out));
	if (csr != NULL) {
		*csr = NULL;
		*csr_len = 0;
	}
	if (owner == NULL || *owner == '\0' || strlen(owner) > KEYS_ID_LEN || subj == NULL ||
	    subj->common_name == NULL || subj->serial_number == NULL || (external_ca && csr == NULL))
		return INK_ERR_INVALID;
	if (algo == NULL || *algo == '\0')
		algo = POLICY_DEFAULT_CURVE;
	if ((a = algo_find(algo)) == NULL) {
		log_op("unknown key algorithm");
		return INK_ERR_POLICY;
	}
	if (policy_check_key(a->type, a->bits, a->curve, now, &warning, why, sizeof(why)) != 0) {
		log_op("key refused by policy: %s", why);
		return INK_ERR_POLICY;
	}
	if (a->type == POLICY_KEY_RSA && a->bits == 2048 && !rsa2048_ok(k)) {
		log_op("RSA-2048 refused at assurance level %d", k->params.level);
		return INK_ERR_POLICY;
	}
	if (warning != NULL)
		log_warn("%s", warning);
	if ((r = keys_pin_check_policy(k, pin)) != 0)
		return r;
	if ((r = ink_random(rnd, sizeof(rnd))) != 0 || (r = ink_random(salt, sizeof(salt))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), id);
	if ((kek = secmem_alloc(32)) == NULL)
		return INK_ERR_ALLOC;
	if (k->p11 != NULL) {
		/* inkan p11: made in the token, leaves it only wrapped; pkey is the public key (a
		 * PKCS#10 request is signed inside the token: p11_csr_sign). */
		if ((r = keys_p11_derive_data(k, &cost, pin, salt, sizeof(salt), id, owner, a->name, kek)) != 0 ||
		    (r = keys_p11_generate(k, a->type, a->bits, a->curve, kek, &pkey, &blob, &bloblen)) != 0 ||
		    (r = pub_der(pkey, &pub, &publen)) != 0)
			goto out;
	} else if ((r = derive_kek(k, &cost, pin, salt, sizeof(salt), kek)) != 0 ||
	    (r = generate(k, a, &pkey)) != 0 || (r = pkcs8_der(pkey, &p8, &p8len)) != 0 ||
	    (r = seal_key(kek, id, owner, a->name, p8, p8len, &blob, &bloblen)) != 0 ||
	    (r = pub_der(pkey, &pub, &publen)) != 0)
		goto out;
	if (external_ca) {
		struct p11_csr pc = { k, kek, blob, bloblen, a->type };
		struct ca_signer in_token = { p11_csr_sign, &pc };

		r = keys_ca_csr(k, pkey, subj, k->p11 != NULL ? &in_token : NULL, csr, csr_len);
	} else
		r = keys_ca_issue(k, pkey, subj, &certder, &certlen, serial, &nb, &na);
	if (r != 0)
		goto out;
	if ((r = insert_cred(k, id, owner, a->name, salt, blob, bloblen, pub, publen, certder,
	                     certlen, serial, nb, na, subj, now,
	                     k->p11 != NULL ? "pkcs11" : "soft")) != 0)
		goto out;
	r = keys_cred_get(k, owner, id, out);
out:
	if (r != 0 && csr != NULL) {
		free(*csr);
		*csr = NULL;
		*csr_len = 0;
	}
	secmem_free(kek);
	secmem_free(p8);
	free(blob);
	free(pub);
	free(certder);
	EVP_PKEY_free(pkey);
	return r;
}

/* ---- use ---- */

/* Destroys the keys of credentials whose certificate has expired (10.1.2: destroyed at expiry).
 * Before every PIN check: the live credentials are found by the index of keystore-0007.sql
 * (KEYS_EXPIRE_SWEEP_SQL). */
_Static_assert(KEYS_ACTIVE == 1 && KEYS_LOCKED == 2, "keystore-0007.sql's index names 1 and 2");

static int
expire_sweep(struct keys *k)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, KEYS_EXPIRE_SWEEP_SQL, &st) != KSDB_OK)
		return INK_ERR_STORE;
	ksdb_bind_int64(st, 1, KEYS_DESTROYED);
	ksdb_bind_int64(st, 2, ink_now());
	if (ksdb_step(st) == KSDB_DONE) {
		if (ksdb_changes(k->db) > 0) {
			log_info("destroyed %lld key(s) whose certificate expired",
			         (long long)ksdb_changes(k->db));
			ksdb_finalize(st);
			keys_scrub(k);
			return 0;
		}
		r = 0;
	}
	ksdb_finalize(st);
	return r;
}

/* Maps a credential's status to the refusal of any use. */
static int
usable(const struct cred_secret *s)
{
	switch (s->status) {
	case KEYS_ACTIVE:
		return s->not_after > ink_now() ? 0 : INK_ERR_EXPIRED;
	case KEYS_LOCKED:
		return INK_ERR_LOCKED;
	case KEYS_PENDING:
		return INK_ERR_POLICY;   /* not usable before its certificate is linked */
	default:
		return INK_ERR_DISABLED; /* revoked or destroyed */
	}
}

/* inkan p11: the key type of a token-wrapped credential; INK_ERR_CONFIG without a token. */
static int
p11_type(struct keys *k, const char *algo)
{
	const struct algo_def *a = algo_find(algo);

	if (k->p11 == NULL) {
		log_error("credential made in a PKCS#11 token, but key_backend is not pkcs11");
		return INK_ERR_CONFIG;
	}
	return a != NULL ? (int)a->type : INK_ERR_INTERNAL;
}

/* Derives the kek from pin and opens the blob; counts a wrong PIN, locking at the limit. */
static int
open_with_pin(struct keys *k, struct cred_secret *s, const char *pin, uint8_t kek[static 32],
              uint8_t **p8, size_t *p8len)
{
	int r;

	*p8 = NULL;
	*p8len = 0;
	if (s->blob == NULL)
		return INK_ERR_DISABLED;
	if (s->p11) {
		/* inkan p11: kek is the derivation data; the token's unwrap checks the PIN. */
		if ((r = p11_type(k, s->algo)) < 0 ||
		    (r = keys_p11_derive_data(k, &s->kdf, pin, s->salt, sizeof(s->salt), s->id, s->owner,
		                              s->algo, kek)) != 0)
			return r;
		r = keys_p11_check(k, kek, s->blob, s->blob_len, p11_type(k, s->algo));
	} else {
		if ((r = derive_kek(k, &s->kdf, pin, s->salt, sizeof(s->salt), kek)) != 0)
			return r;
		r = open_key(kek, s->id, s->owner, s->algo, s->blob, s->blob_len, p8, p8len);
	}
	if (r == INK_ERR_AUTH) {
		OPENSSL_cleanse(kek, 32);
		count_wrong_pin(k, s->id);
		return INK_ERR_AUTH;
	}
	if (r != 0)
		return r;
	/* no write (no commit to wait for) when there was no wrong PIN to forget: no row
	 * changed is then no error */
	r = exec_update(k, "UPDATE credentials SET pin_failures = 0 WHERE id = ?1 AND pin_failures <> 0",
	                "t", s->id);
	return r == INK_ERR_NOT_FOUND ? 0 : r;
}

int
keys_cred_open(struct keys *k, const char *owner, const char *id, const char *pin,
               uint8_t kek[static 32])
{
	struct cred_secret s;
	uint8_t *p8 = NULL;
	size_t p8len = 0;
	int r;

	OPENSSL_cleanse(kek, 32);
	if (owner == NULL || id == NULL || pin == NULL)
		return INK_ERR_INVALID;
	if ((r = expire_sweep(k)) != 0 || (r = load_secret(k, owner, id, &s)) != 0)
		return r;
	if ((r = usable(&s)) == 0)
		r = open_with_pin(k, &s, pin, kek, &p8, &p8len);
	secmem_free(p8);
	cred_secret_clear(&s);
	if (r != 0)
		OPENSSL_cleanse(kek, 32);
	return r;
}

/* A signing context on pkey for alg with md, made once per slice of a batch. */
static EVP_PKEY_CTX *
sign_ctx(EVP_PKEY *pkey, const struct policy_sig_alg *alg, const EVP_MD *md, long pss_salt)
{
	EVP_PKEY_CTX *ctx = NULL;

	if ((ctx = EVP_PKEY_CTX_new(pkey, NULL)) == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1)
		goto fail;
	if (alg->key_type == POLICY_KEY_RSA) {
		if (alg->hash_oid == NULL) {
			if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
			    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1 ||
			    pss_salt < 0 || pss_salt > INT_MAX ||
			    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)pss_salt) != 1)
				goto fail;
		} else if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) {
			goto fail;
		}
	}
	return ctx;
fail:
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

/* Signs one digest with a context from sign_ctx() (reusable: each ECDSA signature draws its
 * own nonce); max is the key's largest signature (EVP_PKEY_get_size). */
static int
sign_one(EVP_PKEY_CTX *ctx, size_t max, const uint8_t *dg, size_t dglen, uint8_t **sig,
         size_t *siglen)
{
	uint8_t *out = NULL;
	size_t outlen = max;

	*sig = NULL;
	*siglen = 0;
	if (max == 0 || (out = malloc(max)) == NULL)
		goto fail;
	if (EVP_PKEY_sign(ctx, out, &outlen, dg, dglen) != 1)
		goto fail;
	*sig = out;
	*siglen = outlen;
	return 0;
fail:
	free(out);
	return INK_ERR_CRYPTO;
}

/* One slice of a batch, signed by one thread. */
struct sign_slice {
	EVP_PKEY *pkey;
	const struct policy_sig_alg *alg;
	const EVP_MD *md;
	long pss_salt;
	const uint8_t *const *digests;
	const size_t *digest_lens;
	uint8_t **sigs;
	size_t *sig_lens;
	size_t from, to;
	int r;
};

static void *
sign_slice_main(void *arg)
{
	struct sign_slice *sl = arg;
	EVP_PKEY_CTX *ctx = sign_ctx(sl->pkey, sl->alg, sl->md, sl->pss_salt);
	int max = EVP_PKEY_get_size(sl->pkey);
	size_t i;

	sl->r = ctx != NULL && max > 0 ? 0 : INK_ERR_CRYPTO;
	for (i = sl->from; i < sl->to && sl->r == 0; i++)
		sl->r = sign_one(ctx, (size_t)max, sl->digests[i], sl->digest_lens[i], &sl->sigs[i],
		                 &sl->sig_lens[i]);
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

#define SIGN_THREADS_MAX 16
#define SIGN_PER_THREAD_MIN 4

/* Signs a batch; large batches are spread over up to `threads` threads (0: the machine's
 * cores; each thread with its own context on the same key), so one authorization of many
 * hashes runs at the hardware's pace when it has the machine to itself. */
static int
sign_batch(EVP_PKEY *pkey, const struct policy_sig_alg *alg, const EVP_MD *md, long pss_salt,
           const uint8_t *const *digests, const size_t *digest_lens, size_t n, size_t threads,
           uint8_t **sigs, size_t *sig_lens)
{
	struct sign_slice sl[SIGN_THREADS_MAX];
	pthread_t th[SIGN_THREADS_MAX];
	bool started[SIGN_THREADS_MAX] = { false };
	long cores;
	size_t nt, t, per;
	int r = 0;

	/* (sysconf reads a file under /sys each time: not asked when the caller knows) */
	if ((nt = threads) == 0)
		nt = (cores = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ? (size_t)cores : 1;
	if (nt > SIGN_THREADS_MAX)
		nt = SIGN_THREADS_MAX;
	if (nt > n / SIGN_PER_THREAD_MIN)
		nt = n / SIGN_PER_THREAD_MIN;
	if (nt < 2) {
		struct sign_slice one = { pkey, alg, md, pss_salt, digests, digest_lens, sigs, sig_lens,
		                          0, n, 0 };

		(void)sign_slice_main(&one);
		return one.r;
	}
	per = (n + nt - 1) / nt;
	for (t = 0; t < nt; t++) {
		sl[t] = (struct sign_slice){ pkey, alg, md, pss_salt, digests, digest_lens, sigs, sig_lens,
		                             t * per, (t + 1) * per < n ? (t + 1) * per : n, 0 };
		/* The calling thread signs the last slice itself. */
		if (t + 1 < nt && pthread_create(&th[t], NULL, sign_slice_main, &sl[t]) == 0)
			started[t] = true;
		else
			(void)sign_slice_main(&sl[t]);
	}
	for (t = 0; t < nt; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		if (sl[t].r != 0 && r == 0)
			r = sl[t].r;
	}
	return r;
}

/* A credential opened for one signing request (keys_signer_open). */
struct keys_signer {
	const struct policy_sig_alg *alg;
	const EVP_MD *md;
	size_t digest_len;
	long pss_salt;             /* RSASSA-PSS salt length; -1 for the other algorithms */
	EVP_PKEY *pkey;            /* software key, decoded for this request */
	/* inkan p11: the token unwraps, signs and destroys inside sign(). */
	struct keys *k;
	struct cred_secret s;
	enum policy_key_type type;
	uint8_t *kek;              /* secmem */
	bool p11;
};

int
keys_signer_open(struct keys *k, const char *id, const uint8_t kek[static 32],
                 const char *sig_alg, const char *hash_oid, long pss_salt, const size_t *digest_lens,
                 size_t n, struct keys_signer **out)
{
	int spent;

	return keys_signer_open_spend(k, id, kek, sig_alg, hash_oid, pss_salt, digest_lens, n, NULL,
	                              &spent, out);
}

int
keys_signer_open_spend(struct keys *k, const char *id, const uint8_t kek[static 32],
                       const char *sig_alg, const char *hash_oid, long pss_salt,
                       const size_t *digest_lens, size_t n,
                       const struct keys_sad_spend_req *spend, int *spent,
                       struct keys_signer **out)
{
	static const int kinds[] = {
		[POLICY_KEY_EC] = KEYS_DEC_EC, [POLICY_KEY_RSA] = KEYS_DEC_RSA,
		[POLICY_KEY_ED25519] = KEYS_DEC_ED25519,
	};
	const struct policy_hash_alg *h;
	const struct algo_def *a;
	struct keys_signer *sg = NULL;
	uint8_t *p8 = NULL;
	size_t p8len = 0, i;
	int r;

	*out = NULL;
	*spent = KEYS_SPEND_NOT_TRIED;
	if ((sg = calloc(1, sizeof(*sg))) == NULL)
		return INK_ERR_ALLOC;
	sg->k = k;
	if ((sg->alg = policy_sig_alg_by_oid(sig_alg)) == NULL) {
		r = INK_ERR_POLICY;
		goto out;
	}
	/* The digest algorithm is the one the signature algorithm names, or (RSASSA-PSS) given. */
	if (sg->alg->hash_oid != NULL)
		hash_oid = sg->alg->hash_oid;
	if (hash_oid == NULL || (h = policy_hash_by_oid(hash_oid)) == NULL ||
	    (sg->md = EVP_get_digestbyname(h->name)) == NULL) {
		r = INK_ERR_POLICY;
		goto out;
	}
	sg->digest_len = h->len;
	for (i = 0; i < n; i++) {
		if (digest_lens[i] != h->len) {
			r = INK_ERR_INVALID;
			goto out;
		}
	}
	if ((r = load_secret_signing(k, id, &sg->s, sg->alg, h->len, pss_salt, spend, spent)) != 0 ||
	    (r = usable(&sg->s)) != 0 ||
	    (r = algo_allows(k, sg->alg, a = algo_find(sg->s.algo), h->len, pss_salt,
	                     &sg->pss_salt)) != 0)
		goto out;
	sg->type = a->type;
	if (sg->s.p11) {
		sg->p11 = true;
		if ((r = p11_type(k, sg->s.algo)) < 0)
			goto out;
		if ((sg->kek = secmem_alloc(32)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		memcpy(sg->kek, kek, 32);
		r = 0;
		goto out;
	}
	if ((r = open_key(kek, sg->s.id, sg->s.owner, sg->s.algo, sg->s.blob, sg->s.blob_len, &p8,
	                  &p8len)) != 0)
		goto out;
	r = keys_decode_private(k, (size_t)a->type < INK_ARRAY_LEN(kinds) ? kinds[a->type] :
	                        KEYS_DEC_ANY, p8, p8len, &sg->pkey);
out:
	secmem_free(p8);
	if (r != 0) {
		keys_signer_free(sg);
		return r;
	}
	*out = sg;
	return 0;
}

bool
keys_signer_shared(const struct keys_signer *sg)
{
	return sg->p11;
}

int
keys_signer_sign(struct keys_signer *sg, const uint8_t *const *digests,
                 const size_t *digest_lens, size_t n, size_t threads, uint8_t **sigs,
                 size_t *sig_lens)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sigs[i] = NULL;
		sig_lens[i] = 0;
	}
	for (i = 0; i < n; i++)
		if (digest_lens[i] != sg->digest_len)
			return INK_ERR_INVALID;
	if (sg->p11)
		r = keys_p11_sign(sg->k, sg->kek, sg->s.blob, sg->s.blob_len, sg->type, sg->pss_salt,
		                  sg->md, digests, digest_lens, n, sigs, sig_lens);
	else
		r = sign_batch(sg->pkey, sg->alg, sg->md, sg->pss_salt, digests, digest_lens, n, threads,
		               sigs, sig_lens);
	if (r != 0) {
		for (i = 0; i < n; i++) {
			free(sigs[i]);
			sigs[i] = NULL;
			sig_lens[i] = 0;
		}
	}
	return r;
}

void
keys_signer_free(struct keys_signer *sg)
{
	if (sg == NULL)
		return;
	EVP_PKEY_free(sg->pkey);
	secmem_free(sg->kek);
	cred_secret_clear(&sg->s);
	free(sg);
}

int
keys_cred_sign(struct keys *k, const char *id, const uint8_t kek[static 32], const char *sig_alg,
               const char *hash_oid, const uint8_t *const *digests, const size_t *digest_lens,
               size_t n, uint8_t **sigs, size_t *sig_lens)
{
	struct keys_signer *sg = NULL;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sigs[i] = NULL;
		sig_lens[i] = 0;
	}
	if ((r = keys_signer_open(k, id, kek, sig_alg, hash_oid, -1, digest_lens, n, &sg)) != 0)
		return r;
	r = keys_signer_sign(sg, digests, digest_lens, n, 0, sigs, sig_lens);
	keys_signer_free(sg);
	return r;
}

/* ---- lifecycle ---- */

int
keys_cred_set_auth_mode(struct keys *k, const char *owner, const char *id, int mode)
{
	if (owner == NULL || id == NULL || (mode != KEYS_AUTH_SERVICE && mode != KEYS_AUTH_OAUTH_ONLY))
		return INK_ERR_INVALID;
	return exec_update(k, "UPDATE credentials SET auth_mode = ?1 WHERE id = ?2 AND owner = ?3",
	                   "itt", (int64_t)mode, id, owner);
}

int
keys_cred_change_pin(struct keys *k, const char *owner, const char *id, const char *old_pin,
                     const char *new_pin)
{
	struct cred_secret s;
	uint8_t *kek = NULL, *p8 = NULL, *blob = NULL, salt[CRED_SALT], *kek2 = NULL;
	size_t p8len = 0, bloblen = 0;
	struct keys_kdf cost = current_cost(k);
	int r;

	if (owner == NULL || id == NULL || old_pin == NULL)
		return INK_ERR_INVALID;
	if ((r = keys_pin_check_policy(k, new_pin)) != 0)
		return r;
	if ((r = load_secret(k, owner, id, &s)) != 0)
		return r;
	if ((kek = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = usable(&s)) != 0 || (r = open_with_pin(k, &s, old_pin, kek, &p8, &p8len)) != 0)
		goto out;
	if (s.p11) {
		/* inkan p11: unwrap under the old PIN's derivation, wrap under the new, in the token. */
		if ((kek2 = secmem_alloc(32)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		if ((r = ink_random(salt, sizeof(salt))) != 0 ||
		    (r = keys_p11_derive_data(k, &cost, new_pin, salt, sizeof(salt), s.id, s.owner,
		                              s.algo, kek2)) != 0 ||
		    (r = keys_p11_rewrap(k, p11_type(k, s.algo), kek, kek2, s.blob, s.blob_len, &blob,
		                         &bloblen)) != 0)
			goto out;
	} else if ((r = ink_random(salt, sizeof(salt))) != 0 ||
	    (r = derive_kek(k, &cost, new_pin, salt, sizeof(salt), kek)) != 0 ||
	    (r = seal_key(kek, s.id, s.owner, s.algo, p8, p8len, &blob, &bloblen)) != 0)
		goto out;
	/* Re-sealed at today's cost: the stored cost moves with it. Only over the blob that was
	 * opened, of a key still usable: the lock was let go while the PINs were stretched, and an
	 * expiry may have destroyed the key meanwhile. */
	r = exec_update(k, "UPDATE credentials SET salt = ?1, blob = ?2, kdf_m = ?3, kdf_t = ?4, "
	                "kdf_p = ?5 WHERE id = ?6 AND status = ?7 AND salt = ?8 AND blob IS NOT NULL",
	                "bbiiitib", salt, sizeof(salt), blob, bloblen, (int64_t)cost.m_kib,
	                (int64_t)cost.t, (int64_t)cost.p, s.id, (int64_t)KEYS_ACTIVE, s.salt,
	                sizeof(s.salt));
	if (r == INK_ERR_NOT_FOUND)
		r = INK_ERR_DISABLED;
	if (r == 0)
		keys_scrub(k);   /* the blob sealed under the old PIN */
out:
	free(blob);
	secmem_free(p8);
	secmem_free(kek);
	secmem_free(kek2);
	cred_secret_clear(&s);
	return r;
}

/* Revokes (if it has a certificate) and destroys one credential, inside the caller's
 * transaction. */
static int
revoke_locked(struct keys *k, const char *id, int reason)
{
	struct keys_cred c;
	int64_t now = ink_now();
	int r;

	if ((r = keys_cred_get(k, NULL, id, &c)) != 0)
		return r;
	if (c.status == KEYS_REVOKED || c.status == KEYS_DESTROYED) {
		r = INK_ERR_DISABLED;
		goto out;
	}
	if (c.serial[0] != '\0' && (r = keys_ca_revoke(k, c.serial, reason, now)) != 0)
		goto out;
	r = exec_update(k, "UPDATE credentials SET blob = NULL, status = ?1, revoked_at = ?2, "
	                "reason = ?3 WHERE id = ?4", "iiit",
	                (int64_t)(c.serial[0] != '\0' ? KEYS_REVOKED : KEYS_DESTROYED), now,
	                (int64_t)reason, id);
out:
	keys_cred_clear(&c);
	return r;
}

/* keys_begin .. COMMIT around fn; rolls back on failure. */
static int
in_transaction(struct keys *k, int r_of_body)
{
	int r;

	if (r_of_body == 0) {
		/* a revocation is the newest state this node has seen: its roll-back witness
		 * follows at once, or a recovery to just before it would go unseen (witness.c) */
		if ((r = keys_exec(k, "COMMIT")) == 0 && keys_witness_check(k) != 0)
			log_error("the key store changed but its roll-back witness is not written");
		if (r == 0)
			keys_scrub(k);   /* the destroyed keys' old pages */
		return r;
	}
	(void)keys_exec(k, "ROLLBACK");
	return r_of_body;
}

int
keys_cred_revoke(struct keys *k, const char *owner, const char *id, int reason)
{
	struct keys_cred c;
	int r;

	if (id == NULL || reason < 0 || reason > 10 || reason == 7)
		return INK_ERR_INVALID;
	/* Ownership first: another owner's credential does not exist for this caller. */
	if ((r = keys_cred_get(k, owner, id, &c)) != 0)
		return r;
	keys_cred_clear(&c);
	if ((r = keys_begin(k)) != 0)
		return r;
	return in_transaction(k, revoke_locked(k, id, reason));
}

int
keys_cred_renew(struct keys *k, const char *owner, const char *id, const char *pin,
                const struct keys_subject *subj, struct keys_cred *out)
{
	struct cred_secret s;
	uint8_t *kek = NULL, *p8 = NULL;
	size_t p8len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (owner == NULL || id == NULL || pin == NULL)
		return INK_ERR_INVALID;
	if ((r = load_secret(k, owner, id, &s)) != 0)
		return r;
	if ((kek = secmem_alloc(32)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	/* The PIN proves the signer holds the old key; the new key is sealed under it too. An
	 * expired credential may be renewed: its blob is gone, so the PIN cannot be checked —
	 * such a signer creates a new credential instead. */
	if (s.status != KEYS_ACTIVE) {
		r = usable(&s);
		goto out;
	}
	if ((r = open_with_pin(k, &s, pin, kek, &p8, &p8len)) != 0)
		goto out;
	if ((r = keys_cred_create(k, owner, subj, s.algo, pin, false, out, NULL, NULL)) != 0)
		goto out;
	if ((r = keys_begin(k)) != 0 ||
	    (r = in_transaction(k, revoke_locked(k, id, 4 /* superseded */))) != 0) {
		/* Never two live keys: the new one goes if the old one cannot. */
		log_error("renewal: the old credential could not be revoked; the new one is destroyed");
		if (keys_begin(k) != 0 ||
		    in_transaction(k, revoke_locked(k, out->id, 4)) != 0)
			log_bug("renewal: could not destroy the new credential %s either", out->id);
		goto out;
	}
out:
	if (r != 0)
		keys_cred_clear(out);
	secmem_free(p8);
	secmem_free(kek);
	cred_secret_clear(&s);
	return r;
}

int
keys_cred_destroy_owner(struct keys *k, const char *owner, size_t *count)
{
	struct keys_cred *v = NULL;
	size_t n = 0, i;
	int r;

	*count = 0;
	if (owner == NULL)
		return INK_ERR_INVALID;
	if ((r = keys_cred_list(k, owner, &v, &n)) != 0)
		return r;
	if ((r = keys_begin(k)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (v[i].status == KEYS_REVOKED || v[i].status == KEYS_DESTROYED)
			continue;
		if ((r = revoke_locked(k, v[i].id, 5 /* cessationOfOperation */)) != 0)
			break;
		(*count)++;
	}
	r = in_transaction(k, r);
	if (r != 0)
		*count = 0;
out:
	keys_creds_free(v, n);
	return r;
}

int
keys_cred_unlock(struct keys *k, const char *id)
{
	if (id == NULL)
		return INK_ERR_INVALID;
	return exec_update(k, "UPDATE credentials SET status = ?1, pin_failures = 0 WHERE id = ?2 "
	                   "AND status = ?3", "iti", (int64_t)KEYS_ACTIVE, id, (int64_t)KEYS_LOCKED);
}

int
keys_cred_import_cert(struct keys *k, const char *owner, const char *id, const uint8_t *der,
                      size_t len, struct keys_cred *out)
{
	struct keys_cred c;
	EVP_PKEY *pub = NULL;
	const uint8_t *pp;
	char serial[41];
	int64_t nb = 0, na = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = keys_cred_get(k, owner, id, &c)) != 0)
		return r;
	if (c.status != KEYS_PENDING) {
		r = INK_ERR_EXISTS;   /* one key, one certificate */
		goto out;
	}
	pp = c.pub;
	if ((pub = d2i_PUBKEY(NULL, &pp, (long)c.pub_len)) == NULL) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	if ((r = keys_extcert_check(k, id, der, len, pub, serial, &nb, &na)) != 0)
		goto out;
	if ((r = exec_update(k, "UPDATE credentials SET cert = ?1, serial = ?2, not_before = ?3, "
	                     "not_after = ?4, status = ?5 WHERE id = ?6 AND status = ?7", "btiiiti",
	                     der, len, serial, nb, na, (int64_t)KEYS_ACTIVE, id,
	                     (int64_t)KEYS_PENDING)) != 0)
		goto out;
	r = keys_cred_get(k, owner, id, out);
out:
	EVP_PKEY_free(pub);
	keys_cred_clear(&c);
	return r;
}
