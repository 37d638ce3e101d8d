/* ep_users_create: POST /api/v1/users — register a signer or create a privileged account;
 * the one-time password is in this reply and nowhere else (the TOTP seed is the account
 * holder's own: they enrol it at their first login). */
#include "server/server.h"

#include <string.h>

struct create_req {
	char *username;
	char *display_name;
	struct json_strings roles;
	char *idv_method;
	char *idv_evidence;
	char *idv_document_type;
	char *idv_document_number;
};

static const struct json_field create_spec[] = {
	JSPEC_STRING("username", struct create_req, username, STORE_NAME_MAX, JF_REQUIRED),
	JSPEC_STRING("display_name", struct create_req, display_name, STORE_TEXT_MAX, 0),
	JSPEC_STRINGS("roles", struct create_req, roles, 6, 32, JF_REQUIRED),
	JSPEC_STRING("idv_method", struct create_req, idv_method, STORE_TEXT_MAX, 0),
	JSPEC_STRING("idv_evidence", struct create_req, idv_evidence, STORE_TEXT_MAX, 0),
	JSPEC_STRING("idv_document_type", struct create_req, idv_document_type, STORE_TEXT_MAX, 0),
	JSPEC_STRING("idv_document_number", struct create_req, idv_document_number, STORE_TEXT_MAX,
	             JF_SECRET),
	JSPEC_END,
};

void
ep_users_create(struct srv_request *rq)
{
	struct create_req req;
	struct auth_account acct;
	struct auth_new_secrets sec = { 0 };
	uint32_t roles = 0, role;
	size_t i;
	int r;

	memset(&req, 0, sizeof(req));
	if (req_parse(rq, create_spec, &req) != 0)
		return;
	if (req.roles.n == 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter roles: empty");
		goto out;
	}
	for (i = 0; i < req.roles.n; i++) {
		if (auth_role_parse(req.roles.v[i], &role) != 0) {
			reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
			            "Invalid parameter roles: known roles are security_officer, "
			            "system_administrator, system_operator, system_auditor, "
			            "registration_officer, signer");
			goto out;
		}
		roles |= role;
	}
	{
		struct auth_idv idv = {
			.method = req.idv_method, .evidence = req.idv_evidence,
			.doc_type = req.idv_document_type, .doc_number = req.idv_document_number,
		};

		r = auth_user_create(&rq->srv->actx, &rq->areq, &rq->who, req.username,
		                     req.display_name, roles, &idv, &acct, &sec);
	}
	if (r == INK_ERR_INVALID)
		reply_ink_err(rq, r, "Invalid username (1-64 of A-Z a-z 0-9 . _ @ -), display name, or "
		              "missing identity verification (idv_method, idv_evidence, "
		              "idv_document_type, idv_document_number) for a signer");
	else if (r == INK_ERR_EXISTS)
		reply_ink_err(rq, r, "Username already taken");
	else if (r == INK_ERR_IDENTITY)
		reply_ink_err(rq, r, "This identity document is registered already: one person, one "
		              "registration");
	else if (r != 0)
		reply_ink_err(rq, r, NULL);
	else
		reply_json(rq, MHD_HTTP_CREATED,
		           json_pack("{s:o, s:s, s:b}", "user", render_account(&acct),
		                     "password", sec.password, "enrolment_required", 1));
out:
	auth_secrets_free(&sec);
	json_free_spec(create_spec, &req);
}
