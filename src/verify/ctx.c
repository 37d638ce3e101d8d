/* ctx: the validation context — trust anchors, caller-supplied CRLs and OCSP responses, the
 * service's own CAs and their current CRLs, options. */
#include "verify/verify_int.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A trust anchor file or a CRL is never larger than this. */
#define TRUST_FILE_MAX (4u * 1024u * 1024u)
#define TRUST_DIR_MAX_FILES 4096

int
verify_ctx_new(struct verify_ctx **out)
{
	struct verify_ctx *ctx = NULL;
	int ret = INK_ERR_ALLOC;

	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return INK_ERR_ALLOC;
	ctx->require_revocation = true;
	ctx->tsa_poe = -1;
	if ((ctx->store = X509_STORE_new()) == NULL || (ctx->anchors = sk_X509_new_null()) == NULL ||
	    (ctx->crls = sk_X509_CRL_new_null()) == NULL ||
	    (ctx->ocsps = sk_OCSP_BASICRESP_new_null()) == NULL ||
	    (ctx->fetched = sk_X509_CRL_new_null()) == NULL ||
	    (ctx->fetched_ocsps = sk_OCSP_BASICRESP_new_null()) == NULL ||
	    (ctx->service_cas = sk_X509_new_null()) == NULL ||
	    (ctx->service_crls = sk_X509_CRL_new_null()) == NULL)
		goto out;
	*out = ctx;
	ctx = NULL;
	ret = 0;
out:
	verify_ctx_free(ctx);
	return ret;
}

void
verify_ctx_free(struct verify_ctx *ctx)
{
	if (ctx == NULL)
		return;
	X509_STORE_free(ctx->store);
	sk_X509_pop_free(ctx->anchors, X509_free);
	sk_X509_CRL_pop_free(ctx->crls, X509_CRL_free);
	sk_OCSP_BASICRESP_pop_free(ctx->ocsps, OCSP_BASICRESP_free);
	sk_X509_CRL_pop_free(ctx->fetched, X509_CRL_free);
	sk_OCSP_BASICRESP_pop_free(ctx->fetched_ocsps, OCSP_BASICRESP_free);
	verify_fetch_free(ctx->fetcher);
	sk_X509_pop_free(ctx->service_cas, X509_free);
	sk_X509_CRL_pop_free(ctx->service_crls, X509_CRL_free);
	free(ctx->service_source);
	free(ctx);
}

static bool
cert_known(STACK_OF(X509) *list, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(list); i++)
		if (X509_cmp(sk_X509_value(list, i), x) == 0)
			return true;
	return false;
}

/* Reads every PEM certificate of pem into dst (and, when store is not NULL, into store). */
static int
pem_certs_into(STACK_OF(X509) *dst, X509_STORE *store, const char *pem, size_t len)
{
	BIO *b = NULL;
	X509 *x = NULL;
	int n = 0, ret = INK_ERR_INVALID;

	if (len > INT32_MAX)
		return INK_ERR_TOO_LARGE;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return INK_ERR_ALLOC;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		/* Duplicates are harmless for the store but would be counted twice. */
		if (cert_known(dst, x)) {
			X509_free(x);
			x = NULL;
			n++;
			continue;
		}
		if ((store != NULL && X509_STORE_add_cert(store, x) != 1) || sk_X509_push(dst, x) <= 0) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		x = NULL;
		n++;
	}
	ERR_clear_error();
	if (n > 0)
		ret = 0;
out:
	X509_free(x);
	BIO_free(b);
	return ret;
}

int
verify_ctx_add_trust_pem(struct verify_ctx *ctx, const char *pem, size_t len)
{
	return pem_certs_into(ctx->anchors, ctx->store, pem, len);
}

int
verify_ctx_add_service_ca(struct verify_ctx *ctx, const char *pem, size_t len)
{
	return pem_certs_into(ctx->service_cas, NULL, pem, len);
}

int
verify_ctx_add_service_crl(struct verify_ctx *ctx, const uint8_t *data, size_t len)
{
	return crl_parse_into(ctx->service_crls, data, len);
}

int
verify_ctx_set_service_source(struct verify_ctx *ctx, const char *source)
{
	char *copy = strdup(source);

	if (copy == NULL)
		return INK_ERR_ALLOC;
	free(ctx->service_source);
	ctx->service_source = copy;
	return 0;
}

size_t
verify_ctx_service_count(const struct verify_ctx *ctx)
{
	return ctx != NULL ? (size_t)sk_X509_num(ctx->service_cas) : 0;
}

static int
load_trust_file(struct verify_ctx *ctx, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = ink_read_file(path, TRUST_FILE_MAX, &data, &len)) != 0)
		return ret;
	ret = verify_ctx_add_trust_pem(ctx, data, len);
	free(data);
	return ret;
}

int
verify_ctx_load_trust(struct verify_ctx *ctx, const char *path)
{
	struct dirent **names = NULL;
	struct stat st;
	char file[4096];
	int i, n = 0, loaded = 0, ret = 0;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? INK_ERR_NOT_FOUND : INK_ERR_IO;
	if (!S_ISDIR(st.st_mode))
		return load_trust_file(ctx, path);
	/* Sorted, so that a directory loads the same way every time. */
	if ((n = scandir(path, &names, NULL, alphasort)) < 0)
		return INK_ERR_IO;
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.' || i >= TRUST_DIR_MAX_FILES)
			continue;
		if (ink_path(file, sizeof(file), path, names[i]->d_name) != 0 ||
		    stat(file, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		ret = load_trust_file(ctx, file);
		if (ret == 0)
			loaded++;
		else if (ret != INK_ERR_INVALID && ret != INK_ERR_TOO_LARGE)
			goto out;
	}
	ret = loaded > 0 ? 0 : INK_ERR_INVALID;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

size_t
verify_ctx_trust_count(const struct verify_ctx *ctx)
{
	return ctx != NULL ? (size_t)sk_X509_num(ctx->anchors) : 0;
}

int
crl_parse_into(STACK_OF(X509_CRL) *dst, const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	int n = 0, ret = INK_ERR_INVALID;

	if (len > VERIFY_MAX_CRL || len > INT32_MAX)
		return INK_ERR_TOO_LARGE;
	if (len > 0 && data[0] == 0x30) {
		if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL)
			goto out;
		if (sk_X509_CRL_push(dst, crl) <= 0) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		crl = NULL;
		ret = 0;
		goto out;
	}
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
		return INK_ERR_ALLOC;
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_CRL_push(dst, crl) <= 0) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		crl = NULL;
		n++;
	}
	if (n > 0)
		ret = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	BIO_free(b);
	return ret;
}

int
verify_ctx_add_crl(struct verify_ctx *ctx, const uint8_t *data, size_t len)
{
	return crl_parse_into(ctx->crls, data, len);
}

/* Reads a revocation data file and hands it to add. */
static int
load_revdata(struct verify_ctx *ctx, const char *path,
             int (*add)(struct verify_ctx *, const uint8_t *, size_t))
{
	char *data = NULL;
	size_t len = 0;
	int ret;

	if ((ret = ink_read_file(path, VERIFY_MAX_CRL, &data, &len)) != 0)
		return ret;
	ret = add(ctx, (const uint8_t *)data, len);
	free(data);
	return ret;
}

int
verify_ctx_load_crl(struct verify_ctx *ctx, const char *path)
{
	return load_revdata(ctx, path, verify_ctx_add_crl);
}

int
verify_ctx_add_ocsp(struct verify_ctx *ctx, const uint8_t *data, size_t len)
{
	return ocsp_parse_into(ctx->ocsps, data, len);
}

int
verify_ctx_load_ocsp(struct verify_ctx *ctx, const char *path)
{
	return load_revdata(ctx, path, verify_ctx_add_ocsp);
}

void
verify_ctx_set_fetch(struct verify_ctx *ctx, bool allow)
{
	ctx->fetch = allow;
}

void
verify_ctx_set_require_revocation(struct verify_ctx *ctx, bool require)
{
	ctx->require_revocation = require;
}

void
verify_ctx_set_time(struct verify_ctx *ctx, int64_t t)
{
	ctx->time = t;
}
