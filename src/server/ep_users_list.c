/* ep_users_list: GET /api/v1/users — every account, for officers; never a secret. */
#include "server/server.h"

#include <stdlib.h>

void
ep_users_list(struct srv_request *rq)
{
	struct auth_account *a = NULL;
	json_t *arr;
	size_t n = 0, i;
	int r;

	if ((r = auth_user_list(&rq->srv->actx, &rq->areq, &rq->who, &a, &n)) != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, render_account(&a[i]));
	free(a);
	reply_json(rq, MHD_HTTP_OK, arr != NULL ? json_pack("{s:o}", "users", arr) : NULL);
}
