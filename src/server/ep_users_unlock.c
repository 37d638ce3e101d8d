/* ep_users_unlock: POST /api/v1/users/{username}/unlock — a registration officer unlocks. */
#include "server/server.h"

void
ep_users_unlock(struct srv_request *rq)
{
	int r = auth_user_unlock(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0]);

	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" :
		              r == INK_ERR_DISABLED ? "Account deregistered" : NULL);
		return;
	}
	reply_empty(rq, MHD_HTTP_NO_CONTENT);
}
