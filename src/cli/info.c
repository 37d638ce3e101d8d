/* info: the service description from GET /csc/v2/info (no login needed). */
#include "cli/cli.h"

#include <string.h>

#define INFO_USAGE "info"

static void
print_line(const char *label, const char *value)
{
	printf("%-18s", label);
	cli_put_safe(stdout, *value != '\0' ? value : "-");
	printf("\n");
}

int
cmd_info(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	char list[1024];
	int r;

	memset(&resp, 0, sizeof(resp));
	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", INFO_USAGE);
		return 0;
	}
	if (argc != 1)
		return cli_usage(INFO_USAGE);
	if ((r = cli_http(c, "GET", "/csc/v2/info", NULL, CLI_AUTH_NONE, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	print_line("name", cli_jstr(resp.json, "name"));
	print_line("description", cli_jstr(resp.json, "description"));
	print_line("CSC specs", cli_jstr(resp.json, "specs"));
	print_line("region", cli_jstr(resp.json, "region"));
	print_line("lang", cli_jstr(resp.json, "lang"));
	cli_jstrings(json_object_get(resp.json, "authType"), list, sizeof(list));
	print_line("auth types", list);
	cli_jstrings(json_object_get(resp.json, "methods"), list, sizeof(list));
	print_line("methods", list);
	cli_jstrings(json_object_get(json_object_get(resp.json, "signAlgorithms"), "algos"), list,
	             sizeof(list));
	print_line("sign algorithms", list);
	cli_jstrings(json_object_get(json_object_get(resp.json, "signature_formats"), "formats"),
	             list, sizeof(list));
	print_line("signature formats", list);
	r = 0;
out:
	cli_resp_free(&resp);
	return r;
}
