/* ep_verify: POST /api/v1/verify — validates a CAdES, PAdES, XAdES or time-stamp signature,
 * answers the report; the service's current CRLs decide about its own certificates. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "sam/sam.h"
#include "verify/verify.h"

/* The body is capped by max_body already; a field may use all of it. */
#define VERIFY_FIELD_MAX ((size_t)1 << 30)

struct verify_req {
	char *signature;          /* base64 */
	char *document;           /* base64, optional */
	char *document_digest;    /* base64, optional */
	char *digest_algorithm;   /* dotted OID, with document_digest */
	char *format;             /* "cades" | "pades" | "timestamp" | "xades", optional */
};

static const struct json_field verify_spec[] = {
	JSPEC_STRING("signature", struct verify_req, signature, VERIFY_FIELD_MAX, JF_REQUIRED),
	JSPEC_STRING("document", struct verify_req, document, VERIFY_FIELD_MAX, 0),
	JSPEC_STRING("document_digest", struct verify_req, document_digest, 256, 0),
	JSPEC_STRING("digest_algorithm", struct verify_req, digest_algorithm, 64, 0),
	JSPEC_STRING("format", struct verify_req, format, 16, 0),
	JSPEC_END,
};

/* Trust anchors: DATA/ca/chain.pem when present (the operator may add anchors there) and the
 * service's own CA chain. That chain also names the CAs whose current status decides: their
 * CRL and the root's ARL as the SAM holds them now (as GET /ca/crl and /ca/arl serve them).
 * DATA/ca/crl.pem, which inkan never writes, may hold CRLs the operator supplies for other CAs;
 * it cannot decide about the service's own. Without the SAM nothing is validated: the
 * service's own certificates would be judged by whatever the submitter brought. */
static int
load_service_trust(struct srv *s, struct verify_ctx *vctx)
{
	char path[1024], *pem = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	if (ink_path(path, sizeof(path), s->cfg.data_dir, "ca/chain.pem") != 0)
		return INK_ERR_CONFIG;
	r = verify_ctx_load_trust(vctx, path);
	if (r != 0 && r != INK_ERR_NOT_FOUND) {
		log_error("cannot load trust anchors from %s: %s", path, ink_err_str(r));
		return r;
	}
	if (ink_path(path, sizeof(path), s->cfg.data_dir, "ca/crl.pem") != 0)
		return INK_ERR_CONFIG;
	r = verify_ctx_load_crl(vctx, path);
	if (r != 0 && r != INK_ERR_NOT_FOUND)
		log_warn("cannot load the CRL %s: %s", path, ink_err_str(r));
	if ((r = sam_ca_chain(s->sam, &pem)) != 0 ||
	    (r = verify_ctx_add_trust_pem(vctx, pem, strlen(pem))) != 0 ||
	    (r = verify_ctx_add_service_ca(vctx, pem, strlen(pem))) != 0)
		goto out;
	if ((r = sam_ca_crl(s->sam, &der, &len)) != 0 ||
	    (r = verify_ctx_add_service_crl(vctx, der, len)) != 0)
		goto out;
	free(der);
	der = NULL;
	if ((r = sam_ca_arl(s->sam, &der, &len)) == 0 &&
	    (r = verify_ctx_add_service_crl(vctx, der, len)) == 0)
		r = verify_ctx_set_service_source(vctx, "this service (its CA's CRL and ARL now)");
out:
	if (r != 0)
		log_error("cannot get the service's CA chain and current CRLs: %s", ink_err_str(r));
	free(pem);
	free(der);
	return r;
}

static void
bad(struct srv_request *rq, const char *desc)
{
	log_op("request %s: %s", rq->request_id, desc);
	reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", desc);
}

void
ep_verify(struct srv_request *rq)
{
	struct verify_req req = { 0 };
	struct verify_input in;
	struct verify_ctx *vctx = NULL;
	struct verify_report *rep = NULL;
	const struct policy_hash_alg *h;
	uint8_t *sig = NULL, *doc = NULL, *dg = NULL;
	size_t sig_len = 0, doc_len = 0, dg_len = 0;
	char err[256], desc[320];
	int r;

	memset(&in, 0, sizeof(in));
	if (req_parse(rq, verify_spec, &req) != 0)
		return;
	if (req.format != NULL && verify_format_parse(req.format, &in.format) != 0) {
		bad(rq, "Invalid parameter format: cades, pades, timestamp or xades");
		goto out;
	}
	if (b64_decode(req.signature, &sig, &sig_len) != 0 || sig_len == 0) {
		bad(rq, "Invalid parameter signature: must be non-empty base64");
		goto out;
	}
	if (req.document != NULL && b64_decode(req.document, &doc, &doc_len) != 0) {
		bad(rq, "Invalid parameter document: must be base64");
		goto out;
	}
	if (req.document_digest != NULL) {
		if (req.document != NULL) {
			bad(rq, "Give document or document_digest, not both");
			goto out;
		}
		if ((h = policy_hash_by_oid(req.digest_algorithm)) == NULL) {
			bad(rq, "Invalid parameter digest_algorithm: an allowed digest OID is required "
			        "with document_digest");
			goto out;
		}
		if (b64_decode(req.document_digest, &dg, &dg_len) != 0 || dg_len != h->len) {
			bad(rq, "Invalid parameter document_digest: base64 of a digest of the given "
			        "algorithm's length");
			goto out;
		}
		in.digest = dg;
		in.digest_len = dg_len;
		in.digest_oid = h->oid;
	}
	in.sig = sig;
	in.sig_len = sig_len;
	/* An empty document is still a document. */
	in.doc = req.document != NULL ? (doc != NULL ? doc : (const uint8_t *)"") : NULL;
	in.doc_len = doc_len;
	if ((r = verify_ctx_new(&vctx)) != 0 || (r = load_service_trust(rq->srv, vctx)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	/* Never fetch what a submitted document names (a URL of the submitter's choosing: their
	 * revocation data, and a request from inside our network). Off by default; said here. */
	verify_ctx_set_fetch(vctx, false);
	r = verify_run(vctx, &in, &rep, err, sizeof(err));
	if (r == INK_ERR_INVALID) {
		snprintf(desc, sizeof(desc), "Invalid parameter signature: %s", err);
		bad(rq, desc);
		goto out;
	}
	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, verify_report_json(rep));
out:
	verify_report_free(rep);
	verify_ctx_free(vctx);
	free(sig);
	free(doc);
	free(dg);
	json_free_spec(verify_spec, &req);
}
