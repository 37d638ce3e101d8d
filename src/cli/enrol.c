/* enrol: the account holder's own TOTP seed, after the first password change — shown here
 * alone (nobody who registered the account ever sees it), then confirmed with its first code. */
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

#define ENROL_USAGE "enrol            (shows your new TOTP seed, then asks for its first code)\n" \
	"       inkan enrol confirm    (the first code, from INKAN_OTP or the terminal)"

static int
enrol_confirm(struct cli_ctx *c)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *otp = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if ((r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = json_pack("{s:s}", "otp", otp)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", "/api/v1/enrol/confirm", body, CLI_AUTH_BEARER, NULL, NULL,
	                  &resp)) != 0)
		goto out;
	if (c->json)
		r = cli_print_json(json_object());
	else
		printf("second factor enrolled: this session and your next logins use it\n");
out:
	json_decref(body);
	secmem_free(otp);
	cli_resp_free(&resp);
	return r;
}

int
cmd_enrol(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", ENROL_USAGE);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "confirm") == 0)
		return enrol_confirm(c);
	if (argc != 1)
		return cli_usage(ENROL_USAGE);
	if ((r = cli_http(c, "POST", "/api/v1/enrol", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	/* --json: the seed for automation, confirmed by a separate `inkan enrol confirm`. */
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	printf("Your TOTP seed (shown only this once; add it to your authenticator app):\n");
	printf("  TOTP secret  ");
	cli_put_safe(stdout, cli_jstr(resp.json, "totp_secret"));
	printf("\n  otpauth URI  ");
	cli_put_safe(stdout, cli_jstr(resp.json, "otpauth_uri"));
	printf("\n");
	if (isatty(STDOUT_FILENO) && cli_qr_print(stdout, cli_jstr(resp.json, "otpauth_uri")) != 0)
		printf("  (the URI does not fit in a QR code)\n");
	fflush(stdout);
	r = enrol_confirm(c);
out:
	cli_resp_free(&resp);
	return r;
}
