/* audit: lists audit records (system auditor) and routes export, verify, proof, consistency. */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_USAGE "audit list [--after SEQ] [--limit N]\n" \
	"       inkan audit export [--from SEQ] [--to SEQ] FILE\n" \
	"       inkan audit verify [FILE] [--key PEM]\n" \
	"       inkan audit proof SEQ [--out FILE]\n" \
	"       inkan audit consistency FIRST [SECOND]"

int
cli_audit_num(const char *s, long long lo, long long hi, long long *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return INK_ERR_INVALID;
	*out = v;
	return 0;
}

static void
print_records(const json_t *recs)
{
	const json_t *rec, *seq;
	char t[21];
	size_t i;

	printf("%-8s %-20s  %-16s %-22s %-20s %s\n", "SEQ", "TIME", "ACTOR", "ACTION", "SUBJECT",
	       "RESULT");
	json_array_foreach(recs, i, rec) {
		seq = json_object_get(rec, "seq");
		printf("%-8lld ", json_is_integer(seq) ? (long long)json_integer_value(seq) : -1LL);
		cli_put_cell(stdout, cli_jtime(rec, "time", t), 22);
		cli_put_cell(stdout, cli_jstr(rec, "actor"), 17);
		cli_put_cell(stdout, cli_jstr(rec, "action"), 23);
		cli_put_cell(stdout, cli_jstr(rec, "subject"), 21);
		cli_put_safe(stdout, cli_jstr(rec, "result"));
		printf("\n");
	}
}

int
cmd_audit(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "after", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	long long after = 0, limit = 100;
	char path[128];
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cli_audit_export(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cli_audit_verify(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "proof") == 0)
		return cli_audit_proof(c, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "consistency") == 0)
		return cli_audit_consistency(c, argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "list") != 0) {
		if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			printf("usage: inkan %s\n", AUDIT_USAGE);
			return 0;
		}
		return cli_usage(AUDIT_USAGE);
	}
	argc--;
	argv++;
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'a':
			if (cli_audit_num(optarg, 0, INT64_MAX, &after) != 0)
				return cli_fail(c, CLI_ERR_USAGE, "--after needs a sequence number >= 0");
			break;
		case 'l':
			if (cli_audit_num(optarg, 1, 1000, &limit) != 0)
				return cli_fail(c, CLI_ERR_USAGE, "--limit needs a number from 1 to 1000");
			break;
		case 'h':
			printf("usage: inkan %s\n", AUDIT_USAGE);
			return 0;
		default:
			return cli_usage(AUDIT_USAGE);
		}
	}
	if (optind != argc)
		return cli_usage(AUDIT_USAGE);
	snprintf(path, sizeof(path), "/api/v1/audit?after=%lld&limit=%lld", after, limit);
	if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json)
		r = cli_print_json(resp.json);
	else
		print_records(json_object_get(resp.json, "records"));
out:
	cli_resp_free(&resp);
	return r;
}
