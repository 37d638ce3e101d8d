/* inkan-verify-bench: small detached CAdES signatures verified by inkan (API, CLI) and by openssl (CMS_verify, `openssl cms -verify`). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench.h"
#include "common/common.h"
#include "verify/verify.h"

#define VB_SIGNATURES 1000
#define VB_MAX_SIGNATURES 100000
#define VB_BYTES 1024
#define VB_MAX_BYTES (16u << 20)
#define VB_FILE_MAX (64u << 20)
#define VB_CMD_OUT_MAX (1u << 20)
#define VB_YEAR (365L * 24 * 3600)

extern char **environ;

/* The four ways of verifying the same files; the order is the order they run in. */
enum method {
	M_INKAN_API,     /* verify_run() through verify.h, in-process */
	M_CMS_API,       /* OpenSSL CMS_verify(), in-process */
	M_INKAN_CLI,     /* `inkan verify DOC SIG --trust --crl`, one process per file */
	M_OPENSSL_CLI,   /* `openssl cms -verify ...`, one process per file */
	NMETHODS
};

static const struct method_desc {
	const char *id;
	const char *label;
	bool in_process;
} methods[NMETHODS] = {
	{ "inkan_api", "inkan verify API, in-process", true },
	{ "openssl_cms_verify_api", "OpenSSL CMS_verify(), in-process", true },
	{ "inkan_cli", "inkan verify CLI, process per file", false },
	{ "openssl_cms_cli", "openssl cms -verify, process per file", false },
};

/* Signer key types (the root is always P-256). */
static const struct key_desc {
	const char *opt;
	const char *name;
	const char *type;
	const char *curve;   /* EC: the curve; RSA: NULL */
	size_t bits;
} keys[] = {
	{ "p256", "P-256", "EC", "P-256", 0 },
	{ "rsa2048", "RSA-2048", "RSA", NULL, 2048 },
	{ "rsa3072", "RSA-3072", "RSA", NULL, 3072 },
};

struct mresult {
	double wall;          /* seconds, the whole loop */
	double *lat;          /* seconds per signature, sorted after the loop */
	double mean, p50, p99;
	size_t passed;
};

struct vb {
	/* options */
	size_t n, bytes, ncpus;
	const struct key_desc *key;
	bool json, openssl_sign;
	char bindir[512];
	const char *openssl;
	/* run */
	char tmpdir[256], inkan[600], root_pem[300], crl_pem[300], signer_pem[300], signer_key[300];
	char tampered[300];
	EVP_PKEY *root_key, *signer_pkey;
	X509 *root, *signer;
	struct verify_ctx *vctx;          /* inkan: the root as anchor, the empty CRL */
	X509_STORE *store;                /* CMS_verify: the root, purpose any */
	char openssl_version[128];
	double setup_secs;
	struct mresult res[NMETHODS];
};

static volatile sig_atomic_t interrupted;

/* ---- small helpers ---- */

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
ossl_fail(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "inkan-verify-bench: %s: %s\n", what, e != 0 ? buf : "failed");
	ERR_clear_error();
}

static void
doc_path(const struct vb *b, size_t i, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/doc-%06zu.bin", b->tmpdir, i);
}

static void
sig_path(const struct vb *b, size_t i, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/doc-%06zu.p7s", b->tmpdir, i);
}

/* Plain write, no fsync: the files live only for this run. */
static int
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r = 0;

	if (f == NULL)
		return INK_ERR_IO;
	if (len > 0 && fwrite(data, 1, len, f) != len)
		r = INK_ERR_IO;
	if (fclose(f) != 0)
		r = INK_ERR_IO;
	return r;
}

/* Runs argv with stdout and stderr to /dev/null (or stdout into out when not NULL: then read
 * to the end); *status is the wait status. */
static int
run_prog(char *const argv[], int *status, struct ink_buf *out)
{
	posix_spawn_file_actions_t fa;
	char chunk[4096];
	int fds[2] = { -1, -1 }, r = INK_ERR_IO;
	ssize_t n;
	pid_t pid;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return INK_ERR_ALLOC;
	if (out != NULL) {
		if (pipe2(fds, O_CLOEXEC) != 0)
			goto out;
		if (posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO) != 0)
			goto out;
	} else if (posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) != 0) {
		goto out;
	}
	if (posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0) != 0)
		goto out;
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		goto out;
	r = 0;
	if (out != NULL) {
		close(fds[1]);
		fds[1] = -1;
		while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = INK_ERR_IO;
				break;
			}
			if (r == 0)
				r = buf_put(out, chunk, (size_t)n);
		}
		if (r == 0)
			r = buf_put_u8(out, 0);
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			r = INK_ERR_IO;
			break;
		}
	}
out:
	posix_spawn_file_actions_destroy(&fa);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
}

static bool
exited_zero(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
openssl_version(struct vb *b)
{
	char *argv[] = { (char *)b->openssl, "version", NULL };
	struct ink_buf out;
	int st = 0;

	snprintf(b->openssl_version, sizeof(b->openssl_version), "unknown");
	buf_init(&out, VB_CMD_OUT_MAX, false);
	if (run_prog(argv, &st, &out) == 0 && exited_zero(st)) {
		snprintf(b->openssl_version, sizeof(b->openssl_version), "%s", (char *)out.data);
		b->openssl_version[strcspn(b->openssl_version, "\n")] = '\0';
	}
	buf_free(&out);
}

/* ---- the PKI: a P-256 root, a signer (digitalSignature, nonRepudiation), an empty CRL ---- */

static EVP_PKEY *
keygen(const struct key_desc *k)
{
	if (k->curve != NULL)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", k->curve);
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", k->bits);
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return INK_ERR_CRYPTO;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok == 1 ? 0 : INK_ERR_CRYPTO;
}

/* A certificate for key issued by issuer (NULL: self-signed), valid from an hour ago. */
static X509 *
mkcert(const char *cn, long serial, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, long days,
       bool ca)
{
	X509 *x = X509_new(), *signer_cert;
	X509_NAME *name = X509_NAME_new();
	bool ok;

	if (x == NULL || name == NULL)
		goto fail;
	signer_cert = issuer != NULL ? issuer : x;
	ok = X509_set_version(x, 2) == 1 &&
	     ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) == 1 &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
	                                (const unsigned char *)"inkan verify benchmark", -1, -1,
	                                0) == 1 &&
	     X509_set_subject_name(x, name) == 1 &&
	     X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
	     X509_gmtime_adj(X509_getm_notAfter(x), days * 24 * 3600) != NULL &&
	     X509_set_pubkey(x, key) == 1 &&
	     add_ext(x, signer_cert, NID_basic_constraints,
	             ca ? "critical,CA:TRUE" : "critical,CA:FALSE") == 0 &&
	     add_ext(x, signer_cert, NID_key_usage,
	             ca ? "critical,keyCertSign,cRLSign" :
	                  "critical,digitalSignature,nonRepudiation") == 0 &&
	     add_ext(x, signer_cert, NID_subject_key_identifier, "hash") == 0 &&
	     (issuer == NULL ||
	      add_ext(x, signer_cert, NID_authority_key_identifier, "keyid") == 0) &&
	     X509_sign(x, issuer != NULL ? ikey : key, EVP_sha256()) > 0;
	X509_NAME_free(name);
	if (ok)
		return x;
	name = NULL;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

/* A v2 CRL of the root revoking nothing, valid from a minute ago for 30 days. */
static X509_CRL *
mkcrl(X509 *root, EVP_PKEY *root_key)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 30, 0);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	bool ok;

	ok = crl != NULL && last != NULL && next != NULL && num != NULL &&
	     X509_CRL_set_version(crl, 1) == 1 &&
	     X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) == 1 &&
	     X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1 &&
	     ASN1_INTEGER_set(num, 1) == 1 &&
	     X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1 &&
	     X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, root_key, EVP_sha256()) > 0;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

/* PEM_write_bio_* into path. */
static int
write_pem(const char *path, X509 *x, X509_CRL *crl, EVP_PKEY *key)
{
	BIO *bio = BIO_new_file(path, "w");
	int ok;

	if (bio == NULL)
		return INK_ERR_IO;
	if (x != NULL)
		ok = PEM_write_bio_X509(bio, x);
	else if (crl != NULL)
		ok = PEM_write_bio_X509_CRL(bio, crl);
	else
		ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	if (BIO_free(bio) != 1)
		ok = 0;
	return ok == 1 ? 0 : INK_ERR_IO;
}

static int
make_pki(struct vb *b)
{
	static const struct key_desc root_key = { "p256", "P-256", "EC", "P-256", 0 };
	X509_CRL *crl = NULL;
	int r = INK_ERR_CRYPTO;

	if ((r = ink_path(b->root_pem, sizeof(b->root_pem), b->tmpdir, "root.pem")) != 0 ||
	    (r = ink_path(b->crl_pem, sizeof(b->crl_pem), b->tmpdir, "crl.pem")) != 0 ||
	    (r = ink_path(b->signer_pem, sizeof(b->signer_pem), b->tmpdir, "signer.pem")) != 0 ||
	    (r = ink_path(b->signer_key, sizeof(b->signer_key), b->tmpdir, "signer.key")) != 0 ||
	    (r = ink_path(b->tampered, sizeof(b->tampered), b->tmpdir, "tampered.bin")) != 0)
		return r;
	r = INK_ERR_CRYPTO;
	if ((b->root_key = keygen(&root_key)) == NULL ||
	    (b->signer_pkey = keygen(b->key)) == NULL) {
		ossl_fail("key generation");
		goto out;
	}
	if ((b->root = mkcert("inkan verify bench root", 1, b->root_key, NULL, NULL, 3650, true)) ==
	        NULL ||
	    (b->signer = mkcert("inkan verify bench signer", 2, b->signer_pkey, b->root, b->root_key,
	                        365, false)) == NULL ||
	    (crl = mkcrl(b->root, b->root_key)) == NULL) {
		ossl_fail("certificates and CRL");
		goto out;
	}
	if ((r = write_pem(b->root_pem, b->root, NULL, NULL)) != 0 ||
	    (r = write_pem(b->signer_pem, b->signer, NULL, NULL)) != 0 ||
	    (r = write_pem(b->signer_key, NULL, NULL, b->signer_pkey)) != 0 ||
	    (r = write_pem(b->crl_pem, NULL, crl, NULL)) != 0)
		goto out;
	r = 0;
out:
	X509_CRL_free(crl);
	return r;
}

/* ---- documents and their detached CAdES signatures ---- */

/* CMS API: what `openssl cms -sign -binary -cades -md sha256` makes (detached, the signer's
 * certificate included, signed attributes with signing-certificate-v2). */
static int
sign_api(struct vb *b, const uint8_t *doc, size_t len, const char *out)
{
	const unsigned flags = CMS_DETACHED | CMS_BINARY | CMS_CADES;
	CMS_ContentInfo *cms = NULL;
	BIO *in = BIO_new_mem_buf(doc, (int)len), *o = NULL;
	int r = INK_ERR_CRYPTO;

	if (in == NULL ||
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL)) == NULL ||
	    CMS_add1_signer(cms, b->signer, b->signer_pkey, EVP_sha256(), flags) == NULL ||
	    CMS_final(cms, in, NULL, flags) != 1) {
		ossl_fail("CMS_sign");
		goto out;
	}
	if ((o = BIO_new_file(out, "wb")) == NULL) {
		r = INK_ERR_IO;
		goto out;
	}
	r = i2d_CMS_bio(o, cms) == 1 ? 0 : INK_ERR_IO;
out:
	if (o != NULL && BIO_free(o) != 1)
		r = INK_ERR_IO;
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return r;
}

static int
sign_cli(struct vb *b, const char *doc, const char *out)
{
	char *argv[] = { (char *)b->openssl, "cms", "-sign", "-binary", "-cades", "-outform", "DER",
		         "-md", "sha256", "-in", (char *)doc, "-signer", b->signer_pem, "-inkey",
		         b->signer_key, "-out", (char *)out, NULL };
	int st = 0, r;

	if ((r = run_prog(argv, &st, NULL)) != 0)
		return r;
	return exited_zero(st) ? 0 : INK_ERR_CRYPTO;
}

static int
make_files(struct vb *b)
{
	char dp[320], sp[320];
	uint8_t *doc = malloc(b->bytes);
	size_t i;
	int r = 0;

	if (doc == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < b->n && r == 0 && !interrupted; i++) {
		doc_path(b, i, dp, sizeof(dp));
		sig_path(b, i, sp, sizeof(sp));
		if ((r = ink_random(doc, b->bytes)) != 0 || (r = write_file(dp, doc, b->bytes)) != 0)
			break;
		r = b->openssl_sign ? sign_cli(b, dp, sp) : sign_api(b, doc, b->bytes, sp);
		/* The tampered document: document 0 with its first byte changed. */
		if (r == 0 && i == 0) {
			doc[0] ^= 0x01;
			r = write_file(b->tampered, doc, b->bytes);
		}
	}
	free(doc);
	return interrupted ? INK_ERR_INVALID : r;
}

/* ---- verifying one file, four ways; *ok: the signature was accepted ---- */

static int
verify_inkan_api(struct vb *b, const char *dp, const char *sp, bool *ok)
{
	struct verify_report *rep = NULL;
	struct verify_input in;
	char *doc = NULL, *sig = NULL, err[256];
	size_t dlen = 0, slen = 0;
	int r;

	memset(&in, 0, sizeof(in));
	if ((r = ink_read_file(dp, VB_FILE_MAX, &doc, &dlen)) != 0 ||
	    (r = ink_read_file(sp, VB_FILE_MAX, &sig, &slen)) != 0)
		goto out;
	in.doc = (const uint8_t *)doc;
	in.doc_len = dlen;
	in.sig = (const uint8_t *)sig;
	in.sig_len = slen;
	in.format = VERIFY_FORMAT_AUTO;
	err[0] = '\0';
	if ((r = verify_run(b->vctx, &in, &rep, err, sizeof(err))) != 0) {
		fprintf(stderr, "inkan-verify-bench: verify_run %s: %s\n", sp, err);
		goto out;
	}
	*ok = verify_report_count(rep) == 1 && verify_report_all_passed(rep) &&
	      verify_report_indication(rep, 0) == VERIFY_TOTAL_PASSED;
out:
	verify_report_free(rep);
	free(doc);
	free(sig);
	return r;
}

static int
verify_cms_api(struct vb *b, const char *dp, const char *sp, bool *ok)
{
	CMS_ContentInfo *cms = NULL;
	BIO *sbio = NULL, *dbio = NULL;
	char *doc = NULL, *sig = NULL;
	size_t dlen = 0, slen = 0;
	int r;

	if ((r = ink_read_file(dp, VB_FILE_MAX, &doc, &dlen)) != 0 ||
	    (r = ink_read_file(sp, VB_FILE_MAX, &sig, &slen)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((sbio = BIO_new_mem_buf(sig, (int)slen)) == NULL ||
	    (dbio = BIO_new_mem_buf(doc, (int)dlen)) == NULL)
		goto out;
	r = 0;
	*ok = (cms = d2i_CMS_bio(sbio, NULL)) != NULL &&
	      CMS_verify(cms, NULL, b->store, dbio, NULL, CMS_BINARY) == 1;
	ERR_clear_error();
out:
	CMS_ContentInfo_free(cms);
	BIO_free(sbio);
	BIO_free(dbio);
	free(doc);
	free(sig);
	return r;
}

static int
verify_inkan_cli(struct vb *b, const char *dp, const char *sp, bool *ok)
{
	char *argv[] = { b->inkan, "verify", (char *)dp, (char *)sp, "--trust", b->root_pem,
		         "--crl", b->crl_pem, NULL };
	int st = 0, r;

	if ((r = run_prog(argv, &st, NULL)) != 0)
		return r;
	if (WIFEXITED(st) && WEXITSTATUS(st) > 1)
		return INK_ERR_INVALID;   /* usage error or the program is missing */
	*ok = exited_zero(st);
	return 0;
}

static int
verify_openssl_cli(struct vb *b, const char *dp, const char *sp, bool *ok)
{
	char *argv[] = { (char *)b->openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in",
		         (char *)sp, "-content", (char *)dp, "-CAfile", b->root_pem, "-purpose", "any",
		         "-out", "/dev/null", NULL };
	int st = 0, r;

	if ((r = run_prog(argv, &st, NULL)) != 0)
		return r;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return INK_ERR_NOT_FOUND;
	*ok = exited_zero(st);
	return 0;
}

typedef int (*verify_fn)(struct vb *, const char *, const char *, bool *);

static const verify_fn verify_fns[NMETHODS] = {
	[M_INKAN_API] = verify_inkan_api,
	[M_CMS_API] = verify_cms_api,
	[M_INKAN_CLI] = verify_inkan_cli,
	[M_OPENSSL_CLI] = verify_openssl_cli,
};

/* Each method accepts signature 0 on document 0 and refuses it on the tampered document (and
 * the programs are loaded once before the clock starts). */
static int
sanity(struct vb *b)
{
	char dp[320], sp[320];
	size_t m;
	bool good, bad;
	int r;

	doc_path(b, 0, dp, sizeof(dp));
	sig_path(b, 0, sp, sizeof(sp));
	for (m = 0; m < NMETHODS; m++) {
		good = false;
		bad = true;
		if ((r = verify_fns[m](b, dp, sp, &good)) != 0 ||
		    (r = verify_fns[m](b, b->tampered, sp, &bad)) != 0) {
			fprintf(stderr, "inkan-verify-bench: %s: %s\n", methods[m].label,
			        ink_err_str(r));
			return r;
		}
		if (!good || bad) {
			fprintf(stderr, "inkan-verify-bench: %s: %s\n", methods[m].label,
			        !good ? "refuses a good signature" : "accepts a tampered document");
			return INK_ERR_INTERNAL;
		}
	}
	return 0;
}

/* Verifies the n signatures one after the other with method m. */
static int
measure(struct vb *b, enum method m)
{
	struct mresult *res = &b->res[m];
	char dp[320], sp[320];
	double t0, t1, start, sum = 0;
	size_t i;
	bool ok;
	int r;

	if ((res->lat = calloc(b->n, sizeof(double))) == NULL)
		return INK_ERR_ALLOC;
	if (!b->json)
		fprintf(stderr, "inkan-verify-bench: %s...\n", methods[m].label);
	start = bench_mono_now();
	for (i = 0; i < b->n; i++) {
		if (interrupted)
			return INK_ERR_INVALID;
		doc_path(b, i, dp, sizeof(dp));
		sig_path(b, i, sp, sizeof(sp));
		ok = false;
		t0 = bench_mono_now();
		r = verify_fns[m](b, dp, sp, &ok);
		t1 = bench_mono_now();
		if (r != 0) {
			fprintf(stderr, "inkan-verify-bench: %s on %s: %s\n", methods[m].label, sp,
			        ink_err_str(r));
			return r;
		}
		res->lat[i] = t1 - t0;
		sum += t1 - t0;
		if (ok)
			res->passed++;
	}
	res->wall = bench_mono_now() - start;
	qsort(res->lat, b->n, sizeof(double), bench_cmp_double);
	res->mean = sum / (double)b->n;
	res->p50 = bench_percentile(res->lat, b->n, 50);
	res->p99 = bench_percentile(res->lat, b->n, 99);
	if (res->passed != b->n) {
		fprintf(stderr, "inkan-verify-bench: %s: %zu of %zu signatures not accepted%s\n",
		        methods[m].label, b->n - res->passed, b->n,
		        m == M_INKAN_API ? " as TOTAL-PASSED" : "");
		return INK_ERR_INTERNAL;
	}
	return 0;
}

/* ---- report ---- */

static double
rate(const struct vb *b, enum method m)
{
	return b->res[m].wall > 0 ? (double)b->n / b->res[m].wall : 0;
}

static double
ratio(double a, double c)
{
	return c > 0 ? a / c : 0;
}

static void
print_table(const struct vb *b)
{
	size_t m;

	printf("inkan-verify-bench: %zu detached CAdES signatures (%s signer, SHA-256, %zu-byte "
	       "documents), verified one at a time, %zu CPUs\n",
	       b->n, b->key->name, b->bytes, b->ncpus);
	printf("signatures made with %s; setup %.1f s; %s\n\n",
	       b->openssl_sign ? "`openssl cms -sign -binary -cades -md sha256`" :
	                         "the CMS API (as `openssl cms -sign -binary -cades -md sha256`)",
	       b->setup_secs, b->openssl_version);
	printf("%-38s %6s %8s %9s %8s %8s %8s | %14s %13s\n", "method", "sigs", "wall s", "sig/s",
	       "mean ms", "p50 ms", "p99 ms", "x openssl cms", "x CMS_verify");
	for (m = 0; m < NMETHODS; m++) {
		const struct mresult *res = &b->res[m];

		printf("%-38s %6zu %8.2f %9.1f %8.3f %8.3f %8.3f | %13.2fx %12.2fx\n",
		       methods[m].label, res->passed, res->wall, rate(b, (enum method)m),
		       res->mean * 1e3, res->p50 * 1e3, res->p99 * 1e3,
		       ratio(rate(b, (enum method)m), rate(b, M_OPENSSL_CLI)),
		       ratio(rate(b, (enum method)m), rate(b, M_CMS_API)));
	}
	printf("\nx = sig/s of the row / sig/s of `openssl cms -verify` (process per file) and of "
	       "CMS_verify() (in-process).\n"
	       "Every inkan result TOTAL-PASSED (chain to the root, empty CRL, key usage, "
	       "CRYPTREC algorithms); openssl checks chain and signature only.\n");
}

static int
print_json(const struct vb *b)
{
	json_t *o = NULL, *arr = json_array(), *a;
	char *text = NULL;
	size_t m;
	int r = INK_ERR_ALLOC;

	if (arr == NULL)
		goto out;
	for (m = 0; m < NMETHODS; m++) {
		const struct mresult *res = &b->res[m];

		a = json_pack("{s:s, s:s, s:b, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "id",
		              methods[m].id, "label", methods[m].label, "in_process",
		              methods[m].in_process, "signatures", (json_int_t)b->n, "passed",
		              (json_int_t)res->passed, "wall_s", res->wall, "sig_per_s",
		              rate(b, (enum method)m), "mean_ms", res->mean * 1e3, "p50_ms",
		              res->p50 * 1e3, "p99_ms", res->p99 * 1e3, "ratio_vs_openssl_cms_cli",
		              ratio(rate(b, (enum method)m), rate(b, M_OPENSSL_CLI)),
		              "ratio_vs_cms_verify_api",
		              ratio(rate(b, (enum method)m), rate(b, M_CMS_API)));
		if (a == NULL || json_array_append_new(arr, a) != 0)
			goto out;
	}
	o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:f, s:o}", "signatures", (json_int_t)b->n,
	              "document_bytes", (json_int_t)b->bytes, "signer_key", b->key->name,
	              "signed_with", b->openssl_sign ? "openssl cms -sign" : "CMS API", "cpus",
	              (json_int_t)b->ncpus, "openssl", b->openssl_version, "setup_s", b->setup_secs,
	              "methods", arr);
	arr = NULL;
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL)
		goto out;
	printf("%s\n", text);
	r = 0;
out:
	free(text);
	json_decref(arr);
	json_decref(o);
	return r;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: inkan-verify-bench [-n SIGNATURES] [-b BYTES] [-k p256|rsa2048|rsa3072]\n"
	        "                          [--openssl-sign] [--json] [--bin DIR] [--openssl PATH]\n"
	        "  -n, --signatures N  documents and detached signatures (%d)\n"
	        "  -b, --bytes N       size of each random document (%d)\n"
	        "  -k, --key K         the signer's key (p256)\n"
	        "      --openssl-sign  sign with `openssl cms -sign` (one process per file)\n"
	        "                      instead of the CMS API in-process\n"
	        "      --json          machine-readable output on stdout\n"
	        "      --bin DIR       where inkan is (next to inkan-verify-bench)\n"
	        "      --openssl P     the openssl program (openssl)\n",
	        VB_SIGNATURES, VB_BYTES);
}

static int
parse_args(struct vb *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signatures", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "openssl-sign", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "bin", required_argument, NULL, 'B' },
		{ "openssl", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t i;
	int ch;

	b->n = VB_SIGNATURES;
	b->bytes = VB_BYTES;
	b->key = &keys[0];
	b->ncpus = bench_cpus();
	b->openssl = "openssl";
	if (ink_exe_sibling("", NULL, b->bindir, sizeof(b->bindir)) != 0)
		return INK_ERR_IO;
	while ((ch = getopt_long(argc, argv, "n:b:k:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (bench_parse_size(optarg, 1, VB_MAX_SIGNATURES, &b->n) != 0)
				goto bad;
			break;
		case 'b':
			if (bench_parse_size(optarg, 1, VB_MAX_BYTES, &b->bytes) != 0)
				goto bad;
			break;
		case 'k':
			for (i = 0; i < INK_ARRAY_LEN(keys) && strcmp(optarg, keys[i].opt) != 0; i++)
				;
			if (i == INK_ARRAY_LEN(keys))
				goto bad;
			b->key = &keys[i];
			break;
		case 'S':
			b->openssl_sign = true;
			break;
		case 'j':
			b->json = true;
			break;
		case 'B':
			if (strlen(optarg) >= sizeof(b->bindir))
				goto bad;
			snprintf(b->bindir, sizeof(b->bindir), "%s", optarg);
			break;
		case 'o':
			b->openssl = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return 0;
bad:
	usage(stderr);
	return INK_ERR_INVALID;
}

/* The verifiers' fixed state, made once as a server would: inkan's context (the root as trust
 * anchor, the CRL) and OpenSSL's store (the root; purpose any, as `-purpose any`). */
static int
make_verifiers(struct vb *b)
{
	int r;

	if ((r = verify_ctx_new(&b->vctx)) != 0 ||
	    (r = verify_ctx_load_trust(b->vctx, b->root_pem)) != 0 ||
	    (r = verify_ctx_load_crl(b->vctx, b->crl_pem)) != 0)
		return r;
	if ((b->store = X509_STORE_new()) == NULL || X509_STORE_add_cert(b->store, b->root) != 1 ||
	    X509_STORE_set_purpose(b->store, X509_PURPOSE_ANY) != 1) {
		ossl_fail("X509_STORE");
		return INK_ERR_CRYPTO;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct vb b;
	size_t m;
	double t0;
	int r, rc = 1;

	memset(&b, 0, sizeof(b));
	if (parse_args(&b, argc, argv) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if ((r = ink_path(b.inkan, sizeof(b.inkan), b.bindir, "inkan")) != 0 ||
	    access(b.inkan, X_OK) != 0) {
		fprintf(stderr, "inkan-verify-bench: %s: not found (build inkan-cli, or --bin DIR)\n",
		        b.inkan);
		return 1;
	}
	snprintf(b.tmpdir, sizeof(b.tmpdir), "%s/inkan-verify-bench.XXXXXX",
	         getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(b.tmpdir) == NULL) {
		fprintf(stderr, "inkan-verify-bench: mkdtemp %s: %s\n", b.tmpdir, strerror(errno));
		b.tmpdir[0] = '\0';
		goto out;
	}
	openssl_version(&b);
	t0 = bench_mono_now();
	if (!b.json)
		fprintf(stderr, "inkan-verify-bench: PKI, %zu documents and signatures in %s...\n",
		        b.n, b.tmpdir);
	if ((r = make_pki(&b)) != 0 || (r = make_files(&b)) != 0) {
		fprintf(stderr, "inkan-verify-bench: making the test data: %s\n", ink_err_str(r));
		goto out;
	}
	if ((r = make_verifiers(&b)) != 0) {
		fprintf(stderr, "inkan-verify-bench: verifier setup: %s\n", ink_err_str(r));
		goto out;
	}
	if ((r = sanity(&b)) != 0)
		goto out;
	b.setup_secs = bench_mono_now() - t0;
	for (m = 0; m < NMETHODS; m++)
		if ((r = measure(&b, (enum method)m)) != 0)
			goto out;
	if (b.json) {
		if (print_json(&b) != 0)
			goto out;
	} else
		print_table(&b);
	rc = 0;
out:
	for (m = 0; m < NMETHODS; m++)
		free(b.res[m].lat);
	verify_ctx_free(b.vctx);
	X509_STORE_free(b.store);
	X509_free(b.root);
	X509_free(b.signer);
	EVP_PKEY_free(b.root_key);
	EVP_PKEY_free(b.signer_pkey);
	if (b.tmpdir[0] != '\0' && bench_rm_tree(b.tmpdir) != 0) {
		fprintf(stderr, "inkan-verify-bench: could not remove %s\n", b.tmpdir);
		rc = 1;
	}
	return rc;
}
