/* user: account administration (add, list, show, remove, reenrol, unlock) through the admin API. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define USER_USAGE                                                                        \
	"user add NAME --role ROLE [--role ROLE ...] [--display-name TEXT]\n"             \
	"                 [--idv-method TEXT] [--idv-evidence TEXT] [--id-document TYPE:NUMBER]\n"                     \
	"       inkan user list\n"                                                        \
	"       inkan user show NAME\n"                                                   \
	"       inkan user remove NAME           (asks for your current OTP)\n"                \
	"       inkan user reenrol NAME          (lost phone; asks for your current OTP)\n"       \
	"       inkan user unlock NAME           (asks for your current OTP)\n"                                                 \
	"       inkan user unlock NAME"

#define ROLES_TEXT_MAX 256

void
cli_print_account(const json_t *a)
{
	const json_t *idv = json_object_get(a, "identity_verification");
	const json_t *fl = json_object_get(a, "failed_logins");
	char roles[ROLES_TEXT_MAX], t[21];

	cli_jstrings(json_object_get(a, "roles"), roles, sizeof(roles));
	printf("username              ");
	cli_put_safe(stdout, cli_jstr(a, "username"));
	printf("\ndisplay name          ");
	cli_put_safe(stdout, cli_jstr(a, "display_name"));
	printf("\nroles                 ");
	cli_put_safe(stdout, roles);
	printf("\nstatus                ");
	cli_put_safe(stdout, cli_jstr(a, "status"));
	printf("\nmust change password  %s", json_is_true(json_object_get(a, "must_change_password")) ? "yes" : "no");
	printf("\nfailed logins         %lld", json_is_integer(fl) ? (long long)json_integer_value(fl) : 0LL);
	printf("\ncreated               ");
	cli_put_safe(stdout, cli_jtime(a, "created_at", t));
	printf(" by ");
	cli_put_safe(stdout, cli_jstr(a, "created_by"));
	printf("\nid                    ");
	cli_put_safe(stdout, cli_jstr(a, "id"));
	printf("\n");
	if (json_is_object(idv)) {
		printf("identity verified     ");
		cli_put_safe(stdout, cli_jtime(idv, "verified_at", t));
		printf(" by ");
		cli_put_safe(stdout, cli_jstr(idv, "officer"));
		printf("\n  method              ");
		cli_put_safe(stdout, cli_jstr(idv, "method"));
		printf("\n  evidence            ");
		cli_put_safe(stdout, cli_jstr(idv, "evidence"));
		printf("\n");
	}
}

/* "/api/v1/users/<escaped name><suffix>" */
static int
user_path(const char *name, const char *suffix, char **out)
{
	char *esc = NULL;
	int r;

	*out = NULL;
	if ((r = cli_escape(name, &esc)) != 0)
		return r;
	if (asprintf(out, "/api/v1/users/%s%s", esc, suffix) < 0) {
		*out = NULL;
		r = INK_ERR_ALLOC;
	}
	free(esc);
	return r;
}

static int
user_add(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "display-name", required_argument, NULL, 'n' },
		{ "idv-method", required_argument, NULL, 'm' },
		{ "idv-evidence", required_argument, NULL, 'e' },
		{ "id-document", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	json_t *body = NULL, *roles = NULL;
	const json_t *user;
	const char *display = NULL, *method = NULL, *evidence = NULL, *doc = NULL, *colon;
	char rtext[ROLES_TEXT_MAX], dtype[65];
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	if ((roles = json_array()) == NULL)
		return INK_ERR_ALLOC;
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'r':
			if (json_array_append_new(roles, json_string(optarg)) != 0) {
				r = cli_fail(c, CLI_ERR_USAGE, "invalid --role");
				goto out;
			}
			break;
		case 'n':
			display = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		case 'e':
			evidence = optarg;
			break;
		case 'd':
			doc = optarg;
			break;
		default:
			r = cli_usage(USER_USAGE);
			goto out;
		}
	}
	if (optind + 1 != argc || json_array_size(roles) == 0) {
		r = cli_usage(USER_USAGE);
		goto out;
	}
	if ((body = json_pack("{s:s, s:O}", "username", argv[optind], "roles", roles)) == NULL) {
		r = cli_fail(c, CLI_ERR_USAGE, "arguments must be UTF-8 text");
		goto out;
	}
	if ((display != NULL && json_object_set_new(body, "display_name", json_string(display)) != 0) ||
	    (method != NULL && json_object_set_new(body, "idv_method", json_string(method)) != 0) ||
	    (evidence != NULL && json_object_set_new(body, "idv_evidence", json_string(evidence)) != 0)) {
		r = cli_fail(c, CLI_ERR_USAGE, "arguments must be UTF-8 text");
		goto out;
	}
	/* TYPE:NUMBER, e.g. passport:TK1234567. The SAM keeps only a keyed hash of it. */
	if (doc != NULL) {
		if ((colon = strchr(doc, ':')) == NULL || colon == doc || colon[1] == '\0' ||
		    (size_t)(colon - doc) >= sizeof(dtype)) {
			r = cli_fail(c, CLI_ERR_USAGE, "--id-document TYPE:NUMBER");
			goto out;
		}
		memcpy(dtype, doc, (size_t)(colon - doc));
		dtype[colon - doc] = '\0';
		if (json_object_set_new(body, "idv_document_type", json_string(dtype)) != 0 ||
		    json_object_set_new(body, "idv_document_number", json_string(colon + 1)) != 0) {
			r = cli_fail(c, CLI_ERR_USAGE, "arguments must be UTF-8 text");
			goto out;
		}
	}
	if ((r = cli_http(c, "POST", "/api/v1/users", body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	user = json_object_get(resp.json, "user");
	cli_jstrings(json_object_get(user, "roles"), rtext, sizeof(rtext));
	printf("created ");
	cli_put_safe(stdout, cli_jstr(user, "username"));
	printf(" (");
	cli_put_safe(stdout, rtext);
	printf(")\n\n");
	cli_print_secrets(cli_jstr(user, "username"), cli_jstr(resp.json, "password"), NULL, NULL);
	printf("\nHand it over out of band (in person); whoever holds it can complete the first\n"
	       "login. At that login the account holder changes it and enrols their own TOTP seed\n"
	       "(`inkan login --first`, `inkan passwd`, `inkan enrol`): you never see the seed.\n");
	r = 0;
out:
	json_decref(roles);
	json_decref(body);
	cli_resp_free(&resp);
	return r;
}

static int
user_list(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	const json_t *users, *u;
	char roles[ROLES_TEXT_MAX], t[21];
	size_t i, w = sizeof("USERNAME");
	int r;

	(void)argv;
	if (argc != 1)
		return cli_usage(USER_USAGE);
	if ((r = cli_http(c, "GET", "/api/v1/users", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = cli_print_json(resp.json);
		goto out;
	}
	users = json_object_get(resp.json, "users");
	json_array_foreach(users, i, u) {
		if (strlen(cli_jstr(u, "username")) + 1 > w)
			w = strlen(cli_jstr(u, "username")) + 1;
	}
	cli_put_cell(stdout, "USERNAME", w);
	printf("STATUS    CREATED               ROLES\n");
	json_array_foreach(users, i, u) {
		cli_jstrings(json_object_get(u, "roles"), roles, sizeof(roles));
		cli_put_cell(stdout, cli_jstr(u, "username"), w);
		cli_put_cell(stdout, cli_jstr(u, "status"), 10);
		cli_put_cell(stdout, cli_jtime(u, "created_at", t), 22);
		cli_put_safe(stdout, roles);
		printf("\n");
	}
	r = 0;
out:
	cli_resp_free(&resp);
	return r;
}

/* show, remove, reenrol and unlock: one NAME, one request (with the officer's fresh OTP when
 * grave: the SAM checks it). */
static int
user_one(struct cli_ctx *c, int argc, char **argv, const char *method, const char *suffix,
         const char *done, bool grave)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *path = NULL, *otp = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 2 || *argv[1] == '\0')
		return cli_usage(USER_USAGE);
	if ((r = user_path(argv[1], suffix, &path)) != 0)
		goto out;
	if (grave && ((r = cli_get_otp(c, &otp)) != 0 ||
	              (body = json_pack("{s:s}", "otp", otp)) == NULL)) {
		r = r != 0 ? r : INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, method, path, body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		if (resp.json == NULL && (resp.json = json_object()) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_print_json(resp.json);
		goto out;
	}
	if (done == NULL)
		cli_print_account(resp.json);
	else {
		cli_put_safe(stdout, argv[1]);
		printf(" %s\n", done);
		/* a re-enrolment's activation code, shown once */
		if (json_is_string(json_object_get(resp.json, "activation_code"))) {
			printf("activation code (shown only this once): ");
			cli_put_safe(stdout, cli_jstr(resp.json, "activation_code"));
			printf("\nthe holder logs in with their own password and this code as the OTP\n");
		}
	}
	r = 0;
out:
	json_decref(body);
	secmem_free(otp);
	cli_resp_free(&resp);
	free(path);
	return r;
}

int
cmd_user(struct cli_ctx *c, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", USER_USAGE);
		return 0;
	}
	/* The action's own argv: argv[0] is the action name. */
	argc--;
	argv++;
	if (strcmp(sub, "add") == 0)
		return user_add(c, argc, argv);
	if (strcmp(sub, "list") == 0)
		return user_list(c, argc, argv);
	if (strcmp(sub, "show") == 0)
		return user_one(c, argc, argv, "GET", "", NULL, false);
	if (strcmp(sub, "remove") == 0)
		return user_one(c, argc, argv, "DELETE", "", "deregistered (disabled; records kept)",
		                true);
	if (strcmp(sub, "reenrol") == 0)
		return user_one(c, argc, argv, "POST", "/reenrol",
		                "second factor reset: hand them the activation code below; they enrol "
		                "a new seed with it", true);
	if (strcmp(sub, "unlock") == 0)
		return user_one(c, argc, argv, "POST", "/unlock", "unlocked", true);
	return cli_usage(USER_USAGE);
}
