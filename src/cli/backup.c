/* backup: the sealed key store to a file and back (system operator). */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BACKUP_USAGE "backup create FILE\n       inkan backup restore FILE"

/* The server takes at most 256 MiB of base64 (its max_body is usually far smaller). */
#define BACKUP_FILE_MAX (192u * 1024u * 1024u)

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

static int
backup_restore(struct cli_ctx *c, const char *file)
{
	struct cli_resp resp;
	const json_t *n;
	json_t *body = NULL;
	char *data = NULL, *b64 = NULL, *otp = NULL;
	size_t len = 0;
	int r;

	memset(&resp, 0, sizeof(resp));
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
	if ((body = json_pack("{s:s, s:s}", "backup", b64, "otp", otp)) == NULL) {
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
	free(b64);
	free(data);
	secmem_free(otp);
	return r;
}

int
cmd_backup(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", BACKUP_USAGE);
		return 0;
	}
	if (argc != 3 || *argv[2] == '\0' || *argv[2] == '-')
		return cli_usage(BACKUP_USAGE);
	if (strcmp(sub, "create") == 0)
		return backup_create(c, argv[2]);
	if (strcmp(sub, "restore") == 0)
		return backup_restore(c, argv[2]);
	return cli_usage(BACKUP_USAGE);
}
