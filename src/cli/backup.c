/* backup: the sealed key store to a file and back (system operator). */
#include "cli/cli.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BACKUP_USAGE "backup create FILE\n       inkan backup restore FILE [--crl CRLFILE] [--second-officer NAME]"

/* The server takes at most 256 MiB of base64 (its max_body is usually far smaller). */
#define BACKUP_FILE_MAX (192u * 1024u * 1024u)
/* ... and 16 MiB of base64 CRL. */
#define CRL_FILE_MAX (12u * 1024u * 1024u)

/* 0 if nothing is at path; a reported error otherwise. */
static int
must_not_exist(struct cli_ctx *c, const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return cli_fail(c, INK_ERR_EXISTS, "%s already exists; not overwriting it", path);
	if (errno != ENOENT)
		return cli_fail(c, INK_ERR_IO, "cannot check %s: %s", path, strerror(errno));
	return 0;
}

static int
backup_create(struct cli_ctx *c, const char *file)
{
	struct cli_resp resp;
	const json_t *size;
	json_t *out = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;
	int r;

	memset(&resp, 0, sizeof(resp));
	/* Checked before the request (the server audits every backup) and again before writing. */
	if ((r = must_not_exist(c, file)) != 0)
		goto out;
	if ((r = cli_http(c, "POST", "/api/v1/backup", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	size = json_object_get(resp.json, "size");
	if (b64_decode(cli_jstr(resp.json, "backup"), &blob, &len) != 0 || len == 0 ||
	    (json_is_integer(size) && (json_int_t)len != json_integer_value(size))) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server sent a malformed backup");
		goto out;
	}
	if ((r = must_not_exist(c, file)) != 0)
		goto out;
	if ((r = ink_write_file(file, blob, len, 0600)) != 0) {
		r = cli_fail(c, r, "cannot write %s: %s", file, ink_err_str(r));
		goto out;
	}
	if (c->json) {
		/* Not the server's answer: the blob is in the file, not worth a second copy. */
		if ((out = json_pack("{s:s, s:I}", "file", file, "size", (json_int_t)len)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(out);
		goto out;
	}
	printf("key store backup written to ");
	cli_put_safe(stdout, file);
	printf(" (%zu bytes, sealed under the master key)\n", len);
	r = 0;
out:
	json_decref(out);
	cli_resp_free(&resp);
	free(blob);
	return r;
}

/* The CRL in file (DER, as GET /ca/crl serves it, or PEM) as base64 DER; the server checks it. */
static int
read_crl(struct cli_ctx *c, const char *file, char **b64)
{
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	uint8_t *der = NULL;
	char *data = NULL;
	size_t len = 0;
	int n, r;

	*b64 = NULL;
	if ((r = ink_read_file(file, CRL_FILE_MAX, &data, &len)) != 0)
		return cli_fail(c, r, "cannot read %s: %s", file, ink_err_str(r));
	if (len > 0 && strstr(data, "-----BEGIN X509 CRL-----") != NULL) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL ||
		    (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) == NULL ||
		    (n = i2d_X509_CRL(crl, &der)) <= 0) {
			ERR_clear_error();
			r = cli_fail(c, INK_ERR_INVALID, "%s: not a readable PEM CRL", file);
			goto out;
		}
		r = b64_encode(der, (size_t)n, b64);
	} else if (len > 0) {
		r = b64_encode((const uint8_t *)data, len, b64);
	} else {
		r = cli_fail(c, INK_ERR_INVALID, "%s is empty", file);
	}
out:
	OPENSSL_free(der);
	X509_CRL_free(crl);
	BIO_free(bio);
	free(data);
	return r;
}

static int
backup_restore(struct cli_ctx *c, const char *file, const char *crl_file, const char *second)
{
	struct cli_resp resp;
	const json_t *n;
	json_t *body = NULL;
	char *data = NULL, *b64 = NULL, *otp = NULL, *crl = NULL, *otp2 = NULL;
	size_t len = 0;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (crl_file != NULL && (r = read_crl(c, crl_file, &crl)) != 0)
		goto out;
	if ((r = ink_read_file(file, BACKUP_FILE_MAX, &data, &len)) != 0) {
		r = cli_fail(c, r, "cannot read %s: %s", file, ink_err_str(r));
		goto out;
	}
	if (len == 0) {
		r = cli_fail(c, INK_ERR_INVALID, "%s is empty", file);
		goto out;
	}
	if ((r = b64_encode((const uint8_t *)data, len, &b64)) != 0)
		goto out;
	/* A restore is a grave act: the SAM checks the operator's fresh OTP. */
	if ((r = cli_get_otp(c, &otp)) != 0)
		goto out;
	/* On a bare key store (disaster recovery) a security officer's fresh OTP goes with it:
	 * the SAM checks both against the backup's own records of the two officers. */
	if (second != NULL && (r = cli_get_second_otp(c, &otp2)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:s}", "backup", b64, "otp", otp)) == NULL ||
	    (crl != NULL && json_object_set_new(body, "crl", json_string(crl)) != 0) ||
	    (second != NULL && (json_object_set_new(body, "second_officer", json_string(second)) != 0 ||
	                        json_object_set_new(body, "second_otp", json_string(otp2)) != 0))) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", "/api/v1/restore", body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	n = json_object_get(resp.json, "restored");
	printf("restored %lld credentials from ", json_is_integer(n) ? (long long)json_integer_value(n) : 0LL);
	cli_put_safe(stdout, file);
	printf("\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(crl);
	free(b64);
	free(data);
	secmem_free(otp);
	secmem_free(otp2);
	return r;
}

int
cmd_backup(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "crl", required_argument, NULL, 'c' },
		{ "second-officer", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = argc >= 2 ? argv[1] : "", *crl = NULL, *second = NULL;
	int ch;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", BACKUP_USAGE);
		return 0;
	}
	if (strcmp(sub, "restore") == 0) {
		/* argv[0] for getopt: the action */
		while ((ch = cli_getopt(argc - 1, argv + 1, "", opts)) != -1) {
			if ((ch != 'c' && ch != 's') || *optarg == '\0')
				return cli_usage(BACKUP_USAGE);
			if (ch == 'c')
				crl = optarg;
			else
				second = optarg;
		}
		if (optind + 2 != argc || *argv[optind + 1] == '\0')
			return cli_usage(BACKUP_USAGE);
		return backup_restore(c, argv[optind + 1], crl, second);
	}
	if (argc != 3 || *argv[2] == '\0' || *argv[2] == '-')
		return cli_usage(BACKUP_USAGE);
	if (strcmp(sub, "create") == 0)
		return backup_create(c, argv[2]);
	return cli_usage(BACKUP_USAGE);
}
