/* ep_keys_revoke: POST /api/v1/keys/{id}/revoke — revoke the certificate, destroy the key. */
#include "server/server.h"

#include <string.h>

struct revoke_req {
	char *reason;
};

static const struct json_field revoke_spec[] = {
	JSPEC_STRING("reason", struct revoke_req, reason, 32, 0),
	JSPEC_END,
};

/* RFC 5280 CRLReason names; certificateHold is not offered: a revoked key is destroyed. */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", 0 }, { "keyCompromise", 1 }, { "cACompromise", 2 },
	{ "affiliationChanged", 3 }, { "superseded", 4 }, { "cessationOfOperation", 5 },
	{ "privilegeWithdrawn", 9 },
};

void
ep_keys_revoke(struct srv_request *rq)
{
	struct revoke_req req = { 0 };
	int reason = -1, r;
	size_t i;

	if (req_parse(rq, revoke_spec, &req) != 0)
		return;
	for (i = 0; i < INK_ARRAY_LEN(reasons); i++)
		if (strcmp(req.reason != NULL ? req.reason : "unspecified", reasons[i].name) == 0)
			reason = reasons[i].code;
	if (reason < 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter reason: unspecified, keyCompromise, cACompromise, "
		            "affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn");
		goto out;
	}
	r = auth_key_revoke(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], reason);
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
out:
	json_free_spec(revoke_spec, &req);
}
