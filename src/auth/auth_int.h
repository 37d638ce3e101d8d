/* auth_int: what the auth module's files share and nobody else calls. */
#ifndef INKAN_AUTH_INT_H
#define INKAN_AUTH_INT_H

#include "auth/auth.h"

/* The SAM mints a SAD (csc.c): for actor's session (person NULL), or (person: the signer's id,
 * actor->token_hash the consent's own binding, client required) in the one-step OAuth consent
 * of a signer without a session. Audited as csc.authorize / oauth.authorize with every hash. A
 * wrong OTP is counted on the account here only for a session's act (person NULL): the
 * consent's caller settles its own reserved attempt. */
int auth_sad_mint(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, const char *person, const char *client,
                  const char *cred, const uint8_t *const *hashes, const size_t *hash_lens,
                  size_t n, const char *hash_oid, const char *pin, const char *otp,
                  char sad[static AUTH_SAD_CHARS + 1], int64_t *expires_in) INK_WUR;

#endif
