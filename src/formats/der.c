/* der: the DER writer the CMS and PDF code share (definite lengths, sticky errors). */
#include "formats/formats_int.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <stdlib.h>
#include <string.h>

void
der_raw(struct der *d, const void *p, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (d->err != 0 || n == 0)
		return;
	if (d->len + n > d->cap) {
		cap = d->cap == 0 ? 256 : d->cap;
		while (cap < d->len + n)
			cap *= 2;
		if ((np = realloc(d->p, cap)) == NULL) {
			d->err = INK_ERR_ALLOC;
			return;
		}
		d->p = np;
		d->cap = cap;
	}
	memcpy(d->p + d->len, p, n);
	d->len += n;
}

size_t
der_hdr_len(uint64_t len)
{
	size_t n = 1;

	if (len < 0x80)
		return 2;
	while (len > 0) {
		n++;
		len >>= 8;
	}
	return n + 1;
}

void
der_hdr(struct der *d, uint8_t tag, uint64_t len)
{
	uint8_t h[10];
	size_t n = 0, k, i;

	h[n++] = tag;
	if (len < 0x80) {
		h[n++] = (uint8_t)len;
	} else {
		k = der_hdr_len(len) - 2;
		h[n++] = (uint8_t)(0x80 | k);
		for (i = k; i > 0; i--)
			h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	}
	der_raw(d, h, n);
}

void
der_tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
	der_hdr(d, tag, n);
	der_raw(d, p, n);
}

void
der_wrap(struct der *d, uint8_t tag, struct der *inner)
{
	if (inner->err != 0 && d->err == 0)
		d->err = inner->err;
	der_tlv(d, tag, inner->p, inner->len);
	der_free(inner);
}

void
der_oid(struct der *d, const char *dotted)
{
	ASN1_OBJECT *o = NULL;
	uint8_t *enc = NULL;
	int n;

	if (d->err != 0)
		return;
	if ((o = OBJ_txt2obj(dotted, 1)) == NULL || (n = i2d_ASN1_OBJECT(o, &enc)) <= 0) {
		d->err = INK_ERR_CRYPTO;
	} else {
		der_raw(d, enc, (size_t)n);
	}
	OPENSSL_free(enc);
	ASN1_OBJECT_free(o);
}

void
der_algid(struct der *d, const char *dotted, bool null_params)
{
	struct der a = { 0 };
	static const uint8_t null_der[] = { 0x05, 0x00 };

	der_oid(&a, dotted);
	if (null_params)
		der_raw(&a, null_der, sizeof(null_der));
	der_wrap(d, 0x30, &a);
}

void
der_free(struct der *d)
{
	free(d->p);
	d->p = NULL;
	d->len = d->cap = 0;
}
