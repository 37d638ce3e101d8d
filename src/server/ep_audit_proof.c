/* ep_audit_proof: GET /api/v1/audit/proof?seq=N — the RFC 9162 inclusion proof of one record
 * under a fresh signed checkpoint. The system auditor may ask for any record; a signer only for
 * the records of their own signatures (csc.signHash). */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

static bool
own_signature(const struct srv_request *rq, const struct store_audit_rec *rec)
{
	return (rq->who.roles & AUTH_ROLE_SIGNER) != 0 && strcmp(rec->actor, rq->who.username) == 0 &&
	    strcmp(rec->action, "csc.signHash") == 0;
}

void
ep_audit_proof(struct srv_request *rq)
{
	struct audit_event ev = { .actor = rq->who.username, .action = "audit.proof",
	                          .result = AUDIT_SUCCESS, .request_id = rq->request_id,
	                          .source = rq->source };
	uint8_t path[AUDIT_PROOF_MAX][AUDIT_HASH_LEN];
	struct store_audit_rec *rec = NULL;
	struct audit_head h;
	uint8_t *spki = NULL, *entry = NULL;
	char *pem = NULL, *eb64 = NULL, subject[24];
	bool auditor = auth_allowed(rq->who.roles, AUTH_PERM_AUDIT_READ);
	int64_t seq;
	size_t n = 0, len = 0, plen = 0, elen = 0;
	int r;

	if (req_query_int(rq, "seq", 0, 1, INT64_MAX, &seq) != 0 || seq == 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter seq (a record's sequence number >= 1)");
		return;
	}
	snprintf(subject, sizeof(subject), "%lld", (long long)seq);
	ev.subject = subject;
	ev.role = auditor ? "system_auditor" : "signer";
	if ((r = rq->srv->st->ops->audit_list(rq->srv->st, seq - 1, 1, &rec, &n)) != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	/* one answer for "no such record" and "not yours": a signer learns nothing of others */
	if (!auditor && (n != 1 || rec[0].seq != seq || !own_signature(rq, &rec[0]))) {
		req_audit_refusal(rq, "audit.proof", "denied: not a signature record of the caller");
		reply_ink_err(rq, INK_ERR_NOT_FOUND, "No signature record of yours with this seq");
		goto out;
	}
	if (n != 1 || rec[0].seq != seq) {
		reply_ink_err(rq, INK_ERR_NOT_FOUND, "No audit record with this seq");
		goto out;
	}
	if (audit_append(rq->srv->st, &ev) != 0) {
		reply_ink_err(rq, INK_ERR_STORE, NULL);
		goto out;
	}
	if ((r = req_audit_head(rq, &h, &spki, &len)) != 0 ||
	    (r = audit_spki_to_pem(spki, len, &pem)) != 0 ||
	    (r = audit_entry_encode(&rec[0], &entry, &elen)) != 0 || (r = b64_encode(entry, elen, &eb64)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	if ((r = audit_tree_inclusion(rq->srv->st, h.size, h.root, (uint64_t)seq - 1, path,
	                              &plen)) != 0) {
		reply_ink_err(rq, r, r == INK_ERR_NOT_FOUND ? "The records do not make up the tree "
		              "(run inkan audit verify)" : NULL);
		goto out;
	}
	reply_json(rq, MHD_HTTP_OK, json_pack("{s:I, s:I, s:o, s:s, s:o, s:o, s:o, s:s}",
	           "seq", (json_int_t)seq, "leaf_index", (json_int_t)(seq - 1),
	           "record", audit_rec_json(&rec[0]), "entry", eb64,
	           "inclusion_path", audit_path_json((const uint8_t (*)[AUDIT_HASH_LEN])path, plen),
	           "tree_size", json_integer((json_int_t)h.size), "checkpoint", audit_head_json(&h),
	           "log_public_key", pem));
out:
	free(rec);
	free(spki);
	free(entry);
	free(eb64);
	free(pem);
}
