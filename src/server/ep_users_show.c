/* ep_users_show: GET /api/v1/users/{username} — one account, for officers. */
#include "server/server.h"

void
ep_users_show(struct srv_request *rq)
{
	struct auth_account a;
	int r = auth_user_show(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], &a);

	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" : NULL);
		return;
	}
	reply_json(rq, MHD_HTTP_OK, render_account(&a));
}
