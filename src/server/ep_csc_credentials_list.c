/* ep_csc_credentials_list: POST /csc/v{1,2}/credentials/list — the signer's credential ids. */
#include "server/server.h"

#include <string.h>

#include "sam/sam.h"

struct list_req {
	char *user_id;
	bool credential_info;
	bool only_valid;
	int64_t max_results;
	char *page_token;
	char *client_data;
};

static const struct json_field list_spec[] = {
	JSPEC_STRING("userID", struct list_req, user_id, 128, 0),
	JSPEC_BOOL("credentialInfo", struct list_req, credential_info, 0),
	JSPEC_BOOL("onlyValid", struct list_req, only_valid, 0),
	JSPEC_INT("maxResults", struct list_req, max_results, 1, 1000, 0),
	JSPEC_STRING("pageToken", struct list_req, page_token, 128, 0),
	JSPEC_STRING("clientData", struct list_req, client_data, 4096, 0),
	JSPEC_END,
};

void
ep_csc_credentials_list(struct srv_request *rq)
{
	struct list_req req;
	struct sam_cred *v = NULL;
	json_t *ids = NULL, *infos = NULL, *o;
	size_t n = 0, i;
	int r;

	memset(&req, 0, sizeof(req));
	if (req_parse(rq, list_spec, &req) != 0)
		return;
	if (!auth_allowed(rq->who.roles, AUTH_PERM_SIGN)) {
		req_audit_refusal(rq, "csc.credentials.list", "denied: not a signer");
		reply_ink_err(rq, INK_ERR_DENIED, "Only signers have credentials");
		goto out;
	}
	/* A userID, when given, must be the caller's own: nobody lists another's credentials. */
	if (req.user_id != NULL && strcmp(req.user_id, rq->who.user_id) != 0 &&
	    strcmp(req.user_id, rq->who.username) != 0) {
		req_audit_refusal(rq, "csc.credentials.list", "denied: another user's id");
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter userID");
		goto out;
	}
	if ((r = auth_key_list(&rq->srv->actx, &rq->areq, &rq->who, &v, &n)) != 0) {
		reply_csc_err(rq, r);
		goto out;
	}
	ids = json_array();
	infos = json_array();
	for (i = 0; ids != NULL && infos != NULL && i < n; i++) {
		/* Destroyed keys are gone; onlyValid also leaves out what cannot sign now. */
		if (v[i].status == 4 || (req.only_valid && (v[i].status != 1 || v[i].not_after <= ink_now())))
			continue;
		if (req.max_results > 0 && json_array_size(ids) >= (size_t)req.max_results)
			break;
		json_array_append_new(ids, json_string(v[i].id));
		if (req.credential_info)
			json_array_append_new(infos, csc_render_info(&v[i], req_is_v1(rq), "single",
			                                             &rq->srv->cfg));
	}
	o = json_pack("{s:o}", "credentialIDs", ids);
	ids = NULL;
	if (o != NULL && req.credential_info && !req_is_v1(rq)) {
		json_object_set_new(o, "credentialInfos", infos);
		infos = NULL;
	}
	if (o != NULL && req.only_valid)
		json_object_set_new(o, "onlyValid", json_true());
	reply_json(rq, MHD_HTTP_OK, o);
out:
	json_decref(ids);
	json_decref(infos);
	sam_creds_free(v, n);
	json_free_spec(list_spec, &req);
}
