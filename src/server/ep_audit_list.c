/* ep_audit_list: GET /api/v1/audit?after=SEQ&limit=N — the audit trail, for the system auditor only. */
#include "server/server.h"

#include <stdlib.h>

#include "audit/audit.h"

void
ep_audit_list(struct srv_request *rq)
{
	struct store_audit_rec *recs = NULL;
	json_t *arr;
	int64_t after, limit;
	char ts[21];
	size_t n = 0, i;
	int r;

	if (!auth_allowed(rq->who.roles, AUTH_PERM_AUDIT_READ)) {
		req_audit_refusal(rq, "audit.read", "denied: role not permitted");
		reply_ink_err(rq, INK_ERR_DENIED, "Only the system auditor reads the audit log");
		return;
	}
	if (req_query_int(rq, "after", 0, 0, INT64_MAX, &after) != 0 ||
	    req_query_int(rq, "limit", 100, 1, 1000, &limit) != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter after (>= 0) or limit (1..1000)");
		return;
	}
	if ((r = audit_read(rq->srv->st, after, (size_t)limit, &recs, &n)) != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++) {
		ink_time_str(recs[i].time, ts);
		json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
		    "seq", (json_int_t)recs[i].seq, "time", ts, "actor", recs[i].actor,
		    "role", recs[i].role, "action", recs[i].action, "subject", recs[i].subject,
		    "result", recs[i].result, "request_id", recs[i].request_id,
		    "source", recs[i].source, "detail", recs[i].detail));
	}
	free(recs);
	{
		struct audit_event ev = { .actor = rq->who.username, .action = "audit.read",
		                          .result = AUDIT_SUCCESS, .request_id = rq->request_id,
		                          .source = rq->source, .role = "system_auditor" };

		if (audit_append(rq->srv->st, &ev) != 0) {
			json_decref(arr);
			reply_ink_err(rq, INK_ERR_STORE, NULL);
			return;
		}
	}
	reply_json(rq, MHD_HTTP_OK, arr != NULL ? json_pack("{s:o}", "records", arr) : NULL);
}
