/* ca: the built-in CA's certificate chain and current CRL, and the audit log key's fingerprint,
 * from the public endpoints (no login). */
#include "cli/cli.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define CA_USAGE "ca cert [--out FILE]\n       inkan ca crl [--arl] --out FILE"

/* An ASN1_TIME as RFC 3339 UTC in buf; "-" when absent or unreadable. */
static const char *
asn1_time_str(const ASN1_TIME *t, char buf[static 21])
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return "-";
	ink_time_str((int64_t)timegm(&tm), buf);
	return buf;
}

/* Prints the subject of every certificate in the PEM text; the count in *n. */
static int
pem_chain_check(struct cli_ctx *c, const uint8_t *pem, size_t len, bool print, size_t *n)
{
	BIO *bio = NULL, *mem = NULL;
	X509 *x = NULL;
	char *text;
	size_t i;
	int r = INK_ERR_PROTOCOL;

	*n = 0;
	/* PEM is ASCII text: anything else would be printed to the terminal as is. */
	for (i = 0; i < len; i++) {
		if ((pem[i] < 0x20 && pem[i] != '\n' && pem[i] != '\r' && pem[i] != '\t') || pem[i] >= 0x7f)
			return cli_fail(c, INK_ERR_PROTOCOL, "the server's CA chain is not PEM text");
	}
	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return INK_ERR_ALLOC;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		(*n)++;
		if (print) {
			if ((mem = BIO_new(BIO_s_mem())) == NULL ||
			    X509_NAME_print_ex(mem, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) < 0 ||
			    BIO_write(mem, "", 1) != 1 || BIO_get_mem_data(mem, &text) <= 0) {
				r = INK_ERR_ALLOC;
				goto out;
			}
			printf("  ");
			cli_put_safe(stdout, text);
			printf("\n");
			BIO_free(mem);
			mem = NULL;
		}
		X509_free(x);
		x = NULL;
	}
	if (*n == 0) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server's CA chain holds no certificate");
		goto out;
	}
	r = 0;
out:
	ERR_clear_error();
	BIO_free(mem);
	X509_free(x);
	BIO_free(bio);
	return r;
}

/* The fingerprint of the audit log key the server publishes (GET /ca/audit-key). */
static int
audit_key_fpr(struct cli_ctx *c, char out[static AUDIT_FPR_HEX])
{
	uint8_t *pem = NULL, *spki = NULL;
	size_t len = 0;
	int r;

	if ((r = cli_http_raw(c, "/ca/audit-key", "application/x-pem-file", CLI_AUTH_NONE, &pem,
	                      &len)) != 0)
		return r;
	if (audit_pem_to_spki((const char *)pem, &spki, &len) != 0)
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server's audit log key is not a PEM public key");
	else
		audit_key_fingerprint(spki, len, out);
	free(spki);
	free(pem);
	return r;
}

static int
ca_cert(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	uint8_t *pem = NULL;
	json_t *j = NULL;
	char fpr[AUDIT_FPR_HEX];
	size_t len = 0, n = 0;
	int ch, r;

	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		if (ch != 'o')
			return cli_usage(CA_USAGE);
		file = optarg;
	}
	if (optind != argc || (file != NULL && *file == '\0'))
		return cli_usage(CA_USAGE);
	if ((r = cli_http_raw(c, "/ca/cert", "application/pem-certificate-chain", CLI_AUTH_NONE, &pem,
	                      &len)) != 0)
		goto out;
	if ((r = pem_chain_check(c, pem, len, false, &n)) != 0 || (r = audit_key_fpr(c, fpr)) != 0)
		goto out;
	if (file != NULL && (r = ink_write_file(file, pem, len, 0644)) != 0) {
		r = cli_fail(c, r, "cannot write %s: %s", file, ink_err_str(r));
		goto out;
	}
	if (c->json) {
		j = file != NULL ? json_pack("{s:s, s:I, s:s}", "file", file, "certificates",
		                             (json_int_t)n, "audit_log_key_sha256", fpr)
		                 : json_pack("{s:s%, s:I, s:s}", "chain", (const char *)pem, len,
		                             "certificates", (json_int_t)n, "audit_log_key_sha256", fpr);
		if (j == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(j);
		goto out;
	}
	if (file == NULL) {
		/* stdout is the PEM chain alone; the fingerprint goes beside it */
		r = fwrite(pem, 1, len, stdout) == len ? 0 : INK_ERR_IO;
		fprintf(stderr, "audit log key sha256 %s\n", fpr);
		goto out;
	}
	printf("CA chain written to ");
	cli_put_safe(stdout, file);
	printf(" (%zu certificates):\n", n);
	if ((r = pem_chain_check(c, pem, len, true, &n)) == 0)
		printf("audit log key sha256 %s\n", fpr);
out:
	json_decref(j);
	free(pem);
	return r;
}

static int
ca_crl(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "arl", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *path = "/ca/crl";
	const unsigned char *p;
	uint8_t *der = NULL;
	X509_CRL *crl = NULL;
	json_t *j = NULL;
	char this_up[21], next_up[21];
	const char *t1, *t2;
	size_t len = 0;
	int ch, r, revoked;

	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		if (ch == 'a')
			path = "/ca/arl"; /* the root's list, covering the issuing CA */
		else if (ch == 'o')
			file = optarg;
		else
			return cli_usage(CA_USAGE);
	}
	/* DER is binary: it goes to a file, never to the terminal. */
	if (optind != argc || file == NULL || *file == '\0')
		return cli_usage(CA_USAGE);
	if ((r = cli_http_raw(c, path, "application/pkix-crl", CLI_AUTH_NONE, &der, &len)) != 0)
		goto out;
	p = der;
	if (len > LONG_MAX || (crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL || p != der + len) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server's CRL is not DER");
		goto out;
	}
	if ((r = ink_write_file(file, der, len, 0644)) != 0) {
		r = cli_fail(c, r, "cannot write %s: %s", file, ink_err_str(r));
		goto out;
	}
	revoked = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
	if (revoked < 0)
		revoked = 0;
	t1 = asn1_time_str(X509_CRL_get0_lastUpdate(crl), this_up);
	t2 = asn1_time_str(X509_CRL_get0_nextUpdate(crl), next_up);
	if (c->json) {
		if ((j = json_pack("{s:s, s:I, s:i, s:s, s:s}", "file", file, "size", (json_int_t)len,
		                   "revoked", revoked, "this_update", t1, "next_update", t2)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(j);
		goto out;
	}
	printf("%s written to ", strcmp(path, "/ca/arl") == 0 ? "ARL" : "CRL");
	cli_put_safe(stdout, file);
	printf(" (%d revoked, this update %s, next update %s)\n", revoked, t1, t2);
	r = 0;
out:
	ERR_clear_error();
	json_decref(j);
	X509_CRL_free(crl);
	free(der);
	return r;
}

int
cmd_ca(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", CA_USAGE);
		return 0;
	}
	if (strcmp(sub, "cert") == 0)
		return ca_cert(c, argc - 1, argv + 1);
	if (strcmp(sub, "crl") == 0)
		return ca_crl(c, argc - 1, argv + 1);
	return cli_usage(CA_USAGE);
}
