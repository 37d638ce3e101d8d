/* test_keys: key store directory creation, master key file checks, sealing and its bindings.
 * Run twice by ctest: on the SQLite file (unit/test_keys) and on PostgreSQL (unit/test_keys_pg,
 * see pg_mode), the same tests against the other driver of src/keys/ksdb.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <p11-kit/pkcs11.h>

#include <openssl/bn.h>
#include <openssl/ocsp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sqlite3.h>
#include <libpq-fe.h>

#include "keys/keys.h"
#include "store/store.h"
#include "audit/audit.h"
#include "ca/ca.h"
#include "keys/keys_int.h"   /* the PKCS#11 test hook */
#include "ks_pg.h"

/* The Argon2id cost the tests configure (open_store, the PKCS#11 group). */
static const struct keys_kdf test_cost = { 8192, 1, 1 };

struct fixture {
	char root[64];
	char dir[128];
	char master[192];
	char db[192];
	bool have_p11;      /* PKCS#11 group: SoftHSM2 installed and a token initialised */
	char pgdb[64];      /* PostgreSQL mode: this test's database */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/inkan-test-keys.XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/keys", f->root);
	snprintf(f->master, sizeof(f->master), "%s/master.key", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/keystore.db", f->dir);
	*state = f;
	if (pg_mode())
		pg_keystore(f->dir, "ks", f->pgdb, sizeof(f->pgdb));
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static unsigned
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (unsigned)(st.st_mode & 07777);
}

static void
test_init_modes(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct stat st;
	uint8_t before[KEYS_MASTER_LEN], after[KEYS_MASTER_LEN];
	FILE *fp;

	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->master), 0600);
	assert_int_equal(mode_of(f->db), 0600);
	assert_int_equal(stat(f->master, &st), 0);
	assert_int_equal(st.st_size, KEYS_MASTER_LEN);

	fp = fopen(f->master, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(before, 1, sizeof(before), fp), sizeof(before));
	fclose(fp);

	/* Never overwritten. */
	assert_int_equal(keys_init_dir(f->dir), INK_ERR_EXISTS);
	fp = fopen(f->master, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(after, 1, sizeof(after), fp), sizeof(after));
	fclose(fp);
	assert_memory_equal(before, after, sizeof(before));

	/* A key store left without its master key is not replaced either. */
	assert_int_equal(unlink(f->master), 0);
	assert_int_equal(keys_init_dir(f->dir), INK_ERR_EXISTS);
	assert_int_equal(access(f->master, F_OK), -1);
}

static void
test_open_checks(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = (struct keys *)1;
	FILE *fp;

	assert_int_equal(keys_open(f->dir, &k), INK_ERR_NOT_FOUND);
	assert_null(k);
	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_non_null(k);
	keys_close(k);
	keys_close(NULL);

	/* Readable by group or others: refused. */
	assert_int_equal(chmod(f->master, 0644), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_null(k);
	assert_int_equal(chmod(f->master, 0640), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(chmod(f->master, 0600), 0);
	assert_int_equal(keys_open(f->dir, &k), 0);
	keys_close(k);

	/* The key store itself must be private too. */
	assert_int_equal(chmod(f->db, 0644), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_null(k);
	assert_int_equal(chmod(f->db, 0600), 0);

	/* Wrong size. */
	fp = fopen(f->master, "ab");
	assert_non_null(fp);
	assert_int_equal(fputc('x', fp), 'x');
	fclose(fp);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_null(k);
	assert_int_equal(truncate(f->master, 16), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);

	/* A symlink is not followed, a directory is not a key. */
	assert_int_equal(unlink(f->master), 0);
	assert_int_equal(symlink("/dev/null", f->master), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(unlink(f->master), 0);
	assert_int_equal(mkdir(f->master, 0700), 0);
	assert_int_not_equal(keys_open(f->dir, &k), 0);
	assert_null(k);
}

static void
test_seal_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct keys *k = NULL;
	static const uint8_t pt[] = "a TOTP seed or a signing key";
	static const uint8_t aad[] = "user-0123456789abcdef";
	uint8_t blob[sizeof(pt) + KEYS_SEAL_OVERHEAD], blob2[sizeof(blob)], out[sizeof(blob)];
	uint8_t empty[KEYS_SEAL_OVERHEAD];
	size_t bl = 0, bl2 = 0, ol = 0;

	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(keys_open(f->dir, &k), 0);

	assert_int_equal(keys_seal(k, "totp", aad, sizeof(aad), pt, sizeof(pt), blob, &bl), 0);
	assert_int_equal(bl, sizeof(pt) + KEYS_SEAL_OVERHEAD);
	assert_int_equal(blob[0], 0x01);
	assert_null(memmem(blob, bl, "TOTP seed", 9));
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, bl, out, &ol), 0);
	assert_int_equal(ol, sizeof(pt));
	assert_memory_equal(out, pt, sizeof(pt));

	/* A fresh nonce each time. */
	assert_int_equal(keys_seal(k, "totp", aad, sizeof(aad), pt, sizeof(pt), blob2, &bl2), 0);
	assert_memory_not_equal(blob, blob2, bl);

	/* Empty plaintext and empty aad. */
	assert_int_equal(keys_seal(k, "x", NULL, 0, NULL, 0, empty, &bl2), 0);
	assert_int_equal(bl2, KEYS_SEAL_OVERHEAD);
	assert_int_equal(keys_unseal(k, "x", NULL, 0, empty, bl2, out, &ol), 0);
	assert_int_equal(ol, 0);

	/* Survives a close and reopen (same master key). */
	keys_close(k);
	k = NULL;
	assert_int_equal(keys_open(f->dir, &k), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, bl, out, &ol), 0);
	assert_memory_equal(out, pt, sizeof(pt));

	/* Bad arguments. */
	assert_int_equal(keys_seal(k, "", aad, sizeof(aad), pt, sizeof(pt), blob2, &bl2),
	                 INK_ERR_INVALID);
	assert_int_equal(keys_seal(k, NULL, aad, sizeof(aad), pt, sizeof(pt), blob2, &bl2),
	                 INK_ERR_INVALID);
	keys_close(k);
}

static void
test_seal_bindings(void **state)
{
	struct fixture *f = *state;
	struct keys *k = NULL;
	static const uint8_t pt[] = "secret";
	static const uint8_t aad[] = "alice";
	uint8_t blob[sizeof(pt) + KEYS_SEAL_OVERHEAD], bad[sizeof(blob)], out[sizeof(blob)];
	size_t bl = 0, ol = 99, i;
	char other[128];

	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(keys_seal(k, "totp", aad, sizeof(aad), pt, sizeof(pt), blob, &bl), 0);

	/* Another purpose, another owner, no owner. */
	assert_int_equal(keys_unseal(k, "signing-key", aad, sizeof(aad), blob, bl, out, &ol),
	                 INK_ERR_CRYPTO);
	assert_int_equal(ol, 0);
	assert_int_equal(keys_unseal(k, "totP", aad, sizeof(aad), blob, bl, out, &ol), INK_ERR_CRYPTO);
	assert_int_equal(keys_unseal(k, "totp", (const uint8_t *)"bob", 4, blob, bl, out, &ol),
	                 INK_ERR_CRYPTO);
	assert_int_equal(keys_unseal(k, "totp", NULL, 0, blob, bl, out, &ol), INK_ERR_CRYPTO);
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad) - 1, blob, bl, out, &ol),
	                 INK_ERR_CRYPTO);
	/* Moving bytes between purpose and aad does not help: "tot" + "p\0alice" != "totp" + ... */
	{
		uint8_t shifted[sizeof(aad) + 1] = { 'p', 0 };

		memcpy(shifted + 1, aad, sizeof(aad));
		assert_int_equal(keys_unseal(k, "tot", shifted + 1, sizeof(aad), blob, bl, out, &ol),
		                 INK_ERR_CRYPTO);
	}

	/* Every single-byte change anywhere in the blob is caught. */
	for (i = 0; i < bl; i++) {
		memcpy(bad, blob, bl);
		bad[i] ^= 0x01;
		memset(out, 0xaa, sizeof(out));
		if (keys_unseal(k, "totp", aad, sizeof(aad), bad, bl, out, &ol) != INK_ERR_CRYPTO)
			fail_msg("tampered byte %zu accepted", i);
		/* No unauthenticated plaintext is left behind. */
		assert_null(memmem(out, sizeof(out), "secret", 6));
	}
	/* Truncated, too short, extended. */
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, bl - 1, out, &ol),
	                 INK_ERR_CRYPTO);
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, KEYS_SEAL_OVERHEAD - 1, out,
	                             &ol), INK_ERR_CRYPTO);
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, 0, out, &ol), INK_ERR_CRYPTO);
	keys_close(k);

	/* Another key store's master key cannot open it. */
	snprintf(other, sizeof(other), "%s/other", f->root);
	assert_int_equal(keys_init_dir(other), 0);
	assert_int_equal(keys_open(other, &k), 0);
	assert_int_equal(keys_unseal(k, "totp", aad, sizeof(aad), blob, bl, out, &ol),
	                 INK_ERR_CRYPTO);
	keys_close(k);
}

/* ---- credentials: tests that try to break sole control ---- */

static const char *const OWNER_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *const OWNER_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* A key store with its CA, fast Argon2 for tests. */
static struct keys *
open_store(struct fixture *f)
{
	struct keys_params p = {
		.argon2_m_kib = 8192, .argon2_t = 1, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .crl_url = "https://127.0.0.1:8443/ca/crl", .policy_oid = "1.2.392.200091.1",
		.organization = "inkan test",
	};
	struct keys *k = NULL;

	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(keys_set_params(k, &p), 0);
	return k;
}

static struct keys *
new_store(struct fixture *f)
{
	struct keys *k;

	assert_int_equal(keys_init_dir(f->dir), 0);
	k = open_store(f);
	assert_int_equal(keys_ca_init(k), 0);
	return k;
}

static void
make_cred(struct keys *k, const char *owner, const char *algo, const char *pin, struct keys_cred *c)
{
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = owner };

	assert_int_equal(keys_cred_create(k, owner, &subj, algo, pin, false, c, NULL, NULL), 0);
	assert_int_equal(c->status, KEYS_ACTIVE);
	assert_true(c->cert_len > 0);
}

/* Signs one SHA-256 digest (RSASSA-PSS: with salt bytes of salt, -1 the digest length) and
 * checks it with the certificate's public key. */
static int
sign_and_verify_salt(struct keys *k, const struct keys_cred *c, const uint8_t kek[32],
                     const char *sigalg, long salt)
{
	struct keys_signer *sg = NULL;
	uint8_t dg[32], *sig = NULL;
	const uint8_t *dgs[1] = { dg }, *pp = c->cert;
	size_t dglen[1] = { sizeof(dg) }, siglen = 0;
	X509 *cert = d2i_X509(NULL, &pp, (long)c->cert_len);
	EVP_PKEY_CTX *ctx = NULL;
	int r, ok;

	assert_non_null(cert);
	memset(dg, 0x5a, sizeof(dg));
	if ((r = keys_signer_open(k, c->id, kek, sigalg, "2.16.840.1.101.3.4.2.1", salt, dglen, 1,
	                          &sg)) == 0)
		r = keys_signer_sign(sg, dgs, dglen, 1, 1, &sig, &siglen);
	keys_signer_free(sg);
	if (r == 0) {
		ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(cert), NULL);
		assert_non_null(ctx);
		assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
		assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
		if (strcmp(sigalg, "1.2.840.113549.1.1.10") == 0) {
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING), 1);
			assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt < 0 ? RSA_PSS_SALTLEN_DIGEST :
			                                                       (int)salt), 1);
		}
		ok = EVP_PKEY_verify(ctx, sig, siglen, dg, sizeof(dg));
		assert_int_equal(ok, 1);
		EVP_PKEY_CTX_free(ctx);
	}
	free(sig);
	X509_free(cert);
	return r;
}

static int
sign_and_verify(struct keys *k, const struct keys_cred *c, const uint8_t kek[32], const char *sigalg)
{
	return sign_and_verify_salt(k, c, kek, sigalg, -1);
}

/* RSASSA-PSS of an RSA-3072 key with SHA-256: salt 32 and 350 (the maximum) sign, others are
 * refused by policy; no salt for another algorithm. */
static void
check_pss_salts(struct keys *k, const struct keys_cred *rsa, const uint8_t kek[32])
{
	assert_int_equal(sign_and_verify_salt(k, rsa, kek, "1.2.840.113549.1.1.10", 32), 0);
	assert_int_equal(sign_and_verify_salt(k, rsa, kek, "1.2.840.113549.1.1.10", 350), 0);
	assert_int_equal(sign_and_verify_salt(k, rsa, kek, "1.2.840.113549.1.1.10", 351), INK_ERR_POLICY);
	assert_int_equal(sign_and_verify_salt(k, rsa, kek, "1.2.840.113549.1.1.10", 20), INK_ERR_POLICY);
	assert_int_equal(sign_and_verify_salt(k, rsa, kek, "1.2.840.113549.1.1.11", 32), INK_ERR_POLICY);
}

static void
test_cred_sign_with_pin_only(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred ec, rsa;
	uint8_t kek[32];

	make_cred(k, OWNER_A, NULL, "481526", &ec);
	assert_string_equal(ec.algo, "P-256");
	make_cred(k, OWNER_A, "RSA-3072", "902735", &rsa);
	/* The right PIN opens and signs, verifiably. */
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "481526", kek), 0);
	assert_int_equal(sign_and_verify(k, &ec, kek, "1.2.840.10045.4.3.2"), 0);
	/* An ECDSA algorithm on an RSA key, and SHA-1, are refused. */
	assert_int_equal(sign_and_verify(k, &ec, kek, "1.2.840.113549.1.1.11"), INK_ERR_POLICY);
	assert_int_equal(sign_and_verify(k, &ec, kek, "1.2.840.10045.4.1"), INK_ERR_POLICY);
	assert_int_equal(keys_cred_open(k, OWNER_A, rsa.id, "902735", kek), 0);
	assert_int_equal(sign_and_verify(k, &rsa, kek, "1.2.840.113549.1.1.11"), 0);
	assert_int_equal(sign_and_verify(k, &rsa, kek, "1.2.840.113549.1.1.10"), 0);
	check_pss_salts(k, &rsa, kek);
	/* Another owner cannot even find the credential. */
	assert_int_equal(keys_cred_open(k, OWNER_B, ec.id, "481526", kek), INK_ERR_NOT_FOUND);
	/* A kek of another key does not open this one. */
	assert_int_equal(keys_cred_open(k, OWNER_A, rsa.id, "902735", kek), 0);
	assert_int_not_equal(sign_and_verify(k, &ec, kek, "1.2.840.10045.4.3.2"), 0);
	/* RSA-1024 and unknown algorithms are refused at creation. */
	{
		struct keys_subject subj = { .common_name = "x", .serial_number = OWNER_A };
		struct keys_cred bad;

		assert_int_equal(keys_cred_create(k, OWNER_A, &subj, "RSA-1024", "481526", false, &bad,
		                                  NULL, NULL), INK_ERR_POLICY);
		assert_int_equal(keys_cred_create(k, OWNER_A, &subj, "DSA-2048", "481526", false, &bad,
		                                  NULL, NULL), INK_ERR_POLICY);
		assert_int_equal(keys_cred_create(k, OWNER_A, &subj, NULL, "12345", false, &bad, NULL,
		                                  NULL), INK_ERR_POLICY);
	}
	keys_cred_clear(&ec);
	keys_cred_clear(&rsa);
	keys_close(k);
}

/* The key manager itself refuses a trivial or short new PIN (whatever inkand let through), at
 * creation and at a PIN change, with the configured pin_min_len. */
static void
test_cred_pin_policy(void **state)
{
	static const char *const trivial[] = { "000000", "123456", "654321", "890123", "121212",
	                                       "159753", "12345", "" };
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = OWNER_A };
	struct keys_params p = {
		.argon2_m_kib = 8192, .argon2_t = 1, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .organization = "inkan test", .pin_min_len = 8,
	};
	struct keys_cred c, bad;
	uint8_t kek[32];
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(trivial); i++)
		assert_int_equal(keys_cred_create(k, OWNER_A, &subj, NULL, trivial[i], false, &bad, NULL,
		                                  NULL), INK_ERR_POLICY);
	make_cred(k, OWNER_A, NULL, "739146", &c);
	for (i = 0; i < INK_ARRAY_LEN(trivial); i++)
		assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "739146", trivial[i]),
		                 INK_ERR_POLICY);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	/* authMode: as the service says until the owner keeps the key for the consent page */
	assert_int_equal(c.auth_mode, KEYS_AUTH_SERVICE);
	assert_int_equal(keys_cred_set_auth_mode(k, OWNER_B, c.id, KEYS_AUTH_OAUTH_ONLY), INK_ERR_NOT_FOUND);
	assert_int_equal(keys_cred_set_auth_mode(k, OWNER_A, c.id, 2), INK_ERR_INVALID);
	assert_int_equal(keys_cred_set_auth_mode(k, OWNER_A, c.id, KEYS_AUTH_OAUTH_ONLY), 0);
	assert_int_equal(keys_cred_get(k, OWNER_A, c.id, &bad), 0);
	assert_int_equal(bad.auth_mode, KEYS_AUTH_OAUTH_ONLY);
	keys_cred_clear(&bad);
	/* pin_min_len = 8: a good 6-character PIN is now too short for a new key or a change. */
	assert_int_equal(keys_set_params(k, &p), 0);
	assert_int_equal(keys_cred_create(k, OWNER_A, &subj, NULL, "739146", false, &bad, NULL, NULL),
	                 INK_ERR_POLICY);
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "739146", "582047"), INK_ERR_POLICY);
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "739146", "58204719"), 0);
	/* pin_min_len outside 4..64 is a configuration error. */
	p.pin_min_len = 3;
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p.pin_min_len = 65;
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	keys_cred_clear(&c);
	keys_close(k);
}

static void
test_cred_db_and_master_without_pin(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c;
	uint8_t kek[32], buf[8192];
	size_t n = 0;
	static const char *const guesses[] = { "", "000000", "111111", "password", "12345678" };
	size_t i;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	make_cred(k, OWNER_A, NULL, "739146", &c);
	keys_close(k);
	/* The attacker holds the key store file and the master key. */
	k = open_store(f);
	for (i = 0; i < INK_ARRAY_LEN(guesses); i++)
		assert_int_not_equal(keys_cred_open(k, OWNER_A, c.id, guesses[i], kek), 0);
	/* The blob is not sealed under the master key alone. */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT blob FROM credentials WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, c.id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(keys_unseal(k, "signing-key", NULL, 0, sqlite3_column_blob(st, 0),
	                             (size_t)sqlite3_column_bytes(st, 0), buf, &n), INK_ERR_CRYPTO);
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Wrong PINs counted: the third (max_pin_failures = 3) locked it, even the right PIN now fails. */
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), INK_ERR_LOCKED);
	assert_int_equal(keys_cred_unlock(k, c.id), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	/* The right PIN forgets the wrong ones before it (and, with none, changes nothing): two
	 * wrong, the right, two wrong again lock nothing; a third would. */
	for (i = 1; i <= 2; i++)
		assert_int_equal(keys_cred_open(k, OWNER_A, c.id, guesses[i], kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	for (i = 1; i <= 2; i++)
		assert_int_equal(keys_cred_open(k, OWNER_A, c.id, guesses[i], kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	for (i = 1; i <= 3; i++)
		assert_int_not_equal(keys_cred_open(k, OWNER_A, c.id, guesses[i], kek), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), INK_ERR_LOCKED);
	keys_cred_clear(&c);
	keys_close(k);
}

/* n records of alice's signatures in the SAM's log, their ids into id. */
static void
add_sign_records(struct keys *k, size_t n, int64_t *id)
{
	struct store_audit_rec rec;
	size_t i;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.actor, sizeof(rec.actor), "alice");
	snprintf(rec.action, sizeof(rec.action), "sam.sign");
	snprintf(rec.result, sizeof(rec.result), "success");
	for (i = 0; i < n; i++) {
		rec.time = 1000 + (int64_t)i;
		assert_int_equal(keys_samlog_add(k, &rec, &id[i]), 0);
	}
}

/* How many of the SAM's records are pending (not yet marked as logged). */
static size_t
pending_n(struct keys *k)
{
	struct store_audit_rec *recs = NULL;
	int64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(keys_samlog_pending(k, 0, 100, &ids, &recs, &n), 0);
	free(ids);
	free(recs);
	return n;
}

/* A checkpoint's marks of the SAM's records, in one transaction: the marked are no longer
 * pending, one marked before stays as it was (no failure), the unmarked stays pending. */
static void
test_samlog_included_many(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct store_audit_rec *recs = NULL;
	int64_t id[4], seq[4] = { 10, 11, 12, 13 }, *ids = NULL;
	size_t n = 0;

	add_sign_records(k, 4, id);
	assert_int_equal(keys_samlog_included(k, id[0], seq[0]), 0);
	assert_int_equal(keys_samlog_included_many(k, id, seq, 3), 0);
	assert_int_equal(keys_samlog_included_many(k, id, seq, 0), 0);
	assert_int_equal(keys_samlog_pending(k, 0, 100, &ids, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id[3]);
	free(ids);
	free(recs);
	keys_close(k);
}

/* A checkpoint's head and the marks of the SAM records it covers go in together: marks that
 * cannot be written (here one names a record the key store does not have) leave the head where
 * it was and every record pending — never a head over records still read as pending, which would
 * refuse every later checkpoint (a connection lost between the two did, before). Then the same
 * extension with its right marks: the head moves, nothing pending. */
static void
test_log_extend_marks_atomic(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct audit_head h;
	uint8_t leaves[2][AUDIT_HASH_LEN], *spki = NULL;
	int64_t id[2], seq[2] = { 1, 2 }, bad[2];
	size_t len = 0;
	bool closed = false;

	add_sign_records(k, 2, id);
	memset(leaves[0], 0x40, AUDIT_HASH_LEN);
	memset(leaves[1], 0x41, AUDIT_HASH_LEN);
	bad[0] = id[0];
	bad[1] = id[1] + 1000;
	assert_int_equal(keys_log_extend(k, 0, leaves[0], 2, false, bad, seq, 2, &h), INK_ERR_STORE);
	assert_int_equal(keys_log_head(k, &h, &closed, &spki, &len), 0);
	free(spki);
	spki = NULL;
	assert_int_equal(h.size, 0);
	assert_int_equal(pending_n(k), 2);
	/* marks named with no ids to name them: refused before anything is read */
	assert_int_equal(keys_log_extend(k, 0, leaves[0], 2, false, NULL, seq, 2, &h), INK_ERR_INVALID);
	assert_int_equal(keys_log_extend(k, 0, leaves[0], 2, false, id, seq, 2, &h), 0);
	assert_int_equal(h.size, 2);
	assert_int_equal(keys_log_head(k, &h, &closed, &spki, &len), 0);
	free(spki);
	assert_int_equal(h.size, 2);
	assert_int_equal(pending_n(k), 0);
	keys_close(k);
}

/* Held records written and marked in statements of many rows (16 and 64 a statement): 70
 * records come back in the order given, each with its own fields, and marking all but the last
 * four (two statements of marks) leaves those four pending. */
static void
test_samlog_many_rows(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct store_audit_rec *in, *recs = NULL;
	int64_t seq[70], *ids = NULL;
	size_t n = 0, i;

	assert_non_null(in = calloc(70, sizeof(*in)));
	for (i = 0; i < 70; i++) {
		in[i].time = 5000 + (int64_t)i;
		snprintf(in[i].actor, sizeof(in[i].actor), "signer-%zu", i);
		snprintf(in[i].role, sizeof(in[i].role), "%s", i % 2 == 0 ? "signer" : "");
		snprintf(in[i].action, sizeof(in[i].action), "sam.%s", i % 5 == 0 ? "login" : "sign");
		snprintf(in[i].subject, sizeof(in[i].subject), "cred-%zu", i);
		snprintf(in[i].result, sizeof(in[i].result), "%s", i % 3 == 0 ? "success" : "denied");
		snprintf(in[i].detail, sizeof(in[i].detail), "record %zu of 70, 'quoted' \\ \"x\"", i);
		seq[i] = 100 + (int64_t)i;
	}
	assert_int_equal(keys_samlog_add_many(k, in, 70), 0);
	assert_int_equal(keys_samlog_pending(k, 0, 100, &ids, &recs, &n), 0);
	assert_int_equal(n, 70);
	for (i = 0; i < 70; i++) {
		assert_int_equal(recs[i].time, in[i].time);
		assert_string_equal(recs[i].actor, in[i].actor);
		assert_string_equal(recs[i].role, in[i].role);
		assert_string_equal(recs[i].action, in[i].action);
		assert_string_equal(recs[i].subject, in[i].subject);
		assert_string_equal(recs[i].result, in[i].result);
		assert_string_equal(recs[i].detail, in[i].detail);
	}
	assert_int_equal(keys_samlog_included_many(k, ids, seq, 66), 0);
	free(recs);
	recs = NULL;
	{
		int64_t *left = NULL;

		assert_int_equal(keys_samlog_pending(k, 0, 100, &left, &recs, &n), 0);
		assert_int_equal(n, 4);
		for (i = 0; i < 4; i++)
			assert_int_equal(left[i], ids[66 + i]);
		free(left);
	}
	free(ids);
	free(recs);
	free(in);
	keys_close(k);
}

/* The walks over the SAM's pending records: a range gives the unlogged ones between two ids,
 * in order, each this node's; a scan gives this node's pending ones from the oldest, however
 * many walks before it moved its lower bound up — a record made after a walk that found
 * nothing pending is found, and one the log has taken is not. */
struct walk {
	int64_t ids[16];
	bool mine[16];
	size_t n;
};

static int
walk_range(void *arg, int64_t id, struct store_audit_rec *rec, bool mine)
{
	struct walk *w = arg;

	(void)rec;
	w->mine[w->n] = mine;
	w->ids[w->n++] = id;
	return w->n == 16;
}

static int
walk_scan(void *arg, int64_t id, struct store_audit_rec *rec)
{
	return walk_range(arg, id, rec, true);
}

static void
samlog_add_n(struct keys *k, int64_t *id, size_t n)
{
	struct store_audit_rec rec;
	size_t i;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.actor, sizeof(rec.actor), "alice");
	snprintf(rec.action, sizeof(rec.action), "sam.sign");
	snprintf(rec.result, sizeof(rec.result), "success");
	for (i = 0; i < n; i++) {
		rec.time = 1000 + (int64_t)i;
		assert_int_equal(keys_samlog_add(k, &rec, &id[i]), 0);
	}
}

static void
test_samlog_walks(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	int64_t id[8], seq[8], *ids = NULL;
	struct store_audit_rec *recs = NULL;
	struct walk w;
	size_t n = 0, i;

	samlog_add_n(k, id, 6);
	for (i = 0; i < 6; i++)
		seq[i] = 100 + (int64_t)i;
	assert_int_equal(keys_samlog_included_many(k, id, seq, 2), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_range(k, id[0], id[4], walk_range, &w), 0);
	assert_int_equal(w.n, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(w.ids[i], id[2 + i]);
		assert_true(w.mine[i]);
	}
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_scan(k, walk_scan, &w), 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.ids[0], id[2]);
	/* a walk moves no bound past what is still pending */
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_scan(k, walk_scan, &w), 0);
	assert_int_equal(w.n, 4);
	assert_int_equal(w.ids[0], id[2]);
	assert_int_equal(keys_samlog_pending(k, 0, 100, &ids, &recs, &n), 0);
	assert_int_equal(n, 4);
	free(ids);
	free(recs);
	ids = NULL;
	recs = NULL;
	/* all logged: a walk finds none ... */
	assert_int_equal(keys_samlog_included_many(k, id + 2, seq + 2, 4), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_scan(k, walk_scan, &w), 0);
	assert_int_equal(w.n, 0);
	/* ... and the next records made are found, by a scan and by inkand's pending read */
	samlog_add_n(k, id + 6, 2);
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_scan(k, walk_scan, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], id[6]);
	assert_int_equal(w.ids[1], id[7]);
	assert_int_equal(keys_samlog_pending(k, 0, 100, &ids, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], id[6]);
	free(ids);
	free(recs);
	memset(&w, 0, sizeof(w));
	assert_int_equal(keys_samlog_range(k, id[0], id[7], walk_range, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.ids[0], id[6]);
	keys_close(k);
}

/* A PIN stretched on the workers (their kept memory, argon2_ctx) and one stretched in the
 * caller (argon2id_hash_raw) are the same Argon2id: a key sealed one way opens the other way,
 * again and again on the same memory, and with a larger cost after a smaller. */
static void
test_pin_stretch_on_workers(void **state)
{
	struct fixture *f = *state;
	struct keys_params p = {
		.argon2_m_kib = 8192, .argon2_t = 1, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .crl_url = "https://127.0.0.1:8443/ca/crl",
		.policy_oid = "1.2.392.200091.1", .organization = "inkan test",
	};
	struct ink_pool *pool = NULL;
	struct keys *k = new_store(f);
	struct keys_cred c1, c2;
	uint8_t kek[32], kek2[32];
	int i;

	make_cred(k, OWNER_A, NULL, "739146", &c1);           /* stretched in the caller */
	assert_int_equal(keys_cred_open(k, OWNER_A, c1.id, "739146", kek), 0);
	assert_int_equal(ink_pool_new(1, 5, &pool), 0);
	p.kdf_pool = pool;
	assert_int_equal(keys_set_params(k, &p), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(keys_cred_open(k, OWNER_A, c1.id, "739146", kek2), 0);
		assert_memory_equal(kek, kek2, 32);
	}
	assert_int_equal(keys_cred_open(k, OWNER_A, c1.id, "000000", kek2), INK_ERR_AUTH);
	/* a larger cost on the same worker: its memory grows; sealed there, opened in the caller */
	p.argon2_m_kib = 16384;
	assert_int_equal(keys_set_params(k, &p), 0);
	make_cred(k, OWNER_A, NULL, "739146", &c2);
	assert_int_equal(keys_cred_open(k, OWNER_A, c2.id, "739146", kek), 0);
	p.kdf_pool = NULL;
	assert_int_equal(keys_set_params(k, &p), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c2.id, "739146", kek2), 0);
	assert_memory_equal(kek, kek2, 32);
	assert_int_equal(keys_cred_open(k, OWNER_A, c1.id, "739146", kek2), 0);
	keys_cred_clear(&c1);
	keys_cred_clear(&c2);
	keys_close(k);
	ink_pool_free(pool);
}

static void
test_cred_pin_without_master(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c;
	uint8_t kek[32], other[KEYS_MASTER_LEN];
	FILE *fp;

	make_cred(k, OWNER_A, NULL, "739146", &c);
	keys_close(k);
	/* Same database and PIN, another master key: nothing opens. */
	memset(other, 0x42, sizeof(other));
	assert_non_null(fp = fopen(f->master, "wb"));
	assert_int_equal(fwrite(other, 1, sizeof(other), fp), sizeof(other));
	fclose(fp);
	/* the key store's check value tells at once: this is not its master key */
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);
	assert_null(k);
	if (!pg_mode()) {
		sqlite3 *db = NULL;

		/* and without the check value (a version-4 store: this one has no log key to tell
		 * either) the key opens, but no signer's key does */
		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM master_check", NULL, NULL, NULL),
		                 SQLITE_OK);
		sqlite3_close(db);
		k = open_store(f);
		assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), INK_ERR_AUTH);
		keys_close(k);
	}
	keys_cred_clear(&c);
}

/* The SAM's role, in its schema (the key store's URI sets no search_path of its own here). */
static PGconn *
ks_connect(struct fixture *f)
{
	PGconn *c = pg_connect(f->pgdb, "inkan_sam");
	PGresult *res = PQexec(c, "SET search_path TO inkan_keys");

	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	return c;
}

/* Runs sql on the key store as the SAM would see it (SQLite file or the inkan_sam role). */
static void
ks_exec(struct fixture *f, const char *sql)
{
	if (pg_mode()) {
		PGconn *c = ks_connect(f);
		PGresult *res = PQexec(c, sql);

		assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;

		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
}

/* The first column of the first row of sql on the key store, as an integer. */
static long long
ks_value(struct fixture *f, const char *sql)
{
	long long v = -1;

	if (pg_mode()) {
		PGconn *c = ks_connect(f);
		PGresult *res = PQexec(c, sql);

		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		assert_int_equal(PQntuples(res), 1);
		v = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		v = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

static void
write_master(struct fixture *f, const uint8_t *key)
{
	FILE *fp;

	assert_non_null(fp = fopen(f->master, "wb"));
	assert_int_equal(fwrite(key, 1, KEYS_MASTER_LEN, fp), KEYS_MASTER_LEN);
	assert_int_equal(fclose(fp), 0);
}

/* The master key's check value: written when the key store is made, and by the upgrade of a
 * version-4 store from the master key present; another master key is then refused at open,
 * before anything is read or written (no new audit log key), and at the upgrade when the
 * store's log key does not open under it. A join of the same key only writes the file. */
static void
test_master_check(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c;
	struct audit_head h;
	uint8_t mine[KEYS_MASTER_LEN], other[KEYS_MASTER_LEN], kcv[KEYS_KCV_LEN], kek[32];
	uint8_t *spki = NULL;
	size_t len = 0;
	bool closed = false;
	FILE *fp;

	make_cred(k, OWNER_A, NULL, "739146", &c);
	/* the audit log key, as inkan-sam --init makes it */
	assert_int_equal(keys_log_head(k, &h, &closed, &spki, &len), 0);
	free(spki);
	keys_close(k);
	assert_int_equal(ks_value(f, "SELECT count(*) FROM master_check"), 1);
	assert_int_equal(ks_value(f, "SELECT version FROM keystore_meta"), 7);
	/* one-way: not the key, nor any 32 bytes of it */
	assert_non_null(fp = fopen(f->master, "rb"));
	assert_int_equal(fread(mine, 1, sizeof(mine), fp), sizeof(mine));
	fclose(fp);
	assert_int_equal(keys_master_kcv(mine, kcv), 0);
	assert_memory_not_equal(kcv, mine, sizeof(mine));

	/* another master key: refused at open, the log key count unchanged */
	memset(other, 0x42, sizeof(other));
	write_master(f, other);
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);
	assert_null(k);
	assert_int_equal(ks_value(f, "SELECT count(*) FROM log_key"), 1);

	/* a version-4 store (no check value) upgraded under the wrong key: its log key does not
	 * open under it, so nothing is written and the open is refused */
	ks_exec(f, "DROP TABLE sads; DROP TABLE master_check; ALTER TABLE sam_audit DROP COLUMN node; "
	        "DROP INDEX credentials_live_expiry; UPDATE keystore_meta SET version = 4");
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);
	assert_int_equal(ks_value(f, "SELECT count(*) FROM log_key"), 1);
	/* under its own key: upgraded, the value written from the key present */
	ks_exec(f, "DROP TABLE sads; DROP TABLE master_check; ALTER TABLE sam_audit DROP COLUMN node; "
	        "DROP INDEX credentials_live_expiry; UPDATE keystore_meta SET version = 4");
	write_master(f, mine);
	k = open_store(f);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	keys_close(k);
	assert_int_equal(ks_value(f, "SELECT version FROM keystore_meta"), 7);
	/* the upgrade made the expiry sweep's index too */
	assert_int_equal(ks_value(f, pg_mode() ? "SELECT count(*) FROM pg_indexes WHERE "
	                          "indexname = 'credentials_live_expiry'" :
	                          "SELECT count(*) FROM sqlite_master WHERE "
	                          "name = 'credentials_live_expiry'"), 1);
	assert_int_equal(ks_value(f, "SELECT count(*) FROM master_check"), 1);
	write_master(f, other);
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);

	/* a node joining with the key store's own key: the file only; with another, refused */
	assert_int_equal(unlink(f->master), 0);
	assert_int_equal(keys_master_install(f->dir, other), INK_ERR_EXISTS);
	assert_int_equal(access(f->master, F_OK), -1);
	assert_int_equal(keys_master_install(f->dir, mine), 0);
	k = open_store(f);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "739146", kek), 0);
	assert_int_equal(ks_value(f, "SELECT count(*) FROM log_key"), 1);
	keys_cred_clear(&c);
	keys_close(k);
}

static void
test_cred_swapped_blobs(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred a, b;
	uint8_t kek[32];
	sqlite3 *db = NULL;
	char sql[512];

	/* Both signers even chose the same PIN. */
	make_cred(k, OWNER_A, NULL, "246810", &a);
	make_cred(k, OWNER_B, NULL, "246810", &b);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql),
	         "UPDATE credentials SET blob = (SELECT blob FROM credentials WHERE id = '%s'), "
	         "salt = (SELECT salt FROM credentials WHERE id = '%s') WHERE id = '%s'",
	         b.id, b.id, a.id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* A's row now holds B's key: the associated data (id, owner, algorithm) refuses it. */
	assert_int_equal(keys_cred_open(k, OWNER_A, a.id, "246810", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_B, b.id, "246810", kek), 0);
	keys_cred_clear(&a);
	keys_cred_clear(&b);
	keys_close(k);
}

static void
test_cred_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = OWNER_A };
	struct keys_cred c, r2, ext, got;
	uint8_t kek[32], *der = NULL, *csr = NULL;
	size_t len = 0, csr_len = 0, count = 0;
	char path[256], cmd[1400];
	FILE *fp;

	make_cred(k, OWNER_A, NULL, "111222", &c);
	/* PIN change: old one required, then only the new one works. */
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "999999", "333444"), INK_ERR_AUTH);
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "111222", "333444"), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "111222", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "333444", kek), 0);
	/* Renewal: a new key and certificate; the old one revoked (superseded) and unusable. */
	assert_int_equal(keys_cred_renew(k, OWNER_A, c.id, "333444", &subj, &r2), 0);
	assert_string_not_equal(r2.serial, c.serial);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "333444", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_cred_get(k, OWNER_A, c.id, &got), 0);
	assert_int_equal(got.status, KEYS_REVOKED);
	keys_cred_clear(&got);
	/* Revocation of the new one: the CRL lists both serials (openssl crl). */
	assert_int_equal(keys_cred_revoke(k, OWNER_B, r2.id, 1), INK_ERR_NOT_FOUND);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, r2.id, 1), 0);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, r2.id, 1), INK_ERR_DISABLED);
	assert_int_equal(keys_ca_crl(k, &der, &len), 0);
	snprintf(path, sizeof(path), "%s/crl.der", f->root);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(der, 1, len, fp), len);
	fclose(fp);
	free(der);
	snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in '%s' -noout -text | grep -q '%s' && "
	         "openssl crl -inform DER -in '%s' -noout -text | grep -q '%s' && "
	         "openssl crl -inform DER -in '%s' -noout -text | grep -q 'Key Compromise'",
	         path, c.serial, path, r2.serial, path);
	assert_int_equal(system(cmd), 0);
	/* External CA: pending, unusable until its certificate is linked; a foreign one refused. */
	assert_int_equal(keys_cred_create(k, OWNER_A, &subj, "P-384", "555666", true, &ext, &csr,
	                                  &csr_len), 0);
	assert_int_equal(ext.status, KEYS_PENDING);
	assert_true(csr_len > 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, ext.id, "555666", kek), INK_ERR_POLICY);
	/* No external_ca_file: every external certificate is refused (test_extcert has the rest). */
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, c.cert, c.cert_len, &got),
	                 INK_ERR_UNSUPPORTED);
	free(csr);
	/* Deregistration destroys every remaining key. */
	assert_int_equal(keys_cred_destroy_owner(k, OWNER_A, &count), 0);
	assert_int_equal(count, 1);
	assert_int_equal(keys_cred_get(k, OWNER_A, ext.id, &got), 0);
	assert_int_equal(got.status, KEYS_DESTROYED);
	keys_cred_clear(&got);
	keys_cred_clear(&c);
	keys_cred_clear(&r2);
	keys_cred_clear(&ext);
	keys_close(k);
}

static void
write_text(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Certificates from an external CA (the built-in CA stands in for it here; t_extca.sh uses
 * CAs made with openssl): external_ca_file is checked when loaded, and a certificate is linked
 * only for the pending key's own public key and registered subject. */
static void
test_extcert(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_subject subj = { .common_name = "Ext Signer", .serial_number = OWNER_A };
	struct keys_subject other = { .common_name = "Ext Signer", .serial_number = OWNER_B };
	struct keys_cred ext, act, got;
	uint8_t *csr = NULL, *der = NULL, *der2 = NULL;
	size_t csr_len = 0, len = 0, len2 = 0;
	char *chain = NULL, *second, path[256], link[256], serial[41], serial2[41];
	const uint8_t *pp;
	EVP_PKEY *pub = NULL;
	int64_t nb = 0, na = 0;
	BIO *bio = NULL;
	X509 *x = NULL;
	BUF_MEM *mem = NULL;

	assert_int_equal(keys_cred_create(k, OWNER_A, &subj, NULL, "555666", true, &ext, &csr,
	                                  &csr_len), 0);
	make_cred(k, OWNER_A, NULL, "111222", &act);
	pp = ext.pub;
	assert_non_null(pub = d2i_PUBKEY(NULL, &pp, (long)ext.pub_len));
	assert_int_equal(keys_ca_issue(k, pub, &subj, &der, &len, serial, &nb, &na), 0);
	assert_int_equal(keys_ca_issue(k, pub, &other, &der2, &len2, serial2, &nb, &na), 0);
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der, len, &got), INK_ERR_UNSUPPORTED);

	/* The file: CA certificates only, a root among them, nobody else may write it, no link. */
	assert_int_equal(keys_ca_chain_pem(k, &chain), 0);
	snprintf(path, sizeof(path), "%s/ext.pem", f->dir);
	write_text(path, chain, strlen(chain), 0644);
	assert_int_equal(keys_extca_load(k, "ext.pem"), 0);
	assert_int_equal(keys_extca_load(k, path), 0);
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(keys_extca_load(k, "ext.pem"), INK_ERR_CONFIG);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(link, sizeof(link), "%s/link.pem", f->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(keys_extca_load(k, "link.pem"), INK_ERR_CONFIG);
	assert_int_equal(keys_extca_load(k, "missing.pem"), INK_ERR_CONFIG);
	assert_non_null(second = strstr(chain + 1, "-----BEGIN CERTIFICATE-----"));
	write_text(path, chain, (size_t)(second - chain), 0644);   /* the issuing CA alone */
	assert_int_equal(keys_extca_load(k, "ext.pem"), INK_ERR_CONFIG);
	pp = act.cert;
	assert_non_null(x = d2i_X509(NULL, &pp, (long)act.cert_len));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	BIO_get_mem_ptr(bio, &mem);
	write_text(path, mem->data, mem->length, 0644);            /* a signer's certificate */
	assert_int_equal(keys_extca_load(k, "ext.pem"), INK_ERR_CONFIG);
	write_text(path, "not PEM\n", 8, 0644);
	assert_int_equal(keys_extca_load(k, "ext.pem"), INK_ERR_CONFIG);
	{
		/* the root, then a damaged block (the issuing CA): not silently the root alone */
		size_t ilen = (size_t)(second - chain), rlen = strlen(second);
		char *bad = NULL;

		assert_non_null(bad = malloc(ilen + rlen + 1));
		memcpy(bad, second, rlen);
		memcpy(bad + rlen, chain, ilen);
		bad[rlen + ilen] = '\0';
		bad[rlen + 100] = '*';
		write_text(path, bad, strlen(bad), 0644);
		free(bad);
		assert_int_equal(keys_extca_load(k, "ext.pem"), INK_ERR_CONFIG);
	}
	/* A refused load leaves nothing trusted. */
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der, len, &got), INK_ERR_UNSUPPORTED);
	write_text(path, chain, strlen(chain), 0644);
	assert_int_equal(keys_extca_load(k, "ext.pem"), 0);

	/* Another key, another registered signer's serialNumber: refused, nothing linked. */
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, act.cert, act.cert_len, &got),
	                 INK_ERR_WRONG_KEY);
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der2, len2, &got),
	                 INK_ERR_WRONG_SUBJECT);
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der, len - 1, &got), INK_ERR_INVALID);
	assert_int_equal(keys_cred_get(k, OWNER_A, ext.id, &got), 0);
	assert_int_equal(got.status, KEYS_PENDING);
	keys_cred_clear(&got);
	/* The right one: linked, and only once. */
	assert_int_equal(keys_cred_import_cert(k, OWNER_B, ext.id, der, len, &got), INK_ERR_NOT_FOUND);
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der, len, &got), 0);
	assert_int_equal(got.status, KEYS_ACTIVE);
	assert_string_equal(got.serial, serial);
	keys_cred_clear(&got);
	assert_int_equal(keys_cred_import_cert(k, OWNER_A, ext.id, der, len, &got), INK_ERR_EXISTS);

	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pub);
	free(chain);
	free(csr);
	free(der);
	free(der2);
	keys_cred_clear(&ext);
	keys_cred_clear(&act);
	keys_close(k);
}

static void
test_cred_expiry_destroys(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c, l, live, got;
	uint8_t kek[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	bool indexed = false;
	char sql[256];

	make_cred(k, OWNER_A, NULL, "530718", &c);
	make_cred(k, OWNER_A, NULL, "530718", &l);
	make_cred(k, OWNER_B, NULL, "530718", &live);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	/* an active and a locked credential past their certificate's end */
	snprintf(sql, sizeof(sql), "UPDATE credentials SET not_after = 1000 WHERE id IN ('%s', '%s'); "
	         "UPDATE credentials SET status = %d WHERE id = '%s'", c.id, l.id, KEYS_LOCKED, l.id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	/* the sweep reads the live credentials by the index, not every row */
	assert_int_equal(sqlite3_prepare_v2(db, "EXPLAIN QUERY PLAN " KEYS_EXPIRE_SWEEP_SQL, -1, &st,
	                                    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		indexed |= strstr((const char *)sqlite3_column_text(st, 3), "credentials_live_expiry") != NULL;
	sqlite3_finalize(st);
	assert_true(indexed);
	sqlite3_close(db);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "530718", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_cred_get(k, OWNER_A, c.id, &got), 0);
	assert_int_equal(got.status, KEYS_DESTROYED);
	keys_cred_clear(&got);
	assert_int_equal(keys_cred_get(k, OWNER_A, l.id, &got), 0);
	assert_int_equal(got.status, KEYS_DESTROYED);
	keys_cred_clear(&got);
	/* one whose certificate is still valid: untouched */
	assert_int_equal(keys_cred_get(k, OWNER_B, live.id, &got), 0);
	assert_int_equal(got.status, KEYS_ACTIVE);
	keys_cred_clear(&got);
	assert_int_equal(keys_cred_open(k, OWNER_B, live.id, "530718", kek), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM credentials WHERE blob IS NULL AND "
	         "id IN ('%s', '%s')), (SELECT blob IS NOT NULL FROM credentials WHERE id = '%s')",
	         c.id, l.id, live.id);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	assert_int_equal(sqlite3_column_int(st, 1), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	keys_cred_clear(&c);
	keys_cred_clear(&l);
	keys_cred_clear(&live);
	keys_close(k);
}

static void
test_cred_kdf_cost_stored(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_params p = {
		.argon2_m_kib = 16384, .argon2_t = 2, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .organization = "inkan test",
	};
	struct keys_cred c;
	uint8_t kek[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	make_cred(k, OWNER_A, NULL, "135790", &c);
	/* The administrator raises the Argon2id cost: existing credentials keep opening. */
	assert_int_equal(keys_set_params(k, &p), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "135790", kek), 0);
	/* A PIN change re-seals at the new cost, and records it. */
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "135790", "246800"), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT kdf_m, kdf_t FROM credentials", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 16384);
	assert_int_equal(sqlite3_column_int(st, 1), 2);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "246800", kek), 0);
	keys_cred_clear(&c);
	keys_close(k);
}

static void
test_backup_restore(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c;
	uint8_t kek[32], *blob = NULL, master[KEYS_MASTER_LEN], saved[KEYS_MASTER_LEN], *crl = NULL;
	size_t len = 0, n = 0, crl_len = 0;
	char shares[3][KEYS_SHARE_MAX], cmd[512];
	const char *two[2], *one[1];
	FILE *fp;

	make_cred(k, OWNER_A, NULL, "864200", &c);
	/* the owner keeps the key for the consent page alone, before the backup */
	assert_int_equal(keys_cred_set_auth_mode(k, OWNER_A, c.id, KEYS_AUTH_OAUTH_ONLY), 0);
	assert_int_equal(keys_backup(k, &blob, &len), 0);
	assert_memory_equal(blob, "INKANBK4", 8);
	/* The CA's last CRL, as published: the witness that the machine's loss does not take. */
	assert_int_equal(keys_ca_crl(k, &crl, &crl_len), 0);
	/* The backup holds no plain key and no PIN. */
	assert_null(memmem(blob, len, "864200", 6));
	assert_int_equal(keys_master_split(k, 2, 3, shares), 0);
	keys_close(k);
	assert_non_null(fp = fopen(f->master, "rb"));
	assert_int_equal(fread(saved, 1, sizeof(saved), fp), sizeof(saved));
	fclose(fp);

	/* The machine is lost: a fresh key store with another master key and CA. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	k = new_store(f);
	/* Under the wrong master key the backup is refused, nothing restored. */
	assert_int_equal(keys_restore(k, blob, len, crl, crl_len, false, NULL, NULL, &n), INK_ERR_CRYPTO);
	keys_close(k);
	/* Two custodians rebuild the master key; one alone cannot. */
	one[0] = shares[1];
	assert_int_not_equal(keys_master_combine(one, 1, master), 0);
	two[0] = shares[2];
	two[1] = shares[0];
	assert_int_equal(keys_master_combine(two, 2, master), 0);
	assert_memory_equal(master, saved, sizeof(saved));
	{
		/* One altered hex digit of one share: the key check value catches it. */
		char was = shares[0][20];

		shares[0][20] = was == 'a' ? 'b' : 'a';
		assert_int_not_equal(keys_master_combine(two, 2, master), 0);
		shares[0][20] = was;
	}
	assert_int_equal(keys_master_combine(two, 2, master), 0);
	assert_int_equal(keys_master_install(f->dir, master), 0);
	k = open_store(f);
	/* Truncated and corrupted backups are refused and restore nothing. */
	assert_int_equal(keys_restore(k, blob, len - 1, crl, crl_len, false, NULL, NULL, &n), INK_ERR_CRYPTO);
	blob[len / 2] ^= 1;
	assert_int_equal(keys_restore(k, blob, len, crl, crl_len, false, NULL, NULL, &n), INK_ERR_CRYPTO);
	blob[len / 2] ^= 1;
	assert_int_equal(keys_restore(k, blob, 5, crl, crl_len, false, NULL, NULL, &n), INK_ERR_INVALID);
	/* A bare key store shows nothing of what was revoked after the backup: the CA's CRL must
	 * come with it (or dual control, checked by the caller). */
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), INK_ERR_NO_WITNESS);
	assert_int_equal(keys_restore(k, blob, len, crl, crl_len, false, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	{
		/* On a new machine, no live store to replay it from: the backup keeps the owner's
		 * choice (an OAuth client forwarding PIN and OTP must not activate it again). */
		struct keys_cred got;

		assert_int_equal(keys_cred_get(k, OWNER_A, c.id, &got), 0);
		assert_int_equal(got.auth_mode, KEYS_AUTH_OAUTH_ONLY);
		keys_cred_clear(&got);
		assert_int_equal(keys_cred_set_auth_mode(k, OWNER_A, c.id, KEYS_AUTH_SERVICE), 0);
	}
	/* Again over itself: the live store is the witness now, and nothing is lost — nor the
	 * owner's choice, made after the backup, of the consent page alone. */
	assert_int_equal(keys_cred_set_auth_mode(k, OWNER_A, c.id, KEYS_AUTH_OAUTH_ONLY), 0);
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	{
		struct keys_cred got;

		assert_int_equal(keys_cred_get(k, OWNER_A, c.id, &got), 0);
		assert_int_equal(got.auth_mode, KEYS_AUTH_OAUTH_ONLY);
		keys_cred_clear(&got);
	}
	/* The signer's key works again with the PIN, and with nothing else. */
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "000000", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "864200", kek), 0);
	assert_int_equal(sign_and_verify(k, &c, kek, "1.2.840.10045.4.3.2"), 0);
	/* The same key again (a node joining): only the key file is written, nothing changes. */
	assert_int_equal(keys_master_install(f->dir, master), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "864200", kek), 0);
	/* And the master key cannot be replaced under live credentials. */
	memset(saved, 0x5a, sizeof(saved));
	assert_int_equal(keys_master_install(f->dir, saved), INK_ERR_EXISTS);
	free(crl);
	free(blob);
	keys_cred_clear(&c);
	keys_close(k);
}


/* The crlNumber of a CRL (DER) and whether it lists serial (hex; NULL: none asked). */
static int64_t
crl_number(const uint8_t *der, size_t len, const char *serial, bool *listed)
{
	const uint8_t *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	STACK_OF(X509_REVOKED) *revs;
	ASN1_INTEGER *num, *want = NULL;
	BIGNUM *bn = NULL;
	int64_t v = -1;
	int i;

	assert_non_null(crl);
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL));
	assert_int_equal(ASN1_INTEGER_get_int64(&v, num), 1);
	if (listed != NULL) {
		*listed = false;
		assert_true(BN_hex2bn(&bn, serial) > 0);
		assert_non_null(want = BN_to_ASN1_INTEGER(bn, NULL));
		revs = X509_CRL_get_REVOKED(crl);
		for (i = 0; i < sk_X509_REVOKED_num(revs); i++)
			if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)),
			                     want) == 0)
				*listed = true;
	}
	ASN1_INTEGER_free(want);
	BN_free(bn);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return v;
}

static void
expect_status(struct keys *k, const char *id, int status)
{
	struct keys_cred c;

	assert_int_equal(keys_cred_get(k, NULL, id, &c), 0);
	assert_int_equal(c.status, status);
	keys_cred_clear(&c);
}

/* Sealed keys left in the key store (destroyed ones have none). */
static int64_t
blobs_left(struct fixture *f, const char *id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t n;

	if (pg_mode()) {
		PGconn *c = pg_connect(f->pgdb, "inkan_sam");
		const char *params[1] = { id };
		PGresult *res = PQexecParams(c, "SELECT count(*) FROM inkan_keys.credentials WHERE "
		                             "id = $1 AND blob IS NOT NULL", 1, NULL, params, NULL,
		                             NULL, 0);

		assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
		n = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(c);
		return n;
	}
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM credentials WHERE id = ?1 AND "
	                                    "blob IS NOT NULL", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A fresh key store under the same master key, as after `inkan init` and a master key join on a
 * new machine: no CA, no credentials. */
static struct keys *
bare_store(struct fixture *f, struct keys *k)
{
	uint8_t master[KEYS_MASTER_LEN];
	char cmd[256];
	FILE *fp;

	keys_close(k);
	assert_non_null(fp = fopen(f->master, "rb"));
	assert_int_equal(fread(master, 1, sizeof(master), fp), sizeof(master));
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(keys_master_install(f->dir, master), 0);
	return open_store(f);
}

/* A CRL in the name of the key store's issuing CA, signed by another key. */
static void
forged_crl(struct keys *k, uint8_t **der, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-384");
	X509 *issuing = NULL;
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	char *pem = NULL;

	assert_non_null(key);
	assert_int_equal(keys_ca_chain_pem(k, &pem), 0);
	assert_non_null(bio = BIO_new_mem_buf(pem, -1));
	assert_non_null(issuing = PEM_read_bio_X509(bio, NULL, NULL, NULL));
	assert_int_equal(X509_set_pubkey(issuing, key), 1);
	assert_true(X509_sign(issuing, key, EVP_sha384()) > 0);
	assert_int_equal(ca_make_crl(key, issuing, NULL, 0, 1000000, 7, &crl), 0);
	assert_int_equal(ca_crl_der(crl, der, len), 0);
	X509_CRL_free(crl);
	X509_free(issuing);
	BIO_free(bio);
	free(pem);
	EVP_PKEY_free(key);
}

/* A restore never makes usable again a key revoked or destroyed after the backup, whichever
 * witness shows it (the live key store, the CA's CRL), and the CRL never goes back. */
static void
test_restore_witnesses(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_subject subj = { .common_name = "Ext Signer", .serial_number = OWNER_B };
	struct keys_cred a1, a2, a3, b1, p1, z, gone;
	uint8_t kek[32], *blob = NULL, *csr = NULL, *crl0 = NULL, *crl1 = NULL, *crl2 = NULL;
	uint8_t *forged = NULL;
	size_t len = 0, csr_len = 0, crl0_len = 0, crl1_len = 0, crl2_len = 0, forged_len = 0;
	size_t n = 0, count = 0;
	int64_t n1;
	bool listed = false;
	int i;

	make_cred(k, OWNER_A, NULL, "417093", &a1);
	make_cred(k, OWNER_A, NULL, "628304", &a2);
	make_cred(k, OWNER_B, NULL, "751962", &b1);
	assert_int_equal(keys_cred_create(k, OWNER_B, &subj, NULL, "860471", true, &p1, &csr,
	                                  &csr_len), 0);
	assert_int_equal(keys_ca_crl(k, &crl0, &crl0_len), 0);   /* older than the backup */
	make_cred(k, OWNER_A, NULL, "907315", &z);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, z.id, 4), 0);
	assert_int_equal(keys_backup(k, &blob, &len), 0);

	/* After the backup: a2 revoked, B deregistered (b1 revoked, the pending p1 destroyed),
	 * a1 locked by wrong PINs. */
	assert_int_equal(keys_cred_revoke(k, OWNER_A, a2.id, 1), 0);
	assert_int_equal(keys_cred_destroy_owner(k, OWNER_B, &count), 0);
	assert_int_equal(count, 2);
	for (i = 0; i < 3; i++)
		assert_int_not_equal(keys_cred_open(k, OWNER_A, a1.id, "000000", kek), 0);
	expect_status(k, a1.id, KEYS_LOCKED);
	assert_int_equal(keys_ca_crl(k, &crl1, &crl1_len), 0);
	n1 = crl_number(crl1, crl1_len, NULL, NULL);

	/* Witness 1: the live key store the backup replaces. */
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), 0);
	assert_int_equal(n, 5);
	expect_status(k, a2.id, KEYS_REVOKED);
	expect_status(k, b1.id, KEYS_REVOKED);
	expect_status(k, p1.id, KEYS_DESTROYED);
	expect_status(k, a1.id, KEYS_LOCKED);
	assert_int_equal(blobs_left(f, a2.id) + blobs_left(f, b1.id) + blobs_left(f, p1.id), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, a2.id, "628304", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_cred_open(k, OWNER_A, a1.id, "417093", kek), INK_ERR_LOCKED);
	assert_int_equal(keys_ca_crl(k, &crl2, &crl2_len), 0);
	assert_true(crl_number(crl2, crl2_len, a2.serial, &listed) > n1);
	assert_true(listed);
	crl_number(crl2, crl2_len, b1.serial, &listed);
	assert_true(listed);
	free(crl2);
	crl2 = NULL;

	/* A key made after the backup would be lost: refused until it is revoked; then its
	 * serial stays on the CRL though its row is gone. */
	make_cred(k, OWNER_A, NULL, "294816", &a3);
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), INK_ERR_EXISTS);
	assert_int_equal(keys_cred_open(k, OWNER_A, a3.id, "294816", kek), 0);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, a3.id, 1), 0);
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), 0);
	assert_int_equal(keys_cred_get(k, OWNER_A, a3.id, &gone), INK_ERR_NOT_FOUND);
	assert_int_equal(keys_ca_crl(k, &crl2, &crl2_len), 0);
	crl_number(crl2, crl2_len, a3.serial, &listed);
	assert_true(listed);
	free(crl2);
	crl2 = NULL;

	/* Witness 2 on a bare key store (the machine lost): the CA's CRL as published; one older
	 * than the backup, or one in the CA's name signed by another key, is none. */
	forged_crl(k, &forged, &forged_len);
	k = bare_store(f, k);
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, false, NULL, NULL, &n), INK_ERR_NO_WITNESS);
	assert_int_equal(keys_restore(k, blob, len, crl0, crl0_len, false, NULL, NULL, &n), INK_ERR_NO_WITNESS);
	assert_int_equal(keys_restore(k, blob, len, forged, forged_len, false, NULL, NULL, &n), INK_ERR_UNTRUSTED);
	crl1[crl1_len - 3] ^= 1;               /* in its signature */
	assert_int_equal(keys_restore(k, blob, len, crl1, crl1_len, false, NULL, NULL, &n), INK_ERR_UNTRUSTED);
	crl1[crl1_len - 3] ^= 1;
	assert_int_equal(keys_cred_get(k, NULL, a1.id, &gone), INK_ERR_NOT_FOUND);   /* nothing changed */
	assert_int_equal(keys_restore(k, blob, len, crl1, crl1_len, false, NULL, NULL, &n), 0);
	expect_status(k, a2.id, KEYS_REVOKED);
	expect_status(k, b1.id, KEYS_REVOKED);
	assert_int_equal(blobs_left(f, a2.id) + blobs_left(f, b1.id), 0);
	assert_int_not_equal(keys_cred_open(k, OWNER_B, p1.id, "860471", kek), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, a1.id, "417093", kek), 0);
	assert_int_equal(keys_ca_crl(k, &crl2, &crl2_len), 0);
	assert_true(crl_number(crl2, crl2_len, a2.serial, &listed) > n1);
	assert_true(listed);
	free(crl2);
	crl2 = NULL;
	/* Dual control (checked by the caller) restores without a witness. */
	k = bare_store(f, k);
	assert_int_equal(keys_restore(k, blob, len, NULL, 0, true, NULL, NULL, &n), 0);
	assert_int_equal(n, 5);

	/* Another CA's key store with credentials is not replaced. */
	k = bare_store(f, k);
	assert_int_equal(keys_ca_init(k), 0);
	keys_cred_clear(&z);
	make_cred(k, OWNER_A, NULL, "907315", &z);
	assert_int_equal(keys_restore(k, blob, len, crl1, crl1_len, false, NULL, NULL, &n), INK_ERR_EXISTS);
	assert_int_equal(keys_cred_open(k, OWNER_A, z.id, "907315", kek), 0);

	free(forged);
	free(crl0);
	free(crl1);
	free(csr);
	free(blob);
	keys_cred_clear(&a1);
	keys_cred_clear(&a2);
	keys_cred_clear(&a3);
	keys_cred_clear(&b1);
	keys_cred_clear(&p1);
	keys_cred_clear(&z);
	keys_close(k);
}

/* ---- PKCS#11 backend (SoftHSM2): keys made in the token, leaving it only wrapped ---- */

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
/* CK_RV values (PKCS#11 v2.40), so that this file needs no PKCS#11 header. */
#define T_CKR_OK 0x0UL
#define T_CKR_ATTRIBUTE_SENSITIVE 0x11UL
#define T_CKR_KEY_UNEXTRACTABLE 0x6aUL

static int
run_quiet(const char *cmd)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s >/dev/null 2>&1", cmd);
	return system(line);
}

/* One SoftHSM2 configuration for the whole process: once loaded, SoftHSM keeps the
 * configuration it read first, so each test re-initialises the token in the same directory. */
static char p11_root[64];

static int
p11_group_setup(void **state)
{
	char conf[128];
	FILE *fp;

	(void)state;
	if (access(SOFTHSM_MODULE, R_OK) != 0)
		return 0;   /* the PKCS#11 tests skip: SoftHSM2 not installed */
	snprintf(p11_root, sizeof(p11_root), "/tmp/inkan-test-p11.XXXXXX");
	if (mkdtemp(p11_root) == NULL)
		return -1;
	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", p11_root);
	if ((fp = fopen(conf, "w")) == NULL)
		return -1;
	fprintf(fp, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
	        p11_root);
	fclose(fp);
	return setenv("SOFTHSM2_CONF", conf, 1);
}

static int
p11_group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (p11_root[0] == '\0')
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p11_root);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh token "inkan" (SO PIN 5678, user PIN 1234): the old one and its objects are gone. */
static void
p11_init_token(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/tokens' && mkdir -m 700 '%s/tokens'", p11_root, p11_root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(run_quiet("softhsm2-util --init-token --free --label inkan --so-pin 5678 "
	                           "--pin 1234"), 0);
}

static int
p11_setup(void **state)
{
	struct fixture *f;

	if (setup(state) != 0)
		return -1;
	f = *state;
	/* skipped in the test body; in PostgreSQL mode too (they read the SQLite file) */
	if (p11_root[0] == '\0' || pg_mode())
		return 0;
	p11_init_token();
	f->have_p11 = true;
	return 0;
}

static void
p11_write_pin(struct fixture *f, const char *pin, unsigned mode)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/pkcs11.pin", f->dir);
	(void)unlink(path);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "%s\n", pin);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void
p11_params(struct keys_params *p)
{
	struct keys_params d = {
		.argon2_m_kib = 8192, .argon2_t = 1, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .crl_url = "https://127.0.0.1:8443/ca/crl", .organization = "inkan test",
		.key_backend = "pkcs11", .pkcs11_module = SOFTHSM_MODULE,
		.pkcs11_allowed_modules = "/opt/other.so:" SOFTHSM_MODULE, .pkcs11_token_label = "inkan",
		.pkcs11_pin_file = "pkcs11.pin",
	};

	*p = d;
}

static struct keys *
p11_open_store(struct fixture *f)
{
	struct keys_params p;
	struct keys *k = NULL;

	p11_params(&p);
	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(keys_set_params(k, &p), 0);
	return k;
}

static struct keys *
p11_new_store(struct fixture *f)
{
	struct keys *k;

	assert_int_equal(keys_init_dir(f->dir), 0);
	p11_write_pin(f, "1234", 0600);
	k = p11_open_store(f);
	assert_int_equal(keys_ca_init(k), 0);
	return k;
}

/* What an attacker with the database reads for credential id. */
struct p11_row {
	char backend[16], owner[64], algo[16];
	uint8_t salt[16];
	uint8_t *blob;
	size_t blob_len;
};

static void
p11_read_row(struct fixture *f, const char *id, struct p11_row *row)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	memset(row, 0, sizeof(*row));
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT backend, owner, algo, salt, blob FROM "
	                                    "credentials WHERE id = ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(row->backend, sizeof(row->backend), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(row->owner, sizeof(row->owner), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(row->algo, sizeof(row->algo), "%s", (const char *)sqlite3_column_text(st, 2));
	assert_int_equal(sqlite3_column_bytes(st, 3), sizeof(row->salt));
	memcpy(row->salt, sqlite3_column_blob(st, 3), sizeof(row->salt));
	row->blob_len = (size_t)sqlite3_column_bytes(st, 4);
	assert_true(row->blob_len > 0);
	assert_non_null(row->blob = malloc(row->blob_len));
	memcpy(row->blob, sqlite3_column_blob(st, 4), row->blob_len);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static int64_t
p11_failures(struct keys *k, const char *id)
{
	struct keys_cred c;
	int64_t n;

	assert_int_equal(keys_cred_get(k, NULL, id, &c), 0);
	n = c.pin_failures;
	keys_cred_clear(&c);
	return n;
}

static void
test_p11_sign(void **state)
{
	struct fixture *f = *state;
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = OWNER_A };
	struct keys_cred ec, rsa, bad;
	struct p11_row row;
	struct keys *k;
	uint8_t kek[32], *csr = NULL;
	size_t csr_len = 0;

	if (!f->have_p11)
		skip();
	k = p11_new_store(f);
	/* the token as it describes itself: SoftHSM2, in no hardware slot */
	{
		struct keys_token_info ti;

		assert_int_equal(keys_token_info(k, &ti), 0);
		assert_non_null(strstr(ti.model, "SoftHSM"));
		assert_int_equal(ti.slot_flags & CKF_HW_SLOT, 0);
	}
	make_cred(k, OWNER_A, "P-256", "481526", &ec);
	make_cred(k, OWNER_A, "RSA-3072", "902735", &rsa);
	p11_read_row(f, ec.id, &row);
	assert_string_equal(row.backend, "pkcs11");
	free(row.blob);
	/* Signatures verify against the certificate: ECDSA, PKCS#1 v1.5, PSS. */
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "481526", kek), 0);
	assert_int_equal(sign_and_verify(k, &ec, kek, "1.2.840.10045.4.3.2"), 0);
	assert_int_equal(sign_and_verify(k, &ec, kek, "1.2.840.113549.1.1.11"), INK_ERR_POLICY);
	assert_int_equal(keys_cred_open(k, OWNER_A, rsa.id, "902735", kek), 0);
	assert_int_equal(sign_and_verify(k, &rsa, kek, "1.2.840.113549.1.1.11"), 0);
	assert_int_equal(sign_and_verify(k, &rsa, kek, "1.2.840.113549.1.1.10"), 0);
	check_pss_salts(k, &rsa, kek);
	/* The RSA key's derivation does not open the EC key. */
	assert_int_not_equal(sign_and_verify(k, &ec, kek, "1.2.840.10045.4.3.2"), 0);
	/* A wrong PIN fails and counts, exactly like the software backend; the right one resets. */
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "999999", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "123457", kek), INK_ERR_AUTH);
	assert_int_equal(p11_failures(k, ec.id), 2);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "481526", kek), 0);
	assert_int_equal(p11_failures(k, ec.id), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "000000", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "000001", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "000002", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "481526", kek), INK_ERR_LOCKED);
	assert_int_equal(keys_cred_unlock(k, ec.id), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, ec.id, "481526", kek), 0);
	/* Ed25519 stays with the software backend; an external CA's request is signed in the
	 * token, and verifies under the key's public half. */
	assert_int_equal(keys_cred_create(k, OWNER_A, &subj, "Ed25519", "481526", false, &bad, NULL,
	                                  NULL), INK_ERR_POLICY);
	assert_int_equal(keys_cred_create(k, OWNER_A, &subj, "P-384", "481526", true, &bad, &csr,
	                                  &csr_len), 0);
	assert_non_null(csr);
	{
		const uint8_t *p = csr;
		X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)csr_len);
		EVP_PKEY *pub;

		assert_non_null(req);
		assert_non_null(pub = X509_REQ_get0_pubkey(req));
		assert_int_equal(X509_REQ_verify(req, pub), 1);
		assert_int_equal(bad.status, KEYS_PENDING);
		X509_REQ_free(req);
	}
	free(csr);
	csr = NULL;
	keys_cred_clear(&bad);
	keys_cred_clear(&ec);
	keys_cred_clear(&rsa);
	keys_close(k);
}

/* The blob in the database is no key; the token unwraps it only under the right derivation,
 * and then into an object whose private value cannot be read or wrapped out. */
static void
test_p11_non_extractable(void **state)
{
	struct fixture *f = *state;
	struct keys_p11_probe pr;
	struct keys_cred c[2];
	struct p11_row row;
	struct keys *k;
	uint8_t data[KEYS_P11_DATA_LEN], buf[8192];
	const uint8_t *pp;
	EVP_PKEY *pk;
	size_t i, n = 0;
	enum policy_key_type type;

	if (!f->have_p11)
		skip();
	k = p11_new_store(f);
	make_cred(k, OWNER_A, "P-384", "246810", &c[0]);
	make_cred(k, OWNER_B, "RSA-3072", "246810", &c[1]);
	for (i = 0; i < 2; i++) {
		type = i == 0 ? POLICY_KEY_EC : POLICY_KEY_RSA;
		p11_read_row(f, c[i].id, &row);
		/* Not a private key in any encoding OpenSSL knows, with or without its version byte. */
		pp = row.blob;
		pk = d2i_AutoPrivateKey(NULL, &pp, (long)row.blob_len);
		assert_null(pk);
		pp = row.blob + 1;
		pk = d2i_AutoPrivateKey(NULL, &pp, (long)row.blob_len - 1);
		assert_null(pk);
		assert_int_equal(keys_unseal(k, "signing-key", NULL, 0, row.blob, row.blob_len, buf, &n),
		                 INK_ERR_CRYPTO);
		/* A derivation from another PIN does not unwrap it. */
		assert_int_equal(keys_p11_derive_data(k, &test_cost, "246811", row.salt, sizeof(row.salt), c[i].id,
		                                      row.owner, row.algo, data), 0);
		assert_int_equal(keys_p11_test_probe(k, data, row.blob, row.blob_len, type, &pr), 0);
		assert_int_equal(pr.unwrap, INK_ERR_AUTH);
		/* Nor one for another credential (same PIN, another id and owner). */
		assert_int_equal(keys_p11_derive_data(k, &test_cost, "246810", row.salt, sizeof(row.salt),
		                                      c[1 - i].id, row.owner, row.algo, data), 0);
		assert_int_equal(keys_p11_test_probe(k, data, row.blob, row.blob_len, type, &pr), 0);
		assert_int_equal(pr.unwrap, INK_ERR_AUTH);
		/* The right one unwraps into a sensitive, non-extractable object: the token refuses
		 * to reveal the private value (CKR_ATTRIBUTE_SENSITIVE) and to wrap it out again. */
		assert_int_equal(keys_p11_derive_data(k, &test_cost, "246810", row.salt, sizeof(row.salt), c[i].id,
		                                      row.owner, row.algo, data), 0);
		assert_int_equal(keys_p11_test_probe(k, data, row.blob, row.blob_len, type, &pr), 0);
		assert_int_equal(pr.unwrap, 0);
		assert_int_equal(pr.flags_rv, T_CKR_OK);
		assert_false(pr.extractable);
		assert_true(pr.sensitive);
		assert_int_equal(pr.value_rv, T_CKR_ATTRIBUTE_SENSITIVE);
		assert_int_equal(pr.value_len, (unsigned long)-1);   /* CK_UNAVAILABLE_INFORMATION */
		assert_int_equal(pr.wrap_rv, T_CKR_KEY_UNEXTRACTABLE);
		/* An altered blob does not unwrap either. */
		row.blob[row.blob_len / 2] ^= 1;
		assert_int_equal(keys_p11_test_probe(k, data, row.blob, row.blob_len, type, &pr), 0);
		assert_int_equal(pr.unwrap, INK_ERR_AUTH);
		free(row.blob);
	}
	keys_cred_clear(&c[0]);
	keys_cred_clear(&c[1]);
	keys_close(k);
}

static void
test_p11_change_pin(void **state)
{
	struct fixture *f = *state;
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = OWNER_B };
	struct keys_cred c, renewed;
	struct keys *k;
	uint8_t kek[32];

	if (!f->have_p11)
		skip();
	k = p11_new_store(f);
	make_cred(k, OWNER_A, "P-256", "417093", &c);
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "417094", "628304"), INK_ERR_AUTH);
	assert_int_equal(p11_failures(k, c.id), 1);
	assert_int_equal(keys_cred_change_pin(k, OWNER_A, c.id, "417093", "628304"), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "417093", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "628304", kek), 0);
	assert_int_equal(sign_and_verify(k, &c, kek, "1.2.840.10045.4.3.2"), 0);
	keys_cred_clear(&c);
	/* RSA too (PSS); a renewal makes the new key in the token under the same PIN. */
	make_cred(k, OWNER_B, "RSA-3072", "751962", &c);
	assert_int_equal(keys_cred_change_pin(k, OWNER_B, c.id, "751962", "860471"), 0);
	assert_int_equal(keys_cred_open(k, OWNER_B, c.id, "860471", kek), 0);
	assert_int_equal(sign_and_verify(k, &c, kek, "1.2.840.113549.1.1.10"), 0);
	assert_int_equal(keys_cred_renew(k, OWNER_B, c.id, "860471", &subj, &renewed), 0);
	assert_int_equal(keys_cred_open(k, OWNER_B, c.id, "860471", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_cred_open(k, OWNER_B, renewed.id, "860471", kek), 0);
	assert_int_equal(sign_and_verify(k, &renewed, kek, "1.2.840.113549.1.1.11"), 0);
	keys_cred_clear(&renewed);
	keys_cred_clear(&c);
	keys_close(k);
}

/* The same key store with another token (re-initialised: a new master secret) cannot sign,
 * even with the right PIN and derivation data obtained before. */
static void
test_p11_other_token(void **state)
{
	struct fixture *f = *state;
	struct keys_cred c;
	struct keys *k;
	uint8_t kek[32];

	if (!f->have_p11)
		skip();
	k = p11_new_store(f);
	make_cred(k, OWNER_A, "P-256", "135790", &c);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "135790", kek), 0);
	assert_int_equal(sign_and_verify(k, &c, kek, "1.2.840.10045.4.3.2"), 0);
	keys_close(k);
	p11_init_token();
	k = p11_open_store(f);
	assert_int_not_equal(sign_and_verify(k, &c, kek, "1.2.840.10045.4.3.2"), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "135790", kek), INK_ERR_AUTH);
	keys_cred_clear(&c);
	keys_close(k);
}

static void
test_p11_config_checks(void **state)
{
	struct fixture *f = *state;
	struct keys_params p;
	char copy[128], cmd[512];
	struct keys *k = NULL;

	if (!f->have_p11)
		skip();
	assert_int_equal(keys_init_dir(f->dir), 0);
	p11_write_pin(f, "1234", 0600);
	assert_int_equal(keys_open(f->dir, &k), 0);
	/* A module not on the allow-list, or a relative path, is not loaded. */
	p11_params(&p);
	p.pkcs11_allowed_modules = "/usr/lib/other/libsofthsm2.so:/usr/lib/softhsm/libsofthsm2";
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p11_params(&p);
	p.pkcs11_module = "libsofthsm2.so";
	p.pkcs11_allowed_modules = "libsofthsm2.so";
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	/* Unknown backend, unknown token, wrong token PIN. */
	p11_params(&p);
	p.key_backend = "hsm";
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p11_params(&p);
	p.pkcs11_token_label = "nosuchtoken";
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p11_params(&p);
	p11_write_pin(f, "9999", 0600);
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	/* The PIN file must be 0600, in directories nobody but root or we can change, and none
	 * of the key store's files (a master key sent to a module as its PIN). */
	p11_write_pin(f, "1234", 0640);
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p11_write_pin(f, "1234", 0600);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	assert_int_equal(chmod(f->dir, 0700), 0);
	p.pkcs11_pin_file = "master.key";
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p.pkcs11_pin_file = f->master;
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	/* nor the key store's URI file (here holding the right PIN: only the refusal stops it) */
	{
		char url[256];

		snprintf(url, sizeof(url), "%s/keystore.url", f->dir);
		write_text(url, "1234\n", 5, 0600);
		p.pkcs11_pin_file = "keystore.url";
		assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
		assert_int_equal(unlink(url), 0);
	}
	p11_params(&p);
	/* A listed module is loaded only from root's directories that nobody else can write:
	 * not a copy under /tmp (world-writable, even if sticky). */
	snprintf(copy, sizeof(copy), "%s/libsofthsm2.so", f->root);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 755 '%s' '%s'", SOFTHSM_MODULE, copy,
	         f->root, copy);
	assert_int_equal(system(cmd), 0);
	p.pkcs11_module = copy;
	p.pkcs11_allowed_modules = copy;
	assert_int_equal(keys_set_params(k, &p), INK_ERR_CONFIG);
	p11_params(&p);
	assert_int_equal(keys_set_params(k, &p), 0);
	/* Twice is fine (the first session is closed); back to soft closes it. */
	assert_int_equal(keys_set_params(k, &p), 0);
	p.key_backend = "soft";
	assert_int_equal(keys_set_params(k, &p), 0);
	keys_close(k);
}


/* The audit log key and the SAM's frontier: heads extend the last signed one only, survive a
 * reopen, verify with the published key, and a version-1 key store is upgraded. */
static void
test_audit_log_state(void **state)
{
	if (pg_mode())
		skip();   /* opens the SQLite file itself */

	struct fixture *f = *state;
	struct keys *k = NULL;
	struct audit_head h, h2;
	struct audit_frontier fr;
	uint8_t leaves[5][AUDIT_HASH_LEN], root[AUDIT_HASH_LEN], *spki = NULL, *spki2 = NULL;
	uint8_t *old_blob = NULL, *spki3 = NULL;
	size_t len = 0, len2 = 0, i, old_len = 0, len3 = 0, n = 0;
	struct audit_head h3;
	bool closed = true;
	sqlite3 *db = NULL;

	assert_int_equal(keys_init_dir(f->dir), 0);
	/* make it a version-1 store, as before the audit log existed */
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP VIEW log_state; DROP TABLE log_head; DROP TABLE log_key; "
	                              "DROP TABLE sam_meta; DROP TABLE sam_audit_logged; DROP TABLE sam_audit; "
	                              "DROP TABLE sam_sessions; "
	                              "DROP TABLE persons; DROP TABLE sads; DROP TABLE master_check; "
	                              "ALTER TABLE credentials DROP COLUMN auth_mode; "
	                              "DROP INDEX credentials_live_expiry; "
	                              "UPDATE keystore_meta SET version = 1",
	                              NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(keys_log_head(k, &h, &closed, &spki, &len), 0);
	assert_int_equal(h.size, 0);
	assert_false(closed);
	memset(&fr, 0, sizeof(fr));
	for (i = 0; i < 5; i++) {
		memset(leaves[i], (int)i + 1, AUDIT_HASH_LEN);
		if (i < 3)
			audit_frontier_add(&fr, leaves[i]);
	}
	assert_int_equal(keys_log_extend(k, 0, leaves[0], 3, false, NULL, NULL, 0, &h), 0);
	assert_int_equal(h.size, 3);
	audit_frontier_root(&fr, root);
	assert_memory_equal(h.root, root, AUDIT_HASH_LEN);
	assert_int_equal(audit_head_verify(&h, spki, len), 0);
	/* not an extension of the last head: refused, nothing changed */
	assert_int_equal(keys_log_extend(k, 2, leaves[3], 2, false, NULL, NULL, 0, &h2), INK_ERR_EXISTS);
	assert_int_equal(keys_log_extend(k, 5, leaves[3], 2, false, NULL, NULL, 0, &h2), INK_ERR_EXISTS);
	keys_close(k);
	k = NULL;
	/* after a reopen: the same key, the same state; a final head is remembered */
	assert_int_equal(keys_open(f->dir, &k), 0);
	assert_int_equal(keys_log_head(k, &h2, &closed, &spki2, &len2), 0);
	assert_int_equal(h2.size, 3);
	assert_memory_equal(h2.root, root, AUDIT_HASH_LEN);
	assert_int_equal(len2, len);
	assert_memory_equal(spki2, spki, len);
	/* a backup of the log at size 3 ... */
	assert_int_equal(keys_backup(k, &old_blob, &old_len), 0);
	assert_int_equal(keys_log_extend(k, 3, leaves[3], 2, true, NULL, NULL, 0, &h2), 0);
	/* ... does not take the same log back once the SAM has signed 5: that would let it sign
	 * a second tree of size 4 or 5 (a fork); the log stays where it is (this store has no CA
	 * nor credentials: only with dual control is it restored at all) */
	assert_int_equal(keys_restore(k, old_blob, old_len, NULL, 0, false, NULL, NULL, &n), INK_ERR_NO_WITNESS);
	assert_int_equal(keys_restore(k, old_blob, old_len, NULL, 0, true, NULL, NULL, &n), 0);
	assert_int_equal(keys_log_head(k, &h3, &closed, &spki3, &len3), 0);
	assert_int_equal(h3.size, 5);
	assert_memory_equal(h3.root, h2.root, AUDIT_HASH_LEN);
	free(spki3);
	free(old_blob);
	audit_frontier_add(&fr, leaves[3]);
	audit_frontier_add(&fr, leaves[4]);
	audit_frontier_root(&fr, root);
	assert_int_equal(h2.size, 5);
	assert_memory_equal(h2.root, root, AUDIT_HASH_LEN);
	assert_int_equal(audit_head_verify(&h2, spki, len), 0);
	free(spki2);
	spki2 = NULL;
	assert_int_equal(keys_log_head(k, &h2, &closed, &spki2, &len2), 0);
	assert_true(closed);
	/* A backup of another tree of the size the SAM signed (a fork) is refused outright. */
	assert_int_equal(keys_backup(k, &old_blob, &old_len), 0);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO log_head (key_id, size, frontier, time, sig) "
	                              "SELECT key_id, size, zeroblob(64), time, sig FROM log_head "
	                              "ORDER BY id DESC LIMIT 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(keys_restore(k, old_blob, old_len, NULL, 0, true, NULL, NULL, &n), INK_ERR_REPLAY);
	free(old_blob);
	keys_close(k);
	free(spki);
	free(spki2);
}

/* 1000 + the status keys_ocsp_respond states for a CertID of cert under the issuing CA (or its
 * error), after checking that the nonce came back byte for byte (and none when none was sent). */
static int
ocsp_status(struct keys *k, X509 *issuing, X509 *cert, const uint8_t *nonce, size_t nlen,
            bool may_sign, bool *fresh, uint8_t **der, size_t *len, int *reason)
{
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuing);
	unsigned char *idder = NULL;
	int idlen = i2d_OCSP_CERTID(id, &idder), status = -1, idx, r;
	const uint8_t *ids[1] = { idder }, *p;
	size_t lens[1] = { (size_t)idlen };
	struct keys_ocsp_req q = { .ids = ids, .id_lens = lens, .n = 1, .nonce = nonce,
	                           .nonce_len = nlen, .validity = 3600, .may_sign = may_sign };
	OCSP_RESPONSE *or = NULL;
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *tu = NULL, *nu = NULL;

	assert_true(idlen > 0);
	*reason = -1;
	if ((r = keys_ocsp_respond(k, &q, der, len, fresh)) == 0) {
		p = *der;
		assert_non_null(or = d2i_OCSP_RESPONSE(NULL, &p, (long)*len));
		assert_non_null(bs = OCSP_response_get1_basic(or));
		assert_int_equal(OCSP_resp_find_status(bs, id, &status, reason, &rev, &tu, &nu), 1);
		idx = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1);
		if (nonce == NULL) {
			assert_true(idx < 0);
		} else {
			const ASN1_OCTET_STRING *v =
			    X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(bs, idx));

			assert_true(idx >= 0);
			assert_memory_equal(ASN1_STRING_get0_data(v), nonce, nlen);
			assert_int_equal(ASN1_STRING_length(v), (int)nlen);
		}
	}
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(or);
	OCSP_CERTID_free(id);
	OPENSSL_free(idder);
	return r != 0 ? r : 1000 + status;
}

/* The OCSP responder in the key store: good, unknown, revoked with its reason at once (the kept
 * answer is not served once the status changed), kept answers reused without a nonce, and
 * none signed without may_sign. */
static void
test_ocsp_respond(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_cred c;
	X509 *issuing = NULL, *cert = NULL, *other = NULL;
	EVP_PKEY *okey = NULL;
	uint8_t *d1 = NULL, *d2 = NULL, nonce[18] = { 0x04, 0x10, 1, 2, 3 };
	size_t l1 = 0, l2 = 0;
	bool fresh = false;
	int reason;

	make_cred(k, OWNER_A, NULL, "907315", &c);
	assert_int_equal(keys_ca_load(k, "issuing", NULL, &issuing), 0);
	assert_int_equal(ca_cert_from_der(c.cert, c.cert_len, &cert), 0);
	/* good, signed now, then the same kept answer; without may_sign only the kept one */
	assert_int_equal(ocsp_status(k, issuing, cert, NULL, 0, false, &fresh, &d1, &l1, &reason),
	                 INK_ERR_BUSY);
	assert_int_equal(ocsp_status(k, issuing, cert, NULL, 0, true, &fresh, &d1, &l1, &reason),
	                 1000 + V_OCSP_CERTSTATUS_GOOD);
	assert_true(fresh);
	assert_int_equal(ocsp_status(k, issuing, cert, NULL, 0, false, &fresh, &d2, &l2, &reason),
	                 1000 + V_OCSP_CERTSTATUS_GOOD);
	assert_false(fresh);
	assert_true(l1 == l2 && memcmp(d1, d2, l1) == 0);
	free(d2);
	d2 = NULL;
	/* a nonce: signed now, echoed */
	assert_int_equal(ocsp_status(k, issuing, cert, nonce, sizeof(nonce), true, &fresh, &d2, &l2,
	                             &reason), 1000 + V_OCSP_CERTSTATUS_GOOD);
	assert_true(fresh);
	free(d2);
	d2 = NULL;
	/* a certificate the CA never issued (same names, another key and serial): unknown */
	assert_int_equal(ca_make_ocsp(NULL, NULL, NULL, 1, &okey, &other), INK_ERR_INVALID);
	other = X509_dup(cert);
	assert_non_null(other);
	ASN1_INTEGER_set(X509_get_serialNumber(other), 0x1234);
	assert_int_equal(ocsp_status(k, issuing, other, NULL, 0, true, &fresh, &d2, &l2, &reason),
	                 1000 + V_OCSP_CERTSTATUS_UNKNOWN);
	free(d2);
	d2 = NULL;
	/* revoked: at once, with the reason; the kept good answer is not given any more */
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c.id, 1), 0);
	assert_int_equal(ocsp_status(k, issuing, cert, NULL, 0, false, &fresh, &d2, &l2, &reason),
	                 INK_ERR_BUSY);
	assert_int_equal(ocsp_status(k, issuing, cert, NULL, 0, true, &fresh, &d2, &l2, &reason),
	                 1000 + V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, 1);
	free(d2);
	free(d1);
	X509_free(other);
	X509_free(cert);
	X509_free(issuing);
	EVP_PKEY_free(okey);
	keys_cred_clear(&c);
	keys_close(k);
}

/* The SAM's attestation: signed by the log key, verifiable, parsed back; the key store never
 * signs a text that could read as a checkpoint; an altered text fails; the census counts. */
static void
test_attestation(void **state)
{
	struct fixture *f = *state;
	const char *text = AUDIT_ATTEST_PREFIX "assurance_level=3\nkey_backend=soft\n";
	struct keys_census c;
	struct keys_token_info ti;
	struct keys_cred cr;
	struct keys *k = NULL;
	uint8_t sig[AUDIT_SIG_MAX], *spki = NULL, *spki2 = NULL;
	size_t sig_len = 0, len = 0, len2 = 0;
	struct audit_head h;
	bool closed;
	json_t *claims = NULL;

	k = new_store(f);
	assert_int_equal(keys_log_attest(k, "inkan audit checkpoint v1\nsize=1\n", sig, &sig_len,
	                                 &spki, &len), INK_ERR_INVALID);
	assert_int_equal(keys_log_attest(k, text, sig, &sig_len, &spki, &len), 0);
	assert_int_equal(keys_log_head(k, &h, &closed, &spki2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(spki, spki2, len);
	assert_int_equal(audit_attest_verify(text, sig, sig_len, spki, len), 0);
	assert_int_not_equal(audit_attest_verify(AUDIT_ATTEST_PREFIX "assurance_level=4\nkey_backend=soft\n",
	                                         sig, sig_len, spki, len), 0);
	assert_int_equal(audit_attest_parse(text, &claims), 0);
	assert_string_equal(json_string_value(json_object_get(claims, "key_backend")), "soft");
	json_decref(claims);
	assert_int_equal(audit_attest_parse("inkan audit checkpoint v1\nsize=1\n", &claims), INK_ERR_INVALID);
	assert_int_equal(audit_attest_parse(AUDIT_ATTEST_PREFIX "a=1\na=2\n", &claims), INK_ERR_INVALID);
	assert_int_equal(audit_attest_parse(AUDIT_ATTEST_PREFIX "novalue\n", &claims), INK_ERR_INVALID);
	assert_int_equal(keys_token_info(k, &ti), INK_ERR_NOT_FOUND);
	make_cred(k, OWNER_A, "P-256", "481526", &cr);
	keys_cred_clear(&cr);
	assert_int_equal(keys_census(k, &c), 0);
	assert_int_equal(c.usable_credentials, 1);
	assert_string_equal(c.credentials, "soft/P-256/active=1");
	assert_int_equal(c.persons, 0);
	keys_close(k);
	free(spki);
	free(spki2);
}

/* ---- PostgreSQL: the wall between the two roles, kept by the database itself ---- */

/* The tables (and views) of schema, as the superuser sees them. */
static size_t
pg_relations(PGconn *admin, const char *schema, char names[][64], size_t max)
{
	const char *params[1] = { schema };
	PGresult *res = PQexecParams(admin, "SELECT c.relname FROM pg_class AS c JOIN pg_namespace "
	                             "AS n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
	                             "c.relkind IN ('r', 'v') ORDER BY 1", 1, NULL, params, NULL,
	                             NULL, 0);
	size_t n = 0;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res) && n < max; i++)
		snprintf(names[n++], 64, "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	return n;
}

/* Runs sql (one %s: the escaped schema.table) as c: it must fail with permission denied. */
static void
pg_denied(PGconn *c, const char *fmt, const char *schema, const char *table)
{
	char qualified[160], sql[256];
	char *s = PQescapeIdentifier(c, schema, strlen(schema));
	char *t = PQescapeIdentifier(c, table, strlen(table));
	PGresult *res;
	const char *state;

	assert_non_null(s);
	assert_non_null(t);
	snprintf(qualified, sizeof(qualified), "%s.%s", s, t);
	PQfreemem(s);
	PQfreemem(t);
	/* fmt: the statement with %s where the table goes */
	assert_non_null(strstr(fmt, "%s"));
	snprintf(sql, sizeof(sql), "%.*s%s%s", (int)(strstr(fmt, "%s") - fmt), fmt, qualified,
	         strstr(fmt, "%s") + 2);
	res = PQexec(c, sql);
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (PQresultStatus(res) != PGRES_FATAL_ERROR || state == NULL ||
	    strcmp(state, "42501") != 0)
		fail_msg("%s: %s, not permission denied", sql, state != NULL ? state : "no error");
	PQclear(res);
}

/* The key store's tables, with rows in them: inkand's role can neither read a single row of any
 * nor write one, nor become the SAM's role; the SAM's role cannot read inkand's tables. */
static void
test_pg_wall(void **state)
{
	struct fixture *f = *state;
	char keys_tables[40][64], inkand_tables[40][64], url[1024];
	struct keys *k;
	struct keys_cred c;
	struct store *st = NULL;
	PGconn *admin, *inkand, *sam;
	PGresult *res;
	size_t nk, ni, i;

	if (!pg_mode())
		skip();
	k = new_store(f);
	make_cred(k, OWNER_A, NULL, "481526", &c);
	keys_cred_clear(&c);
	keys_close(k);
	/* inkand's own tables, made by its store as at its first start */
	pg_url(f->pgdb, "inkand", url, sizeof(url));
	assert_int_equal(store_open(url, &st), 0);
	store_close(st);
	admin = pg_connect(f->pgdb, "inkan_admin");
	nk = pg_relations(admin, "inkan_keys", keys_tables, 40);
	ni = pg_relations(admin, "inkand", inkand_tables, 40);
	/* rows there to be read: the CA's keys, the credential */
	res = PQexec(admin, "SELECT (SELECT count(*) FROM inkan_keys.ca) > 0 AND "
	             "(SELECT count(*) FROM inkan_keys.credentials) = 1");
	assert_string_equal(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	PQfinish(admin);
	/* every table of keystore-pg-0001.sql, log_state, master_check (keystore-pg-0002.sql)
	 * and sads (keystore-pg-0003.sql) */
	assert_int_equal(nk, 15);
	assert_true(ni >= 5);
	inkand = pg_connect(f->pgdb, "inkand");
	for (i = 0; i < nk; i++) {
		pg_denied(inkand, "SELECT * FROM %s LIMIT 1", "inkan_keys", keys_tables[i]);
		pg_denied(inkand, "SELECT count(*) FROM %s", "inkan_keys", keys_tables[i]);
		pg_denied(inkand, "INSERT INTO %s DEFAULT VALUES", "inkan_keys", keys_tables[i]);
		pg_denied(inkand, "UPDATE %s SET blob = NULL", "inkan_keys", keys_tables[i]);
		pg_denied(inkand, "DELETE FROM %s", "inkan_keys", keys_tables[i]);
	}
	/* and were the schema opened to it by mistake, each table still refuses it */
	admin = pg_connect(f->pgdb, "inkan_admin");
	res = PQexec(admin, "GRANT USAGE ON SCHEMA inkan_keys TO inkand");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	for (i = 0; i < nk; i++) {
		pg_denied(inkand, "SELECT * FROM %s LIMIT 1", "inkan_keys", keys_tables[i]);
		if (strcmp(keys_tables[i], "log_state") != 0)   /* a view: "cannot delete" first */
			pg_denied(inkand, "DELETE FROM %s", "inkan_keys", keys_tables[i]);
	}
	res = PQexec(admin, "REVOKE USAGE ON SCHEMA inkan_keys FROM inkand");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(admin);
	/* nor by another road: the SAM's role, a new table in the schema */
	res = PQexec(inkand, "SET ROLE inkan_sam");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	res = PQexec(inkand, "CREATE TABLE inkan_keys.x (a int)");
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	PQfinish(inkand);
	sam = pg_connect(f->pgdb, "inkan_sam");
	for (i = 0; i < ni; i++) {
		pg_denied(sam, "SELECT * FROM %s LIMIT 1", "inkand", inkand_tables[i]);
		pg_denied(sam, "DELETE FROM %s", "inkand", inkand_tables[i]);
	}
	PQfinish(sam);
}

/* PostgreSQL mode: a password inside the key store's URI, or a URI file others may read, is
 * refused; the key store must exist to be opened (init makes it, once). */
static void
test_pg_url_checks(void **state)
{
	struct fixture *f = *state;
	char path[256], url[1024], bad[1200];
	struct keys *k = NULL;
	FILE *fp;

	if (!pg_mode())
		skip();
	snprintf(path, sizeof(path), "%s/keystore.url", f->dir);
	assert_int_equal(keys_init_dir(f->dir), 0);
	assert_int_equal(access(f->db, F_OK), -1);   /* no SQLite file beside it */
	assert_int_equal(keys_open(f->dir, &k), 0);
	keys_close(k);
	pg_url(f->pgdb, "inkan_sam", url, sizeof(url));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);
	snprintf(bad, sizeof(bad), "%s&password=secret", url);
	assert_non_null(fp = fopen(path, "w"));
	fputs(bad, fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(keys_open(f->dir, &k), INK_ERR_CONFIG);
	assert_null(k);
	/* init again: the master key exists; and a key store in the database is never replaced */
	assert_non_null(fp = fopen(path, "w"));
	fputs(url, fp);
	fclose(fp);
	assert_int_equal(keys_init_dir(f->dir), INK_ERR_EXISTS);
	assert_int_equal(unlink(f->master), 0);
	assert_int_equal(keys_init_dir(f->dir), INK_ERR_EXISTS);
	assert_int_equal(access(f->master, F_OK), -1);
}

/* PostgreSQL mode: the server ends the SAM's idle connection (a restart, a failover): the next
 * call sees it gone and runs on a new connection, nothing restarted. */
static void
test_pg_reconnect(void **state)
{
	struct fixture *f = *state;
	struct keys *k;
	struct keys_cred c;
	uint8_t kek[32];
	PGconn *admin;
	PGresult *res;
	char sql[256];

	if (!pg_mode())
		skip();
	k = new_store(f);
	make_cred(k, OWNER_A, NULL, "481526", &c);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "481526", kek), 0);
	admin = pg_connect(f->pgdb, "inkan_admin");
	/* with a timeout, pg_terminate_backend returns once the backend is gone */
	snprintf(sql, sizeof(sql), "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
	         "WHERE datname = '%s' AND usename = 'inkan_sam'", f->pgdb);
	res = PQexec(admin, sql);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_string_equal(PQgetvalue(res, 0, 0), "1");
	PQclear(res);
	PQfinish(admin);
	/* ended while idle: seen before use, the call runs on a new connection */
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "481526", kek), 0);
	assert_int_equal(sign_and_verify(k, &c, kek, "1.2.840.10045.4.3.2"), 0);
	/* a wrong PIN still counted, in a transaction on the new connection */
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "000000", kek), INK_ERR_AUTH);
	keys_cred_clear(&c);
	keys_close(k);
}

/* Runs sql as admin; its one value (or "" when it returns none). */
static void
admin_sql(PGconn *admin, const char *sql, char *out, size_t outsz)
{
	PGresult *res = PQexec(admin, sql);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(admin));
	if (out != NULL)
		snprintf(out, outsz, "%s", PQresultStatus(res) == PGRES_TUPLES_OK &&
		         PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
}

/* Ends the SAM's connections to the key store, as a database restart or recovery does. */
static void
end_sam_connections(const struct fixture *f, PGconn *admin)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT count(pg_terminate_backend(pid, 5000)) FROM "
	         "pg_stat_activity WHERE datname = '%s' AND usename = 'inkan_sam'", f->pgdb);
	admin_sql(admin, sql, NULL, 0);
}

/* One more leaf on the audit log, signed by the SAM, or refused with want. */
static void
log_more(struct keys *k, uint8_t mark, int want)
{
	struct audit_head h;
	uint8_t leaf[AUDIT_HASH_LEN], *spki = NULL;
	size_t len = 0;
	bool closed = false;

	memset(leaf, mark, sizeof(leaf));
	assert_int_equal(keys_log_head(k, &h, &closed, &spki, &len), 0);
	free(spki);
	assert_int_equal(keys_log_extend(k, h.size, leaf, 1, false, NULL, NULL, 0, &h), want);
}

/* PostgreSQL mode, playing the DBA: the key store's rows are copied, a credential is revoked
 * (the audit log head moves on), the tables are rolled back to the copy (a point-in-time
 * recovery) and the SAM's connections ended. The credential is active in the database again
 * and the SAM refuses it and everything else, running or restarted, until an officer accepts. */
static void
test_pg_rollback_witness(void **state)
{
	struct fixture *f = *state;
	struct keys *k, *k2;
	struct keys_cred victim, other;
	struct keys_signer *sg = NULL;
	const size_t one_len[1] = { 32 };
	uint8_t kek[32];
	PGconn *admin;
	char sql[512], status[32];

	if (!pg_mode())
		skip();
	k = new_store(f);
	make_cred(k, OWNER_A, NULL, "481526", &victim);
	make_cred(k, OWNER_B, NULL, "481526", &other);
	assert_int_equal(keys_witness_check(k), 0);
	/* signatures' own connections, as in inkan-sam: the victim's key opens on them */
	assert_int_equal(keys_readers_open(k), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, victim.id, "481526", kek), 0);
	assert_int_equal(keys_signer_open(k, victim.id, kek, "1.2.840.10045.4.3.2", NULL, -1,
	                                  one_len, 1, &sg), 0);
	keys_signer_free(sg);
	log_more(k, 1, 0);
	admin = pg_connect(f->pgdb, "inkan_admin");
	/* the DBA's copy: the recovery point */
	admin_sql(admin, "CREATE TABLE public.pitr_cred AS SELECT * FROM inkan_keys.credentials; "
	          "CREATE TABLE public.pitr_revoked AS SELECT * FROM inkan_keys.revoked; "
	          "CREATE TABLE public.pitr_crl AS SELECT * FROM inkan_keys.crl; "
	          "CREATE TABLE public.pitr_head AS SELECT * FROM inkan_keys.log_head", NULL, 0);
	/* after it: the credential revoked (its key destroyed); no audit log head signed since,
	 * the revocation alone moved the witness on */
	assert_int_equal(keys_cred_revoke(k, OWNER_A, victim.id, 1), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, victim.id, "481526", kek), INK_ERR_DISABLED);
	/* the recovery: every table as it was at the copy */
	admin_sql(admin, "BEGIN; "
	          "ALTER TABLE inkan_keys.log_head DISABLE TRIGGER USER; "
	          "DELETE FROM inkan_keys.log_head; "
	          "INSERT INTO inkan_keys.log_head SELECT * FROM public.pitr_head; "
	          "ALTER TABLE inkan_keys.log_head ENABLE TRIGGER USER; "
	          "DELETE FROM inkan_keys.revoked; "
	          "INSERT INTO inkan_keys.revoked SELECT * FROM public.pitr_revoked; "
	          "DELETE FROM inkan_keys.crl; "
	          "INSERT INTO inkan_keys.crl SELECT * FROM public.pitr_crl; "
	          "UPDATE inkan_keys.credentials AS c SET status = b.status, blob = b.blob, "
	          "revoked_at = b.revoked_at, reason = b.reason FROM public.pitr_cred AS b "
	          "WHERE c.id = b.id; COMMIT", NULL, 0);
	end_sam_connections(f, admin);
	snprintf(sql, sizeof(sql), "SELECT status FROM inkan_keys.credentials WHERE id = '%s' AND "
	         "blob IS NOT NULL", victim.id);
	admin_sql(admin, sql, status, sizeof(status));
	assert_int_equal(atoi(status), KEYS_ACTIVE);     /* active again, with its sealed key */
	/* a signature first, with the kek of before: its own connection, made again, is compared
	 * with the witness before the key is read, and the key store is refused */
	sg = NULL;
	assert_int_equal(keys_signer_open(k, victim.id, kek, "1.2.840.10045.4.3.2", NULL, -1,
	                                  one_len, 1, &sg), INK_ERR_STORE);
	assert_null(sg);
	assert_int_equal(keys_witness_refused(k), INK_ERR_STORE);
	/* the next use sees the new connection: refused, the victim and every other credential */
	assert_int_equal(keys_cred_open(k, OWNER_A, victim.id, "481526", kek), INK_ERR_STORE);
	assert_int_equal(keys_cred_open(k, OWNER_B, other.id, "481526", kek), INK_ERR_STORE);
	assert_int_equal(keys_witness_gate(k), INK_ERR_STORE);
	/* no head signed onto it either */
	log_more(k, 3, INK_ERR_STORE);
	/* a restart finds it too */
	k2 = open_store(f);
	assert_int_equal(keys_witness_check(k2), INK_ERR_STORE);
	assert_int_equal(keys_cred_open(k2, OWNER_B, other.id, "481526", kek), INK_ERR_STORE);
	/* the officer's way out: the revocation applied again, then the store accepted */
	assert_int_equal(keys_witness_accept(k2), 0);
	assert_int_equal(keys_cred_revoke(k2, OWNER_A, victim.id, 1), 0);
	assert_int_equal(keys_cred_open(k2, OWNER_A, victim.id, "481526", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_cred_open(k2, OWNER_B, other.id, "481526", kek), 0);
	admin_sql(admin, "DROP TABLE public.pitr_cred, public.pitr_revoked, public.pitr_crl, "
	          "public.pitr_head", NULL, 0);
	PQfinish(admin);
	keys_cred_clear(&victim);
	keys_cred_clear(&other);
	keys_close(k2);
	keys_close(k);
}

/* PostgreSQL mode: a key store that merely moved on (another node signed heads, revoked) is
 * no roll-back: the SAM keeps working and its witness follows. */
static void
test_pg_witness_moved_on(void **state)
{
	struct fixture *f = *state;
	struct keys *a, *b;
	struct keys_cred c, d;
	uint8_t kek[32];
	char path[1024], *before = NULL, *after = NULL;
	size_t blen = 0, alen = 0;
	PGconn *admin;

	if (!pg_mode())
		skip();
	a = new_store(f);
	make_cred(a, OWNER_A, NULL, "481526", &c);
	make_cred(a, OWNER_B, NULL, "481526", &d);
	assert_int_equal(keys_witness_check(a), 0);
	assert_int_equal(ink_path(path, sizeof(path), f->dir, KEYS_WITNESS_FILE), 0);
	assert_int_equal(ink_read_file(path, 4096, &before, &blen), 0);
	/* the other node (its own witness) moves the store on */
	b = open_store(f);
	assert_int_equal(keys_cred_revoke(b, OWNER_B, d.id, 1), 0);
	log_more(b, 7, 0);
	log_more(b, 8, 0);
	keys_close(b);
	/* this node's witness is its own, from before */
	assert_int_equal(ink_write_file(path, before, blen, 0600), 0);
	admin = pg_connect(f->pgdb, "inkan_admin");
	end_sam_connections(f, admin);
	PQfinish(admin);
	assert_int_equal(keys_witness_gate(a), 0);
	assert_int_equal(keys_cred_open(a, OWNER_A, c.id, "481526", kek), 0);
	assert_int_equal(sign_and_verify(a, &c, kek, "1.2.840.10045.4.3.2"), 0);
	assert_int_equal(ink_read_file(path, 4096, &after, &alen), 0);
	assert_false(alen == blen && memcmp(before, after, blen) == 0);   /* it followed */
	log_more(a, 9, 0);
	free(before);
	free(after);
	keys_cred_clear(&c);
	keys_cred_clear(&d);
	keys_close(a);
}

/* SQLite mode: keystore.db copied back over a newer one while the SAM is stopped: the SAM
 * refuses at its start and refuses every signature, until the officer accepts. */
static void
test_sqlite_rollback_witness(void **state)
{
	struct fixture *f = *state;
	struct keys *k;
	struct keys_cred c;
	uint8_t kek[32];
	char db[1024], *old = NULL;
	size_t len = 0;

	if (pg_mode())
		skip();
	k = new_store(f);
	make_cred(k, OWNER_A, NULL, "481526", &c);
	assert_int_equal(keys_witness_check(k), 0);
	keys_close(k);
	assert_int_equal(ink_path(db, sizeof(db), f->dir, KEYS_DB_FILE), 0);
	assert_int_equal(ink_read_file(db, 64u << 20, &old, &len), 0);
	/* the credential revoked, the log moved on */
	k = open_store(f);
	assert_int_equal(keys_witness_check(k), 0);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c.id, 1), 0);
	log_more(k, 4, 0);
	keys_close(k);
	/* the old file back */
	assert_int_equal(ink_write_file(db, old, len, 0600), 0);
	k = open_store(f);
	assert_int_equal(keys_witness_check(k), INK_ERR_STORE);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "481526", kek), INK_ERR_STORE);
	assert_int_equal(keys_witness_gate(k), INK_ERR_STORE);
	/* accepted by the officer after re-applying the revocation */
	assert_int_equal(keys_witness_accept(k), 0);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c.id, 1), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "481526", kek), INK_ERR_DISABLED);
	assert_int_equal(keys_witness_check(k), 0);
	free(old);
	keys_cred_clear(&c);
	keys_close(k);
}

/* Both drivers: one statement text binds the same values. A bare `?` after `?3, ?1` is ?4 as
 * SQLite numbers it (not ?2); a `?` or a quote inside a comment or a literal is no parameter
 * (the PostgreSQL driver's rewriting to $N must not shift the numbers a value goes to). */
static void
test_ksdb_params(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct ksdb_stmt *st = NULL;

	assert_int_equal(ksdb_prepare(k->db,
	    "SELECT CAST(?3 AS BIGINT), CAST(?1 AS BIGINT), CAST(? AS BIGINT) "
	    "/* a block's ? and its ' */, 'lit?''s' -- a line's ? and its '\n"
	    ", CAST(?2 AS BIGINT)", &st), KSDB_OK);
	assert_int_equal(ksdb_bind_int64(st, 1, 10), KSDB_OK);
	assert_int_equal(ksdb_bind_int64(st, 2, 20), KSDB_OK);
	assert_int_equal(ksdb_bind_int64(st, 3, 30), KSDB_OK);
	assert_int_equal(ksdb_bind_int64(st, 4, 40), KSDB_OK);
	assert_int_equal(ksdb_step(st), KSDB_ROW);
	assert_int_equal(ksdb_column_int64(st, 0), 30);
	assert_int_equal(ksdb_column_int64(st, 1), 10);
	assert_int_equal(ksdb_column_int64(st, 2), 40);
	assert_string_equal(ksdb_column_text(st, 3), "lit?'s");
	assert_int_equal(ksdb_column_int64(st, 4), 20);
	ksdb_finalize(st);
	/* a blob in the 25th column: its bytes, and a length that is theirs (PostgreSQL's driver
	 * decoded 24 columns only and gave the length of the hex text beside a NULL pointer) */
	st = NULL;
	assert_int_equal(ksdb_prepare(k->db,
	    "SELECT 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, "
	    "23, 24, CAST(?1 AS BLOB)", &st), KSDB_OK);
	assert_int_equal(ksdb_bind_blob(st, 1, "\x01\x02\x03", 3), KSDB_OK);
	assert_int_equal(ksdb_step(st), KSDB_ROW);
	assert_int_equal(ksdb_column_bytes(st, 24), 3);
	assert_non_null(ksdb_column_blob(st, 24));
	assert_memory_equal(ksdb_column_blob(st, 24), "\x01\x02\x03", 3);
	ksdb_finalize(st);
	keys_close(k);
}

/* PostgreSQL mode: the key store's writer lock is a lock of its table keystore_meta, which
 * only inkan_sam's role may take. A compromised inkand holding the advisory lock that stands in
 * before the tables exist stalls nothing, and cannot lock the table itself. Another SAM holding
 * it (a node stuck mid-transaction) makes this SAM's BEGIN fail (statement_timeout); that must
 * not leave the connection in an aborted transaction: once the lock is let go, the SAM works
 * again, not restarted. */
static void
test_pg_lock_hostage(void **state)
{
	struct fixture *f = *state;
	struct keys *k;
	struct keys_cred c, c2;
	uint8_t kek[32];
	PGconn *inkand, *other;
	PGresult *res;

	if (!pg_mode())
		skip();
	k = new_store(f);
	make_cred(k, OWNER_A, NULL, "481526", &c);
	make_cred(k, OWNER_A, NULL, "481526", &c2);
	/* the test's patience, not the SAM's 30 seconds */
	assert_int_equal(ksdb_exec(k->db, "SET statement_timeout = '300ms'"), KSDB_OK);
	inkand = pg_connect(f->pgdb, "inkand");
	res = PQexec(inkand, "SELECT pg_advisory_lock(452725033843)");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(inkand, "BEGIN; LOCK TABLE inkan_keys.keystore_meta IN EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
	assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	/* inkand's advisory lock held: the SAM writes on */
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c2.id, 0), 0);
	PQfinish(inkand);
	/* another SAM holds the writer lock: refused (fail closed), no transaction left open */
	other = pg_connect(f->pgdb, "inkan_sam");
	res = PQexec(other, "BEGIN; LOCK TABLE inkan_keys.keystore_meta IN EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c.id, 0), INK_ERR_STORE);
	assert_false(ksdb_in_transaction(k->db));
	res = PQexec(other, "ROLLBACK");
	PQclear(res);
	PQfinish(other);
	/* the lock let go: the same connection reads and writes again */
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "481526", kek), 0);
	assert_int_equal(keys_cred_open(k, OWNER_A, c.id, "000000", kek), INK_ERR_AUTH);
	assert_int_equal(keys_cred_revoke(k, OWNER_A, c.id, 0), 0);
	keys_cred_clear(&c);
	keys_cred_clear(&c2);
	keys_close(k);
}

/* Two SAMs on one PostgreSQL key store (two connections, as two nodes), each claiming the
 * same TOTP step at the same moment, 40 times: exactly one of them gets each step. A person
 * registered through one is known to the other; a username in another case is refused. */
#define RACE_STEPS 40
struct claim_race {
	struct keys *k;
	pthread_barrier_t *go;
	int won[RACE_STEPS];
};

static void *
claim_steps(void *arg)
{
	struct claim_race *c = arg;

	for (int i = 0; i < RACE_STEPS; i++) {
		(void)pthread_barrier_wait(c->go);
		c->won[i] = keys_person_claim_step(c->k, OWNER_A, 1000 + i);
	}
	return NULL;
}

/* A session and its person in one read: the person's record as keys_person_get gives it, the
 * session's set-up mark; an unknown session is refused, an expired one named but not its
 * person's record. */
static void
test_session_actor(void **state)
{
	struct fixture *f = *state;
	struct keys *k = new_store(f);
	struct keys_registration reg = {
		.id = OWNER_A, .username = "Alice", .display_name = "Alice Example", .roles = 5,
		.idv_method = "in-person", .idv_evidence = "ref-1", .doc_type = "passport",
		.doc_number = "X1234567", .created_by = "-",
	};
	char pseudonym[KEYS_PSEUDONYM_MAX + 1];
	uint8_t full[32], setup[32], old[32], unknown[32];
	struct keys_session ss;
	struct keys_person who, p;

	memset(full, 1, 32);
	memset(setup, 2, 32);
	memset(old, 3, 32);
	memset(unknown, 4, 32);
	assert_int_equal(keys_person_add(k, &reg, pseudonym), 0);
	assert_int_equal(keys_person_get(k, OWNER_A, &p), 0);
	assert_int_equal(keys_session_open(k, full, OWNER_A, false, 600), 0);
	assert_int_equal(keys_session_open(k, setup, OWNER_A, true, 600), 0);
	assert_int_equal(keys_session_open(k, old, OWNER_A, false, -5), 0);

	assert_int_equal(keys_session_actor(k, full, &ss, &who), 0);
	assert_string_equal(ss.person, OWNER_A);
	assert_false(ss.setup);
	assert_true(ss.expires_at > ink_now());
	assert_memory_equal(&who, &p, sizeof(p));
	assert_int_equal(who.roles, 5);

	assert_int_equal(keys_session_actor(k, setup, &ss, &who), 0);
	assert_true(ss.setup);
	assert_string_equal(who.username, "Alice");

	assert_int_equal(keys_session_actor(k, old, &ss, &who), INK_ERR_EXPIRED);
	assert_string_equal(ss.person, OWNER_A);
	assert_string_equal(who.id, "");

	assert_int_equal(keys_session_actor(k, unknown, &ss, &who), INK_ERR_AUTH);
	assert_string_equal(ss.person, "");
	assert_string_equal(who.username, "");
	/* an ended session is unknown */
	assert_int_equal(keys_session_end(k, full, NULL), 0);
	assert_int_equal(keys_session_actor(k, full, &ss, &who), INK_ERR_AUTH);
	/* a second person with a session of their own: each session gives its own person (a
	 * session opened sweeps the expired ones: last) */
	reg.id = OWNER_B;
	reg.username = "Bob";
	reg.doc_number = "Y7654321";
	assert_int_equal(keys_person_add(k, &reg, pseudonym), 0);
	assert_int_equal(keys_session_open(k, unknown, OWNER_B, false, 600), 0);
	assert_int_equal(keys_session_actor(k, unknown, &ss, &who), 0);
	assert_string_equal(ss.person, OWNER_B);
	assert_string_equal(who.username, "Bob");
	assert_int_equal(keys_session_actor(k, setup, &ss, &who), 0);
	assert_string_equal(ss.person, OWNER_A);
	assert_string_equal(who.username, "Alice");
	keys_close(k);
}

static void
test_pg_two_sams(void **state)
{
	struct fixture *f = *state;
	struct keys_registration reg = {
		.id = OWNER_A, .username = "Alice", .display_name = "Alice Example", .roles = 1,
		.idv_method = "in-person", .idv_evidence = "ref-1", .doc_type = "passport",
		.doc_number = "X1234567", .created_by = "-",
	};
	struct keys_registration again = reg;
	char pseudonym[KEYS_PSEUDONYM_MAX + 1];
	struct claim_race a = { 0 }, b = { 0 };
	struct keys_person p;
	pthread_barrier_t go;
	pthread_t ta, tb;
	int i;

	if (!pg_mode())
		skip();
	a.k = new_store(f);
	b.k = open_store(f);
	assert_int_equal(keys_person_add(a.k, &reg, pseudonym), 0);
	assert_int_equal(keys_person_get(b.k, OWNER_A, &p), 0);
	assert_string_equal(p.pseudonym, pseudonym);
	again.id = OWNER_B;
	again.username = "ALICE";
	again.doc_number = "Y7654321";
	assert_int_equal(keys_person_add(b.k, &again, pseudonym), INK_ERR_EXISTS);
	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	a.go = b.go = &go;
	assert_int_equal(pthread_create(&ta, NULL, claim_steps, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, claim_steps, &b), 0);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	pthread_barrier_destroy(&go);
	for (i = 0; i < RACE_STEPS; i++) {
		assert_true((a.won[i] == 0 && b.won[i] == INK_ERR_REPLAY) ||
		            (a.won[i] == INK_ERR_REPLAY && b.won[i] == 0));
	}
	/* and a step already used on one is refused on the other */
	assert_int_equal(keys_person_claim_step(b.k, OWNER_A, 1000), INK_ERR_REPLAY);
	keys_close(a.k);
	keys_close(b.k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pg_wall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_two_sams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_reconnect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_rollback_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_witness_moved_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqlite_rollback_witness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_lock_hostage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ksdb_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_url_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_respond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_log_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attestation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_bindings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_sign_with_pin_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_pin_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_db_and_master_without_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_pin_without_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_stretch_on_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samlog_included_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samlog_many_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_extend_marks_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_actor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samlog_walks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_master_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_swapped_blobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extcert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_expiry_destroys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cred_kdf_cost_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_witnesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_p11_sign, p11_setup, teardown),
		cmocka_unit_test_setup_teardown(test_p11_non_extractable, p11_setup, teardown),
		cmocka_unit_test_setup_teardown(test_p11_change_pin, p11_setup, teardown),
		cmocka_unit_test_setup_teardown(test_p11_other_token, p11_setup, teardown),
		cmocka_unit_test_setup_teardown(test_p11_config_checks, p11_setup, teardown),
	};

	if (pg_env("test_keys") != 0)
		return 1;
	return cmocka_run_group_tests(tests, p11_group_setup, p11_group_teardown);
}
