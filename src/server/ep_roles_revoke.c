/* ep_roles_revoke: DELETE /api/v1/users/{username}/roles/{role} — revoke one privileged role. */
#include "server/server.h"

void
ep_roles_revoke(struct srv_request *rq)
{
	ep_roles_apply(rq, rq->params[1], false);
}
