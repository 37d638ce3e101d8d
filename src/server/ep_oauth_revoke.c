/* ep_oauth_revoke: POST /oauth2/revoke — RFC 7009: a client revokes its own access token (the
 * SAD behind a credential-scope one is dropped in the SAM as well), or a service grant's access
 * or refresh token (a refresh token ends its whole grant). */
#include "server/server.h"

#include <string.h>

#include "audit/audit.h"
#include "oauth/oauth.h"

void
ep_oauth_revoke(struct srv_request *rq)
{
	struct oauth_form f = { 0 };
	struct store_oauth_client cl;
	const char *token;
	bool found = false;

	if (srv_oauth_form(rq, "oauth.revoke", &f) != 0)
		return;
	if (srv_oauth_client_auth(rq, &f, "oauth.revoke", &cl) != 0)
		goto out;
	if ((token = oauth_form_get(&f, "token")) == NULL) {
		srv_oauth_refuse(rq, "oauth.revoke", MHD_HTTP_BAD_REQUEST, "invalid_request",
		             "token is required");
		goto out;
	}
	if (oauth_token_revoke(rq->srv->st, token, cl.id, &found) != 0) {
		/* RFC 7009 2.2.1: the client may retry */
		req_audit_refusal(rq, "oauth.revoke", "the store failed");
		reply_ink_err(rq, INK_ERR_STORE, NULL);
		goto out;
	}
	/* the SAD dies in the SAM too: nobody can spend it any more */
	if (found && auth_sad_drop(&rq->srv->actx, token) != 0)
		log_error("could not drop a revoked token's SAD");
	if (!found && oauth_service_revoke(rq->srv->st, token, cl.id, &found) != 0) {
		/* RFC 7009 2.2.1: the client may retry */
		req_audit_refusal(rq, "oauth.revoke", "the store failed");
		reply_ink_err(rq, INK_ERR_STORE, NULL);
		goto out;
	}
	{
		struct audit_event ev = {
			.action = "oauth.revoke", .subject = cl.id,
			.result = found ? AUDIT_SUCCESS : "unknown token", .request_id = rq->request_id,
			.source = rq->source,
		};

		if (req_audit_event(rq, &ev) != 0)
			log_error("cannot audit a revocation");
	}
	/* RFC 7009 2.2: 200 whether or not the token was known */
	reply_empty(rq, MHD_HTTP_OK);
out:
	oauth_form_free(&f);
}
