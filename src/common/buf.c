/* buf: a bounded byte buffer with typed big-endian getters; every read is length-checked. */
#include "common/common.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct ink_buf *b, size_t max, bool secret)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->secret = secret;
}

void
buf_free(struct ink_buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL && b->secret)
		OPENSSL_cleanse(b->data, b->cap);
	free(b->data);
	b->data = NULL;
	b->len = b->off = b->cap = 0;
}

int
buf_reserve(struct ink_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	if (n > b->max || b->len > b->max - n)
		return INK_ERR_TOO_LARGE;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	if ((p = malloc(ncap)) == NULL)
		return INK_ERR_ALLOC;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		if (b->secret)
			OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_put(struct ink_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_put_u8(struct ink_buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct ink_buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_put(b, x, sizeof(x));
}

int
buf_put_u64(struct ink_buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_put_string(struct ink_buf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return INK_ERR_TOO_LARGE;
	if ((r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	return buf_put(b, p, n);
}

int
buf_put_cstring(struct ink_buf *b, const char *s)
{
	return buf_put_string(b, s, strlen(s));
}

size_t
buf_remaining(const struct ink_buf *b)
{
	return b->len - b->off;
}

int
buf_get_u8(struct ink_buf *b, uint8_t *v)
{
	if (buf_remaining(b) < 1)
		return INK_ERR_PROTOCOL;
	*v = b->data[b->off++];
	return 0;
}

int
buf_get_u32(struct ink_buf *b, uint32_t *v)
{
	const uint8_t *p;

	if (buf_remaining(b) < 4)
		return INK_ERR_PROTOCOL;
	p = b->data + b->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	b->off += 4;
	return 0;
}

int
buf_get_u64(struct ink_buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (buf_remaining(b) < 8)
		return INK_ERR_PROTOCOL;
	if ((r = buf_get_u32(b, &hi)) != 0 || (r = buf_get_u32(b, &lo)) != 0)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
buf_get_string_ptr(struct ink_buf *b, const uint8_t **p, size_t *n, size_t maxlen)
{
	uint32_t len;
	size_t save = b->off;
	int r;

	*p = NULL;
	*n = 0;
	if ((r = buf_get_u32(b, &len)) != 0)
		return r;
	if (len > maxlen || len > buf_remaining(b)) {
		b->off = save;
		return INK_ERR_PROTOCOL;
	}
	*p = b->data + b->off;
	*n = len;
	b->off += len;
	return 0;
}

int
buf_get_cstring(struct ink_buf *b, char *out, size_t outsz)
{
	const uint8_t *p;
	size_t n, save = b->off;
	int r;

	if (outsz == 0)
		return INK_ERR_INTERNAL;
	out[0] = '\0';
	if ((r = buf_get_string_ptr(b, &p, &n, outsz - 1)) != 0)
		return r;
	if (memchr(p, '\0', n) != NULL) {
		b->off = save;
		return INK_ERR_PROTOCOL;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}
