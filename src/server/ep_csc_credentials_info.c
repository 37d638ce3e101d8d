/* ep_csc_credentials_info: POST /csc/v{1,2}/credentials/info — key, certificate and how to
 * authorize (explicit: PIN AND OTP, SCAL 2). */
#include "server/server.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "policy/policy.h"
#include "keys/keys.h"
#include "sam/sam.h"

struct info_req {
	char *credential_id;
	char *certificates;
	bool cert_info;
	bool auth_info;
	char *lang;
	char *client_data;
};

static const struct json_field info_spec[] = {
	JSPEC_STRING("credentialID", struct info_req, credential_id, 64, JF_REQUIRED),
	JSPEC_STRING("certificates", struct info_req, certificates, 16, 0),
	JSPEC_BOOL("certInfo", struct info_req, cert_info, 0),
	JSPEC_BOOL("authInfo", struct info_req, auth_info, 0),
	JSPEC_STRING("lang", struct info_req, lang, 16, 0),
	JSPEC_STRING("clientData", struct info_req, client_data, 4096, 0),
	JSPEC_END,
};

/* CSC dates are GeneralizedTime text: YYYYMMDDHHMMSSZ. */
static void
gtime(int64_t t, char out[static 16])
{
	char iso[21];

	ink_time_str(t, iso);
	memcpy(out, iso, 4);
	memcpy(out + 4, iso + 5, 2);
	memcpy(out + 6, iso + 8, 2);
	memcpy(out + 8, iso + 11, 2);
	memcpy(out + 10, iso + 14, 2);
	memcpy(out + 12, iso + 17, 2);
	out[14] = 'Z';
	out[15] = '\0';
}

static enum policy_key_type
key_type(const char *algo)
{
	if (strncmp(algo, "RSA", 3) == 0)
		return POLICY_KEY_RSA;
	if (strncmp(algo, "P-", 2) == 0)
		return POLICY_KEY_EC;
	return POLICY_KEY_ED25519;
}

static json_t *
render_key(const struct sam_cred *c)
{
	const char *oids[16];
	const uint8_t *p = c->pub;
	EVP_PKEY *pk = c->pub_len > 0 ? d2i_PUBKEY(NULL, &p, (long)c->pub_len) : NULL;
	json_t *k, *algo = json_array();
	size_t n, i;

	n = policy_algos_for_key(key_type(c->algo), oids, INK_ARRAY_LEN(oids));
	for (i = 0; algo != NULL && i < n; i++)
		json_array_append_new(algo, json_string(oids[i]));
	k = json_pack("{s:s, s:o, s:i}", "status", c->status == 1 ? "enabled" : "disabled",
	              "algo", algo, "len", pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
	if (k != NULL && strcmp(c->algo, "P-256") == 0)
		json_object_set_new(k, "curve", json_string("1.2.840.10045.3.1.7"));
	else if (k != NULL && strcmp(c->algo, "P-384") == 0)
		json_object_set_new(k, "curve", json_string("1.3.132.0.34"));
	else if (k != NULL && strcmp(c->algo, "P-521") == 0)
		json_object_set_new(k, "curve", json_string("1.3.132.0.35"));
	EVP_PKEY_free(pk);
	return k;
}

static json_t *
render_cert(const struct sam_cred *c, const char *certificates)
{
	char subj[1024] = "", issuer[1024] = "", serial[41] = "", from[16], to[16], *b64 = NULL;
	int64_t nb = 0, na = 0;
	X509 *x = NULL;
	json_t *o, *list = json_array();
	const char *status;

	if (c->cert_len == 0)
		return json_pack("{s:s}", "status", "valid");   /* pending: nothing to show yet */
	if (ca_cert_from_der(c->cert, c->cert_len, &x) == 0 &&
	    ca_cert_info(x, subj, sizeof(subj), issuer, sizeof(issuer), serial, &nb, &na) != 0)
		subj[0] = issuer[0] = '\0';
	X509_free(x);
	gtime(c->not_before, from);
	gtime(c->not_after, to);
	status = c->status == 3 ? "revoked" : c->not_after <= ink_now() ? "expired" : "valid";
	if (strcmp(certificates, "none") != 0 && list != NULL &&
	    b64_encode(c->cert, c->cert_len, &b64) == 0) {
		json_array_append_new(list, json_string(b64));
		free(b64);
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "status", status, "issuerDN", issuer,
	              "serialNumber", c->serial, "subjectDN", subj, "validFrom", from, "validTo", to);
	if (o != NULL && strcmp(certificates, "none") != 0)
		json_object_set_new(o, "certificates", list);
	else
		json_decref(list);
	return o;
}

json_t *
csc_render_info(const struct sam_cred *c, bool v1, const char *certificates,
                const struct ink_config *cfg)
{
	/* explicit only when the service allows it and the owner did not choose the consent page
	 * alone (the SAM enforces both at every authorization) */
	const char *mode = cfg->allow_explicit_authorize && c->auth_mode == KEYS_AUTH_SERVICE ?
	                   "explicit" : "oauth2code";
	json_t *o;

	/* assuranceLevel: the service's (docs/configuration.md), beside the CSC fields */
	o = json_pack("{s:s, s:o, s:o, s:s, s:I, s:s, s:I}",
	              "description", "inkan signing credential (sole control: PIN and OTP)",
	              "key", render_key(c), "cert", render_cert(c, certificates), "SCAL", "2",
	              "multisign", (json_int_t)cfg->multisign, "lang", cfg->lang,
	              "assuranceLevel", (json_int_t)cfg->assurance_level);
	if (o == NULL)
		return NULL;
	if (v1) {
		json_object_set_new(o, "authMode", json_string(mode));
		json_object_set_new(o, "PIN", json_pack("{s:s, s:s, s:s, s:s}", "presence", "true",
		    "format", "A", "label", "PIN", "description", "Signing PIN of this credential"));
		json_object_set_new(o, "OTP", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "presence", "true", "type", "offline", "ID", "totp", "provider", "inkan",
		    "format", "N", "label", "OTP", "description", "6-digit code of your authenticator (RFC 6238)"));
	} else {
		json_object_set_new(o, "auth", json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s, s:s}]}",
		    "mode", mode, "expression", "PIN AND OTP", "objects",
		    "type", "Password", "id", "PIN", "format", "A", "label", "PIN",
		    "description", "Signing PIN of this credential",
		    "type", "Password", "id", "OTP", "format", "N", "generator", "totp", "label", "OTP",
		    "description", "6-digit code of your authenticator (RFC 6238)"));
	}
	return o;
}

void
ep_csc_credentials_info(struct srv_request *rq)
{
	struct info_req req;
	struct sam_cred c;
	const char *certs;
	char *pem = NULL;
	json_t *o, *cert, *list;
	int r;

	memset(&req, 0, sizeof(req));
	memset(&c, 0, sizeof(c));
	if (req_parse(rq, info_spec, &req) != 0)
		return;
	certs = req.certificates != NULL ? req.certificates : "single";
	if (strcmp(certs, "none") != 0 && strcmp(certs, "single") != 0 && strcmp(certs, "chain") != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter certificates: none, single or chain");
		goto out;
	}
	if (!auth_allowed(rq->who.roles, AUTH_PERM_SIGN)) {
		req_audit_refusal(rq, "csc.credentials.info", "denied: not a signer");
		reply_ink_err(rq, INK_ERR_DENIED, "Only signers have credentials");
		goto out;
	}
	if ((r = auth_key_show(&rq->srv->actx, &rq->areq, &rq->who, req.credential_id, &c)) != 0 ||
	    c.status == 4) {
		reply_csc_err(rq, r != 0 ? r : INK_ERR_NOT_FOUND);
		goto out;
	}
	o = csc_render_info(&c, req_is_v1(rq), certs, &rq->srv->cfg);
	/* chain: the signer's certificate, then the issuing CA's and the root's. */
	if (o != NULL && strcmp(certs, "chain") == 0 &&
	    (cert = json_object_get(o, "cert")) != NULL &&
	    (list = json_object_get(cert, "certificates")) != NULL &&
	    sam_ca_chain(rq->srv->sam, &pem) == 0) {
		BIO *bio = BIO_new_mem_buf(pem, -1);
		X509 *x = NULL;
		uint8_t *der = NULL;
		size_t len = 0;
		char *b64 = NULL;

		while (bio != NULL && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
			if (ca_cert_der(x, &der, &len) == 0 && b64_encode(der, len, &b64) == 0)
				json_array_append_new(list, json_string(b64));
			free(b64);
			free(der);
			b64 = NULL;
			der = NULL;
			X509_free(x);
		}
		BIO_free(bio);
		free(pem);
	}
	reply_json(rq, MHD_HTTP_OK, o);
out:
	sam_cred_clear(&c);
	json_free_spec(info_spec, &req);
}
