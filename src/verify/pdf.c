/* pdf: PAdES — the signatures a PDF's form fields hold (read with qpdf), each one's ByteRange
 * checked against the file's bytes, its CMS verified over exactly those ranges, the changes
 * made after it judged object by object (pdfdiff.c), and the revocation data of the document
 * security store (dss.c) offered to every signature. */
#include "verify/verify_int.h"

#include "formats/formats.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Form fields and annotations looked at, at most. */
#define PDF_FIELDS_MAX 4096
/* Bytes /Contents may hold. */
#define PDF_CONTENTS_MAX (1u << 20)

/* One signature dictionary, as the document (the whole file) reads it. */
struct pdf_sig {
	int64_t br[4];            /* /ByteRange: offset, length, offset, length */
	char sub_filter[64];      /* "" when absent */
	char field[128];          /* the field's fully qualified name */
	uint8_t *contents;        /* /Contents as qpdf reads it */
	size_t contents_len;
	struct pdf_perms perms;
	int vid, fid;             /* object numbers of the dictionary and its field (-1: direct) */
	bool shared;              /* another field claims the same dictionary */
};

static bool
pdf_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
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
		if ((v = hex_digit(p[i])) < 0) {
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


static void
perms_free(struct pdf_perms *p)
{
	struct pdf_lock_spec *l;

	while (p->nlocks > 0) {
		l = &p->locks[--p->nlocks];
		while (l->nfields > 0)
			free(l->fields[--l->nfields]);
	}
}

/* Adds a FieldMDP transform's or a /Lock dictionary's /Action and /Fields to p's locks (a
 * field is locked when any lock locks it). */
static void
perms_lock(qpdf_data q, qpdf_oh params, struct pdf_perms *p)
{
	qpdf_oh fields = pdfq_get(q, params, "/Fields"), f;
	struct pdf_lock_spec *l;
	enum pdf_lock lock;
	const char *t;
	int i, n;

	if (pdfq_name_is(q, params, "/Action", "/All"))
		lock = PDF_LOCK_ALL;
	else if (pdfq_name_is(q, params, "/Action", "/Include"))
		lock = PDF_LOCK_INCLUDE;
	else if (pdfq_name_is(q, params, "/Action", "/Exclude"))
		lock = PDF_LOCK_EXCLUDE;
	else
		return;
	if (p->nlocks == PDF_LOCKS_MAX) {
		/* More locks than are kept: everything is locked rather than too little. */
		p->locks[PDF_LOCKS_MAX - 1].action = PDF_LOCK_ALL;
		return;
	}
	l = &p->locks[p->nlocks++];
	l->action = lock;
	n = qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
	for (i = 0; i < n && l->nfields < PDF_LOCK_FIELDS_MAX; i++) {
		f = qpdf_oh_get_array_item(q, fields, i);
		if (qpdf_oh_is_string(q, f) && (t = qpdf_oh_get_utf8_value(q, f)) != NULL &&
		    (l->fields[l->nfields] = strdup(t)) != NULL)
			l->nfields++;
	}
	/* A list cut short (or a name not kept) locks everything rather than too little. */
	if (lock == PDF_LOCK_INCLUDE && (size_t)n != l->nfields)
		l->action = PDF_LOCK_ALL;
}

/* The DocMDP P of a signature dictionary's /Reference, or 0 when it has none. */
static int
docmdp_of(qpdf_data q, qpdf_oh v, struct pdf_perms *p)
{
	qpdf_oh refs = pdfq_get(q, v, "/Reference"), ref, params, pv;
	int i, n, P = 0;

	n = qpdf_oh_is_array(q, refs) ? qpdf_oh_get_array_n_items(q, refs) : 0;
	/* More references than are read: nothing may change rather than too much. */
	if (n > 16)
		return 1;
	for (i = 0; i < n; i++) {
		ref = qpdf_oh_get_array_item(q, refs, i);
		params = pdfq_get(q, ref, "/TransformParams");
		if (pdfq_name_is(q, ref, "/TransformMethod", "/DocMDP")) {
			pv = pdfq_get(q, params, "/P");
			/* ISO 32000-2 Table 257: P defaults to 2; anything but 1-3 is read as 1. */
			P = pdfq_null(q, pv) ? 2 : !qpdf_oh_is_integer(q, pv) ? 1 :
			    qpdf_oh_get_int_value(q, pv) < 1 || qpdf_oh_get_int_value(q, pv) > 3 ? 1 :
			    (int)qpdf_oh_get_int_value(q, pv);
		} else if (p != NULL && pdfq_name_is(q, ref, "/TransformMethod", "/FieldMDP")) {
			perms_lock(q, params, p);
		}
	}
	return P;
}

/* Makes text from the document fit for the report: valid UTF-8 stays (field names may be
 * Japanese), anything else has its control and non-ASCII bytes replaced by '?'. */
static void
text_safe(char *t)
{
	json_t *probe = json_string(t);

	if (probe != NULL) {
		json_decref(probe);
		return;
	}
	for (; *t != '\0'; t++) {
		if ((unsigned char)*t < 0x20 || (unsigned char)*t > 0x7e)
			*t = '?';
	}
}

/* Reads a signature field's value into s; false when it is not a signature with a ByteRange. */
static bool
sig_read(qpdf_data q, qpdf_oh field, qpdf_oh v, int cert_p, struct pdf_sig *s)
{
	qpdf_oh br = pdfq_get(q, v, "/ByteRange"), c = pdfq_get(q, v, "/Contents"), x;
	const char *bytes;
	long long val;
	int i, P;

	memset(s, 0, sizeof(*s));
	if (!qpdf_oh_is_array(q, br) || qpdf_oh_get_array_n_items(q, br) != 4 ||
	    !qpdf_oh_is_string(q, c))
		return false;
	for (i = 0; i < 4; i++) {
		x = qpdf_oh_get_array_item(q, br, i);
		if (!qpdf_oh_is_integer(q, x) || !qpdf_oh_get_value_as_longlong(q, x, &val) || val < 0)
			val = -1;
		s->br[i] = val;
	}
	if (qpdf_oh_is_name(q, pdfq_get(q, v, "/SubFilter")))
		snprintf(s->sub_filter, sizeof(s->sub_filter), "%s",
		         qpdf_oh_get_name(q, pdfq_get(q, v, "/SubFilter")) + 1);
	(void)pdfq_field_name(q, field, s->field, sizeof(s->field)); /* shown only */
	text_safe(s->sub_filter);
	text_safe(s->field);
	bytes = qpdf_oh_get_binary_string_value(q, c, &s->contents_len);
	if (bytes == NULL || s->contents_len > PDF_CONTENTS_MAX ||
	    (s->contents = malloc(s->contents_len + 1)) == NULL) {
		s->contents_len = 0;
		return true; /* reported as a /Contents problem */
	}
	memcpy(s->contents, bytes, s->contents_len);
	/* Without a certification signature the document is read as DocMDP P=2. */
	s->perms.docmdp = cert_p != 0 ? cert_p : 2;
	if ((P = docmdp_of(q, v, &s->perms)) != 0 && P < s->perms.docmdp)
		s->perms.docmdp = P;
	perms_lock(q, pdfq_get(q, field, "/Lock"), &s->perms);
	return true;
}

static void
sigs_free(struct pdf_sig *sigs, size_t n)
{
	while (n > 0) {
		n--;
		free(sigs[n].contents);
		perms_free(&sigs[n].perms);
	}
}

/* Adds field f's signature to sigs when it is a signature field with a value not seen yet;
 * a value another field already claimed marks that signature shared. */
static int
sig_add(qpdf_data q, qpdf_oh f, int cert_p, struct pdf_sig *sigs, size_t *n, char *err,
        size_t errsz)
{
	qpdf_oh v = pdfq_get(q, f, "/V");
	int id, fid;
	size_t i;

	if (!pdfq_is_sig_field(q, f) || !qpdf_oh_is_dictionary(q, v))
		return 0;
	id = qpdf_oh_is_indirect(q, v) ? qpdf_oh_get_object_id(q, v) : -1;
	fid = qpdf_oh_is_indirect(q, f) ? qpdf_oh_get_object_id(q, f) : -1;
	for (i = 0; i < *n; i++) {
		if (id != -1 && sigs[i].vid == id) {
			sigs[i].shared = sigs[i].shared || fid == -1 || sigs[i].fid != fid;
			return 0;
		}
	}
	if (*n == VERIFY_MAX_SIGNATURES) {
		snprintf(err, errsz, "more than %d signatures in the PDF", VERIFY_MAX_SIGNATURES);
		return INK_ERR_TOO_LARGE;
	}
	if (sig_read(q, f, v, cert_p, &sigs[*n])) {
		sigs[*n].vid = id;
		sigs[*n].fid = fid;
		(*n)++;
	}
	return 0;
}

/* What sigs_find collects through pdfq_each_field. */
struct sigs_walk {
	struct pdf_sig *sigs;
	size_t *n;
	int cert_p, seen;
	char *err;
	size_t errsz;
};

static int
sigs_one(qpdf_data q, qpdf_oh f, bool annot, void *arg)
{
	struct sigs_walk *w = arg;

	(void)annot;
	if (++w->seen > PDF_FIELDS_MAX) {
		snprintf(w->err, w->errsz, "more than %d form fields and annotations in the PDF",
		         PDF_FIELDS_MAX);
		return INK_ERR_TOO_LARGE;
	}
	return sig_add(q, f, w->cert_p, w->sigs, w->n, w->err, w->errsz);
}

/* The signatures of the document, each once: the values of its signature fields, found
 * through the AcroForm's /Fields (and their /Kids) and, as readers also do, through the
 * widgets in the pages' /Annots (a field a writer forgot to list in /Fields still shows). */
static int
sigs_find(qpdf_data q, struct pdf_sig *sigs, size_t *n, char *err, size_t errsz)
{
	struct sigs_walk w = { .sigs = sigs, .n = n, .err = err, .errsz = errsz };
	bool deep;
	int ret;

	*n = 0;
	/* A certification signature (catalog /Perms /DocMDP) sets P for the whole document. */
	w.cert_p = docmdp_of(q, pdfq_get(q, pdfq_get(q, qpdf_get_root(q), "/Perms"), "/DocMDP"),
	                     NULL);
	if ((ret = pdfq_each_field(q, sigs_one, &w, &deep)) != 0)
		return ret;
	if (*n == 0) {
		snprintf(err, errsz, "no signature in the PDF (no signature field with a value)");
		return INK_ERR_INVALID;
	}
	return 0;
}

/* Where a signature's revision ends by its ByteRange; 0 when the range is not even numbers
 * (range_check says why). */
static size_t
sig_end(const struct pdf_sig *s)
{
	const int64_t lim = INT64_C(1) << 48;

	if (s->br[2] < 0 || s->br[3] < 0 || s->br[2] > lim || s->br[3] > lim)
		return 0;
	return (size_t)(s->br[2] + s->br[3]);
}

/* Signatures in the order they were made: by where their revision ends. */
static int
sig_cmp(const void *a, const void *b)
{
	size_t ex = sig_end(a), ey = sig_end(b);

	return ex < ey ? -1 : ex > ey;
}

/* Checks the ByteRange against the bytes: from the file's start to /Contents, and from just
 * after it to the end of a revision, in order, without overlap, leaving out exactly the hex
 * string /Contents whose value the document reads. The CMS's DER into *der. */
static bool
range_check(const uint8_t *pdf, size_t len, const struct pdf_sig *ps, uint8_t **der,
            size_t *der_n, struct verify_issues *is)
{
	int64_t a = ps->br[0], b = ps->br[1], c = ps->br[2], d = ps->br[3];
	size_t k, gap_start, gap_end, end;

	*der = NULL;
	*der_n = 0;
	if (!(a == 0 && b > 0 && c > b && d > 0 && (uint64_t)c <= len && (uint64_t)d <= len - (uint64_t)c)) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange is malformed, out of order or outside the file");
		return false;
	}
	gap_start = (size_t)b;
	gap_end = (size_t)c;
	end = (size_t)(c + d);
	for (k = gap_start; k > 0 && pdf_ws(pdf[k - 1]); k--)
		;
	if (k < 9 || memcmp(pdf + k - 9, "/Contents", 9) != 0 ||
	    hex_decode_pdf(pdf + gap_start, gap_end - gap_start, der, der_n) != 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange does not leave out exactly a /Contents hex string");
		return false;
	}
	if (*der_n != ps->contents_len || memcmp(*der, ps->contents, *der_n) != 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the bytes the ByteRange leaves out are not this signature's /Contents");
		return false;
	}
	for (k = end; k > 0 && pdf_ws(pdf[k - 1]); k--)
		;
	if (k < 5 || memcmp(pdf + k - 5, "%%EOF", 5) != 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ByteRange does not reach the end of a revision (%%%%EOF)");
		return false;
	}
	return true;
}

/* adbe.pkcs7.sha1 (ISO 32000-1 12.8.3.3.1): the SignedData's content is the SHA-1 digest of
 * the byte range, and the signature is over that content. */
static bool
sha1_content_check(CMS_ContentInfo *cms, const struct verify_content *ranges,
                   struct verify_content *content, struct verify_issues *is)
{
	ASN1_OCTET_STRING **ec = CMS_get0_content(cms);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (ec == NULL || *ec == NULL) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "adbe.pkcs7.sha1 without the digest as its content");
		return false;
	}
	if (!EVP_Digest(ranges->data, ranges->len, md, &mdlen, EVP_sha1(), NULL) ||
	    (size_t)(*ec)->length != mdlen || CRYPTO_memcmp((*ec)->data, md, mdlen) != 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
		          "the SHA-1 digest the signature holds is not the byte range's");
		return false;
	}
	content->data = (*ec)->data;
	content->len = (size_t)(*ec)->length;
	return true;
}

/* The changes after the signed revision (end), into pdfo.modifications; an illegal one (or
 * one that cannot be judged) makes the signature INDETERMINATE/SIG_CONSTRAINTS_FAILURE. */
/* What pdf_validate knows of the whole document, shared by each signature's checks. */
struct pdf_doc {
	qpdf_data q;
	bool repaired;                  /* read only with repair */
	const uint8_t *pdf;
	size_t len;
	struct pdf_sigref refs[VERIFY_MAX_SIGNATURES];
	size_t nrefs;
	size_t budget;                  /* object pairs left to compare (PDFDIFF_BUDGET) */
	char qwarn[256];                /* qpdf's first warning on q: one is enough to refuse */
	struct pdfxref_memo xref;       /* the updates checked so far (pdfxref.c) */
};

static void
changes_check(struct pdf_doc *doc, size_t end, const struct pdf_perms *perms,
              struct verify_issues *is, json_t *pdfo)
{
	struct pdfdiff_result res = { 0 };
	json_t *mods = json_array();
	qpdf_error w;

	json_object_set_new(pdfo, "docmdp_p", json_integer(perms->docmdp));
	if (mods == NULL || end == doc->len || pdfxref_check(doc->pdf, doc->len, end, &doc->xref, is) > 0)
		goto out;
	if (doc->repaired) {
		/* What a reader would show after the signature cannot be known for sure. */
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "the PDF was changed after this signature and cannot be read without "
		          "repair: the changes cannot be judged");
		goto out;
	}
	if (pdfdiff_run(doc->q, doc->pdf, end, perms, doc->refs, doc->nrefs, &doc->budget, mods,
	                &res) != 0) {
		issue_add(is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the signed range does not end at a revision of the document");
		goto out;
	}
	/* A warning says qpdf read something another reader may read otherwise (a repeated
	 * dictionary key: qpdf keeps the last, others the first). Warnings pile up on q, so the
	 * first is kept for every later signature. */
	while (qpdf_more_warnings(doc->q)) {
		w = qpdf_next_warning(doc->q);
		if (doc->qwarn[0] == '\0') {
			snprintf(doc->qwarn, sizeof(doc->qwarn), "%s", qpdf_get_error_full_text(doc->q, w));
			text_safe(doc->qwarn);
		}
	}
	if (doc->qwarn[0] != '\0')
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "qpdf warned while reading the changed document (%s): a reader may show "
		          "something else than what is compared", doc->qwarn);
	if (res.illegal > 0)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "the PDF was changed after this signature in %zu way%s its permissions "
		          "(DocMDP P=%d) do not allow", res.illegal, res.illegal == 1 ? "" : "s",
		          perms->docmdp);
	else if (!res.complete)
		issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "the changes after this signature could not all be compared");
out:
	json_object_set_new(pdfo, "modifications", mods != NULL ? mods : json_array());
}

static int
pdf_one(struct verify_ctx *ctx, struct pdf_doc *doc, const struct pdf_sig *ps,
        struct verify_report *r, struct pdf_done *done)
{
	const uint8_t *pdf = doc->pdf;
	size_t len = doc->len;
	struct verify_issues is;
	struct verify_content content = { 0 }, ranges = { 0 };
	CMS_ContentInfo *cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis;
	const unsigned char *dp;
	uint8_t *der = NULL, *signed_bytes = NULL;
	size_t der_n = 0, dl, k, end = 0;
	json_t *sig = NULL, *pdfo = NULL, *tso;
	int64_t gt;
	enum verify_indication ind;
	enum verify_sub sub;
	bool range_ok;
	int ret = INK_ERR_ALLOC;

	issues_init(&is);
	if ((sig = json_pack("{s:s}", "format", "pades")) == NULL ||
	    (pdfo = json_pack("{s:[I,I,I,I], s:s, s:s?}", "byte_range", (json_int_t)ps->br[0],
	                      (json_int_t)ps->br[1], (json_int_t)ps->br[2], (json_int_t)ps->br[3],
	                      "field", ps->field, "sub_filter",
	                      ps->sub_filter[0] != '\0' ? ps->sub_filter : NULL)) == NULL)
		goto out;
	range_ok = range_check(pdf, len, ps, &der, &der_n, &is);
	json_object_set_new(pdfo, "byte_range_ok", json_boolean(range_ok));
	if (!range_ok)
		goto done;
	end = (size_t)(ps->br[2] + ps->br[3]);
	json_object_set_new(pdfo, "revision_end", json_integer((json_int_t)end));
	json_object_set_new(pdfo, "covers_whole_file", json_boolean(end == len));
	/* What is signed is the byte range: nothing else, whatever the CMS carries. */
	if ((signed_bytes = malloc((size_t)(ps->br[1] + ps->br[3]) + 1)) == NULL)
		goto out;
	memcpy(signed_bytes, pdf, (size_t)ps->br[1]);
	memcpy(signed_bytes + ps->br[1], pdf + ps->br[2], (size_t)ps->br[3]);
	ranges.data = signed_bytes;
	ranges.len = (size_t)(ps->br[1] + ps->br[3]);
	content = ranges;

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
	if (strcmp(ps->sub_filter, "ETSI.RFC3161") == 0) {
		/* A document time-stamp: its indication decides the signature's. */
		json_object_set_new(sig, "format", json_string("pades-document-timestamp"));
		if ((tso = json_object()) == NULL)
			goto out;
		ind = tst_validate(ctx, der, dl, &ranges, tso, &gt, &sub);
		json_object_set_new(sig, "document_timestamp", tso);
		json_object_set_new(sig, "gen_time", json_time(gt));
		if (ind != VERIFY_TOTAL_PASSED)
			issue_add(&is, ind, sub, "the document time-stamp is not valid");
		goto done;
	}
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
	if (strcmp(ps->sub_filter, "adbe.pkcs7.sha1") == 0) {
		if (!sha1_content_check(cms, &ranges, &content, &is))
			goto done;
		issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "SubFilter adbe.pkcs7.sha1 signs a SHA-1 digest");
	} else if (strcmp(ps->sub_filter, "adbe.pkcs7.detached") != 0 &&
	           strcmp(ps->sub_filter, "ETSI.CAdES.detached") != 0) {
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "SubFilter %s is not a PDF signature format verified here",
		          ps->sub_filter[0] != '\0' ? ps->sub_filter : "(none)");
		goto done;
	} else if (CMS_get0_content(cms) != NULL && *CMS_get0_content(cms) != NULL) {
		/* A detached signature signs the byte range; content carried inside is another
		 * document's. */
		issue_add(&is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the CMS of a %s signature carries content of its own: it does not sign "
		          "this PDF's byte range", ps->sub_filter);
		goto done;
	}
	signer_validate(ctx, cms, sk_CMS_SignerInfo_value(sis, 0), &content, VERIFY_USE_SIGNATURE,
	                -1, &is, sig);
done:
	/* The result for the signed revision itself, before what came after it is judged. */
	issues_result(&is, &ind, &sub);
	json_object_set_new(pdfo, "signed_revision",
	                    json_pack("{s:s, s:s}", "indication", verify_indication_str(ind),
	                              "sub_indication", verify_sub_str(sub)));
	if (end != 0)
		changes_check(doc, end, &ps->perms, &is, pdfo);
	json_object_set_new(sig, "pdf", pdfo);
	pdfo = NULL;
	issues_result(&is, &ind, &sub);
	issues_to_json(&is, sig);
	/* Kept (a reference of its own) for the level, known once every signature is judged. */
	done->sig = json_incref(sig);
	done->end = end;
	done->docts = strcmp(ps->sub_filter, "ETSI.RFC3161") == 0;
	done->passed = ind == VERIFY_TOTAL_PASSED;
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

/* Signed revisions read, at most, when looking for removed signatures (a document whose
 * signatures are all there needs none: a submitted PDF's cost stays bounded). */
#define PDF_RANGES_MAX 8

/* Where the revision a "/ByteRange [a b c d]" text at p (up to e) signs ends (c + d); 0 when
 * the text is not four plain numbers. */
static size_t
range_text_end(const uint8_t *p, const uint8_t *e)
{
	uint64_t v[4];
	int i, digits;

	while (p < e && pdf_ws(*p))
		p++;
	if (p >= e || *p++ != '[')
		return 0;
	for (i = 0; i < 4; i++) {
		while (p < e && pdf_ws(*p))
			p++;
		for (v[i] = 0, digits = 0; p < e && *p >= '0' && *p <= '9' && digits < 15; p++, digits++)
			v[i] = v[i] * 10 + (uint64_t)(*p - '0');
		if (digits == 0 || digits == 15)
			return 0;
	}
	return (size_t)(v[2] + v[3]);
}

/* Reports each signature an earlier revision held that the document no longer lists (its field
 * removed, then perhaps a later signature or time-stamp added over changed content): the
 * signature made over the document is gone, which is not a pass. A signature dictionary is
 * never compressed (its /Contents gap is raw bytes), so every signed revision is found through
 * the "/ByteRange" texts in the file; each such revision is read and its signatures looked for
 * in the document. */
static int
removed_check(const struct pdf_doc *doc, const struct pdf_sig *sigs, size_t n,
              struct verify_report *r)
{
	struct pdf_sig old[VERIFY_MAX_SIGNATURES];
	size_t ends[PDF_RANGES_MAX], nends = 0, end, m, i, k;
	struct verify_issues is;
	enum verify_indication ind;
	enum verify_sub sub;
	const uint8_t *p = doc->pdf, *e = doc->pdf + doc->len;
	qpdf_data q;
	json_t *sig;
	char err[128];
	int ret = 0;

	while (ret == 0 && (p = memmem(p, (size_t)(e - p), "/ByteRange", 10)) != NULL) {
		p += 10;
		end = range_text_end(p, e);
		for (k = 0; k < nends && ends[k] != end; k++)
			;
		for (i = 0; i < n && sig_end(&sigs[i]) != end; i++)
			;
		if (end == 0 || end >= doc->len || k < nends || i < n)
			continue;
		if (nends == PDF_RANGES_MAX) {
			issues_init(&is);
			issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "more than %d signed revisions whose signatures the document does not "
			          "list: removed signatures were not all looked for",
			          PDF_RANGES_MAX);
			issues_result(&is, &ind, &sub);
			sig = json_pack("{s:s}", "format", "pades");
			if (sig != NULL)
				issues_to_json(&is, sig);
			issues_free(&is);
			return report_add(r, sig, ind, sub);
		}
		ends[nends++] = end;
		if ((q = pdfq_open(doc->pdf, end, false)) == NULL)
			continue;
		m = 0;
		if (sigs_find(q, old, &m, err, sizeof(err)) != 0)
			m = 0;
		for (i = 0; i < m && ret == 0; i++) {
			/* Only the signature that signed this very revision is looked for here. */
			if (sig_end(&old[i]) != end)
				continue;
			for (k = 0; k < n && memcmp(sigs[k].br, old[i].br, sizeof(old[i].br)) != 0; k++)
				;
			if (k < n)
				continue;
			issues_init(&is);
			issue_add(&is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "a signature of the revision ending at byte %zu is no longer in the "
			          "document: it was removed after signing", end);
			issues_result(&is, &ind, &sub);
			sig = json_pack("{s:s, s:{s:[I,I,I,I], s:s, s:b}}", "format", "pades", "pdf",
			                "byte_range", (json_int_t)old[i].br[0], (json_int_t)old[i].br[1],
			                (json_int_t)old[i].br[2], (json_int_t)old[i].br[3], "field",
			                old[i].field, "removed", 1);
			if (sig != NULL)
				issues_to_json(&is, sig);
			issues_free(&is);
			ret = report_add(r, sig, ind, sub);
		}
		sigs_free(old, m);
		pdfq_close(&q);
	}
	return ret;
}

int
pdf_validate(struct verify_ctx *ctx, const uint8_t *pdf, size_t len, struct verify_report *r,
             char *err, size_t errsz)
{
	struct pdf_sig sigs[VERIFY_MAX_SIGNATURES];
	struct pdf_done done[VERIFY_MAX_SIGNATURES];
	struct verify_revdata dss;
	struct pdf_doc doc = { .pdf = pdf, .len = len, .budget = PDFDIFF_BUDGET };
	size_t n = 0, i;
	int ret;

	if ((ret = formats_pdf_precheck(pdf, len, err, errsz)) != 0)
		return ret;
	if ((doc.q = pdfq_open(pdf, len, false)) == NULL) {
		/* Read it as a reader would, to name its signatures; changes after them are then
		 * not judged but refused (changes_check). */
		if ((doc.q = pdfq_open(pdf, len, true)) == NULL) {
			snprintf(err, errsz, "not a readable PDF");
			return INK_ERR_INVALID;
		}
		doc.repaired = true;
	}
	if ((ret = sigs_find(doc.q, sigs, &n, err, errsz)) != 0)
		goto out;
	qsort(sigs, n, sizeof(sigs[0]), sig_cmp);
	for (i = 0; i < n; i++) {
		doc.refs[i].id = sigs[i].vid;
		doc.refs[i].end = sig_end(&sigs[i]);
		doc.refs[i].shared = sigs[i].shared;
	}
	doc.nrefs = n;
	/* Validation data the document carries (PAdES B-LT) serves every signature in it. */
	if ((ret = revdata_init(&dss)) != 0)
		goto out;
	(void)dss_read(doc.q, &dss);
	ctx->dss = &dss;
	memset(done, 0, sizeof(done));
	for (i = 0; i < n && ret == 0; i++)
		ret = pdf_one(ctx, &doc, &sigs[i], r, &done[i]);
	if (ret == 0)
		pdflevel_set(pdf, len, done, n);
	for (i = 0; i < n; i++)
		json_decref(done[i].sig);
	if (ret == 0)
		ret = removed_check(&doc, sigs, n, r);
	ctx->dss = NULL;
	revdata_free(&dss);
out:
	sigs_free(sigs, n);
	pdfxref_memo_free(&doc.xref);
	pdfq_close(&doc.q);
	return ret;
}
