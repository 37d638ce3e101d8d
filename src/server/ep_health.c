/* ep_health: GET /health — is inkand up, and is its signature activation module alive. */
#include "server/server.h"

#include "sam/sam.h"

void
ep_health(struct srv_request *rq)
{
	int r = sam_ping(rq->srv->sam);

	if (r != 0) {
		reply_ink_err(rq, r == INK_ERR_SAM_UNAVAILABLE ? r : INK_ERR_SAM_UNAVAILABLE, NULL);
		return;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok", "sam", "ok"));
}
