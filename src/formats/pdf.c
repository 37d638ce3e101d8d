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
#define PDF_CONTENTS_MAX (1u << 20)
#define PDF_BR_WIDTH 10            /* digits of each /ByteRange number */

struct formats_pdf {
	char *path;
	uint64_t size;                 /* of the new file */
	uint64_t contents_at;          /* offset of '<' of /Contents */
	uint64_t contents_end;         /* offset after '>' */
	uint64_t br_at;                /* offset of the /ByteRange array '[' */
	size_t br_len;                 /* bytes reserved for it */
};

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

/* The signature field's new widget and the objects it changes: the first page's /Annots,
 * and the catalog's /AcroForm (or an indirect AcroForm alone). */
static int
field_objects(struct pdfu *u, int sig_id, int field_id, const struct formats_pdf_opts *o)
{
	qpdf_data q = u->q;
	qpdf_oh root = qpdf_get_root(q), page = 0, acro;
	char *page_txt = NULL, *cat_txt = NULL, *acro_txt = NULL, *more = NULL;
	char field[640], ref[48], pref[48] = "", rect[160] = "/Rect [0 0 0 0]";
	const struct formats_pdf_visible *v = o->visible;
	int npages, nfields = 0, ap = 0, r = INK_ERR_INVALID;
	size_t cap;

	if ((npages = qpdf_get_num_pages(q)) < 0)
		return INK_ERR_INVALID;
	/* The field's widget goes on the first page (a visible one on its page); a document
	 * without pages gets the field alone. */
	if (v != NULL) {
		if (v->page < 1 || v->page > npages || !(v->w >= 1 && v->w <= 14400) ||
		    !(v->h >= 1 && v->h <= 14400) || !(v->x >= -14400 && v->x <= 14400) ||
		    !(v->y >= -14400 && v->y <= 14400))
			return INK_ERR_INVALID;
		if ((r = pdf_appearance(u, v, &ap)) != 0)
			return r;
		snprintf(rect, sizeof(rect), "/Rect [%.2f %.2f %.2f %.2f] /AP << /N %d 0 R >>", v->x,
		         v->y, v->x + v->w, v->y + v->h, ap);
		page = qpdf_get_page_n(q, (size_t)(v->page - 1));
	} else if (npages > 0) {
		page = qpdf_get_page_n(q, 0);
	}
	acro = qpdf_oh_get_key(q, root, "/AcroForm");
	if (qpdf_oh_is_dictionary(q, acro) && qpdf_oh_has_key(q, acro, "/Fields") &&
	    qpdf_oh_is_array(q, qpdf_oh_get_key(q, acro, "/Fields")))
		nfields = qpdf_oh_get_array_n_items(q, qpdf_oh_get_key(q, acro, "/Fields"));
	snprintf(ref, sizeof(ref), "%d 0 R", field_id);
	if (qpdf_oh_is_dictionary(q, acro)) {
		qpdf_oh_remove_key(q, acro, "/SigFlags");
		if ((r = pdfu_dict_with(q, acro, "/Fields", ref, " /SigFlags 3", &acro_txt)) != 0)
			goto out;
	} else {
		if (!qpdf_oh_is_null(q, acro))
			goto out;
		r = INK_ERR_ALLOC;
		if ((acro_txt = malloc(128)) == NULL)
			goto out;
		snprintf(acro_txt, 128, "<< /Fields [ %s ] /SigFlags 3 >>", ref);
	}
	if (!qpdf_oh_is_dictionary(q, acro) || !qpdf_oh_is_indirect(q, acro)) {
		cap = strlen(acro_txt) + 32;
		r = INK_ERR_ALLOC;
		if ((more = malloc(cap)) == NULL)
			goto out;
		snprintf(more, cap, " /AcroForm %s", acro_txt);
		qpdf_oh_remove_key(q, root, "/AcroForm");
		if ((r = pdfu_dict_with(q, root, NULL, "", more, &cat_txt)) != 0)
			goto out;
	}
	if (npages > 0) {
		if ((r = pdfu_dict_with(q, page, "/Annots", ref, "", &page_txt)) != 0)
			goto out;
		snprintf(pref, sizeof(pref), " /P %d %d R", qpdf_oh_get_object_id(q, page),
		         qpdf_oh_get_generation(q, page));
	}
	snprintf(field, sizeof(field),
	         "<< /Type /Annot /Subtype /Widget /FT /Sig /T (%s%d) /V %d 0 R%s %s /F 132 >>",
	         o->doc_timestamp ? "DocTimeStamp" : "Signature", nfields + 1, sig_id, pref, rect);
	if ((r = pdfu_obj(u, field_id, 0, field)) != 0)
		goto out;
	if (page_txt != NULL && (r = pdfu_obj(u, qpdf_oh_get_object_id(q, page),
	                                      qpdf_oh_get_generation(q, page), page_txt)) != 0)
		goto out;
	if (cat_txt != NULL)
		r = pdfu_obj(u, qpdf_oh_get_object_id(q, root), qpdf_oh_get_generation(q, root), cat_txt);
	else
		r = pdfu_obj(u, qpdf_oh_get_object_id(q, acro), qpdf_oh_get_generation(q, acro), acro_txt);
out:
	free(more);
	free(page_txt);
	free(cat_txt);
	free(acro_txt);
	return r;
}

/* " /Key <FEFF...>": UTF-8 text as a PDF text string (UTF-16BE, ISO 32000-1 7.9.2.2), at most
 * 256 code points; "" for NULL. malloc'd. */
static char *
text_entry(const char *key, const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	char *out;
	size_t n = 0, cap;
	uint32_t c;
	int k;

	if (utf8 == NULL)
		return strdup("");
	cap = strlen(key) + 16 + 256 * 8;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	n = (size_t)snprintf(out, cap, " %s <FEFF", key);
	for (k = 0; *s != '\0' && k < 256; k++) {
		c = pdf_utf8_next(&s);
		if (c < 0x20)
			c = 0xfffd;
		if (c > 0xffff)
			n += (size_t)snprintf(out + n, cap - n, "%04X%04X",
			                      (unsigned)(0xd800 + ((c - 0x10000) >> 10)),
			                      (unsigned)(0xdc00 + ((c - 0x10000) & 0x3ff)));
		else
			n += (size_t)snprintf(out + n, cap - n, "%04X", (unsigned)c);
	}
	snprintf(out + n, cap - n, ">");
	return out;
}

int
formats_pdf_prepare(const char *in_path, const char *out_path, const struct formats_pdf_opts *o,
                    struct formats_pdf **out)
{
	struct formats_pdf *p = NULL;
	struct pdfu u;
	int sig_id, field_id, r;
	char date[40] = "", *zeros = NULL, *name = NULL, *reason = NULL;
	struct tm tm;
	time_t t = (time_t)o->when;
	off_t at;

	*out = NULL;
	if (o->contents_max == 0 || o->contents_max > PDF_CONTENTS_MAX ||
	    (o->doc_timestamp && (o->visible != NULL || o->name != NULL || o->reason != NULL)))
		return INK_ERR_INVALID;
	if ((r = pdfu_begin(&u, in_path, out_path)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->path = strdup(out_path)) == NULL ||
	    (zeros = malloc(2 * o->contents_max + 1)) == NULL ||
	    (name = text_entry("/Name", o->name)) == NULL ||
	    (reason = text_entry("/Reason", o->reason)) == NULL)
		goto out;
	memset(zeros, '0', 2 * o->contents_max);
	zeros[2 * o->contents_max] = '\0';
	r = INK_ERR_INVALID;
	if (!o->doc_timestamp) {
		if (gmtime_r(&t, &tm) == NULL)
			goto out;
		strftime(date, sizeof(date), " /M (D:%Y%m%d%H%M%S+00'00')", &tm);
	}
	if ((sig_id = pdfu_new_id(&u)) < 0 || (field_id = pdfu_new_id(&u)) < 0) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	/* The signature dictionary, written here: its /ByteRange and /Contents are filled later. */
	if ((r = pdfu_mark(&u, sig_id, 0)) != 0)
		goto out;
	r = INK_ERR_IO;
	if (fprintf(u.f, "%d 0 obj\n<< /Type /%s /Filter /Adobe.PPKLite /SubFilter /%s%s%s%s /ByteRange ",
	            sig_id, o->doc_timestamp ? "DocTimeStamp" : "Sig",
	            o->doc_timestamp ? "ETSI.RFC3161" : "ETSI.CAdES.detached", date, name, reason) < 0 ||
	    (at = ftello(u.f)) < 0)
		goto out;
	p->br_at = (uint64_t)at;
	p->br_len = 4 * (PDF_BR_WIDTH + 1) + 1;
	if (fprintf(u.f, "%*s /Contents ", (int)p->br_len, "") < 0 || (at = ftello(u.f)) < 0)
		goto out;
	p->contents_at = (uint64_t)at;
	if (fprintf(u.f, "<%s>", zeros) < 0 || (at = ftello(u.f)) < 0)
		goto out;
	p->contents_end = (uint64_t)at;
	if (fprintf(u.f, " >>\nendobj\n") < 0)
		goto out;
	if ((r = field_objects(&u, sig_id, field_id, o)) != 0 ||
	    (r = pdfu_end(&u, &p->size)) != 0)
		goto out;
	r = INK_ERR_IO;
	/* /ByteRange [0 a b c], padded in its reserved space. */
	{
		char br[4 * (PDF_BR_WIDTH + 1) + 2];
		int n = snprintf(br, sizeof(br), "[0 %llu %llu %llu]", (unsigned long long)p->contents_at,
		                 (unsigned long long)p->contents_end,
		                 (unsigned long long)(p->size - p->contents_end));

		if (n < 0 || (size_t)n > p->br_len)
			goto out;
		memset(br + n, ' ', p->br_len - (size_t)n);
		if (fseeko(u.f, (off_t)p->br_at, SEEK_SET) != 0 || fwrite(br, 1, p->br_len, u.f) != p->br_len)
			goto out;
	}
	if ((r = pdfu_close(&u)) != 0)
		goto out;
	*out = p;
	p = NULL;
	r = 0;
out:
	pdfu_free(&u);
	free(zeros);
	free(name);
	free(reason);
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
