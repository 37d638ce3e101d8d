/* main: the inkan command's global options and the one table that routes subcommands. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_SERVER "https://127.0.0.1:8443"
#define DEFAULT_LOCAL_CACERT "./var/tls/cert.pem"

static int cmd_help(struct cli_ctx *c, int argc, char **argv);

static const struct cli_cmd commands[] = {
	{ .name = "init", .fn = cmd_init, .help = "create a data directory and the first security officer" },
	{ .name = "login", .fn = cmd_login, .help = "log in with password and TOTP code; save the token" },
	{ .name = "logout", .fn = cmd_logout, .help = "revoke the saved token and delete it" },
	{ .name = "passwd", .fn = cmd_passwd, .help = "change your password" },
	{ .name = "enrol", .fn = cmd_enrol, .help = "enrol your own TOTP seed (after the first password change)" },
	{ .name = "whoami", .fn = cmd_whoami, .help = "show your own account" },
	{ .name = "user", .fn = cmd_user, .help = "add, list, show, remove or unlock accounts" },
	{ .name = "role", .fn = cmd_role, .help = "grant or revoke a privileged role" },
	{ .name = "client", .fn = cmd_client, .help = "OAuth clients that may ask signers for signatures: add, list, remove" },
	{ .name = "key", .fn = cmd_key, .help = "signing keys: create, list, show, renew, revoke, pin, unlock, certificate" },
	{ .name = "backup", .fn = cmd_backup, .help = "back up the key store to a file, or restore it" },
	{ .name = "ca", .fn = cmd_ca, .help = "fetch the CA certificate chain or the current CRL (no login)" },
	{ .name = "audit", .fn = cmd_audit, .help = "audit log: list, verify, export, proof, consistency" },
	{ .name = "compliance", .fn = cmd_compliance, .help = "ISO/IEC 27017 report of the running service (system auditor): summary, --json, --html FILE" },
	{ .name = "info", .fn = cmd_info, .help = "show the service information (no login)" },
	{ .name = "sign", .fn = cmd_sign, .help = "sign a file (CAdES or PAdES, B-B to B-LTA): only its hash leaves this machine" },
	{ .name = "extend", .fn = cmd_extend, .help = "raise a CAdES signature or a signed PDF to B-LT or B-LTA, or renew its last (archive or document) time-stamp" },
	{ .name = "verify", .fn = cmd_verify, .help = "validate CAdES, PAdES or time-stamp signatures (revocation data fetched online unless --offline)" },
	{ .name = "help", .fn = cmd_help, .help = "list the commands" },
};

static void
usage_global(FILE *f)
{
	size_t i;

	fprintf(f, "usage: inkan [--server URL] [--cacert FILE] [--token-file FILE]\n"
	           "             [--password-file FILE] [--json] <command> [<args>]\n\n"
	           "commands:\n");
	for (i = 0; i < INK_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`inkan <command> --help` shows a command's arguments; see docs/cli.md.\n");
}

static int
cmd_help(struct cli_ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	usage_global(stdout);
	return 0;
}

/* Writes an option word up to any '=' (the value may be a secret). */
static void
put_option_name(const char *word)
{
	const char *p;

	fputs("inkan: unknown option or missing argument: ", stderr);
	for (p = word; *p != '\0' && *p != '=' && p - word < 64; p++)
		fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
	fputc('\n', stderr);
}

int
cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	const char *word, *name;
	char shortname[3] = { '-', 0, 0 };
	int ch, idx = -1;
	size_t n;

	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, longopts, &idx);
	if (ch == -1)
		return ch;
	word = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
	if (ch == '?' || ch == ':') {
		if (strncmp(word, "--", 2) != 0 || (optopt != 0 && idx < 0 && word[2] == '\0')) {
			shortname[1] = (char)optopt;
			word = optopt != 0 ? shortname : "-";
		}
		put_option_name(word);
		return '?';
	}
	if (idx < 0)
		return ch; /* a short option */
	/* The option's own word: before its argument when that was a separate word. */
	if (longopts[idx].has_arg != no_argument && optarg != NULL && optind >= 2 &&
	    optarg == argv[optind - 1])
		word = argv[optind - 2];
	name = longopts[idx].name;
	n = strlen(name);
	if (strncmp(word, "--", 2) != 0 || strncmp(word + 2, name, n) != 0 ||
	    (word[2 + n] != '\0' && word[2 + n] != '=')) {
		put_option_name(word);
		return '?';
	}
	return ch;
}

int
cli_fail(struct cli_ctx *c, int err, const char *fmt, ...)
{
	va_list ap;

	fputs("inkan: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c != NULL)
		c->reported = true;
	return err;
}

bool
cli_want_help(int argc, char **argv)
{
	return argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
}

int
cli_usage(const char *usage)
{
	fprintf(stderr, "usage: inkan %s\n", usage);
	return CLI_ERR_USAGE;
}

void
cli_put_safe(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

void
cli_put_cell(FILE *f, const char *s, size_t width)
{
	size_t n = 0;
	const unsigned char *p;

	cli_put_safe(f, s);
	/* Count characters, not bytes: UTF-8 continuation bytes take no column. */
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		n += (*p & 0xc0) != 0x80;
	do
		fputc(' ', f);
	while (++n < width);
}

const char *
cli_jtime(const json_t *obj, const char *key, char buf[static 21])
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		ink_time_str(json_integer_value(v), buf);
		return buf;
	}
	return "-";
}

const char *
cli_jstr(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : "";
}

void
cli_jstrings(const json_t *arr, char *out, size_t outsz)
{
	const json_t *v;
	size_t i, used = 0;
	int n;

	if (outsz == 0)
		return;
	out[0] = '\0';
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			continue;
		n = snprintf(out + used, outsz - used, "%s%s", used > 0 ? "," : "",
		             json_string_value(v));
		if (n < 0 || (size_t)n >= outsz - used)
			break;
		used += (size_t)n;
	}
	if (used == 0)
		snprintf(out, outsz, "-");
}

int
cli_print_json(const json_t *j)
{
	if (j == NULL) {
		/* An answer without a body (204): still one JSON value for scripts. */
		fputs("{}\n", stdout);
		return 0;
	}
	if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
		return INK_ERR_IO;
	fputc('\n', stdout);
	return 0;
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

/* The defaults that depend on the environment, before the options override them. */
static int
ctx_defaults(struct cli_ctx *c)
{
	const char *home;

	c->server = env_or("INKAN_SERVER", DEFAULT_SERVER);
	c->server_given = env_or("INKAN_SERVER", NULL) != NULL;
	c->cacert = env_or("INKAN_CACERT", NULL);
	if (c->cacert == NULL && access(DEFAULT_LOCAL_CACERT, R_OK) == 0)
		c->cacert = DEFAULT_LOCAL_CACERT;
	c->token_file = env_or("INKAN_TOKEN_FILE", NULL);
	if (c->token_file == NULL) {
		if ((home = getenv("HOME")) != NULL && *home != '\0' &&
		    ink_path(c->token_path_buf, sizeof(c->token_path_buf), home,
		             ".config/inkan/token") == 0)
			c->token_file = c->token_path_buf;
	}
	return 0;
}

/* The server URL without trailing slashes; only http and https. */
static int
ctx_set_server(struct cli_ctx *c, const char *url)
{
	size_t n = strlen(url);

	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return cli_fail(c, CLI_ERR_USAGE, "--server must be an http:// or https:// URL");
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(c->server_buf))
		return cli_fail(c, CLI_ERR_USAGE, "--server URL too long");
	memcpy(c->server_buf, url, n);
	c->server_buf[n] = '\0';
	c->server = c->server_buf;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "cacert", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_ctx c;
	const struct cli_cmd *cmd = NULL;
	const char *server = NULL;
	size_t i;
	int ch, r = INK_ERR_INTERNAL;
	bool curl_up = false;

	secmem_harden_process();
	secmem_json_wipe_on_free();
	ink_log_init("inkan", INK_LOG_WARN);
	memset(&c, 0, sizeof(c));
	if ((r = ctx_defaults(&c)) != 0)
		goto out;

	/* '+': stop at the subcommand; its options are its own. */
	while ((ch = cli_getopt(argc, argv, "+h", opts)) != -1) {
		switch (ch) {
		case 's':
			server = optarg;
			c.server_given = true;
			break;
		case 'c':
			c.cacert = optarg;
			break;
		case 't':
			c.token_file = optarg;
			break;
		case 'p':
			c.password_file = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			usage_global(stdout);
			r = 0;
			goto out;
		default:
			fprintf(stderr, "usage: inkan [options] <command> [<args>]; `inkan help` lists them\n");
			r = CLI_ERR_USAGE;
			goto out;
		}
	}
	if ((r = ctx_set_server(&c, server != NULL ? server : c.server)) != 0)
		goto out;
	if (optind >= argc) {
		usage_global(stderr);
		r = CLI_ERR_USAGE;
		goto out;
	}
	for (i = 0; i < INK_ARRAY_LEN(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			cmd = &commands[i];
			break;
		}
	}
	if (cmd == NULL) {
		fprintf(stderr, "inkan: unknown command '");
		cli_put_safe(stderr, argv[optind]);
		fprintf(stderr, "'\n");
		usage_global(stderr);
		r = CLI_ERR_USAGE;
		goto out;
	}
	if ((r = cli_http_global_init()) != 0) {
		cli_fail(&c, r, "cannot initialise libcurl");
		goto out;
	}
	curl_up = true;
	argc -= optind;
	argv += optind;
	/* `--json` is accepted after the command too (`inkan user add NAME --role R --json`):
	 * scripts write it where they think of it. */
	{
		int in, out = 1;

		for (in = 1; in < argc; in++) {
			if (strcmp(argv[in], "--") == 0) {
				while (in < argc)
					argv[out++] = argv[in++];
				break;
			}
			if (strcmp(argv[in], "--json") == 0)
				c.json = true;
			else
				argv[out++] = argv[in];
		}
		argc = out;
		argv[argc] = NULL;
	}
	optind = 0; /* glibc: full re-initialisation for the subcommand's own getopt */
	r = cmd->fn(&c, argc, argv);
out:
	if (curl_up)
		cli_http_global_cleanup();
	if (fflush(stdout) != 0 && r == 0)
		r = cli_fail(&c, INK_ERR_IO, "cannot write output");
	if (r == 0)
		return CLI_EXIT_OK;
	if (r == CLI_ERR_USAGE)
		return CLI_EXIT_USAGE;
	if (r == CLI_ERR_UNPROVEN)
		return CLI_EXIT_UNPROVEN;
	if (!c.reported)
		cli_fail(&c, r, "%s", ink_err_str(r));
	return CLI_EXIT_FAIL;
}
