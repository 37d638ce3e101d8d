/* ep_clients_remove: DELETE /api/v1/oauth/clients/{id} — a security officer removes an OAuth
 * client; its codes and tokens stop working at once (every use of one checks its client). */
#include "server/server.h"

#include "oauth/oauth.h"

void
ep_clients_remove(struct srv_request *rq)
{
	int r = oauth_client_remove(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0]);

	if (r != 0)
		reply_ink_err(rq, r, NULL);
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
}
