/* ep_me: GET /api/v1/me — the caller's own account. */
#include "server/server.h"

void
ep_me(struct srv_request *rq)
{
	struct auth_account a;
	int r = auth_user_show(&rq->srv->actx, &rq->areq, &rq->who, rq->who.username, &a);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_json(rq, MHD_HTTP_OK, render_account(&a));
}
