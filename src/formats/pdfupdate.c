/* pdfupdate: writing an incremental update to a PDF (ISO 32000-1 7.5.6) — the original bytes
 * copied untouched, then new or changed objects, then a cross-reference section or stream like
 * the file's last one with /Prev to it. qpdf reads the original; the signature (pdf.c) and the
 * document security store (pdfdss.c) are written through this. */
#include "formats/formats_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PDF_COPY_BLOCK (1u << 20)
#define PDF_TAIL 2048
#define PDF_SIZE_MAX 8000000       /* object numbers a file may use (trailer /Size) */

char *
pdfu_unparse(qpdf_data q, qpdf_oh oh, bool resolved)
{
	const char *s = resolved ? qpdf_oh_unparse_resolved(q, oh) : qpdf_oh_unparse(q, oh);

	return s != NULL ? strdup(s) : NULL;
}

int
pdfu_dict_with(qpdf_data q, qpdf_oh dict, const char *key, const char *extra, const char *more,
               char **out)
{
	qpdf_oh arr;
	char *base = NULL, *item = NULL, *s = NULL, *ns;
	size_t len, cap, bl, i, n = 0;
	int r = INK_ERR_ALLOC;

	*out = NULL;
	cap = 256 + strlen(extra) + strlen(more);
	if ((s = malloc(cap)) == NULL)
		return INK_ERR_ALLOC;
	s[0] = '\0';
	if (key != NULL)
		snprintf(s, cap, " %s [", key);
	len = strlen(s);
	if (key != NULL && qpdf_oh_has_key(q, dict, key)) {
		arr = qpdf_oh_get_key(q, dict, key);
		if (qpdf_oh_is_array(q, arr))
			n = (size_t)qpdf_oh_get_array_n_items(q, arr);
		for (i = 0; i < n; i++) {
			if ((item = pdfu_unparse(q, qpdf_oh_get_array_item(q, arr, (int)i), false)) == NULL)
				goto out;
			if (len + strlen(item) + 2 > cap) {
				cap = 2 * (len + strlen(item) + 2);
				if ((ns = realloc(s, cap)) == NULL)
					goto out;
				s = ns;
			}
			len += (size_t)snprintf(s + len, cap - len, " %s", item);
			free(item);
			item = NULL;
		}
		qpdf_oh_remove_key(q, dict, key);
	}
	if ((base = pdfu_unparse(q, dict, true)) == NULL)
		goto out;
	bl = strlen(base);
	if (bl < 4 || strncmp(base, "<<", 2) != 0 || strcmp(base + bl - 2, ">>") != 0) {
		r = INK_ERR_INVALID;
		goto out;
	}
	base[bl - 2] = '\0';
	cap = bl + len + strlen(extra) + strlen(more) + 16;
	if ((ns = malloc(cap)) == NULL)
		goto out;
	snprintf(ns, cap, "%s%s%s%s%s%s >>", base, s, key != NULL ? " " : "", extra,
	         key != NULL ? " ]" : "", more);
	*out = ns;
	r = 0;
out:
	free(item);
	free(base);
	free(s);
	return r;
}

static bool
pdf_space(char c)
{
	return c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\f';
}

/* Whether s starts with an object's header: "N G obj". */
static bool
obj_header(const char *s)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
		if (!pdf_space(*s))
			return false;
		while (pdf_space(*s))
			s++;
	}
	/* the keyword ends there ("obj<<", "obj\n"), as a reader's tokenizer ends it */
	return strncmp(s, "obj", 3) == 0 &&
	       (s[3] == '\0' || pdf_space(s[3]) || strchr("<>[]()/%", s[3]) != NULL);
}

/* The last startxref of the file, and whether it points at a cross-reference stream. The last
 * occurrence of the word must be the keyword followed by an unsigned offset: a reader skips one
 * that is not ("startxref+1", "startxrefs 12", "startxref 12x") for an earlier one, and an
 * update chained to an offset no reader follows would not be read back. Refused, not guessed. */
static int
last_xref(int fd, uint64_t size, uint64_t *prev, bool *stream)
{
	char tail[PDF_TAIL + 1], head[32], *p, *q = NULL, *end;
	size_t want = size < PDF_TAIL ? (size_t)size : PDF_TAIL;
	unsigned long long v;
	ssize_t got;

	if (pread(fd, tail, want, (off_t)(size - want)) != (ssize_t)want)
		return INK_ERR_IO;
	tail[want] = '\0';
	for (p = tail; (p = memmem(p, want - (size_t)(p - tail), "startxref", 9)) != NULL; p += 9)
		q = p;
	if (q == NULL || !pdf_space(q[9]))
		return INK_ERR_INVALID;
	for (q += 9; pdf_space(*q); q++)
		;
	if (*q < '0' || *q > '9')
		return INK_ERR_INVALID;
	errno = 0;
	v = strtoull(q, &end, 10);
	if (errno != 0 || v >= size || (*end != '\0' && *end != '%' && !pdf_space(*end)))
		return INK_ERR_INVALID;
	memset(head, 0, sizeof(head));
	if ((got = pread(fd, head, sizeof(head) - 1, (off_t)v)) < 0)
		return INK_ERR_IO;
	if (got < 4)
		return INK_ERR_INVALID;
	*prev = v;
	*stream = memcmp(head, "xref", 4) != 0 || !pdf_space(head[4]);
	/* A table ("xref") or a stream's object ("12 0 obj"). */
	return !*stream || obj_header(head) ? 0 : INK_ERR_INVALID;
}

static int
copy_file(int in, FILE *out)
{
	uint8_t *blk = malloc(PDF_COPY_BLOCK);
	ssize_t n;
	int r = INK_ERR_IO;

	if (blk == NULL)
		return INK_ERR_ALLOC;
	if (lseek(in, 0, SEEK_SET) != 0)
		goto out;
	for (;;) {
		n = read(in, blk, PDF_COPY_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (fwrite(blk, 1, (size_t)n, out) != (size_t)n)
			goto out;
	}
	r = 0;
out:
	free(blk);
	return r;
}

int
pdfu_begin(struct pdfu *u, const char *in_path, const char *out_path)
{
	struct stat st;
	int size, r;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if ((u->fd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(u->fd, &st) != 0)
		return INK_ERR_IO;
	/* Readers take offsets from where the header is: anything before it would shift every
	 * offset this update writes against those the file's own sections mean. A header is
	 * "%PDF-" and a version (digits, '.', digits): a reader passes over a "%PDF-" without one
	 * ("%PDF-1x") for a later header, and takes offsets from there. */
	{
		char head[16];
		size_t i = 5, d;

		if (pread(u->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
		    memcmp(head, "%PDF-", 5) != 0)
			return INK_ERR_INVALID;
		for (d = i; i < sizeof(head) && head[i] >= '0' && head[i] <= '9'; i++)
			;
		if (i == d || i == sizeof(head) || head[i++] != '.')
			return INK_ERR_INVALID;
		for (d = i; i < sizeof(head) && head[i] >= '0' && head[i] <= '9'; i++)
			;
		if (i == d)
			return INK_ERR_INVALID;
	}
	if ((r = last_xref(u->fd, (uint64_t)st.st_size, &u->prev, &u->xstream)) != 0)
		return r;
	/* qpdf inflates cross-reference and object streams with no bound of its own. */
	{
		char why[256];

		if ((r = formats_pdf_precheck_fd(u->fd, why, sizeof(why))) != 0)
			return r;
	}
	if ((u->q = qpdf_init()) == NULL)
		return INK_ERR_ALLOC;
	qpdf_silence_errors(u->q);
	qpdf_set_suppress_warnings(u->q, QPDF_TRUE);
	/* A file qpdf must repair has no cross-reference chain to extend. */
	if (qpdf_read(u->q, in_path, NULL) != 0 || qpdf_more_warnings(u->q) || qpdf_is_encrypted(u->q) ||
	    !qpdf_oh_is_dictionary(u->q, qpdf_get_root(u->q)))
		return INK_ERR_INVALID;
	size = qpdf_oh_get_int_value_as_int(u->q, qpdf_oh_get_key(u->q, qpdf_get_trailer(u->q), "/Size"));
	if (size < 1 || size > PDF_SIZE_MAX)
		return INK_ERR_INVALID;
	u->next_id = size;
	if ((u->out_path = strdup(out_path)) == NULL)
		return INK_ERR_ALLOC;
	if ((u->f = fopen(out_path, "wbx")) == NULL) {
		free(u->out_path);
		u->out_path = NULL;   /* not ours: never removed */
		return errno == EEXIST ? INK_ERR_EXISTS : INK_ERR_IO;
	}
	if ((r = copy_file(u->fd, u->f)) != 0)
		return r;
	return fputc('\n', u->f) == EOF ? INK_ERR_IO : 0;
}

int
pdfu_new_id(struct pdfu *u)
{
	return u->next_id < PDF_SIZE_MAX ? u->next_id++ : -1;
}

int
pdfu_mark(struct pdfu *u, int id, int gen)
{
	struct pdf_obj *no;
	off_t at = ftello(u->f);
	size_t cap;

	if (at < 0 || id < 1)
		return INK_ERR_IO;
	if (u->nobj == u->cap) {
		cap = u->cap == 0 ? 16 : 2 * u->cap;
		if ((no = realloc(u->objs, cap * sizeof(*no))) == NULL)
			return INK_ERR_ALLOC;
		u->objs = no;
		u->cap = cap;
	}
	u->objs[u->nobj].id = id;
	u->objs[u->nobj].gen = gen;
	u->objs[u->nobj++].off = (uint64_t)at;
	return 0;
}

int
pdfu_obj(struct pdfu *u, int id, int gen, const char *text)
{
	int r;

	if ((r = pdfu_mark(u, id, gen)) != 0)
		return r;
	return fprintf(u->f, "%d %d obj\n%s\nendobj\n", id, gen, text) > 0 ? 0 : INK_ERR_IO;
}

int
pdfu_stream(struct pdfu *u, int id, const uint8_t *data, size_t len)
{
	int r;

	if ((r = pdfu_mark(u, id, 0)) != 0)
		return r;
	if (fprintf(u->f, "%d 0 obj\n<< /Length %zu >>\nstream\n", id, len) < 0 ||
	    fwrite(data, 1, len, u->f) != len || fprintf(u->f, "\nendstream\nendobj\n") < 0)
		return INK_ERR_IO;
	return 0;
}

/* The trailer entries that carry over: /Root, /Info, /ID, with /Size and /Prev. */
static int
trailer_keys(struct pdfu *u, int size, char **out)
{
	qpdf_data q = u->q;
	qpdf_oh trailer = qpdf_get_trailer(q), root = qpdf_get_root(q);
	char *info = NULL, *id = NULL, *s = NULL;
	size_t cap;
	int r = INK_ERR_ALLOC;

	*out = NULL;
	if (qpdf_oh_has_key(q, trailer, "/Info") &&
	    (info = pdfu_unparse(q, qpdf_oh_get_key(q, trailer, "/Info"), false)) == NULL)
		goto out;
	if (qpdf_oh_has_key(q, trailer, "/ID") &&
	    (id = pdfu_unparse(q, qpdf_oh_get_key(q, trailer, "/ID"), true)) == NULL)
		goto out;
	cap = 160 + (info != NULL ? strlen(info) : 0) + (id != NULL ? strlen(id) : 0);
	if ((s = malloc(cap)) == NULL)
		goto out;
	snprintf(s, cap, "/Size %d /Root %d %d R /Prev %llu%s%s%s%s", size,
	         qpdf_oh_get_object_id(q, root), qpdf_oh_get_generation(q, root),
	         (unsigned long long)u->prev, info != NULL ? " /Info " : "", info != NULL ? info : "",
	         id != NULL ? " /ID " : "", id != NULL ? id : "");
	*out = s;
	r = 0;
out:
	free(info);
	free(id);
	return r;
}

static int
cmp_obj(const void *a, const void *b)
{
	const struct pdf_obj *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* A cross-reference stream: type 1 rows of /W [1 4 2], itself included. */
static int
put_xref_stream(struct pdfu *u, int64_t at, const char *tkeys, int xref_id)
{
	uint8_t *rows = NULL;
	char *index = NULL;
	size_t i, il = 0, n = u->nobj;
	int r = INK_ERR_ALLOC;

	if ((uint64_t)at > 0xffffffffu)
		return INK_ERR_TOO_LARGE;
	if ((rows = calloc(n, 7)) == NULL || (index = malloc(n * 24 + 1)) == NULL)
		goto out;
	index[0] = '\0';
	for (i = 0; i < n; i++) {
		rows[7 * i] = 1;
		put_be(rows + 7 * i + 1, u->objs[i].off, 4);
		put_be(rows + 7 * i + 5, (uint64_t)u->objs[i].gen, 2);
		il += (size_t)snprintf(index + il, n * 24 + 1 - il, "%s%d 1", i > 0 ? " " : "",
		                       u->objs[i].id);
	}
	r = INK_ERR_IO;
	if (fprintf(u->f, "%d 0 obj\n<< /Type /XRef %s /W [1 4 2] /Index [%s] /Length %zu >>\nstream\r\n",
	            xref_id, tkeys, index, 7 * n) < 0 ||
	    fwrite(rows, 1, 7 * n, u->f) != 7 * n ||
	    fprintf(u->f, "\nendstream\nendobj\nstartxref\n%lld\n%%%%EOF\n", (long long)at) < 0)
		goto out;
	r = 0;
out:
	free(rows);
	free(index);
	return r;
}

int
pdfu_end(struct pdfu *u, uint64_t *size)
{
	char *tkeys = NULL;
	off_t at;
	size_t i;
	int xref_id = 0, r;

	*size = 0;
	/* qpdf reads objects when they are first used: damage found while the update was made
	 * (and repaired in memory only) leaves no cross-reference chain to extend either. */
	if (qpdf_more_warnings(u->q))
		return INK_ERR_INVALID;
	if ((at = ftello(u->f)) < 0)
		return INK_ERR_IO;
	if (u->xstream) {
		if ((xref_id = pdfu_new_id(u)) < 0)
			return INK_ERR_TOO_LARGE;
		if ((r = pdfu_mark(u, xref_id, 0)) != 0)
			return r;
	}
	qsort(u->objs, u->nobj, sizeof(*u->objs), cmp_obj);
	if ((r = trailer_keys(u, u->next_id, &tkeys)) != 0)
		return r;
	if (u->xstream) {
		r = put_xref_stream(u, (int64_t)at, tkeys, xref_id);
	} else {
		r = INK_ERR_IO;
		if (fprintf(u->f, "xref\n") < 0)
			goto out;
		for (i = 0; i < u->nobj; i++)
			if (fprintf(u->f, "%d 1\n%010llu %05d n \n", u->objs[i].id,
			            (unsigned long long)u->objs[i].off, u->objs[i].gen) < 0)
				goto out;
		if (fprintf(u->f, "trailer\n<< %s >>\nstartxref\n%lld\n%%%%EOF\n", tkeys,
		            (long long)at) < 0)
			goto out;
		r = 0;
	}
	if (r == 0 && (fflush(u->f) != 0 || (at = ftello(u->f)) < 0))
		r = INK_ERR_IO;
	if (r == 0)
		*size = (uint64_t)at;
out:
	free(tkeys);
	return r;
}

int
pdfu_close(struct pdfu *u)
{
	FILE *f = u->f;

	u->f = NULL;
	if (f == NULL || fsync(fileno(f)) != 0) {
		if (f != NULL)
			fclose(f);
		return INK_ERR_IO;
	}
	if (fclose(f) != 0)
		return INK_ERR_IO;
	free(u->out_path);   /* kept */
	u->out_path = NULL;
	return 0;
}

void
pdfu_free(struct pdfu *u)
{
	if (u->f != NULL)
		fclose(u->f);
	if (u->out_path != NULL)
		(void)unlink(u->out_path);
	free(u->out_path);
	free(u->objs);
	if (u->q != NULL)
		qpdf_cleanup(&u->q);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}
