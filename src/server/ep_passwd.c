/* ep_passwd: POST /api/v1/passwd — the caller changes their own password. 204: every session
 * ended; 200 {"session_kept": true}: this set-up session goes on, to the TOTP enrolment. */
#include "server/server.h"

struct passwd_req {
	char *old_password;
	char *new_password;
};

static const struct json_field passwd_spec[] = {
	JSPEC_STRING("old_password", struct passwd_req, old_password, 256, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("new_password", struct passwd_req, new_password, 256, JF_REQUIRED | JF_SECRET),
	JSPEC_END,
};

void
ep_passwd(struct srv_request *rq)
{
	struct passwd_req req = { 0 };
	bool kept = false;
	int r;

	if (req_parse(rq, passwd_spec, &req) != 0)
		return;
	r = auth_change_password(&rq->srv->actx, &rq->areq, &rq->who, req.old_password,
	                         req.new_password, &kept);
	if (r == INK_ERR_POLICY)
		reply_ink_err(rq, r, "The new password does not meet the password policy (length, "
		              "not containing the username, not the old one)");
	else if (r == INK_ERR_AUTH)
		reply_ink_err(rq, r, "Wrong old password");
	else if (r != 0)
		reply_ink_err(rq, r, NULL);
	else if (kept)
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:b, s:b}", "session_kept", 1,
		                                      "enrolment_required", 1));
	else
		reply_empty(rq, MHD_HTTP_NO_CONTENT);
	json_free_spec(passwd_spec, &req);
}
