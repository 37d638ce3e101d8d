/* pdf: PAdES — signature dictionaries found by scanning the bytes, ByteRange checks, the CMS
 * verified over the ranges, the incremental updates after each signature judged, and the
 * revocation data of the document security store (dss.c) offered to every signature. */
#include "verify/verify_int.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#define PDF_NUM_MAX 20
/* How far from the signed ranges a signature dictionary's /SubFilter is looked for. */
#define PDF_DICT_WINDOW 4096

struct pdf_sig {
	uint64_t br[4];          /* offset, length, offset, length */
	size_t at;               /* offset of "/ByteRange" */
};

static bool
pdf_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

static const uint8_t *
find(const uint8_t *hay, size_t hlen, const char *needle)
{
	return memmem(hay, hlen, needle, strlen(needle));
}

/* Parses "[a b c d]" after /ByteRange at p (end at e). */
static bool
parse_byte_range(const uint8_t *p, const uint8_t *e, uint64_t br[4])
{
	int i, digits;

	while (p < e && pdf_ws(*p))
		p++;
	if (p >= e || *p++ != '[')
		return false;
	for (i = 0; i < 4; i++) {
		while (p < e && pdf_ws(*p))
			p++;
		br[i] = 0;
		for (digits = 0; p < e && *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits >= PDF_NUM_MAX - 2)
				return false;
			br[i] = br[i] * 10 + (uint64_t)(*p - '0');
		}
		if (digits == 0)
			return false;
	}
	while (p < e && pdf_ws(*p))
		p++;
	return p < e && *p == ']';
}

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the hex string <...> at p[len] (brackets included) into malloc'd bytes. */
static int
hex_decode_pdf(const uint8_t *p, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *o = NULL;
	size_t i, n = 0;
	int v, hi = -1;

	*out = NULL;
	*outlen = 0;
	if (len < 2 || p[0] != '<' || p[len - 1] != '>')
		return INK_ERR_INVALID;
	if ((o = malloc(len / 2 + 1)) == NULL)
		return INK_ERR_ALLOC;
	for (i = 1; i < len - 1; i++) {
		if (pdf_ws(p[i]))
			continue;
		if ((v = hexval(p[i])) < 0) {
			free(o);
			return INK_ERR_INVALID;
		}
		if (hi < 0) {
			hi = v;
		} else {
			o[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		o[n++] = (uint8_t)(hi << 4);
	*out = o;
	*outlen = n;
	return 0;
}

/* Length of the (BER: NSS writes indefinite lengths) ContentInfo at p; 0 when malformed.
 * /Contents is padded with zeros after it. */
static size_t
der_len(const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms;

	if (n == 0 || n > LONG_MAX || p[0] != 0x30 ||
	    (cms = d2i_CMS_ContentInfo(NULL, &q, (long)n)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	CMS_ContentInfo_free(cms);
	return (size_t)(q - p);
}

/* The /SubFilter name nearest the signature's dictionary, into out[outsz] ("" when none). */
static void
sub_filter(const uint8_t *pdf, size_t len, size_t gap_start, size_t gap_end, char *out,
           size_t outsz)
{
	const uint8_t *p, *best = NULL, *lo, *hi;
	size_t i;

	out[0] = '\0';
	lo = pdf + (gap_start > PDF_DICT_WINDOW ? gap_start - PDF_DICT_WINDOW : 0);
	/* Before /Contents: the last occurrence; after it: the first. */
	for (p = lo; (p = find(p, (size_t)(pdf + gap_start - p), "/SubFilter")) != NULL; p++)
		best = p;
	if (best == NULL) {
		hi = pdf + (len - gap_end > PDF_DICT_WINDOW ? gap_end + PDF_DICT_WINDOW : len);
		best = find(pdf + gap_end, (size_t)(hi - (pdf + gap_end)), "/SubFilter");
	}
	if (best == NULL)
		return;
	p = best + 10;
	while (p < pdf + len && pdf_ws(*p))
		p++;
	if (p >= pdf + len || *p++ != '/')
		return;
	for (i = 0; i + 1 < outsz && p < pdf + len && *p > 0x20 && *p < 0x7f && *p != '/' &&
	            *p != '>' && *p != '<' && *p != '[' && *p != '(';
	     p++)
		out[i++] = (char)*p;
	out[i] = '\0';
}

/* Judges the incremental updates after the signed revision (end) into obj.updates_after. */
static void
updates_check(const uint8_t *pdf, size_t len, size_t end, struct verify_issues *is, json_t *pdfo)
{
	json_t *arr = json_array();
	const uint8_t *p, *eof;
	size_t start = end, stop, k;
	const char *kind;
	bool ok, blank;
	int n = 0;

	while (start < len) {
		p = pdf + start;
		eof = find(p, len - start, "%%EOF");
		stop = eof != NULL ? (size_t)(eof - pdf) + 5 : len;
		while (stop < len && (pdf[stop] == '\r' || pdf[stop] == '\n'))
			stop++;
		for (blank = true, k = start; k < stop && blank; k++)
			blank = pdf_ws(pdf[k]);
		if (!blank) {
			n++;
			/* Coarse by design: a later signature or validation data (DSS) is allowed;
			 * anything else may change what the signer saw. */
			if (find(p, stop - start, "/ByteRange") != NULL)
				kind = "signature", ok = true;
			else if (find(p, stop - start, "/DSS") != NULL)
				kind = "validation data (DSS)", ok = true;
			else
				kind = "other change", ok = false;
			json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:b}", "start", (json_int_t)start,
			                                     "end", (json_int_t)stop, "kind", kind,
			                                     "acceptable", ok));
			if (!ok)
				issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
				          "the PDF was changed after this signature: update %d (bytes "
				          "%zu-%zu) adds neither a signature nor validation data", n, start,
				          stop);
		}
		start = stop;
	}
	json_object_set_new(pdfo, "updates_after", arr != NULL ? arr : json_array());
}

static int
pdf_one(struct verify_ctx *ctx, const uint8_t *pdf, size_t len, const struct pdf_sig *ps,
        struct verify_report *r)
{
	struct verify_issues is;
	struct verify_content content = { 0 };
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	const unsigned char *dp;
	uint8_t *der = NULL, *signed_bytes = NULL;
	size_t der_n = 0, dl, gap_start, gap_end, end, k;
	uint64_t a = ps->br[0], b = ps->br[1], c = ps->br[2], d = ps->br[3];
	json_t *sig = NULL, *pdfo = NULL, *tso;
	char subf[64];
	int64_t gt;
	enum verify_indication ind;
	enum verify_sub sub;
	bool range_ok;
	int ret = INK_ERR_ALLOC;

	issues_init(&is);
	if ((sig = json_pack("{s:s}", "format", "pades")) == NULL ||
	    (pdfo = json_pack("{s:[I,I,I,I]}", "byte_range", (json_int_t)a, (json_int_t)b,
	                      (json_int_t)c, (json_int_t)d)) == NULL)
		goto out;
	/* The ranges: from the file's start to /Contents, and from after it to a revision end. */
	range_ok = a == 0 && b > 0 && c > b && b < len && c <= len && d <= len - c;
	if (!range_ok) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange is malformed or outside the file");
		goto done;
	}
	gap_start = (size_t)b;
	gap_end = (size_t)c;
	end = (size_t)(c + d);
	json_object_set_new(pdfo, "revision_end", json_integer((json_int_t)end));
	json_object_set_new(pdfo, "covers_whole_file", json_boolean(end == len));
	/* The gap is exactly the /Contents hex string. */
	for (k = gap_start; k > 0 && pdf_ws(pdf[k - 1]); k--)
		;
	if (k < 9 || memcmp(pdf + k - 9, "/Contents", 9) != 0 ||
	    hex_decode_pdf(pdf + gap_start, gap_end - gap_start, &der, &der_n) != 0) {
		range_ok = false;
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange does not exclude exactly the /Contents value");
	}
	/* ... and the second range ends a revision (%%EOF). */
	for (k = end; k > 0 && pdf_ws(pdf[k - 1]); k--)
		;
	if (k < 5 || memcmp(pdf + k - 5, "%%EOF", 5) != 0) {
		range_ok = false;
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange does not reach the end of the revision (%%%%EOF)");
	}
	json_object_set_new(pdfo, "byte_range_ok", json_boolean(range_ok));
	if (der == NULL)
		goto done;
	sub_filter(pdf, len, gap_start, gap_end, subf, sizeof(subf));
	json_object_set_new(pdfo, "sub_filter", subf[0] != '\0' ? json_string(subf) : json_null());
	if ((signed_bytes = malloc((size_t)(b + d) + 1)) == NULL)
		goto out;
	memcpy(signed_bytes, pdf, gap_start);
	memcpy(signed_bytes + gap_start, pdf + gap_end, (size_t)d);
	content.data = signed_bytes;
	content.len = (size_t)(b + d);
	updates_check(pdf, len, end, &is, pdfo);

	if ((dl = der_len(der, der_n)) == 0) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "/Contents does not hold a CMS signature");
		goto done;
	}
	for (k = dl; k < der_n; k++) {
		if (der[k] != 0) {
			issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "/Contents holds data after the signature");
			goto done;
		}
	}
	if (strcmp(subf, "ETSI.RFC3161") == 0) {
		/* A document time-stamp: its indication decides the signature's. */
		json_object_set_new(sig, "format", json_string("pades-document-timestamp"));
		if ((tso = json_object()) == NULL)
			goto out;
		ind = tst_validate(ctx, der, dl, &content, tso, &gt, &sub);
		json_object_set_new(sig, "document_timestamp", tso);
		json_object_set_new(sig, "gen_time", json_time(gt));
		if (ind != VERIFY_TOTAL_PASSED)
			issue_add(&is, ind, sub, "the document time-stamp is not valid");
		goto done;
	}
	if (strcmp(subf, "adbe.pkcs7.sha1") == 0)
		issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "SubFilter adbe.pkcs7.sha1 signs a SHA-1 digest");
	dp = der;
	if ((cms = d2i_CMS_ContentInfo(NULL, &dp, (long)dl)) == NULL ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "/Contents is not a CMS SignedData");
		goto done;
	}
	sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "a PDF signature holds exactly one SignerInfo");
		goto done;
	}
	if (CMS_get0_content(cms) != NULL && *CMS_get0_content(cms) != NULL) {
		/* adbe.pkcs7.sha1: the content is a digest, validated as it is. */
		content.data = (*CMS_get0_content(cms))->data;
		content.len = (size_t)(*CMS_get0_content(cms))->length;
	}
	signer_validate(ctx, cms, sk_CMS_SignerInfo_value(sis, 0), &content, VERIFY_USE_SIGNATURE,
	                -1, &is, sig);
done:
	json_object_set_new(sig, "pdf", pdfo);
	pdfo = NULL;
	issues_result(&is, &ind, &sub);
	issues_to_json(&is, sig);
	ret = report_add(r, sig, ind, sub);
	sig = NULL;
out:
	ERR_clear_error();
	issues_free(&is);
	json_decref(sig);
	json_decref(pdfo);
	CMS_ContentInfo_free(cms);
	free(der);
	free(signed_bytes);
	return ret;
}

int
pdf_validate(struct verify_ctx *ctx, const uint8_t *pdf, size_t len, struct verify_report *r,
             char *err, size_t errsz)
{
	struct pdf_sig sigs[VERIFY_MAX_SIGNATURES];
	struct verify_revdata dss;
	const uint8_t *p = pdf;
	size_t n = 0, i;
	uint64_t br[4];
	int ret;

	while ((p = find(p, len - (size_t)(p - pdf), "/ByteRange")) != NULL) {
		p += 10;
		if (!parse_byte_range(p, pdf + len, br))
			continue;
		/* The same dictionary may be written again in a later revision. */
		for (i = 0; i < n; i++) {
			if (memcmp(sigs[i].br, br, sizeof(br)) == 0)
				break;
		}
		if (i < n)
			continue;
		if (n == VERIFY_MAX_SIGNATURES) {
			snprintf(err, errsz, "more than %d signatures in the PDF", VERIFY_MAX_SIGNATURES);
			return INK_ERR_TOO_LARGE;
		}
		memcpy(sigs[n].br, br, sizeof(br));
		sigs[n].at = (size_t)(p - pdf);
		n++;
	}
	if (n == 0) {
		snprintf(err, errsz, "no signature in the PDF (no /ByteRange)");
		return INK_ERR_INVALID;
	}
	/* Validation data the document carries (PAdES B-LT) serves every signature in it. */
	if ((ret = revdata_init(&dss)) != 0)
		return ret;
	(void)dss_read(pdf, len, &dss);
	ctx->dss = &dss;
	for (i = 0, ret = 0; i < n && ret == 0; i++)
		ret = pdf_one(ctx, pdf, len, &sigs[i], r);
	ctx->dss = NULL;
	revdata_free(&dss);
	return ret;
}
