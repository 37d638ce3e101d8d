/* oauth_client: `inkan client` — a security officer registers, lists and removes the OAuth
 * clients that may ask signers for signatures (docs/oauth.md). */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_USAGE "client add NAME --redirect-uri URI [--redirect-uri URI ...]\n" \
	"                  [--public | --public-key-file PEM]\n" \
	"       inkan client list\n       inkan client remove ID"

static void
print_client(const json_t *cl)
{
	char uris[2048];

	cli_jstrings(json_object_get(cl, "redirect_uris"), uris, sizeof(uris));
	cli_put_safe(stdout, cli_jstr(cl, "id"));
	/* how it proves itself: by PKCE alone, its secret, or its key (private_key_jwt) */
	printf("  %-15s  ", json_is_true(json_object_get(cl, "public")) ? "public" :
	       strcmp(cli_jstr(cl, "token_endpoint_auth_method"), "private_key_jwt") == 0 ?
	       "private_key_jwt" : "confidential");
	cli_put_safe(stdout, cli_jstr(cl, "name"));
	printf("  ");
	cli_put_safe(stdout, uris);
	printf("\n");
}

static int
client_add(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "redirect-uri", required_argument, NULL, 'r' },
		{ "public", no_argument, NULL, 'p' },
		{ "public-key-file", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	json_t *uris = json_array(), *body = NULL;
	const char *key_file = NULL;
	char *pem = NULL;
	size_t pem_len = 0;
	bool pub = false;
	int opt, r;

	memset(&resp, 0, sizeof(resp));
	if (uris == NULL)
		return INK_ERR_ALLOC;
	while ((opt = cli_getopt(argc, argv, "r:pk:", longopts)) != -1) {
		if (opt == 'r' && json_array_append_new(uris, json_string(optarg)) == 0)
			continue;
		if (opt == 'p') {
			pub = true;
			continue;
		}
		if (opt == 'k') {
			key_file = optarg;
			continue;
		}
		json_decref(uris);
		return opt == 'r' ? cli_fail(c, CLI_ERR_USAGE, "URI must be UTF-8 text") :
		       cli_usage(CLIENT_USAGE);
	}
	if (optind != argc - 1 || json_array_size(uris) == 0) {
		json_decref(uris);
		return cli_usage(CLIENT_USAGE);
	}
	/* private_key_jwt: the client's public key, PEM SubjectPublicKeyInfo (docs/oauth.md) */
	if (key_file != NULL && ink_read_file(key_file, 4096, &pem, &pem_len) != 0) {
		json_decref(uris);
		return cli_fail(c, CLI_ERR_USAGE, "cannot read the public key file (PEM, at most 4096 bytes)");
	}
	if ((body = json_pack("{s:s, s:o, s:b}", "name", argv[optind], "redirect_uris", uris,
	                      "public", pub)) == NULL) {
		free(pem);
		return cli_fail(c, CLI_ERR_USAGE, "NAME must be UTF-8 text");
	}
	if (pem != NULL && json_object_set_new(body, "public_key", json_stringn(pem, pem_len)) != 0) {
		free(pem);
		json_decref(body);
		return cli_fail(c, CLI_ERR_USAGE, "the public key file must be PEM text");
	}
	free(pem);
	if ((r = cli_http(c, "POST", "/api/v1/oauth/clients", body, CLI_AUTH_BEARER, NULL, NULL,
	                  &resp)) != 0)
		goto out;
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	print_client(json_object_get(resp.json, "client"));
	if (cli_jstr(resp.json, "client_secret")[0] != '\0') {
		printf("client secret (shown once; give it to the client's operator):\n  ");
		cli_put_safe(stdout, cli_jstr(resp.json, "client_secret"));
		printf("\n");
	}
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	return r;
}

int
cmd_client(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	const char *sub = argc >= 2 ? argv[1] : "";
	char *id = NULL, *path = NULL;
	json_t *list;
	size_t i;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", CLIENT_USAGE);
		return 0;
	}
	if (strcmp(sub, "add") == 0)
		return client_add(c, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0 && argc == 2) {
		if ((r = cli_http(c, "GET", "/api/v1/oauth/clients", NULL, CLI_AUTH_BEARER, NULL, NULL,
		                  &resp)) != 0)
			goto out;
		if (c->json) {
			r = cli_print_json(resp.json);
			goto out;
		}
		list = json_object_get(resp.json, "clients");
		for (i = 0; i < json_array_size(list); i++)
			print_client(json_array_get(list, i));
		r = 0;
		goto out;
	}
	if (strcmp(sub, "remove") != 0 || argc != 3 || *argv[2] == '\0')
		return cli_usage(CLIENT_USAGE);
	if ((r = cli_escape(argv[2], &id)) != 0)
		goto out;
	if (asprintf(&path, "/api/v1/oauth/clients/%s", id) < 0) {
		path = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "DELETE", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	printf("client ");
	cli_put_safe(stdout, argv[2]);
	printf(" removed: its codes and tokens no longer work\n");
	r = 0;
out:
	cli_resp_free(&resp);
	free(path);
	free(id);
	return r;
}
