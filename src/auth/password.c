/* password: Argon2id hashing and verification, the password rules, one-time password generation. */
#include "auth/auth.h"

#include <argon2.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#define PW_SALT_LEN 16
#define PW_HASH_LEN 32
#define PW_MAX_LEN ((size_t)256)

/* No 0/O, 1/l/I: the password is read off a screen or a letter and typed once. */
static const char pw_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int
auth_password_hash(const struct auth_argon2 *params, const char *pw,
                   char out[static STORE_HASH_MAX + 1])
{
	uint8_t salt[PW_SALT_LEN];
	size_t need;
	int ar, r = INK_ERR_INTERNAL;

	out[0] = '\0';
	if (params == NULL || pw == NULL)
		return INK_ERR_INVALID;
	if (params->m_kib == 0 || params->t == 0 || params->p == 0)
		return INK_ERR_CONFIG;
	need = argon2_encodedlen(params->t, params->m_kib, params->p, PW_SALT_LEN, PW_HASH_LEN,
	                         Argon2_id);
	if (need > STORE_HASH_MAX + 1) {
		log_bug("encoded hash needs %zu bytes", need);
		return INK_ERR_INTERNAL;
	}
	if ((r = ink_random(salt, sizeof(salt))) != 0)
		goto out;
	/* libargon2 wipes its own working memory and raw hash before returning. */
	ar = argon2id_hash_encoded(params->t, params->m_kib, params->p, pw, strlen(pw), salt,
	                           sizeof(salt), PW_HASH_LEN, out, STORE_HASH_MAX + 1);
	if (ar != ARGON2_OK) {
		log_error("argon2id: %s", argon2_error_message(ar));
		r = ar == ARGON2_MEMORY_ALLOCATION_ERROR ? INK_ERR_ALLOC : INK_ERR_CRYPTO;
		goto out;
	}
	r = 0;
out:
	OPENSSL_cleanse(salt, sizeof(salt));
	if (r != 0)
		OPENSSL_cleanse(out, STORE_HASH_MAX + 1);
	return r;
}

int
auth_password_verify(const char *encoded, const char *pw)
{
	int ar;

	if (encoded == NULL || pw == NULL)
		return INK_ERR_INVALID;
	/* Only Argon2id is ever stored: anything else is a damaged or planted record. */
	if (strncmp(encoded, "$argon2id$", 10) != 0)
		return INK_ERR_INVALID;
	/* argon2id_verify compares the hashes in constant time. */
	ar = argon2id_verify(encoded, pw, strlen(pw));
	switch (ar) {
	case ARGON2_OK:
		return 0;
	case ARGON2_VERIFY_MISMATCH:
		return INK_ERR_AUTH;
	case ARGON2_MEMORY_ALLOCATION_ERROR:
		return INK_ERR_ALLOC;
	default:
		log_error("argon2id: %s", argon2_error_message(ar));
		return INK_ERR_INVALID;
	}
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when malformed, overlong, a
 * surrogate or beyond U+10FFFF. *cp receives the code point. */
static size_t
utf8_next(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)  /* also stops at the NUL terminator */
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* ASCII case-insensitive substring test; usernames are ASCII by construction. */
static bool
contains_ci(const char *hay, const char *needle)
{
	size_t i, j, hn = strlen(hay), nn = strlen(needle);
	char a, b;

	if (nn == 0 || nn > hn)
		return false;
	for (i = 0; i + nn <= hn; i++) {
		for (j = 0; j < nn; j++) {
			a = hay[i + j];
			b = needle[j];
			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (j == nn)
			return true;
	}
	return false;
}

/* The reasons are fixed texts: a password (or a piece of one) never reaches a message. */
static int refuse(char *why, size_t whysz, const char *fmt, ...) INK_PRINTF(3, 4);

static int
refuse(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whysz > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	return INK_ERR_POLICY;
}

int
auth_password_policy(const char *pw, const char *username, size_t min_len, char *why,
                     size_t whysz)
{
	const unsigned char *s;
	size_t len, n;
	uint32_t cp;

	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (min_len == 0)
		min_len = 1;
	if (pw == NULL)
		return INK_ERR_INVALID;
	len = strnlen(pw, PW_MAX_LEN + 1);
	if (len < min_len) {
		return refuse(why, whysz, "the password must be at least %zu bytes long", min_len);
	}
	if (len > PW_MAX_LEN) {
		return refuse(why, whysz, "the password must be at most %zu bytes long", PW_MAX_LEN);
	}
	for (s = (const unsigned char *)pw; *s != '\0'; s += n) {
		if ((n = utf8_next(s, &cp)) == 0) {
			return refuse(why, whysz, "the password must be valid UTF-8");
		}
		/* C0, DEL and C1 controls cannot be typed reliably and confuse terminals and logs. */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			return refuse(why, whysz, "the password must not contain control characters");
		}
	}
	if (username != NULL && contains_ci(pw, username)) {
		return refuse(why, whysz, "the password must not contain the username");
	}
	return 0;
}

int
auth_password_generate(char *out, size_t outsz, size_t len)
{
	/* The largest multiple of the alphabet size that fits in a byte: bytes at or above it
	 * are drawn again so every character is equally likely. */
	const unsigned limit = 256 - 256 % (sizeof(pw_alphabet) - 1);
	uint8_t rnd[64];
	size_t i = 0, j;
	int r = INK_ERR_INTERNAL;

	if (outsz > 0)
		out[0] = '\0';
	if (len == 0 || len >= outsz)
		return INK_ERR_INVALID;
	while (i < len) {
		if ((r = ink_random(rnd, sizeof(rnd))) != 0)
			goto out;
		for (j = 0; j < sizeof(rnd) && i < len; j++) {
			if (rnd[j] >= limit)
				continue;
			out[i++] = pw_alphabet[rnd[j] % (sizeof(pw_alphabet) - 1)];
		}
	}
	out[len] = '\0';
	r = 0;
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if (r != 0)
		OPENSSL_cleanse(out, outsz);
	return r;
}
