/* pdf: PAdES signing as an incremental update (ISO 32000-1 7.5.6, 12.8; ETSI EN 319 142-1).
 * qpdf reads the document (classic or stream cross-references, object streams); the update —
 * signature dictionary, signature field, changed page and catalog (or AcroForm), and a
 * cross-reference section or stream like the file's last one — is written here, after the
 * untouched original bytes. */
#include "formats/formats_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PDF_COPY_BLOCK (1u << 20)
#define PDF_TAIL 2048
#define PDF_CONTENTS_MAX (1u << 20)
#define PDF_BR_WIDTH 10            /* digits of each /ByteRange number */
#define PDF_NEW_OBJS 5             /* signature, field, page, catalog or AcroForm, xref stream */

struct formats_pdf {
	char *path;
	uint64_t size;                 /* of the new file */
	uint64_t contents_at;          /* offset of '<' of /Contents */
	uint64_t contents_end;         /* offset after '>' */
	uint64_t br_at;                /* offset of the /ByteRange array '[' */
	size_t br_len;                 /* bytes reserved for it */
};

struct pdf_obj {
	int id, gen;
	uint64_t off;
};

/* qpdf's text of an object, copied (qpdf reuses its buffer). */
static char *
unparse(qpdf_data q, qpdf_oh oh, bool resolved)
{
	const char *s = resolved ? qpdf_oh_unparse_resolved(q, oh) : qpdf_oh_unparse(q, oh);

	return s != NULL ? strdup(s) : NULL;
}

/* "<< ... >>" of dict without key, with " key [ items of the old array, extra ]" and more
 * added before the end; key NULL adds more alone. */
static int
dict_with_array(qpdf_data q, qpdf_oh dict, const char *key, const char *extra,
                const char *more, char **out)
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
			if ((item = unparse(q, qpdf_oh_get_array_item(q, arr, (int)i), false)) == NULL)
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
	if ((base = unparse(q, dict, true)) == NULL)
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

/* The last startxref of the file, and whether it points at a cross-reference stream. */
static int
last_xref(int fd, uint64_t size, uint64_t *prev, bool *stream)
{
	char tail[PDF_TAIL + 1], head[8], *p, *q = NULL, *end;
	size_t want = size < PDF_TAIL ? (size_t)size : PDF_TAIL;
	unsigned long long v;

	if (pread(fd, tail, want, (off_t)(size - want)) != (ssize_t)want)
		return INK_ERR_IO;
	tail[want] = '\0';
	for (p = tail; (p = memmem(p, want - (size_t)(p - tail), "startxref", 9)) != NULL; p += 9)
		q = p;
	if (q == NULL)
		return INK_ERR_INVALID;
	q += 9;
	while (*q == ' ' || *q == '\r' || *q == '\n')
		q++;
	errno = 0;
	v = strtoull(q, &end, 10);
	if (errno != 0 || end == q || v >= size)
		return INK_ERR_INVALID;
	if (pread(fd, head, 4, (off_t)v) != 4)
		return INK_ERR_IO;
	*prev = v;
	*stream = memcmp(head, "xref", 4) != 0;
	return 0;
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

static int
cmp_obj(const void *a, const void *b)
{
	const struct pdf_obj *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Writes "id gen obj\n<text>\nendobj\n" and records where it starts. */
static int
put_obj(FILE *f, struct pdf_obj *o, int id, int gen, const char *text)
{
	off_t at = ftello(f);

	if (at < 0)
		return INK_ERR_IO;
	o->id = id;
	o->gen = gen;
	o->off = (uint64_t)at;
	return fprintf(f, "%d %d obj\n%s\nendobj\n", id, gen, text) > 0 ? 0 : INK_ERR_IO;
}

/* The trailer entries that carry over: /Root, /Info, /ID, with /Size and /Prev. */
static int
trailer_keys(qpdf_data q, qpdf_oh trailer, int size, uint64_t prev, char **out)
{
	char *info = NULL, *id = NULL, *s = NULL;
	size_t cap;
	qpdf_oh root = qpdf_get_root(q);
	int r = INK_ERR_ALLOC;

	*out = NULL;
	if (qpdf_oh_has_key(q, trailer, "/Info") &&
	    (info = unparse(q, qpdf_oh_get_key(q, trailer, "/Info"), false)) == NULL)
		goto out;
	if (qpdf_oh_has_key(q, trailer, "/ID") &&
	    (id = unparse(q, qpdf_oh_get_key(q, trailer, "/ID"), true)) == NULL)
		goto out;
	cap = 160 + (info != NULL ? strlen(info) : 0) + (id != NULL ? strlen(id) : 0);
	if ((s = malloc(cap)) == NULL)
		goto out;
	snprintf(s, cap, "/Size %d /Root %d %d R /Prev %llu%s%s%s%s", size,
	         qpdf_oh_get_object_id(q, root), qpdf_oh_get_generation(q, root),
	         (unsigned long long)prev, info != NULL ? " /Info " : "", info != NULL ? info : "",
	         id != NULL ? " /ID " : "", id != NULL ? id : "");
	*out = s;
	r = 0;
out:
	free(info);
	free(id);
	return r;
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

/* The cross-reference section (or stream) for objs[0..n), then the trailer. */
static int
put_xref(FILE *f, struct pdf_obj *objs, size_t n, bool stream, int xref_id, const char *tkeys)
{
	off_t at = ftello(f);
	size_t i;
	uint8_t *rows = NULL;
	char index[PDF_NEW_OBJS * 24 + 8];
	size_t il = 0;
	int r = INK_ERR_IO;

	if (at < 0)
		return INK_ERR_IO;
	if (!stream) {
		qsort(objs, n, sizeof(*objs), cmp_obj);
		if (fprintf(f, "xref\n") < 0)
			return INK_ERR_IO;
		for (i = 0; i < n; i++)
			if (fprintf(f, "%d 1\n%010llu %05d n \n", objs[i].id,
			            (unsigned long long)objs[i].off, objs[i].gen) < 0)
				return INK_ERR_IO;
		if (fprintf(f, "trailer\n<< %s >>\nstartxref\n%lld\n%%%%EOF\n", tkeys, (long long)at) < 0)
			return INK_ERR_IO;
		return 0;
	}
	/* A cross-reference stream: type 1 rows of /W [1 4 2], itself included. */
	if ((uint64_t)at > 0xffffffffu)
		return INK_ERR_TOO_LARGE;
	objs[n].id = xref_id;
	objs[n].gen = 0;
	objs[n].off = (uint64_t)at;
	n++;
	qsort(objs, n, sizeof(*objs), cmp_obj);
	if ((rows = calloc(n, 7)) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		rows[7 * i] = 1;
		put_be(rows + 7 * i + 1, objs[i].off, 4);
		put_be(rows + 7 * i + 5, (uint64_t)objs[i].gen, 2);
		il += (size_t)snprintf(index + il, sizeof(index) - il, "%s%d 1", i > 0 ? " " : "",
		                       objs[i].id);
	}
	if (fprintf(f, "%d 0 obj\n<< /Type /XRef %s /W [1 4 2] /Index [%s] /Length %zu >>\nstream\r\n",
	            xref_id, tkeys, index, 7 * n) < 0 ||
	    fwrite(rows, 1, 7 * n, f) != 7 * n ||
	    fprintf(f, "\nendstream\nendobj\nstartxref\n%lld\n%%%%EOF\n", (long long)at) < 0)
		goto out;
	r = 0;
out:
	free(rows);
	return r;
}

bool
formats_is_pdf(const char *path)
{
	char head[5];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = false;

	if (fd < 0)
		return false;
	yes = read(fd, head, 5) == 5 && memcmp(head, "%PDF-", 5) == 0;
	close(fd);
	return yes;
}

int
formats_pdf_prepare(const char *in_path, const char *out_path, size_t contents_max, int64_t when,
                    struct formats_pdf **out)
{
	struct formats_pdf *p = NULL;
	qpdf_data q = NULL;
	qpdf_oh trailer, root, page, acro;
	struct pdf_obj objs[PDF_NEW_OBJS];
	struct stat st;
	uint64_t prev = 0;
	bool xstream = false;
	int fd = -1, size, sig_id, field_id, nfields = 0, npages = 0, r = INK_ERR_INVALID;
	char *page_txt = NULL, *cat_txt = NULL, *acro_txt = NULL, *tkeys = NULL;
	char field[512], ref[48], pref[48] = "", date[40], *zeros = NULL;
	size_t nobj = 0;
	FILE *f = NULL;
	struct tm tm;
	time_t t = (time_t)when;
	off_t at;

	*out = NULL;
	if (contents_max == 0 || contents_max > PDF_CONTENTS_MAX)
		return INK_ERR_INVALID;
	if ((fd = open(in_path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		r = INK_ERR_IO;
		goto out;
	}
	if ((r = last_xref(fd, (uint64_t)st.st_size, &prev, &xstream)) != 0)
		goto out;
	r = INK_ERR_INVALID;
	if ((q = qpdf_init()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	/* A file qpdf must repair has no cross-reference chain to extend. */
	if (qpdf_read(q, in_path, NULL) != 0 || qpdf_more_warnings(q) || qpdf_is_encrypted(q))
		goto out;
	trailer = qpdf_get_trailer(q);
	root = qpdf_get_root(q);
	if (!qpdf_oh_is_dictionary(q, root) || (npages = qpdf_get_num_pages(q)) < 0 ||
	    (size = qpdf_oh_get_int_value_as_int(q, qpdf_oh_get_key(q, trailer, "/Size"))) < 1 ||
	    size > 8000000)
		goto out;
	/* The field's widget goes on the first page; a document without pages gets the field alone. */
	page = npages > 0 ? qpdf_get_page_n(q, 0) : 0;
	sig_id = size;
	field_id = size + 1;
	/* The catalog gets the AcroForm with the new field; an indirect AcroForm is changed alone. */
	acro = qpdf_oh_get_key(q, root, "/AcroForm");
	if (qpdf_oh_is_dictionary(q, acro) && qpdf_oh_has_key(q, acro, "/Fields") &&
	    qpdf_oh_is_array(q, qpdf_oh_get_key(q, acro, "/Fields")))
		nfields = qpdf_oh_get_array_n_items(q, qpdf_oh_get_key(q, acro, "/Fields"));
	snprintf(ref, sizeof(ref), "%d 0 R", field_id);
	if (qpdf_oh_is_dictionary(q, acro)) {
		qpdf_oh_remove_key(q, acro, "/SigFlags");
		if ((r = dict_with_array(q, acro, "/Fields", ref, " /SigFlags 3", &acro_txt)) != 0)
			goto out;
	} else {
		if (!qpdf_oh_is_null(q, acro))
			goto out;
		if ((acro_txt = malloc(128)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		snprintf(acro_txt, 128, "<< /Fields [ %s ] /SigFlags 3 >>", ref);
	}
	if (!qpdf_oh_is_dictionary(q, acro) || !qpdf_oh_is_indirect(q, acro)) {
		size_t cap = strlen(acro_txt) + 32;
		char *more = malloc(cap);

		if (more == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		snprintf(more, cap, " /AcroForm %s", acro_txt);
		qpdf_oh_remove_key(q, root, "/AcroForm");
		r = dict_with_array(q, root, NULL, "", more, &cat_txt);
		free(more);
		if (r != 0)
			goto out;
	}
	if (npages > 0) {
		if ((r = dict_with_array(q, page, "/Annots", ref, "", &page_txt)) != 0)
			goto out;
		snprintf(pref, sizeof(pref), " /P %d %d R", qpdf_oh_get_object_id(q, page),
		         qpdf_oh_get_generation(q, page));
	}
	snprintf(field, sizeof(field),
	         "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature%d) /V %d 0 R%s "
	         "/Rect [0 0 0 0] /F 132 >>", nfields + 1, sig_id, pref);
	if (gmtime_r(&t, &tm) == NULL)
		goto out;
	strftime(date, sizeof(date), "D:%Y%m%d%H%M%S+00'00'", &tm);
	if ((r = trailer_keys(q, trailer, size + (xstream ? 3 : 2), prev, &tkeys)) != 0)
		goto out;

	/* The new file: the original bytes, then the update. */
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(out_path)) == NULL ||
	    (zeros = malloc(2 * contents_max + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memset(zeros, '0', 2 * contents_max);
	zeros[2 * contents_max] = '\0';
	r = INK_ERR_IO;
	if ((f = fopen(out_path, "wbx")) == NULL) {
		r = errno == EEXIST ? INK_ERR_EXISTS : INK_ERR_IO;
		goto out;
	}
	if ((r = copy_file(fd, f)) != 0 || fputc('\n', f) == EOF)
		goto out;
	r = INK_ERR_IO;
	if ((at = ftello(f)) < 0)
		goto out;
	objs[nobj].id = sig_id;
	objs[nobj].gen = 0;
	objs[nobj++].off = (uint64_t)at;
	if (fprintf(f, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
	            "/M (%s) /ByteRange ", sig_id, date) < 0 || (at = ftello(f)) < 0)
		goto out;
	p->br_at = (uint64_t)at;
	p->br_len = 4 * (PDF_BR_WIDTH + 1) + 1;
	if (fprintf(f, "%*s /Contents ", (int)p->br_len, "") < 0 || (at = ftello(f)) < 0)
		goto out;
	p->contents_at = (uint64_t)at;
	if (fprintf(f, "<%s>", zeros) < 0 || (at = ftello(f)) < 0)
		goto out;
	p->contents_end = (uint64_t)at;
	if (fprintf(f, " >>\nendobj\n") < 0)
		goto out;
	if ((r = put_obj(f, &objs[nobj++], field_id, 0, field)) != 0)
		goto out;
	if (page_txt != NULL && (r = put_obj(f, &objs[nobj++], qpdf_oh_get_object_id(q, page),
	                                     qpdf_oh_get_generation(q, page), page_txt)) != 0)
		goto out;
	if (cat_txt != NULL)
		r = put_obj(f, &objs[nobj++], qpdf_oh_get_object_id(q, root),
		            qpdf_oh_get_generation(q, root), cat_txt);
	else
		r = put_obj(f, &objs[nobj++], qpdf_oh_get_object_id(q, acro),
		            qpdf_oh_get_generation(q, acro), acro_txt);
	if (r != 0 || (r = put_xref(f, objs, nobj, xstream, size + 2, tkeys)) != 0)
		goto out;
	r = INK_ERR_IO;
	if (fflush(f) != 0 || (at = ftello(f)) < 0)
		goto out;
	p->size = (uint64_t)at;
	/* /ByteRange [0 a b c], padded in its reserved space. */
	{
		char br[4 * (PDF_BR_WIDTH + 1) + 2];
		int n = snprintf(br, sizeof(br), "[0 %llu %llu %llu]", (unsigned long long)p->contents_at,
		                 (unsigned long long)p->contents_end,
		                 (unsigned long long)(p->size - p->contents_end));

		if (n < 0 || (size_t)n > p->br_len)
			goto out;
		memset(br + n, ' ', p->br_len - (size_t)n);
		if (fseeko(f, (off_t)p->br_at, SEEK_SET) != 0 || fwrite(br, 1, p->br_len, f) != p->br_len)
			goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		goto out;
	}
	f = NULL;
	*out = p;
	p = NULL;
	r = 0;
out:
	if (f != NULL) {
		fclose(f);
		(void)unlink(out_path);
	} else if (r != 0 && p != NULL && p->path != NULL && r != INK_ERR_EXISTS) {
		(void)unlink(out_path);
	}
	free(zeros);
	free(page_txt);
	free(cat_txt);
	free(acro_txt);
	free(tkeys);
	if (q != NULL)
		qpdf_cleanup(&q);
	if (fd >= 0)
		close(fd);
	formats_pdf_free(p);
	return r;
}

void
formats_pdf_byte_range(const struct formats_pdf *p, uint64_t br[static 4])
{
	br[0] = 0;
	br[1] = p->contents_at;
	br[2] = p->contents_end;
	br[3] = p->size - p->contents_end;
}

/* Feeds [from, to) of fd into ctx. */
static int
hash_range(int fd, EVP_MD_CTX *ctx, uint8_t *blk, uint64_t from, uint64_t to,
           formats_progress_fn progress, void *arg, uint64_t *done, uint64_t total)
{
	ssize_t n;
	size_t want;

	while (from < to) {
		want = to - from < PDF_COPY_BLOCK ? (size_t)(to - from) : PDF_COPY_BLOCK;
		n = pread(fd, blk, want, (off_t)from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return INK_ERR_IO;
		if (EVP_DigestUpdate(ctx, blk, (size_t)n) != 1)
			return INK_ERR_CRYPTO;
		from += (uint64_t)n;
		*done += (uint64_t)n;
		if (progress != NULL)
			progress(arg, *done, total);
	}
	return 0;
}

int
formats_pdf_digest(struct formats_pdf *p, formats_progress_fn progress, void *arg,
                   uint8_t md[static FORMATS_SHA256_LEN])
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *blk = NULL;
	uint64_t done = 0, total = p->size - (p->contents_end - p->contents_at);
	unsigned mdlen = 0;
	int fd = -1, r = INK_ERR_ALLOC;

	if ((blk = malloc(PDF_COPY_BLOCK)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	r = INK_ERR_IO;
	if ((fd = open(p->path, O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	if ((r = hash_range(fd, ctx, blk, 0, p->contents_at, progress, arg, &done, total)) != 0 ||
	    (r = hash_range(fd, ctx, blk, p->contents_end, p->size, progress, arg, &done, total)) != 0)
		goto out;
	r = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 ? 0 : INK_ERR_CRYPTO;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	free(blk);
	return r;
}

int
formats_pdf_embed(struct formats_pdf *p, const uint8_t *cms, size_t len)
{
	char *hex = NULL;
	int fd = -1, r = INK_ERR_TOO_LARGE;

	if (2 * len > p->contents_end - p->contents_at - 2)
		return r;
	if ((hex = malloc(2 * len + 1)) == NULL)
		return INK_ERR_ALLOC;
	hex_encode(cms, len, hex);
	r = INK_ERR_IO;
	if ((fd = open(p->path, O_WRONLY | O_CLOEXEC)) < 0)
		goto out;
	if (pwrite(fd, hex, 2 * len, (off_t)p->contents_at + 1) != (ssize_t)(2 * len) || fsync(fd) != 0)
		goto out;
	r = 0;
out:
	if (fd >= 0 && close(fd) != 0 && r == 0)
		r = INK_ERR_IO;
	free(hex);
	return r;
}

void
formats_pdf_free(struct formats_pdf *p)
{
	if (p == NULL)
		return;
	free(p->path);
	free(p);
}
