/* ep_keys_show: GET /api/v1/keys/{id} — one credential the caller may see. */
#include "server/server.h"

#include "sam/sam.h"

void
ep_keys_show(struct srv_request *rq)
{
	struct sam_cred c;
	int r = auth_key_show(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], &c);

	reply_cred(rq, r, MHD_HTTP_OK, &c);
	sam_cred_clear(&c);
}
