/* audit_export: `inkan audit export [--from SEQ] [--to SEQ] FILE` — writes an export bundle
 * (records, checkpoints, log public key) that `inkan audit verify FILE` checks offline. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#define EXPORT_USAGE "audit export [--from SEQ] [--to SEQ] FILE"

int
cli_audit_export(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	long long from = 1, to = 0;
	char path[128];
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'f':
			if (cli_audit_num(optarg, 1, INT64_MAX, &from) != 0)
				return cli_fail(c, CLI_ERR_USAGE, "--from needs a sequence number >= 1");
			break;
		case 't':
			if (cli_audit_num(optarg, 1, INT64_MAX, &to) != 0)
				return cli_fail(c, CLI_ERR_USAGE, "--to needs a sequence number >= 1");
			break;
		case 'h':
			printf("usage: inkan %s\n", EXPORT_USAGE);
			return 0;
		default:
			return cli_usage(EXPORT_USAGE);
		}
	}
	if (optind != argc - 1)
		return cli_usage(EXPORT_USAGE);
	if (to != 0 && to < from)
		return cli_fail(c, CLI_ERR_USAGE, "--to must not be below --from");
	snprintf(path, sizeof(path), "/api/v1/audit/export?from=%lld&to=%lld", from, to);
	if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (json_dump_file(resp.json, argv[optind], JSON_COMPACT) != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", argv[optind]);
		goto out;
	}
	if (c->json)
		printf("{\"file\": \"%s\", \"records\": %zu, \"checkpoints\": %zu}\n", argv[optind],
		       json_array_size(json_object_get(resp.json, "records")),
		       json_array_size(json_object_get(resp.json, "checkpoints")));
	else
		printf("exported %zu records and %zu checkpoints to %s\n",
		       json_array_size(json_object_get(resp.json, "records")),
		       json_array_size(json_object_get(resp.json, "checkpoints")), argv[optind]);
	{
		const json_t *recs = json_object_get(resp.json, "records");
		json_int_t end = json_integer_value(json_object_get(json_array_get(recs,
		                     json_array_size(recs) - 1), "seq"));
		json_int_t last = json_integer_value(json_object_get(resp.json, "log_last_seq"));

		if (to == 0 && json_array_size(recs) > 0 && last > end)
			fprintf(stderr, "inkan: the log continues to seq %lld (at most 50000 records per "
			        "export): export the rest with --from %lld\n", (long long)last,
			        (long long)end + 1);
	}
out:
	cli_resp_free(&resp);
	return r;
}
