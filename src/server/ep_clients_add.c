/* ep_clients_add: POST /api/v1/oauth/clients — a security officer registers an OAuth client
 * with its exact redirect URIs; a confidential client's secret is in this answer only, a
 * private_key_jwt client is registered with its public key (PEM) and gets none. */
#include "server/server.h"

#include <string.h>

#include "oauth/oauth.h"

struct client_req {
	char *name;
	struct json_strings uris;
	bool public_client;
	char *public_key;
};

static const struct json_field client_spec[] = {
	JSPEC_STRING("name", struct client_req, name, STORE_NAME_MAX, JF_REQUIRED),
	JSPEC_STRINGS("redirect_uris", struct client_req, uris, OAUTH_URIS_MAX, OAUTH_URI_MAX, JF_REQUIRED),
	JSPEC_BOOL("public", struct client_req, public_client, 0),
	JSPEC_STRING("public_key", struct client_req, public_key, STORE_PUBKEY_MAX, 0),
	JSPEC_END,
};

void
ep_clients_add(struct srv_request *rq)
{
	struct client_req req;
	struct store_oauth_client c;
	char secret[OAUTH_TOKEN_CHARS + 1];
	const char *why = NULL;
	json_t *o;
	int r;

	memset(&req, 0, sizeof(req));
	secret[0] = '\0';
	if (req_parse(rq, client_spec, &req) != 0)
		return;
	r = oauth_client_add(&rq->srv->actx, &rq->areq, &rq->who, req.name,
	                     (const char *const *)req.uris.v, req.uris.n, req.public_client,
	                     req.public_key, &c, secret, &why);
	if (r == INK_ERR_INVALID && why != NULL) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
		goto out;
	}
	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	o = json_pack("{s:o}", "client", render_oauth_client(&c));
	if (o != NULL && secret[0] != '\0')
		json_object_set_new(o, "client_secret", json_string(secret));
	reply_json(rq, MHD_HTTP_CREATED, o);
out:
	explicit_bzero(secret, sizeof(secret));
	json_free_spec(client_spec, &req);
}
