/* oauth internals: the seal every stored flow body wears (seal.c). */
#ifndef INKAN_OAUTH_INT_H
#define INKAN_OAUTH_INT_H

#include "oauth/oauth.h"

/* What a sealed body is bound to: the kind of row (each its own key label) and the row's
 * SHA-256 of value. */
enum oauth_seal_kind { OAUTH_SEAL_PAGE, OAUTH_SEAL_PAR, OAUTH_SEAL_CODE, OAUTH_SEAL_TOKEN };

/* Seals plain[len] with AES-256-GCM under HKDF-SHA256(value, label of kind): only who holds
 * the value (the cookie, request_uri handle, code or token, which the store never sees) can
 * open or forge it; the row's hash is the additional data, so a body moved to another row
 * fails. *out (nonce, ciphertext, tag) malloc'd. */
int oauth_seal(enum oauth_seal_kind kind, const char *value, const uint8_t hash[static 32],
               const char *plain, size_t len, uint8_t **out, size_t *outlen) INK_WUR;
/* Opens what oauth_seal() made: *plain malloc'd, NUL-terminated (ink_freezero_str it);
 * INK_ERR_STORE when it does not open (another value, a changed row). */
int oauth_unseal(enum oauth_seal_kind kind, const char *value, const uint8_t hash[static 32],
                 const uint8_t *body, size_t len, char **plain) INK_WUR;

#endif
