/* oauth: the CSC API v2 OAuth 2.0 authorization server's state and rules — registered clients,
 * the signer's page sessions (cookie and CSRF token), single-use authorization codes, the
 * credential-scope access tokens (each one a SAD the SAM minted), PKCE and the form parser.
 * The SAM decides whether a key may be activated; this module decides which client gets what. */
#ifndef INKAN_OAUTH_H
#define INKAN_OAUTH_H

#include <jansson.h>

#include "auth/auth.h"
#include "common/common.h"
#include "store/store.h"

#define OAUTH_TOKEN_CHARS 43      /* base64url of 32 random bytes: codes, cookies, CSRF, secrets */
#define OAUTH_CODE_TTL 60         /* seconds an authorization code lives */
#define OAUTH_PAGE_TTL 600        /* seconds a page session lives without use */
#define OAUTH_URIS_MAX 8          /* redirect URIs per client */
#define OAUTH_URI_MAX 512
#define OAUTH_STATE_MAX 512
#define OAUTH_HASHES_MAX 100      /* hashes one credential-scope request may carry */
#define OAUTH_HASH_MAX 64
#define OAUTH_DESC_MAX 500
#define OAUTH_LABEL_MAX 128      /* a document's label (RFC 9396 documentDigests) */

/* ---- clients (registered by a security officer) ---- */

/* Registers a client (AUTH_PERM_CLIENT_MANAGE): name 1..64 printable bytes, 1..OAUTH_URIS_MAX
 * redirect URIs (absolute https, or http on a loopback host; no fragment), each matched
 * exactly later. A confidential client gets secret (256 random bits, base64url, shown once;
 * only its SHA-256 is stored and compared in constant time — it is high-entropy, so no slow
 * hash is needed); a public one gets "" and authenticates by PKCE alone; one registered with
 * public_key (PEM, oauth_pubkey_problem(); NULL: none) gets "" and authenticates by
 * private_key_jwt only (RFC 7523), never by a secret. Audited
 * (oauth.client.add). INK_ERR_INVALID with *why for a bad name or URI. */
int oauth_client_add(const struct auth_ctx *ctx, const struct auth_req *rq,
                     const struct auth_principal *actor, const char *name,
                     const char *const *uris, size_t nuris, bool public_client,
                     const char *public_key, struct store_oauth_client *out,
                     char secret[static OAUTH_TOKEN_CHARS + 1], const char **why) INK_WUR;
/* The registered clients (AUTH_PERM_CLIENT_MANAGE); *out malloc'd. */
int oauth_client_list(const struct auth_ctx *ctx, const struct auth_req *rq,
                      const struct auth_principal *actor, struct store_oauth_client **out,
                      size_t *n) INK_WUR;
/* Removes one (AUTH_PERM_CLIENT_MANAGE): its codes and tokens stop working. Audited. */
int oauth_client_remove(const struct auth_ctx *ctx, const struct auth_req *rq,
                        const struct auth_principal *actor, const char *id) INK_WUR;
/* A registered (not removed) client; INK_ERR_NOT_FOUND otherwise. */
int oauth_client_find(struct store *st, const char *id, struct store_oauth_client *out) INK_WUR;
/* True when uri is exactly one of the client's redirect URIs (a registered loopback IP URI
 * without a port: with any port, RFC 8252 7.3). */
bool oauth_redirect_registered(const struct store_oauth_client *c, const char *uri) INK_WUR;
/* A confidential client's secret (constant time); a public client must send none; a client
 * registered by its key is always refused here (oauth_client_assertion_check() is its way).
 * INK_ERR_AUTH otherwise. */
int oauth_client_secret_check(const struct store_oauth_client *c, const char *secret) INK_WUR;
/* Checks a redirect URI for registration; NULL when acceptable, else why not. */
const char *oauth_uri_problem(const char *uri);

/* The origin (scheme://host[:port]) of a registered redirect URI into out[outsz], for the
 * consent page's form-action. */
int oauth_uri_origin(const char *uri, char *out, size_t outsz) INK_WUR;
/* uri with the response parameters appended (code or error, then state when not NULL/""),
 * each percent-encoded; *out malloc'd. */
int oauth_redirect_build(const char *uri, const char *name, const char *value, const char *state,
                         char **out) INK_WUR;

/* ---- JSON Web Tokens (jwt.c): private_key_jwt client assertions and account_token ---- */

#define OAUTH_JWT_MAX 8192          /* longest compact JWS taken */
#define OAUTH_ASSERTION_TTL 300     /* longest life of a client assertion or account_token, s */
#define OAUTH_JTI_MAX 128
#define OAUTH_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* Strict base64url (RFC 7515 2): no padding, no whitespace, the spare bits zero; *out
 * malloc'd (NUL-terminated for convenience). INK_ERR_INVALID otherwise. */
int oauth_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen) INK_WUR;
/* Checks a client's public key for registration (PEM SubjectPublicKeyInfo: ECDSA P-256 or
 * P-384, or RSA as policy allows); NULL when acceptable, else why not. */
const char *oauth_pubkey_problem(const char *pem);
/* Verifies a compact JWS with a PEM public key: its alg one of policy_jws_alg_by_name()'s and
 * fitting the key (an ES384 token for a P-256 key, HS256 or "none" are refused); no "crit".
 * *claims (the payload object) set on success; INK_ERR_AUTH with *why otherwise. */
int oauth_jws_verify_pem(const char *jws, const char *pem, json_t **claims,
                         const char **why) INK_WUR;
/* Verifies a compact HS256 JWS keyed by key[keylen] (constant time); as above. */
int oauth_jws_verify_hs256(const char *jws, const uint8_t *key, size_t keylen, json_t **claims,
                           const char **why) INK_WUR;
/* Authenticates client c (registered with a public key) by a client assertion (RFC 7523 2.2):
 * signature by its key, iss = sub = client_id, aud one of auds, exp after now and at most
 * OAUTH_ASSERTION_TTL (plus a minute's skew) ahead, iat and nbf (if any) not ahead, and a jti
 * never seen before from this client on any node (recorded in st until exp). INK_ERR_AUTH
 * (INK_ERR_REPLAY for a jti seen before) with *why. */
int oauth_client_assertion_check(struct store *st, const struct store_oauth_client *c,
                                 const char *assertion, const char *const *auds, size_t nauds,
                                 int64_t now, const char **why) INK_WUR;
/* The CSC account_token of client c (CSC v2 8.3.2): HS256 keyed by SHA256(client_secret) (the
 * stored hash; a private_key_jwt client signs it with its key instead; a public client cannot
 * send one), azp = client_id, iat within the last OAUTH_ASSERTION_TTL seconds, a jti used once;
 * account gets its sub (the signer's username). INK_ERR_AUTH / INK_ERR_REPLAY with *why. */
int oauth_account_token_check(struct store *st, const struct store_oauth_client *c,
                              const char *token, int64_t now,
                              char account[static STORE_NAME_MAX + 1], const char **why) INK_WUR;

/* ---- PKCE (RFC 7636, S256 only) ---- */

/* A code_challenge: 43 base64url characters (SHA-256). */
bool oauth_pkce_challenge_valid(const char *challenge) INK_WUR;
/* BASE64URL(SHA-256(verifier)) == challenge, in constant time; the verifier 43..128 of
 * [A-Za-z0-9-._~]. */
bool oauth_pkce_verify(const char *challenge, const char *verifier) INK_WUR;

/* ---- application/x-www-form-urlencoded (bodies and query strings) ---- */

#define OAUTH_FORM_MAX 32         /* parameters */
struct oauth_form {
	char *name[OAUTH_FORM_MAX];
	char *value[OAUTH_FORM_MAX];  /* secmem: a form may carry a password, PIN or secret */
	size_t n;
};
/* Parses text[len] (name=value pairs joined by '&', '+' for space, %XX once). INK_ERR_INVALID
 * for a malformed escape, a NUL, a parameter given twice, more than OAUTH_FORM_MAX, a name
 * over 64 or a value over value_max bytes. */
int oauth_form_parse(const char *text, size_t len, size_t value_max, struct oauth_form *f) INK_WUR;
/* Adds one pair as sent (percent-encoded); same refusals. */
int oauth_form_add(struct oauth_form *f, const char *name, const char *value,
                   size_t value_max) INK_WUR;
/* The value of name, NULL when absent. */
const char *oauth_form_get(const struct oauth_form *f, const char *name);
/* Wipes and frees the values; the form is empty again. */
void oauth_form_free(struct oauth_form *f);
/* Decodes a list of base64url (or base64) hashes separated by commas into h[][OAUTH_HASH_MAX]
 * (each 1..64 bytes), at most max. INK_ERR_INVALID otherwise. */
int oauth_hashes_parse(const char *list, uint8_t (*h)[OAUTH_HASH_MAX], size_t *lens, size_t max,
                       size_t *n) INK_WUR;

/* ---- authorization requests, page sessions, codes and tokens (state.c: in the store, shared
 * by every node, each row found by the SHA-256 of its value and its body sealed under a key
 * derived from that value) ---- */

/* A validated authorization request (credential scope, or service: no credential, no hash),
 * kept in the page session. */
struct oauth_request {
	bool service;                  /* scope "service": list and read credentials, never sign */
	char client_id[STORE_ID_LEN + 1];
	char client_name[STORE_NAME_MAX + 1];
	char redirect_uri[OAUTH_URI_MAX + 1];
	char state[OAUTH_STATE_MAX + 1];
	char challenge[OAUTH_TOKEN_CHARS + 1];
	char cred[65];
	char hash_oid[65];
	char description[OAUTH_DESC_MAX + 1];
	char lang[3];                  /* "ja" or "en" */
	char account[STORE_NAME_MAX + 1]; /* the signer an account_token named ("" none) */
	size_t n;                      /* numSignatures = number of hashes */
	uint8_t hashes[OAUTH_HASHES_MAX][OAUTH_HASH_MAX];
	size_t hash_lens[OAUTH_HASHES_MAX];
	char labels[OAUTH_HASHES_MAX][OAUTH_LABEL_MAX + 1];   /* "" when the client named none */
};

/* What a code gives: a credential-scope access token (who it signs for, and with what), or a
 * service-scope grant (service, family). No secret. */
struct oauth_token_info {
	struct auth_principal who;     /* the signer, and the binding the SAD is bound to */
	char client_id[STORE_ID_LEN + 1];
	char cred[65];
	int64_t expires;
	bool service;                  /* a service-scope code: the grant's tokens are made at its
	                                * redemption, in family (oauth_service_issue) */
	char family[STORE_ID_LEN + 1];
};

/* Opens the page session of cookie (when it is live) or a new one (cookie NULL or unknown:
 * *fresh, cookie_out its new value; opened from address source, whose oldest one makes room
 * past a few), keeping req as its pending request and handing out a new CSRF token (only its
 * hash is stored). */
int oauth_page_open(struct store *st, const char *cookie, const char *source,
                    const struct oauth_request *req,
                    char cookie_out[static OAUTH_TOKEN_CHARS + 1],
                    char csrf[static OAUTH_TOKEN_CHARS + 1], bool *fresh) INK_WUR;
/* A POST of the page: the cookie's session and its CSRF token (their hashes compared in
 * constant time). *req gets the pending request (if any: *has_req). INK_ERR_AUTH: no such
 * session (or expired); INK_ERR_DENIED: CSRF token missing or wrong. */
int oauth_page_post(struct store *st, const char *cookie, const char *csrf,
                    struct oauth_request *req, bool *has_req) INK_WUR;
/* The pending request was answered (consent or cancel): it cannot be answered twice. */
void oauth_page_done(struct store *st, const char *cookie);

/* Keeps the SAD behind a new single-use code (ttl seconds, at most OAUTH_CODE_TTL), bound to
 * the request's client, redirect URI and PKCE challenge, sealed under the code. A service-scope
 * request (req->service) keeps no SAD: sad is the grant's family id
 * (oauth_service_family_new), sad_expires the grant's end. */
int oauth_code_issue(struct store *st, const struct oauth_request *req,
                     const struct auth_principal *who, const char *sad, int64_t sad_expires,
                     int64_t ttl, char code[static OAUTH_TOKEN_CHARS + 1]) INK_WUR;
/* Redeems a code, once across every node: same client, same redirect URI, the PKCE verifier.
 * On success token gets the access token (the SAD) and *info what it allows. A code redeemed
 * before: INK_ERR_REPLAY and the token issued from it is revoked (RFC 6749 4.1.2; *info what
 * it gave); unknown or expired: INK_ERR_EXPIRED; another client, redirect URI or verifier:
 * INK_ERR_AUTH (the code is spent all the same). *why: a short reason for the audit. */
int oauth_code_redeem(struct store *st, const char *code, const char *client_id,
                      const char *redirect_uri, const char *verifier,
                      char token[static OAUTH_TOKEN_CHARS + 1], struct oauth_token_info *info,
                      const char **why) INK_WUR;
/* A live credential-scope access token; INK_ERR_AUTH when unknown, revoked or expired. */
int oauth_token_find(struct store *st, const char *token, struct oauth_token_info *info) INK_WUR;
/* Revokes a credential-scope token of client_id (RFC 7009: an unknown one is no error:
 * *found false). */
int oauth_token_revoke(struct store *st, const char *token, const char *client_id,
                       bool *found) INK_WUR;

/* Pushed authorization requests (RFC 9126): keeps a validated request for OAUTH_PAR_TTL
 * seconds behind a random handle (the request_uri is OAUTH_PAR_URN + handle); INK_ERR_BUSY
 * when full, or when source (the pushing address) has many live ones already. */
#define OAUTH_PAR_TTL 60
#define OAUTH_PAR_URN "urn:ietf:params:oauth:request_uri:"
int oauth_par_push(struct store *st, const char *source, const struct oauth_request *req,
                   char handle[static OAUTH_TOKEN_CHARS + 1]) INK_WUR;
/* Takes (once, across every node) the pushed request of request_uri for client_id into *req;
 * INK_ERR_EXPIRED when unknown, used, expired or another client's. */
int oauth_par_take(struct store *st, const char *request_uri, const char *client_id,
                   struct oauth_request *req) INK_WUR;

/* Deletes what has expired of the OAuth state (flows, service tokens, jtis); *n how many. */
int oauth_prune(struct store *st, size_t *n) INK_WUR;

/* ---- service scope (CSC v2 section 8): grants in the store (service.c) ---- */

/* A grant's tokens: 256-bit random values (base64url), kept in the store as SHA-256 only. */
struct oauth_service_tokens {
	char access[OAUTH_TOKEN_CHARS + 1];
	char refresh[OAUTH_TOKEN_CHARS + 1];
	int64_t expires_in;            /* of the access token */
};
/* A new grant's family id (128 random bits, lower-case hex). */
int oauth_service_family_new(char family[static STORE_ID_LEN + 1]) INK_WUR;
/* The tokens of a new grant (the signer consented): an access token of access_ttl seconds, a
 * refresh token ending refresh_ttl seconds from now, which every rotation keeps. */
int oauth_service_issue(struct store *st, const char *family, const char *client_id,
                        const char *user_id, int64_t access_ttl, int64_t refresh_ttl,
                        struct oauth_service_tokens *out) INK_WUR;
/* grant_type=refresh_token: the refresh token of client_id, live and never used, is rotated
 * (once, even across nodes) for a new pair of its family; *was its row (the user, the grant).
 * INK_ERR_EXPIRED: unknown, revoked or expired; INK_ERR_REPLAY: used before (the family is
 * revoked); INK_ERR_AUTH: another client's (the family is revoked). *why for the audit. */
int oauth_service_refresh(struct store *st, const char *refresh, const char *client_id,
                          int64_t access_ttl, struct oauth_service_tokens *out,
                          struct store_oauth_token *was, const char **why) INK_WUR;
/* A live service-scope access token (not a refresh token); INK_ERR_AUTH otherwise. */
int oauth_service_token_find(struct store *st, const char *token,
                             struct store_oauth_token *out) INK_WUR;
/* RFC 7009 for service tokens of client_id: an access token ends, a refresh token ends its
 * whole grant. *found false when the token is no service token of that client. */
int oauth_service_revoke(struct store *st, const char *token, const char *client_id,
                         bool *found) INK_WUR;

/* A random 256-bit value as base64url (43 characters). */
int oauth_random_token(char out[static OAUTH_TOKEN_CHARS + 1]) INK_WUR;

#endif
