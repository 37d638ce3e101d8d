/* ep_keys_list: GET /api/v1/keys — the caller's credentials (a security officer: all). */
#include "server/server.h"

#include "sam/sam.h"

void
ep_keys_list(struct srv_request *rq)
{
	struct sam_cred *v = NULL;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if ((r = auth_key_list(&rq->srv->actx, &rq->areq, &rq->who, &v, &n)) != 0) {
		reply_key_err(rq, r);
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, render_cred(&v[i]));
	sam_creds_free(v, n);
	reply_json(rq, MHD_HTTP_OK, arr != NULL ? json_pack("{s:o}", "keys", arr) : NULL);
}
