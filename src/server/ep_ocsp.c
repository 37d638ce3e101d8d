/* ep_ocsp: POST /ocsp and GET /ocsp/{base64} — the built-in CA's OCSP responder (RFC 6960, its
 * appendix A: application/ocsp-request in, application/ocsp-response out). The request is
 * parsed here (bounded); the SAM finds each status in the CA's records and signs. Requests
 * that need a signature now (a nonce, several certificates, or no pre-produced response) are
 * rate-limited; a malformed request gets the OCSP answer malformedRequest (HTTP 200, as
 * responders do), an exhausted rate tryLater. Refusals are audited (counted per source). */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "formats/formats.h"
#include "sam/sam.h"

#define OCSP_TYPE "application/ocsp-response"

static void
ocsp_audit(struct srv_request *rq, const char *result, const char *detail)
{
	struct audit_event ev = {
		.action = "ocsp.request",
		.result = result,
		.request_id = rq->request_id,
		.source = rq->source,
		.detail = detail,
	};

	if (req_audit_event(rq, &ev) != 0)
		log_error("cannot audit an OCSP refusal (%s)", result);
}

/* An unsigned OCSP answer with status (malformedRequest, internalError, tryLater). */
static void
reply_status(struct srv_request *rq, int status)
{
	uint8_t *resp = NULL;
	size_t len = 0;
	int r;

	if ((r = formats_ocsp_error(status, &resp, &len)) != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, OCSP_TYPE, resp, len);
	free(resp);
}

/* One signature's worth of the responder's rate, counted for the source address. */
static bool
rate_ok(struct srv_request *rq)
{
	char client[96];
	unsigned retry = 0;

	snprintf(client, sizeof(client), "addr:%s", rq->source_key);
	if (srv_rate_take(rq->srv->ocsp_rate, client, &retry))
		return true;
	ocsp_audit(rq, "rate limited", NULL);
	reply_status(rq, FORMATS_OCSP_TRY_LATER);
	return false;
}

static void
http_date(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

/* RFC 5019 6.2: a GET answered without a nonce is the pre-produced response anyone may get, so
 * an HTTP cache in front of the responder may keep it: for ocsp_cache_max_age, never past its
 * nextUpdate (Expires). A cache delays a revocation by that long for clients without a nonce,
 * hence the short default. Everything else (a nonce, a POST) keeps reply_bytes' no-cache. */
static void
cache_headers(struct srv_request *rq, const uint8_t *resp, size_t len)
{
	time_t produced, next, now = time(NULL);
	int64_t cap = rq->srv->cfg.ocsp_cache_max_age;
	char age[96], last[32], expires[32];

	if (cap <= 0 || rq->resp == NULL || formats_ocsp_validity(resp, len, &produced, &next) != 0 ||
	    next <= now)
		return;
	snprintf(age, sizeof(age), "max-age=%lld, public, no-transform, must-revalidate",
	         (long long)(next - now < cap ? next - now : cap));
	http_date(produced, last);
	http_date(next, expires);
	if (last[0] == '\0' || expires[0] == '\0')
		return;
	(void)MHD_del_response_header(rq->resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	(void)MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_CACHE_CONTROL, age);
	(void)MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_LAST_MODIFIED, last);
	(void)MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_EXPIRES, expires);
}

static void
answer(struct srv_request *rq, const uint8_t *der, size_t len)
{
	struct formats_ocsp_req *q = NULL;
	const uint8_t *ids[FORMATS_OCSP_IDS_MAX];
	uint8_t *resp = NULL;
	size_t rlen = 0, i;
	bool may_sign, fresh = false;
	char why[128];
	int r;

	if ((q = malloc(sizeof(*q))) == NULL) {
		reply_status(rq, FORMATS_OCSP_INTERNAL);
		return;
	}
	if (formats_ocsp_parse(der, len, q, why, sizeof(why)) != 0) {
		ocsp_audit(rq, "malformed request", why);
		reply_status(rq, FORMATS_OCSP_MALFORMED);
		goto out;
	}
	for (i = 0; i < q->n; i++)
		ids[i] = q->ids[i];
	/* a nonce or several certificates: a response made for this request alone */
	may_sign = q->nonce_len > 0 || q->n > 1;
	if (may_sign && !rate_ok(rq))
		goto out;
	r = sam_ocsp(rq->srv->sam, may_sign, q->nonce_len > 0 ? q->nonce : NULL, q->nonce_len, ids,
	             q->id_lens, q->n, &resp, &rlen, &fresh);
	if (r == INK_ERR_BUSY && !may_sign) {
		/* no pre-produced response (yet, or any more): one is signed, at the rate's cost */
		if (!rate_ok(rq))
			goto out;
		r = sam_ocsp(rq->srv->sam, true, NULL, 0, ids, q->id_lens, q->n, &resp, &rlen, &fresh);
	}
	if (r != 0) {
		/* the SAM reads each CertID again: one it refuses is the request's fault */
		if (r != INK_ERR_INVALID)
			log_warn("the OCSP responder failed: %s", ink_err_str(r));
		ocsp_audit(rq, r == INK_ERR_INVALID ? "malformed request" : ink_err_str(r), NULL);
		reply_status(rq, r == INK_ERR_INVALID ? FORMATS_OCSP_MALFORMED : FORMATS_OCSP_INTERNAL);
		goto out;
	}
	reply_bytes(rq, MHD_HTTP_OK, OCSP_TYPE, resp, rlen);
	if (q->nonce_len == 0 && strcmp(rq->method, "GET") == 0)
		cache_headers(rq, resp, rlen);
out:
	free(resp);
	free(q);
}

void
ep_ocsp(struct srv_request *rq)
{
	if (!req_media_is(rq, "application/ocsp-request")) {
		ocsp_audit(rq, "wrong content type", NULL);
		reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
		            "Content-Type must be application/ocsp-request");
		return;
	}
	if (rq->body.len > FORMATS_OCSP_REQ_MAX) {
		ocsp_audit(rq, "request too large", NULL);
		reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request", "OCSP request too large");
		return;
	}
	answer(rq, rq->body.data, rq->body.len);
}

/* RFC 6960 appendix A.1: the DER request, base64, URL-encoded, as the path's last part (its
 * '/' may come as %2F or as is: the route takes the rest of the path, decoded once). */
void
ep_ocsp_get(struct srv_request *rq)
{
	uint8_t *der = NULL;
	size_t len = 0;

	if (rq->nparams != 1 || b64_decode(rq->params[0], &der, &len) != 0) {
		ocsp_audit(rq, "malformed request", "not base64");
		reply_status(rq, FORMATS_OCSP_MALFORMED);
		return;
	}
	answer(rq, der, len);
	free(der);
}
