/* test_ca: the TLS certificate, and the built-in CA (root, issuing, TSA, signers, CRL, CSR) as the
 * openssl command line reads them. */
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
#include <ctype.h>
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

/* ---- the built-in CA ---- */

#define CRL_URL "http://ca.example.jp/ca/crl"
#define POLICY_OID "1.3.6.1.4.1.99999.1.4"

static const struct ca_subject root_subj = { "inkan Test Root CA", "inkan Test", "JP", NULL };
static const struct ca_subject issuing_subj = { "inkan Test Issuing CA", "inkan Test", "JP", NULL };
static const struct ca_subject tsa_subj = { "inkan Test TSA", "inkan Test", "JP", NULL };
static const struct ca_subject signer_subj = { "Yamada Taro", "Example Hospital", "JP", "U-0001" };

struct pki {
	char dir[64];
	EVP_PKEY *root_key, *issuing_key;
	X509 *root, *issuing;
};

static int
pki_setup(void **state)
{
	struct pki *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/inkan-test-pki.XXXXXX");
	if (mkdtemp(p->dir) == NULL ||
	    ca_make_root(&root_subj, 3650, &p->root_key, &p->root) != 0 ||
	    ca_make_issuing(p->root_key, p->root, &issuing_subj, 1825, CRL_URL, &p->issuing_key,
	                    &p->issuing) != 0) {
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int
pki_teardown(void **state)
{
	struct pki *p = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	if (system(cmd) != 0)
		return -1;
	X509_free(p->root);
	X509_free(p->issuing);
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->issuing_key);
	free(p);
	return 0;
}

/* dir/name into out[outsz]. */
static void
path_in(const struct pki *p, const char *name, char *out, size_t outsz)
{
	assert_true((size_t)snprintf(out, outsz, "%s/%s", p->dir, name) < outsz);
}

static void
write_cert(const struct pki *p, const char *name, X509 *x)
{
	char path[128];
	FILE *fp;

	path_in(p, name, path, sizeof(path));
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	assert_int_equal(fclose(fp), 0);
}

/* Runs cmd (stderr joined to stdout) and returns its output; *rc gets the exit status. */
static char *
run_rc(const char *cmd, int *rc)
{
	char full[1024];
	FILE *pp;
	char *out = calloc(1, 65536);
	size_t n = 0, r;

	assert_true((size_t)snprintf(full, sizeof(full), "%s 2>&1", cmd) < sizeof(full));
	assert_non_null(out);
	assert_non_null(pp = popen(full, "r"));
	while ((r = fread(out + n, 1, 65535 - n, pp)) > 0)
		n += r;
	*rc = pclose(pp);
	return out;
}

/* Output of a command that must succeed. */
static char *run_ok(const char *fmt, ...) INK_PRINTF(1, 2);
static char *
run_ok(const char *fmt, ...)
{
	char cmd[900];
	char *out;
	va_list ap;
	int rc = -1;

	va_start(ap, fmt);
	assert_true((size_t)vsnprintf(cmd, sizeof(cmd), fmt, ap) < sizeof(cmd));
	va_end(ap);
	out = run_rc(cmd, &rc);
	if (rc != 0)
		print_error("command failed: %s\n%s\n", cmd, out);
	assert_int_equal(rc, 0);
	return out;
}

/* The line after the one that contains `header`, without leading spaces. */
static void
line_after(const char *text, const char *header, char *out, size_t outsz)
{
	const char *h = strstr(text, header), *nl, *end;
	size_t n;

	assert_non_null(h);
	assert_non_null(nl = strchr(h, '\n'));
	nl++;
	while (*nl == ' ')
		nl++;
	end = strchr(nl, '\n');
	n = end != NULL ? (size_t)(end - nl) : strlen(nl);
	assert_true(n < outsz);
	memcpy(out, nl, n);
	out[n] = '\0';
}

static EVP_PKEY *
new_key(const char *type, const char *curve_or_bits)
{
	EVP_PKEY *k;

	if (strcmp(type, "RSA") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(curve_or_bits));
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_or_bits);
	assert_non_null(k);
	return k;
}

/* The public half of k only, as the key manager hands it over. */
static EVP_PKEY *
public_only(EVP_PKEY *k)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	EVP_PKEY *pub;
	int n = i2d_PUBKEY(k, &der);

	assert_true(n > 0);
	q = der;
	assert_non_null(pub = d2i_PUBKEY(NULL, &q, n));
	OPENSSL_free(der);
	return pub;
}

static void
test_root_and_issuing(void **state)
{
	struct pki *p = *state;
	char path[128], line[128], *text;

	write_cert(p, "root.pem", p->root);
	write_cert(p, "issuing.pem", p->issuing);
	path_in(p, "root.pem", path, sizeof(path));
	text = run_ok("openssl x509 -in '%s' -noout -text", path);
	assert_non_null(strstr(text, "Version: 3 (0x2)"));
	assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA384"));
	assert_non_null(strstr(text, "NIST CURVE: P-384"));
	assert_non_null(strstr(text, "Subject: C = JP, O = inkan Test, CN = inkan Test Root CA"));
	assert_non_null(strstr(text, "Issuer: C = JP, O = inkan Test, CN = inkan Test Root CA"));
	line_after(text, "X509v3 Basic Constraints: critical", line, sizeof(line));
	assert_string_equal(line, "CA:TRUE");
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Certificate Sign, CRL Sign");
	assert_non_null(strstr(text, "X509v3 Subject Key Identifier"));
	free(text);

	path_in(p, "issuing.pem", path, sizeof(path));
	text = run_ok("openssl x509 -in '%s' -noout -text", path);
	assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA384"));
	assert_non_null(strstr(text, "Issuer: C = JP, O = inkan Test, CN = inkan Test Root CA"));
	assert_non_null(strstr(text, "Subject: C = JP, O = inkan Test, CN = inkan Test Issuing CA"));
	line_after(text, "X509v3 Basic Constraints: critical", line, sizeof(line));
	assert_string_equal(line, "CA:TRUE, pathlen:0");
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Certificate Sign, CRL Sign");
	assert_non_null(strstr(text, "X509v3 Authority Key Identifier"));
	assert_non_null(strstr(text, "URI:" CRL_URL));
	assert_non_null(strstr(text, "Policy: X509v3 Any Policy"));
	free(text);

	text = run_ok("cd '%s' && openssl verify -x509_strict -CAfile root.pem issuing.pem",
	              p->dir);
	assert_non_null(strstr(text, "issuing.pem: OK"));
	free(text);

	/* Bad arguments, and outputs left NULL. */
	{
		EVP_PKEY *k = (EVP_PKEY *)1;
		X509 *x = (X509 *)1;
		struct ca_subject bad = root_subj;

		assert_int_equal(ca_make_root(&root_subj, 0, &k, &x), INK_ERR_INVALID);
		assert_null(k);
		assert_null(x);
		assert_int_equal(ca_make_root(&root_subj, CA_DAYS_MAX + 1, &k, &x), INK_ERR_INVALID);
		assert_int_equal(ca_make_root(NULL, 10, &k, &x), INK_ERR_INVALID);
		bad.country = "jp";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad.country = "JPN";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad = root_subj;
		bad.common_name = "";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad.common_name = "bad\xff utf-8";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad.common_name = "new\nline";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad.common_name = "01234567890123456789012345678901234567890123456789012345678901234";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		bad.common_name = "ok";
		bad.serial_number = "under_score";
		assert_int_equal(ca_make_root(&bad, 10, &k, &x), INK_ERR_INVALID);
		/* Issuing CA: a bad CRL URL, and a root key that is not the root's. */
		assert_int_equal(ca_make_issuing(p->root_key, p->root, &issuing_subj, 10,
		                                 "ftp://ca.example.jp/crl", &k, &x), INK_ERR_INVALID);
		assert_int_equal(ca_make_issuing(p->root_key, p->root, &issuing_subj, 10,
		                                 "http://ca.example.jp/a b", &k, &x), INK_ERR_INVALID);
		assert_int_equal(ca_make_issuing(p->issuing_key, p->root, &issuing_subj, 10, NULL,
		                                 &k, &x), INK_ERR_INVALID);
		assert_null(k);
		assert_null(x);
	}
}

/* Issues a level-`level` certificate for a key of the given kind and checks it with openssl. */
static void
check_signer(struct pki *p, const char *type, const char *param, int level)
{
	char path[128], line[128], want[64], serial[33], *text;
	EVP_PKEY *key = new_key(type, param), *pub = public_only(key);
	X509 *x = NULL;
	char why[128];

	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, pub, &signer_subj, level,
	                                 POLICY_OID, CRL_URL, 365, &x, serial), 0);
	assert_int_equal(strlen(serial), 32);
	write_cert(p, "root.pem", p->root);
	write_cert(p, "issuing.pem", p->issuing);
	write_cert(p, "signer.pem", x);
	text = run_ok("cd '%s' && openssl verify -x509_strict -CAfile root.pem -untrusted issuing.pem "
	              "-policy %s -explicit_policy signer.pem", p->dir, POLICY_OID);
	assert_non_null(strstr(text, "signer.pem: OK"));
	free(text);

	path_in(p, "signer.pem", path, sizeof(path));
	text = run_ok("openssl x509 -in '%s' -noout -text -serial", path);
	assert_non_null(strstr(text, "Version: 3 (0x2)"));
	/* The issuing CA's P-384 key signs with SHA-384 whatever the subject key. */
	assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA384"));
	assert_non_null(strstr(text, "Subject: C = JP, O = Example Hospital, CN = Yamada Taro, "
	                             "serialNumber = U-0001"));
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Digital Signature, Non Repudiation");
	assert_null(strstr(text, "Extended Key Usage"));
	assert_null(strstr(text, "Certificate Sign"));
	assert_null(strstr(text, "Key Encipherment"));
	line_after(text, "X509v3 Basic Constraints: critical", line, sizeof(line));
	assert_string_equal(line, "CA:FALSE");
	assert_non_null(strstr(text, "X509v3 CRL Distribution Points"));
	assert_non_null(strstr(text, "URI:" CRL_URL));
	assert_non_null(strstr(text, "Policy: " POLICY_OID));
	assert_non_null(strstr(text, "X509v3 Subject Key Identifier"));
	assert_non_null(strstr(text, "X509v3 Authority Key Identifier"));
	snprintf(want, sizeof(want), "serial=%s", serial);
	assert_non_null(strstr(text, want));
	free(text);

	assert_int_equal(ca_check_issued(x, key, level, why, sizeof(why)), 0);
	assert_int_equal(ca_check_issued(x, pub, 4, why, sizeof(why)), 0);
	X509_free(x);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
}

static void
test_signer_p256_level4(void **state)
{
	check_signer(*state, "EC", "P-256", 4);
}

static void
test_signer_rsa3072_level2(void **state)
{
	check_signer(*state, "RSA", "3072", 2);
}

static void
test_signer_refusals(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *rsa1024 = new_key("RSA", "1024"), *p192 = new_key("EC", "prime192v1");
	EVP_PKEY *ok = new_key("EC", "P-256"), *other = new_key("EC", "P-384");
	X509 *x = (X509 *)1, *signer = NULL;
	char serial[33] = "junk";

	/* Keys outside the CRYPTREC list. */
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, rsa1024, &signer_subj, 4, NULL,
	                                 NULL, 30, &x, serial), INK_ERR_POLICY);
	assert_null(x);
	assert_string_equal(serial, "");
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, p192, &signer_subj, 4, NULL,
	                                 NULL, 30, &x, serial), INK_ERR_POLICY);
	/* Bad level, policy OID, URL, days. */
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 0, NULL,
	                                 NULL, 30, &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 5, NULL,
	                                 NULL, 30, &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4,
	                                 "commonName", NULL, 30, &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4,
	                                 "1..2", NULL, 30, &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4, NULL,
	                                 "http://x/,URI:http://evil/", 30, &x, serial), 0);
	{
		/* The URL is one name, never parsed as configuration text. */
		CRL_DIST_POINTS *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
		DIST_POINT *dp;

		assert_non_null(cdp);
		assert_int_equal(sk_DIST_POINT_num(cdp), 1);
		dp = sk_DIST_POINT_value(cdp, 0);
		assert_int_equal(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
		CRL_DIST_POINTS_free(cdp);
	}
	X509_free(x);
	/* Ed25519 subject keys are on the list. */
	{
		EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		char why[128];

		assert_non_null(ed);
		assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ed, &signer_subj, 4, NULL,
		                                 NULL, 30, &x, serial), 0);
		assert_int_equal(ca_check_issued(x, ed, 4, why, sizeof(why)), 0);
		X509_free(x);
		EVP_PKEY_free(ed);
	}
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4, NULL,
	                                 "http://", 30, &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4, NULL,
	                                 NULL, 0, &x, serial), INK_ERR_INVALID);
	/* Wrong issuer key; an issuer that is not a CA; the CA's own key as subject. */
	assert_int_equal(ca_issue_signer(other, p->issuing, ok, &signer_subj, 4, NULL, NULL, 30,
	                                 &x, serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, ok, &signer_subj, 4, NULL,
	                                 NULL, 30, &signer, serial), 0);
	assert_int_equal(ca_issue_signer(ok, signer, other, &signer_subj, 4, NULL, NULL, 30, &x,
	                                 serial), INK_ERR_INVALID);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, p->issuing_key, &signer_subj, 4,
	                                 NULL, NULL, 30, &x, serial), INK_ERR_INVALID);
	assert_null(x);
	assert_string_equal(serial, "");
	X509_free(signer);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(p192);
	EVP_PKEY_free(ok);
	EVP_PKEY_free(other);
}

static void
test_signer_validity_clamped(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *key = new_key("EC", "P-256"), *ik = NULL;
	X509 *short_ca = NULL, *x = NULL;
	char serial[33];

	assert_int_equal(ca_make_issuing(p->root_key, p->root, &issuing_subj, 30, NULL, &ik,
	                                 &short_ca), 0);
	assert_int_equal(ca_issue_signer(ik, short_ca, key, &signer_subj, 4, NULL, NULL, 3650, &x,
	                                 serial), 0);
	assert_int_equal(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(short_ca)), 0);
	X509_free(x);
	X509_free(short_ca);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(key);
}

/* Writes x as name beside the root and the issuing CA, checks that openssl verifies it for
 * purpose, and returns its -text (malloc'd). */
static char *
ee_text(struct pki *p, const char *name, X509 *x, const char *purpose)
{
	char path[128], want[160], *text;

	write_cert(p, "root.pem", p->root);
	write_cert(p, "issuing.pem", p->issuing);
	write_cert(p, name, x);
	text = run_ok("cd '%s' && openssl verify -x509_strict -purpose %s -CAfile root.pem "
	              "-untrusted issuing.pem %s", p->dir, purpose, name);
	snprintf(want, sizeof(want), "%s: OK", name);
	assert_non_null(strstr(text, want));
	free(text);
	path_in(p, name, path, sizeof(path));
	return run_ok("openssl x509 -in '%s' -noout -text", path);
}

static void
test_tsa(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char line[128], *text;

	assert_int_equal(ca_make_tsa(p->issuing_key, p->issuing, &tsa_subj, 1825, CRL_URL, &key, &x),
	                 0);
	assert_int_equal(X509_check_private_key(x, key), 1);
	text = ee_text(p, "tsa.pem", x, "timestampsign");
	line_after(text, "X509v3 Extended Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Time Stamping");
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Digital Signature, Non Repudiation");
	line_after(text, "X509v3 Basic Constraints: critical", line, sizeof(line));
	assert_string_equal(line, "CA:FALSE");
	assert_non_null(strstr(text, "NIST CURVE: P-256"));
	assert_non_null(strstr(text, "URI:" CRL_URL));
	free(text);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* The OCSP responder: id-kp-OCSPSigning only (critical), digitalSignature, nocheck, no CRL DP;
 * and a signer's certificate from ca_issue_signer_ex names its OCSP responder (AIA). */
static void
test_ocsp_certs(void **state)
{
	struct pki *p = *state;
	const struct ca_urls urls = { .crl = CRL_URL, .ocsp = "http://ocsp.example/ocsp" };
	const struct ca_urls bad = { .ocsp = "ldap://ocsp.example/" };
	EVP_PKEY *key = NULL, *sk = new_key("EC", "P-256");
	X509 *x = NULL, *sc = NULL;
	char path[128], line[128], serial[33], *text;

	assert_int_equal(ca_make_ocsp(p->issuing_key, p->issuing, &tsa_subj, 365, &key, &x), 0);
	assert_int_equal(X509_check_private_key(x, key), 1);
	text = ee_text(p, "ocsp.pem", x, "ocsphelper");
	line_after(text, "X509v3 Extended Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "OCSP Signing");
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Digital Signature");
	assert_non_null(strstr(text, "OCSP No Check"));
	assert_null(strstr(text, "CRL Distribution Points"));
	free(text);

	assert_int_equal(ca_issue_signer_ex(p->issuing_key, p->issuing, sk, &signer_subj, 4, NULL,
	                                    &urls, 30, 0, &sc, serial), 0);
	write_cert(p, "signer.pem", sc);
	path_in(p, "signer.pem", path, sizeof(path));
	text = run_ok("openssl x509 -in '%s' -noout -text", path);
	assert_non_null(strstr(text, "OCSP - URI:http://ocsp.example/ocsp"));
	assert_non_null(strstr(text, "URI:" CRL_URL));
	free(text);
	X509_free(sc);
	sc = NULL;
	/* an OCSP URL is checked like the CRL's: http or https, printable */
	assert_int_equal(ca_issue_signer_ex(p->issuing_key, p->issuing, sk, &signer_subj, 4, NULL,
	                                    &bad, 30, 0, &sc, serial), INK_ERR_INVALID);
	assert_null(sc);
	/* a short-lived certificate: minutes instead of days (cert_minutes) */
	assert_int_equal(ca_issue_signer_ex(p->issuing_key, p->issuing, sk, &signer_subj, 4, NULL,
	                                    &urls, 30, 2, &sc, serial), 0);
	{
		int pday = -1, psec = -1;
		ASN1_TIME *now = ASN1_TIME_set(NULL, time(NULL));

		assert_non_null(now);
		assert_int_equal(ASN1_TIME_diff(&pday, &psec, now, X509_get0_notAfter(sc)), 1);
		assert_int_equal(pday, 0);
		assert_in_range(psec, 110, 121);
		ASN1_TIME_free(now);
	}
	X509_free(sc);
	sc = NULL;
	assert_int_equal(ca_issue_signer_ex(p->issuing_key, p->issuing, sk, &signer_subj, 4, NULL,
	                                    &urls, 30, -1, &sc, serial), INK_ERR_INVALID);
	assert_null(sc);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(sk);
}

static void
test_crl(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *k1 = new_key("EC", "P-256"), *k2 = new_key("EC", "P-256"), *k3 = new_key("EC", "P-256");
	X509 *c1 = NULL, *c2 = NULL, *c3 = NULL;
	X509_CRL *crl = NULL, *back;
	char s1[33], s2[33], s3[33], path[128], want[128], cmd[512], *text;
	uint8_t *der = NULL;
	const uint8_t *q;
	size_t len = 0;
	FILE *fp;
	int rc = -1;
	int64_t now = ink_now();

	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, k1, &signer_subj, 4, NULL,
	                                 CRL_URL, 30, &c1, s1), 0);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, k2, &signer_subj, 4, NULL,
	                                 CRL_URL, 30, &c2, s2), 0);
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, k3, &signer_subj, 4, NULL,
	                                 CRL_URL, 30, &c3, s3), 0);
	{
		/* Lower-case input is as good as upper-case. */
		char lower[33];
		size_t i;

		for (i = 0; i <= strlen(s2); i++)
			lower[i] = (char)tolower((unsigned char)s2[i]);
		const struct ca_revoked list[] = {
			{ s1, now - 3600, CA_REASON_KEY_COMPROMISE },
			{ lower, now - 60, CA_REASON_SUPERSEDED },
		};

		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, list, 2, 42, 7, &crl), 0);
	}
	write_cert(p, "root.pem", p->root);
	write_cert(p, "issuing.pem", p->issuing);
	write_cert(p, "c1.pem", c1);
	write_cert(p, "c3.pem", c3);
	path_in(p, "crl.pem", path, sizeof(path));
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509_CRL(fp, crl), 1);
	assert_int_equal(fclose(fp), 0);

	text = run_ok("cd '%s' && cat root.pem issuing.pem > chain.pem && "
	              "openssl crl -in crl.pem -CAfile chain.pem -noout -text", p->dir);
	assert_non_null(strstr(text, "verify OK"));
	assert_non_null(strstr(text, "Version 2 (0x1)"));
	assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA384"));
	assert_non_null(strstr(text, "Issuer: C = JP, O = inkan Test, CN = inkan Test Issuing CA"));
	assert_non_null(strstr(text, "Next Update:"));
	assert_non_null(strstr(text, "X509v3 Authority Key Identifier"));
	line_after(text, "X509v3 CRL Number", want, sizeof(want));
	assert_string_equal(want, "42");
	snprintf(want, sizeof(want), "Serial Number: %s", s1);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "Serial Number: %s", s2);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "Serial Number: %s", s3);
	assert_null(strstr(text, want));
	assert_non_null(strstr(text, "Key Compromise"));
	assert_non_null(strstr(text, "Superseded"));
	free(text);

	/* A relying party that checks the CRL refuses the revoked certificate, not the other. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl verify -crl_check -CAfile root.pem "
	         "-untrusted issuing.pem -CRLfile crl.pem c1.pem", p->dir);
	text = run_rc(cmd, &rc);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(text, "certificate revoked"));
	free(text);
	text = run_ok("cd '%s' && openssl verify -crl_check -CAfile root.pem -untrusted issuing.pem "
	              "-CRLfile crl.pem c3.pem", p->dir);
	assert_non_null(strstr(text, "c3.pem: OK"));
	free(text);

	/* DER round trip. */
	assert_int_equal(ca_crl_der(crl, &der, &len), 0);
	q = der;
	assert_non_null(back = d2i_X509_CRL(NULL, &q, (long)len));
	assert_int_equal(X509_CRL_cmp(back, crl), 0);
	assert_int_equal(X509_CRL_verify(back, p->issuing_key), 1);
	X509_CRL_free(back);
	free(der);
	X509_CRL_free(crl);
	crl = NULL;

	/* An empty CRL is fine; unspecified leaves the reason out. */
	assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, NULL, 0, 0, 1, &crl), 0);
	X509_CRL_free(crl);
	{
		const struct ca_revoked one = { s3, now, CA_REASON_UNSPECIFIED };
		X509_REVOKED *rev;

		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &one, 1, 1, 1, &crl), 0);
		rev = sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl), 0);
		assert_non_null(rev);
		assert_int_equal(X509_REVOKED_get_ext_count(rev), 0);
		X509_CRL_free(crl);
		crl = (X509_CRL *)1;
	}
	/* Refused: reasons 7, 8 (delta CRLs only), out of range; duplicates; bad hex; future. */
	{
		static const int bad_reasons[] = { -1, 7, 8, 11, 100 };
		struct ca_revoked e = { s1, now, 0 };
		struct ca_revoked dup[2] = { { s1, now, 1 }, { s1, now, 4 } };
		size_t i;

		for (i = 0; i < INK_ARRAY_LEN(bad_reasons); i++) {
			e.reason = bad_reasons[i];
			assert_false(ca_reason_valid(e.reason));
			assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 1, &crl),
			                 INK_ERR_INVALID);
			assert_null(crl);
		}
		for (i = 0; i <= 10; i++)
			assert_true(ca_reason_valid((int)i) == (i != 7 && i != 8));
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, dup, 2, 1, 1, &crl),
		                 INK_ERR_INVALID);
		e.reason = 1;
		e.serial_hex = "12XZ";
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		e.serial_hex = "";
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		e.serial_hex = "01234567890123456789012345678901234567890";
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		e.serial_hex = s1;
		e.revoked_at = now + 86400;
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		e.revoked_at = now;
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, -1, 1, &crl),
		                 INK_ERR_INVALID);
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, &e, 1, 1, 0, &crl),
		                 INK_ERR_INVALID);
		assert_int_equal(ca_make_crl(p->issuing_key, p->issuing, NULL, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		assert_int_equal(ca_make_crl(p->root_key, p->issuing, &e, 1, 1, 1, &crl),
		                 INK_ERR_INVALID);
		/* Not a CA. */
		assert_int_equal(ca_make_crl(k1, c1, &e, 1, 1, 1, &crl), INK_ERR_INVALID);
		assert_null(crl);
	}
	X509_free(c1);
	X509_free(c2);
	X509_free(c3);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void
test_csr(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *key = new_key("EC", "P-256"), *rsa1024 = new_key("RSA", "1024");
	EVP_PKEY *pub = public_only(key);
	X509_REQ *req = NULL;
	char path[128], line[128], *text;
	FILE *fp;

	assert_int_equal(ca_make_csr(key, &signer_subj, NULL, &req), 0);
	path_in(p, "req.pem", path, sizeof(path));
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509_REQ(fp, req), 1);
	assert_int_equal(fclose(fp), 0);
	text = run_ok("openssl req -in '%s' -verify -noout -text", path);
	assert_non_null(strstr(text, "verify OK"));
	assert_non_null(strstr(text, "Subject: C = JP, O = Example Hospital, CN = Yamada Taro, "
	                             "serialNumber = U-0001"));
	assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA256"));
	line_after(text, "X509v3 Key Usage: critical", line, sizeof(line));
	assert_string_equal(line, "Digital Signature, Non Repudiation");
	free(text);
	X509_REQ_free(req);
	req = (X509_REQ *)1;
	assert_int_equal(ca_make_csr(rsa1024, &signer_subj, NULL, &req), INK_ERR_POLICY);
	assert_null(req);
	/* A CSR needs the private key. */
	assert_int_not_equal(ca_make_csr(pub, &signer_subj, NULL, &req), 0);
	assert_null(req);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(key);
}

/* A certificate for key signed by the issuing CA as some external CA might make it. */
static X509 *
foreign_cert(struct pki *p, EVP_PKEY *key, const char *ku, const char *eku, const EVP_MD *md,
             long from, long to)
{
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(name);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), to));
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)"ext", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(p->issuing)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&v3, p->issuing, x, NULL, NULL, 0);
	if (ku != NULL) {
		assert_non_null(ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_key_usage, ku));
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (eku != NULL) {
		assert_non_null(ext = X509V3_EXT_nconf_nid(NULL, &v3, NID_ext_key_usage, eku));
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, p->issuing_key, md) > 0);
	X509_NAME_free(name);
	return x;
}

static void
test_check_issued(void **state)
{
	struct pki *p = *state;
	EVP_PKEY *key = new_key("EC", "P-256"), *other = new_key("EC", "P-256");
	X509 *x = NULL;
	char serial[33], why[160];
	static const char *const DSNR = "critical,digitalSignature,nonRepudiation";

	/* Our own certificate. */
	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, key, &signer_subj, 4, POLICY_OID,
	                                 CRL_URL, 30, &x, serial), 0);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	/* ... but not for another key. */
	assert_int_equal(ca_check_issued(x, other, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "another key"));
	assert_int_equal(ca_check_issued(x, key, 0, why, sizeof(why)), INK_ERR_INVALID);
	assert_int_equal(ca_check_issued(x, key, 5, why, sizeof(why)), INK_ERR_INVALID);
	/* Our root: a CA, and for another key. */
	assert_int_equal(ca_check_issued(p->root, p->root_key, 1, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "keyCertSign"));
	X509_free(x);

	/* keyCertSign. */
	x = foreign_cert(p, key, "critical,digitalSignature,nonRepudiation,keyCertSign", NULL,
	                 EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "keyCertSign"));
	X509_free(x);
	/* cRLSign. */
	x = foreign_cert(p, key, "digitalSignature,cRLSign", NULL, EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), INK_ERR_POLICY);
	X509_free(x);
	/* No keyUsage at all. */
	x = foreign_cert(p, key, NULL, NULL, EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "no keyUsage"));
	X509_free(x);
	/* Encryption only. */
	x = foreign_cert(p, key, "keyAgreement", NULL, EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), INK_ERR_POLICY);
	X509_free(x);
	/* digitalSignature alone: enough at level 1-2, not at 3-4. */
	x = foreign_cert(p, key, "critical,digitalSignature", NULL, EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 2, why, sizeof(why)), 0);
	assert_int_equal(ca_check_issued(x, key, 3, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "exactly"));
	X509_free(x);
	/* Exactly the right bits but not critical: not at level 4. */
	x = foreign_cert(p, key, "digitalSignature,nonRepudiation", NULL, EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), 0);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "critical"));
	X509_free(x);
	/* Extra usage at level 4: keyEncipherment; serverAuth EKU; documentSigning EKU is fine. */
	x = foreign_cert(p, key, "critical,digitalSignature,nonRepudiation,keyEncipherment", NULL,
	                 EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_int_equal(ca_check_issued(x, key, 2, why, sizeof(why)), 0);
	X509_free(x);
	x = foreign_cert(p, key, DSNR, "serverAuth", EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "extendedKeyUsage"));
	X509_free(x);
	x = foreign_cert(p, key, DSNR, "1.3.6.1.5.5.7.3.36", EVP_sha256(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), 0);
	X509_free(x);
	/* SHA-1 signature. */
	x = foreign_cert(p, key, DSNR, NULL, EVP_sha1(), -60, 86400);
	assert_int_equal(ca_check_issued(x, key, 1, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "signature algorithm"));
	X509_free(x);
	/* Expired, and not yet valid. */
	x = foreign_cert(p, key, DSNR, NULL, EVP_sha256(), -86400, -60);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "expired"));
	X509_free(x);
	x = foreign_cert(p, key, DSNR, NULL, EVP_sha256(), 3600, 86400);
	assert_int_equal(ca_check_issued(x, key, 4, why, sizeof(why)), INK_ERR_POLICY);
	assert_non_null(strstr(why, "not valid yet"));
	X509_free(x);
	EVP_PKEY_free(other);
	EVP_PKEY_free(key);
}

static void
test_der_and_info(void **state)
{
	struct pki *p = *state;
	static const struct ca_subject jp = { "山田 太郎", "日本病院", "JP", "U-0002" };
	EVP_PKEY *key = new_key("EC", "P-256");
	X509 *x = NULL, *back = (X509 *)1;
	char serial[33], serial2[41], sdn[256], idn[256], small[8];
	uint8_t *der = NULL, *big;
	size_t len = 0;
	int64_t nb = 0, na = 0;

	assert_int_equal(ca_issue_signer(p->issuing_key, p->issuing, key, &jp, 4, NULL, NULL, 100, &x,
	                                 serial), 0);
	assert_int_equal(ca_cert_der(x, &der, &len), 0);
	assert_true(len > 100);
	assert_int_equal(ca_cert_from_der(der, len, &back), 0);
	assert_int_equal(X509_cmp(back, x), 0);
	X509_free(back);
	/* Trailing bytes, truncation, garbage, oversize. */
	assert_non_null(big = calloc(1, CA_DER_MAX + 1));
	memcpy(big, der, len);
	assert_int_equal(ca_cert_from_der(big, len + 1, &back), INK_ERR_INVALID);
	assert_null(back);
	assert_int_equal(ca_cert_from_der(der, len - 1, &back), INK_ERR_INVALID);
	assert_int_equal(ca_cert_from_der(big + len, 16, &back), INK_ERR_INVALID);
	assert_int_equal(ca_cert_from_der(big, CA_DER_MAX + 1, &back), INK_ERR_TOO_LARGE);
	assert_int_equal(ca_cert_from_der(der, 0, &back), INK_ERR_INVALID);
	assert_null(back);
	free(big);
	free(der);

	assert_int_equal(ca_cert_info(x, sdn, sizeof(sdn), idn, sizeof(idn), serial2, &nb, &na), 0);
	assert_string_equal(sdn, "serialNumber=U-0002,CN=山田 太郎,O=日本病院,C=JP");
	assert_string_equal(idn, "CN=inkan Test Issuing CA,O=inkan Test,C=JP");
	assert_string_equal(serial2, serial);
	assert_true(nb <= ink_now() && nb >= ink_now() - 400);
	assert_int_equal(na - nb, 100 * 86400 + 300);
	assert_int_equal(ca_cert_info(x, small, sizeof(small), idn, sizeof(idn), serial2, &nb, &na),
	                 INK_ERR_TOO_LARGE);
	assert_string_equal(small, "");
	assert_string_equal(serial2, "");
	X509_free(x);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_openssl_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_matches_and_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_and_issuing, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_signer_p256_level4, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_signer_rsa3072_level2, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_signer_refusals, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_signer_validity_clamped, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_tsa, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_ocsp_certs, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_crl, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_csr, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_check_issued, pki_setup, pki_teardown),
		cmocka_unit_test_setup_teardown(test_der_and_info, pki_setup, pki_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
