/* ep_info: GET|POST /csc/v{1,2}/info — what this service is and what it implements. */
#include "server/server.h"

#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

/* https://HOST[:PORT] as the client reached us (its Host header), else the signer listener. */
static const char *
oauth_base(struct srv_request *rq)
{
	static _Thread_local char base[300];
	const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	size_t i;

	if (host == NULL || host[0] == '\0' || strlen(host) > 255)
		host = rq->listener->bound;
	for (i = 0; host[i] != '\0'; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= 'A' && host[i] <= 'Z') ||
		      (host[i] >= '0' && host[i] <= '9') || strchr(".-:[]", host[i]) != NULL))
			host = rq->listener->bound;
	snprintf(base, sizeof(base), "%s://%s", rq->srv->cfg.plain_http ? "http" : "https", host);
	return base;
}

void
ep_info(struct srv_request *rq)
{
	const struct policy_sig_alg *algs;
	bool v1 = strncmp(rq->url, "/csc/v1/", 8) == 0;
	json_t *o, *oids;
	size_t n, i;

	/* Only what is implemented today is announced; clients choose from this list. */
	oids = json_array();
	algs = policy_sig_algs(&n);
	for (i = 0; oids != NULL && i < n; i++)
		json_array_append_new(oids, json_string(algs[i].oid));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s], s:[s,s,s,s,s,s,s,s,s,s,s], s:{s:o, s:[]}}",
	              "specs", v1 ? "1.0.4.0" : "2.0.0.2",
	              "name", rq->srv->cfg.service_name,
	              "logo", "",
	              "region", "JP",
	              "lang", rq->srv->cfg.lang,
	              "description", "inkan remote signing service: signers' keys under their sole control",
	              "authType", "basic", "oauth2code",
	              "methods", "info", "auth/login", "auth/revoke", "credentials/list",
	              "credentials/info", "credentials/authorize", "signatures/signHash",
	              "signatures/timestamp", "oauth2/authorize", "oauth2/token", "oauth2/revoke",
	              "signAlgorithms", "algos", oids, "params");
	/* the service's assurance level (docs/configuration.md), beside the CSC fields */
	if (o != NULL)
		json_object_set_new(o, "assuranceLevel", json_integer(rq->srv->cfg.assurance_level));
	/* the authorization server's base URI (CSC v2 11.1 oauth2): this listener's own address */
	if (o != NULL)
		json_object_set_new(o, "oauth2", json_string(oauth_base(rq)));
	/* what the authorization server serves (inkan's fields, beside CSC's; docs/oauth.md):
	 * scope service with refresh tokens (rotated), scope credential with a single-use code */
	if (o != NULL)
		json_object_set_new(o, "oauth2Scopes", json_pack("[s,s]", "service", "credential"));
	if (o != NULL)
		json_object_set_new(o, "oauth2GrantTypes", json_pack("[s,s]", "authorization_code",
		                                                     "refresh_token"));
	if (o != NULL && !v1)
		json_object_set_new(o, "signature_formats",
		                    json_pack("{s:[], s:[]}", "formats", "envelope_properties"));
	reply_json(rq, MHD_HTTP_OK, o);
}
