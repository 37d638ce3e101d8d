/* keys: the key manager. Sole owner of the master key and the key store (DB-2); linked into
 * inkan-sam only (inkand never calls it). */
#ifndef INKAN_KEYS_H
#define INKAN_KEYS_H

#include "common/common.h"

#define KEYS_MASTER_LEN 32
/* Sealed blob: version(1) || nonce(12) || ciphertext || tag(16). */
#define KEYS_SEAL_OVERHEAD (1 + 12 + 16)

struct keys;

/* Creates dir (0700) with master.key (32 random bytes, 0600) and keystore.db (0600);
 * INK_ERR_EXISTS if a master key is already there (it is never overwritten). */
int keys_init_dir(const char *dir) INK_WUR;
/* Loads the master key into locked memory and opens the key store. Refuses a master key
 * file that is readable by group or others, or of the wrong size. */
int keys_open(const char *dir, struct keys **out) INK_WUR;
/* Wipes the master key and closes the key store; accepts NULL. */
void keys_close(struct keys *k);

/* AES-256-GCM under HKDF-SHA256(master key, info = purpose): seals pt, binding aad.
 * out must hold ptlen + KEYS_SEAL_OVERHEAD bytes. */
int keys_seal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
              const uint8_t *pt, size_t ptlen, uint8_t *out, size_t *outlen) INK_WUR;
/* Opens a sealed blob; INK_ERR_CRYPTO when the tag, purpose or aad do not match. out must
 * hold inlen bytes; the caller wipes it. */
int keys_unseal(struct keys *k, const char *purpose, const uint8_t *aad, size_t aadlen,
                const uint8_t *in, size_t inlen, uint8_t *out, size_t *outlen) INK_WUR;

#endif
