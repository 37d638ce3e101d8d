/* pdfdiff: what changed in a PDF after a signature, judged object by object (ISO 32000-2
 * 12.8.2.2 DocMDP, 12.8.2.4 FieldMDP; EN 319 142-1). The document as the signed revision left
 * it and the document as the whole file shows it are both read with qpdf and walked side by
 * side from their catalogs, by what each object is (a page, an annotation, a form field...),
 * never by searching bytes. Each difference is either one that signing permits — validation
 * data (DSS), a new signature field and its widget, a document time-stamp, and, as the
 * permissions say, form filling and annotations — or an illegal modification. */
#include "verify/verify_int.h"

#include <qpdf/qpdf-c.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Nesting followed at most (page trees, form field trees, direct objects). */
#define DIFF_DEPTH 96
/* Modifications listed at most; the rest are counted. */
#define DIFF_LIST_MAX 64
#define DIFF_PATH_MAX 256
/* A qpdf handle's text as compared (names, numbers, strings, references). */
#define DIFF_TEXT_MAX (1u << 20)

/* What an object is, by where it was reached: decides what may change in it. */
enum dk {
	DK_OTHER,     /* content, resources, fonts, anything else: no change permitted */
	DK_CATALOG,
	DK_PAGES,     /* a node of the page tree */
	DK_PAGE,
	DK_ANNOTS,    /* a page's /Annots array */
	DK_ANNOT,     /* an annotation that was in the signed revision */
	DK_ACROFORM,
	DK_FIELDS,    /* the AcroForm's /Fields or a field's /Kids */
	DK_FIELD,     /* a form field (often also its widget) that was in the signed revision */
};

struct seen {
	int o, og, n, ng;
	bool used;
};

struct diff {
	qpdf_data qo, qn;
	const struct pdf_perms *perms;
	json_t *mods;
	size_t illegal, permitted, listed;
	size_t budget;
	struct seen *seen;
	size_t seen_cap, seen_n;
	bool broken;        /* out of memory, budget or depth: the comparison is not complete */
	bool dry;           /* only finding whether anything differs (differs()) */
	bool dry_hit;
	char path[DIFF_PATH_MAX];
};

/* ---- the record of what changed ---- */

static void INK_PRINTF(3, 4)
mod_add(struct diff *d, bool permitted, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (d->dry) {
		d->dry_hit = true;
		return;
	}
	if (permitted)
		d->permitted++;
	else
		d->illegal++;
	if (d->listed >= DIFF_LIST_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	d->listed++;
	json_array_append_new(d->mods, json_pack("{s:s, s:s, s:b}", "where", d->path[0] != '\0' ?
	                                         d->path : "/", "change", what, "permitted",
	                                         permitted));
}

/* Appends a step to the path; returns the length to restore. */
static size_t
path_push(struct diff *d, const char *fmt, ...)
{
	size_t was = strlen(d->path);
	va_list ap;

	va_start(ap, fmt);
	if (was < sizeof(d->path))
		vsnprintf(d->path + was, sizeof(d->path) - was, fmt, ap);
	va_end(ap);
	return was;
}

static void
path_pop(struct diff *d, size_t was)
{
	d->path[was] = '\0';
}

/* ---- qpdf helpers ---- */

static const char *
type_name(qpdf_data q, qpdf_oh h)
{
	if (pdfq_null(q, h))
		return "nothing";
	if (qpdf_oh_is_stream(q, h))
		return "a stream";
	if (qpdf_oh_is_dictionary(q, h))
		return "a dictionary";
	if (qpdf_oh_is_array(q, h))
		return "an array";
	return "a value";
}

/* Whether FieldMDP (or the signature field's /Lock) forbids changing field f. */
static bool
field_locked(struct diff *d, qpdf_oh f)
{
	const struct pdf_perms *p = d->perms;
	char name[512];
	bool listed = false;
	size_t i;

	if (p->lock == PDF_LOCK_NONE)
		return false;
	if (p->lock == PDF_LOCK_ALL)
		return true;
	pdfq_field_name(d->qn, f, name, sizeof(name));
	for (i = 0; i < p->nfields; i++)
		listed = listed || strcmp(p->fields[i], name) == 0;
	return p->lock == PDF_LOCK_INCLUDE ? listed : !listed;
}

/* Keys of a dictionary (a stream's: its dictionary), copied: qpdf iterates one at a time. */
static int
keys_of(qpdf_data q, qpdf_oh h, char ***keys, size_t *n)
{
	char **k = NULL, **nk;
	size_t cnt = 0, cap = 0;

	*keys = NULL;
	*n = 0;
	if (qpdf_oh_is_stream(q, h))
		h = qpdf_oh_get_dict(q, h);
	if (!qpdf_oh_is_dictionary(q, h))
		return 0;
	qpdf_oh_begin_dict_key_iter(q, h);
	while (qpdf_oh_dict_more_keys(q)) {
		if (cnt == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			if ((nk = realloc(k, cap * sizeof(*k))) == NULL)
				goto fail;
			k = nk;
		}
		if ((k[cnt] = strdup(qpdf_oh_dict_next_key(q))) == NULL)
			goto fail;
		cnt++;
	}
	*keys = k;
	*n = cnt;
	return 0;
fail:
	while (cnt > 0)
		free(k[--cnt]);
	free(k);
	return INK_ERR_ALLOC;
}

static void
keys_free(char **k, size_t n)
{
	while (n > 0)
		free(k[--n]);
	free(k);
}

static bool
keys_has(char **k, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(k[i], key) == 0)
			return true;
	}
	return false;
}

/* A scalar's text; an indirect one's value, not its reference. */
static const char *
scalar_text(qpdf_data q, qpdf_oh h)
{
	return qpdf_oh_is_indirect(q, h) ? qpdf_oh_unparse_resolved(q, h) : qpdf_oh_unparse_binary(q, h);
}

/* Whether two scalars read the same. */
static bool
scalar_eq(struct diff *d, qpdf_oh o, qpdf_oh n)
{
	const char *s;
	char *a;
	bool eq;

	s = scalar_text(d->qo, o);
	if (s == NULL || strlen(s) > DIFF_TEXT_MAX || (a = strdup(s)) == NULL) {
		d->broken = true;
		return false;
	}
	s = scalar_text(d->qn, n);
	eq = s != NULL && strcmp(a, s) == 0;
	free(a);
	return eq;
}

/* Whether two streams hold the same bytes (as stored: a re-compressed stream is a change). */
static bool
stream_data_eq(struct diff *d, qpdf_oh o, qpdf_oh n)
{
	unsigned char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	QPDF_BOOL fa = QPDF_FALSE, fb = QPDF_FALSE;
	bool eq = false;

	if ((qpdf_oh_get_stream_data(d->qo, o, qpdf_dl_none, &fa, &a, &al) & QPDF_ERRORS) != 0 ||
	    (qpdf_oh_get_stream_data(d->qn, n, qpdf_dl_none, &fb, &b, &bl) & QPDF_ERRORS) != 0)
		d->broken = true;
	else
		eq = al == bl && (al == 0 || memcmp(a, b, al) == 0);
	free(a);
	free(b);
	return eq;
}

/* ---- pairs already compared (cycles, shared objects) ---- */

static size_t
seen_hash(int o, int og, int n, int ng, size_t cap)
{
	uint64_t h = (uint64_t)(unsigned)o * 0x9E3779B97F4A7C15u ^ (uint64_t)(unsigned)n * 0xC2B2AE3D27D4EB4Fu ^
	             (uint64_t)(unsigned)og << 17 ^ (uint64_t)(unsigned)ng << 41;

	return (size_t)(h ^ h >> 29) & (cap - 1);
}

/* True when the pair was compared already; records it otherwise. */
static bool
seen_check(struct diff *d, int o, int og, int n, int ng)
{
	struct seen *old, *s;
	size_t i, cap;

	if (d->seen_n * 2 >= d->seen_cap) {
		cap = d->seen_cap != 0 ? d->seen_cap * 2 : 1024;
		if ((s = calloc(cap, sizeof(*s))) == NULL) {
			d->broken = true;
			return true;
		}
		old = d->seen;
		for (i = 0; i < d->seen_cap; i++) {
			if (old[i].used) {
				size_t h = seen_hash(old[i].o, old[i].og, old[i].n, old[i].ng, cap);
				while (s[h].used)
					h = (h + 1) & (cap - 1);
				s[h] = old[i];
			}
		}
		free(old);
		d->seen = s;
		d->seen_cap = cap;
	}
	for (i = seen_hash(o, og, n, ng, d->seen_cap); d->seen[i].used; i = (i + 1) & (d->seen_cap - 1)) {
		s = &d->seen[i];
		if (s->o == o && s->og == og && s->n == n && s->ng == ng)
			return true;
	}
	d->seen[i] = (struct seen){ o, og, n, ng, true };
	d->seen_n++;
	return false;
}

/* ---- the walk ---- */

static void compare(struct diff *d, qpdf_oh o, qpdf_oh n, enum dk kind, int depth);

/* Whether anything differs between o and n, however deep; records nothing. */
static bool
differs(struct diff *d, qpdf_oh o, qpdf_oh n, int depth)
{
	struct seen *seen = d->seen;
	size_t cap = d->seen_cap, cnt = d->seen_n;
	bool hit;

	d->seen = NULL;
	d->seen_cap = d->seen_n = 0;
	d->dry = true;
	d->dry_hit = false;
	compare(d, o, n, DK_OTHER, depth + 1);
	hit = d->dry_hit;
	d->dry = d->dry_hit = false;
	free(d->seen);
	d->seen = seen;
	d->seen_cap = cap;
	d->seen_n = cnt;
	return hit || d->broken;
}

/* Whether a widget shows nothing: a /Rect of no area, or hidden (annotation flags 2 or 32). */
static bool
invisible(qpdf_data q, qpdf_oh w)
{
	qpdf_oh r = pdfq_get(q, w, "/Rect"), f = pdfq_get(q, w, "/F");
	double v[4];
	int i;

	if (qpdf_oh_is_integer(q, f) && (qpdf_oh_get_int_value(q, f) & (2 | 32)) != 0)
		return true;
	if (!qpdf_oh_is_array(q, r) || qpdf_oh_get_array_n_items(q, r) != 4)
		return false;
	for (i = 0; i < 4; i++)
		v[i] = qpdf_oh_get_numeric_value(q, qpdf_oh_get_array_item(q, r, i));
	return v[0] == v[2] || v[1] == v[3];
}

/* A new annotation or field is permitted when it is a signature field (or its widget) and
 * signing is: DocMDP P >= 2, or a document time-stamp (allowed at every P). An empty
 * signature field that shows something is not: its appearance would be signed by no one. */
static void
judge_new_sig(struct diff *d, qpdf_oh n, const char *what)
{
	bool sig = pdfq_is_sig_field(d->qn, n);
	qpdf_oh v = pdfq_get(d->qn, n, "/V");
	bool dts = sig && pdfq_name_is(d->qn, v, "/Type", "/DocTimeStamp");
	bool empty = sig && !qpdf_oh_is_dictionary(d->qn, v);

	if (sig && empty && qpdf_oh_has_key(d->qn, n, "/Rect") && !invisible(d->qn, n))
		mod_add(d, false, "%s added: an empty signature field with a visible appearance", what);
	else if (sig && (dts || d->perms->docmdp >= 2))
		mod_add(d, true, "%s added: a %s", what, dts ? "document time-stamp" : "signature field");
	else if (sig)
		mod_add(d, false, "%s added: a signature field, but DocMDP P=1 permits no change", what);
	else if (qpdf_oh_is_dictionary(d->qn, n) && !pdfq_name_is(d->qn, n, "/Subtype", "/Widget") &&
	         qpdf_oh_has_key(d->qn, n, "/Subtype") && strcmp(what, "annotation") == 0)
		mod_add(d, d->perms->docmdp >= 3, "annotation added (%s)%s",
		        qpdf_oh_get_name(d->qn, pdfq_get(d->qn, n, "/Subtype")),
		        d->perms->docmdp >= 3 ? "" : ": annotations are not permitted (DocMDP P<3)");
	else
		mod_add(d, false, "%s added that is not a signature field", what);
}

/* /Annots, /Fields, /Kids: entries are matched by object, not by place. Entries of the signed
 * revision stay (removing an annotation needs P=3); new ones are judged by judge_new_sig. */
static void
compare_list(struct diff *d, qpdf_oh o, qpdf_oh n, enum dk elem, const char *what, int depth)
{
	int no = qpdf_oh_is_array(d->qo, o) ? qpdf_oh_get_array_n_items(d->qo, o) : 0;
	int nn = qpdf_oh_is_array(d->qn, n) ? qpdf_oh_get_array_n_items(d->qn, n) : 0;
	qpdf_oh a, b;
	size_t was;
	int i, j;
	bool found;

	if (!pdfq_null(d->qn, n) && !qpdf_oh_is_array(d->qn, n)) {
		mod_add(d, false, "was a list, now %s", type_name(d->qn, n));
		return;
	}
	for (i = 0; i < no && !d->broken; i++) {
		a = qpdf_oh_get_array_item(d->qo, o, i);
		found = false;
		for (j = 0; j < nn && !found; j++) {
			b = qpdf_oh_get_array_item(d->qn, n, j);
			if (qpdf_oh_is_indirect(d->qo, a) ?
			            qpdf_oh_is_indirect(d->qn, b) &&
			                    qpdf_oh_get_object_id(d->qo, a) == qpdf_oh_get_object_id(d->qn, b) &&
			                    qpdf_oh_get_generation(d->qo, a) == qpdf_oh_get_generation(d->qn, b) :
			            i == j) {
				found = true;
				was = path_push(d, "[%d]", j);
				compare(d, a, b, elem, depth + 1);
				path_pop(d, was);
			}
		}
		if (!found) {
			was = path_push(d, "[%d]", i);
			mod_add(d, elem == DK_ANNOT && d->perms->docmdp >= 3, "%s of the signed revision "
			        "removed", what);
			path_pop(d, was);
		}
	}
	for (j = 0; j < nn && !d->broken; j++) {
		b = qpdf_oh_get_array_item(d->qn, n, j);
		found = false;
		for (i = 0; i < no && !found; i++) {
			a = qpdf_oh_get_array_item(d->qo, o, i);
			found = qpdf_oh_is_indirect(d->qo, a) ?
			        qpdf_oh_is_indirect(d->qn, b) &&
			                qpdf_oh_get_object_id(d->qo, a) == qpdf_oh_get_object_id(d->qn, b) &&
			                qpdf_oh_get_generation(d->qo, a) == qpdf_oh_get_generation(d->qn, b) :
			        i == j;
		}
		if (!found) {
			was = path_push(d, "[%d]", j);
			judge_new_sig(d, b, what);
			path_pop(d, was);
		}
	}
}

/* What a key of a dictionary of kind is, and whether its value may change. */
enum key_rule {
	KR_COMPARE,    /* compare, as the child kind says */
	KR_FREE,       /* may change in any way (validation data) */
	KR_LIST,       /* a list of annotations or fields */
	KR_FILL,       /* a form field's value or appearance: form filling (P >= 2, not locked) */
	KR_ANNOT,      /* an annotation's contents: P = 3 */
	KR_SIGN,       /* a signature field's value: may be set once, by signing */
	KR_SKIP,       /* a back-reference, compared from the other end */
};

static enum key_rule
key_rule(struct diff *d, enum dk kind, qpdf_oh o, qpdf_oh n, const char *key, enum dk *child)
{
	bool widget;

	*child = DK_OTHER;
	switch (kind) {
	case DK_CATALOG:
		if (strcmp(key, "/DSS") == 0 || strcmp(key, "/Extensions") == 0)
			return KR_FREE;
		if (strcmp(key, "/Pages") == 0)
			*child = DK_PAGES;
		else if (strcmp(key, "/AcroForm") == 0)
			*child = DK_ACROFORM;
		return KR_COMPARE;
	case DK_PAGES:
		if (strcmp(key, "/Kids") == 0)
			*child = DK_PAGES; /* each kid's kind is read from its /Type below */
		else if (strcmp(key, "/Parent") == 0)
			return KR_SKIP;
		return KR_COMPARE;
	case DK_PAGE:
		if (strcmp(key, "/Annots") == 0) {
			*child = DK_ANNOT;
			return KR_LIST;
		}
		if (strcmp(key, "/Parent") == 0)
			return KR_SKIP;
		return KR_COMPARE;
	case DK_ACROFORM:
		if (strcmp(key, "/Fields") == 0) {
			*child = DK_FIELD;
			return KR_LIST;
		}
		/* A new signature needs its flags and, for its appearance, fonts in /DR. */
		if (strcmp(key, "/SigFlags") == 0 || strcmp(key, "/DR") == 0 ||
		    strcmp(key, "/DA") == 0 || strcmp(key, "/NeedAppearances") == 0)
			return KR_FILL;
		return KR_COMPARE;
	case DK_ANNOT:
	case DK_FIELD:
		widget = pdfq_name_is(d->qn, n, "/Subtype", "/Widget");
		if (strcmp(key, "/Kids") == 0) {
			*child = DK_FIELD;
			return KR_LIST;
		}
		if (strcmp(key, "/Parent") == 0 || strcmp(key, "/P") == 0)
			return KR_SKIP;
		if (kind == DK_ANNOT && !widget && !qpdf_oh_has_key(d->qn, n, "/FT"))
			return KR_ANNOT;
		if (strcmp(key, "/V") == 0)
			return pdfq_is_sig_field(d->qn, n) ? KR_SIGN : KR_FILL;
		/* An appearance may change with a form field's value, or while a signature field is
		 * being signed; a signature's appearance stays as it was signed. */
		if (strcmp(key, "/AP") == 0 || strcmp(key, "/AS") == 0)
			return !pdfq_is_sig_field(d->qn, n) ||
			       !qpdf_oh_is_dictionary(d->qo, pdfq_get(d->qo, o, "/V")) ? KR_FILL : KR_COMPARE;
		return KR_COMPARE;
	default:
		return KR_COMPARE;
	}
}

static void
compare_key(struct diff *d, qpdf_oh od, qpdf_oh nd, const char *key, enum dk kind, int depth)
{
	qpdf_oh o = pdfq_get(d->qo, od, key), n = pdfq_get(d->qn, nd, key);
	enum dk child;
	enum key_rule rule = key_rule(d, kind, od, nd, key, &child);
	bool allowed;
	size_t was = path_push(d, "%s", key);

	switch (rule) {
	case KR_COMPARE:
		compare(d, o, n, child, depth + 1);
		break;
	case KR_LIST:
		compare_list(d, o, n, child, child == DK_ANNOT ? "annotation" : "form field", depth);
		break;
	case KR_SKIP:
		break;
	case KR_SIGN:
		if (!pdfq_null(d->qo, o)) {
			/* A signature already made stays as it was. */
			compare(d, o, n, DK_OTHER, depth + 1);
		} else if (!pdfq_null(d->qn, n)) {
			/* Signing an empty signature field. */
			judge_new_sig(d, nd, "signature");
		}
		break;
	case KR_FREE:
	case KR_FILL:
	case KR_ANNOT:
		if (!differs(d, o, n, depth))
			break;
		allowed = rule == KR_FREE ||
		          (rule == KR_FILL && d->perms->docmdp >= 2 &&
		           (kind == DK_ACROFORM || !field_locked(d, nd))) ||
		          (rule == KR_ANNOT && d->perms->docmdp >= 3);
		mod_add(d, allowed, "%s", rule == KR_FREE ? "validation data (DSS) added or changed" :
		        rule == KR_ANNOT ? (allowed ? "annotation changed" :
		                            "annotation changed: not permitted (DocMDP P<3)") :
		        !allowed ? "form field changed: not permitted (DocMDP or a field lock)" :
		        kind == DK_ACROFORM ? "form settings changed for a new signature" :
		        "form field filled in");
		break;
	}
	path_pop(d, was);
	/* Each lookup made a qpdf handle: given back, so memory follows the document, not the walk. */
	qpdf_oh_release(d->qo, o);
	qpdf_oh_release(d->qn, n);
}

/* Compares two dictionaries key by key; a stream's /Length is not compared (its data is). */
static void
compare_dict(struct diff *d, qpdf_oh o, qpdf_oh n, enum dk kind, bool stream, int depth)
{
	char **ko = NULL, **kn = NULL;
	size_t no = 0, nn = 0, i;

	if (keys_of(d->qo, o, &ko, &no) != 0 || keys_of(d->qn, n, &kn, &nn) != 0) {
		d->broken = true;
		goto out;
	}
	for (i = 0; i < nn && !d->broken; i++) {
		if (!stream || strcmp(kn[i], "/Length") != 0)
			compare_key(d, o, n, kn[i], kind, depth);
	}
	for (i = 0; i < no && !d->broken; i++) {
		if (!keys_has(kn, nn, ko[i]))
			compare_key(d, o, n, ko[i], kind, depth);
	}
out:
	keys_free(ko, no);
	keys_free(kn, nn);
}

static void
compare(struct diff *d, qpdf_oh o, qpdf_oh n, enum dk kind, int depth)
{
	bool oi = qpdf_oh_is_indirect(d->qo, o), ni = qpdf_oh_is_indirect(d->qn, n);
	qpdf_oh od, nd;
	int i, cnt, cnto;
	size_t was;

	if (d->broken || d->dry_hit)
		return;
	if (d->budget-- == 0 || depth > DIFF_DEPTH) {
		mod_add(d, false, "the document is too large or too deep to compare");
		d->broken = true;
		return;
	}
	/* Only pairs of indirect objects can form a cycle; a direct object on either side is
	 * compared wherever it is met (it may differ from one place to another). */
	if (oi && ni && seen_check(d, qpdf_oh_get_object_id(d->qo, o), qpdf_oh_get_generation(d->qo, o),
	                           qpdf_oh_get_object_id(d->qn, n), qpdf_oh_get_generation(d->qn, n)))
		return;
	/* A node of the page tree is a page or another node, as its /Type says. */
	if (kind == DK_PAGES && pdfq_name_is(d->qn, n, "/Type", "/Page"))
		kind = DK_PAGE;
	/* A first signature field brings the AcroForm: compared with an empty one. */
	if (kind == DK_ACROFORM && pdfq_null(d->qo, o) && qpdf_oh_is_dictionary(d->qn, n)) {
		compare_dict(d, o, n, kind, false, depth);
		return;
	}
	if (qpdf_oh_get_type_code(d->qo, o) != qpdf_oh_get_type_code(d->qn, n)) {
		mod_add(d, false, "was %s, now %s", type_name(d->qo, o), type_name(d->qn, n));
		return;
	}
	if (qpdf_oh_is_stream(d->qn, n)) {
		od = qpdf_oh_get_dict(d->qo, o);
		nd = qpdf_oh_get_dict(d->qn, n);
		if (!stream_data_eq(d, o, n) && !d->broken)
			mod_add(d, false, "stream data changed");
		compare_dict(d, od, nd, kind, true, depth);
		qpdf_oh_release(d->qo, od);
		qpdf_oh_release(d->qn, nd);
	} else if (qpdf_oh_is_dictionary(d->qn, n)) {
		compare_dict(d, o, n, kind, false, depth);
	} else if (qpdf_oh_is_array(d->qn, n)) {
		cnto = qpdf_oh_get_array_n_items(d->qo, o);
		cnt = qpdf_oh_get_array_n_items(d->qn, n);
		if (cnto != cnt)
			mod_add(d, false, "array of %d items now has %d", cnto, cnt);
		for (i = 0; i < cnt && i < cnto && !d->broken; i++) {
			was = path_push(d, "[%d]", i);
			od = qpdf_oh_get_array_item(d->qo, o, i);
			nd = qpdf_oh_get_array_item(d->qn, n, i);
			compare(d, od, nd, kind == DK_PAGES ? DK_PAGES : DK_OTHER, depth + 1);
			qpdf_oh_release(d->qo, od);
			qpdf_oh_release(d->qn, nd);
			path_pop(d, was);
		}
	} else if (!scalar_eq(d, o, n) && !d->broken) {
		mod_add(d, false, "value changed");
	}
}

int
pdfdiff_run(qpdf_data qn, const uint8_t *pdf, size_t end, const struct pdf_perms *perms,
            size_t *budget, json_t *mods, struct pdfdiff_result *res)
{
	struct diff d;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.qn = qn;
	d.perms = perms;
	d.mods = mods;
	d.budget = *budget;
	if ((d.qo = pdfq_open(pdf, end, false)) == NULL)
		return INK_ERR_INVALID;
	compare(&d, qpdf_get_root(d.qo), qpdf_get_root(qn), DK_CATALOG, 0);
	if (d.listed < d.illegal + d.permitted)
		json_array_append_new(mods, json_pack("{s:s, s:s, s:b}", "where", "...", "change",
		                                      "more changes not listed", "permitted",
		                                      d.illegal == 0));
	res->illegal = d.illegal;
	res->permitted = d.permitted;
	res->complete = !d.broken;
	*budget = d.budget;
	free(d.seen);
	pdfq_close(&d.qo);
	return ret;
}
