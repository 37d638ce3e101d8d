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
	DK_ANNOT,     /* an annotation that was in the signed revision */
	DK_ACROFORM,
	DK_FIELD,     /* a form field (often also its widget) that was in the signed revision */
};

struct seen {
	int o, og, n, ng, kind;
	bool used;
};

struct diff {
	qpdf_data qo, qn;
	const struct pdf_perms *perms;
	const struct pdf_sigref *sigs;
	size_t nsigs;
	size_t end;         /* where the signed revision ends */
	json_t *mods;
	size_t illegal, permitted, listed;
	size_t budget;
	struct seen *seen;
	size_t seen_cap, seen_n;
	bool broken;        /* out of memory, budget or depth: the comparison is not complete */
	uint64_t *annots, *fields;  /* the signed revision's annotations and form fields (sorted) */
	size_t nannots, nfields;
	char *da;           /* "\n/Name\n..." of the names its fields' /DA strings use */
	size_t da_len;
	bool da_unknown;    /* some /DA could not be read: no name is known to be free */
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
static size_t INK_PRINTF(2, 3)
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

/* Whether a lock's list names field (or one of its ancestors: a listed "a" locks "a.b"). */
static bool
lock_names(const struct pdf_lock_spec *l, const char *name)
{
	size_t i, k;

	for (i = 0; i < l->nfields; i++) {
		k = strlen(l->fields[i]);
		if (strncmp(l->fields[i], name, k) == 0 && (name[k] == '\0' || name[k] == '.'))
			return true;
	}
	return false;
}

static bool
locked_by(const struct pdf_perms *p, const char *name)
{
	const struct pdf_lock_spec *l;
	size_t i;

	for (i = 0; i < p->nlocks; i++) {
		l = &p->locks[i];
		if (l->action == PDF_LOCK_ALL ||
		    (l->action == PDF_LOCK_INCLUDE && lock_names(l, name)) ||
		    (l->action == PDF_LOCK_EXCLUDE && !lock_names(l, name)))
			return true;
	}
	return false;
}

/* Whether FieldMDP or a /Lock forbids changing the field, by its name in either revision (a
 * field moved under another /Parent keeps the lock of its old name). */
static bool
field_locked(struct diff *d, qpdf_oh o, qpdf_oh n)
{
	char name[512];

	if (d->perms->nlocks == 0)
		return false;
	/* A name that cannot be read whole is taken as locked: failing open would let it change. */
	if (!pdfq_field_name(d->qo, o, name, sizeof(name)) || locked_by(d->perms, name))
		return true;
	return !pdfq_field_name(d->qn, n, name, sizeof(name)) || locked_by(d->perms, name);
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
seen_hash(int o, int og, int n, int ng, int kind, size_t cap)
{
	uint64_t h = (uint64_t)(unsigned)o * 0x9E3779B97F4A7C15u ^ (uint64_t)(unsigned)n * 0xC2B2AE3D27D4EB4Fu ^
	             (uint64_t)(unsigned)og << 17 ^ (uint64_t)(unsigned)ng << 41 ^ (uint64_t)(unsigned)kind << 57;

	return (size_t)(h ^ h >> 29) & (cap - 1);
}

/* True when the pair was compared already as kind; records it otherwise. */
static bool
seen_check(struct diff *d, int o, int og, int n, int ng, int kind)
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
				size_t h = seen_hash(old[i].o, old[i].og, old[i].n, old[i].ng, old[i].kind, cap);
				while (s[h].used)
					h = (h + 1) & (cap - 1);
				s[h] = old[i];
			}
		}
		free(old);
		d->seen = s;
		d->seen_cap = cap;
	}
	for (i = seen_hash(o, og, n, ng, kind, d->seen_cap); d->seen[i].used;
	     i = (i + 1) & (d->seen_cap - 1)) {
		s = &d->seen[i];
		if (s->o == o && s->og == og && s->n == n && s->ng == ng && s->kind == kind)
			return true;
	}
	d->seen[i] = (struct seen){ o, og, n, ng, kind, true };
	d->seen_n++;
	return false;
}

/* ---- what the signed revision holds: its annotations, form fields, and the names their
 * default appearances (/DA) draw with ---- */

static uint64_t
obj_key(qpdf_data q, qpdf_oh h)
{
	return (uint64_t)(unsigned)qpdf_oh_get_object_id(q, h) << 32 |
	       (uint64_t)(unsigned)qpdf_oh_get_generation(q, h);
}

static int
key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool
set_has(const uint64_t *set, size_t n, qpdf_data q, qpdf_oh h)
{
	uint64_t k;

	if (n == 0 || !qpdf_oh_is_indirect(q, h))
		return false;
	k = obj_key(q, h);
	return bsearch(&k, set, n, sizeof(k), key_cmp) != NULL;
}

/* Appends h's object key to *set (growing it); false when out of memory or budget. */
static bool
set_add(struct diff *d, uint64_t **set, size_t *n, qpdf_data q, qpdf_oh h)
{
	uint64_t *ns;

	if (!qpdf_oh_is_indirect(q, h))
		return true;
	if (d->budget == 0)
		return false;
	d->budget--;
	/* Capacity doubles at 16, 32, 64...: grown when n reaches one of them. */
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		if ((ns = realloc(*set, (*n != 0 ? *n * 2 : 16) * sizeof(**set))) == NULL)
			return false;
		*set = ns;
	}
	(*set)[(*n)++] = obj_key(q, h);
	return true;
}

/* Adds the names a /DA string uses ("/Helv 12 Tf 0 g": /Helv) to d->da. */
static bool
da_collect(struct diff *d, qpdf_oh da)
{
	const char *t;
	size_t len = 0, i, k, have = d->da_len;
	char *nd;

	if (!qpdf_oh_is_string(d->qo, da) ||
	    (t = qpdf_oh_get_binary_string_value(d->qo, da, &len)) == NULL)
		return true;
	if (len > 4096) {
		d->da_unknown = true;
		return true;
	}
	/* Each byte copied at most once, with a separator after each name: 2 * len at most. */
	if ((nd = realloc(d->da, have + 2 * len + 3)) == NULL)
		return false;
	d->da = nd;
	if (have == 0)
		d->da[have++] = '\n';
	for (i = 0; i < len; i++) {
		if (t[i] != '/')
			continue;
		for (k = i; k < len && t[k] > ' ' && t[k] < 0x7f && (k == i || strchr("/[]()<>{}%", t[k]) == NULL); k++)
			d->da[have++] = t[k];
		d->da[have++] = '\n';
		i = k - 1;
	}
	d->da[have] = '\0';
	d->da_len = have;
	return true;
}

/* Whether a name (as a dictionary key: "/F9") is one the form's fields draw with. */
static bool
da_uses(const struct diff *d, const char *name)
{
	const char *p;
	size_t n = strlen(name);

	if (d->da_unknown)
		return true;
	for (p = d->da; p != NULL && (p = strstr(p, name)) != NULL; p += n) {
		if (p[-1] == '\n' && p[n] == '\n')
			return true;
	}
	return false;
}

static int
collect_one(qpdf_data q, qpdf_oh h, bool annot, void *arg)
{
	struct diff *d = arg;

	if (annot)
		return set_add(d, &d->annots, &d->nannots, q, h) ? 0 : INK_ERR_TOO_LARGE;
	return set_add(d, &d->fields, &d->nfields, q, h) &&
	       da_collect(d, pdfq_get(q, h, "/DA")) ? 0 : INK_ERR_TOO_LARGE;
}

/* Reads the signed revision's annotations (every page's /Annots), form fields (/Fields and
 * their /Kids) and /DA names, so that what an object is does not depend on what it says of
 * itself. Fields deeper than are followed are compared as plain data (no change at all), but
 * their /DA names are not known. */
static bool
collect(struct diff *d)
{
	bool deep;

	if (!da_collect(d, pdfq_get(d->qo, pdfq_get(d->qo, qpdf_get_root(d->qo), "/AcroForm"), "/DA")) ||
	    pdfq_each_field(d->qo, collect_one, d, &deep) != 0)
		return false;
	d->da_unknown = d->da_unknown || deep;
	if (d->nannots > 0)
		qsort(d->annots, d->nannots, sizeof(*d->annots), key_cmp);
	if (d->nfields > 0)
		qsort(d->fields, d->nfields, sizeof(*d->fields), key_cmp);
	return true;
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

	/* Flags are 32 bits (ISO 32000-2 12.5.3); readers ignore a larger value, so do we. */
	if (qpdf_oh_is_integer(q, f) && qpdf_oh_get_int_value(q, f) >= 0 &&
	    qpdf_oh_get_int_value(q, f) <= (long long)UINT32_MAX &&
	    (qpdf_oh_get_int_value(q, f) & (2 | 32)) != 0)
		return true;
	if (!qpdf_oh_is_array(q, r) || qpdf_oh_get_array_n_items(q, r) != 4)
		return false;
	for (i = 0; i < 4; i++)
		v[i] = qpdf_oh_get_numeric_value(q, qpdf_oh_get_array_item(q, r, i));
	return v[0] == v[2] || v[1] == v[3];
}

/* The keys a new signature field or its widget may have (ISO 32000-2 Tables 226, 228, 235,
 * 238): no actions (/A, /AA), no kids. */
static const char *const sig_field_keys[] = {
	"/Type", "/Subtype", "/FT", "/T", "/TU", "/TM", "/V", "/Rect", "/F", "/P", "/AP", "/AS",
	"/MK", "/Border", "/BS", "/DA", "/Q", "/Ff", "/Lock", "/SV", "/NM", "/M", "/StructParent",
	"/Contents", "/Parent",
};

/* The signature of the document whose dictionary is v, or NULL. */
static const struct pdf_sigref *
sig_of(struct diff *d, qpdf_oh v)
{
	int id;
	size_t i;

	if (!qpdf_oh_is_indirect(d->qn, v))
		return NULL;
	id = qpdf_oh_get_object_id(d->qn, v);
	for (i = 0; i < d->nsigs; i++) {
		if (d->sigs[i].id == id)
			return &d->sigs[i];
	}
	return NULL;
}

/* A new signature field (or widget, or a value given to an empty one) is permitted when it
 * holds a signature of this document made after the signed revision and claimed by no other
 * field (its own signature then covers its appearance), or when it is empty and shows nothing;
 * at DocMDP P=1 only a document time-stamp that shows nothing. Anything else new in /Annots
 * is an annotation (P=3), and anything else new in /Fields is refused. */
static void
judge_new_sig(struct diff *d, qpdf_oh n, const char *what)
{
	bool sig = pdfq_is_sig_field(d->qn, n), hidden = invisible(d->qn, n), dts;
	qpdf_oh v = pdfq_inherited(d->qn, n, "/V");
	const struct pdf_sigref *ref = sig_of(d, v);
	char **keys = NULL;
	size_t nkeys = 0, i, j;

	if (!sig) {
		if (qpdf_oh_is_dictionary(d->qn, n) && !pdfq_name_is(d->qn, n, "/Subtype", "/Widget") &&
		    qpdf_oh_has_key(d->qn, n, "/Subtype") && strcmp(what, "annotation") == 0)
			mod_add(d, d->perms->docmdp >= 3, "annotation added (%s)%s",
			        qpdf_oh_get_name(d->qn, pdfq_get(d->qn, n, "/Subtype")),
			        d->perms->docmdp >= 3 ? "" : ": annotations are not permitted (DocMDP P<3)");
		else
			mod_add(d, false, "%s added that is not a signature field", what);
		return;
	}
	if (keys_of(d->qn, n, &keys, &nkeys) != 0) {
		d->broken = true;
		return;
	}
	for (i = 0; i < nkeys; i++) {
		for (j = 0; j < INK_ARRAY_LEN(sig_field_keys); j++) {
			if (strcmp(keys[i], sig_field_keys[j]) == 0)
				break;
		}
		if (j == INK_ARRAY_LEN(sig_field_keys)) {
			mod_add(d, false, "%s added: a signature field with %s, which a signature field "
			        "may not carry", what, keys[i]);
			keys_free(keys, nkeys);
			return;
		}
	}
	keys_free(keys, nkeys);
	if (pdfq_null(d->qn, v)) {
		if (!hidden)
			mod_add(d, false, "%s added: an empty signature field with a visible appearance",
			        what);
		else
			mod_add(d, d->perms->docmdp >= 2, "%s added: an empty signature field%s", what,
			        d->perms->docmdp >= 2 ? "" : ", but DocMDP P=1 permits no change");
		return;
	}
	if (ref == NULL || ref->shared || ref->end <= d->end) {
		mod_add(d, false, "%s added: a signature field whose value is %s", what,
		        ref == NULL ? "not a signature of this document" :
		        ref->shared ? "a signature another field claims too" :
		                      "a signature made before this one");
		return;
	}
	/* A time-stamp authority vouches for no appearance: a document time-stamp shows nothing. */
	dts = pdfq_name_is(d->qn, v, "/Type", "/DocTimeStamp");
	if (dts && !hidden)
		mod_add(d, false, "%s added: a document time-stamp with a visible appearance", what);
	else if (dts || d->perms->docmdp >= 2)
		mod_add(d, true, "%s added: a %s%s", what, dts ? "document time-stamp" : "signature field",
		        dts || hidden ? "" : " (visible)");
	else
		mod_add(d, false, "%s added: a signature field, but DocMDP P=1 permits no change", what);
}

/* An entry of a list, for matching by object: (number, generation), or its place when direct. */
struct entry {
	int id, gen, at;
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	return x->id == 0 ? (x->at > y->at) - (x->at < y->at) : 0;
}

/* The entries of list h (an array, or nothing), sorted; NULL on failure (d->broken). */
static struct entry *
entries_of(struct diff *d, qpdf_data q, qpdf_oh h, int *cnt)
{
	struct entry *e;
	qpdf_oh it;
	int i, n = qpdf_oh_is_array(q, h) ? qpdf_oh_get_array_n_items(q, h) : 0;

	*cnt = 0;
	if ((size_t)n + 1 > d->budget) {
		mod_add(d, false, "the document is too large to compare");
		d->broken = true;
		return NULL;
	}
	d->budget -= (size_t)n;
	if ((e = calloc((size_t)n + 1, sizeof(*e))) == NULL) {
		d->broken = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		it = qpdf_oh_get_array_item(q, h, i);
		e[i].at = i;
		if (qpdf_oh_is_indirect(q, it)) {
			e[i].id = qpdf_oh_get_object_id(q, it);
			e[i].gen = qpdf_oh_get_generation(q, it);
		}
		qpdf_oh_release(q, it);
	}
	qsort(e, (size_t)n, sizeof(*e), entry_cmp);
	*cnt = n;
	return e;
}

/* /Annots, /Fields, /Kids: entries are matched by object, not by place (a direct entry by its
 * place). Entries of the signed revision stay (removing an annotation needs P=3); new ones are
 * judged by judge_new_sig. */
static void
compare_list(struct diff *d, qpdf_oh o, qpdf_oh n, enum dk elem, const char *what, int depth)
{
	struct entry *eo = NULL, *en = NULL, *kept = NULL;
	qpdf_oh a, b;
	size_t was;
	int no = 0, nn = 0, nkept = 0, i = 0, j = 0, c;

	if (!pdfq_null(d->qn, n) && !qpdf_oh_is_array(d->qn, n)) {
		mod_add(d, false, "was a list, now %s", type_name(d->qn, n));
		return;
	}
	if ((eo = entries_of(d, d->qo, o, &no)) == NULL || (en = entries_of(d, d->qn, n, &nn)) == NULL ||
	    (kept = calloc((size_t)no + 1, sizeof(*kept))) == NULL) {
		d->broken = true;
		goto out;
	}
	while ((i < no || j < nn) && !d->broken) {
		c = i == no ? 1 : j == nn ? -1 : entry_cmp(&eo[i], &en[j]);
		if (c == 0) {
			/* (place before, place now) of an entry kept */
			kept[nkept].id = eo[i].at;
			kept[nkept++].at = en[j].at;
			a = qpdf_oh_get_array_item(d->qo, o, eo[i].at);
			b = qpdf_oh_get_array_item(d->qn, n, en[j].at);
			was = path_push(d, "[%d]", en[j].at);
			compare(d, a, b, elem, depth + 1);
			path_pop(d, was);
			qpdf_oh_release(d->qo, a);
			qpdf_oh_release(d->qn, b);
			i++, j++;
		} else if (c < 0) {
			was = path_push(d, "[%d]", eo[i].at);
			mod_add(d, elem == DK_ANNOT && d->perms->docmdp >= 3,
			        "%s of the signed revision removed", what);
			path_pop(d, was);
			i++;
		} else {
			b = qpdf_oh_get_array_item(d->qn, n, en[j].at);
			was = path_push(d, "[%d]", en[j].at);
			judge_new_sig(d, b, what);
			path_pop(d, was);
			qpdf_oh_release(d->qn, b);
			j++;
		}
	}
	/* Annotations are drawn in their order: the ones kept stay in the order they had. */
	qsort(kept, (size_t)nkept, sizeof(*kept), entry_cmp);
	for (i = 1; i < nkept && !d->broken; i++) {
		if (kept[i].at < kept[i - 1].at) {
			mod_add(d, false, "%ss of the signed revision put in another order", what);
			break;
		}
	}
out:
	free(eo);
	free(en);
	free(kept);
}

/* What a key of a dictionary of kind is, and whether its value may change. */
enum key_rule {
	KR_COMPARE,    /* compare, as the child kind says */
	KR_FREE,       /* may change in any way (validation data) */
	KR_ADD,        /* entries may be added, none changed (the AcroForm's /DR) */
	KR_LIST,       /* a list of annotations or fields */
	KR_FILL,       /* a form field's value: form filling (P >= 2, not locked) */
	KR_FILL_AP,    /* a form field's appearance: with its value, where the field may be filled */
	KR_ANNOT,      /* an annotation's contents: P = 3 */
	KR_SIGN,       /* a signature field's value: may be set once, by signing */
	KR_SIGN_AP,    /* a signature field's appearance: only while it is being signed */
};

/* Whether a form field may not be filled in: read-only (/Ff bit 1) or a push-button (bit 17). */
static bool
fixed_field(qpdf_data q, qpdf_oh f)
{
	qpdf_oh ff = pdfq_inherited(q, f, "/Ff");
	long long v = qpdf_oh_is_integer(q, ff) ? qpdf_oh_get_int_value(q, ff) : 0;

	return (v & 1) != 0 || (pdfq_name_is(q, f, "/FT", "/Btn") && (v & (1 << 16)) != 0);
}

static enum key_rule
key_rule(struct diff *d, enum dk kind, qpdf_oh o, const char *key, enum dk *child)
{
	bool widget, sig;

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
	case DK_PAGE:
		/* A page inherits from its /Parent (ISO 32000-2 7.7.3.4): compared as a node. */
		if (strcmp(key, "/Kids") == 0 || strcmp(key, "/Parent") == 0)
			*child = DK_PAGES; /* each kid's kind is read from its /Type */
		if (kind == DK_PAGE && strcmp(key, "/Annots") == 0) {
			*child = DK_ANNOT;
			return KR_LIST;
		}
		return KR_COMPARE;
	case DK_ACROFORM:
		if (strcmp(key, "/Fields") == 0) {
			*child = DK_FIELD;
			return KR_LIST;
		}
		/* A new signature needs its flags and, for its appearance, fonts added to /DR; a
		 * changed /DR, /DA or /NeedAppearances would redraw fields already there. */
		if (strcmp(key, "/SigFlags") == 0)
			return KR_FREE;
		if (strcmp(key, "/DR") == 0)
			return KR_ADD;
		return KR_COMPARE;
	case DK_ANNOT:
	case DK_FIELD:
		widget = pdfq_name_is(d->qo, o, "/Subtype", "/Widget");
		/* What the field is, the signed revision says. */
		sig = pdfq_is_sig_field(d->qo, o);
		if (strcmp(key, "/P") == 0) {
			*child = DK_PAGE;
			return KR_COMPARE;
		}
		/* An annotation that is no widget is no field, whatever keys it carries. */
		if (kind == DK_ANNOT && !widget) {
			*child = DK_ANNOT; /* a pop-up's /Parent is its markup annotation */
			return strcmp(key, "/Parent") == 0 ? KR_COMPARE : KR_ANNOT;
		}
		if (strcmp(key, "/Kids") == 0) {
			*child = DK_FIELD;
			return KR_LIST;
		}
		if (strcmp(key, "/Parent") == 0) {
			*child = DK_FIELD;
			return KR_COMPARE;
		}
		if (strcmp(key, "/V") == 0)
			return sig ? KR_SIGN : KR_FILL;
		/* An appearance changes with a form field's value, or while a signature field is
		 * being signed; a signature's appearance stays as it was signed. */
		if (strcmp(key, "/AP") == 0)
			return sig ? KR_SIGN_AP : KR_FILL_AP;
		if (strcmp(key, "/AS") == 0)
			return sig ? KR_SIGN_AP : KR_FILL;
		return KR_COMPARE;
	default:
		return KR_COMPARE;
	}
}

/* /DR: every entry of the signed revision stays as it was (compared); entries may be added. */
static void
compare_additive(struct diff *d, qpdf_oh o, qpdf_oh n, int depth)
{
	char **ko = NULL, **kn = NULL;
	size_t no = 0, nn = 0, i, was;
	qpdf_oh a, b;
	bool added = false;

	if (!qpdf_oh_is_dictionary(d->qo, o) || !qpdf_oh_is_dictionary(d->qn, n) || depth > 4) {
		if (!pdfq_null(d->qo, o) || !qpdf_oh_is_dictionary(d->qn, n))
			compare(d, o, n, DK_OTHER, depth + 1);
		else
			mod_add(d, true, "resources added (for a new signature's appearance)");
		return;
	}
	if (keys_of(d->qo, o, &ko, &no) != 0 || keys_of(d->qn, n, &kn, &nn) != 0) {
		d->broken = true;
		goto out;
	}
	for (i = 0; i < no && !d->broken; i++) {
		a = qpdf_oh_get_key(d->qo, o, ko[i]);
		b = qpdf_oh_get_key(d->qn, n, ko[i]);
		was = path_push(d, "%s", ko[i]);
		if (qpdf_oh_is_dictionary(d->qo, a) && !qpdf_oh_is_indirect(d->qo, a))
			compare_additive(d, a, b, depth + 1);
		else
			compare(d, a, b, DK_OTHER, depth + 1);
		path_pop(d, was);
		qpdf_oh_release(d->qo, a);
		qpdf_oh_release(d->qn, b);
	}
	for (i = 0; i < nn; i++) {
		if (keys_has(ko, no, kn[i]))
			continue;
		/* A field without an appearance is drawn from its /DA with /DR's fonts: a name
		 * it uses, added now, would change what it shows. */
		if (da_uses(d, kn[i])) {
			was = path_push(d, "%s", kn[i]);
			mod_add(d, false, "resource added under a name the form's fields draw with");
			path_pop(d, was);
		} else {
			added = true;
		}
	}
	if (added)
		mod_add(d, true, "resources added (for a new signature's appearance)");
out:
	keys_free(ko, no);
	keys_free(kn, nn);
}

/* Whether the field's value (inherited) or its appearance state differs between revisions. */
static bool
value_changed(struct diff *d, qpdf_oh od, qpdf_oh nd, int depth)
{
	return differs(d, pdfq_inherited(d->qo, od, "/V"), pdfq_inherited(d->qn, nd, "/V"), depth) ||
	       differs(d, pdfq_get(d->qo, od, "/AS"), pdfq_get(d->qn, nd, "/AS"), depth);
}

static void
compare_key(struct diff *d, qpdf_oh od, qpdf_oh nd, const char *key, enum dk kind, int depth)
{
	qpdf_oh o = pdfq_get(d->qo, od, key), n = pdfq_get(d->qn, nd, key);
	enum dk child;
	enum key_rule rule = key_rule(d, kind, od, key, &child);
	bool allowed;
	size_t was = path_push(d, "%s", key);

	switch (rule) {
	case KR_COMPARE:
		compare(d, o, n, child, depth + 1);
		break;
	case KR_LIST:
		compare_list(d, o, n, child, child == DK_ANNOT ? "annotation" : "form field", depth);
		break;
	case KR_ADD:
		compare_additive(d, o, n, depth);
		break;
	case KR_SIGN:
		if (!pdfq_null(d->qo, pdfq_inherited(d->qo, od, "/V"))) {
			/* A signature already made stays as it was. */
			compare(d, o, n, DK_OTHER, depth + 1);
		} else if (!pdfq_null(d->qn, n)) {
			/* Signing an empty signature field. */
			judge_new_sig(d, nd, "signature");
		}
		break;
	case KR_SIGN_AP:
		/* Only an empty field being signed now (its new signature covers the appearance). */
		if (!differs(d, o, n, depth))
			break;
		allowed = pdfq_null(d->qo, pdfq_inherited(d->qo, od, "/V")) &&
		          sig_of(d, pdfq_inherited(d->qn, nd, "/V")) != NULL;
		if (allowed)
			judge_new_sig(d, nd, "appearance of a signature");
		else
			mod_add(d, false, "the appearance of a signature field changed without a new "
			        "signature in it");
		break;
	case KR_FREE:
	case KR_FILL:
	case KR_FILL_AP:
	case KR_ANNOT:
		if (!differs(d, o, n, depth))
			break;
		allowed = rule == KR_FREE || (rule == KR_ANNOT && d->perms->docmdp >= 3) ||
		          ((rule == KR_FILL || rule == KR_FILL_AP) && d->perms->docmdp >= 2 &&
		           !field_locked(d, od, nd) && !fixed_field(d->qo, od) &&
		           (rule == KR_FILL || value_changed(d, od, nd, depth)));
		mod_add(d, allowed, "%s", rule == KR_FREE ? (strcmp(key, "/DSS") == 0 ?
		                                             "validation data (DSS) added or changed" :
		                                             "changed (declarations only)") :
		        rule == KR_ANNOT ? (allowed ? "annotation changed" :
		                            "annotation changed: not permitted (DocMDP P<3)") :
		        allowed ? (rule == KR_FILL ? "form field filled in" :
		                   "form field's appearance changed with its value") :
		        rule == KR_FILL_AP ? "form field's appearance changed: not with its value, or "
		                             "the field may not be filled in" :
		        "form field changed: not permitted (DocMDP, a lock, or a read-only field)");
		break;
	}
	path_pop(d, was);
	/* Each lookup made a qpdf handle: given back, so memory follows the document, not the walk. */
	qpdf_oh_release(d->qo, o);
	qpdf_oh_release(d->qn, n);
}

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
	/* What an object is, the signed revision says, wherever it is reached from (a page named
	 * by /OpenAction is still a page; an annotation or field is one its pages or AcroForm
	 * list, whatever keys it has); a node of the page tree is a page or another node. A dry
	 * comparison (differs()) treats everything alike. */
	if (!d->dry && (kind == DK_OTHER || kind == DK_PAGES) && qpdf_oh_is_dictionary(d->qo, o)) {
		if (pdfq_name_is(d->qo, o, "/Type", "/Page"))
			kind = DK_PAGE;
		else if (pdfq_name_is(d->qo, o, "/Type", "/Pages"))
			kind = DK_PAGES;
		else if (kind == DK_OTHER && set_has(d->annots, d->nannots, d->qo, o))
			kind = DK_ANNOT;
		else if (kind == DK_OTHER && set_has(d->fields, d->nfields, d->qo, o))
			kind = DK_FIELD;
	}
	/* Only pairs of indirect objects can form a cycle; a direct object on either side is
	 * compared wherever it is met (it may differ from one place to another). */
	if (oi && ni && seen_check(d, qpdf_oh_get_object_id(d->qo, o), qpdf_oh_get_generation(d->qo, o),
	                           qpdf_oh_get_object_id(d->qn, n), qpdf_oh_get_generation(d->qn, n),
	                           (int)kind))
		return;
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
            const struct pdf_sigref *sigs, size_t nsigs, size_t *budget, json_t *mods,
            struct pdfdiff_result *res)
{
	struct diff d;

	memset(res, 0, sizeof(*res));
	memset(&d, 0, sizeof(d));
	d.qn = qn;
	d.perms = perms;
	d.sigs = sigs;
	d.nsigs = nsigs;
	d.end = end;
	d.mods = mods;
	d.budget = *budget;
	if ((d.qo = pdfq_open(pdf, end, false)) == NULL)
		return INK_ERR_INVALID;
	if (!collect(&d)) {
		mod_add(&d, false, "the signed revision is too large to read");
		d.broken = true;
	}
	compare(&d, qpdf_get_root(d.qo), qpdf_get_root(qn), DK_CATALOG, 0);
	if (d.listed < d.illegal + d.permitted)
		json_array_append_new(mods, json_pack("{s:s, s:s, s:b}", "where", "...", "change",
		                                      "more changes not listed", "permitted",
		                                      d.illegal == 0));
	res->illegal = d.illegal;
	res->complete = !d.broken;
	*budget = d.budget;
	free(d.seen);
	free(d.annots);
	free(d.fields);
	free(d.da);
	pdfq_close(&d.qo);
	return 0;
}
