/* extend: `inkan extend FILE --level B-LT|B-LTA` — raises the signatures a file holds (ours or
 * anyone's) to a long-term level, dispatching by format: a PDF gets a DSS for every signature
 * and document time-stamp, then (B-LTA) a document time-stamp; an LTA extended again is
 * renewed (the last time-stamp's validation data, then a new time-stamp over everything). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "formats/formats.h"

#define EXTEND_USAGE                                                                      \
	"extend FILE --level B-LT|B-LTA [--output PATH] [--tsa URL] [--offline]\n"          \
	"       [--cert FILE]... [--ocsp FILE]... [--crl FILE]...\n"                         \
	"  Validation data: the files given (DER), and unless --offline what the\n"          \
	"  certificates' OCSP and CRL URLs give. The document time-stamp comes from --tsa,\n" \
	"  else the service's /tsa."
/* Files of validation data given on the command line, at most, and their size. */
#define EXTEND_FILES_MAX 32
#define EXTEND_FILE_MAX (16u * 1024u * 1024u)

struct extend_files {
	char *data[EXTEND_FILES_MAX];
	struct formats_blob b[EXTEND_FILES_MAX];
	size_t n;
};

static void
files_free(struct extend_files *f)
{
	while (f->n > 0)
		free(f->data[--f->n]);
}

static int
file_add(struct cli_ctx *c, struct extend_files *f, const char *path)
{
	size_t len = 0;
	int r;

	if (f->n == EXTEND_FILES_MAX)
		return cli_fail(c, CLI_ERR_USAGE, "at most %d files of each kind", EXTEND_FILES_MAX);
	if ((r = ink_read_file(path, EXTEND_FILE_MAX, &f->data[f->n], &len)) != 0)
		return cli_fail(c, r, "%s: cannot read: %s", path, ink_err_str(r));
	f->b[f->n].p = (const uint8_t *)f->data[f->n];
	f->b[f->n].len = len;
	f->n++;
	return 0;
}

int
cmd_extend(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "tsa", required_argument, NULL, 't' },
		{ "offline", no_argument, NULL, 'O' },
		{ "cert", required_argument, NULL, 'C' },
		{ "ocsp", required_argument, NULL, 'S' },
		{ "crl", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct extend_files certs = { 0 }, ocsps = { 0 }, crls = { 0 };
	struct cli_ltv lo = { 0 };
	const char *file, *output = NULL, *level = NULL;
	char out_buf[4200], tsa_buf[1100];
	size_t n;
	int ch, r = 0;

	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", EXTEND_USAGE);
		return 0;
	}
	while (r == 0 && (ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'l': level = optarg; break;
		case 'o': output = optarg; break;
		case 't': lo.tsa = optarg; break;
		case 'O': lo.offline = true; break;
		case 'C': r = file_add(c, &certs, optarg); break;
		case 'S': r = file_add(c, &ocsps, optarg); break;
		case 'R': r = file_add(c, &crls, optarg); break;
		default: r = cli_usage(EXTEND_USAGE); break;
		}
	}
	if (r != 0)
		goto out;
	if (optind != argc - 1 || level == NULL ||
	    (strcmp(level, "B-LT") != 0 && strcmp(level, "B-LTA") != 0)) {
		r = cli_usage(EXTEND_USAGE);
		goto out;
	}
	file = argv[optind];
	lo.lta = strcmp(level, "B-LTA") == 0;
	lo.certs = certs.b;
	lo.ncerts = certs.n;
	lo.ocsps = ocsps.b;
	lo.nocsps = ocsps.n;
	lo.crls = crls.b;
	lo.ncrls = crls.n;
	if (!formats_is_pdf(file)) {
		r = cli_fail(c, INK_ERR_UNSUPPORTED, "%s: only PDFs are extended here", file);
		goto out;
	}
	if (output == NULL) {
		n = strlen(file);
		if (n > 4 && strcasecmp(file + n - 4, ".pdf") == 0)
			n -= 4;
		snprintf(out_buf, sizeof(out_buf), "%.*s-%s.pdf", (int)n, file, lo.lta ? "lta" : "lt");
		output = out_buf;
	}
	/* The public RFC 3161 endpoint of the service: extending needs no login. */
	if (lo.lta && lo.tsa == NULL) {
		snprintf(tsa_buf, sizeof(tsa_buf), "%s/tsa", c->server);
		lo.tsa = tsa_buf;
	}
	if ((r = cli_pades_ltv(c, file, output, &lo)) != 0)
		goto out;
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "file", file, "output", output, "level", level);

		r = cli_print_json(j);
		json_decref(j);
	} else {
		printf("extended to %s: %s\n", level, output);
	}
out:
	files_free(&certs);
	files_free(&ocsps);
	files_free(&crls);
	return r;
}
