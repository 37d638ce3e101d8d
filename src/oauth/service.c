/* service: service-scope grants (CSC API v2 section 8, scope "service") — an access token for
 * credentials/list and credentials/info only, and a refresh token rotated at each use; both
 * kept in the store as SHA-256 only (they outlive a restart and serve every node), a family
 * per consent, a rotated refresh token presented again revoking its family (RFC 9700 4.14.2). */
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* Stores one token of the family. */
static int
token_put(struct store *st, int kind, const char *family, const char *client_id,
          const char *user_id, int64_t expires, char out[static OAUTH_TOKEN_CHARS + 1])
{
	struct store_oauth_token t;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = auth_token_new(out, t.hash)) != 0)
		goto out;
	t.kind = kind;
	snprintf(t.family, sizeof(t.family), "%s", family);
	snprintf(t.client_id, sizeof(t.client_id), "%s", client_id);
	snprintf(t.user_id, sizeof(t.user_id), "%s", user_id);
	t.created_at = ink_now();
	t.expires_at = expires;
	r = st->ops->oauth_token_insert(st, &t);
out:
	if (r != 0)
		OPENSSL_cleanse(out, OAUTH_TOKEN_CHARS + 1);
	OPENSSL_cleanse(&t, sizeof(t));
	return r;
}

/* An access token and a refresh token of the family (the refresh token ending at family_end). */
static int
pair_put(struct store *st, const char *family, const char *client_id, const char *user_id,
         int64_t access_ttl, int64_t family_end, struct oauth_service_tokens *out)
{
	int64_t now = ink_now(), access_end = now + access_ttl;
	int r;

	if (access_end > family_end)
		access_end = family_end;
	if ((r = token_put(st, STORE_TOKEN_ACCESS, family, client_id, user_id, access_end,
	                   out->access)) != 0 ||
	    (r = token_put(st, STORE_TOKEN_REFRESH, family, client_id, user_id, family_end,
	                   out->refresh)) != 0) {
		OPENSSL_cleanse(out, sizeof(*out));
		return r;
	}
	out->expires_in = access_end - now > 0 ? access_end - now : 1;
	return 0;
}

int
oauth_service_family_new(char family[static STORE_ID_LEN + 1])
{
	uint8_t raw[STORE_ID_LEN / 2];
	int r;

	family[0] = '\0';
	if ((r = ink_random(raw, sizeof(raw))) != 0)
		return r;
	hex_encode(raw, sizeof(raw), family);
	return 0;
}

int
oauth_service_issue(struct store *st, const char *family, const char *client_id,
                    const char *user_id, int64_t access_ttl, int64_t refresh_ttl,
                    struct oauth_service_tokens *out)
{
	memset(out, 0, sizeof(*out));
	return pair_put(st, family, client_id, user_id, access_ttl, ink_now() + refresh_ttl, out);
}

int
oauth_service_refresh(struct store *st, const char *refresh, const char *client_id,
                      int64_t access_ttl, struct oauth_service_tokens *out,
                      struct store_oauth_token *was, const char **why)
{
	uint8_t h[32];
	size_t n = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(was, 0, sizeof(*was));
	*why = "unknown refresh token";
	if (refresh == NULL || auth_token_hash(refresh, h) != 0)
		return INK_ERR_EXPIRED;
	if ((r = st->ops->oauth_token_get(st, h, was)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_EXPIRED : r;
	if (was->kind != STORE_TOKEN_REFRESH) {
		*why = "not a refresh token";
		return INK_ERR_EXPIRED;
	}
	/* A refresh token is its client's only (RFC 6749 6): in another's hands it was stolen,
	 * and its grant ends. */
	if (client_id == NULL || strcmp(client_id, was->client_id) != 0) {
		if (st->ops->oauth_token_revoke_family(st, was->family, ink_now(), &n) != 0)
			log_error("cannot revoke a grant whose refresh token another client sent");
		*why = "refresh token of another client: its grant is revoked";
		return INK_ERR_AUTH;
	}
	if (was->revoked_at != 0) {
		*why = "revoked refresh token";
		return INK_ERR_EXPIRED;
	}
	if (was->expires_at <= ink_now()) {
		*why = "expired refresh token";
		return INK_ERR_EXPIRED;
	}
	/* Rotated once: a second use means two holders (RFC 9700 4.14.2): the family ends. */
	if (was->used_at != 0 || (r = st->ops->oauth_token_use(st, h, ink_now())) == INK_ERR_REPLAY) {
		if (st->ops->oauth_token_revoke_family(st, was->family, ink_now(), &n) != 0)
			log_error("cannot revoke a grant whose refresh token was reused");
		*why = "refresh token reused: its grant is revoked";
		return INK_ERR_REPLAY;
	}
	if (r != 0)
		return r;
	*why = NULL;
	return pair_put(st, was->family, was->client_id, was->user_id, access_ttl, was->expires_at,
	                out);
}

int
oauth_service_token_find(struct store *st, const char *token, struct store_oauth_token *out)
{
	uint8_t h[32];
	int r;

	memset(out, 0, sizeof(*out));
	if (token == NULL || auth_token_hash(token, h) != 0)
		return INK_ERR_AUTH;
	if ((r = st->ops->oauth_token_get(st, h, out)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
	if (out->kind != STORE_TOKEN_ACCESS || out->revoked_at != 0 || out->expires_at <= ink_now()) {
		memset(out, 0, sizeof(*out));
		return INK_ERR_AUTH;
	}
	return 0;
}

int
oauth_service_revoke(struct store *st, const char *token, const char *client_id, bool *found)
{
	struct store_oauth_token t;
	uint8_t h[32];
	size_t n = 0;
	int r;

	*found = false;
	if (token == NULL || auth_token_hash(token, h) != 0)
		return 0;
	if ((r = st->ops->oauth_token_get(st, h, &t)) != 0)
		return r == INK_ERR_NOT_FOUND ? 0 : r;
	/* RFC 7009 2.1: another client's token is not this client's to revoke */
	if (strcmp(t.client_id, client_id) != 0)
		return 0;
	*found = true;
	/* a refresh token ends its grant with it (RFC 7009 2.1: SHOULD); an access token itself */
	if (t.kind == STORE_TOKEN_REFRESH)
		r = st->ops->oauth_token_revoke_family(st, t.family, ink_now(), &n);
	else if ((r = st->ops->oauth_token_revoke(st, h, ink_now())) == INK_ERR_NOT_FOUND)
		r = 0;
	OPENSSL_cleanse(&t, sizeof(t));
	return r;
}
