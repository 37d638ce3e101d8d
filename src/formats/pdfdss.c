/* pdfdss: PAdES long-term validation data (ETSI EN 319 142-1 5.4, ISO 32000-2 12.8.4.3) — the
 * signatures a PDF holds (what its /DSS must serve), and an incremental update that adds their
 * certificates, OCSP responses and CRLs to the catalog's document security store with a /VRI
 * entry per signature. */
#include "formats/formats_int.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Form fields looked at, and their nesting, at most. */
#define DSS_FIELDS_MAX 4096
#define DSS_DEPTH 32
#define DSS_SIGS_MAX 64
/* Bytes of one /Contents, and of one existing DSS stream compared with the new data. */
#define DSS_CONTENTS_MAX (1u << 20)
#define DSS_STREAM_MAX (16u << 20)

/* ---- the signatures of a document ---- */

struct sig_walk {
	qpdf_data q;
	struct formats_pdf_sig *v;
	size_t n;
	int seen;
	int ids[DSS_SIGS_MAX];   /* the values' object numbers: a value claimed twice counts once */
};

/* The length of the ContentInfo at the start of p[n] (BER: NSS writes indefinite lengths), the
 * zero padding after it left out; 0 when there is none. */
static size_t
cms_object_len(const uint8_t *p, size_t n)
{
	const unsigned char *q = p;
	CMS_ContentInfo *cms;

	if (n < 2 || n > LONG_MAX || p[0] != 0x30 ||
	    (cms = d2i_CMS_ContentInfo(NULL, &q, (long)n)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	CMS_ContentInfo_free(cms);
	return (size_t)(q - p);
}

static int
sig_take(struct sig_walk *w, qpdf_oh field)
{
	qpdf_data q = w->q;
	qpdf_oh v = qpdf_oh_get_key(q, field, "/V"), c, sf;
	struct formats_pdf_sig *s;
	const char *bytes;
	size_t len = 0, i;
	int id;

	if (!qpdf_oh_is_dictionary(q, v))
		return 0;
	c = qpdf_oh_get_key(q, v, "/Contents");
	if (!qpdf_oh_is_string(q, c))
		return 0;
	id = qpdf_oh_is_indirect(q, v) ? qpdf_oh_get_object_id(q, v) : 0;
	for (i = 0; id != 0 && i < w->n; i++)
		if (w->ids[i] == id)
			return 0;
	if (w->n == DSS_SIGS_MAX)
		return INK_ERR_TOO_LARGE;
	bytes = qpdf_oh_get_binary_string_value(q, c, &len);
	if (bytes == NULL || len == 0 || len > DSS_CONTENTS_MAX)
		return INK_ERR_INVALID;
	s = &w->v[w->n];
	memset(s, 0, sizeof(*s));
	if ((s->contents = malloc(len)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(s->contents, bytes, len);
	s->contents_len = len;
	s->der_len = cms_object_len(s->contents, len);
	sf = qpdf_oh_get_key(q, v, "/SubFilter");
	s->doc_timestamp = qpdf_oh_is_name_and_equals(q, sf, "/ETSI.RFC3161");
	SHA1(s->contents, len, s->vri_key);
	w->ids[w->n++] = id;
	return 0;
}

/* Depth first through a field and its /Kids; a signature field's value is taken. */
static int
sig_walk_field(struct sig_walk *w, qpdf_oh f, int depth, bool sig_parent)
{
	qpdf_data q = w->q;
	qpdf_oh kids, ft;
	bool is_sig;
	int i, n, r;

	if (depth > DSS_DEPTH || ++w->seen > DSS_FIELDS_MAX)
		return INK_ERR_TOO_LARGE;
	if (!qpdf_oh_is_dictionary(q, f))
		return 0;
	ft = qpdf_oh_get_key(q, f, "/FT");
	is_sig = qpdf_oh_is_name(q, ft) ? qpdf_oh_is_name_and_equals(q, ft, "/Sig") : sig_parent;
	if (is_sig && (r = sig_take(w, f)) != 0)
		return r;
	kids = qpdf_oh_get_key(q, f, "/Kids");
	n = qpdf_oh_is_array(q, kids) ? qpdf_oh_get_array_n_items(q, kids) : 0;
	for (i = 0; i < n; i++)
		if ((r = sig_walk_field(w, qpdf_oh_get_array_item(q, kids, i), depth + 1, is_sig)) != 0)
			return r;
	return 0;
}

void
formats_pdf_signatures_free(struct formats_pdf_sig *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++)
		free(s[i].contents);
	free(s);
}

int
formats_pdf_signatures(const char *path, struct formats_pdf_sig **out, size_t *n)
{
	struct sig_walk w;
	qpdf_oh fields;
	int i, nf, r = INK_ERR_INVALID;

	*out = NULL;
	*n = 0;
	memset(&w, 0, sizeof(w));
	{
		char why[256];
		int g;

		/* qpdf inflates cross-reference and object streams with no bound of its own. */
		if ((g = formats_pdf_precheck_path(path, why, sizeof(why))) != 0)
			return g;
	}
	if ((w.q = qpdf_init()) == NULL)
		return INK_ERR_ALLOC;
	qpdf_silence_errors(w.q);
	qpdf_set_suppress_warnings(w.q, QPDF_TRUE);
	if (qpdf_read(w.q, path, NULL) != 0 || qpdf_more_warnings(w.q) || qpdf_is_encrypted(w.q))
		goto out;
	if ((w.v = calloc(DSS_SIGS_MAX, sizeof(*w.v))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	fields = qpdf_oh_get_key(w.q, qpdf_oh_get_key(w.q, qpdf_get_root(w.q), "/AcroForm"), "/Fields");
	nf = qpdf_oh_is_array(w.q, fields) ? qpdf_oh_get_array_n_items(w.q, fields) : 0;
	for (i = 0, r = 0; i < nf && r == 0; i++)
		r = sig_walk_field(&w, qpdf_oh_get_array_item(w.q, fields, i), 0, false);
	/* A file qpdf had to repair (now or while the fields were read) is not extended. */
	if (r == 0 && qpdf_more_warnings(w.q))
		r = INK_ERR_INVALID;
	if (r != 0)
		goto out;
	*out = w.v;
	*n = w.n;
	w.v = NULL;
	w.n = 0;
out:
	formats_pdf_signatures_free(w.v, w.n);
	qpdf_cleanup(&w.q);
	return r;
}

/* ---- the document security store ---- */

/* A blob in the store: its SHA-256 and the stream object that holds it. */
struct dss_item {
	uint8_t md[FORMATS_SHA256_LEN];
	int id;
};

/* One of the store's arrays: the references it holds as text, and what they hold. */
struct dss_list {
	const char *key;       /* "/Certs", "/OCSPs", "/CRLs" */
	struct dss_item *v;
	size_t n, cap;
	char *refs;            /* " 12 0 R 13 0 R ..." (existing items first) */
	size_t rlen, rcap;
};

/* A growing text with a sticky error (the VRI dictionary, the reference lists). */
static int
text_add(char **s, size_t *len, size_t *cap, int *err, const char *add)
{
	size_t n = strlen(add), nc;
	char *ns;

	if (*err != 0)
		return *err;
	if (*len + n + 1 > *cap) {
		nc = *cap == 0 ? 256 : *cap;
		while (nc < *len + n + 1)
			nc *= 2;
		if ((ns = realloc(*s, nc)) == NULL)
			return *err = INK_ERR_ALLOC;
		*s = ns;
		*cap = nc;
	}
	memcpy(*s + *len, add, n + 1);
	*len += n;
	return 0;
}

static int
list_ref(struct dss_list *l, int id, int gen, int *err)
{
	char ref[32];

	snprintf(ref, sizeof(ref), " %d %d R", id, gen);
	return text_add(&l->refs, &l->rlen, &l->rcap, err, ref);
}

static int
list_item(struct dss_list *l, const uint8_t md[static FORMATS_SHA256_LEN], int id)
{
	struct dss_item *nv;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap == 0 ? 16 : 2 * l->cap;
		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return INK_ERR_ALLOC;
		l->v = nv;
		l->cap = cap;
	}
	memcpy(l->v[l->n].md, md, FORMATS_SHA256_LEN);
	l->v[l->n++].id = id;
	return 0;
}

/* What the existing store's array holds: each reference kept as it is; an unfiltered stream's
 * bytes remembered so that the same blob is not stored twice. */
static int
list_existing(qpdf_data q, qpdf_oh dss, struct dss_list *l, int *err)
{
	qpdf_oh arr = qpdf_oh_get_key(q, dss, l->key), item;
	unsigned char *raw = NULL;
	uint8_t md[FORMATS_SHA256_LEN];
	size_t rlen = 0;
	QPDF_BOOL filtered = QPDF_FALSE;
	char *t;
	int i, n, r = 0;

	n = qpdf_oh_is_array(q, arr) ? qpdf_oh_get_array_n_items(q, arr) : 0;
	for (i = 0; i < n && r == 0; i++) {
		item = qpdf_oh_get_array_item(q, arr, i);
		if ((t = pdfu_unparse(q, item, false)) == NULL)
			return INK_ERR_ALLOC;
		r = text_add(&l->refs, &l->rlen, &l->rcap, err, " ");
		if (r == 0)
			r = text_add(&l->refs, &l->rlen, &l->rcap, err, t);
		free(t);
		if (r != 0 || !qpdf_oh_is_stream(q, item) || !qpdf_oh_is_indirect(q, item) ||
		    qpdf_oh_has_key(q, qpdf_oh_get_dict(q, item), "/Filter"))
			continue;
		if ((qpdf_oh_get_stream_data(q, item, qpdf_dl_none, &filtered, &raw, &rlen) &
		     QPDF_ERRORS) == 0 && raw != NULL && rlen <= DSS_STREAM_MAX) {
			SHA256(raw, rlen, md);
			r = list_item(l, md, qpdf_oh_get_object_id(q, item));
		}
		free(raw);
		raw = NULL;
	}
	return r;
}

/* The stream object holding blob b: one already there, or a new one written now. */
static int
list_blob(struct pdfu *u, struct dss_list *l, const struct formats_blob *b, int *id, int *err)
{
	uint8_t md[FORMATS_SHA256_LEN];
	size_t i;
	int r;

	*id = 0;
	if (b->data == NULL || b->len == 0)
		return INK_ERR_INVALID;
	SHA256(b->data, b->len, md);
	for (i = 0; i < l->n; i++) {
		if (memcmp(l->v[i].md, md, sizeof(md)) == 0) {
			*id = l->v[i].id;
			return 0;
		}
	}
	if ((*id = pdfu_new_id(u)) < 0)
		return INK_ERR_TOO_LARGE;
	if ((r = pdfu_stream(u, *id, b->data, b->len)) != 0 || (r = list_item(l, md, *id)) != 0)
		return r;
	return list_ref(l, *id, 0, err);
}

/* One VRI entry's array ("/Cert [...]") of the blobs bs, each stored through l. */
static int
vri_array(struct pdfu *u, struct dss_list *l, const char *name, const struct formats_blob *bs,
          size_t n, char **vri, size_t *vlen, size_t *vcap, int *err)
{
	char ref[32];
	size_t i;
	int id, r;

	if (n == 0)
		return 0;
	text_add(vri, vlen, vcap, err, name);
	text_add(vri, vlen, vcap, err, " [");
	for (i = 0; i < n; i++) {
		if ((r = list_blob(u, l, &bs[i], &id, err)) != 0)
			return r;
		snprintf(ref, sizeof(ref), " %d 0 R", id);
		text_add(vri, vlen, vcap, err, ref);
	}
	return text_add(vri, vlen, vcap, err, " ] ");
}

/* The ETSI extension to PDF 1.7 a document with a DSS or document time-stamps declares (ETSI
 * EN 319 142-1, TS 102 778-4: /ESIC, BaseVersion /1.7, ExtensionLevel 5, as iText writes it);
 * a PDF 2.0 file has them natively and gets none. Into *out: " /Extensions << ... >>" with the
 * other developers' entries kept as they are (an /ESIC of a higher level too), or "". */
#define ESIC_LEVEL 5
#define ESIC_DICT " /ESIC << /BaseVersion /1.7 /ExtensionLevel 5 >>"
static int
esic_extensions(qpdf_data q, qpdf_oh root, char **out)
{
	qpdf_oh ext, esic, v;
	const char *ver = qpdf_get_pdf_version(q), *k;
	char *s = NULL, *item = NULL, *key = NULL;
	size_t len = 0, cap = 0;
	bool keep = false;
	int err = 0;

	*out = NULL;
	if (ver != NULL && ver[0] >= '2')
		return (*out = strdup("")) != NULL ? 0 : INK_ERR_ALLOC;
	ext = qpdf_oh_get_key(q, root, "/Extensions");
	if (!qpdf_oh_is_null(q, ext) && !qpdf_oh_is_dictionary(q, ext))
		return INK_ERR_INVALID;
	text_add(&s, &len, &cap, &err, " /Extensions <<");
	if (qpdf_oh_is_dictionary(q, ext)) {
		/* (qpdf warns of a key asked of a non-dictionary, and a warning refuses the file) */
		esic = qpdf_oh_get_key(q, ext, "/ESIC");
		v = qpdf_oh_is_dictionary(q, esic) ? qpdf_oh_get_key(q, esic, "/ExtensionLevel") : 0;
		keep = qpdf_oh_is_dictionary(q, esic) && qpdf_oh_is_integer(q, v) &&
		       qpdf_oh_get_int_value(q, v) >= ESIC_LEVEL &&
		       qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, esic, "/BaseVersion"), "/1.7");
		qpdf_oh_begin_dict_key_iter(q, ext);
		while (err == 0 && qpdf_oh_dict_more_keys(q)) {
			if ((k = qpdf_oh_dict_next_key(q)) == NULL || (key = strdup(k)) == NULL) {
				err = INK_ERR_ALLOC;
				break;
			}
			if (strcmp(key, "/ESIC") != 0 || keep) {
				if ((item = pdfu_unparse(q, qpdf_oh_get_key(q, ext, key), false)) == NULL)
					err = INK_ERR_ALLOC;
				text_add(&s, &len, &cap, &err, " ");
				text_add(&s, &len, &cap, &err, key);
				text_add(&s, &len, &cap, &err, " ");
				text_add(&s, &len, &cap, &err, item != NULL ? item : "");
			}
			free(item);
			free(key);
			item = key = NULL;
		}
	}
	if (!keep)
		text_add(&s, &len, &cap, &err, ESIC_DICT);
	if (text_add(&s, &len, &cap, &err, " >>") != 0) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int
formats_pdf_add_dss(const char *in_path, const char *out_path, const struct formats_dss_entry *e,
                    size_t n)
{
	struct dss_list lists[3] = { { .key = "/Certs" }, { .key = "/OCSPs" }, { .key = "/CRLs" } };
	struct pdfu u;
	qpdf_data q;
	qpdf_oh root, dss, vri = 0;
	bool has_vri = false;
	char *vtext = NULL, *old_vri = NULL, *dtext = NULL, *cat = NULL, key[2 * FORMATS_SHA1_LEN + 1];
	char *ext = NULL, *more = NULL;
	size_t vlen = 0, vcap = 0, i, k, len;
	int err = 0, dss_id, vri_id, r;
	uint64_t size;

	if ((r = pdfu_begin(&u, in_path, out_path)) != 0)
		goto out;
	q = u.q;
	root = qpdf_get_root(q);
	dss = qpdf_oh_get_key(q, root, "/DSS");
	if (!qpdf_oh_is_null(q, dss) && !qpdf_oh_is_dictionary(q, dss)) {
		r = INK_ERR_INVALID;
		goto out;
	}
	if (qpdf_oh_is_dictionary(q, dss)) {
		for (k = 0; k < INK_ARRAY_LEN(lists); k++)
			if ((r = list_existing(q, dss, &lists[k], &err)) != 0)
				goto out;
		vri = qpdf_oh_get_key(q, dss, "/VRI");
		has_vri = qpdf_oh_is_dictionary(q, vri);
	}
	/* Each signature's entry: a direct dictionary in the VRI, its blobs stored once. */
	text_add(&vtext, &vlen, &vcap, &err, "");
	for (i = 0; i < n; i++) {
		hex_encode(e[i].vri_key, FORMATS_SHA1_LEN, key);
		for (k = 0; key[k] != '\0'; k++)
			key[k] = (char)(key[k] >= 'a' && key[k] <= 'f' ? key[k] - 'a' + 'A' : key[k]);
		text_add(&vtext, &vlen, &vcap, &err, " /");
		text_add(&vtext, &vlen, &vcap, &err, key);
		text_add(&vtext, &vlen, &vcap, &err, " << ");
		if ((r = vri_array(&u, &lists[0], "/Cert", e[i].certs, e[i].ncerts, &vtext, &vlen,
		                   &vcap, &err)) != 0 ||
		    (r = vri_array(&u, &lists[1], "/OCSP", e[i].ocsps, e[i].nocsps, &vtext, &vlen,
		                   &vcap, &err)) != 0 ||
		    (r = vri_array(&u, &lists[2], "/CRL", e[i].crls, e[i].ncrls, &vtext, &vlen, &vcap,
		                   &err)) != 0)
			goto out;
		text_add(&vtext, &vlen, &vcap, &err, ">>");
		/* A later entry of the same key replaces the earlier. */
		if (has_vri) {
			char name[2 * FORMATS_SHA1_LEN + 2];

			snprintf(name, sizeof(name), "/%s", key);
			qpdf_oh_remove_key(q, vri, name);
		}
	}
	if ((r = err) != 0)
		goto out;
	/* The VRI: the old entries (as they are) and the new ones, as an object of its own. */
	if ((vri_id = pdfu_new_id(&u)) < 0 || (dss_id = pdfu_new_id(&u)) < 0) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	if (has_vri)
		r = pdfu_dict_with(q, vri, NULL, "", vtext, &old_vri);
	else if ((old_vri = malloc(vlen + 8)) != NULL)
		snprintf(old_vri, vlen + 8, "<<%s >>", vtext);
	else
		r = INK_ERR_ALLOC;
	if (r != 0 || (r = pdfu_obj(&u, vri_id, 0, old_vri)) != 0)
		goto out;
	len = 64;
	for (k = 0; k < INK_ARRAY_LEN(lists); k++)
		len += strlen(lists[k].key) + lists[k].rlen + 8;
	if ((dtext = malloc(len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	snprintf(dtext, len, "<< /Type /DSS%s%s%s%s%s%s%s%s%s /VRI %d 0 R >>",
	         lists[0].rlen > 0 ? " /Certs [" : "", lists[0].rlen > 0 ? lists[0].refs : "",
	         lists[0].rlen > 0 ? " ]" : "",
	         lists[1].rlen > 0 ? " /OCSPs [" : "", lists[1].rlen > 0 ? lists[1].refs : "",
	         lists[1].rlen > 0 ? " ]" : "",
	         lists[2].rlen > 0 ? " /CRLs [" : "", lists[2].rlen > 0 ? lists[2].refs : "",
	         lists[2].rlen > 0 ? " ]" : "", vri_id);
	if ((r = pdfu_obj(&u, dss_id, 0, dtext)) != 0)
		goto out;
	/* The catalog names the new store, and declares the ETSI extension. */
	if ((r = esic_extensions(q, root, &ext)) != 0)
		goto out;
	len = strlen(ext) + 48;
	if ((more = malloc(len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	snprintf(more, len, " /DSS %d 0 R%s", dss_id, ext);
	qpdf_oh_remove_key(q, root, "/DSS");
	if (ext[0] != '\0')
		qpdf_oh_remove_key(q, root, "/Extensions");
	if ((r = pdfu_dict_with(q, root, NULL, "", more, &cat)) != 0 ||
	    (r = pdfu_obj(&u, qpdf_oh_get_object_id(q, root), qpdf_oh_get_generation(q, root),
	                  cat)) != 0 ||
	    (r = pdfu_end(&u, &size)) != 0 || (r = pdfu_close(&u)) != 0)
		goto out;
out:
	for (k = 0; k < INK_ARRAY_LEN(lists); k++) {
		free(lists[k].v);
		free(lists[k].refs);
	}
	pdfu_free(&u);
	free(vtext);
	free(old_vri);
	free(dtext);
	free(ext);
	free(more);
	free(cat);
	return r;
}
