/* ep_oauth_par: POST /oauth2/pushed_authorize — RFC 9126: the client sends the authorization
 * request (hashes included) in an authenticated POST and gets a short-lived, single-use
 * request_uri; the signer's browser then carries only client_id and request_uri, so the
 * hashes never travel in a URL. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "oauth/oauth.h"

void
ep_oauth_par(struct srv_request *rq)
{
	struct oauth_form f = { 0 };
	struct store_oauth_client cl;
	struct oauth_request *req = NULL;
	char handle[OAUTH_TOKEN_CHARS + 1], uri[sizeof(OAUTH_PAR_URN) + OAUTH_TOKEN_CHARS];
	const char *why, *error, *ru;
	int r;

	handle[0] = '\0';
	if (srv_oauth_form(rq, "oauth.par", &f) != 0)
		return;
	if (srv_oauth_client_auth(rq, &f, "oauth.par", &cl) != 0)
		goto out;
	if ((req = calloc(1, sizeof(*req))) == NULL) {
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		goto out;
	}
	if (oauth_form_get(&f, "request_uri") != NULL) {
		srv_oauth_refuse(rq, "oauth.par", MHD_HTTP_BAD_REQUEST, "invalid_request",
		                 "request_uri is not allowed in a pushed request");
		goto out;
	}
	ru = oauth_form_get(&f, "redirect_uri");
	if (!oauth_redirect_registered(&cl, ru)) {
		srv_oauth_refuse(rq, "oauth.par", MHD_HTTP_BAD_REQUEST, "invalid_request",
		                 "redirect_uri is not registered for the client");
		goto out;
	}
	memcpy(req->client_id, cl.id, sizeof(req->client_id));
	memcpy(req->client_name, cl.name, sizeof(req->client_name));
	snprintf(req->redirect_uri, sizeof(req->redirect_uri), "%s", ru);
	if ((why = srv_oauth_read_request(&f, req, &error)) != NULL ||
	    (why = srv_oauth_account_token(rq, &f, &cl, req)) != NULL) {
		/* error stays invalid_request when only the account_token is wrong */
		srv_oauth_refuse(rq, "oauth.par", MHD_HTTP_BAD_REQUEST, error, why);
		goto out;
	}
	if ((r = oauth_par_push(rq->srv->st, rq->source, req, handle)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	snprintf(uri, sizeof(uri), OAUTH_PAR_URN "%s", handle);
	{
		char detail[128];
		struct audit_event ev = {
			.action = "oauth.par", .subject = req->cred, .result = AUDIT_SUCCESS,
			.request_id = rq->request_id, .source = rq->source, .detail = detail,
		};

		snprintf(detail, sizeof(detail), "client %s; %zu hash(es)", cl.id, req->n);
		if (req_audit_event(rq, &ev) != 0)
			log_error("cannot audit a pushed authorization request");
	}
	reply_json(rq, MHD_HTTP_CREATED, json_pack("{s:s, s:i}", "request_uri", uri, "expires_in",
	                                           OAUTH_PAR_TTL));
out:
	explicit_bzero(handle, sizeof(handle));
	if (req != NULL) {
		explicit_bzero(req, sizeof(*req));
		free(req);
	}
	oauth_form_free(&f);
}
