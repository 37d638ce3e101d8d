/* passwd: changes the caller's password; the server then ends every session of the account. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define PASSWD_USAGE "passwd [--password-file FILE]"

int
cmd_passwd(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	bool kept = false;
	json_t *body = NULL;
	char *old_pw = NULL, *new_pw = NULL;
	const char *env_token = getenv("INKAN_TOKEN");
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'p':
			c->password_file = optarg;
			break;
		case 'h':
			printf("usage: inkan %s\n", PASSWD_USAGE);
			return 0;
		default:
			return cli_usage(PASSWD_USAGE);
		}
	}
	if (optind != argc)
		return cli_usage(PASSWD_USAGE);

	if ((r = cli_get_password(c, "Current password: ", &old_pw)) != 0)
		goto out;
	if ((r = cli_get_new_password(c, &new_pw)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:s}", "old_password", old_pw, "new_password", new_pw)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", "/api/v1/passwd", body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	/* Every session of the account has ended (the saved token is now useless) — but the
	 * set-up session of an account holder who has yet to enrol goes on, to `inkan enrol`. */
	kept = json_is_true(json_object_get(resp.json, "session_kept"));
	if (!kept && (env_token == NULL || *env_token == '\0') && (r = cli_token_delete(c)) != 0)
		goto out;
	json_decref(body);
	body = NULL;
	if (c->json) {
		if ((body = json_object()) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(resp.json != NULL ? resp.json : body);
		goto out;
	}
	if (kept)
		printf("password changed; now enrol your own TOTP seed: run `inkan enrol`\n");
	else
		printf("password changed; every session has ended: log in again with `inkan login USER`\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(old_pw);
	secmem_free(new_pw);
	return r;
}
