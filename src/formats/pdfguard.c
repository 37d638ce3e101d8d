/* pdfguard: the bound put on a PDF before qpdf reads it (qpdf inflates cross-reference and
 * object streams whole, with no limit of its own), shared by every reader of untrusted PDFs:
 * verification, and the signing and extending that write an update to one. */
#include "formats/formats_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* What one cross-reference or object stream may inflate to, and all of them together. */
#define PDFG_STRUCT_STREAM_MAX ((size_t)32 << 20)
#define PDFG_STRUCT_TOTAL_MAX ((size_t)256 << 20)
/* How far before "stream" its dictionary's "obj" is looked for. */
#define PDFG_DICT_WINDOW 65536

int
formats_pdf_inflate(const uint8_t *in, size_t inlen, size_t cap, uint8_t **out, size_t *outlen)
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
formats_pdf_precheck(const uint8_t *pdf, size_t len, char *err, size_t errsz)
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
		if (kind == NULL || flate == NULL || (size_t)(data - kind) > PDFG_DICT_WINDOW ||
		    (size_t)(data - flate) > PDFG_DICT_WINDOW)
			continue;
		/* What an inflate produced counts even when the data is not a whole zlib stream. */
		r = formats_pdf_inflate(data, (size_t)(e - data), PDFG_STRUCT_STREAM_MAX, NULL, &n);
		if (r == INK_ERR_TOO_LARGE || (total += n) > PDFG_STRUCT_TOTAL_MAX) {
			snprintf(err, errsz, "a cross-reference or object stream at byte %zu inflates "
			         "beyond %zu MiB", (size_t)(kind - pdf), PDFG_STRUCT_STREAM_MAX >> 20);
			return INK_ERR_TOO_LARGE;
		}
	}
	return 0;
}

int
formats_pdf_precheck_fd(int fd, char *err, size_t errsz)
{
	struct stat st;
	void *map;
	int r;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "not a regular file");
		return INK_ERR_IO;
	}
	if (st.st_size == 0)
		return 0;
	if ((uint64_t)st.st_size > SIZE_MAX ||
	    (map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		snprintf(err, errsz, "cannot be mapped");
		return INK_ERR_IO;
	}
	r = formats_pdf_precheck(map, (size_t)st.st_size, err, errsz);
	munmap(map, (size_t)st.st_size);
	return r;
}

int
formats_pdf_precheck_path(const char *path, char *err, size_t errsz)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "cannot be opened");
		return INK_ERR_IO;
	}
	r = formats_pdf_precheck_fd(fd, err, errsz);
	close(fd);
	return r;
}
