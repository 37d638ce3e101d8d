/* shamir: the master key split into K-of-N shares (Shamir over GF(2^8)) for dual control of
 * its backup, and joined again on a new machine. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_PREFIX "inkan1"
#define KCV_LEN 8

static uint8_t
gf_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;
	int i;

	/* Constant time: no branch on secret data. */
	for (i = 0; i < 8; i++) {
		p ^= (uint8_t)(-(b & 1) & a);
		a = (uint8_t)((a << 1) ^ (-(a >> 7) & 0x1b));
		b >>= 1;
	}
	return p;
}

static uint8_t
gf_inv(uint8_t a)
{
	uint8_t r = 1;
	int i;

	/* a^254 = a^-1 in GF(2^8). */
	for (i = 0; i < 7; i++) {
		a = gf_mul(a, a);
		r = gf_mul(r, a);
	}
	return r;
}

/* Key check value: lets a join tell a right key from a wrong combination of shares. */
static int
kcv(const uint8_t *master, uint8_t out[KCV_LEN])
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = INK_ERR_CRYPTO;

	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, "inkan master kcv", 16) == 1 &&
	    EVP_DigestUpdate(ctx, master, KEYS_MASTER_LEN) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
		memcpy(out, md, KCV_LEN);
		r = 0;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

int
keys_master_split(struct keys *k, int threshold, int count, char shares[][KEYS_SHARE_MAX])
{
	uint8_t *coef = NULL, check[KCV_LEN], y[KEYS_MASTER_LEN];
	char hy[2 * KEYS_MASTER_LEN + 1], hk[2 * KCV_LEN + 1];
	int i, j, c, r;

	if (threshold < 2 || count < threshold || count > 16)
		return INK_ERR_INVALID;
	if ((r = kcv(k->master, check)) != 0)
		return r;
	hex_encode(check, KCV_LEN, hk);
	/* coef[j*32 + b]: coefficient j (1..threshold-1) of the polynomial for byte b. */
	if ((coef = secmem_alloc((size_t)threshold * KEYS_MASTER_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = ink_random(coef, (size_t)threshold * KEYS_MASTER_LEN)) != 0)
		goto out;
	for (i = 1; i <= count; i++) {
		for (c = 0; c < KEYS_MASTER_LEN; c++) {
			/* Horner: f(x) = master + a1 x + ... + a(t-1) x^(t-1). */
			uint8_t acc = 0;

			for (j = threshold - 1; j >= 1; j--)
				acc = gf_mul((uint8_t)(acc ^ coef[j * KEYS_MASTER_LEN + c]), (uint8_t)i);
			y[c] = acc ^ k->master[c];
		}
		hex_encode(y, KEYS_MASTER_LEN, hy);
		snprintf(shares[i - 1], KEYS_SHARE_MAX, "%s-%d-%d-%s-%s", SHARE_PREFIX, threshold, i, hy, hk);
	}
	r = 0;
out:
	OPENSSL_cleanse(y, sizeof(y));
	OPENSSL_cleanse(hy, sizeof(hy));
	secmem_free(coef);
	return r;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* "inkan1-T-I-<64 hex>-<16 hex>" -> threshold, index, y, kcv. */
static int
parse_share(const char *s, int *t, int *idx, uint8_t y[KEYS_MASTER_LEN], uint8_t check[KCV_LEN])
{
	char hy[2 * KEYS_MASTER_LEN + 1], hk[2 * KCV_LEN + 1], tail;
	int i, hi, lo;

	if (sscanf(s, SHARE_PREFIX "-%d-%d-%64[0-9a-f]-%16[0-9a-f]%c", t, idx, hy, hk, &tail) != 4 ||
	    strlen(hy) != 2 * KEYS_MASTER_LEN || strlen(hk) != 2 * KCV_LEN || *t < 2 || *t > 16 ||
	    *idx < 1 || *idx > 255)
		return INK_ERR_INVALID;
	for (i = 0; i < KEYS_MASTER_LEN; i++) {
		hi = hexval(hy[2 * i]);
		lo = hexval(hy[2 * i + 1]);
		y[i] = (uint8_t)(hi << 4 | lo);
	}
	for (i = 0; i < KCV_LEN; i++)
		check[i] = (uint8_t)(hexval(hk[2 * i]) << 4 | hexval(hk[2 * i + 1]));
	OPENSSL_cleanse(hy, sizeof(hy));
	return 0;
}

int
keys_master_combine(const char *const *shares, size_t n, uint8_t master[static KEYS_MASTER_LEN])
{
	uint8_t ys[16][KEYS_MASTER_LEN], check[KCV_LEN], first[KCV_LEN], got[KCV_LEN];
	int xs[16], t = 0, t0 = 0, idx;
	size_t i, j;
	int c, r = INK_ERR_INVALID;

	OPENSSL_cleanse(master, KEYS_MASTER_LEN);
	if (n < 2 || n > 16)
		return INK_ERR_INVALID;
	for (i = 0; i < n; i++) {
		if (parse_share(shares[i], &t, &idx, ys[i], check) != 0)
			goto out;
		if (i == 0) {
			t0 = t;
			memcpy(first, check, KCV_LEN);
		} else if (t != t0 || memcmp(first, check, KCV_LEN) != 0) {
			goto out;   /* shares of different splits */
		}
		for (j = 0; j < i; j++)
			if (xs[j] == idx)
				goto out;   /* the same share twice */
		xs[i] = idx;
	}
	if ((int)n < t0) {
		r = INK_ERR_AUTH;   /* not enough shares */
		goto out;
	}
	/* Lagrange interpolation at x = 0. */
	for (i = 0; i < n; i++) {
		uint8_t l = 1;

		for (j = 0; j < n; j++)
			if (j != i)
				l = gf_mul(l, gf_mul((uint8_t)xs[j], gf_inv((uint8_t)(xs[j] ^ xs[i]))));
		for (c = 0; c < KEYS_MASTER_LEN; c++)
			master[c] ^= gf_mul(l, ys[i][c]);
	}
	if ((r = kcv(master, got)) != 0)
		goto out;
	r = CRYPTO_memcmp(got, first, KCV_LEN) == 0 ? 0 : INK_ERR_AUTH;
out:
	if (r != 0)
		OPENSSL_cleanse(master, KEYS_MASTER_LEN);
	OPENSSL_cleanse(ys, sizeof(ys));
	return r;
}

int
keys_master_install(const char *dir, const uint8_t master[static KEYS_MASTER_LEN])
{
	char mpath[1024];
	uint8_t want[KEYS_KCV_LEN], have[KEYS_KCV_LEN];
	struct ksdb *db = NULL;
	struct ksdb_stmt *st = NULL;
	bool found = false;
	int r;

	if ((r = ink_path(mpath, sizeof(mpath), dir, KEYS_MASTER_FILE)) != 0)
		return r;
	if ((r = keys_master_kcv(master, want)) != 0 || (r = keys_db_connect(dir, &db)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_begin(db) != KSDB_OK)
		goto out;
	if ((r = keys_kcv_read(db, have, &found)) != 0)
		goto rollback;
	if (found && CRYPTO_memcmp(want, have, KEYS_KCV_LEN) == 0) {
		/* The key store's own master key: a node joining a shared key store (or the same
		 * key again). Only this node's copy of the key is written; the store is unchanged. */
		if ((r = ink_write_file(mpath, master, KEYS_MASTER_LEN, 0600)) != 0)
			goto rollback;
		log_info("the joined master key matches the key store's check value: installed");
		r = ksdb_exec(db, "COMMIT") == KSDB_OK ? 0 : INK_ERR_STORE;
		goto out;
	}
	r = INK_ERR_STORE;
	if (ksdb_prepare(db, "SELECT count(*) FROM credentials", &st) != KSDB_OK ||
	    ksdb_step(st) != KSDB_ROW)
		goto rollback;
	if (ksdb_column_int64(st, 0) != 0) {
		/* Replacing the key under live credentials would strand them. */
		log_error("refusing to replace the master key of a key store that holds credentials "
		          "(the joined key does not match its check value)");
		r = INK_ERR_EXISTS;
		goto rollback;
	}
	/* The audit log key stays: unusable under the joined master, so nothing is signed with a
	 * stand-in key before the backup brings the log's own (keys_restore makes a fresh one for
	 * a backup that carries no log key). */
	if (ksdb_exec(db, "DELETE FROM ca; DELETE FROM revoked; DELETE FROM crl; "
	                  "DELETE FROM master_check;") != KSDB_OK)
		goto rollback;
	ksdb_finalize(st);
	st = NULL;
	/* the store's check value is now the joined key's */
	if (ksdb_prepare(db, "INSERT INTO master_check (id, kcv) VALUES (1, ?1)", &st) != KSDB_OK ||
	    ksdb_bind_blob(st, 1, want, sizeof(want)) != KSDB_OK || ksdb_step(st) != KSDB_DONE)
		goto rollback;
	if ((r = ink_write_file(mpath, master, KEYS_MASTER_LEN, 0600)) != 0)
		goto rollback;
	r = ksdb_exec(db, "COMMIT") == KSDB_OK ? 0 : INK_ERR_STORE;
	goto out;
rollback:
	(void)ksdb_exec(db, "ROLLBACK");
out:
	ksdb_finalize(st);
	ksdb_close(db);
	return r;
}
