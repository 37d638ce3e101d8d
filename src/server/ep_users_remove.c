/* ep_users_remove: DELETE /api/v1/users/{username} — deregistration; records stay. */
#include "server/server.h"

void
ep_users_remove(struct srv_request *rq)
{
	int r = auth_user_remove(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0]);

	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" : NULL);
		return;
	}
	reply_empty(rq, MHD_HTTP_NO_CONTENT);
}
