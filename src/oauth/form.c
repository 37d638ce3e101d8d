/* form: the OAuth parameter parsers — application/x-www-form-urlencoded bodies and query
 * strings, the comma-separated hash lists of CSC credential scope — and PKCE (RFC 7636). */
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64

void
oauth_form_free(struct oauth_form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->name[i]);
		secmem_free(f->value[i]);
		f->name[i] = NULL;
		f->value[i] = NULL;
	}
	f->n = 0;
}

/* Percent-decodes p[0..n) ('+' is a space) into a new string of at most max bytes: malloc'd,
 * or (secret) locked memory. NULL for a malformed escape, a NUL or a longer result. */
static char *
decode(const char *p, size_t n, size_t max, bool secret)
{
	char *out;
	size_t i, o = 0;
	int hi, lo;
	char c;

	if (n > 3 * max + 3)
		return NULL;
	out = secret ? secmem_alloc(n + 1) : malloc(n + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n || (hi = hex_digit(p[i + 1])) < 0 || (lo = hex_digit(p[i + 2])) < 0)
				goto bad;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o >= max)
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
bad:
	if (secret)
		secmem_free(out);
	else
		free(out);
	return NULL;
}

static int
add_pair(struct oauth_form *f, const char *p, size_t n, size_t value_max)
{
	const char *eq = memchr(p, '=', n);
	size_t nl = eq != NULL ? (size_t)(eq - p) : n;
	char *name = NULL, *value = NULL;
	size_t i;

	if (f->n == OAUTH_FORM_MAX || nl == 0)
		return INK_ERR_INVALID;
	if ((name = decode(p, nl, NAME_MAX_LEN, false)) == NULL ||
	    (value = decode(eq != NULL ? eq + 1 : p + n, eq != NULL ? n - nl - 1 : 0, value_max,
	                    true)) == NULL)
		goto bad;
	for (i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			goto bad;   /* RFC 6749 3.1: a parameter must not be included more than once */
	f->name[f->n] = name;
	f->value[f->n] = value;
	f->n++;
	return 0;
bad:
	free(name);
	secmem_free(value);
	return INK_ERR_INVALID;
}

int
oauth_form_parse(const char *text, size_t len, size_t value_max, struct oauth_form *f)
{
	size_t start = 0, i;
	int r;

	memset(f, 0, sizeof(*f));
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '&')
			continue;
		if (i > start && (r = add_pair(f, text + start, i - start, value_max)) != 0) {
			oauth_form_free(f);
			return r;
		}
		start = i + 1;
	}
	return 0;
}

int
oauth_form_add(struct oauth_form *f, const char *name, const char *value, size_t value_max)
{
	size_t nl = strlen(name), vl = value != NULL ? strlen(value) : 0;
	char *pair;
	int r;

	if ((pair = secmem_alloc(nl + vl + 2)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(pair, name, nl);
	pair[nl] = '=';
	if (vl > 0)
		memcpy(pair + nl + 1, value, vl);
	pair[nl + vl + 1] = '\0';
	r = add_pair(f, pair, nl + vl + 1, value_max);
	secmem_free(pair);
	return r;
}

const char *
oauth_form_get(const struct oauth_form *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return f->value[i];
	return NULL;
}

/* base64url (no padding) of in[len] into standard base64 with padding, for b64_decode_to. */
static bool
b64url_to_std(const char *in, size_t len, char *out, size_t outsz)
{
	size_t i;

	if (len + 3 >= outsz)
		return false;
	for (i = 0; i < len; i++) {
		char c = in[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		out[i] = c;
	}
	while (i % 4 != 0)
		out[i++] = '=';
	out[i] = '\0';
	return true;
}

int
oauth_hashes_parse(const char *list, uint8_t (*h)[OAUTH_HASH_MAX], size_t *lens, size_t max,
                   size_t *n)
{
	char std[2 * OAUTH_HASH_MAX];
	const char *p = list, *end;
	size_t len, k = 0;

	*n = 0;
	if (list == NULL || *list == '\0')
		return INK_ERR_INVALID;
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (k == max || len == 0 || !b64url_to_std(p, len, std, sizeof(std)) ||
		    b64_decode_to(std, strlen(std), h[k], OAUTH_HASH_MAX, &lens[k]) != 0 ||
		    lens[k] == 0)
			return INK_ERR_INVALID;
		k++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*n = k;
	return 0;
}

static bool
b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool
oauth_pkce_challenge_valid(const char *challenge)
{
	size_t i;

	if (challenge == NULL || strlen(challenge) != OAUTH_TOKEN_CHARS)
		return false;
	for (i = 0; i < OAUTH_TOKEN_CHARS; i++)
		if (!b64url_char(challenge[i]))
			return false;
	return true;
}

bool
oauth_pkce_verify(const char *challenge, const char *verifier)
{
	uint8_t d[32];
	char b[B64_LEN(32) + 1];
	unsigned int dl = 0;
	size_t i, len;
	bool ok;

	if (!oauth_pkce_challenge_valid(challenge) || verifier == NULL)
		return false;
	len = strlen(verifier);
	if (len < 43 || len > 128)
		return false;
	for (i = 0; i < len; i++)
		if (!b64url_char(verifier[i]) && verifier[i] != '.' && verifier[i] != '~')
			return false;
	if (EVP_Digest(verifier, len, d, &dl, EVP_sha256(), NULL) != 1 || dl != 32)
		return false;
	b[b64_encode_to(d, sizeof(d), b)] = '\0';
	for (i = 0; i < OAUTH_TOKEN_CHARS; i++)
		b[i] = b[i] == '+' ? '-' : b[i] == '/' ? '_' : b[i];
	ok = CRYPTO_memcmp(b, challenge, OAUTH_TOKEN_CHARS) == 0;
	OPENSSL_cleanse(d, sizeof(d));
	return ok;
}

int
oauth_random_token(char out[static OAUTH_TOKEN_CHARS + 1])
{
	uint8_t hash[32];
	int r = auth_token_new(out, hash);

	OPENSSL_cleanse(hash, sizeof(hash));
	return r;
}
