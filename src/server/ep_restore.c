/* ep_restore: POST /api/v1/restore — a backup back into an empty key store (same master key);
 * the system operator's fresh OTP goes with it (the SAM checks it). */
#include "server/server.h"

#include <stdlib.h>

#include "sam/sam.h"

struct restore_req {
	char *backup;
	char *otp;
};

static const struct json_field restore_spec[] = {
	JSPEC_STRING("backup", struct restore_req, backup, 256u * 1024u * 1024u, JF_REQUIRED),
	JSPEC_STRING("otp", struct restore_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_restore(struct srv_request *rq)
{
	struct restore_req req = { 0 };
	uint8_t *blob = NULL;
	size_t len = 0;
	uint32_t n = 0;
	int r;

	if (req_parse(rq, restore_spec, &req) != 0)
		return;
	if (b64_decode(req.backup, &blob, &len) != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter backup: base64 expected");
		goto out;
	}
	r = auth_restore(&rq->srv->actx, &rq->areq, &rq->who, req.otp, blob, len, &n);
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:I}", "restored", (json_int_t)n));
out:
	free(blob);
	json_free_spec(restore_spec, &req);
}
