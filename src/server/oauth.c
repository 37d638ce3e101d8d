/* oauth: what the OAuth token endpoints share — their form bodies, client authentication
 * (client_secret_basic, client_secret_post, private_key_jwt, or a public client's id alone) and
 * the RFC 6749 error form, every refusal audited. */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth/oauth.h"
#include "policy/policy.h"

#define FORM_VALUE_MAX 16384   /* authorization_details may list 100 digests */

/* The OAuth error form (RFC 6749 5.2), audited as action with why. */
void
srv_oauth_refuse(struct srv_request *rq, const char *action, unsigned status, const char *error,
             const char *why)
{
	req_audit_refusal(rq, action, why);
	reply_error(rq, status, error, why);
	if (status == MHD_HTTP_UNAUTHORIZED && rq->resp != NULL)
		(void)MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                              "Basic realm=\"inkan\"");
}

/* The audiences a client assertion may name (RFC 7523 3, item 3): the issuer and its token
 * endpoint — from the setting, or this listener's own bound address, never the Host header a
 * client chooses. */
static void
assertion_auds(struct srv_request *rq, char issuer[static 300], char token_ep[static 320])
{
	if (rq->srv->cfg.oauth_issuer[0] != '\0')
		snprintf(issuer, 300, "%s", rq->srv->cfg.oauth_issuer);
	else
		snprintf(issuer, 300, "%s://%s", rq->srv->cfg.plain_http ? "http" : "https",
		         rq->listener->bound);
	snprintf(token_ep, 320, "%s/oauth2/token", issuer);
}

/* private_key_jwt (RFC 7523 2.2, OpenID Connect Core 9): the client_assertion proves the
 * client; client_id, if sent, must name the same client. */
static int
client_by_assertion(struct srv_request *rq, const struct oauth_form *f, const char *action,
                    struct store_oauth_client *cl)
{
	const char *type = oauth_form_get(f, "client_assertion_type");
	const char *assertion = oauth_form_get(f, "client_assertion");
	const char *id = oauth_form_get(f, "client_id"), *why = NULL, *iss;
	char issuer[300], token_ep[320], cid[STORE_ID_LEN + 1];
	const char *auds[2] = { issuer, token_ep };
	json_t *claims = NULL;
	int r;

	if (type == NULL || strcmp(type, OAUTH_ASSERTION_TYPE) != 0 || assertion == NULL ||
	    oauth_form_get(f, "client_secret") != NULL ||
	    MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                MHD_HTTP_HEADER_AUTHORIZATION) != NULL) {
		srv_oauth_refuse(rq, action, MHD_HTTP_BAD_REQUEST, "invalid_request",
		                 "a client assertion needs client_assertion_type jwt-bearer and "
		                 "client_assertion, and no other client authentication");
		return INK_ERR_INVALID;
	}
	/* which client: its iss (unverified until its key has checked the signature) */
	cid[0] = '\0';
	{
		const char *d1 = strchr(assertion, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
		uint8_t *raw = NULL;
		size_t n = 0;

		if (d2 != NULL && oauth_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &raw, &n) == 0 &&
		    (claims = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL)) != NULL &&
		    (iss = json_string_value(json_object_get(claims, "iss"))) != NULL &&
		    strlen(iss) == STORE_ID_LEN)
			memcpy(cid, iss, sizeof(cid));
		free(raw);
		json_decref(claims);
	}
	if (id != NULL && strcmp(id, cid) != 0) {
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client",
		                 "client_id is not the client assertion's iss");
		return INK_ERR_AUTH;
	}
	if (oauth_client_find(rq->srv->st, cid, cl) != 0) {
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client", "unknown client");
		return INK_ERR_AUTH;
	}
	if (cl->public_key[0] == '\0') {
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client",
		                 "the client is not registered for private_key_jwt");
		return INK_ERR_AUTH;
	}
	assertion_auds(rq, issuer, token_ep);
	r = oauth_client_assertion_check(rq->srv->st, cl, assertion, auds, INK_ARRAY_LEN(auds),
	                                 ink_now(), &why);
	if (r == INK_ERR_STORE || r == INK_ERR_ALLOC) {
		reply_ink_err(rq, r, NULL);
		return r;
	}
	if (r != 0) {
		char detail[200];

		/* the reason first: the audit keeps a short result */
		snprintf(detail, sizeof(detail), "%s (client %s)", why != NULL ? why :
		         "bad client assertion", cl->id);
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client", detail);
		return INK_ERR_AUTH;
	}
	return 0;
}

int
srv_oauth_client_auth(struct srv_request *rq, const struct oauth_form *f, const char *action,
                      struct store_oauth_client *cl)
{
	char *decoded = NULL;
	const char *id = oauth_form_get(f, "client_id"), *secret = oauth_form_get(f, "client_secret");
	const char *bid = NULL, *bsecret = NULL;
	bool basic = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                         MHD_HTTP_HEADER_AUTHORIZATION) != NULL;
	int r = INK_ERR_AUTH;

	memset(cl, 0, sizeof(*cl));
	if (oauth_form_get(f, "client_assertion_type") != NULL ||
	    oauth_form_get(f, "client_assertion") != NULL) {
		if ((r = client_by_assertion(rq, f, action, cl)) != 0)
			memset(cl, 0, sizeof(*cl));
		return r;
	}
	if (basic) {
		/* RFC 6749 2.3.1: one method only */
		if (secret != NULL || req_basic_credentials(rq, &decoded, &bid, &bsecret) != 0 ||
		    (id != NULL && strcmp(id, bid) != 0)) {
			srv_oauth_refuse(rq, action, MHD_HTTP_BAD_REQUEST, "invalid_request",
			             "malformed client authentication");
			goto out;
		}
		id = bid;
		secret = bsecret;
	}
	if (oauth_client_find(rq->srv->st, id, cl) != 0) {
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client", "unknown client");
		goto out;
	}
	if (oauth_client_secret_check(cl, secret) != 0) {
		srv_oauth_refuse(rq, action, MHD_HTTP_UNAUTHORIZED, "invalid_client",
		             cl->public_key[0] != '\0' ? "the client is registered for private_key_jwt: "
		             "it must send a client assertion, never a secret" :
		             cl->public_client ? "a public client sent a secret" :
		             "wrong or missing client secret");
		goto out;
	}
	r = 0;
out:
	secmem_free(decoded);
	if (r != 0)
		memset(cl, 0, sizeof(*cl));
	return r;
}

const char *
srv_oauth_account_token(struct srv_request *rq, const struct oauth_form *f,
                        const struct store_oauth_client *cl, struct oauth_request *req)
{
	const char *token = oauth_form_get(f, "account_token"), *why = NULL;

	req->account[0] = '\0';
	if (token == NULL)
		return NULL;
	if (oauth_account_token_check(rq->srv->st, cl, token, ink_now(), req->account, &why) != 0)
		return why != NULL ? why : "the account_token is not valid";
	return NULL;
}

int
srv_oauth_form(struct srv_request *rq, const char *action, struct oauth_form *f)
{
	if (!req_media_is(rq, "application/x-www-form-urlencoded")) {
		req_audit_refusal(rq, action, "body not application/x-www-form-urlencoded");
		reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
		            "Content-Type must be application/x-www-form-urlencoded");
		return INK_ERR_INVALID;
	}
	if (oauth_form_parse((const char *)rq->body.data, rq->body.len, FORM_VALUE_MAX, f) != 0) {
		req_audit_refusal(rq, action, "malformed or repeated form parameters");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Malformed form: a parameter is repeated, too long or badly escaped");
		return INK_ERR_INVALID;
	}
	return 0;
}

/* RFC 9396 authorization_details of the CSC type "credential" (one object): credentialID,
 * documentDigests [{hash, label}] (1..100), hashAlgorithmOID, numSignatures (if given: their
 * number). NULL, or why not. */
static const char *
read_details(const char *text, struct oauth_request *req, char *oid, size_t oidsz)
{
	json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL), *d, *digests, *e;
	const char *why = NULL, *s;
	size_t i, n;

	if (!json_is_array(arr) || json_array_size(arr) != 1 ||
	    !json_is_object(d = json_array_get(arr, 0))) {
		why = "authorization_details must be a JSON array of one object";
		goto out;
	}
	if ((s = json_string_value(json_object_get(d, "type"))) == NULL || strcmp(s, "credential") != 0) {
		why = "authorization_details type must be credential";
		goto out;
	}
	if ((s = json_string_value(json_object_get(d, "credentialID"))) == NULL || s[0] == '\0' ||
	    strlen(s) >= sizeof(req->cred)) {
		why = "authorization_details needs a credentialID";
		goto out;
	}
	snprintf(req->cred, sizeof(req->cred), "%s", s);
	if ((s = json_string_value(json_object_get(d, "hashAlgorithmOID"))) != NULL) {
		if (strlen(s) >= oidsz) {
			why = "hashAlgorithmOID is not an allowed digest";
			goto out;
		}
		snprintf(oid, oidsz, "%s", s);
	}
	digests = json_object_get(d, "documentDigests");
	if (!json_is_array(digests) || (n = json_array_size(digests)) == 0 || n > OAUTH_HASHES_MAX) {
		why = "documentDigests must list 1..100 digests";
		goto out;
	}
	for (i = 0; i < n; i++) {
		size_t one = 0;

		e = json_array_get(digests, i);
		if ((s = json_string_value(json_object_get(e, "hash"))) == NULL || strchr(s, ',') != NULL ||
		    oauth_hashes_parse(s, &req->hashes[i], &req->hash_lens[i], 1, &one) != 0) {
			why = "a documentDigests hash is not base64";
			goto out;
		}
		if ((s = json_string_value(json_object_get(e, "label"))) != NULL) {
			if (strlen(s) > OAUTH_LABEL_MAX) {
				why = "a documentDigests label is longer than 128 bytes";
				goto out;
			}
			snprintf(req->labels[i], sizeof(req->labels[i]), "%s", s);
		}
	}
	req->n = n;
	e = json_object_get(d, "numSignatures");
	if (e != NULL && (!json_is_integer(e) || json_integer_value(e) != (json_int_t)n))
		why = "numSignatures must equal the number of documentDigests";
out:
	json_decref(arr);
	return why;
}

const char *
srv_oauth_read_request(const struct oauth_form *f, struct oauth_request *req, const char **error)
{
	const char *v, *num, *why;
	char *end, oid[65] = "";
	long n;

	*error = "invalid_request";
	if ((v = oauth_form_get(f, "response_type")) == NULL || strcmp(v, "code") != 0) {
		*error = "unsupported_response_type";
		return "response_type must be code";
	}
	if ((v = oauth_form_get(f, "code_challenge_method")) == NULL || strcmp(v, "S256") != 0)
		return "PKCE with code_challenge_method S256 is required";
	if (!oauth_pkce_challenge_valid(v = oauth_form_get(f, "code_challenge")))
		return "code_challenge must be 43 base64url characters (S256)";
	memcpy(req->challenge, v, OAUTH_TOKEN_CHARS + 1);
	if ((v = oauth_form_get(f, "state")) != NULL) {
		if (strlen(v) > OAUTH_STATE_MAX)
			return "state is longer than 512 bytes";
		snprintf(req->state, sizeof(req->state), "%s", v);
	}
	/* CSC v2 8.3.2, scope "service": list and read the signer's credentials; nothing to sign */
	if ((v = oauth_form_get(f, "scope")) != NULL && strcmp(v, "service") == 0) {
		if (oauth_form_get(f, "authorization_details") != NULL ||
		    oauth_form_get(f, "credentialID") != NULL || oauth_form_get(f, "hashes") != NULL ||
		    oauth_form_get(f, "numSignatures") != NULL)
			return "the service scope names no credential, hash or authorization_details";
		req->service = true;
		return NULL;
	}
	if ((v = oauth_form_get(f, "authorization_details")) != NULL) {
		/* RFC 9396: the CSC "credential" type carries credential, digests and labels */
		if (oauth_form_get(f, "credentialID") != NULL || oauth_form_get(f, "hashes") != NULL ||
		    oauth_form_get(f, "hashAlgorithmOID") != NULL)
			return "authorization_details replaces credentialID, hashes and hashAlgorithmOID";
		if ((v = oauth_form_get(f, "scope")) != NULL && strcmp(v, "credential") != 0) {
			*error = "invalid_scope";
			return "authorization_details goes with the credential scope";
		}
		if ((why = read_details(oauth_form_get(f, "authorization_details"), req, oid,
		                        sizeof(oid))) != NULL) {
			*error = "invalid_authorization_details";
			return why;
		}
	} else {
		if ((v = oauth_form_get(f, "scope")) == NULL || strcmp(v, "credential") != 0) {
			*error = "invalid_scope";
			return "scope must be service or credential";
		}
		if ((v = oauth_form_get(f, "credentialID")) == NULL || v[0] == '\0' ||
		    strlen(v) >= sizeof(req->cred))
			return "credentialID is required";
		snprintf(req->cred, sizeof(req->cred), "%s", v);
		if (oauth_hashes_parse(oauth_form_get(f, "hashes"), req->hashes, req->hash_lens,
		                       OAUTH_HASHES_MAX, &req->n) != 0)
			return "hashes must be 1..100 base64url digests separated by commas";
		num = oauth_form_get(f, "numSignatures");
		n = num != NULL ? strtol(num, &end, 10) : -1;
		if (num == NULL || *num == '\0' || *end != '\0' || n != (long)req->n)
			return "numSignatures must equal the number of hashes";
		if ((v = oauth_form_get(f, "hashAlgorithmOID")) != NULL)
			snprintf(oid, sizeof(oid), "%s", v);
	}
	if (oid[0] != '\0') {
		const struct policy_hash_alg *alg = policy_hash_by_oid(oid);

		if (alg == NULL)
			return "hashAlgorithmOID is not an allowed digest";
		for (n = 0; n < (long)req->n; n++)
			if (req->hash_lens[n] != alg->len)
				return "a hash does not have the length of hashAlgorithmOID";
		snprintf(req->hash_oid, sizeof(req->hash_oid), "%s", oid);
	} else {
		for (n = 0; n < (long)req->n; n++)
			if (req->hash_lens[n] != 32 && req->hash_lens[n] != 48 && req->hash_lens[n] != 64)
				return "a hash has no SHA-2 length";
	}
	if ((v = oauth_form_get(f, "description")) != NULL) {
		if (strlen(v) > OAUTH_DESC_MAX)
			return "description is longer than 500 bytes";
		snprintf(req->description, sizeof(req->description), "%s", v);
	}
	if ((v = oauth_form_get(f, "clientData")) != NULL && strlen(v) > 4096)
		return "clientData is longer than 4096 bytes";
	return NULL;
}
