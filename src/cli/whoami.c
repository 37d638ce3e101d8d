/* whoami: the caller's own account from GET /api/v1/me. */
#include "cli/cli.h"

#include <string.h>

#define WHOAMI_USAGE "whoami"

int
cmd_whoami(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", WHOAMI_USAGE);
		return 0;
	}
	if (argc != 1)
		return cli_usage(WHOAMI_USAGE);
	if ((r = cli_http(c, "GET", "/api/v1/me", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json)
		r = cli_print_json(resp.json);
	else
		cli_print_account(resp.json);
out:
	cli_resp_free(&resp);
	return r;
}
