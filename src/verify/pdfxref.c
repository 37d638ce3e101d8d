/* pdfxref: the incremental updates after a signed revision, checked byte by byte so that every
 * reader finds the objects the comparison (pdfdiff.c) compares. qpdf keys objects by number and
 * generation, prefers a cross-reference stream to a table, takes the last of repeated numbers in
 * an object stream; another reader (poppler) may rebuild its cross-reference by scanning the
 * bytes for "N G obj" as soon as anything does not match, and then reads other objects. So each
 * update must list exactly the objects it holds, at their headers, keep every generation, free
 * nothing and use no hybrid cross-reference (ISO 32000-2 7.5.4-7.5.8). Fail closed: what is not
 * understood is refused. */
#include "verify/verify_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Updates checked after one signature, entries in one update, subsections of a table. */
#define XREF_UPDATES_MAX 256
#define XREF_ENTRIES_MAX (1u << 20)
#define XREF_SUBSECTIONS_MAX 65536u
/* Object numbers, generations, decoded cross-reference and object stream headers. */
#define XREF_OBJNUM_MAX 8388607u
#define XREF_GEN_MAX 65535u
#define XREF_STREAM_MAX (32u << 20)
/* Objects (the /Size of each revision opened) qpdf is asked to index for one document's
 * updates, all opens together: each opening reads the whole cross-reference chain again. */
#define XREF_WORK_MAX 8000000u

/* One cross-reference entry: type 0 (free), 1 (at an offset) or 2 (in an object stream). */
struct xent {
	uint64_t f1;    /* type 1: offset; type 2: the object stream's number */
	uint32_t num;
	uint32_t f2;    /* type 1: generation; type 2: index in the object stream */
	uint8_t type;
};

/* An "N G obj" header found in the bytes. */
struct xhdr {
	uint64_t off;
	uint32_t num, gen;
};

/* One update: pdf[start, stop), its cross-reference at sx, read by qpdf as the prefix up to
 * stop (qcur) and compared with the revision before it (qprev, which ends at prev_sx). */
struct upd {
	const uint8_t *pdf;
	size_t len, start, stop;
	struct pdfxref_memo *m;
	uint64_t sx, prev_sx;
	qpdf_data qprev, qcur;
	struct xent *e;
	size_t n, cap;
	long long size;
	char why[256];  /* the first problem */
};

static bool INK_PRINTF(2, 3)
refuse(struct upd *u, const char *fmt, ...)
{
	va_list ap;

	if (u->why[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(u->why, sizeof(u->why), fmt, ap);
		va_end(ap);
	}
	return false;
}

/* PDF white-space, and \v: a reader rebuilding its cross-reference may take C's isspace(). */
static bool
xws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0' || c == '\v';
}

static bool
xdigit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* Reads decimal digits at pdf[*i..to) into *v (at most max); false when none or too large. */
static bool
read_uint(const uint8_t *pdf, size_t *i, size_t to, uint64_t max, uint64_t *v)
{
	size_t k = *i;

	for (*v = 0; k < to && xdigit(pdf[k]); k++) {
		*v = *v * 10 + (uint64_t)(pdf[k] - '0');
		if (*v > max)
			return false;
	}
	if (k == *i)
		return false;
	*i = k;
	return true;
}

static size_t
skip_ws(const uint8_t *pdf, size_t i, size_t to)
{
	while (i < to && xws(pdf[i]))
		i++;
	return i;
}

/* Offset just after the "startxref N" nearest before at (within [from, at)), and N; 0 if none,
 * or when that last one is no keyword followed by an offset ("startxref12", "startxref 12x"):
 * a reader skips such a word for an earlier "startxref", so the section it names is not the one
 * readers take. */
static size_t
last_startxref(const uint8_t *pdf, size_t from, size_t at, uint64_t *xref)
{
	const uint8_t *p, *best = NULL;
	size_t i;

	*xref = 0;
	for (p = pdf + from; (p = memmem(p, (size_t)(pdf + at - p), "startxref", 9)) != NULL; p++)
		best = p;
	i = best != NULL ? (size_t)(best - pdf) + 9 : at;
	if (i >= at || !xws(pdf[i]))
		return 0;
	i = skip_ws(pdf, i, at);
	if (!read_uint(pdf, &i, at, (uint64_t)1 << 48, xref) ||
	    (i < at && !xws(pdf[i]) && pdf[i] != '%')) {
		*xref = 0;
		return 0;
	}
	return i;
}

static bool
ent_add(struct upd *u, uint8_t type, uint32_t num, uint64_t f1, uint32_t f2)
{
	struct xent *ne;
	size_t cap;

	if (u->n == XREF_ENTRIES_MAX)
		return refuse(u, "lists more than %u objects", XREF_ENTRIES_MAX);
	if (u->n == u->cap) {
		cap = u->cap != 0 ? u->cap * 2 : 64;
		if ((ne = realloc(u->e, cap * sizeof(*ne))) == NULL)
			return refuse(u, "cannot be checked (out of memory)");
		u->e = ne;
		u->cap = cap;
	}
	u->e[u->n++] = (struct xent){ .type = type, .num = num, .f1 = f1, .f2 = f2 };
	return true;
}

/* An integer of a qpdf dictionary in [min, max]. */
static bool
dict_int(qpdf_data q, qpdf_oh d, const char *key, long long min, long long max, long long *v)
{
	qpdf_oh h = pdfq_get(q, d, key);
	bool ok = qpdf_oh_is_integer(q, h) && (*v = qpdf_oh_get_int_value(q, h)) >= min && *v <= max;

	qpdf_oh_release(q, h);
	return ok;
}

/* Whether h is a stream whose /Type is name ("/XRef"); its dictionary into *dict when it is. */
static bool
stream_of_type(qpdf_data q, qpdf_oh h, const char *name, qpdf_oh *dict)
{
	qpdf_oh d, t;
	bool yes;

	*dict = 0;
	if (!qpdf_oh_is_stream(q, h))
		return false;
	d = qpdf_oh_get_dict(q, h);
	t = qpdf_oh_get_key(q, d, "/Type");
	yes = qpdf_oh_is_name_and_equals(q, t, name);
	qpdf_oh_release(q, t);
	if (yes)
		*dict = d;
	else
		qpdf_oh_release(q, d);
	return yes;
}

/* What a trailer (or a cross-reference stream's dictionary) must say: /Size, /Prev pointing at
 * the revision before, no /XRefStm. */
static bool
trailer_check(struct upd *u, qpdf_oh d)
{
	long long prev;

	if (qpdf_oh_has_key(u->qcur, d, "/XRefStm"))
		return refuse(u, "is a hybrid file (/XRefStm): readers differ on which entries count");
	if (!dict_int(u->qcur, d, "/Size", 1, XREF_OBJNUM_MAX + 1, &u->size))
		return refuse(u, "has no valid /Size");
	if (!dict_int(u->qcur, d, "/Prev", 0, (long long)1 << 48, &prev) || (uint64_t)prev != u->prev_sx)
		return refuse(u, "has a /Prev that is not the previous revision's cross-reference");
	return true;
}

/* A classic table at sx: "xref", subsections "first count" of 20-byte entries, "trailer". */
static bool
table_read(struct upd *u)
{
	const uint8_t *pdf = u->pdf;
	size_t i = (size_t)u->sx + 4, subs = 0, k;
	uint64_t first, count, off, gen;
	const uint8_t *ent;
	qpdf_oh tr;
	bool ok;

	if (i >= u->stop || !xws(pdf[i]))
		return refuse(u, "has a malformed cross-reference table");
	for (;;) {
		i = skip_ws(pdf, i, u->stop);
		if (u->stop - i >= 7 && memcmp(pdf + i, "trailer", 7) == 0)
			break;
		if (++subs > XREF_SUBSECTIONS_MAX || !read_uint(pdf, &i, u->stop, XREF_OBJNUM_MAX, &first) ||
		    i >= u->stop || (pdf[i] != ' ' && pdf[i] != '\t'))
			return refuse(u, "has a malformed cross-reference table");
		while (i < u->stop && (pdf[i] == ' ' || pdf[i] == '\t'))
			i++;
		if (!read_uint(pdf, &i, u->stop, XREF_ENTRIES_MAX, &count) ||
		    first + count > (uint64_t)XREF_OBJNUM_MAX + 1)
			return refuse(u, "has a malformed cross-reference subsection");
		i = skip_ws(pdf, i, u->stop);
		if ((u->stop - i) / 20 < count)
			return refuse(u, "has a cross-reference table cut short");
		for (k = 0; k < count; k++, i += 20) {
			/* "oooooooooo ggggg n\r\n": exactly 20 bytes (ISO 32000-2 7.5.4). */
			ent = pdf + i;
			if (ent[10] != ' ' || ent[16] != ' ' || (ent[17] != 'n' && ent[17] != 'f') ||
			    !((ent[18] == ' ' && (ent[19] == '\r' || ent[19] == '\n')) ||
			      (ent[18] == '\r' && ent[19] == '\n')))
				return refuse(u, "has a malformed cross-reference entry at byte %zu", i);
			off = 0;
			gen = 0;
			for (size_t j = 0; j < 10; j++) {
				if (!xdigit(ent[j]))
					return refuse(u, "has a malformed cross-reference entry at byte %zu", i);
				off = off * 10 + (uint64_t)(ent[j] - '0');
			}
			for (size_t j = 11; j < 16; j++) {
				if (!xdigit(ent[j]))
					return refuse(u, "has a malformed cross-reference entry at byte %zu", i);
				gen = gen * 10 + (uint64_t)(ent[j] - '0');
			}
			if (gen > XREF_GEN_MAX ||
			    !ent_add(u, ent[17] == 'n' ? 1 : 0, (uint32_t)(first + k), off, (uint32_t)gen))
				return refuse(u, "has a malformed cross-reference entry at byte %zu", i);
		}
	}
	/* The trailer as qpdf read it: the prefix's newest, this one. */
	tr = qpdf_get_trailer(u->qcur);
	ok = trailer_check(u, tr);
	qpdf_oh_release(u->qcur, tr);
	return ok;
}

/* The "N G obj" header starting exactly at pdf[i]; false when there is none. */
static bool
header_at(const uint8_t *pdf, size_t i, size_t to, uint64_t *num, uint64_t *gen)
{
	if (!read_uint(pdf, &i, to, XREF_OBJNUM_MAX, num) || i >= to || !xws(pdf[i]))
		return false;
	i = skip_ws(pdf, i, to);
	if (!read_uint(pdf, &i, to, XREF_GEN_MAX, gen))
		return false;
	i = skip_ws(pdf, i, to);
	return to - i >= 3 && memcmp(pdf + i, "obj", 3) == 0;
}

/* Walks back from pdf[*k] over white-space (at least one byte if ws) and then over a number
 * (at least one digit), not below lo; false when they are not there. */
static bool
back_number(const uint8_t *pdf, size_t lo, size_t *k, bool ws)
{
	size_t i = *k;

	while (i > lo && xws(pdf[i - 1]))
		i--;
	if ((ws && i == *k) || i == lo || !xdigit(pdf[i - 1]))
		return false;
	while (i > lo && xdigit(pdf[i - 1]))
		i--;
	*k = i;
	return true;
}

/* The next "N G obj" header in pdf[lo, hi) from *from on: 1 with its offset and numbers, 0
 * when there is none, -1 (h->off set) for one whose numbers are out of range. "obj" is neither
 * white-space nor a digit, so each byte is walked back over at most once. */
static int
header_next(const uint8_t *pdf, size_t lo, size_t hi, size_t *from, struct xhdr *h)
{
	const uint8_t *p;
	uint64_t num, gen;
	size_t k;

	while (*from < hi && (p = memmem(pdf + *from, hi - *from, "obj", 3)) != NULL) {
		k = (size_t)(p - pdf);
		*from = k + 1;
		if (!back_number(pdf, lo, &k, false) || !back_number(pdf, lo, &k, true))
			continue;
		h->off = k;
		if (!header_at(pdf, k, hi, &num, &gen))
			return -1;
		h->num = (uint32_t)num;
		h->gen = (uint32_t)gen;
		return 1;
	}
	return 0;
}

static int
nz_cmp(const void *a, const void *b)
{
	const struct pdfxref_nz *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Whether the bytes before pdf[at] hold an "N G obj" header for num with a generation other
 * than 0: the headers of the whole file are scanned once for a document (m->nz). A number
 * qpdf does not know at generation 0 may then be one the revision holds at another. */
static bool
nz_before(struct pdfxref_memo *m, const uint8_t *pdf, size_t len, uint32_t num, size_t at)
{
	struct pdfxref_nz *nv, key = { .num = num, .off = 0 }, *e;
	struct xhdr h;
	size_t from = 0, lo, hi, mid;
	int r;

	if (m->nz_state == 0) {
		m->nz_state = 1;
		while ((r = header_next(pdf, 0, len, &from, &h)) != 0) {
			if (r < 0 || h.gen == 0)
				continue;
			if (m->nnz == m->nzcap) {
				m->nzcap = m->nzcap != 0 ? m->nzcap * 2 : 64;
				if (m->nzcap > XREF_ENTRIES_MAX ||
				    (nv = realloc(m->nz, m->nzcap * sizeof(*nv))) == NULL) {
					m->nz_state = -1;
					break;
				}
				m->nz = nv;
			}
			m->nz[m->nnz++] = (struct pdfxref_nz){ .num = h.num, .off = (size_t)h.off };
		}
		if (m->nnz > 0)
			qsort(m->nz, m->nnz, sizeof(*m->nz), nz_cmp);
	}
	if (m->nz_state < 0)
		return true;
	/* The first entry for num, the lowest offset. */
	for (lo = 0, hi = m->nnz; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if (nz_cmp(&m->nz[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	e = lo < m->nnz ? &m->nz[lo] : NULL;
	return e != NULL && e->num == num && e->off < at;
}

/* Big-endian field of w bytes. */
static uint64_t
be_field(const uint8_t *p, long long w)
{
	uint64_t v = 0;

	while (w-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* A cross-reference stream at sx (ISO 32000-2 7.5.8): the object qpdf reads for the header
 * there, its /W and /Index, its rows decoded by qpdf. */
static bool
xstream_read(struct upd *u)
{
	qpdf_oh s = 0, d = 0, w = 0, idx = 0, h;
	unsigned char *data = NULL;
	size_t dlen = 0, row, pos = 0, ni, k;
	uint64_t num, gen, type;
	long long W[3], first, count;
	QPDF_BOOL filtered = QPDF_FALSE;
	bool ok = false;
	int i;

	if (!header_at(u->pdf, (size_t)u->sx, u->stop, &num, &gen))
		return refuse(u, "has a startxref that points at neither a table nor an object");
	s = qpdf_get_object_by_id(u->qcur, (int)num, (int)gen);
	if (!stream_of_type(u->qcur, s, "/XRef", &d)) {
		refuse(u, "has a startxref that points at no cross-reference stream");
		goto out;
	}
	if (!trailer_check(u, d))
		goto out;
	w = pdfq_get(u->qcur, d, "/W");
	if (!qpdf_oh_is_array(u->qcur, w) || qpdf_oh_get_array_n_items(u->qcur, w) != 3) {
		refuse(u, "has a cross-reference stream without a valid /W");
		goto out;
	}
	for (i = 0; i < 3; i++) {
		h = qpdf_oh_get_array_item(u->qcur, w, i);
		W[i] = qpdf_oh_is_integer(u->qcur, h) ? qpdf_oh_get_int_value(u->qcur, h) : -1;
		qpdf_oh_release(u->qcur, h);
	}
	if (W[0] < 0 || W[0] > 1 || W[1] < 1 || W[1] > 8 || W[2] < 0 || W[2] > 4) {
		refuse(u, "has a cross-reference stream with /W [%lld %lld %lld]", W[0], W[1], W[2]);
		goto out;
	}
	row = (size_t)(W[0] + W[1] + W[2]);
	if ((qpdf_oh_get_stream_data(u->qcur, s, qpdf_dl_generalized, &filtered, &data, &dlen) &
	     QPDF_ERRORS) != 0 || !filtered || dlen > XREF_STREAM_MAX) {
		refuse(u, "has a cross-reference stream that cannot be decoded");
		goto out;
	}
	idx = pdfq_get(u->qcur, d, "/Index");
	ni = pdfq_null(u->qcur, idx) ? 0 : qpdf_oh_is_array(u->qcur, idx) ?
	     (size_t)qpdf_oh_get_array_n_items(u->qcur, idx) : 1;
	if (ni % 2 != 0 || ni / 2 > XREF_SUBSECTIONS_MAX) {
		refuse(u, "has a cross-reference stream with a malformed /Index");
		goto out;
	}
	for (k = 0; k == 0 || k < ni; k += 2) {
		if (ni == 0) {
			first = 0;
			count = u->size;
		} else {
			h = qpdf_oh_get_array_item(u->qcur, idx, (int)k);
			first = qpdf_oh_is_integer(u->qcur, h) ? qpdf_oh_get_int_value(u->qcur, h) : -1;
			qpdf_oh_release(u->qcur, h);
			h = qpdf_oh_get_array_item(u->qcur, idx, (int)k + 1);
			count = qpdf_oh_is_integer(u->qcur, h) ? qpdf_oh_get_int_value(u->qcur, h) : -1;
			qpdf_oh_release(u->qcur, h);
		}
		if (first < 0 || count < 0 || first > (long long)XREF_OBJNUM_MAX + 1 ||
		    count > (long long)XREF_OBJNUM_MAX + 1 - first ||
		    (uint64_t)count > (dlen - pos) / row) {
			refuse(u, "has a cross-reference stream whose /Index does not match its data");
			goto out;
		}
		for (i = 0; i < count; i++, pos += row) {
			type = W[0] == 0 ? 1 : data[pos];
			gen = be_field(data + pos + W[0] + W[1], W[2]);
			if (type > 2 || (type != 2 && gen > XREF_GEN_MAX) ||
			    !ent_add(u, (uint8_t)type, (uint32_t)(first + i), be_field(data + pos + W[0], W[1]),
			             (uint32_t)gen)) {
				refuse(u, "has a cross-reference stream entry of type %u", (unsigned)type);
				goto out;
			}
		}
		if (ni == 0)
			break;
	}
	if (pos != dlen) {
		refuse(u, "has a cross-reference stream with data its /Index does not list");
		goto out;
	}
	ok = true;
out:
	free(data);
	qpdf_oh_release(u->qcur, idx);
	qpdf_oh_release(u->qcur, w);
	qpdf_oh_release(u->qcur, d);
	qpdf_oh_release(u->qcur, s);
	return ok;
}

static int
ent_by_num(const void *a, const void *b)
{
	const struct xent *x = a, *y = b;

	return x->num < y->num ? -1 : x->num > y->num;
}

/* By type, then offset (type 1) or object stream (type 2), then generation or index. */
static int
ent_by_place(const void *a, const void *b)
{
	const struct xent *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->f1 != y->f1)
		return x->f1 < y->f1 ? -1 : 1;
	return x->f2 < y->f2 ? -1 : x->f2 > y->f2;
}

/* Rules 3 and 4 on entries: each number once, no free entry but object 0's, each in-use
 * entry at an "N G obj" header of this update with its number and generation, each header
 * listed, and each number the previous revision has kept at its generation. */
static bool
entries_check(struct upd *u)
{
	struct xhdr *hd = NULL, *nh, h;
	size_t nhd = 0, cap = 0, i, k, t1, from;
	uint64_t gen;
	long long psize = 0;
	qpdf_oh tr, oh;
	bool ok = false, known;
	int r;

	if (u->n > 0)
		qsort(u->e, u->n, sizeof(*u->e), ent_by_num);
	for (i = 0; i < u->n; i++) {
		if (i > 0 && u->e[i].num == u->e[i - 1].num)
			return refuse(u, "lists object %u twice", u->e[i].num);
		if ((long long)u->e[i].num >= u->size)
			return refuse(u, "lists object %u beyond its /Size", u->e[i].num);
		if (u->e[i].type == 0 && u->e[i].num != 0)
			return refuse(u, "frees object %u", u->e[i].num);
		if (u->e[i].type != 0 && u->e[i].num == 0)
			return refuse(u, "lists object 0 as in use");
	}
	/* Generations: what the previous revision holds for each number, as qpdf reads it. */
	tr = qpdf_get_trailer(u->qprev);
	if (!dict_int(u->qprev, tr, "/Size", 1, XREF_OBJNUM_MAX + 1, &psize))
		psize = 0;
	qpdf_oh_release(u->qprev, tr);
	for (i = 0; i < u->n; i++) {
		if (u->e[i].type == 0)
			continue;
		gen = u->e[i].type == 1 ? u->e[i].f2 : 0;
		oh = qpdf_get_object_by_id(u->qprev, (int)u->e[i].num, (int)gen);
		known = !pdfq_null(u->qprev, oh);
		qpdf_oh_release(u->qprev, oh);
		/* A number past the previous /Size is new, at any generation (pdfsig writes some
		 * at 1); one below it must be an object the previous revision has at this one, or
		 * one it never had or freed, taken at generation 0. */
		if (!known && (long long)u->e[i].num < psize &&
		    (gen != 0 || nz_before(u->m, u->pdf, u->len, u->e[i].num, u->start)))
			return refuse(u, "lists object %u with generation %u, which the previous revision "
			              "does not have for it (a generation changed, or a number freed or "
			              "unused taken again)", u->e[i].num, (unsigned)gen);
	}
	/* Every header in the update's bytes, stream data included: a reader rebuilding its
	 * cross-reference finds them all. */
	for (from = u->start; (r = header_next(u->pdf, u->start, u->stop, &from, &h)) != 0;) {
		if (r < 0) {
			refuse(u, "holds an object header at byte %llu whose numbers are out of range",
			       (unsigned long long)h.off);
			goto out;
		}
		if (nhd == cap) {
			cap = cap != 0 ? cap * 2 : 64;
			if (cap > XREF_ENTRIES_MAX + 1u || (nh = realloc(hd, cap * sizeof(*hd))) == NULL) {
				refuse(u, "holds too many object headers");
				goto out;
			}
			hd = nh;
		}
		hd[nhd++] = h;
	}
	/* Headers come in file order; type 1 entries sorted by offset must be the same list. */
	if (u->n > 0)
		qsort(u->e, u->n, sizeof(*u->e), ent_by_place);
	for (t1 = 0; t1 < u->n && u->e[t1].type != 1; t1++)
		;
	for (i = 0, k = t1; i < nhd || (k < u->n && u->e[k].type == 1); i++, k++) {
		if (i == nhd) {
			refuse(u, "lists object %u at byte %llu, where it has no \"%u %u obj\"",
			       u->e[k].num, (unsigned long long)u->e[k].f1, u->e[k].num, u->e[k].f2);
			goto out;
		}
		if (k == u->n || u->e[k].type != 1 || u->e[k].f1 != hd[i].off ||
		    u->e[k].num != hd[i].num || u->e[k].f2 != hd[i].gen) {
			refuse(u, "holds \"%u %u obj\" at byte %llu that its cross-reference does not "
			       "list there", hd[i].num, hd[i].gen, (unsigned long long)hd[i].off);
			goto out;
		}
	}
	ok = true;
out:
	free(hd);
	return ok;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Object stream s (ISO 32000-2 7.5.7) as qpdf decodes it: /N pairs "number offset" before
 * /First, numbers unique, offsets increasing. Its numbers into *nums (malloc'd, *n of them). */
static bool
objstm_read(struct upd *u, uint32_t s, uint32_t **nums, size_t *n)
{
	qpdf_oh h = qpdf_get_object_by_id(u->qcur, (int)s, 0), d = 0;
	unsigned char *data = NULL;
	size_t dlen = 0, i = 0, k, to;
	uint32_t *v = NULL, *sorted = NULL;
	uint64_t num, off, last = 0;
	long long N, first;
	QPDF_BOOL filtered = QPDF_FALSE;
	bool ok = false;

	*nums = NULL;
	*n = 0;
	if (!stream_of_type(u->qcur, h, "/ObjStm", &d) ||
	    !dict_int(u->qcur, d, "/N", 1, XREF_ENTRIES_MAX, &N) ||
	    !dict_int(u->qcur, d, "/First", 1, XREF_STREAM_MAX, &first) ||
	    (qpdf_oh_get_stream_data(u->qcur, h, qpdf_dl_generalized, &filtered, &data, &dlen) &
	     QPDF_ERRORS) != 0 || !filtered || dlen > XREF_STREAM_MAX || (size_t)first > dlen) {
		refuse(u, "uses object %u as an object stream, which it is not", s);
		goto out;
	}
	to = (size_t)first;
	if ((v = malloc((size_t)N * sizeof(*v))) == NULL ||
	    (sorted = malloc((size_t)N * sizeof(*v))) == NULL) {
		refuse(u, "cannot be checked (out of memory)");
		goto out;
	}
	for (k = 0; k < (size_t)N; k++) {
		i = skip_ws(data, i, to);
		if (!read_uint(data, &i, to, XREF_OBJNUM_MAX, &num) || i >= to || !xws(data[i]))
			break;
		i = skip_ws(data, i, to);
		if (!read_uint(data, &i, to, XREF_STREAM_MAX, &off) || (k > 0 && off <= last) ||
		    (i < to && !xws(data[i])))
			break;
		last = off;
		v[k] = sorted[k] = (uint32_t)num;
	}
	if (k < (size_t)N || skip_ws(data, i, to) != to) {
		refuse(u, "has an object stream (%u) with a malformed header", s);
		goto out;
	}
	qsort(sorted, (size_t)N, sizeof(*sorted), u32_cmp);
	for (k = 1; k < (size_t)N; k++) {
		if (sorted[k] == sorted[k - 1]) {
			refuse(u, "has an object stream (%u) that holds object %u twice", s, sorted[k]);
			goto out;
		}
	}
	*nums = v;
	*n = (size_t)N;
	v = NULL;
	ok = true;
out:
	free(data);
	free(v);
	free(sorted);
	qpdf_oh_release(u->qcur, d);
	qpdf_oh_release(u->qcur, h);
	return ok;
}

/* Rule 5: each compressed entry names its object at its index of an object stream with no
 * repeated number; each object stream this update adds holds only objects it gives there.
 * Each object stream is decoded once per use (entries sorted by stream). */
static bool
objstm_check(struct upd *u)
{
	struct xent *byn = NULL, key, *e;
	uint32_t *nums = NULL;
	size_t i, k, n = 0;
	qpdf_oh h, d;
	bool objstm, ok = false;

	if (u->n == 0)
		return true;
	if ((byn = malloc(u->n * sizeof(*byn))) == NULL)
		return refuse(u, "cannot be checked (out of memory)");
	memcpy(byn, u->e, u->n * sizeof(*byn));
	qsort(byn, u->n, sizeof(*byn), ent_by_num);
	qsort(u->e, u->n, sizeof(*u->e), ent_by_place);
	for (i = 0; i < u->n; i++) {
		e = &u->e[i];
		if (e->type == 2) {
			if (e->f1 == 0 || e->f1 > XREF_OBJNUM_MAX || e->f1 == e->num) {
				refuse(u, "puts object %u in no valid object stream", e->num);
				goto out;
			}
			if (i == 0 || u->e[i - 1].type != 2 || u->e[i - 1].f1 != e->f1) {
				free(nums);
				nums = NULL;
				if (!objstm_read(u, (uint32_t)e->f1, &nums, &n))
					goto out;
			}
			if (e->f2 >= n || nums[e->f2] != e->num) {
				refuse(u, "puts object %u at an index of object stream %llu that holds "
				       "another object", e->num, (unsigned long long)e->f1);
				goto out;
			}
			continue;
		}
		if (e->type != 1)
			continue;
		h = qpdf_get_object_by_id(u->qcur, (int)e->num, (int)e->f2);
		objstm = stream_of_type(u->qcur, h, "/ObjStm", &d);
		qpdf_oh_release(u->qcur, d);
		qpdf_oh_release(u->qcur, h);
		if (!objstm)
			continue;
		free(nums);
		nums = NULL;
		if (!objstm_read(u, e->num, &nums, &n))
			goto out;
		for (k = 0; k < n; k++) {
			struct xent *f;

			key.num = nums[k];
			f = bsearch(&key, byn, u->n, sizeof(*byn), ent_by_num);
			if (f == NULL || f->type != 2 || f->f1 != e->num || f->f2 != k) {
				refuse(u, "adds an object stream (%u) holding object %u that its "
				       "cross-reference does not give there", e->num, nums[k]);
				goto out;
			}
		}
		/* Its type 2 entries come after every type 1: it is decoded again for them. */
		free(nums);
		nums = NULL;
		n = 0;
	}
	ok = true;
out:
	free(nums);
	free(byn);
	return ok;
}

/* Checks one update; false with u->why set when it is refused. */
static bool
update_check(struct upd *u)
{
	const uint8_t *pdf = u->pdf;

	if (u->qcur == NULL)
		return refuse(u, "cannot be read without repair");
	if (u->stop - u->sx >= 4 && memcmp(pdf + u->sx, "xref", 4) == 0) {
		if (!table_read(u))
			return false;
	} else if (!xstream_read(u)) {
		return false;
	}
	if (!entries_check(u) || !objstm_check(u))
		return false;
	/* Rule 6 for what qpdf parsed here: a repeated key, anything it had to guess at. */
	if (qpdf_more_warnings(u->qcur))
		return refuse(u, "makes qpdf warn: %s",
		              qpdf_get_error_full_text(u->qcur, qpdf_next_warning(u->qcur)));
	return true;
}

/* The verdict on update pdf[start, stop) already reached for another signature, or NULL. A
 * signature's range may end after the end-of-line that follows %%EOF: the same update then
 * starts a few white-space bytes later. */
static struct pdfxref_seen *
memo_find(struct pdfxref_memo *m, const uint8_t *pdf, size_t start, size_t stop)
{
	size_t i, a, b;

	for (i = 0; i < m->n; i++) {
		if (m->v[i].stop != stop)
			continue;
		a = m->v[i].start < start ? m->v[i].start : start;
		b = m->v[i].start < start ? start : m->v[i].start;
		while (a < b && xws(pdf[a]))
			a++;
		if (a == b)
			return &m->v[i];
	}
	return NULL;
}

/* The revision pdf[0, n) read by qpdf, its /Size added to m's work: each opening indexes the
 * whole cross-reference chain again, so the work is bounded for the document. */
static qpdf_data
open_counted(struct pdfxref_memo *m, const uint8_t *pdf, size_t n)
{
	qpdf_data q = pdfq_open(pdf, n, false);
	long long size = 1;
	qpdf_oh tr;

	if (q != NULL) {
		tr = qpdf_get_trailer(q);
		if (!dict_int(q, tr, "/Size", 1, XREF_OBJNUM_MAX + 1, &size))
			size = 1;
		qpdf_oh_release(q, tr);
	}
	m->work += (uint64_t)size;
	return q;
}

/* Checks update pdf[start, stop) (its startxref sx, the previous revision's prev_sx) into a
 * new entry of m; *qprev is the prefix up to start when open, and becomes the one up to stop. */
static struct pdfxref_seen *
memo_check(struct pdfxref_memo *m, const uint8_t *pdf, size_t len, size_t start, size_t stop,
           uint64_t sx, uint64_t prev_sx, qpdf_data *qprev)
{
	struct pdfxref_seen *v, *nv;
	struct upd u;
	size_t cap;

	if (m->n == m->cap) {
		cap = m->cap != 0 ? m->cap * 2 : 16;
		if ((nv = realloc(m->v, cap * sizeof(*nv))) == NULL)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	v = &m->v[m->n++];
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->stop = stop;
	memset(&u, 0, sizeof(u));
	u.pdf = pdf;
	u.len = len;
	u.m = m;
	u.start = start;
	u.stop = stop;
	u.sx = sx;
	u.prev_sx = prev_sx;
	if (*qprev == NULL)
		*qprev = open_counted(m, pdf, start);
	u.qprev = *qprev;
	if (m->work > XREF_WORK_MAX) {
		refuse(&u, "is not checked: the document's revisions hold too many objects");
	} else if (u.qprev == NULL) {
		refuse(&u, "follows a revision that cannot be read");
	} else {
		u.qcur = open_counted(m, pdf, stop);
		(void)update_check(&u);
	}
	snprintf(v->why, sizeof(v->why), "%s", u.why);
	free(u.e);
	pdfq_close(qprev);
	*qprev = u.qcur;
	return v;
}

void
pdfxref_memo_free(struct pdfxref_memo *m)
{
	free(m->v);
	free(m->nz);
	memset(m, 0, sizeof(*m));
}

size_t
pdfxref_check(const uint8_t *pdf, size_t len, size_t end, struct pdfxref_memo *m,
              struct verify_issues *is)
{
	struct pdfxref_seen *v;
	const uint8_t *eof;
	size_t start = end, stop, k, nupd = 0, bad = 0;
	uint64_t sx = 0, prev_sx = 0;
	qpdf_data qprev = NULL;

	(void)last_startxref(pdf, 0, end, &prev_sx);
	while (start < len && bad == 0) {
		eof = memmem(pdf + start, len - start, "%%EOF", 5);
		stop = eof != NULL ? (size_t)(eof - pdf) + 5 : len;
		for (k = start; k < stop && xws(pdf[k]); k++)
			;
		if (k == stop) {
			start = stop;
			continue;
		}
		if (eof == NULL || last_startxref(pdf, start, stop, &sx) == 0 || sx < start || sx >= stop) {
			/* Ignored by a strict reader, shown by a repairing one. */
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "bytes %zu-%zu after this signature are not a revision of their own "
			          "(no cross-reference section): a repairing reader may show them", k, stop);
			bad++;
			break;
		}
		if (++nupd > XREF_UPDATES_MAX) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "more than %d updates after this signature: they are not checked",
			          XREF_UPDATES_MAX);
			bad++;
			break;
		}
		if ((v = memo_find(m, pdf, start, stop)) != NULL) {
			/* Checked for an earlier signature: the prefix up to start is not needed. */
			pdfq_close(&qprev);
		} else if ((v = memo_check(m, pdf, len, start, stop, sx, prev_sx, &qprev)) == NULL) {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "the updates after this signature could not be checked (out of memory)");
			bad++;
			break;
		}
		if (v->why[0] != '\0') {
			issue_add(is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
			          "the update at bytes %zu-%zu after this signature %s: a reader may show "
			          "something else than what is compared", start, stop, v->why);
			bad++;
		}
		prev_sx = sx;
		start = stop;
	}
	pdfq_close(&qprev);
	return bad;
}
