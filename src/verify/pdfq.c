/* pdfq: reading a PDF with qpdf for verification — opening a file or one of its revisions
 * without repair, and the few questions verify/ asks of its objects (a key, a name, a
 * signature field, a field's name). */
#include "verify/verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Parents followed at most when inheriting a field's attributes; /Kids followed at most. */
#define PDFQ_PARENTS_MAX 32
#define PDFQ_FIELD_DEPTH 32
/* What one cross-reference or object stream may inflate to, and all of them together. */
#define PDFQ_STRUCT_STREAM_MAX ((size_t)32 << 20)
#define PDFQ_STRUCT_TOTAL_MAX ((size_t)256 << 20)
/* How far before "stream" its dictionary's "obj" is looked for. */
#define PDFQ_DICT_WINDOW 65536

int
pdfq_inflate(const uint8_t *in, size_t inlen, size_t cap, uint8_t **out, size_t *outlen)
{
	uint8_t scratch[16384], *buf = NULL, *nb;
	size_t have = 0, bufcap = 0, got;
	z_stream z;
	int zr, ret = INK_ERR_INVALID;

	if (out != NULL)
		*out = NULL;
	*outlen = 0;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return INK_ERR_ALLOC;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = inlen > UINT_MAX ? UINT_MAX : (uInt)inlen;
	do {
		z.next_out = scratch;
		z.avail_out = sizeof(scratch);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		got = sizeof(scratch) - z.avail_out;
		if (got > cap - have) {
			ret = INK_ERR_TOO_LARGE;
			goto out;
		}
		if (out != NULL && got > 0) {
			if (have + got > bufcap) {
				bufcap = (have + got) * 2;
				if ((nb = realloc(buf, bufcap)) == NULL) {
					ret = INK_ERR_ALLOC;
					goto out;
				}
				buf = nb;
			}
			memcpy(buf + have, scratch, got);
		}
		have += got;
	} while (zr == Z_OK && got > 0);
	if (zr != Z_STREAM_END)
		goto out;
	if (out != NULL) {
		*out = buf;
		buf = NULL;
	}
	ret = 0;
out:
	*outlen = have;
	inflateEnd(&z);
	free(buf);
	return ret;
}

/* Advances *scan over the occurrences of word before p, keeping the last one in *last; every
 * byte is scanned once however often this is called with a growing p. */
static void
last_before(const uint8_t **scan, const uint8_t *p, const char *word, const uint8_t **last)
{
	const uint8_t *q;
	size_t n = strlen(word);

	while (*scan < p && (q = memmem(*scan, (size_t)(p - *scan), word, n)) != NULL) {
		*last = q;
		*scan = q + n;
	}
	if (*scan < p)
		*scan = p;
}

int
pdfq_precheck(const uint8_t *pdf, size_t len, char *err, size_t errsz)
{
	const uint8_t *p = pdf, *e = pdf + len, *data;
	const uint8_t *s_xref = pdf, *s_objstm = pdf, *s_flate = pdf;
	const uint8_t *xref = NULL, *objstm = NULL, *flate = NULL, *kind;
	size_t total = 0, n;
	int r;

	while ((p = memmem(p, (size_t)(e - p), "stream", 6)) != NULL) {
		data = p + 6;
		if (p >= pdf + 3 && memcmp(p - 3, "end", 3) == 0) {
			p = data;
			continue;
		}
		if (data < e && *data == '\r')
			data++;
		if (data >= e || *data != '\n') {
			p = p + 6;
			continue;
		}
		data++;
		/* The stream's dictionary is somewhere before "stream": any /XRef or /ObjStm and a
		 * /FlateDecode close enough before it make it one to measure (a dictionary is not
		 * parsed here; a false alarm costs one bounded inflate). */
		last_before(&s_xref, p, "/XRef", &xref);
		last_before(&s_objstm, p, "/ObjStm", &objstm);
		last_before(&s_flate, p, "/FlateDecode", &flate);
		kind = xref > objstm ? xref : objstm;
		p = data;
		if (kind == NULL || flate == NULL || (size_t)(data - kind) > PDFQ_DICT_WINDOW ||
		    (size_t)(data - flate) > PDFQ_DICT_WINDOW)
			continue;
		/* What an inflate produced counts even when the data is not a whole zlib stream. */
		r = pdfq_inflate(data, (size_t)(e - data), PDFQ_STRUCT_STREAM_MAX, NULL, &n);
		if (r == INK_ERR_TOO_LARGE || (total += n) > PDFQ_STRUCT_TOTAL_MAX) {
			snprintf(err, errsz, "a cross-reference or object stream at byte %zu inflates "
			         "beyond %zu MiB", (size_t)(kind - pdf), PDFQ_STRUCT_STREAM_MAX >> 20);
			return INK_ERR_TOO_LARGE;
		}
	}
	return 0;
}

qpdf_data
pdfq_open(const uint8_t *pdf, size_t len, bool repair)
{
	qpdf_data q = qpdf_init();

	if (q == NULL)
		return NULL;
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	/* Without repair a damaged file is not guessed at: what is compared is what was written. */
	qpdf_set_attempt_recovery(q, repair ? QPDF_TRUE : QPDF_FALSE);
	if ((qpdf_read_memory(q, "PDF", (const char *)pdf, len, NULL) & QPDF_ERRORS) != 0)
		pdfq_close(&q);
	return q;
}

void
pdfq_close(qpdf_data *q)
{
	if (*q == NULL)
		return;
	/* Errors are taken, or qpdf reports them on stderr. */
	while (qpdf_has_error(*q))
		(void)qpdf_get_error(*q);
	while (qpdf_more_warnings(*q))
		(void)qpdf_next_warning(*q);
	qpdf_cleanup(q);
}

bool
pdfq_null(qpdf_data q, qpdf_oh h)
{
	return !qpdf_oh_is_initialized(q, h) || qpdf_oh_is_null(q, h);
}

qpdf_oh
pdfq_get(qpdf_data q, qpdf_oh dict, const char *key)
{
	if (qpdf_oh_is_stream(q, dict))
		dict = qpdf_oh_get_dict(q, dict);
	if (!qpdf_oh_is_dictionary(q, dict))
		return qpdf_oh_new_null(q);
	return qpdf_oh_get_key(q, dict, key);
}

bool
pdfq_name_is(qpdf_data q, qpdf_oh dict, const char *key, const char *name)
{
	return qpdf_oh_is_name_and_equals(q, pdfq_get(q, dict, key), name);
}

qpdf_oh
pdfq_inherited(qpdf_data q, qpdf_oh f, const char *key)
{
	int i;

	for (i = 0; i < PDFQ_PARENTS_MAX && qpdf_oh_is_dictionary(q, f); i++) {
		if (qpdf_oh_has_key(q, f, key))
			return qpdf_oh_get_key(q, f, key);
		f = pdfq_get(q, f, "/Parent");
	}
	return qpdf_oh_new_null(q);
}

bool
pdfq_is_sig_field(qpdf_data q, qpdf_oh f)
{
	return qpdf_oh_is_name_and_equals(q, pdfq_inherited(q, f, "/FT"), "/Sig");
}

int
pdfq_each_field(qpdf_data q, int (*fn)(qpdf_data q, qpdf_oh h, bool annot, void *arg),
                void *arg, bool *deep)
{
	qpdf_oh stack[PDFQ_FIELD_DEPTH], f, kids, annots;
	int idx[PDFQ_FIELD_DEPTH], depth = 0, pages, pg, i, cnt, r;

	*deep = false;
	stack[0] = pdfq_get(q, pdfq_get(q, qpdf_get_root(q), "/AcroForm"), "/Fields");
	idx[0] = 0;
	while (depth >= 0) {
		if (!qpdf_oh_is_array(q, stack[depth]) ||
		    idx[depth] >= qpdf_oh_get_array_n_items(q, stack[depth])) {
			depth--;
			continue;
		}
		f = qpdf_oh_get_array_item(q, stack[depth], idx[depth]++);
		if ((r = fn(q, f, false, arg)) != 0)
			return r;
		kids = pdfq_get(q, f, "/Kids");
		if (qpdf_oh_is_array(q, kids)) {
			if (depth + 1 == PDFQ_FIELD_DEPTH) {
				*deep = true;
				continue;
			}
			stack[++depth] = kids;
			idx[depth] = 0;
		}
	}
	pages = qpdf_get_num_pages(q);
	for (pg = 0; pg < pages; pg++) {
		annots = pdfq_get(q, qpdf_get_page_n(q, (size_t)pg), "/Annots");
		cnt = qpdf_oh_is_array(q, annots) ? qpdf_oh_get_array_n_items(q, annots) : 0;
		for (i = 0; i < cnt; i++) {
			f = qpdf_oh_get_array_item(q, annots, i);
			r = fn(q, f, true, arg);
			qpdf_oh_release(q, f);
			if (r != 0)
				return r;
		}
		qpdf_oh_release(q, annots);
	}
	return 0;
}

bool
pdfq_field_name(qpdf_data q, qpdf_oh f, char *out, size_t outsz)
{
	char acc[512], joined[512];
	const char *t;
	qpdf_oh tv;
	bool whole = true;
	int i, n;

	acc[0] = '\0';
	for (i = 0; i < PDFQ_PARENTS_MAX && qpdf_oh_is_dictionary(q, f); i++) {
		tv = pdfq_get(q, f, "/T");
		if (qpdf_oh_is_string(q, tv) && (t = qpdf_oh_get_utf8_value(q, tv)) != NULL) {
			n = snprintf(joined, sizeof(joined), "%s%s%s", t, acc[0] != '\0' ? "." : "", acc);
			whole = whole && n >= 0 && (size_t)n < sizeof(joined);
			memcpy(acc, joined, sizeof(acc));
		}
		f = pdfq_get(q, f, "/Parent");
	}
	/* Parents beyond the bound leave the name cut short too. */
	whole = whole && !qpdf_oh_is_dictionary(q, f);
	n = snprintf(out, outsz, "%s", acc);
	return whole && n >= 0 && (size_t)n < outsz;
}
