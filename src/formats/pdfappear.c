/* pdfappear: what a visible signature shows (ISO 32000-1 12.5.5 appearance streams, 9.6.2
 * standard Type 1 fonts) — a form XObject with a frame and lines of text in Helvetica,
 * WinAnsiEncoding, which every reader has without an embedded font. Text outside WinAnsi
 * (Japanese names, say) is shown as '?': the signature's own data keep the exact name. */
#include "formats/formats_int.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one line's PDF string, escapes included, at most. */
#define APPEAR_LINE_MAX 1024
#define APPEAR_FONT_MIN 4.0
#define APPEAR_FONT_MAX 14.0
#define APPEAR_PAD 3.0

uint32_t
pdf_utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = *p++, min;
	int n, i;

	if (c < 0x80) {
		*s = p;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 1, c &= 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, c &= 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, c &= 0x07, min = 0x10000;
	} else {
		*s = p;
		return 0xfffd;
	}
	for (i = 0; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s = p + i;
			return 0xfffd;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	*s = p + n;
	return c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ? 0xfffd : c;
}

/* UTF-8 text as the inside of a PDF literal string in WinAnsiEncoding: ASCII as it is (with
 * '(', ')' and '\\' escaped), Latin-1 letters as octal escapes, everything else (controls,
 * other scripts) '?'. *chars counts the glyphs shown. */
static void
winansi(const char *text, char *out, size_t outsz, size_t *chars)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0;
	uint32_t c;
	char one[8];

	*chars = 0;
	out[0] = '\0';
	while (*s != '\0') {
		c = pdf_utf8_next(&s);
		if (c == '(' || c == ')' || c == '\\')
			snprintf(one, sizeof(one), "\\%c", (char)c);
		else if (c >= 0x20 && c < 0x7f)
			snprintf(one, sizeof(one), "%c", (char)c);
		else if (c >= 0xa0 && c <= 0xff)
			snprintf(one, sizeof(one), "\\%03o", (unsigned)c);
		else
			snprintf(one, sizeof(one), "?");
		if (n + strlen(one) + 1 > outsz)
			break;
		memcpy(out + n, one, strlen(one) + 1);
		n += strlen(one);
		(*chars)++;
	}
}

int
pdf_appearance(struct pdfu *u, const struct formats_pdf_visible *v, int *xobj_id)
{
	char line[APPEAR_LINE_MAX], *cs = NULL, *ns;
	size_t nlines = 0, i, chars, widest = 1, len = 0, cap = 4096;
	double size, lead;
	int font_id, id, r = INK_ERR_ALLOC;

	*xobj_id = 0;
	while (nlines < FORMATS_PDF_LINES_MAX && v->lines[nlines] != NULL) {
		winansi(v->lines[nlines], line, sizeof(line), &chars);
		if (chars > widest)
			widest = chars;
		nlines++;
	}
	/* Helvetica's glyphs average about half an em: the widest line fits the width. */
	size = (v->h - 2 * APPEAR_PAD) / (1.25 * (double)(nlines > 0 ? nlines : 1));
	if (size > (v->w - 2 * APPEAR_PAD) / (0.55 * (double)widest))
		size = (v->w - 2 * APPEAR_PAD) / (0.55 * (double)widest);
	size = size > APPEAR_FONT_MAX ? APPEAR_FONT_MAX : size < APPEAR_FONT_MIN ? APPEAR_FONT_MIN : size;
	lead = 1.25 * size;
	if ((cs = malloc(cap)) == NULL)
		return INK_ERR_ALLOC;
	len = (size_t)snprintf(cs, cap, "q 0.95 0.95 0.97 rg 0 0 %.2f %.2f re f 0.2 0.2 0.4 RG 0.8 w "
	                       "0.4 0.4 %.2f %.2f re S Q\nBT /F1 %.2f Tf 0.1 0.1 0.2 rg %.2f %.2f Td %.2f TL\n",
	                       v->w, v->h, v->w - 0.8, v->h - 0.8, size, APPEAR_PAD,
	                       v->h - APPEAR_PAD - size, lead);
	for (i = 0; i < nlines; i++) {
		winansi(v->lines[i], line, sizeof(line), &chars);
		if (len + strlen(line) + 16 > cap) {
			cap = 2 * (len + strlen(line) + 16);
			if ((ns = realloc(cs, cap)) == NULL)
				goto out;
			cs = ns;
		}
		len += (size_t)snprintf(cs + len, cap - len, "%s(%s) Tj\n", i > 0 ? "T* " : "", line);
	}
	if (len + 8 > cap) {
		if ((ns = realloc(cs, len + 8)) == NULL)
			goto out;
		cs = ns;
	}
	len += (size_t)snprintf(cs + len, 8, "ET\n");
	r = INK_ERR_TOO_LARGE;
	if ((font_id = pdfu_new_id(u)) < 0 || (id = pdfu_new_id(u)) < 0)
		goto out;
	if ((r = pdfu_obj(u, font_id, 0, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
	                  "/Encoding /WinAnsiEncoding >>")) != 0 ||
	    (r = pdfu_mark(u, id, 0)) != 0)
		goto out;
	r = INK_ERR_IO;
	if (fprintf(u->f, "%d 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 %.2f %.2f] "
	            "/Resources << /Font << /F1 %d 0 R >> >> /Length %zu >>\nstream\n%s\nendstream\n"
	            "endobj\n", id, v->w, v->h, font_id, len, cs) < 0)
		goto out;
	*xobj_id = id;
	r = 0;
out:
	free(cs);
	return r;
}

int
formats_cert_name(const uint8_t *cert, size_t len, char *out, size_t outsz)
{
	const unsigned char *p = cert;
	X509 *x = NULL;
	X509_NAME_ENTRY *e;
	ASN1_STRING *d;
	unsigned char *u = NULL;
	int i, n, r = INK_ERR_INVALID;

	if (outsz == 0)
		return INK_ERR_INVALID;
	out[0] = '\0';
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return INK_ERR_INVALID;
	i = X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_commonName, -1);
	if (i >= 0 && (e = X509_NAME_get_entry(X509_get_subject_name(x), i)) != NULL &&
	    (d = X509_NAME_ENTRY_get_data(e)) != NULL && (n = ASN1_STRING_to_UTF8(&u, d)) >= 0) {
		snprintf(out, outsz, "%.*s", n, (const char *)u);
		r = 0;
	}
	OPENSSL_free(u);
	X509_free(x);
	return r;
}
