/* reply: the one way a response leaves inkand — JSON, the CSC error form, the status map. */
#include "server/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "oauth/oauth.h"
#include "policy/policy.h"
#include "sam/sam.h"

static void
wipe_body(void *text)
{
	ink_freezero_str(text);
}

static void
send_body(struct srv_request *rq, unsigned status, char *text)
{
	struct MHD_Response *resp;
	size_t len = text != NULL ? strlen(text) : 0;

	if (rq->responded) {
		log_bug("second reply for one request");
		ink_freezero_str(text);
		return;
	}
	rq->responded = true;
	/* A body may carry a one-time password, a TOTP seed, a token or a SAD: wiped when freed. */
	if (text != NULL)
		resp = MHD_create_response_from_buffer_with_free_callback(len, text, wipe_body);
	else
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		ink_freezero_str(text);
		return;
	}
	if (len > 0)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	if (rq->retry_after > 0 && (status == MHD_HTTP_SERVICE_UNAVAILABLE ||
	                            status == MHD_HTTP_TOO_MANY_REQUESTS)) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%u", rq->retry_after);
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	}
	if (status == MHD_HTTP_UNAUTHORIZED)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                              "Bearer realm=\"inkan\"");
	rq->resp = resp;
	rq->status = status;
}

void
reply_json_dumped(struct srv_request *rq, unsigned status, char *text)
{
	char *copy;

	if (text == NULL) {
		reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", "Out of memory");
		return;
	}
	/* The text came from jansson's allocator; MHD frees with free(). A reply may carry a
	 * one-time password, so the jansson copy is wiped as it is released. */
	copy = strdup(text);
	json_text_free(text);
	if (copy == NULL) {
		reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", "Out of memory");
		return;
	}
	send_body(rq, status, copy);
}

void
reply_json(struct srv_request *rq, unsigned status, json_t *obj)
{
	char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	reply_json_dumped(rq, status, text);
}

void
reply_json_text(struct srv_request *rq, unsigned status, char *text)
{
	if (text == NULL) {
		reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", "Out of memory");
		return;
	}
	send_body(rq, status, text);
}

void
reply_empty(struct srv_request *rq, unsigned status)
{
	send_body(rq, status, NULL);
}

void
reply_error(struct srv_request *rq, unsigned status, const char *code, const char *desc)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "error_description", desc);
	char *text;
	json_malloc_t jm;
	json_free_t jf;

	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL) {
		send_body(rq, status, NULL);
		return;
	}
	json_get_alloc_funcs(&jm, &jf);
	{
		char *copy = strdup(text);

		jf(text);
		send_body(rq, status, copy);
	}
}

void
reply_ink_err(struct srv_request *rq, int err, const char *desc)
{
	unsigned status;
	const char *code;
	char text[160];

	if (rq->reason == SRV_REASON_NONE)
		rq->reason = srv_reason_of_err(err);
	switch (err) {
	case INK_ERR_INVALID:
	case INK_ERR_POLICY:
		status = MHD_HTTP_BAD_REQUEST, code = "invalid_request";
		break;
	case INK_ERR_TOO_LARGE:
		status = MHD_HTTP_CONTENT_TOO_LARGE, code = "invalid_request";
		break;
	case INK_ERR_NOT_FOUND:
		status = MHD_HTTP_NOT_FOUND, code = "not_found";
		break;
	case INK_ERR_EXISTS:
		status = MHD_HTTP_CONFLICT, code = "invalid_request";
		break;
	case INK_ERR_AUTH:
	case INK_ERR_DISABLED:
		status = MHD_HTTP_UNAUTHORIZED, code = "authentication_error";
		if (desc == NULL)
			desc = "Authentication failed";
		break;
	case INK_ERR_EXPIRED:
		status = MHD_HTTP_UNAUTHORIZED, code = "invalid_token";
		break;
	case INK_ERR_LOCKED:
		status = MHD_HTTP_FORBIDDEN, code = "access_denied";
		if (desc == NULL)
			desc = "Account locked";
		break;
	case INK_ERR_DENIED:
		status = MHD_HTTP_FORBIDDEN, code = "access_denied";
		if (desc == NULL)
			desc = "Not permitted for the caller's role";
		break;
	case INK_ERR_SOD:
		status = MHD_HTTP_FORBIDDEN, code = "access_denied";
		if (desc == NULL)
			desc = "Refused: separation of duties";
		break;
	case INK_ERR_PASSWORD_CHANGE:
		status = MHD_HTTP_FORBIDDEN, code = "password_change_required";
		if (desc == NULL)
			desc = "The password must be changed first (POST /api/v1/passwd)";
		break;
	case INK_ERR_ENROL:
		status = MHD_HTTP_FORBIDDEN, code = "enrolment_required";
		if (desc == NULL)
			desc = "The account holder must enrol their TOTP seed first (POST /api/v1/enrol)";
		break;
	case INK_ERR_IDENTITY:
		status = MHD_HTTP_CONFLICT, code = "invalid_request";
		break;
	case INK_ERR_SAM_UNAVAILABLE:
		status = MHD_HTTP_SERVICE_UNAVAILABLE, code = "temporarily_unavailable";
		if (desc == NULL)
			desc = "The signature activation module is not available";
		break;
	case INK_ERR_CLOCK:
		status = MHD_HTTP_SERVICE_UNAVAILABLE, code = "temporarily_unavailable";
		if (desc == NULL)
			desc = "The time source is not available (the clock is not synchronised)";
		break;
	case INK_ERR_BUSY:
		/* at capacity, or inkand's database away for a moment (a restart: the store's
		 * INK_ERR_BUSY, the next request connects again): the client cannot tell, and need
		 * not; t_pg_restart met "at capacity" during a database restart */
		status = MHD_HTTP_SERVICE_UNAVAILABLE, code = "temporarily_unavailable";
		if (desc == NULL)
			desc = "The service cannot take the request now (at capacity, or its database "
			       "out of reach); try again later";
		if (rq->retry_after == 0)
			rq->retry_after = 1;
		break;
	case INK_ERR_STORE:
		/* the database (inkand's, or the SAM's key store) not reachable: a restart or a
		 * failover; the next request connects again (docs/scaling.md) */
		log_error("request %s: the database is not available", rq->request_id);
		status = MHD_HTTP_SERVICE_UNAVAILABLE, code = "temporarily_unavailable";
		if (desc == NULL)
			desc = "The database is not available; try again later";
		if (rq->retry_after == 0)
			rq->retry_after = 5;
		break;
	default:
		/* Our fault: the detail stays in the log, the client gets the request id. */
		log_error("request %s failed: %s", rq->request_id, ink_err_str(err));
		snprintf(text, sizeof(text), "Internal error (request %s)", rq->request_id);
		reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "server_error", text);
		return;
	}
	if (desc == NULL) {
		snprintf(text, sizeof(text), "%s", ink_err_str(err));
		text[0] = (char)(text[0] >= 'a' && text[0] <= 'z' ? text[0] - 32 : text[0]);
		desc = text;
	}
	reply_error(rq, status, code, desc);
}

int
req_parse(struct srv_request *rq, const struct json_field *spec, void *out)
{
	char err[160];
	int r;

	r = json_parse_spec((const char *)rq->body.data, rq->body.len, spec, out, err, sizeof(err));
	if (r == INK_ERR_INVALID) {
		log_op("request %s: %s", rq->request_id, err);
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", err);
	} else if (r != 0) {
		reply_ink_err(rq, r, NULL);
	}
	return r;
}

bool
req_media_is(const struct srv_request *rq, const char *type)
{
	size_t n = strlen(type);
	const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                             MHD_HTTP_HEADER_CONTENT_TYPE);

	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, type, n) != 0)
		return false;
	ct += n;
	ct += strspn(ct, " \t");
	/* "; charset=utf-8" and the like: JSON is UTF-8 whatever it says (jansson checks) */
	return *ct == '\0' || *ct == ';';
}

void
req_audit_refusal(struct srv_request *rq, const char *action, const char *why)
{
	struct audit_event ev = {
		.actor = rq->who.username[0] != '\0' ? rq->who.username : NULL,
		.action = action,
		.subject = rq->url,
		.result = why,
		.request_id = rq->request_id,
		.source = rq->source,
	};

	if (req_audit_event(rq, &ev) != 0)
		log_error("cannot audit a refusal (%s)", action);
}

int
req_audit_event(struct srv_request *rq, const struct audit_event *ev)
{
	/* before anyone is authenticated, a source's refusals are counted past the first few:
	 * a flood of them must not flood the log (docs/audit.md, audit.refusals) */
	if (rq->who.username[0] == '\0' && rq->srv->refusals != NULL)
		return audit_refusal(rq->srv->refusals, ev, rq->source_key[0] != '\0' ? rq->source_key : NULL);
	return audit_append(rq->srv->st, ev);
}

json_t *
render_account(const struct auth_account *a)
{
	static const char *const status[] = { "active", "locked", "disabled" };
	char created[21], verified[21];
	json_t *o, *roles;
	uint32_t bit;

	ink_time_str(a->created_at, created);
	if ((roles = json_array()) == NULL)
		return NULL;
	for (bit = 1; bit <= AUTH_ROLE_SIGNER; bit <<= 1)
		if ((a->roles & bit) && auth_role_name(bit) != NULL)
			json_array_append_new(roles, json_string(auth_role_name(bit)));
	o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:I, s:s, s:s}",
	              "id", a->id, "username", a->username, "display_name", a->display_name,
	              "roles", roles,
	              "status", a->status >= 0 && a->status <= 2 ? status[a->status] : "unknown",
	              "must_change_password", a->must_change_password,
	              "failed_logins", (json_int_t)a->failed_logins, "created_at", created,
	              "created_by", a->created_by);
	if (o != NULL && a->has_sam) {
		char activated[21];
		json_t *sam = json_pack("{s:s}", "pseudonym", a->pseudonym);

		/* when and from where the holder enrolled their second factor, as the SAM recorded */
		if (sam != NULL && a->activated_at > 0) {
			ink_time_str(a->activated_at, activated);
			json_object_set_new(sam, "activated_at", json_string(activated));
			json_object_set_new(sam, "activated_from", json_string(a->activated_from));
		}
		json_object_set_new(o, "sam", sam);
	}
	if (o != NULL && a->has_idv) {
		ink_time_str(a->idv.verified_at, verified);
		json_object_set_new(o, "identity_verification",
		                    json_pack("{s:s, s:s, s:s, s:s}", "method", a->idv.method,
		                              "evidence", a->idv.evidence_ref, "officer", a->idv.officer,
		                              "verified_at", verified));
	}
	return o;
}

/* The headers every page of the signer's carries: it runs no script, loads nothing, is framed
 * by nobody, leaks no Referer and is never cached. */
static void
page_headers(struct MHD_Response *resp, const char *nonce, const char *form_origin)
{
	char csp[512];

	snprintf(csp, sizeof(csp), "default-src 'none'; style-src 'nonce-%s'; img-src 'none'; "
	         "form-action 'self'%s%s; frame-ancestors 'none'; base-uri 'none'",
	         nonce != NULL ? nonce : "none", form_origin != NULL ? " " : "",
	         form_origin != NULL ? form_origin : "");
	(void)MHD_add_response_header(resp, "Content-Security-Policy", csp);
	(void)MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	(void)MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	(void)MHD_add_response_header(resp, "Pragma", "no-cache");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

void
reply_html(struct srv_request *rq, unsigned status, char *html, const char *nonce,
           const char *form_origin, const char *cookie)
{
	struct MHD_Response *resp;

	if (rq->responded) {
		log_bug("second reply for one request");
		free(html);
		return;
	}
	if (html == NULL) {
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		return;
	}
	rq->responded = true;
	resp = MHD_create_response_from_buffer_with_free_callback(strlen(html), html, wipe_body);
	if (resp == NULL) {
		ink_freezero_str(html);
		return;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	(void)MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	page_headers(resp, nonce, form_origin);
	if (cookie != NULL)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	rq->resp = resp;
	rq->status = status;
}

void
reply_redirect(struct srv_request *rq, const char *location, const char *form_origin)
{
	struct MHD_Response *resp;

	if (rq->responded) {
		log_bug("second reply for one request");
		return;
	}
	rq->responded = true;
	if ((resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)) == NULL)
		return;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
	(void)MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	page_headers(resp, NULL, form_origin);
	rq->resp = resp;
	rq->status = MHD_HTTP_SEE_OTHER;
}

struct query_form {
	struct oauth_form *f;
	size_t value_max;
	int r;
};

static enum MHD_Result
query_form_add(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_form *q = cls;

	(void)kind;
	if ((q->r = oauth_form_add(q->f, key, value, q->value_max)) != 0)
		return MHD_NO;
	return MHD_YES;
}

int
req_query_form(struct srv_request *rq, size_t value_max, struct oauth_form *f)
{
	struct query_form q = { .f = f, .value_max = value_max };

	memset(f, 0, sizeof(*f));
	(void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_form_add, &q);
	if (q.r != 0)
		oauth_form_free(f);
	return q.r;
}

int
req_basic_credentials(struct srv_request *rq, char **decoded, const char **user, const char **pw)
{
	const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);
	uint8_t *raw = NULL;
	size_t len = 0;
	char *colon, *d;

	*decoded = NULL;
	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0 || strlen(h) > 2048)
		return INK_ERR_INVALID;
	h += 6;
	while (*h == ' ')
		h++;
	if (b64_decode(h, &raw, &len) != 0)
		return INK_ERR_INVALID;
	if ((d = secmem_alloc(len + 1)) == NULL) {
		explicit_bzero(raw, len);
		free(raw);
		return INK_ERR_ALLOC;
	}
	memcpy(d, raw, len);
	explicit_bzero(raw, len);
	free(raw);
	if (memchr(d, '\0', len) != NULL || (colon = strchr(d, ':')) == NULL) {
		secmem_free(d);
		return INK_ERR_INVALID;
	}
	*colon = '\0';
	*user = d;
	*pw = colon + 1;
	*decoded = d;
	return 0;
}

void
reply_bytes(struct srv_request *rq, unsigned status, const char *type, const void *data, size_t len)
{
	struct MHD_Response *resp;

	if (rq->responded) {
		log_bug("second reply for one request");
		return;
	}
	rq->responded = true;
	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	(void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	(void)MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	rq->resp = resp;
	rq->status = status;
}

json_t *
render_oauth_client(const struct store_oauth_client *c)
{
	json_t *uris = json_array(), *o;
	const char *p = c->redirect_uris, *nl;
	char created[21];

	while (uris != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		json_array_append_new(uris, json_stringn(p, nl != NULL ? (size_t)(nl - p) : strlen(p)));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	ink_time_str(c->created_at, created);
	/* RFC 7591 2 names the ways a client proves itself at the token endpoint */
	o = json_pack("{s:s, s:s, s:o, s:b, s:s, s:s, s:s}", "id", c->id, "name", c->name,
	              "redirect_uris", uris != NULL ? uris : json_array(), "public", c->public_client,
	              "token_endpoint_auth_method", c->public_client ? "none" :
	              c->public_key[0] != '\0' ? "private_key_jwt" : "client_secret_basic",
	              "created_at", created, "created_by", c->created_by);
	return o;
}

json_t *
render_cred(const struct sam_cred *c)
{
	static const char *const status[] = { "pending", "active", "locked", "revoked", "destroyed" };
	char created[21], from[21], to[21], revoked[21], *cert = NULL;
	json_t *o;

	ink_time_str(c->created_at, created);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s}", "id", c->id, "algorithm", c->algo,
	              "status", c->status < 5 ? status[c->status] : "unknown",
	              "pin_failures", (json_int_t)c->pin_failures, "created_at", created);
	if (o == NULL)
		return NULL;
	if (c->cert_len > 0 && b64_encode(c->cert, c->cert_len, &cert) == 0) {
		ink_time_str(c->not_before, from);
		ink_time_str(c->not_after, to);
		json_object_set_new(o, "certificate", json_string(cert));
		json_object_set_new(o, "serial", json_string(c->serial));
		json_object_set_new(o, "valid_from", json_string(from));
		json_object_set_new(o, "valid_to", json_string(to));
		free(cert);
	}
	if (c->revoked_at > 0) {
		ink_time_str(c->revoked_at, revoked);
		json_object_set_new(o, "revoked_at", json_string(revoked));
		json_object_set_new(o, "revocation_reason", json_integer(c->reason));
	}
	return o;
}

/* Refusals of an external certificate or of a restore, each naming the check that failed. */
static const struct {
	int err;
	unsigned status;
	const char *text;
} key_refusals[] = {
	{ INK_ERR_UNSUPPORTED, MHD_HTTP_BAD_REQUEST, "Not offered by this server's configuration "
	  "(external CA certificates need external_ca_file; the PKCS#11 backend makes no CSR)" },
	{ INK_ERR_UNTRUSTED, MHD_HTTP_BAD_REQUEST, "Not issued by a trusted CA: the certificate does "
	  "not chain to a CA of external_ca_file, or the CRL is not signed by the backup's issuing CA" },
	{ INK_ERR_WRONG_KEY, MHD_HTTP_BAD_REQUEST, "Certificate refused: it is for another key than "
	  "the pending credential's" },
	{ INK_ERR_WRONG_SUBJECT, MHD_HTTP_BAD_REQUEST, "Certificate refused: its subject is not "
	  "exactly the registered signer (commonName and serialNumber, nothing else naming a person)" },
	{ INK_ERR_KEY_USAGE, MHD_HTTP_BAD_REQUEST, "Certificate refused: a CA certificate, or a key "
	  "usage the assurance level does not allow" },
	{ INK_ERR_NO_WITNESS, MHD_HTTP_CONFLICT, "Restore refused: nothing shows what was revoked "
	  "after this backup (the key store holds nothing of its CA, and no CRL of it as new as the "
	  "backup came with it); send the CA's last CRL as crl" },
};

void
reply_key_err(struct srv_request *rq, int r)
{
	size_t i;

	rq->reason = r == INK_ERR_AUTH ? SRV_REASON_WRONG_OTP :
	             r == INK_ERR_EXPIRED || r == INK_ERR_DISABLED ? SRV_REASON_CERT :
	             srv_reason_of_err(r);
	switch (r) {
	case INK_ERR_LOCKED:
		reply_ink_err(rq, r, "Credential locked");
		break;
	case INK_ERR_BAD_PIN:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Wrong PIN");
		break;
	case INK_ERR_AUTH:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid OTP (wrong or already used)");
		break;
	case INK_ERR_NOT_FOUND:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter credentialID");
		break;
	case INK_ERR_POLICY:
		reply_ink_err(rq, r, "Refused by policy: PIN of pin_min_len (the assurance level's: 6, 8 at level 4) to 64 printable "
		              "characters, not trivial and not the login password; algorithm one of P-256 (default), P-384, P-521, RSA-3072, "
		              "RSA-4096, RSA-2048 (until 2030, not at level 4), Ed25519; key not usable before its "
		              "certificate is linked");
		break;
	case INK_ERR_DISABLED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Credential revoked or destroyed");
		break;
	case INK_ERR_EXPIRED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Signing certificate is expired");
		break;
	case INK_ERR_EXISTS:
		reply_error(rq, MHD_HTTP_CONFLICT, "invalid_request",
		            "The credential already has its certificate, or the key store holds keys "
		            "the restore would lose (another CA's, or usable ones made after the backup)");
		break;
	case INK_ERR_INVALID:
	case INK_ERR_CRYPTO:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid certificate or backup (malformed, corrupted, or not ours)");
		break;
	default:
		for (i = 0; i < INK_ARRAY_LEN(key_refusals); i++) {
			if (key_refusals[i].err == r) {
				reply_error(rq, key_refusals[i].status, "invalid_request",
				            key_refusals[i].text);
				return;
			}
		}
		reply_ink_err(rq, r, NULL);
		break;
	}
}

void
reply_cred(struct srv_request *rq, int r, unsigned status, const struct sam_cred *c)
{
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_json(rq, status, render_cred(c));
}

bool
req_is_v1(const struct srv_request *rq)
{
	return strncmp(rq->url, "/csc/v1/", 8) == 0;
}

int
req_pin_policy(struct srv_request *rq, const char *pin, const char *action)
{
	char why[160];

	if (policy_check_pin(pin, policy_pin_min(&rq->srv->cfg), why, sizeof(why)) == 0)
		return 0;
	req_audit_refusal(rq, action, why);
	reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", why);
	return INK_ERR_POLICY;
}

void
req_hashes_free(uint8_t **raw, size_t *lens, size_t n)
{
	(void)n;
	if (raw != NULL)
		free(raw[0]);   /* every hash lives in one block */
	free(raw);
	free(lens);
}

/* Every hash into one block, a slot each (the base64 of 64 bytes decodes to 66 with its
 * padding): no allocation per hash. */
#define HASH_SLOT (REQ_HASH_MAX / 3 * 3 + 3)
int
req_hashes(struct srv_request *rq, const struct json_strings *in, uint8_t ***raw, size_t **lens)
{
	uint8_t **v = NULL, *block = NULL;
	size_t *l = NULL, i;

	*raw = NULL;
	*lens = NULL;
	if (in->n == 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Missing (or invalid type) array parameter hashes");
		return INK_ERR_INVALID;
	}
	if ((v = calloc(in->n, sizeof(*v))) == NULL || (l = calloc(in->n, sizeof(*l))) == NULL ||
	    (block = malloc(in->n * HASH_SLOT)) == NULL) {
		free(v);
		free(l);
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
		return INK_ERR_ALLOC;
	}
	for (i = 0; i < in->n; i++) {
		v[i] = block + i * HASH_SLOT;
		if (b64_decode_to(in->v[i], strlen(in->v[i]), v[i], HASH_SLOT, &l[i]) != 0 ||
		    l[i] == 0 || l[i] > REQ_HASH_MAX) {
			req_hashes_free(v, l, in->n);
			req_audit_refusal(rq, "csc.hashes", "malformed hash value");
			reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
			            "Invalid digest value length (base64 of a 32, 48 or 64 byte digest expected)");
			return INK_ERR_INVALID;
		}
	}
	*raw = v;
	*lens = l;
	return 0;
}

void
reply_csc_err(struct srv_request *rq, int r)
{
	rq->reason = r == INK_ERR_AUTH ? (rq->route != NULL && rq->route->fn == ep_csc_authorize ?
	                                  SRV_REASON_WRONG_OTP : SRV_REASON_BAD_SAD) :
	             r == INK_ERR_EXPIRED || r == INK_ERR_DISABLED ? SRV_REASON_CERT :
	             srv_reason_of_err(r);
	switch (r) {
	case INK_ERR_AUTH:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter SAD or OTP");
		break;
	case INK_ERR_BAD_PIN:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid PIN");
		break;
	case INK_ERR_SAD_EXPIRED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "SAD expired");
		break;
	case INK_ERR_NOT_AUTHORIZED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Hash is not authorized by the SAD");
		break;
	case INK_ERR_TOO_LARGE:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Numbers of signatures is too high");
		break;
	case INK_ERR_INVALID:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid digest value length");
		break;
	case INK_ERR_POLICY:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter signAlgo or hashAlgorithmOID for this key, or credential "
		            "not usable yet (no certificate)");
		break;
	case INK_ERR_LOCKED:
		reply_error(rq, MHD_HTTP_FORBIDDEN, "access_denied", "Credential locked");
		break;
	case INK_ERR_EXPIRED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Signing certificate is expired");
		break;
	case INK_ERR_DISABLED:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Signing certificate is revoked or the key destroyed");
		break;
	case INK_ERR_NOT_FOUND:
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter credentialID");
		break;
	default:
		reply_ink_err(rq, r, NULL);
		break;
	}
}

/* One query argument looked for by its decoded name. */
struct query_arg {
	const char *name;
	char value[32];        /* decoded */
	int found;             /* 0 absent, 1 found, -1 malformed or given twice */
};

static enum MHD_Result
query_arg_match(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_arg *q = cls;
	char k[64];

	(void)kind;
	/* MHD left key and value as sent (http.c): each is decoded here, once. */
	if (!srv_pct_decode(key, strlen(key), k, sizeof(k), true) || strcmp(k, q->name) != 0)
		return MHD_YES;
	if (q->found != 0 || value == NULL ||
	    !srv_pct_decode(value, strlen(value), q->value, sizeof(q->value), true)) {
		q->found = -1;
		return MHD_NO;
	}
	q->found = 1;
	return MHD_YES;
}

int
req_query_int(struct srv_request *rq, const char *name, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
	struct query_arg q = { .name = name };
	const char *v = q.value;
	char *end;
	long long x;

	*out = def;
	(void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_arg_match, &q);
	if (q.found == 0)
		return 0;
	if (q.found < 0)
		return INK_ERR_INVALID;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
		return INK_ERR_INVALID;
	*out = x;
	return 0;
}

int
req_audit_head(struct srv_request *rq, struct audit_head *h, uint8_t **spki, size_t *len)
{
	struct audit_head sam;
	bool closed = false;
	int r;

	*spki = NULL;
	*len = 0;
	/* every record written so far (the SAM's own too) goes under a fresh signed head first */
	if ((r = srv_samlog_pull(rq->srv)) != 0 || (r = audit_checkpoint(rq->srv->st, h)) != 0) {
		log_error("audit checkpoint failed: %s", ink_err_str(r));
		return r;
	}
	return sam_log_head(rq->srv->sam, &sam, &closed, spki, len);
}
