/* ep_oauth_authorize: GET|POST /oauth2/authorize — CSC API v2 section 8.3.2, credential scope.
 * The GET checks the client and its exact redirect URI (an unknown one gets an error page,
 * never a redirect), then the request, and shows the consent form with what is to be signed;
 * its POST (CSRF token bound to the page cookie) takes user name, password, PIN and ONE OTP
 * to the SAM, which checks them in one act and mints the SAD; the client gets a single-use
 * code. One TOTP step per consent. The page session, the pushed request and the code are in
 * the store: each request of a flow may reach any node. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "oauth/oauth.h"
#include "web/web.h"

#define COOKIE_NAME "__Host-inkan-page"
#define QUERY_VALUE_MAX 8192
#define FORM_VALUE_MAX 1024

/* What one page request works with. */
struct page_ctx {
	struct srv_request *rq;
	const char *lang;
	char nonce[WEB_NONCE_CHARS + 1];
	char origin[OAUTH_URI_MAX + 1];     /* the client's redirect origin, once known */
	char csrf[OAUTH_TOKEN_CHARS + 1];
	char cookie[128];                   /* Set-Cookie value of a new page session ("" none) */
	const char *page;                   /* the page session's cookie as sent (POST) */
};

static void
page_error(struct page_ctx *pc, unsigned status, enum web_msg msg, const char *detail)
{
	char *html = NULL;

	if (web_error_page(pc->lang, pc->nonce, msg, detail, &html) != 0)
		html = NULL;
	reply_html(pc->rq, status, html, pc->nonce, NULL, NULL);
}

/* The service failed (r): busy, or an internal error. */
static void
page_failed(struct page_ctx *pc, int r)
{
	page_error(pc, r == INK_ERR_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE :
	           MHD_HTTP_INTERNAL_SERVER_ERROR, r == INK_ERR_BUSY ? WEB_MSG_BUSY : WEB_MSG_INTERNAL,
	           NULL);
}

/* A refusal: audited (action, why), and an error page. */
static void
refuse_page(struct page_ctx *pc, unsigned status, enum web_msg msg, const char *why)
{
	req_audit_refusal(pc->rq, "oauth.authorize", why);
	page_error(pc, status, msg, why);
}

/* Back to the client with an error (its redirect URI was checked): audited. */
static void
refuse_redirect(struct page_ctx *pc, const struct oauth_request *req, const char *error,
                const char *why)
{
	char *loc = NULL;

	req_audit_refusal(pc->rq, "oauth.authorize", why);
	if (oauth_redirect_build(req->redirect_uri, "error", error, req->state, &loc) != 0) {
		page_error(pc, MHD_HTTP_INTERNAL_SERVER_ERROR, WEB_MSG_INTERNAL, NULL);
		return;
	}
	reply_redirect(pc->rq, loc, pc->origin);
	free(loc);
}

/* A client that named the signer's account (account_token) gets no other signer's consent:
 * false after the refusal page (audited; the request cannot be answered any more). username:
 * the signer as typed in the form (user names are unique regardless of case, so the typed
 * name is the account that will be checked). */
static bool
account_is_signer(struct page_ctx *pc, const struct oauth_request *req, const char *username)
{
	struct srv_request *rq = pc->rq;

	if (req->account[0] == '\0' || (username != NULL && strcasecmp(req->account, username) == 0))
		return true;
	if (pc->page != NULL)
		oauth_page_done(rq->srv->st, pc->page);
	refuse_page(pc, MHD_HTTP_FORBIDDEN, WEB_MSG_WRONG_ACCOUNT,
	            "the signer is not the account the client's account_token names");
	return false;
}

/* The consent page, for a signer not known yet, who enters user name, password, PIN and OTP
 * in the one form: nothing of the credential's owner is shown before they proved who they
 * are. */
static void
show_consent(struct page_ctx *pc, const struct oauth_request *req, unsigned status,
             enum web_msg msg)
{
	const uint8_t *hashes[OAUTH_HASHES_MAX];
	const char *labels[OAUTH_HASHES_MAX];
	char *html = NULL;
	size_t i;

	for (i = 0; i < req->n; i++) {
		hashes[i] = req->hashes[i];
		labels[i] = req->labels[i];
	}
	{
		struct web_consent p = {
			.lang = pc->lang, .nonce = pc->nonce, .csrf = pc->csrf,
			.client_name = req->client_name, .username = NULL, .cred = req->cred,
			.cert_subject = NULL, .hash_oid = req->hash_oid,
			.description = req->description, .hashes = hashes, .hash_lens = req->hash_lens,
			.labels = labels, .n = req->n, .msg = msg,
		};

		if (web_consent_page(&p, &html) != 0)
			html = NULL;
	}
	reply_html(pc->rq, status, html, pc->nonce, pc->origin,
	           pc->cookie[0] != '\0' ? pc->cookie : NULL);
}

/* The service scope's consent page: what the client may (and may not) do, and the form. */
static void
show_service(struct page_ctx *pc, const struct oauth_request *req, unsigned status,
             enum web_msg msg)
{
	struct web_service p = {
		.lang = pc->lang, .nonce = pc->nonce, .csrf = pc->csrf, .client_name = req->client_name,
		.msg = msg,
	};
	char *html = NULL;

	if (web_service_page(&p, &html) != 0)
		html = NULL;
	reply_html(pc->rq, status, html, pc->nonce, pc->origin,
	           pc->cookie[0] != '\0' ? pc->cookie : NULL);
}

static int
page_start(struct page_ctx *pc, struct srv_request *rq, const char *lang_param)
{
	memset(pc, 0, sizeof(*pc));
	pc->rq = rq;
	pc->lang = web_lang(lang_param, MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                                             MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	return web_nonce(pc->nonce);
}

void
ep_oauth_authorize(struct srv_request *rq)
{
	struct oauth_request *req = NULL;
	struct store_oauth_client cl;
	struct oauth_form f = { 0 };
	struct page_ctx pc;
	char cookie[OAUTH_TOKEN_CHARS + 1];
	const char *why, *error, *uri;
	bool fresh = false, par = false;
	int r;

	memset(&cl, 0, sizeof(cl));
	if (req_query_form(rq, QUERY_VALUE_MAX, &f) != 0) {
		if (page_start(&pc, rq, NULL) == 0)
			refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_REQUEST,
			            "malformed or repeated query parameters");
		else
			reply_ink_err(rq, INK_ERR_INTERNAL, NULL);
		return;
	}
	if (page_start(&pc, rq, oauth_form_get(&f, "lang")) != 0 ||
	    (req = calloc(1, sizeof(*req))) == NULL) {
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		goto out;
	}
	/* Who asks, and where the answer goes: until both are known good, nothing redirects. */
	if (oauth_client_find(rq->srv->st, oauth_form_get(&f, "client_id"), &cl) != 0) {
		refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_CLIENT, "unknown client_id");
		goto out;
	}
	/* RFC 9126: a pushed request comes back as its request_uri alone (single use) */
	if (oauth_form_get(&f, "request_uri") != NULL) {
		par = true;
		if (oauth_par_take(rq->srv->st, oauth_form_get(&f, "request_uri"), cl.id, req) != 0) {
			refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_SESSION,
			            "unknown, used or expired request_uri");
			goto out;
		}
		uri = req->redirect_uri;
	} else {
		uri = oauth_form_get(&f, "redirect_uri");
	}
	if (!oauth_redirect_registered(&cl, uri) ||
	    oauth_uri_origin(uri, pc.origin, sizeof(pc.origin)) != 0) {
		pc.origin[0] = '\0';
		refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_REDIRECT,
		            "redirect_uri is not registered for the client");
		goto out;
	}
	memcpy(req->client_id, cl.id, sizeof(req->client_id));
	memcpy(req->client_name, cl.name, sizeof(req->client_name));
	if (!par)
		snprintf(req->redirect_uri, sizeof(req->redirect_uri), "%s", uri);
	snprintf(req->lang, sizeof(req->lang), "%s", pc.lang);
	if (par) {
		/* the pushed request stands as pushed: nothing of this URL but lang changes it */
		if (oauth_form_get(&f, "account_token") != NULL) {
			refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_REQUEST,
			            "account_token belongs in the pushed request");
			goto out;
		}
	} else if ((why = srv_oauth_read_request(&f, req, &error)) != NULL ||
	           (why = srv_oauth_account_token(rq, &f, &cl, req)) != NULL) {
		const char *st = oauth_form_get(&f, "state");

		snprintf(req->state, sizeof(req->state), "%s", st != NULL && strlen(st) <= OAUTH_STATE_MAX ? st : "");
		refuse_redirect(&pc, req, error, why);
		goto out;
	}
	r = oauth_page_open(rq->srv->st, MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
	                    COOKIE_NAME), rq->source, req, cookie, pc.csrf, &fresh);
	if (r != 0) {
		page_failed(&pc, r);
		goto out;
	}
	if (fresh)
		snprintf(pc.cookie, sizeof(pc.cookie), COOKIE_NAME "=%s; Path=/; Secure; HttpOnly; "
		         "SameSite=Strict", cookie);
	explicit_bzero(cookie, sizeof(cookie));
	if (req->service)
		show_service(&pc, req, MHD_HTTP_OK, WEB_MSG_NONE);
	else
		show_consent(&pc, req, MHD_HTTP_OK, WEB_MSG_NONE);
out:
	if (req != NULL) {
		explicit_bzero(req, sizeof(*req));
		free(req);
	}
	explicit_bzero(pc.cookie, sizeof(pc.cookie));
	explicit_bzero(pc.csrf, sizeof(pc.csrf));
	oauth_form_free(&f);
}

static enum web_msg
consent_msg(int r)
{
	switch (r) {
	case INK_ERR_AUTH: case INK_ERR_BAD_PIN: case INK_ERR_REPLAY: return WEB_MSG_AUTHZ_FAILED;
	case INK_ERR_PASSWORD_CHANGE: case INK_ERR_ENROL: return WEB_MSG_LOGIN_FAILED;
	case INK_ERR_DENIED: return WEB_MSG_NOT_SIGNER;
	case INK_ERR_LOCKED: return WEB_MSG_CRED_LOCKED;
	case INK_ERR_BUSY: return WEB_MSG_BUSY;
	case INK_ERR_NOT_FOUND: case INK_ERR_DISABLED: case INK_ERR_EXPIRED: case INK_ERR_POLICY:
		return WEB_MSG_NO_CREDENTIAL;
	default: return WEB_MSG_INTERNAL;
	}
}

/* The client may have been removed while the signer read the page: then an error page (the
 * pending request answered), and true. */
static bool
client_gone(struct page_ctx *pc, const struct oauth_request *req, const char *cookie)
{
	struct store_oauth_client cl;

	if (oauth_client_find(pc->rq->srv->st, req->client_id, &cl) == 0 &&
	    oauth_redirect_registered(&cl, req->redirect_uri))
		return false;
	oauth_page_done(pc->rq->srv->st, cookie);
	refuse_page(pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_CLIENT, "the client was removed");
	return true;
}

/* Sends the browser back to the client with a new code for req (sad: the SAD, or a service
 * grant's family id, living until expires), audited as the signer's consent. */
static void
answer_code(struct page_ctx *pc, const struct oauth_request *req, const char *cookie,
            const char *sad, int64_t expires, const char *what)
{
	struct srv_request *rq = pc->rq;
	char code[OAUTH_TOKEN_CHARS + 1], detail[128], *loc = NULL;
	int r;

	code[0] = '\0';
	r = oauth_code_issue(rq->srv->st, req, &rq->who, sad, expires, rq->srv->cfg.oauth_code_ttl,
	                     code);
	if (r == 0)
		r = oauth_redirect_build(req->redirect_uri, "code", code, req->state, &loc);
	if (r == 0) {
		struct audit_event ev = {
			.actor = rq->who.username, .role = "signer", .action = "oauth.consent",
			.subject = req->service ? rq->who.username : req->cred, .result = AUDIT_SUCCESS,
			.request_id = rq->request_id, .source = rq->source, .detail = detail,
		};

		snprintf(detail, sizeof(detail), "client %s; code issued; %s", req->client_id, what);
		/* no code without its record */
		if (req_audit_event(rq, &ev) != 0)
			r = INK_ERR_STORE;
	}
	if (r != 0) {
		if (!req->service && auth_sad_drop(&rq->srv->actx, sad) != 0)
			log_error("could not drop a SAD that no code holds");
		page_failed(pc, r);
		goto out;
	}
	oauth_page_done(rq->srv->st, cookie);
	reply_redirect(rq, loc, pc->origin);
out:
	explicit_bzero(code, sizeof(code));
	if (loc != NULL) {
		explicit_bzero(loc, strlen(loc));
		free(loc);
	}
}

/* The consent step: the signer's password (here: no session is opened), then PIN and OTP
 * (the SAM, which mints the SAD); a code goes to the client. */
static void
step_consent(struct page_ctx *pc, const struct oauth_form *f, const struct oauth_request *req,
             const char *cookie)
{
	struct srv_request *rq = pc->rq;
	const uint8_t *hashes[OAUTH_HASHES_MAX];
	const char *pin = oauth_form_get(f, "pin"), *otp = oauth_form_get(f, "otp");
	const char *user = oauth_form_get(f, "username"), *pw = oauth_form_get(f, "password");
	char sad[AUTH_SAD_CHARS + 1];
	int64_t expires_in = 0;
	size_t i;
	int r;

	sad[0] = '\0';
	if (pin == NULL || otp == NULL || pin[0] == '\0' || otp[0] == '\0' || user == NULL ||
	    pw == NULL || user[0] == '\0') {
		req_audit_refusal(rq, "oauth.authorize", "user name, password, PIN and OTP are required");
		show_consent(pc, req, MHD_HTTP_BAD_REQUEST, WEB_MSG_AUTHZ_FAILED);
		return;
	}
	if (!account_is_signer(pc, req, user) || client_gone(pc, req, cookie))
		return;
	for (i = 0; i < req->n; i++)
		hashes[i] = req->hashes[i];
	r = auth_oauth_consent(&rq->srv->actx, &rq->areq, user, pw, req->client_id, req->cred,
	                       hashes, req->hash_lens, req->n,
	                       req->hash_oid[0] != '\0' ? req->hash_oid : NULL, pin, otp, sad,
	                       &expires_in, &rq->who);
	if (r != 0) {
		if (r == INK_ERR_NOT_FOUND) {
			/* the SAM found no such credential of this signer */
			oauth_page_done(rq->srv->st, cookie);
			refuse_page(pc, MHD_HTTP_FORBIDDEN, WEB_MSG_NO_CREDENTIAL,
			            "the credential is not the signer's");
		} else if (r == INK_ERR_AUTH || r == INK_ERR_BAD_PIN || r == INK_ERR_PASSWORD_CHANGE ||
		           r == INK_ERR_DENIED)
			show_consent(pc, req, r == INK_ERR_DENIED ? MHD_HTTP_FORBIDDEN :
			             MHD_HTTP_UNAUTHORIZED, consent_msg(r));
		else
			page_error(pc, r == INK_ERR_BUSY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_FORBIDDEN,
			           consent_msg(r), NULL);
		goto out;
	}
	{
		char what[48];

		snprintf(what, sizeof(what), "%zu hash(es)", req->n);
		answer_code(pc, req, cookie, sad, ink_now() + expires_in, what);
	}
out:
	explicit_bzero(sad, sizeof(sad));
}

/* The service scope's consent: password (here) and one OTP (the SAM); no session, no key. */
static void
step_service(struct page_ctx *pc, const struct oauth_form *f, const struct oauth_request *req,
             const char *cookie)
{
	struct srv_request *rq = pc->rq;
	const char *user = oauth_form_get(f, "username"), *pw = oauth_form_get(f, "password");
	const char *otp = oauth_form_get(f, "otp");
	char family[STORE_ID_LEN + 1];
	int r;

	if (user == NULL || pw == NULL || otp == NULL || user[0] == '\0' || otp[0] == '\0') {
		req_audit_refusal(rq, "oauth.authorize", "user name, password and OTP are required");
		show_service(pc, req, MHD_HTTP_BAD_REQUEST, WEB_MSG_LOGIN_FAILED);
		return;
	}
	if (!account_is_signer(pc, req, user) || client_gone(pc, req, cookie))
		return;
	r = auth_oauth_service(&rq->srv->actx, &rq->areq, user, pw, otp, req->client_id, &rq->who);
	if (r == 0)
		r = oauth_service_family_new(family);
	if (r == INK_ERR_AUTH || r == INK_ERR_PASSWORD_CHANGE || r == INK_ERR_DENIED ||
	    r == INK_ERR_LOCKED) {
		show_service(pc, req, r == INK_ERR_AUTH ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_FORBIDDEN,
		             r == INK_ERR_DENIED ? WEB_MSG_NOT_SIGNER : r == INK_ERR_LOCKED ?
		             WEB_MSG_LOCKED : WEB_MSG_LOGIN_FAILED);
		return;
	}
	if (r != 0) {
		page_failed(pc, r);
		return;
	}
	answer_code(pc, req, cookie, family, ink_now() + rq->srv->cfg.oauth_refresh_ttl,
	            "service scope");
}

void
ep_oauth_authorize_post(struct srv_request *rq)
{
	struct oauth_request *req = NULL;
	struct oauth_form f = { 0 };
	struct page_ctx pc;
	const char *cookie, *action, *step;
	char *loc = NULL;
	bool has_req = false;
	int r;

	if (page_start(&pc, rq, NULL) != 0 || (req = calloc(1, sizeof(*req))) == NULL) {
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		free(req);
		return;
	}
	if (!req_media_is(rq, "application/x-www-form-urlencoded") ||
	    oauth_form_parse((const char *)rq->body.data, rq->body.len, FORM_VALUE_MAX, &f) != 0) {
		refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_REQUEST, "malformed form");
		goto out;
	}
	pc.lang = web_lang(oauth_form_get(&f, "lang"), MHD_lookup_connection_value(rq->conn,
	                   MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_LANGUAGE));
	cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, COOKIE_NAME);
	pc.page = cookie;
	r = oauth_page_post(rq->srv->st, cookie, oauth_form_get(&f, "csrf_token"), req, &has_req);
	if (r != 0 && r != INK_ERR_AUTH && r != INK_ERR_DENIED) {
		page_failed(&pc, r);
		goto out;
	}
	if (r != 0 || !has_req) {
		refuse_page(&pc, MHD_HTTP_FORBIDDEN, WEB_MSG_SESSION,
		            r == INK_ERR_DENIED ? "CSRF token missing or wrong" :
		            r != 0 ? "no page session (cookie missing or expired)" :
		            "no authorization request pending");
		goto out;
	}
	/* the form the signer answers: the same CSRF token again, should it be shown anew */
	snprintf(pc.csrf, sizeof(pc.csrf), "%s", oauth_form_get(&f, "csrf_token"));
	if (oauth_uri_origin(req->redirect_uri, pc.origin, sizeof(pc.origin)) != 0)
		pc.origin[0] = '\0';
	action = oauth_form_get(&f, "action");
	step = oauth_form_get(&f, "step");
	if (action != NULL && strcmp(action, "cancel") == 0) {
		oauth_page_done(rq->srv->st, cookie);
		if (oauth_redirect_build(req->redirect_uri, "error", "access_denied", req->state, &loc) != 0) {
			page_error(&pc, MHD_HTTP_INTERNAL_SERVER_ERROR, WEB_MSG_INTERNAL, NULL);
			goto out;
		}
		{
			char detail[96];
			struct audit_event ev = {
				.action = "oauth.consent", .subject = req->cred, .result = "access_denied",
				.request_id = rq->request_id, .source = rq->source, .detail = detail,
			};

			snprintf(detail, sizeof(detail), "client %s; the signer cancelled", req->client_id);
			if (req_audit_event(rq, &ev) != 0)
				log_error("cannot audit a cancelled consent");
		}
		reply_redirect(rq, loc, pc.origin);
		goto out;
	}
	if (step != NULL && strcmp(step, "consent") == 0 && !req->service)
		step_consent(&pc, &f, req, cookie);
	else if (step != NULL && strcmp(step, "service") == 0 && req->service)
		step_service(&pc, &f, req, cookie);
	else
		refuse_page(&pc, MHD_HTTP_BAD_REQUEST, WEB_MSG_BAD_REQUEST, "unexpected step");
out:
	free(loc);
	explicit_bzero(req, sizeof(*req));
	free(req);
	explicit_bzero(pc.csrf, sizeof(pc.csrf));
	oauth_form_free(&f);
}
