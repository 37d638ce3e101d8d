/* audit_verify: `inkan audit verify [FILE] [--key PEM | --fingerprint SHA256]` — recomputes the
 * audit log's Merkle tree from every record and checks every signed checkpoint against a log key
 * the auditor trusts: offline on an export bundle, or page by page from the server (system
 * auditor). Names the first wrong record; without a trust anchor the result is "unproven". */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define VERIFY_USAGE "audit verify [FILE] [--key PEM | --fingerprint SHA256-HEX]"
/* Records per request when verifying online (each page well below CLI_RESP_MAX). */
#define ONLINE_PAGE 1000

static void
add_report(struct audit_verify_report *sum, const struct audit_verify_report *r)
{
	if (sum->records == 0)
		sum->first_seq = r->first_seq;
	sum->records += r->records;
	sum->checkpoints += r->checkpoints;
	if (r->last_seq > 0)
		sum->last_seq = r->last_seq;
	if (r->covered > sum->covered)
		sum->covered = r->covered;
	memcpy(sum->key_sha256, r->key_sha256, sizeof(sum->key_sha256));
	sum->anchored = r->anchored;
	if (sum->error[0] == '\0') {
		memcpy(sum->error, r->error, sizeof(sum->error));
		sum->bad_seq = r->bad_seq;
	}
}

static int
online(struct cli_ctx *c, const struct audit_anchor *anchor, struct audit_verify_report *sum)
{
	struct audit_verify_report rep;
	struct audit_frontier f;
	struct cli_resp resp;
	char path[128];
	long long from = 1;
	size_t got;
	int r;

	memset(&f, 0, sizeof(f));
	for (;;) {
		memset(&resp, 0, sizeof(resp));
		snprintf(path, sizeof(path), "/api/v1/audit/export?from=%lld&to=%lld", from,
		         from + ONLINE_PAGE - 1);
		if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0) {
			cli_resp_free(&resp);   /* a refusal's body, already reported */
			return r;
		}
		got = json_array_size(json_object_get(resp.json, "records"));
		r = audit_bundle_verify_page(resp.json, anchor, &f, &rep);
		cli_resp_free(&resp);
		add_report(sum, &rep);
		if (r != 0)
			return r;
		if (got < ONLINE_PAGE)
			return 0;
		from = (long long)rep.last_seq + 1;
	}
}

int
cli_audit_verify(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_verify_report rep;
	struct audit_anchor anchor;
	json_error_t jerr;
	json_t *b = NULL;
	const char *keyfile = NULL, *fpr = NULL;
	char *pem = NULL;
	uint8_t *pin = NULL;
	size_t pin_len = 0;
	bool whole;
	int ch, r;

	memset(&rep, 0, sizeof(rep));
	memset(&anchor, 0, sizeof(anchor));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'k':
			keyfile = optarg;
			break;
		case 'f':
			fpr = optarg;
			break;
		case 'h':
			printf("usage: inkan %s\n", VERIFY_USAGE);
			return 0;
		default:
			return cli_usage(VERIFY_USAGE);
		}
	}
	if (optind < argc - 1 || (keyfile != NULL && fpr != NULL))
		return cli_usage(VERIFY_USAGE);
	if (keyfile != NULL) {
		if (ink_read_file(keyfile, 65536, &pem, NULL) != 0 ||
		    audit_pem_to_spki(pem, &pin, &pin_len) != 0) {
			free(pem);
			return cli_fail(c, INK_ERR_INVALID, "%s: not a PEM public key", keyfile);
		}
		free(pem);
		anchor.spki = pin;
		anchor.spki_len = pin_len;
	}
	if (fpr != NULL) {
		if (audit_fingerprint_parse(fpr, anchor.sha256) != 0)
			return cli_fail(c, CLI_ERR_USAGE, "--fingerprint: 64 hex digits (SHA-256 of the "
			                "log key's SubjectPublicKeyInfo), plain or with colons");
		anchor.has_sha256 = true;
	}
	if (optind == argc - 1) {
		if ((b = json_load_file(argv[optind], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			r = cli_fail(c, INK_ERR_INVALID, "%s: not a JSON document (line %d: %s)",
			             argv[optind], jerr.line, jerr.text);
			goto out;
		}
		r = audit_bundle_verify(b, &anchor, &rep);
	} else {
		r = online(c, &anchor, &rep);
		if (r != 0 && rep.error[0] == '\0')
			goto out;   /* the request failed and was reported */
	}
	/* Proven: every record under a checkpoint the trusted key signed. Records after the last
	 * one (or a log with none) could have been written by anyone who has the public key. */
	whole = rep.checkpoints > 0 && rep.covered >= rep.last_seq;
	if (c->json) {
		json_t *o = json_pack("{s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}",
		                      "ok", r == 0 && rep.anchored && whole, "anchored", rep.anchored,
		                      "all_signed", whole,
		                      "records", (json_int_t)rep.records,
		                      "first_seq", (json_int_t)rep.first_seq,
		                      "last_seq", (json_int_t)rep.last_seq,
		                      "checkpoints", (json_int_t)rep.checkpoints,
		                      "covered", (json_int_t)rep.covered,
		                      "log_key_sha256", rep.key_sha256, "error", rep.error,
		                      "bad_seq", (json_int_t)rep.bad_seq);

		if (cli_print_json(o) != 0 && r == 0)
			r = INK_ERR_IO;
		json_decref(o);
	} else if (r == 0 && rep.anchored && !whole) {
		printf("audit log integrity UNPROVEN for records %llu..%llu: they are under no "
		       "checkpoint the trusted key signed (%llu checkpoints verified; signed up to seq "
		       "%llu)\nlog key sha256 %s (the trusted one)\n",
		       (unsigned long long)rep.covered + 1, (unsigned long long)rep.last_seq,
		       (unsigned long long)rep.checkpoints, (unsigned long long)rep.covered,
		       rep.key_sha256);
	} else if (r == 0 && rep.anchored) {
		printf("audit log OK: %llu records (seq %llu..%llu), %llu checkpoints verified; "
		       "signed up to seq %llu\nlog key sha256 %s (the trusted one)\n",
		       (unsigned long long)rep.records, (unsigned long long)rep.first_seq,
		       (unsigned long long)rep.last_seq, (unsigned long long)rep.checkpoints,
		       (unsigned long long)rep.covered, rep.key_sha256);
	} else if (r == 0) {
		printf("audit log integrity UNPROVEN: %llu records (seq %llu..%llu) and %llu "
		       "checkpoints agree with the key the log itself carries, which anyone could "
		       "have made (no trust anchor)\nlog key sha256 %s\n"
		       "compare it with the fingerprint `inkan init` printed (or DATA/ca/audit-log.pem's) "
		       "and run again with --fingerprint or --key\n",
		       (unsigned long long)rep.records, (unsigned long long)rep.first_seq,
		       (unsigned long long)rep.last_seq, (unsigned long long)rep.checkpoints,
		       rep.key_sha256);
	}
	if (r == 0 && (!rep.anchored || !whole)) {
		c->reported = true;
		r = CLI_ERR_UNPROVEN;
	} else if (r != 0) {
		c->reported = c->json;
		if (!c->json)
			r = cli_fail(c, r, "audit log verification FAILED: %s",
			             rep.error[0] != '\0' ? rep.error : ink_err_str(r));
	}
out:
	json_decref(b);
	free(pin);
	return r;
}
