/* ep_roles_grant: POST /api/v1/users/{username}/roles — grant one privileged role. */
#include "server/server.h"

struct grant_req {
	char *role;
};

static const struct json_field grant_spec[] = {
	JSPEC_STRING("role", struct grant_req, role, 32, JF_REQUIRED),
	JSPEC_END,
};

void
ep_roles_apply(struct srv_request *rq, const char *role_name, bool grant)
{
	struct auth_account a;
	uint32_t role;
	int r;

	if (auth_role_parse(role_name, &role) != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter role");
		return;
	}
	r = auth_role_change(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], role, grant);
	if (r == 0)
		r = auth_user_show(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], &a);
	if (r != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "Unknown user" :
		              r == INK_ERR_DISABLED ? "Account deregistered" : NULL);
		return;
	}
	reply_json(rq, MHD_HTTP_OK, render_account(&a));
}

void
ep_roles_grant(struct srv_request *rq)
{
	struct grant_req req = { 0 };

	if (req_parse(rq, grant_spec, &req) != 0)
		return;
	ep_roles_apply(rq, req.role, true);
	json_free_spec(grant_spec, &req);
}
