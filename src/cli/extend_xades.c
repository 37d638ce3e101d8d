/* extend_xades: XAdES B-LT and B-LTA for `inkan sign --format xades` and `inkan extend
 * FILE.xml` — the signer's chain's validation data as CertificateValues and RevocationValues,
 * the time-stamps' as a TimeStampValidationData after them (only what the signature does not
 * already hold, current), then for B-LTA an ArchiveTimeStamp over everything (EN 319 132-1
 * 5.5.2.2), a further one on a B-LTA (renewal). Fetching is the fetch module's, as for CAdES. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "verify/verify.h"

/* A CAdES or XML file read whole, and a detached document: documents larger are signed
 * detached and extended as CAdES. */
#define XEXT_FILE_MAX (512u * 1024u * 1024u)

/* What the signature holds, read again after each addition. */
struct xext_have {
	struct formats_der_list certs, crls, ocsps;
	struct verify_vdata vd;              /* views of crls and ocsps */
	struct verify_blob *bag;             /* views of certs */
};

static void
have_free(struct xext_have *h)
{
	free(h->vd.crls);
	free(h->vd.ocsps);
	free(h->bag);
	formats_der_list_free(&h->certs);
	formats_der_list_free(&h->crls);
	formats_der_list_free(&h->ocsps);
	memset(h, 0, sizeof(*h));
}

static int
have_read(const struct formats_xades *x, int which, struct xext_have *h)
{
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = formats_xades_certs(x, which, &h->certs)) != 0 ||
	    (r = formats_xades_revocation(x, &h->crls, &h->ocsps)) != 0 ||
	    (r = cli_blobs_of(&h->certs, &h->bag)) != 0 ||
	    (r = cli_blobs_of(&h->crls, &h->vd.crls)) != 0 ||
	    (r = cli_blobs_of(&h->ocsps, &h->vd.ocsps)) != 0) {
		have_free(h);
		return r;
	}
	h->vd.ncrls = h->crls.n;
	h->vd.nocsps = h->ocsps.n;
	return 0;
}

/* Adds the validation data fetched (vd) and the certificates of extra not among known:
 * CertificateValues and RevocationValues, or (for_ts) a TimeStampValidationData. Nothing when
 * there is nothing new for the time-stamps. */
static int
put_vdata(struct formats_xades *x, bool for_ts, const struct formats_der_list *extra,
          const struct formats_der_list *known, const struct verify_vdata *vd)
{
	struct formats_der_list certs = { 0 };
	struct formats_blob *crls = NULL, *ocsps = NULL;
	size_t i, k;
	bool seen;
	int r = 0;

	for (i = 0; i < extra->n && r == 0; i++) {
		for (k = 0, seen = false; known != NULL && k < known->n && !seen; k++)
			seen = known->v[k].len == extra->v[i].len &&
			       memcmp(known->v[k].data, extra->v[i].data, extra->v[i].len) == 0;
		if (!seen)
			r = formats_der_list_add(&certs, extra->v[i].data, extra->v[i].len);
	}
	for (i = 0; i < vd->ncerts && r == 0; i++)
		r = formats_der_list_add(&certs, vd->certs[i].data, vd->certs[i].len);
	if (r != 0)
		goto out;
	if (for_ts && certs.n + vd->ncrls + vd->nocsps == 0)
		goto out;
	if ((crls = calloc(vd->ncrls + 1, sizeof(*crls))) == NULL ||
	    (ocsps = calloc(vd->nocsps + 1, sizeof(*ocsps))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < vd->ncrls; i++)
		crls[i] = (struct formats_blob){ vd->crls[i].data, vd->crls[i].len };
	for (i = 0; i < vd->nocsps; i++)
		ocsps[i] = (struct formats_blob){ vd->ocsps[i].data, vd->ocsps[i].len };
	r = formats_xades_add_vdata(x, for_ts, certs.v, certs.n, crls, vd->ncrls, ocsps, vd->nocsps);
out:
	free(crls);
	free(ocsps);
	formats_der_list_free(&certs);
	return r;
}

/* B-LT: the signer's chain first (when the signature has no CertificateValues yet), then
 * whatever the time-stamps' chains still miss. */
static int
add_vdata(struct cli_ctx *c, struct formats_xades *x)
{
	struct formats_xades_info info;
	struct xext_have h = { 0 }, carried = { 0 };
	struct formats_der_list tokens = { 0 };
	struct verify_fetch *f = NULL;
	struct verify_vdata vd = { 0 };
	char err[512];
	int r;

	formats_xades_info(x, &info);
	if (info.cert_values != info.rev_values)
		return cli_fail(c, INK_ERR_INVALID, "the signature has %s without %s: it cannot be "
		                "completed", info.cert_values ? "CertificateValues" : "RevocationValues",
		                info.cert_values ? "RevocationValues" : "CertificateValues");
	if ((r = verify_fetch_new(&f)) != 0)
		return cli_fail(c, r, "cannot start fetching validation data: %s", ink_err_str(r));
	if (!info.cert_values) {
		if ((r = have_read(x, FORMATS_XADES_CERTS_CARRIED, &h)) != 0)
			goto out;
		if ((r = verify_fetch_missing(f, h.bag, h.certs.n, &h.vd, &vd, err, sizeof(err))) != 0) {
			r = cli_fail(c, r, "validation data of the signer's chain: %s", err);
			goto out;
		}
		if ((r = put_vdata(x, false, &h.certs, NULL, &vd)) != 0) {
			r = cli_fail(c, r, "cannot add the validation data: %s", ink_err_str(r));
			goto out;
		}
		verify_vdata_free(&vd);
		have_free(&h);
	}
	/* the time-stamps' chains: their tokens' certificates and what is still missing */
	if ((r = have_read(x, FORMATS_XADES_CERTS_CARRIED | FORMATS_XADES_CERTS_TOKENS, &h)) != 0 ||
	    (r = have_read(x, FORMATS_XADES_CERTS_CARRIED, &carried)) != 0 ||
	    (r = formats_xades_certs(x, FORMATS_XADES_CERTS_TOKENS, &tokens)) != 0)
		goto out;
	if ((r = verify_fetch_missing(f, h.bag, h.certs.n, &h.vd, &vd, err, sizeof(err))) != 0) {
		r = cli_fail(c, r, "validation data of the time-stamps' chains: %s", err);
		goto out;
	}
	if ((r = put_vdata(x, true, &tokens, &carried.certs, &vd)) != 0)
		r = cli_fail(c, r, "cannot add the time-stamps' validation data: %s", ink_err_str(r));
out:
	verify_vdata_free(&vd);
	verify_fetch_free(f);
	formats_der_list_free(&tokens);
	have_free(&carried);
	have_free(&h);
	return r;
}

/* Asks tsa for a token over md and adds it as a SignatureTimeStamp or ArchiveTimeStamp. */
static int
stamp(struct cli_ctx *c, struct formats_xades *x, const char *tsa, const uint8_t *md, bool archive)
{
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int r;

	if ((r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
		return r;
	r = archive ? formats_xades_add_archive(x, tok, tok_len) :
	              formats_xades_set_timestamp(x, tok, tok_len);
	if (r != 0)
		r = cli_fail(c, r, "cannot add the %s time-stamp", archive ? "archive" : "signature");
	free(tok);
	return r;
}

int
cli_xades_extend(struct cli_ctx *c, struct formats_xades *x, bool lta, const char *tsa,
                 const uint8_t *doc, size_t doc_len)
{
	struct formats_xades_info info;
	uint8_t md[FORMATS_SHA256_LEN];
	char why[256] = "";
	int r;

	formats_xades_info(x, &info);
	if (lta && info.detached && doc == NULL)
		return cli_fail(c, CLI_ERR_USAGE, "the signature is detached: give its document (inkan "
		                "extend FILE.xml DOCUMENT) for the archive time-stamp");
	/* B-LT and B-LTA build on B-T (EN 319 132-1 baseline) */
	if (info.sig_timestamps == 0) {
		if ((r = formats_xades_signature_digest(x, md)) != 0)
			return cli_fail(c, r, "cannot compute the signature time-stamp's imprint");
		if ((r = stamp(c, x, tsa, md, false)) != 0)
			return r;
	}
	if ((r = add_vdata(c, x)) != 0 || !lta)
		return r;
	if ((r = formats_xades_archive_digest(x, doc, doc_len, md, why, sizeof(why))) != 0)
		return cli_fail(c, r, "cannot compute the archive time-stamp's imprint: %s",
		                why[0] != '\0' ? why : ink_err_str(r));
	return stamp(c, x, tsa, md, true);
}

int
cli_xades_extend_file(struct cli_ctx *c, const char *path, const char *output, bool lta,
                      const char *tsa, const char *doc_path)
{
	struct formats_xades *x = NULL;
	char *data = NULL, *doc = NULL, *text = NULL, why[256] = "";
	size_t len = 0, doc_len = 0, text_len = 0;
	FILE *mem = NULL;
	int r;

	if ((r = ink_read_file(path, FORMATS_XML_MAX, &data, &len)) != 0)
		return cli_fail(c, r, "%s: cannot read: %s", path, ink_err_str(r));
	if (doc_path != NULL && (r = ink_read_file(doc_path, XEXT_FILE_MAX, &doc, &doc_len)) != 0) {
		r = cli_fail(c, r, "%s: cannot read: %s", doc_path, ink_err_str(r));
		goto out;
	}
	if ((r = formats_xades_open((const uint8_t *)data, len, &x, why, sizeof(why))) != 0) {
		r = cli_fail(c, r, "%s: %s", path, why[0] != '\0' ? why : ink_err_str(r));
		goto out;
	}
	if ((r = cli_xades_extend(c, x, lta, tsa, (const uint8_t *)doc, doc_len)) != 0)
		goto out;
	if ((mem = open_memstream(&text, &text_len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	r = formats_xades_write(x, mem);
	if (fclose(mem) != 0 && r == 0)
		r = INK_ERR_ALLOC;
	if (r != 0) {
		r = cli_fail(c, r, "cannot serialize %s", path);
		goto out;
	}
	r = cli_write_atomic(c, output != NULL ? output : path, (const uint8_t *)text, text_len,
	                     output == NULL);
out:
	formats_xades_free(x);
	free(text);
	free(data);
	free(doc);
	return r;
}
