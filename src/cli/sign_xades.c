/* sign_xades: `inkan sign FILE --format xades` — builds the XAdES signature here (the document is
 * read and hashed on this machine), has only the digest of SignedInfo's canonical form signed
 * through the CSC API, adds a SignatureTimeStamp (B-T) and the long-term data (B-LT, B-LTA:
 * extend_xades.c) and writes the signed XML. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "formats/formats.h"

/* A detached document read for a B-LTA's archive time-stamp at most. */
#define SIGN_XADES_DETACHED_MAX (512u * 1024u * 1024u)

static const char *const place_names[] = { "enveloped", "detached", "enveloping" };

/* Writes the signed XML through a temporary name, linked into place only when complete (an
 * existing file is never replaced). */
static int
write_xml(struct cli_ctx *c, const char *output, const struct formats_xades *x)
{
	char tmp[4200];
	FILE *out = NULL;
	int fd = -1, r;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", output);
	if ((fd = mkstemp(tmp)) < 0 || (out = fdopen(fd, "wb")) == NULL) {
		r = cli_fail(c, INK_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if ((r = formats_xades_write(x, out)) != 0 || fflush(out) != 0 || fsync(fileno(out)) != 0) {
		r = cli_fail(c, r != 0 ? r : INK_ERR_IO, "cannot write %s", output);
		goto out;
	}
	r = fclose(out);
	out = NULL;
	if (r != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", output);
		goto out;
	}
	if (link(tmp, output) != 0) {
		r = cli_fail(c, INK_ERR_EXISTS, "cannot create %s: %s", output, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (out != NULL)
		fclose(out);
	(void)unlink(tmp);
	return r;
}

/* The signature value from the service, checked and set. */
static int
sign_value(struct cli_ctx *c, const struct cli_xades_job *j, struct formats_xades *x)
{
	uint8_t tbs[64], *sig = NULL;
	const uint8_t *params;
	size_t tbs_len = 0, sig_len = 0, params_len = 0;
	const char *hash_oid, *sign_oid;
	int r;

	formats_xades_tbs(x, tbs, &tbs_len, &hash_oid, &sign_oid);
	params = formats_xades_sign_params(x, &params_len);
	if ((r = cli_sign_hash(c, &j->how, j->cred, tbs, tbs_len, hash_oid, sign_oid, params,
	                       params_len, &sig, &sig_len)) != 0)
		goto out;
	if ((r = formats_xades_set_signature(x, sig, sig_len)) != 0)
		r = cli_fail(c, r, "the signature returned does not verify with the certificate's key");
out:
	free(sig);
	return r;
}

/* B-T: a SignatureTimeStamp over the canonical ds:SignatureValue. */
static int
add_timestamp(struct cli_ctx *c, const char *tsa, struct formats_xades *x)
{
	uint8_t md[FORMATS_SHA256_LEN], *tok = NULL;
	size_t tok_len = 0;
	int r;

	if ((r = formats_xades_signature_digest(x, md)) != 0 ||
	    (r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
		goto out;
	if ((r = formats_xades_set_timestamp(x, tok, tok_len)) != 0)
		r = cli_fail(c, r, "cannot add the time-stamp");
out:
	free(tok);
	return r;
}

int
cli_sign_xades(struct cli_ctx *c, const struct cli_xades_job *j)
{
	struct formats_xades *x = NULL;
	uint8_t fmd[FORMATS_SHA256_LEN];
	char *doc = NULL, *path = NULL, hex[2 * FORMATS_SHA256_LEN + 1], why[256];
	size_t doc_len = 0, n = strlen(j->file);
	uint64_t size = 0;
	bool xml_ext = n > 4 && strcasecmp(j->file + n - 4, ".xml") == 0;
	int r;

	/* The document is read and hashed here; only the digest of SignedInfo leaves. */
	if ((r = formats_digest_file(j->file, NULL, NULL, fmd, &size)) != 0) {
		r = cli_fail(c, r, "cannot read %s: %s", j->file, ink_err_str(r));
		goto out;
	}
	if (j->place != FORMATS_XADES_DETACHED &&
	    (r = ink_read_file(j->file, FORMATS_XML_MAX, &doc, &doc_len)) != 0) {
		r = cli_fail(c, r, "cannot read %s: %s", j->file, r == INK_ERR_TOO_LARGE ?
		             "too large for an enveloped or enveloping signature (sign it --detached)" :
		             ink_err_str(r));
		goto out;
	}
	if ((path = strdup(j->file)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	{
		struct formats_xades_params p = {
			.cert = j->certs[0],
			.cert_len = j->cert_lens[0],
			.extra = &j->certs[1],
			.extra_lens = &j->cert_lens[1],
			.nextra = j->ncerts - 1,
			.place = (enum formats_xades_place)j->place,
			.doc = (const uint8_t *)doc,
			.doc_len = doc_len,
			.doc_uri = basename(path),
			.doc_digest = fmd,
			.mime = j->place != FORMATS_XADES_DETACHED || xml_ext ? "text/xml" :
			        "application/octet-stream",
			.when = (int64_t)time(NULL),
			.pss = j->pss,
		};

		if ((r = formats_xades_prepare(&p, &x, why, sizeof(why))) != 0) {
			r = cli_fail(c, r, "cannot prepare the XAdES signature of %s: %s", j->file,
			             why[0] != '\0' ? why : ink_err_str(r));
			goto out;
		}
	}
	hex_encode(fmd, sizeof(fmd), hex);
	fprintf(stderr, "file         %s\nsize         %llu bytes\nSHA-256      %s\nsigner       ", j->file,
	        (unsigned long long)size, hex);
	cli_put_safe(stderr, j->signer);
	fputs("\ncertificate  ", stderr);
	cli_put_safe(stderr, j->subject);
	fprintf(stderr, "\nformat       XAdES %s (%s)\noutput       %s\n", j->level,
	        place_names[j->place], j->output);
	if ((r = cli_sign_confirm(c, j->yes)) != 0 || (r = sign_value(c, j, x)) != 0)
		goto out;
	if (j->bt && (r = add_timestamp(c, j->tsa, x)) != 0)
		goto out;
	/* a detached document is read whole only now, for the archive time-stamp's input */
	if (j->lt == 2 && j->place == FORMATS_XADES_DETACHED &&
	    (r = ink_read_file(j->file, SIGN_XADES_DETACHED_MAX, &doc, &doc_len)) != 0) {
		r = cli_fail(c, r, "cannot read %s: %s", j->file, ink_err_str(r));
		goto out;
	}
	if (j->lt > 0 && (r = cli_xades_extend(c, x, j->lt == 2, j->tsa, (const uint8_t *)doc,
	                                       doc_len)) != 0)
		goto out;
	if ((r = write_xml(c, j->output, x)) != 0)
		goto out;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "file", j->file, "output",
		                      j->output, "format", "xades", "level", j->level,
		                      "placement", place_names[j->place], "size", (json_int_t)size);

		r = cli_print_json(o);
		json_decref(o);
	} else {
		printf("signed: %s\n", j->output);
	}
out:
	formats_xades_free(x);
	free(doc);
	free(path);
	return r;
}
