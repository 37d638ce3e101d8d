/* ep_clients_list: GET /api/v1/oauth/clients — the registered OAuth clients (security
 * officer); never a secret. */
#include "server/server.h"

#include <stdlib.h>

#include "oauth/oauth.h"

void
ep_clients_list(struct srv_request *rq)
{
	struct store_oauth_client *c = NULL;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if ((r = oauth_client_list(&rq->srv->actx, &rq->areq, &rq->who, &c, &n)) != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, render_oauth_client(&c[i]));
	free(c);
	reply_json(rq, MHD_HTTP_OK, arr != NULL ? json_pack("{s:o}", "clients", arr) : NULL);
}
