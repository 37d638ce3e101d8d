/* enc: base64 and hex, random bytes, UTC time. */
#include "common/common.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

size_t
b64_encode_to(const uint8_t *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	return n > 0 ? (size_t)n : 0;
}

int
b64_encode(const uint8_t *in, size_t len, char **out)
{
	char *p;

	*out = NULL;
	if (len > B64_MAX_IN)
		return INK_ERR_TOO_LARGE;
	if ((p = malloc(B64_LEN(len) + 1)) == NULL)
		return INK_ERR_ALLOC;
	p[b64_encode_to(in, len, p)] = '\0';
	*out = p;
	return 0;
}

static bool
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

int
b64_decode_to(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen)
{
	size_t i, pad = 0;
	int n;

	*outlen = 0;
	if (len % 4 != 0 || len > INT32_MAX)
		return INK_ERR_INVALID;
	if (len / 4 * 3 > outsz)
		return INK_ERR_TOO_LARGE;
	for (i = 0; i < len; i++) {
		if (in[i] == '=') {
			/* Padding only in the last two places, and nothing but padding after it. */
			if (i < len - 2)
				return INK_ERR_INVALID;
			pad++;
		} else if (!b64_char(in[i]) || pad > 0) {
			return INK_ERR_INVALID;
		}
	}
	n = len == 0 ? 0 : EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad)
		return INK_ERR_INVALID;
	*outlen = (size_t)n - pad;
	return 0;
}

int
b64_decode(const char *in, uint8_t **out, size_t *outlen)
{
	size_t len = strlen(in);
	uint8_t *p;
	int r;

	*out = NULL;
	*outlen = 0;
	if (len % 4 != 0 || len > INT32_MAX)
		return INK_ERR_INVALID;
	if ((p = malloc(len / 4 * 3 + 1)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = b64_decode_to(in, len, p, len / 4 * 3 + 1, outlen)) != 0) {
		free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
ink_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
ink_random(void *out, size_t len)
{
	if (len > INT32_MAX || RAND_bytes(out, (int)len) != 1)
		return INK_ERR_CRYPTO;
	return 0;
}

int64_t
ink_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void
ink_time_str(int64_t t, char out[static 21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		memcpy(out, "1970-01-01T00:00:00Z", 21);
}

int
ink_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = NULL;
	int n, ret = INK_ERR_CRYPTO;

	*der = NULL;
	if (len == 0 || len % 2 != 0 || len > 2 * 66)
		return INK_ERR_CRYPTO;
	if ((es = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(raw, (int)len / 2, NULL)) == NULL ||
	    (s = BN_bin2bn(raw + len / 2, (int)len / 2, NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = p;
	*der_len = (size_t)n;
	ret = 0;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ret;
}
