/* ep_keys_unlock: POST /api/v1/keys/{id}/unlock — a registration officer unlocks a credential. */
#include "server/server.h"

void
ep_keys_unlock(struct srv_request *rq)
{
	int r = auth_key_unlock(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0]);

	if (r == INK_ERR_NOT_FOUND)
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "No locked credential with that id");
	else if (r != 0)
		reply_key_err(rq, r);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
}
