/* verify: validation of CAdES/CMS, PAdES and RFC 3161 time-stamps with a report. Revocation
 * data a signature does not carry is fetched from the certificates' own URLs (OCSP, then CRL)
 * unless --offline; with a server given, the service's current CRLs decide about its own
 * certificates. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "verify/verify.h"

#define VERIFY_USAGE \
	"verify FILE [SIGNATURE] [--trust PEM|DIR] [--crl FILE]... [--ocsp FILE]... [--json]\n" \
	"              [--format cades|pades|xades|timestamp] [--fetch-crls] [--no-revocation-check]\n" \
	"              [--time YYYY-MM-DDTHH:MM:SSZ] [--offline]\n" \
	"  FILE alone: an attached CMS signature, a signed PDF or XML; with SIGNATURE: the document and\n" \
	"  its signature (judged over FILE, attached or not) or time-stamp. Missing revocation\n" \
	"  data is fetched from the certificates' OCSP responders and CRLs (http and https);\n" \
	"  --offline fetches nothing. With --server (or INKAN_SERVER) the service's current CRLs\n" \
	"  decide about its own certificates (--offline: not). --fetch-crls: accepted, the\n" \
	"  default. Exit 0 only when every signature is TOTAL-PASSED."

/* A document or a PDF may be large; a signature container is never larger than this. */
#define VERIFY_FILE_MAX (512u * 1024u * 1024u)

static int
parse_time(const char *s, int64_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return INK_ERR_INVALID;
	*out = (int64_t)timegm(&tm);
	return *out > 0 ? 0 : INK_ERR_INVALID;
}

/* The service's CA chain (to know its certificates; never trust anchors by this) and the
 * current CRLs of its issuing CA and root, from the public endpoints of c->server. */
static int
load_service(struct cli_ctx *c, struct verify_ctx *vctx)
{
	static const char *const lists[] = { "/ca/crl", "/ca/arl" };
	uint8_t *data = NULL;
	size_t len = 0, i;
	int r;

	/* Over plain HTTP anyone on the way could hand over an older CRL of the CA (still within
	 * its validity) in which a revoked certificate is good. */
	if (strncasecmp(c->server, "https://", 8) != 0)
		return cli_fail(c, INK_ERR_INVALID, "%s: the service's CRLs are taken only over "
		                "https:// (--offline validates without them)", c->server);
	if ((r = cli_http_raw(c, "/ca/cert", "application/pem-certificate-chain", CLI_AUTH_NONE,
	                      &data, &len)) != 0)
		goto out;
	if ((r = verify_ctx_add_service_ca(vctx, (const char *)data, len)) != 0) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "%s/ca/cert is not a certificate chain", c->server);
		goto out;
	}
	for (i = 0; i < INK_ARRAY_LEN(lists); i++) {
		free(data);
		data = NULL;
		if ((r = cli_http_raw(c, lists[i], "application/pkix-crl", CLI_AUTH_NONE, &data,
		                      &len)) != 0)
			goto out;
		if ((r = verify_ctx_add_service_crl(vctx, data, len)) != 0) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "%s%s is not a CRL", c->server, lists[i]);
			goto out;
		}
	}
	r = verify_ctx_set_service_source(vctx, c->server);
out:
	if (r != 0 && c->reported)
		fprintf(stderr, "inkan: cannot get the service's current CRLs from %s "
		        "(--offline validates without them)\n", c->server);
	free(data);
	return r;
}

static int
read_input(struct cli_ctx *c, const char *path, char **out, size_t *len)
{
	int r = ink_read_file(path, VERIFY_FILE_MAX, out, len);

	if (r == INK_ERR_NOT_FOUND)
		return cli_fail(c, r, "%s: no such file", path);
	if (r == INK_ERR_TOO_LARGE)
		return cli_fail(c, r, "%s: larger than %u MiB", path, VERIFY_FILE_MAX >> 20);
	if (r != 0)
		return cli_fail(c, r, "%s: cannot read: %s", path, ink_err_str(r));
	return 0;
}

int
cmd_verify(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trust", required_argument, NULL, 't' },
		{ "crl", required_argument, NULL, 'c' },
		{ "ocsp", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "fetch-crls", no_argument, NULL, 'F' },
		{ "no-revocation-check", no_argument, NULL, 'N' },
		{ "time", required_argument, NULL, 'T' },
		{ "offline", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_ctx *vctx = NULL;
	struct verify_report *rep = NULL;
	struct verify_input in;
	json_t *j = NULL;
	char *doc = NULL, *sig = NULL, err[256];
	const char *trust = NULL;
	size_t doc_len = 0, sig_len = 0;
	int64_t at = 0;
	bool json = c->json, offline = false;
	int ch, r;

	memset(&in, 0, sizeof(in));
	if ((r = verify_ctx_new(&vctx)) != 0)
		goto out;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (trust != NULL) {
				r = cli_usage(VERIFY_USAGE);
				goto out;
			}
			trust = optarg;
			if ((r = verify_ctx_load_trust(vctx, optarg)) != 0) {
				cli_fail(c, r, "%s: %s", optarg, r == INK_ERR_INVALID ?
				         "no PEM certificate found" : ink_err_str(r));
				goto out;
			}
			break;
		case 'c':
			if ((r = verify_ctx_load_crl(vctx, optarg)) != 0) {
				cli_fail(c, r, "%s: %s", optarg, r == INK_ERR_INVALID ?
				         "not a CRL (DER or PEM)" : ink_err_str(r));
				goto out;
			}
			break;
		case 'o':
			if ((r = verify_ctx_load_ocsp(vctx, optarg)) != 0) {
				cli_fail(c, r, "%s: %s", optarg, r == INK_ERR_INVALID ?
				         "not a successful OCSP response (DER or PEM)" : ink_err_str(r));
				goto out;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'f':
			if (verify_format_parse(optarg, &in.format) != 0) {
				r = cli_usage(VERIFY_USAGE);
				goto out;
			}
			break;
		case 'F':
			/* fetching is the default now; the old option stays accepted */
			break;
		case 'N':
			verify_ctx_set_require_revocation(vctx, false);
			break;
		case 'T':
			if (parse_time(optarg, &at) != 0) {
				r = cli_usage(VERIFY_USAGE);
				goto out;
			}
			verify_ctx_set_time(vctx, at);
			break;
		case 'O':
			offline = true;
			break;
		case 'h':
			printf("usage: inkan %s\n", VERIFY_USAGE);
			r = 0;
			goto out;
		default:
			r = cli_usage(VERIFY_USAGE);
			goto out;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		r = cli_usage(VERIFY_USAGE);
		goto out;
	}
	if (argc - optind == 2) {
		if ((r = read_input(c, argv[optind], &doc, &doc_len)) != 0 ||
		    (r = read_input(c, argv[optind + 1], &sig, &sig_len)) != 0)
			goto out;
		in.doc = (const uint8_t *)doc;
		in.doc_len = doc_len;
	} else if ((r = read_input(c, argv[optind], &sig, &sig_len)) != 0) {
		goto out;
	}
	in.sig = (const uint8_t *)sig;
	in.sig_len = sig_len;
	/* online unless told otherwise: the CLI acts for its user, on their network */
	verify_ctx_set_fetch(vctx, !offline);
	if (c->server_given && !offline && (r = load_service(c, vctx)) != 0)
		goto out;
	if ((r = verify_run(vctx, &in, &rep, err, sizeof(err))) != 0) {
		cli_fail(c, r, "%s: %s", argv[argc - 1], err[0] != '\0' ? err : ink_err_str(r));
		goto out;
	}
	if (json) {
		if ((j = verify_report_json(rep)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		if ((r = cli_print_json(j)) != 0)
			goto out;
	} else {
		verify_report_print(rep, stdout);
	}
	if (!verify_report_all_passed(rep)) {
		/* The report said why; only the exit status is left to set. */
		c->reported = true;
		r = INK_ERR_CRYPTO;
	}
out:
	json_decref(j);
	verify_report_free(rep);
	verify_ctx_free(vctx);
	free(doc);
	free(sig);
	return r;
}
