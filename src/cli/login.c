/* login, logout: get a bearer token with password + TOTP code (none at the first login, before
 * the account holder enrolled their seed) and save it; revoke it. */
#include "cli/cli.h"

#include <string.h>

#define LOGIN_USAGE "login [--password-file FILE] [--first] USER"
#define LOGOUT_USAGE "logout"

int
cmd_login(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "password-file", required_argument, NULL, 'p' },
		{ "first", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	json_t *body = NULL, *out = NULL;
	const json_t *tok, *exp, *pcr, *enr;
	const char *user;
	char *pw = NULL, *otp = NULL;
	bool first = false;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'p':
			c->password_file = optarg;
			break;
		case 'f':
			first = true;
			break;
		case 'h':
			printf("usage: inkan %s\n", LOGIN_USAGE);
			return 0;
		default:
			return cli_usage(LOGIN_USAGE);
		}
	}
	if (optind + 1 != argc || *argv[optind] == '\0')
		return cli_usage(LOGIN_USAGE);
	user = argv[optind];
	if (strchr(user, ':') != NULL)
		return cli_fail(c, CLI_ERR_USAGE, "a username has no ':'");

	if ((r = cli_get_password(c, "Password: ", &pw)) != 0)
		goto out;
	/* Before the account holder enrolled their TOTP seed (--first) there is no code to give. */
	if (!first && (r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = first ? json_object() : json_pack("{s:s}", "otp", otp)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", "/csc/v2/auth/login", body, CLI_AUTH_NONE, user, pw,
	                  &resp)) != 0)
		goto out;
	tok = json_object_get(resp.json, "access_token");
	exp = json_object_get(resp.json, "expires_in");
	pcr = json_object_get(resp.json, "password_change_required");
	enr = json_object_get(resp.json, "enrolment_required");
	if (!json_is_string(tok) || *json_string_value(tok) == '\0' || !json_is_integer(exp)) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server's answer has no access_token");
		goto out;
	}
	if ((r = cli_token_save(c, json_string_value(tok))) != 0)
		goto out;
	if (c->json) {
		out = json_pack("{s:O, s:O, s:b, s:b}", "access_token", tok, "expires_in", exp,
		                "password_change_required", json_is_true(pcr), "enrolment_required",
		                json_is_true(enr));
		if (out == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(out);
		goto out;
	}
	printf("logged in, token expires in %lld s\n", (long long)json_integer_value(exp));
	if (json_is_true(pcr))
		printf("you must change your password first: run `inkan passwd`\n");
	else if (json_is_true(enr))
		printf("enrol your own TOTP seed now: run `inkan enrol`\n");
	r = 0;
out:
	json_decref(out);
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(otp);
	secmem_free(pw);
	return r;
}

int
cmd_logout(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	int r, r2;

	memset(&resp, 0, sizeof(resp));
	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", LOGOUT_USAGE);
		return 0;
	}
	if (argc != 1)
		return cli_usage(LOGOUT_USAGE);
	if ((body = json_object()) == NULL)
		return INK_ERR_ALLOC;
	r = cli_http(c, "POST", "/csc/v2/auth/revoke", body, CLI_AUTH_BEARER, NULL, NULL, &resp);
	/* A token the server no longer accepts is as good as revoked: forget it too. Only when
	 * the server could not be asked is the token kept, to be revoked later. */
	if (r == 0 || resp.status == 401) {
		if ((r2 = cli_token_delete(c)) != 0 && r == 0)
			r = r2;
	}
	if (r == 0) {
		if (c->json)
			r = cli_print_json(resp.json != NULL ? resp.json : body);
		else
			printf("logged out\n");
	}
	json_decref(body);
	cli_resp_free(&resp);
	return r;
}
