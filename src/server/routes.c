/* routes: the one routing table — method, path, listener class, authentication, handler — and
 * the matching of a request against it. */
#include "server/server.h"

#include <stdio.h>
#include <string.h>

#define CSC (SRV_SIGNER)
#define INFO (SRV_SIGNER | SRV_PUBLIC)
/* Signers use their keys on the signer API; security officers reach them on the admin API. */
#define KEYS (SRV_SIGNER | SRV_ADMIN)

const struct srv_route srv_routes[] = {
	{ .method = "GET", .path = "/csc/v2/info", .classes = INFO, .auth = SRV_AUTH_NONE, .fn = ep_info },
	{ .method = "POST", .path = "/csc/v2/info", .classes = INFO, .auth = SRV_AUTH_NONE, .fn = ep_info },
	{ .method = "GET", .path = "/csc/v1/info", .classes = INFO, .auth = SRV_AUTH_NONE, .fn = ep_info },
	{ .method = "POST", .path = "/csc/v1/info", .classes = INFO, .auth = SRV_AUTH_NONE, .fn = ep_info },
	{ .method = "POST", .path = "/csc/v2/auth/login", .classes = CSC, .auth = SRV_AUTH_NONE, .gate = SRV_GATE_ARGON2, .fn = ep_auth_login },
	{ .method = "POST", .path = "/csc/v1/auth/login", .classes = CSC, .auth = SRV_AUTH_NONE, .gate = SRV_GATE_ARGON2, .fn = ep_auth_login },
	{ .method = "POST", .path = "/csc/v2/auth/revoke", .classes = CSC, .auth = SRV_AUTH_BEARER_ANY, .fn = ep_auth_revoke },
	{ .method = "POST", .path = "/csc/v1/auth/revoke", .classes = CSC, .auth = SRV_AUTH_BEARER_ANY, .fn = ep_auth_revoke },
	{ .method = "POST", .path = "/csc/v2/credentials/list", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_credentials_list , .service_token = true },
	{ .method = "POST", .path = "/csc/v1/credentials/list", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_credentials_list , .service_token = true },
	{ .method = "POST", .path = "/csc/v2/credentials/info", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_credentials_info , .service_token = true },
	{ .method = "POST", .path = "/csc/v1/credentials/info", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_credentials_info , .service_token = true },
	{ .method = "POST", .path = "/csc/v2/credentials/authorize", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_csc_authorize },
	{ .method = "POST", .path = "/csc/v1/credentials/authorize", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_csc_authorize },
	{ .method = "POST", .path = "/csc/v2/signatures/signHash", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_sign_hash, .oauth_token = true },
	{ .method = "POST", .path = "/csc/v1/signatures/signHash", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_sign_hash, .oauth_token = true },
	/* CSC v2 section 8: the signer's own page, and the OAuth 2.0 token endpoints */
	{ .method = "GET", .path = "/oauth2/authorize", .classes = CSC, .auth = SRV_AUTH_NONE, .fn = ep_oauth_authorize },
	{ .method = "POST", .path = "/oauth2/authorize", .classes = CSC, .auth = SRV_AUTH_NONE, .gate = SRV_GATE_ARGON2, .fn = ep_oauth_authorize_post, .own_media = true },
	{ .method = "POST", .path = "/oauth2/pushed_authorize", .classes = CSC, .auth = SRV_AUTH_NONE, .fn = ep_oauth_par, .own_media = true },
	{ .method = "POST", .path = "/oauth2/token", .classes = CSC, .auth = SRV_AUTH_NONE, .fn = ep_oauth_token, .own_media = true },
	{ .method = "POST", .path = "/oauth2/revoke", .classes = CSC, .auth = SRV_AUTH_NONE, .fn = ep_oauth_revoke, .own_media = true },
	{ .method = "POST", .path = "/csc/v2/signatures/timestamp", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_timestamp },
	{ .method = "POST", .path = "/csc/v1/signatures/timestamp", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_csc_timestamp },
	{ .method = "POST", .path = "/api/v1/passwd", .classes = CSC, .auth = SRV_AUTH_BEARER_ANY, .gate = SRV_GATE_ARGON2, .fn = ep_passwd },
	{ .method = "GET", .path = "/api/v1/me", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_me },
	{ .method = "POST", .path = "/api/v1/enrol", .classes = CSC, .auth = SRV_AUTH_BEARER_ANY, .fn = ep_enrol },
	{ .method = "POST", .path = "/api/v1/enrol/confirm", .classes = CSC, .auth = SRV_AUTH_BEARER_ANY, .fn = ep_enrol_confirm },
	{ .method = "GET", .path = "/api/v1/users", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_users_list },
	{ .method = "POST", .path = "/api/v1/users", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_users_create },
	{ .method = "GET", .path = "/api/v1/users/{}", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_users_show },
	{ .method = "DELETE", .path = "/api/v1/users/{}", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_users_remove },
	{ .method = "POST", .path = "/api/v1/users/{}/unlock", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_users_unlock },
	{ .method = "POST", .path = "/api/v1/users/{}/reenrol", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_users_reenrol },
	{ .method = "POST", .path = "/api/v1/users/{}/roles", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_roles_grant },
	{ .method = "DELETE", .path = "/api/v1/users/{}/roles/{}", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_roles_revoke },
	{ .method = "GET", .path = "/api/v1/audit", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_audit_list },
	{ .method = "GET", .path = "/api/v1/audit/export", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_audit_export },
	{ .method = "GET", .path = "/api/v1/audit/proof", .classes = SRV_ADMIN | SRV_SIGNER, .auth = SRV_AUTH_BEARER, .fn = ep_audit_proof },
	{ .method = "GET", .path = "/api/v1/audit/consistency", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_audit_consistency },
	{ .method = "GET", .path = "/api/v1/config", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_config_show },
	{ .method = "GET", .path = "/api/v1/compliance", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_compliance },
	{ .method = "GET", .path = "/api/v1/keys", .classes = KEYS, .auth = SRV_AUTH_BEARER, .fn = ep_keys_list },
	{ .method = "POST", .path = "/api/v1/keys", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_keys_create },
	{ .method = "GET", .path = "/api/v1/keys/{}", .classes = KEYS, .auth = SRV_AUTH_BEARER, .fn = ep_keys_show },
	{ .method = "POST", .path = "/api/v1/keys/{}/certificate", .classes = CSC, .auth = SRV_AUTH_BEARER, .fn = ep_keys_certificate },
	{ .method = "POST", .path = "/api/v1/keys/{}/pin", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_keys_pin },
	{ .method = "POST", .path = "/api/v1/keys/{}/auth-mode", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_keys_auth_mode },
	{ .method = "POST", .path = "/api/v1/keys/{}/revoke", .classes = KEYS, .auth = SRV_AUTH_BEARER, .fn = ep_keys_revoke },
	{ .method = "POST", .path = "/api/v1/keys/{}/renew", .classes = CSC, .auth = SRV_AUTH_BEARER, .gate = SRV_GATE_ARGON2, .fn = ep_keys_renew },
	{ .method = "POST", .path = "/api/v1/keys/{}/unlock", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_keys_unlock },
	{ .method = "GET", .path = "/api/v1/oauth/clients", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_clients_list },
	{ .method = "POST", .path = "/api/v1/oauth/clients", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_clients_add },
	{ .method = "DELETE", .path = "/api/v1/oauth/clients/{}", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_clients_remove },
	{ .method = "POST", .path = "/api/v1/backup", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_backup },
	{ .method = "POST", .path = "/api/v1/restore", .classes = SRV_ADMIN, .auth = SRV_AUTH_BEARER, .fn = ep_restore },
	{ .method = "GET", .path = "/ca/crl", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ca_crl },
	{ .method = "GET", .path = "/ca/arl", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ca_arl },
	{ .method = "GET", .path = "/ca/cert", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ca_cert },
	{ .method = "GET", .path = "/ca/tsa", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ca_tsa },
	{ .method = "POST", .path = "/ocsp", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ocsp, .own_media = true },
	{ .method = "GET", .path = "/ocsp/{}", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ocsp_get, .tail = true },
	{ .method = "GET", .path = "/ca/audit-key", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_ca_audit_key },
	{ .method = "POST", .path = "/tsa", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_tsa, .own_media = true },
	{ .method = "GET", .path = "/health", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .fn = ep_health },
	/* only on listen_metrics, which serves nothing else (docs/operations.md, "Metrics") */
	{ .method = "GET", .path = "/metrics", .classes = SRV_METRICS, .auth = SRV_AUTH_NONE, .fn = ep_metrics },
	{ .method = "POST", .path = "/api/v1/verify", .classes = SRV_PUBLIC, .auth = SRV_AUTH_NONE, .gate = SRV_GATE_VERIFY, .fn = ep_verify },
};

const size_t srv_routes_len = INK_ARRAY_LEN(srv_routes);

void
srv_routes_print(FILE *f)
{
	static const char *const auth[] = {
		[SRV_AUTH_NONE] = "none",
		[SRV_AUTH_BEARER] = "bearer",
		[SRV_AUTH_BEARER_ANY] = "bearer_any",
	};
	static const struct { unsigned bit; const char *name; } classes[] = {
		{ SRV_SIGNER, "signer" }, { SRV_ADMIN, "admin" }, { SRV_PUBLIC, "public" },
		{ SRV_METRICS, "metrics" },
	};
	size_t i, j;
	const char *sep;

	for (i = 0; i < srv_routes_len; i++) {
		fprintf(f, "%s %s ", srv_routes[i].method, srv_routes[i].path);
		sep = "";
		for (j = 0; j < INK_ARRAY_LEN(classes); j++) {
			if (srv_routes[i].classes & classes[j].bit) {
				fprintf(f, "%s%s", sep, classes[j].name);
				sep = ",";
			}
		}
		fprintf(f, " %s\n", auth[srv_routes[i].auth]);
	}
}

bool
srv_pct_decode(const char *p, size_t n, char *out, size_t outsz, bool slash)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (c == '%') {
			if (i + 2 >= n)
				return false;
			if ((hi = hex_digit(p[i + 1])) < 0 || (lo = hex_digit(p[i + 2])) < 0)
				return false;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || (c == '/' && !slash) || o + 1 >= outsz)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return o > 0;
}

/* Matches url (as sent: MHD decodes nothing, http.c) against pattern, segment by segment: a
 * static segment matches its literal text only (no percent-encoded form of it), a "{}" segment
 * is captured into rq->params decoded exactly once. A decoded '/' is refused, except in the last
 * "{}" of a tail route (a base64 OCSP request in the path), which takes the rest of the url. */
static bool
path_match(const char *pattern, bool tail, const char *url, struct srv_request *rq)
{
	bool last;

	const char *p = pattern, *u = url, *pe, *ue;
	unsigned np = 0;

	for (;;) {
		if (*p != '/' || *u != '/')
			return false;
		p++;
		u++;
		pe = strchr(p, '/');
		ue = strchr(u, '/');
		if (pe == NULL)
			pe = p + strlen(p);
		if (ue == NULL)
			ue = u + strlen(u);
		if (pe - p == 2 && p[0] == '{' && p[1] == '}') {
			last = tail && *pe == '\0';
			if (last)
				ue = u + strlen(u);
			if (np >= SRV_MAX_PARAMS ||
			    !srv_pct_decode(u, (size_t)(ue - u), rq->params[np], sizeof(rq->params[np]),
			                    last))
				return false;
			np++;
		} else if (pe - p != ue - u || strncmp(p, u, (size_t)(pe - p)) != 0) {
			return false;
		}
		p = pe;
		u = ue;
		if (*p == '\0' && *u == '\0') {
			rq->nparams = np;
			return true;
		}
		if (*p == '\0' || *u == '\0')
			return false;
	}
}

const struct srv_route *
srv_route_find(struct srv_request *rq, char *allow, size_t allowsz)
{
	const struct srv_route *hit = NULL;
	size_t i, off = 0;
	int n;

	allow[0] = '\0';
	for (i = 0; i < srv_routes_len; i++) {
		const struct srv_route *rt = &srv_routes[i];

		if (!(rt->classes & rq->listener->classes) || !path_match(rt->path, rt->tail, rq->url, rq))
			continue;
		if (strcmp(rt->method, rq->method) == 0) {
			hit = rt;
			break;
		}
		n = snprintf(allow + off, allowsz - off, "%s%s", off > 0 ? ", " : "", rt->method);
		if (n > 0 && (size_t)n < allowsz - off)
			off += (size_t)n;
	}
	return hit;
}
