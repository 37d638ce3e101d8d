/* ep_audit_consistency: GET /api/v1/audit/consistency?first=SIZE&second=SIZE — the RFC 9162
 * consistency proof between two signed checkpoints; system auditor only. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

/* The stored checkpoint of exactly this size (the latest one of that size). */
static int
head_of_size(struct store *st, int64_t size, struct audit_head *h)
{
	struct store_checkpoint *v = NULL;
	size_t n = 0;
	int r;

	if ((r = st->ops->checkpoint_list(st, size, size, &v, &n)) != 0)
		return r;
	if (n == 0) {
		free(v);
		return INK_ERR_NOT_FOUND;
	}
	memset(h, 0, sizeof(*h));
	h->size = (uint64_t)v[n - 1].size;
	memcpy(h->root, v[n - 1].root, AUDIT_HASH_LEN);
	h->time = v[n - 1].time;
	h->sig_len = v[n - 1].sig_len <= AUDIT_SIG_MAX ? v[n - 1].sig_len : 0;
	memcpy(h->sig, v[n - 1].sig, h->sig_len);
	free(v);
	return 0;
}

void
ep_audit_consistency(struct srv_request *rq)
{
	struct audit_event ev = { .actor = rq->who.username, .role = "system_auditor",
	                          .action = "audit.proof", .subject = "consistency",
	                          .result = AUDIT_SUCCESS, .request_id = rq->request_id,
	                          .source = rq->source };
	uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN];
	struct audit_head latest, h1, h2;
	uint8_t *spki = NULL;
	char *pem = NULL, detail[96];
	int64_t first, second;
	size_t len = 0, plen = 0;
	int r;

	if (!auth_allowed(rq->who.roles, AUTH_PERM_AUDIT_READ)) {
		req_audit_refusal(rq, "audit.proof", "denied: role not permitted");
		reply_ink_err(rq, INK_ERR_DENIED, "Only the system auditor reads the audit log");
		return;
	}
	if (req_query_int(rq, "first", 0, 1, INT64_MAX, &first) != 0 || first == 0 ||
	    req_query_int(rq, "second", 0, 0, INT64_MAX, &second) != 0 ||
	    (second != 0 && second < first)) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter first (a checkpoint size >= 1) or second (>= first; "
		            "0 or absent = a fresh checkpoint)");
		return;
	}
	snprintf(detail, sizeof(detail), "first %lld second %lld", (long long)first, (long long)second);
	ev.detail = detail;
	if (audit_append(rq->srv->st, &ev) != 0) {
		reply_ink_err(rq, INK_ERR_STORE, NULL);
		return;
	}
	if ((r = req_audit_head(rq, &latest, &spki, &len)) != 0 ||
	    (r = audit_spki_to_pem(spki, len, &pem)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	if (head_of_size(rq->srv->st, first, &h1) != 0) {
		reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "No checkpoint of size first");
		goto out;
	}
	if (second == 0)
		h2 = latest;
	else if (head_of_size(rq->srv->st, second, &h2) != 0) {
		reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "No checkpoint of size second");
		goto out;
	}
	if ((r = audit_tree_consistency(rq->srv->st, h2.size, h2.root, h1.size, h1.root, path,
	                                &plen)) != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "The records do not make up the tree, "
		              "or the first checkpoint lies in an archive (run inkan audit verify)" : NULL);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:o, s:o, s:o, s:s}", "first", audit_head_json(&h1),
	           "second", audit_head_json(&h2),
	           "consistency_path", audit_path_json((const uint8_t (*)[AUDIT_HASH_LEN])path, plen),
	           "log_public_key", pem));
out:
	free(spki);
	free(pem);
}
