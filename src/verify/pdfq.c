/* pdfq: reading a PDF with qpdf for verification — opening a file or one of its revisions
 * without repair, and the few questions verify/ asks of its objects (a key, a name, a
 * signature field, a field's name). */
#include "verify/verify_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parents followed at most when inheriting a field's attributes; /Kids followed at most. */
#define PDFQ_PARENTS_MAX 32
#define PDFQ_FIELD_DEPTH 32

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
