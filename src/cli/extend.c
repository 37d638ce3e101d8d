/* extend: `inkan extend FILE [DOCUMENT] --level B-LT|B-LTA` — raises an existing signature
 * (ours or anyone's) to B-LT (validation data fetched online from the certificates' own URLs)
 * or B-LTA (an archive time-stamp over everything, from the service's TSA or --tsa), and renews
 * a B-LTA with a further archive time-stamp. Dispatches by format: CAdES (.p7s) here, PDFs
 * (every signature and document time-stamp, then a document time-stamp) through ltv.c, XAdES
 * (XML) through extend_xades.c. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "verify/verify.h"

#define EXTEND_USAGE                                                                         \
	"extend FILE [DOCUMENT] --level B-LT|B-LTA [--tsa URL] [--output PATH]\n"              \
	"       [--offline] [--cert DER]... [--ocsp DER]... [--crl DER]...   (PDF)\n"          \
	"  FILE: a CAdES signature (DER) or a XAdES one (XML); DOCUMENT: the document of a\n"  \
	"  detached one (CAdES: else the signer's message-digest stands for it; XAdES: needed\n" \
	"  for B-LTA). B-LT adds the validation data of every\n"                                \
	"  certificate, fetched from its OCSP responder or CRL; B-LTA adds an archive\n"       \
	"  time-stamp too, and on a B-LTA file a further one (renewal). FILE is replaced\n"     \
	"  unless --output is given. A PDF gets a DSS for every signature and document\n"      \
	"  time-stamp (data also from the files given; --offline: only from them) and for\n"  \
	"  B-LTA a document time-stamp (from --tsa, else the service's /tsa)."
/* A CAdES file read whole: documents larger than this are signed detached. */
#define EXTEND_FILE_MAX (512u * 1024u * 1024u)
/* Files of validation data given for a PDF, of each kind, at most, and their size. */
#define EXTEND_DATA_FILES 32
#define EXTEND_DATA_MAX (16u * 1024u * 1024u)

struct extend_files {
	char *data[EXTEND_DATA_FILES];
	struct formats_blob b[EXTEND_DATA_FILES];
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

	if (f->n == EXTEND_DATA_FILES)
		return cli_fail(c, CLI_ERR_USAGE, "at most %d files of each kind", EXTEND_DATA_FILES);
	if ((r = ink_read_file(path, EXTEND_DATA_MAX, &f->data[f->n], &len)) != 0)
		return cli_fail(c, r, "%s: cannot read: %s", path, ink_err_str(r));
	if (len < 2 || (uint8_t)f->data[f->n][0] != 0x30) {
		free(f->data[f->n]);
		return cli_fail(c, INK_ERR_INVALID, "%s: not DER (convert PEM with openssl)", path);
	}
	f->b[f->n].data = (const uint8_t *)f->data[f->n];
	f->b[f->n].len = len;
	f->n++;
	return 0;
}

/* Whether path holds XML (a byte-order mark and white space, then '<'): a XAdES signature.
 * CAdES (DER) begins with 0x30. */
static bool
is_xml(const char *path)
{
	uint8_t b[64];
	size_t n = 0, i = 0;
	FILE *f = fopen(path, "rb");

	if (f != NULL) {
		n = fread(b, 1, sizeof(b), f);
		fclose(f);
	}
	if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	return i < n && b[i] == '<';
}

/* A PDF: into output, or through a temporary name over file itself. */
static int
extend_pdf(struct cli_ctx *c, const char *file, const char *output, struct cli_ltv *lo)
{
	char tmp[4200], tsa[1100];
	int r;

	/* The public RFC 3161 endpoint of the service: extending needs no login. */
	if (lo->lta && lo->tsa == NULL) {
		snprintf(tsa, sizeof(tsa), "%s/tsa", c->server);
		lo->tsa = tsa;
	}
	if (output != NULL)
		return cli_pades_ltv(c, file, output, lo);
	if (snprintf(tmp, sizeof(tmp), "%s.extend-%ld.tmp", file, (long)getpid()) >= (int)sizeof(tmp))
		return cli_fail(c, INK_ERR_INVALID, "%s: name too long", file);
	if ((r = cli_pades_ltv(c, file, tmp, lo)) != 0)
		return r;
	if (rename(tmp, file) != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot replace %s: %s", file, strerror(errno));
		(void)unlink(tmp);
	}
	return r;
}

/* Swaps *der for next (taking it over). */
static void
replace(uint8_t **der, size_t *len, uint8_t *next, size_t next_len)
{
	free(*der);
	*der = next;
	*len = next_len;
}

int
cli_blobs_of(const struct formats_der_list *l, struct verify_blob **out)
{
	size_t i;

	if ((*out = calloc(l->n + 1, sizeof(**out))) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < l->n; i++) {
		(*out)[i].data = (uint8_t *)l->v[i].data;
		(*out)[i].len = l->v[i].len;
	}
	return 0;
}

/* B-LT: the validation data of every certificate in the signature and its time-stamps. */
static int
add_vdata(struct cli_ctx *c, uint8_t **der, size_t *len)
{
	struct formats_der_list certs = { 0 }, hcrls = { 0 }, hocsps = { 0 };
	struct verify_fetch *f = NULL;
	struct verify_vdata vd = { 0 }, have = { 0 };
	struct verify_blob *bag = NULL;
	struct formats_blob *all = NULL, *crls = NULL, *ocsps = NULL;
	uint8_t *next = NULL;
	size_t next_len = 0, i, nall = 0;
	char err[512];
	int r;

	if ((r = formats_cades_certs(*der, *len, &certs)) != 0 ||
	    (r = formats_cades_revocation(*der, *len, &hcrls, &hocsps)) != 0) {
		r = cli_fail(c, r, "cannot read the signature's certificates and revocation data");
		goto out;
	}
	if ((r = cli_blobs_of(&certs, &bag)) != 0 || (r = cli_blobs_of(&hcrls, &have.crls)) != 0 ||
	    (r = cli_blobs_of(&hocsps, &have.ocsps)) != 0)
		goto out;
	have.ncrls = hcrls.n;
	have.nocsps = hocsps.n;
	if ((r = verify_fetch_new(&f)) != 0)
		goto out;
	/* what the signature holds and is still current is not fetched again (a renewal adds
	 * what the newest time-stamp's chain needs, not a second copy of the rest) */
	if ((r = verify_fetch_missing(f, bag, certs.n, &have, &vd, err, sizeof(err))) != 0) {
		r = cli_fail(c, r, "validation data: %s", err);
		goto out;
	}
	/* the time-stamps' certificates and the OCSP responders' join the signature's */
	if ((all = calloc(certs.n + vd.ncerts + 1, sizeof(*all))) == NULL ||
	    (crls = calloc(vd.ncrls + 1, sizeof(*crls))) == NULL ||
	    (ocsps = calloc(vd.nocsps + 1, sizeof(*ocsps))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < certs.n; i++)
		all[nall++] = certs.v[i];
	for (i = 0; i < vd.ncerts; i++)
		all[nall++] = (struct formats_blob){ vd.certs[i].data, vd.certs[i].len };
	for (i = 0; i < vd.ncrls; i++)
		crls[i] = (struct formats_blob){ vd.crls[i].data, vd.crls[i].len };
	for (i = 0; i < vd.nocsps; i++)
		ocsps[i] = (struct formats_blob){ vd.ocsps[i].data, vd.ocsps[i].len };
	if ((r = formats_cades_add_vdata(*der, *len, all, nall, crls, vd.ncrls, ocsps, vd.nocsps,
	                                 &next, &next_len)) != 0) {
		r = cli_fail(c, r, "cannot add the validation data: %s", ink_err_str(r));
		goto out;
	}
	replace(der, len, next, next_len);
out:
	free(all);
	free(crls);
	free(ocsps);
	free(bag);
	free(have.crls);    /* views of hcrls and hocsps */
	free(have.ocsps);
	verify_vdata_free(&vd);
	verify_fetch_free(f);
	formats_der_list_free(&certs);
	formats_der_list_free(&hcrls);
	formats_der_list_free(&hocsps);
	return r;
}

int
cli_cades_extend(struct cli_ctx *c, uint8_t **der, size_t *len, bool lta, const char *tsa,
                 const uint8_t *doc, size_t doc_len)
{
	struct formats_cades_info info;
	uint8_t md[FORMATS_SHA256_LEN], *tok = NULL, *index = NULL, *next = NULL;
	size_t tok_len = 0, index_len = 0, next_len = 0;
	int r;

	if ((r = formats_cades_info(*der, *len, &info)) != 0)
		return cli_fail(c, r, "not a CMS SignedData this command can extend (DER of definite "
		                "lengths)");
	if (info.signers != 1)
		return cli_fail(c, INK_ERR_UNSUPPORTED, "the signature holds %zu signers: only one "
		                "can be extended", info.signers);
	/* B-LT and B-LTA build on B-T (EN 319 122-1 baseline) */
	if (info.sig_timestamps == 0) {
		if ((r = formats_cades_sig_digest(*der, *len, md)) != 0 ||
		    (r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
			goto out;
		if ((r = formats_cades_add_sig_timestamp(*der, *len, tok, tok_len, &next,
		                                         &next_len)) != 0) {
			r = cli_fail(c, r, "cannot add the signature time-stamp");
			goto out;
		}
		replace(der, len, next, next_len);
		next = NULL;
	}
	if ((r = add_vdata(c, der, len)) != 0 || !lta)
		goto out;
	if ((r = formats_cades_ats_prepare(*der, *len, doc, doc_len, md, &index, &index_len)) != 0) {
		r = cli_fail(c, r, r == INK_ERR_NOT_FOUND ? "the signature is detached and its "
		             "message-digest is not SHA-256: give the document" :
		             "cannot compute the archive time-stamp's imprint");
		goto out;
	}
	free(tok);
	tok = NULL;
	if ((r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
		goto out;
	if ((r = formats_cades_ats_add(*der, *len, tok, tok_len, index, index_len, &next,
	                               &next_len)) != 0) {
		r = cli_fail(c, r, "cannot add the archive time-stamp");
		goto out;
	}
	replace(der, len, next, next_len);
	next = NULL;
out:
	free(next);
	free(index);
	free(tok);
	return r;
}

int
cli_write_atomic(struct cli_ctx *c, const char *path, const uint8_t *data, size_t len, bool replace_ok)
{
	char tmp[4200];
	FILE *out = NULL;
	int fd = -1, r = INK_ERR_IO;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || (out = fdopen(fd, "wb")) == NULL) {
		r = cli_fail(c, INK_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (fwrite(data, 1, len, out) != len || fflush(out) != 0 || fsync(fileno(out)) != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", path);
		goto out;
	}
	r = fclose(out);
	out = NULL;
	if (r != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", path);
		goto out;
	}
	if (replace_ok ? rename(tmp, path) != 0 : link(tmp, path) != 0) {
		r = cli_fail(c, replace_ok ? INK_ERR_IO : INK_ERR_EXISTS, "cannot create %s: %s", path,
		             strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (out != NULL)
		fclose(out);
	(void)unlink(tmp);
	return r;
}

int
cli_cades_extend_file(struct cli_ctx *c, const char *path, const char *output, bool lta,
                      const char *tsa, const char *doc_path)
{
	char *data = NULL, *doc = NULL;
	uint8_t *der = NULL;
	size_t len = 0, doc_len = 0;
	int r;

	if ((r = ink_read_file(path, EXTEND_FILE_MAX, &data, &len)) != 0)
		return cli_fail(c, r, "%s: cannot read: %s", path, ink_err_str(r));
	if (doc_path != NULL && (r = ink_read_file(doc_path, EXTEND_FILE_MAX, &doc, &doc_len)) != 0) {
		r = cli_fail(c, r, "%s: cannot read: %s", doc_path, ink_err_str(r));
		goto out;
	}
	der = (uint8_t *)data;
	data = NULL;
	if ((r = cli_cades_extend(c, &der, &len, lta, tsa, (const uint8_t *)doc, doc_len)) != 0)
		goto out;
	r = cli_write_atomic(c, output != NULL ? output : path, der, len, output == NULL);
out:
	free(der);
	free(data);
	free(doc);
	return r;
}

int
cmd_extend(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "tsa", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "offline", no_argument, NULL, 'O' },
		{ "cert", required_argument, NULL, 'C' },
		{ "ocsp", required_argument, NULL, 'S' },
		{ "crl", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct extend_files certs = { 0 }, ocsps = { 0 }, crls = { 0 };
	struct cli_ltv lo = { 0 };
	const char *level = NULL, *tsa = NULL, *output = NULL, *file, *doc = NULL;
	char tsa_url[1100];
	bool lta, given = false;
	int ch, r = 0;

	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", EXTEND_USAGE);
		return 0;
	}
	while (r == 0 && (ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'l': level = optarg; break;
		case 't': tsa = optarg; break;
		case 'o': output = optarg; break;
		case 'O': lo.offline = given = true; break;
		case 'C': given = true; r = file_add(c, &certs, optarg); break;
		case 'S': given = true; r = file_add(c, &ocsps, optarg); break;
		case 'R': given = true; r = file_add(c, &crls, optarg); break;
		default: r = cli_usage(EXTEND_USAGE); break;
		}
	}
	if (r != 0)
		goto out;
	r = CLI_ERR_USAGE;
	if (level == NULL || argc - optind < 1 || argc - optind > 2) {
		r = cli_usage(EXTEND_USAGE);
		goto out;
	}
	if (strcmp(level, "B-LTA") == 0) {
		lta = true;
	} else if (strcmp(level, "B-LT") == 0) {
		lta = false;
	} else {
		r = cli_usage(EXTEND_USAGE);
		goto out;
	}
	file = argv[optind];
	if (argc - optind == 2)
		doc = argv[optind + 1];
	if (output != NULL && access(output, F_OK) == 0) {
		r = cli_fail(c, INK_ERR_EXISTS, "%s exists: choose another name with --output", output);
		goto out;
	}
	if (formats_is_pdf(file)) {
		if (doc != NULL) {
			r = cli_fail(c, CLI_ERR_USAGE, "a PDF is its own document: no DOCUMENT with it");
			goto out;
		}
		lo.lta = lta;
		lo.tsa = tsa;
		lo.certs = certs.b;
		lo.ncerts = certs.n;
		lo.ocsps = ocsps.b;
		lo.nocsps = ocsps.n;
		lo.crls = crls.b;
		lo.ncrls = crls.n;
		r = extend_pdf(c, file, output, &lo);
	} else if (given) {
		r = cli_fail(c, CLI_ERR_USAGE, "--offline, --cert, --ocsp and --crl are for PDFs");
	} else if (is_xml(file)) {
		/* as for a PDF, the service's public RFC 3161 endpoint: extending needs no login */
		if (tsa == NULL) {
			snprintf(tsa_url, sizeof(tsa_url), "%s/tsa", c->server);
			tsa = tsa_url;
		}
		r = cli_xades_extend_file(c, file, output, lta, tsa, doc);
	} else {
		r = cli_cades_extend_file(c, file, output, lta, tsa, doc);
	}
	if (r != 0)
		goto out;
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "file", file, "output",
		                      output != NULL ? output : file, "level", level);

		r = cli_print_json(j);
		json_decref(j);
		goto out;
	}
	printf("extended to %s: %s\n", level, output != NULL ? output : file);
	r = 0;
out:
	files_free(&certs);
	files_free(&ocsps);
	files_free(&crls);
	return r;
}
