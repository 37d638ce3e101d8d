/* ep_oauth_token: POST /oauth2/token — RFC 6749 4.1.3 with PKCE (RFC 7636): a single-use code
 * for the credential-scope access token, which is the SAD the SAM minted at the signer's
 * consent, or for a service-scope grant (access and refresh token, in the store); RFC 6749 6:
 * grant_type=refresh_token rotates a service grant's refresh token (a reused one revokes the
 * grant). Client authentication: client_secret_basic or client_secret_post for confidential
 * clients; a public client sends its client_id and proves itself by the code_verifier. */
#include "server/server.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "oauth/oauth.h"

/* The answer with a service grant's tokens (RFC 6749 5.1). */
static void
reply_service(struct srv_request *rq, const struct oauth_service_tokens *t)
{
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", t->access,
	           "token_type", "Bearer", "expires_in", (json_int_t)t->expires_in, "refresh_token",
	           t->refresh, "scope", "service"));
}

/* grant_type=refresh_token: a service grant's refresh token, rotated; audited either way. */
static void
grant_refresh(struct srv_request *rq, const struct oauth_form *f,
              const struct store_oauth_client *cl)
{
	struct oauth_service_tokens t;
	struct store_oauth_token was;
	struct store_user u;
	const char *why = NULL;
	char detail[256];
	size_t n = 0;
	int r;

	memset(&u, 0, sizeof(u));
	r = oauth_service_refresh(rq->srv->st, oauth_form_get(f, "refresh_token"), cl->id,
	                          rq->srv->cfg.oauth_service_token_ttl, &t, &was, &why);
	if (was.user_id[0] != '\0' &&
	    rq->srv->st->ops->user_get_by_id(rq->srv->st, was.user_id, &u) != 0)
		memset(&u, 0, sizeof(u));
	/* the signer's account as it stands now: a locked or removed one's grant ends */
	if (r == 0 && (u.id[0] == '\0' || u.status != STORE_USER_ACTIVE)) {
		if (rq->srv->st->ops->oauth_token_revoke_family(rq->srv->st, was.family, ink_now(),
		                                                &n) != 0)
			log_error("cannot revoke the grant of an account no longer active");
		why = "the signer's account is no longer active: the grant is revoked";
		r = INK_ERR_DISABLED;
	}
	{
		struct audit_event ev = {
			.actor = u.username[0] != '\0' ? u.username : NULL, .action = "oauth.token",
			.subject = u.username[0] != '\0' ? u.username : NULL,
			.result = r == 0 ? AUDIT_SUCCESS : why != NULL ? why : ink_err_str(r),
			.request_id = rq->request_id, .source = rq->source, .detail = detail,
		};

		snprintf(detail, sizeof(detail), "client %s (%s); refresh_token; grant %s", cl->id,
		         cl->name, was.family[0] != '\0' ? was.family : "-");
		if (audit_append(rq->srv->st, &ev) != 0 && r == 0) {
			if (rq->srv->st->ops->oauth_token_revoke_family(rq->srv->st, was.family, ink_now(),
			                                                &n) != 0)
				log_error("cannot revoke an unaudited grant");
			r = INK_ERR_STORE;
		}
	}
	if (r == 0)
		reply_service(rq, &t);
	else if (r == INK_ERR_STORE || r == INK_ERR_ALLOC)
		reply_ink_err(rq, r, NULL);
	else
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_grant",
		            why != NULL ? why : "invalid refresh token");
	explicit_bzero(&t, sizeof(t));
	explicit_bzero(&was, sizeof(was));
	explicit_bzero(&u, sizeof(u));
}

void
ep_oauth_token(struct srv_request *rq)
{
	struct oauth_form f = { 0 };
	struct store_oauth_client cl;
	struct oauth_token_info info;
	struct oauth_service_tokens st;
	char token[OAUTH_TOKEN_CHARS + 1], detail[256];
	const char *grant, *why = NULL;
	size_t n = 0;
	int r;

	memset(&st, 0, sizeof(st));
	token[0] = '\0';
	memset(&info, 0, sizeof(info));
	if (srv_oauth_form(rq, "oauth.token", &f) != 0)
		return;
	if (srv_oauth_client_auth(rq, &f, "oauth.token", &cl) != 0)
		goto out;
	if ((grant = oauth_form_get(&f, "grant_type")) != NULL &&
	    strcmp(grant, "refresh_token") == 0) {
		if (oauth_form_get(&f, "refresh_token") == NULL) {
			srv_oauth_refuse(rq, "oauth.token", MHD_HTTP_BAD_REQUEST, "invalid_request",
			                 "refresh_token is required");
			goto out;
		}
		grant_refresh(rq, &f, &cl);
		goto out;
	}
	if (grant == NULL || strcmp(grant, "authorization_code") != 0) {
		srv_oauth_refuse(rq, "oauth.token", MHD_HTTP_BAD_REQUEST, "unsupported_grant_type",
		             "grant_type must be authorization_code or refresh_token");
		goto out;
	}
	if (oauth_form_get(&f, "code") == NULL || oauth_form_get(&f, "code_verifier") == NULL ||
	    oauth_form_get(&f, "redirect_uri") == NULL) {
		srv_oauth_refuse(rq, "oauth.token", MHD_HTTP_BAD_REQUEST, "invalid_request",
		             "code, code_verifier and redirect_uri are required");
		goto out;
	}
	r = oauth_code_redeem(rq->srv->st, oauth_form_get(&f, "code"), cl.id,
	                      oauth_form_get(&f, "redirect_uri"), oauth_form_get(&f, "code_verifier"),
	                      token, &info, &why);
	/* a service grant: its tokens are made now, in the store; a replayed code ends them */
	if (info.service && r == INK_ERR_REPLAY &&
	    rq->srv->st->ops->oauth_token_revoke_family(rq->srv->st, info.family, ink_now(), &n) != 0)
		log_error("cannot revoke the grant of a replayed code");
	if (info.service && r == 0)
		r = oauth_service_issue(rq->srv->st, info.family, cl.id, info.who.user_id,
		                        rq->srv->cfg.oauth_service_token_ttl,
		                        info.expires - ink_now() > 0 ? info.expires - ink_now() : 1, &st);
	/* the record names the signer the code was issued for, whatever the outcome */
	{
		struct audit_event ev = {
			.actor = info.who.username[0] != '\0' ? info.who.username : NULL,
			.action = "oauth.token", .subject = info.cred[0] != '\0' ? info.cred : NULL,
			.result = r == 0 ? AUDIT_SUCCESS : why != NULL ? why : ink_err_str(r),
			.request_id = rq->request_id, .source = rq->source, .detail = detail,
		};

		snprintf(detail, sizeof(detail), "client %s (%s)%s%s", cl.id, cl.name,
		         info.service ? "; service scope; grant " : "", info.service ? info.family : "");
		if (audit_append(rq->srv->st, &ev) != 0 && r == 0) {
			/* no token without its record */
			bool found;

			if (info.service) {
				if (rq->srv->st->ops->oauth_token_revoke_family(rq->srv->st, info.family,
				                                                ink_now(), &n) != 0)
					log_error("cannot revoke an unaudited grant");
			} else if (oauth_token_revoke(rq->srv->st, token, cl.id, &found) != 0 ||
			           auth_sad_drop(&rq->srv->actx, token) != 0) {
				log_error("cannot revoke an unaudited token");
			}
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
	if (info.service) {
		reply_service(rq, &st);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", token,
	           "token_type", "Bearer", "expires_in",
	           (json_int_t)(info.expires - ink_now() > 0 ? info.expires - ink_now() : 1),
	           "scope", "credential", "credentialID", info.cred));
out:
	explicit_bzero(&st, sizeof(st));
	explicit_bzero(token, sizeof(token));
	explicit_bzero(&info, sizeof(info));
	oauth_form_free(&f);
}
