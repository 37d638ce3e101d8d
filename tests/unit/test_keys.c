/* test_keys: key store directory creation, master key file checks, sealing and its bindings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys.h"

struct fixture {
	char root[64];
	char dir[128];
	char master[192];
	char db[192];
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_bindings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
