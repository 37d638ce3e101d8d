/* role: grants or revokes one privileged role of an account (security officer). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define ROLE_USAGE "role add NAME ROLE\n       inkan role remove NAME ROLE"

int
cmd_role(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *user = NULL, *role = NULL, *path = NULL, roles[256];
	const char *sub = argc >= 2 ? argv[1] : "";
	bool grant;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", ROLE_USAGE);
		return 0;
	}
	if (strcmp(sub, "add") == 0)
		grant = true;
	else if (strcmp(sub, "remove") == 0)
		grant = false;
	else
		return cli_usage(ROLE_USAGE);
	if (argc != 4 || *argv[2] == '\0' || *argv[3] == '\0')
		return cli_usage(ROLE_USAGE);

	if ((r = cli_escape(argv[2], &user)) != 0 || (r = cli_escape(argv[3], &role)) != 0)
		goto out;
	if (grant) {
		if ((body = json_pack("{s:s}", "role", argv[3])) == NULL) {
			r = cli_fail(c, CLI_ERR_USAGE, "ROLE must be UTF-8 text");
			goto out;
		}
		r = asprintf(&path, "/api/v1/users/%s/roles", user);
	} else
		r = asprintf(&path, "/api/v1/users/%s/roles/%s", user, role);
	if (r < 0) {
		path = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, grant ? "POST" : "DELETE", path, body, CLI_AUTH_BEARER, NULL, NULL,
	                  &resp)) != 0)
		goto out;
	if (c->json) {
		if (resp.json == NULL && (resp.json = json_object()) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(resp.json);
		goto out;
	}
	cli_jstrings(json_object_get(resp.json, "roles"), roles, sizeof(roles));
	printf("roles of ");
	cli_put_safe(stdout, argv[2]);
	printf(": ");
	cli_put_safe(stdout, roles);
	printf("\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(path);
	free(role);
	free(user);
	return r;
}
