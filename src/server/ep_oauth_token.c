/* ep_oauth_token: POST /oauth2/token — RFC 6749 4.1.3 with PKCE (RFC 7636): a single-use code
 * for the credential-scope access token, which is the SAD the SAM minted at the signer's
 * consent. Client authentication: client_secret_basic or client_secret_post for confidential
 * clients; a public client sends its client_id and proves itself by the code_verifier. */
#include "server/server.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "oauth/oauth.h"

void
ep_oauth_token(struct srv_request *rq)
{
	struct oauth_form f = { 0 };
	struct store_oauth_client cl;
	struct oauth_token_info info;
	char token[OAUTH_TOKEN_CHARS + 1], detail[160];
	const char *grant, *why = NULL;
	int r;

	token[0] = '\0';
	memset(&info, 0, sizeof(info));
	if (srv_oauth_form(rq, "oauth.token", &f) != 0)
		return;
	if (srv_oauth_client_auth(rq, &f, "oauth.token", &cl) != 0)
		goto out;
	if ((grant = oauth_form_get(&f, "grant_type")) == NULL ||
	    strcmp(grant, "authorization_code") != 0) {
		srv_oauth_refuse(rq, "oauth.token", MHD_HTTP_BAD_REQUEST, "unsupported_grant_type",
		             "only grant_type authorization_code is served");
		goto out;
	}
	if (oauth_form_get(&f, "code") == NULL || oauth_form_get(&f, "code_verifier") == NULL ||
	    oauth_form_get(&f, "redirect_uri") == NULL) {
		srv_oauth_refuse(rq, "oauth.token", MHD_HTTP_BAD_REQUEST, "invalid_request",
		             "code, code_verifier and redirect_uri are required");
		goto out;
	}
	r = oauth_code_redeem(rq->srv->oauth, oauth_form_get(&f, "code"), cl.id,
	                      oauth_form_get(&f, "redirect_uri"), oauth_form_get(&f, "code_verifier"),
	                      token, &info, &why);
	/* the record names the signer the code was issued for, whatever the outcome */
	{
		struct audit_event ev = {
			.actor = info.who.username[0] != '\0' ? info.who.username : NULL,
			.action = "oauth.token", .subject = info.cred[0] != '\0' ? info.cred : NULL,
			.result = r == 0 ? AUDIT_SUCCESS : why != NULL ? why : ink_err_str(r),
			.request_id = rq->request_id, .source = rq->source, .detail = detail,
		};

		snprintf(detail, sizeof(detail), "client %s (%s)", cl.id, cl.name);
		if (audit_append(rq->srv->st, &ev) != 0 && r == 0) {
			/* no token without its record */
			bool found;

			oauth_token_revoke(rq->srv->oauth, token, cl.id, &found);
			r = INK_ERR_STORE;
		}
	}
	if (r == INK_ERR_BUSY || r == INK_ERR_ALLOC || r == INK_ERR_STORE) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	if (r != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_grant", why != NULL ? why : "invalid code");
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", token,
	           "token_type", "Bearer", "expires_in",
	           (json_int_t)(info.expires - ink_now() > 0 ? info.expires - ink_now() : 1),
	           "scope", "credential", "credentialID", info.cred));
out:
	explicit_bzero(token, sizeof(token));
	explicit_bzero(&info, sizeof(info));
	oauth_form_free(&f);
}
