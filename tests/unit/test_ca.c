/* test_ca: the self-signed TLS certificate: files and modes, extensions as openssl reads them, key pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"

struct fixture {
	char root[64];
	char cert[128];
	char key[128];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/inkan-test-ca.XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->cert, sizeof(f->cert), "%s/tls.crt", f->root);
	snprintf(f->key, sizeof(f->key), "%s/tls.key", f->root);
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

/* Runs cmd and returns its whole standard output (malloc'd). */
static char *
run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *out = calloc(1, 65536);
	size_t n = 0, r;

	assert_non_null(p);
	assert_non_null(out);
	while ((r = fread(out + n, 1, 65535 - n, p)) > 0)
		n += r;
	assert_int_equal(pclose(p), 0);
	return out;
}

static X509 *
load_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static void
test_files_and_modes(void **state)
{
	struct fixture *f = *state;
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(ca_make_tls_cert(f->cert, f->key, 365), 0);
	assert_int_equal(mode_of(f->key), 0600);
	assert_int_equal(mode_of(f->cert), 0644);
	/* Unencrypted PKCS#8, which GnuTLS (libmicrohttpd) loads as well as OpenSSL. */
	assert_int_equal(ink_read_file(f->key, 65536, &pem, &len), 0);
	assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	ink_freezero_str(pem);
	assert_int_equal(ink_read_file(f->cert, 65536, &pem, &len), 0);
	assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	free(pem);
	/* No temporary files left. */
	{
		char tmp[160];

		snprintf(tmp, sizeof(tmp), "%s.tmp", f->key);
		assert_int_equal(access(tmp, F_OK), -1);
	}
	/* Bad arguments. */
	assert_int_equal(ca_make_tls_cert(f->cert, f->key, 0), INK_ERR_INVALID);
	assert_int_equal(ca_make_tls_cert(f->cert, f->key, -1), INK_ERR_INVALID);
	assert_int_equal(ca_make_tls_cert(NULL, f->key, 1), INK_ERR_INVALID);
	/* An unwritable place fails and leaves no key behind. */
	{
		char key2[160];

		snprintf(key2, sizeof(key2), "%s/k2.pem", f->root);
		assert_int_not_equal(ca_make_tls_cert("/nonexistent-dir/c.pem", key2, 1), 0);
		assert_int_equal(access(key2, F_OK), -1);
	}
}

static void
test_openssl_text(void **state)
{
	struct fixture *f = *state;
	char cmd[256], *text;

	assert_int_equal(ca_make_tls_cert(f->cert, f->key, 30), 0);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -text", f->cert);
	text = run(cmd);
	assert_non_null(strstr(text, "Version: 3 (0x2)"));
	assert_non_null(strstr(text, "Subject: CN = inkan TLS (localhost)"));
	assert_non_null(strstr(text, "Issuer: CN = inkan TLS (localhost)"));
	assert_non_null(strstr(text, "DNS:localhost"));
	assert_non_null(strstr(text, "IP Address:127.0.0.1"));
	assert_non_null(strstr(text, "IP Address:0:0:0:0:0:0:0:1"));
	assert_non_null(strstr(text, "TLS Web Server Authentication"));
	assert_null(strstr(text, "TLS Web Client Authentication"));
	assert_non_null(strstr(text, "CA:FALSE"));
	assert_non_null(strstr(text, "Digital Signature"));
	assert_non_null(strstr(text, "ecdsa-with-SHA256"));
	assert_non_null(strstr(text, "NIST CURVE: P-256"));
	free(text);
	/* The key file reads as an EC P-256 key. */
	snprintf(cmd, sizeof(cmd), "openssl pkey -in '%s' -noout -text 2>/dev/null", f->key);
	text = run(cmd);
	assert_non_null(strstr(text, "NIST CURVE: P-256"));
	OPENSSL_cleanse(text, strlen(text));
	free(text);
}

static void
test_key_matches_and_fields(void **state)
{
	struct fixture *f = *state;
	X509 *x, *x2;
	EVP_PKEY *pkey;
	FILE *fp;
	const ASN1_INTEGER *ser;
	BIGNUM *bn;
	int days = -1, secs = -1, crit = -1;
	ASN1_BIT_STRING *ku;

	assert_int_equal(ca_make_tls_cert(f->cert, f->key, 90), 0);
	x = load_cert(f->cert);
	fp = fopen(f->key, "r");
	assert_non_null(fp);
	pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(pkey);
	assert_int_equal(X509_check_private_key(x, pkey), 1);
	/* Self-signed: verifies under its own key. */
	assert_int_equal(X509_verify(x, pkey), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_not_equal(X509_check_host(x, "example.com", 0, 0, NULL), 1);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	/* keyUsage and basicConstraints critical. */
	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_int_equal(X509_get_extension_flags(x) & EXFLAG_CA, 0);
	/* Positive 16-byte serial. */
	ser = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(ser, NULL);
	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), 16);
	BN_free(bn);
	/* Valid now, for about the requested number of days. */
	assert_true(X509_cmp_current_time(X509_get0_notBefore(x)) < 0);
	assert_true(X509_cmp_current_time(X509_get0_notAfter(x)) > 0);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)),
	                 1);
	assert_int_equal(days, 90);

	/* A second certificate gets a new key and a new serial. */
	assert_int_equal(ca_make_tls_cert(f->cert, f->key, 90), 0);
	x2 = load_cert(f->cert);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
	                                      X509_get0_serialNumber(x2)), 0);
	assert_int_not_equal(X509_check_private_key(x2, pkey), 1);
	X509_free(x2);
	EVP_PKEY_free(pkey);
	X509_free(x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openssl_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_matches_and_fields, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
