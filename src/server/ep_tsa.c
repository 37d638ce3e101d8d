/* ep_tsa: POST /tsa — the built-in RFC 3161 time-stamp authority over HTTP (RFC 3161 3.4:
 * application/timestamp-query in, application/timestamp-reply out). The request is parsed and
 * checked here; the TSA key signs in inkan-sam. Every token is audited, and every refusal
 * (those of anonymous callers counted per source past the first few: req_audit_event). */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "formats/formats.h"
#include "sam/sam.h"

/* A TimeStampReq is small; anything larger is not one. */
#define TSA_REQ_MAX 4096

/* A time-stamp issued, or the TSA's failure (refusal: a refusal of the caller's request). */
static void
tsa_record(struct srv_request *rq, const char *serial, const char *result, const char *detail,
           bool refusal)
{
	struct audit_event ev = {
		.actor = rq->who.username[0] != '\0' ? rq->who.username : NULL,
		.action = "tsa.timestamp",
		.subject = serial,
		.result = result,
		.request_id = rq->request_id,
		.source = rq->source,
		.detail = detail,
	};
	int r = refusal ? req_audit_event(rq, &ev) : audit_append(rq->srv->st, &ev);

	if (r != 0)
		log_error("cannot audit a time-stamp (%s)", result);
}

void
tsa_audit(struct srv_request *rq, const char *serial, const char *result, const char *detail)
{
	tsa_record(rq, serial, result, detail, true);
}

bool
tsa_rate_ok(struct srv_request *rq)
{
	char client[96];

	/* a signer is one client wherever they come from; anyone else is their address */
	if (rq->who.username[0] != '\0')
		snprintf(client, sizeof(client), "user:%s", rq->who.username);
	else
		snprintf(client, sizeof(client), "addr:%s", rq->source_key);
	if (srv_rate_take(rq->srv->tsa_rate, client, &rq->retry_after))
		return true;
	tsa_audit(rq, NULL, "rate limited", NULL);
	if (rq->retry_after == 0)
		rq->retry_after = 1;
	reply_error(rq, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
	            "Too many time-stamp requests; retry after the time in Retry-After");
	return false;
}

int
tsa_issue(struct srv_request *rq, const struct formats_tsa_req *tr, uint8_t **resp, size_t *len)
{
	char serial[65], detail[160];
	int64_t gen = 0;
	int r;

	r = sam_tsa_stamp(rq->srv->sam, tr, resp, len, serial, &gen);
	if (r != 0) {
		tsa_record(rq, NULL, ink_err_str(r), tr->hash_oid, false);
		return r;
	}
	snprintf(detail, sizeof(detail), "imprint %s, genTime %lld, policy %s", tr->hash_oid,
	         (long long)gen, rq->srv->cfg.tsa_policy_oid);
	tsa_record(rq, serial, AUDIT_SUCCESS, detail, false);
	return 0;
}

/* A request that is not a time-stamp query at all (content type, size): an HTTP error. */
static void
refuse(struct srv_request *rq, unsigned status, const char *why)
{
	tsa_audit(rq, NULL, why, NULL);
	reply_error(rq, status, "invalid_request", why);
}

void
ep_tsa(struct srv_request *rq)
{
	struct formats_tsa_parsed p;
	uint8_t *resp = NULL;
	size_t len = 0;
	char why[128];
	int r;

	if (!tsa_rate_ok(rq))
		return;
	if (!req_media_is(rq, "application/timestamp-query")) {
		refuse(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/timestamp-query");
		return;
	}
	if (rq->body.len > TSA_REQ_MAX) {
		refuse(rq, MHD_HTTP_CONTENT_TOO_LARGE, "TimeStampReq too large");
		return;
	}
	/* A refused request gets the RFC 3161 answer: a TimeStampResp with status rejection, the
	 * failure bit and the reason, and no token. */
	if (formats_tsa_parse(rq->body.data, rq->body.len, rq->srv->cfg.tsa_policy_oid, &p, why,
	                      sizeof(why)) != 0) {
		tsa_audit(rq, NULL, why, NULL);
		if ((r = formats_tsa_reject(p.fail_bit, why, &resp, &len)) != 0) {
			reply_ink_err(rq, r, NULL);
			return;
		}
		reply_bytes(rq, MHD_HTTP_OK, "application/timestamp-reply", resp, len);
		free(resp);
		return;
	}
	/* A clock that cannot vouch for the time: RFC 3161's timeNotAvailable. */
	if ((r = tsa_issue(rq, &p.req, &resp, &len)) == INK_ERR_CLOCK &&
	    (r = formats_tsa_reject(FORMATS_TS_FAIL_TIME_NOT_AVAILABLE,
	                            "the time source is not available", &resp, &len)) == 0) {
		reply_bytes(rq, MHD_HTTP_OK, "application/timestamp-reply", resp, len);
		free(resp);
		return;
	}
	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/timestamp-reply", resp, len);
	free(resp);
}
