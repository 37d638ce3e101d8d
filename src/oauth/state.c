/* state: what the authorization server keeps between a flow's requests — page sessions
 * (cookie, CSRF token, the pending request), pushed requests, authorization codes (each
 * holding one SAD until it is redeemed) and the access tokens issued from them — in the
 * store, so that any node finishes a flow another began and a restart loses nothing. A row is
 * found by the SHA-256 of its value; its body is sealed under a key derived from the value
 * (seal.c): the database alone holds neither a SAD nor a request it could change unseen. */
#include "oauth/oauth_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGES_MAX 65536
#define PARS_MAX 16384
/* Page sessions per source address: past it the source's own oldest one makes room, so one
 * address cannot push out other signers' pages. */
#define PAGES_PER_SOURCE 64
/* Live pushed requests per source address (a public client's id is public: anyone may push
 * in its name), so that one address cannot fill the table for every client. */
#define PARS_PER_SOURCE 64

/* ---- bodies: JSON, sealed ---- */

/* Copies string key of o into dst[dstsz]; false when missing, not a string or too long. */
static bool
get_str(const json_t *o, const char *key, char *dst, size_t dstsz)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) >= dstsz ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return false;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return true;
}

static bool
get_int(const json_t *o, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = (int64_t)json_integer_value(v);
	return true;
}

/* Standard base64 of b[len] as a new JSON string (NULL on failure). */
static json_t *
b64_json(const uint8_t *b, size_t len)
{
	char *t = NULL;
	json_t *v;

	if (b64_encode(b, len, &t) != 0)
		return NULL;
	v = json_string(t);
	free(t);
	return v;
}

/* Decodes the base64 string v into dst[max] (max <= OAUTH_HASH_MAX); false unless 1..max
 * bytes. */
static bool
b64_get(const json_t *v, uint8_t *dst, size_t max, size_t *len)
{
	const char *t = json_string_value(v);
	uint8_t b[OAUTH_HASH_MAX + 3];
	bool ok;

	*len = 0;
	ok = t != NULL && strlen(t) <= B64_LEN(OAUTH_HASH_MAX) &&
	    b64_decode_to(t, strlen(t), b, sizeof(b), len) == 0 && *len > 0 && *len <= max;
	if (ok)
		memcpy(dst, b, *len);
	else
		*len = 0;
	return ok;
}

static json_t *
request_json(const struct oauth_request *req)
{
	json_t *o, *hs = json_array(), *ls = json_array();
	size_t i;

	o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
	              "service", req->service, "client", req->client_id, "name", req->client_name,
	              "uri", req->redirect_uri, "state", req->state, "challenge", req->challenge,
	              "cred", req->cred, "oid", req->hash_oid, "desc", req->description,
	              "lang", req->lang, "account", req->account);
	for (i = 0; o != NULL && hs != NULL && ls != NULL && i < req->n; i++)
		if (json_array_append_new(hs, b64_json(req->hashes[i], req->hash_lens[i])) != 0 ||
		    json_array_append_new(ls, json_string(req->labels[i])) != 0)
			break;
	if (o == NULL || hs == NULL || ls == NULL || i < req->n ||
	    json_object_set(o, "hashes", hs) != 0 || json_object_set(o, "labels", ls) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(hs);
	json_decref(ls);
	return o;
}

/* A request from its JSON; false when anything is missing or out of bounds. */
static bool
request_read(const json_t *o, struct oauth_request *req)
{
	const json_t *hs = json_object_get(o, "hashes"), *ls = json_object_get(o, "labels");
	const json_t *svc = json_object_get(o, "service");
	size_t i;

	memset(req, 0, sizeof(*req));
	if (!json_is_boolean(svc) || !json_is_array(hs) || !json_is_array(ls) ||
	    json_array_size(hs) > OAUTH_HASHES_MAX || json_array_size(ls) != json_array_size(hs) ||
	    !get_str(o, "client", req->client_id, sizeof(req->client_id)) ||
	    !get_str(o, "name", req->client_name, sizeof(req->client_name)) ||
	    !get_str(o, "uri", req->redirect_uri, sizeof(req->redirect_uri)) ||
	    !get_str(o, "state", req->state, sizeof(req->state)) ||
	    !get_str(o, "challenge", req->challenge, sizeof(req->challenge)) ||
	    !get_str(o, "cred", req->cred, sizeof(req->cred)) ||
	    !get_str(o, "oid", req->hash_oid, sizeof(req->hash_oid)) ||
	    !get_str(o, "desc", req->description, sizeof(req->description)) ||
	    !get_str(o, "lang", req->lang, sizeof(req->lang)) ||
	    !get_str(o, "account", req->account, sizeof(req->account)))
		goto bad;
	req->service = json_is_true(svc);
	req->n = json_array_size(hs);
	for (i = 0; i < req->n; i++) {
		const json_t *l = json_array_get(ls, i);

		if (!b64_get(json_array_get(hs, i), req->hashes[i], OAUTH_HASH_MAX,
		             &req->hash_lens[i]) || !json_is_string(l) ||
		    json_string_length(l) > OAUTH_LABEL_MAX)
			goto bad;
		snprintf(req->labels[i], sizeof(req->labels[i]), "%s", json_string_value(l));
	}
	return true;
bad:
	OPENSSL_cleanse(req, sizeof(*req));
	return false;
}

static json_t *
info_json(const struct oauth_token_info *info)
{
	const struct auth_principal *w = &info->who;

	return json_pack("{s:s, s:s, s:I, s:b, s:b, s:o, s:s, s:s, s:I, s:b, s:s}",
	                 "uid", w->user_id, "user", w->username, "roles", (json_int_t)w->roles,
	                 "pco", w->password_change_only, "eo", w->enrol_only,
	                 "binding", b64_json(w->token_hash, sizeof(w->token_hash)),
	                 "client", info->client_id, "cred", info->cred,
	                 "expires", (json_int_t)info->expires, "service", info->service,
	                 "family", info->family);
}

static bool
info_read(const json_t *o, struct oauth_token_info *info)
{
	struct auth_principal *w = &info->who;
	int64_t roles;
	size_t len;

	memset(info, 0, sizeof(*info));
	if (!get_str(o, "uid", w->user_id, sizeof(w->user_id)) ||
	    !get_str(o, "user", w->username, sizeof(w->username)) ||
	    !get_int(o, "roles", &roles) || roles < 0 || roles > UINT32_MAX ||
	    !json_is_boolean(json_object_get(o, "pco")) ||
	    !json_is_boolean(json_object_get(o, "eo")) ||
	    !json_is_boolean(json_object_get(o, "service")) ||
	    !get_str(o, "client", info->client_id, sizeof(info->client_id)) ||
	    !get_str(o, "cred", info->cred, sizeof(info->cred)) ||
	    !get_int(o, "expires", &info->expires) ||
	    !get_str(o, "family", info->family, sizeof(info->family)))
		goto bad;
	/* an all-zero binding (no session: the one-step consent) encodes as base64 all the same */
	if (!b64_get(json_object_get(o, "binding"), w->token_hash, sizeof(w->token_hash), &len) ||
	    len != sizeof(w->token_hash))
		goto bad;
	w->roles = (uint32_t)roles;
	w->password_change_only = json_is_true(json_object_get(o, "pco"));
	w->enrol_only = json_is_true(json_object_get(o, "eo"));
	info->service = json_is_true(json_object_get(o, "service"));
	return true;
bad:
	OPENSSL_cleanse(info, sizeof(*info));
	return false;
}

/* Seals o (consumed) into f's body under value. */
static int
body_seal(enum oauth_seal_kind kind, const char *value, json_t *o, struct store_oauth_flow *f)
{
	char *text = NULL;
	int r;

	if (o == NULL)
		return INK_ERR_ALLOC;
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return INK_ERR_ALLOC;
	r = oauth_seal(kind, value, f->hash, text, strlen(text), &f->body, &f->body_len);
	json_text_free(text);
	return r;
}

/* Opens f's body under value into *o (json_decref it). */
static int
body_open(enum oauth_seal_kind kind, const char *value, const struct store_oauth_flow *f,
          json_t **o)
{
	char *text = NULL;
	int r;

	*o = NULL;
	if ((r = oauth_unseal(kind, value, f->hash, f->body, f->body_len, &text)) != 0)
		return r;
	if ((*o = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_object(*o)) {
		json_decref(*o);
		*o = NULL;
		r = INK_ERR_STORE;
	}
	ink_freezero_str(text);
	return r;
}

/* ---- page sessions ---- */

/* The live row (state LIVE, not expired) of kind found by value into *f; INK_ERR_AUTH when
 * there is none. */
static int
live_get(struct store *st, int kind, const char *value, struct store_oauth_flow *f)
{
	uint8_t h[32];
	int r;

	memset(f, 0, sizeof(*f));
	if (value == NULL || auth_token_hash(value, h) != 0)
		return INK_ERR_AUTH;
	if ((r = st->ops->oauth_flow_get(st, kind, h, f)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_AUTH : r;
	if (f->state != STORE_FLOW_LIVE || f->expires_at <= ink_now()) {
		store_oauth_flow_clear(f);
		return INK_ERR_AUTH;
	}
	return 0;
}

/* The live page session of cookie into *f (INK_ERR_AUTH: none, or expired). */
static int
page_get(struct store *st, const char *cookie, struct store_oauth_flow *f)
{
	int r;

	if ((r = live_get(st, STORE_FLOW_PAGE, cookie, f)) == 0 && !f->has_aux) {
		store_oauth_flow_clear(f);
		r = INK_ERR_AUTH;
	}
	return r;
}

int
oauth_page_open(struct store *st, const char *cookie, const char *source,
                const struct oauth_request *req,
                char cookie_out[static OAUTH_TOKEN_CHARS + 1],
                char csrf[static OAUTH_TOKEN_CHARS + 1], bool *fresh)
{
	struct store_oauth_flow f;
	const char *value = cookie;
	int64_t now = ink_now();
	int r;

	cookie_out[0] = csrf[0] = '\0';
	*fresh = false;
	if ((r = page_get(st, cookie, &f)) != 0 && r != INK_ERR_AUTH)
		return r;
	if (r == INK_ERR_AUTH) {
		memset(&f, 0, sizeof(f));
		f.kind = STORE_FLOW_PAGE;
		if ((r = auth_token_new(cookie_out, f.hash)) != 0)
			goto out;
		snprintf(f.source, sizeof(f.source), "%s", source != NULL ? source : "");
		value = cookie_out;
		*fresh = true;
	}
	store_oauth_flow_clear(&f);
	/* a new CSRF token whenever a request is shown: a form of a page showing the old one (its
	 * hashes, its client) must not answer the new one */
	if ((r = oauth_random_token(csrf)) != 0 || (r = auth_token_hash(csrf, f.aux)) != 0 ||
	    (r = body_seal(OAUTH_SEAL_PAGE, value, request_json(req), &f)) != 0)
		goto out;
	f.has_aux = true;
	f.expires_at = f.keep_until = now + OAUTH_PAGE_TTL;
	r = *fresh ? st->ops->oauth_flow_insert(st, &f, now, PAGES_PER_SOURCE, PAGES_MAX, true) :
	    st->ops->oauth_flow_update(st, &f, STORE_FLOW_LIVE);
out:
	store_oauth_flow_clear(&f);
	if (r != 0) {
		OPENSSL_cleanse(cookie_out, OAUTH_TOKEN_CHARS + 1);
		OPENSSL_cleanse(csrf, OAUTH_TOKEN_CHARS + 1);
		*fresh = false;
	}
	return r;
}

int
oauth_page_post(struct store *st, const char *cookie, const char *csrf,
                struct oauth_request *req, bool *has_req)
{
	struct store_oauth_flow f;
	json_t *o = NULL;
	uint8_t h[32];
	int r;

	*has_req = false;
	if ((r = page_get(st, cookie, &f)) != 0)
		return r;
	if (csrf == NULL || strlen(csrf) != OAUTH_TOKEN_CHARS || auth_token_hash(csrf, h) != 0 ||
	    CRYPTO_memcmp(h, f.aux, 32) != 0) {
		r = INK_ERR_DENIED;
		goto out;
	}
	if (f.body != NULL) {
		if ((r = body_open(OAUTH_SEAL_PAGE, cookie, &f, &o)) != 0)
			goto out;
		if (!request_read(o, req)) {
			r = INK_ERR_STORE;
			goto out;
		}
		*has_req = true;
	}
	/* in use: it lives on */
	f.expires_at = f.keep_until = ink_now() + OAUTH_PAGE_TTL;
	if (st->ops->oauth_flow_update(st, &f, STORE_FLOW_LIVE) != 0)
		log_warn("a page session's life could not be extended");
out:
	json_decref(o);
	store_oauth_flow_clear(&f);
	return r;
}

void
oauth_page_done(struct store *st, const char *cookie)
{
	struct store_oauth_flow f;

	if (page_get(st, cookie, &f) != 0)
		return;
	store_oauth_flow_clear(&f);
	if (st->ops->oauth_flow_update(st, &f, STORE_FLOW_LIVE) != 0)
		log_error("a page session's answered request could not be dropped");
}

/* ---- codes and the tokens issued from them ---- */

/* A code's body: what it is bound to, what it gives, and (until redeemed) the SAD. */
static json_t *
code_json(const char *client_id, const char *redirect_uri, const char *challenge,
          const struct oauth_token_info *info, const char *sad)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "client", client_id, "uri", redirect_uri,
	                      "challenge", challenge, "info", info_json(info));

	if (o != NULL && sad != NULL && json_object_set_new(o, "sad", json_string(sad)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

int
oauth_code_issue(struct store *st, const struct oauth_request *req,
                 const struct auth_principal *who, const char *sad, int64_t sad_expires,
                 int64_t ttl, char code[static OAUTH_TOKEN_CHARS + 1])
{
	struct oauth_token_info info;
	struct store_oauth_flow f;
	int64_t now = ink_now();
	int r;

	code[0] = '\0';
	memset(&f, 0, sizeof(f));
	memset(&info, 0, sizeof(info));
	if (sad == NULL || sad[0] == '\0')
		return INK_ERR_INVALID;
	info.who = *who;
	memcpy(info.client_id, req->client_id, sizeof(info.client_id));
	memcpy(info.cred, req->cred, sizeof(info.cred));
	info.expires = sad_expires;
	info.service = req->service;
	if (req->service)
		snprintf(info.family, sizeof(info.family), "%s", sad);
	f.kind = STORE_FLOW_CODE;
	memcpy(f.client_id, req->client_id, sizeof(f.client_id));
	f.expires_at = now + (ttl > 0 && ttl < OAUTH_CODE_TTL ? ttl : OAUTH_CODE_TTL);
	/* a redeemed code is remembered as long as its token may live */
	f.keep_until = sad_expires > f.expires_at ? sad_expires : f.expires_at;
	if ((r = auth_token_new(code, f.hash)) != 0 ||
	    (r = body_seal(OAUTH_SEAL_CODE, code, code_json(req->client_id, req->redirect_uri,
	                   req->challenge, &info, req->service ? NULL : sad), &f)) != 0)
		goto out;
	r = st->ops->oauth_flow_insert(st, &f, now, 0, 0, false);
out:
	store_oauth_flow_clear(&f);
	OPENSSL_cleanse(&info, sizeof(info));
	if (r != 0)
		OPENSSL_cleanse(code, OAUTH_TOKEN_CHARS + 1);
	return r;
}

/* Revokes the token whose hash a replayed code's row keeps. */
static void
token_revoke_hash(struct store *st, const uint8_t h[static 32])
{
	struct store_oauth_flow t;

	if (st->ops->oauth_flow_get(st, STORE_FLOW_TOKEN, h, &t) != 0)
		return;
	t.state = STORE_FLOW_REVOKED;
	if (st->ops->oauth_flow_update(st, &t, STORE_FLOW_LIVE) != 0)
		log_warn("the token of a replayed code was revoked already, or could not be");
	store_oauth_flow_clear(&t);
}

/* A code that could not be taken: why (unknown, expired, or spent before — then what it gave,
 * and the token issued from it revoked). */
static int
code_refused(struct store *st, const char *code, const uint8_t h[static 32],
             struct oauth_token_info *info, const char **why)
{
	struct store_oauth_flow f;
	json_t *o = NULL;
	int r;

	if ((r = st->ops->oauth_flow_get(st, STORE_FLOW_CODE, h, &f)) != 0) {
		*why = "unknown or expired code";
		return r == INK_ERR_NOT_FOUND ? INK_ERR_EXPIRED : r;
	}
	if (f.state == STORE_FLOW_SPENT) {
		/* Taken by another attempt, perhaps still issuing its token: marked replayed, so
		 * that one's settling finds it so and revokes what it issued (oauth_code_redeem).
		 * Settled meanwhile (ISSUED): its token is revoked here, below. */
		f.state = STORE_FLOW_REVOKED;
		if ((r = st->ops->oauth_flow_update(st, &f, STORE_FLOW_SPENT)) == INK_ERR_NOT_FOUND) {
			store_oauth_flow_clear(&f);
			if ((r = st->ops->oauth_flow_get(st, STORE_FLOW_CODE, h, &f)) != 0) {
				*why = "unknown or expired code";
				return r == INK_ERR_NOT_FOUND ? INK_ERR_EXPIRED : r;
			}
		} else {
			f.state = STORE_FLOW_SPENT;
		}
	}
	if (f.state == STORE_FLOW_LIVE) {
		*why = "expired code";
		r = INK_ERR_EXPIRED;
	} else if (f.state == STORE_FLOW_ISSUED) {
		/* RFC 6749 4.1.2: a code used twice revokes what was issued from it */
		if (f.has_aux)
			token_revoke_hash(st, f.aux);
		if (f.body != NULL && body_open(OAUTH_SEAL_CODE, code, &f, &o) == 0 &&
		    !info_read(json_object_get(o, "info"), info))
			memset(info, 0, sizeof(*info));
		*why = "code replayed: the token issued from it is revoked";
		r = INK_ERR_REPLAY;
	} else {
		*why = "code spent by a failed attempt";
		r = INK_ERR_REPLAY;
	}
	json_decref(o);
	store_oauth_flow_clear(&f);
	return r;
}

/* Stores the credential-scope access token (the SAD) the code gave; *th its hash. */
static int
token_put(struct store *st, const char *token, const struct oauth_token_info *info,
          uint8_t th[static 32])
{
	struct store_oauth_flow t;
	int r;

	memset(&t, 0, sizeof(t));
	t.kind = STORE_FLOW_TOKEN;
	memcpy(t.client_id, info->client_id, sizeof(t.client_id));
	t.expires_at = t.keep_until = info->expires;
	if ((r = auth_token_hash(token, t.hash)) != 0 ||
	    (r = body_seal(OAUTH_SEAL_TOKEN, token, info_json(info), &t)) != 0 ||
	    (r = st->ops->oauth_flow_insert(st, &t, ink_now(), 0, 0, false)) != 0)
		goto out;
	memcpy(th, t.hash, 32);
out:
	store_oauth_flow_clear(&t);
	return r;
}

int
oauth_code_redeem(struct store *st, const char *code, const char *client_id,
                  const char *redirect_uri, const char *verifier,
                  char token[static OAUTH_TOKEN_CHARS + 1], struct oauth_token_info *info,
                  const char **why)
{
	char cid[STORE_ID_LEN + 1], uri[OAUTH_URI_MAX + 1], chal[OAUTH_TOKEN_CHARS + 1];
	struct store_oauth_flow f;
	json_t *o = NULL;
	uint8_t h[32];
	int r, rs;

	token[0] = '\0';
	memset(info, 0, sizeof(*info));
	memset(&f, 0, sizeof(f));
	*why = NULL;
	if (code == NULL || auth_token_hash(code, h) != 0) {
		*why = "malformed code";
		return INK_ERR_EXPIRED;
	}
	/* the one step that decides which node (of those racing on it) has the code */
	if ((r = st->ops->oauth_flow_take(st, STORE_FLOW_CODE, h, ink_now(), &f)) != 0)
		return r == INK_ERR_NOT_FOUND ? code_refused(st, code, h, info, why) : r;
	if (body_open(OAUTH_SEAL_CODE, code, &f, &o) != 0 ||
	    !get_str(o, "client", cid, sizeof(cid)) || !get_str(o, "uri", uri, sizeof(uri)) ||
	    !get_str(o, "challenge", chal, sizeof(chal)) ||
	    !info_read(json_object_get(o, "info"), info) ||
	    (!info->service && !get_str(o, "sad", token, OAUTH_TOKEN_CHARS + 1))) {
		*why = "the code's record does not open";
		r = INK_ERR_STORE;
	} else if (client_id == NULL || strcmp(client_id, cid) != 0) {
		*why = "code issued to another client";
		r = INK_ERR_AUTH;
	} else if (redirect_uri == NULL || strcmp(redirect_uri, uri) != 0) {
		*why = "redirect_uri differs from the authorization request's";
		r = INK_ERR_AUTH;
	} else if (!oauth_pkce_verify(chal, verifier)) {
		*why = "wrong PKCE code_verifier";
		r = INK_ERR_AUTH;
	} else if (!info->service && (r = token_put(st, token, info, f.aux)) != 0) {
		*why = "the token could not be stored";
	}
	/* spent whatever the outcome (a wrong verifier burns it); an issued code keeps what it gave
	 * (no SAD), sealed under itself, to end it if the code comes back */
	store_oauth_flow_clear(&f);
	f.has_aux = r == 0 && !info->service;
	if (r == 0) {
		f.state = STORE_FLOW_ISSUED;
		json_object_del(o, "sad");
		if (body_seal(OAUTH_SEAL_CODE, code, json_incref(o), &f) != 0)
			log_warn("a redeemed code's record is kept without what it gave");
	}
	if ((rs = st->ops->oauth_flow_update(st, &f, STORE_FLOW_SPENT)) != 0) {
		if (rs == INK_ERR_NOT_FOUND && r == 0) {
			/* replayed while its token was being issued (code_refused marked it): RFC
			 * 6749 4.1.2, what was issued from it is revoked, and nobody has it */
			if (f.has_aux)
				token_revoke_hash(st, f.aux);
			*why = "code replayed while it was redeemed: the token issued from it is revoked";
			r = INK_ERR_REPLAY;
		} else if (rs != INK_ERR_NOT_FOUND) {
			log_error("a redeemed code's record could not be settled");
		}
	}
	if (r != 0) {
		OPENSSL_cleanse(token, OAUTH_TOKEN_CHARS + 1);
		if (r != INK_ERR_AUTH)
			memset(info, 0, sizeof(*info));
	}
	json_decref(o);
	store_oauth_flow_clear(&f);
	OPENSSL_cleanse(cid, sizeof(cid));
	return r;
}

int
oauth_token_find(struct store *st, const char *token, struct oauth_token_info *info)
{
	struct store_oauth_flow f;
	json_t *o = NULL;
	int r;

	memset(info, 0, sizeof(*info));
	if ((r = live_get(st, STORE_FLOW_TOKEN, token, &f)) != 0)
		return INK_ERR_AUTH;
	if (body_open(OAUTH_SEAL_TOKEN, token, &f, &o) != 0 || !info_read(o, info) ||
	    strcmp(info->client_id, f.client_id) != 0) {
		memset(info, 0, sizeof(*info));
		r = INK_ERR_AUTH;
	}
	json_decref(o);
	store_oauth_flow_clear(&f);
	return r;
}

int
oauth_token_revoke(struct store *st, const char *token, const char *client_id, bool *found)
{
	struct store_oauth_flow f;
	int r;

	*found = false;
	if ((r = live_get(st, STORE_FLOW_TOKEN, token, &f)) != 0)
		return r == INK_ERR_AUTH ? 0 : r;
	if (client_id != NULL && strcmp(f.client_id, client_id) == 0) {
		f.state = STORE_FLOW_REVOKED;
		if ((r = st->ops->oauth_flow_update(st, &f, STORE_FLOW_LIVE)) == 0)
			*found = true;
		else if (r == INK_ERR_NOT_FOUND)
			r = 0;    /* another node revoked it meanwhile */
	}
	store_oauth_flow_clear(&f);
	return r;
}

/* ---- pushed authorization requests ---- */

int
oauth_par_push(struct store *st, const char *source, const struct oauth_request *req,
               char handle[static OAUTH_TOKEN_CHARS + 1])
{
	struct store_oauth_flow f;
	int64_t now = ink_now();
	int r;

	handle[0] = '\0';
	memset(&f, 0, sizeof(f));
	f.kind = STORE_FLOW_PAR;
	memcpy(f.client_id, req->client_id, sizeof(f.client_id));
	snprintf(f.source, sizeof(f.source), "%s", source != NULL ? source : "");
	f.expires_at = f.keep_until = now + OAUTH_PAR_TTL;
	if ((r = auth_token_new(handle, f.hash)) == 0 &&
	    (r = body_seal(OAUTH_SEAL_PAR, handle, request_json(req), &f)) == 0)
		r = st->ops->oauth_flow_insert(st, &f, now, PARS_PER_SOURCE, PARS_MAX, false);
	store_oauth_flow_clear(&f);
	if (r != 0)
		OPENSSL_cleanse(handle, OAUTH_TOKEN_CHARS + 1);
	return r;
}

int
oauth_par_take(struct store *st, const char *request_uri, const char *client_id,
               struct oauth_request *req)
{
	const size_t ul = sizeof(OAUTH_PAR_URN) - 1;
	const char *handle;
	struct store_oauth_flow f;
	json_t *o = NULL;
	uint8_t h[32];
	int r;

	if (request_uri == NULL || client_id == NULL || strncmp(request_uri, OAUTH_PAR_URN, ul) != 0 ||
	    auth_token_hash(request_uri + ul, h) != 0)
		return INK_ERR_EXPIRED;
	handle = request_uri + ul;
	/* single use, whoever presents it (RFC 9126 4) */
	if ((r = st->ops->oauth_flow_take(st, STORE_FLOW_PAR, h, ink_now(), &f)) != 0)
		return r == INK_ERR_NOT_FOUND ? INK_ERR_EXPIRED : r;
	if (strcmp(f.client_id, client_id) != 0 || body_open(OAUTH_SEAL_PAR, handle, &f, &o) != 0 ||
	    !request_read(o, req) || strcmp(req->client_id, client_id) != 0) {
		memset(req, 0, sizeof(*req));
		r = INK_ERR_EXPIRED;
	}
	json_decref(o);
	store_oauth_flow_clear(&f);
	return r;
}

int
oauth_prune(struct store *st, size_t *n)
{
	return st->ops->oauth_prune(st, ink_now(), n);
}
