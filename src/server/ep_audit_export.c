/* ep_audit_export: GET /api/v1/audit/export?from=SEQ&to=SEQ — an export bundle (records,
 * checkpoints, frontier, log public key) that verifies offline; system auditor only. */
#include "server/server.h"

#include <stdlib.h>

#include "audit/audit.h"

/* Records per export: one answer stays a bounded document (~20 MB at most). */
#define EXPORT_MAX 50000

void
ep_audit_export(struct srv_request *rq)
{
	struct audit_event ev = { .actor = rq->who.username, .role = "system_auditor",
	                          .action = "audit.export", .result = AUDIT_SUCCESS,
	                          .request_id = rq->request_id, .source = rq->source };
	struct audit_head h;
	uint8_t *spki = NULL;
	json_t *b = NULL;
	char detail[96];
	int64_t from, to, last = 0;
	size_t len = 0;
	int r;

	if (!auth_allowed(rq->who.roles, AUTH_PERM_AUDIT_READ)) {
		req_audit_refusal(rq, "audit.export", "denied: role not permitted");
		reply_ink_err(rq, INK_ERR_DENIED, "Only the system auditor reads the audit log");
		return;
	}
	if (req_query_int(rq, "from", 1, 1, INT64_MAX - EXPORT_MAX, &from) != 0 ||
	    req_query_int(rq, "to", 0, 0, INT64_MAX, &to) != 0 || (to != 0 && to < from) ||
	    (to != 0 && to - from >= EXPORT_MAX)) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter from (>= 1) or to (>= from; 0 = the last record; at most "
		            "50000 records per export)");
		return;
	}
	if (to == 0)
		to = from + EXPORT_MAX - 1;	/* the bundle says where the log ends */
	/* the export itself is on the record, and under the head it carries */
	snprintf(detail, sizeof(detail), "from %lld to %lld", (long long)from, (long long)to);
	ev.detail = detail;
	if (audit_append(rq->srv->st, &ev) != 0) {
		reply_ink_err(rq, INK_ERR_STORE, NULL);
		return;
	}
	if ((r = req_audit_head(rq, &h, &spki, &len)) != 0 ||
	    (r = audit_bundle_build(rq->srv->st, from, to, spki, len, &h, &b)) != 0 ||
	    (r = rq->srv->st->ops->audit_last_seq(rq->srv->st, &last)) != 0) {
		json_decref(b);
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	json_object_set_new(b, "log_last_seq", json_integer((json_int_t)last));
	reply_json(rq, MHD_HTTP_OK, b);
out:
	free(spki);
}
