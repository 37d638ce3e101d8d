/* fuzz_audit: what `inkan audit verify` and `inkan audit proof` read — an export bundle
 * (audit_bundle_verify, against its own key or a fingerprint, and page by page with the
 * frontier carried over), and the JSON of checkpoints, inclusion and consistency proofs with
 * the RFC 9162 checks behind them. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "common/common.h"
#include "fuzz.h"
#include "store/store.h"

/* The bundle against its own key, then against the fingerprint the JSON names (as
 * `inkan audit verify --fingerprint` reads it), as one page and as the page after itself. */
static void
bundle(const json_t *b)
{
	struct audit_verify_report rep;
	struct audit_anchor anchor;
	struct audit_frontier *f;
	const char *fp;
	int r;

	r = audit_bundle_verify(b, NULL, &rep);
	if (r != 0 && rep.error[0] == '\0')
		abort();   /* a refusal always says why */
	memset(&anchor, 0, sizeof(anchor));
	if ((fp = json_string_value(json_object_get(b, "fingerprint"))) != NULL &&
	    audit_fingerprint_parse(fp, anchor.sha256) == 0)
		anchor.has_sha256 = true;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return;
	if (audit_bundle_verify_page(b, &anchor, f, &rep) == 0) {
		if (f->n > AUDIT_FRONTIER_MAX || (anchor.has_sha256 && !rep.anchored))
			abort();
		r = audit_bundle_verify_page(b, &anchor, f, &rep);
		(void)r;
	}
	free(f);
}

static void
proofs(const json_t *o)
{
	uint8_t (*p1)[AUDIT_HASH_LEN] = NULL, (*p2)[AUDIT_HASH_LEN] = NULL, leaf[AUDIT_HASH_LEN];
	const json_t *idx = json_object_get(o, "leaf_index");
	struct store_audit_rec *rec = NULL;
	struct audit_head h1, h2;
	size_t n1 = 0, n2 = 0;
	uint8_t *entry = NULL;
	size_t elen = 0;
	int r;

	if ((p1 = calloc(AUDIT_PROOF_MAX, AUDIT_HASH_LEN)) == NULL ||
	    (p2 = calloc(AUDIT_PROOF_MAX, AUDIT_HASH_LEN)) == NULL ||
	    (rec = malloc(sizeof(*rec))) == NULL)
		goto out;
	/* An inclusion proof, as audit_proof.c reads it. */
	if (audit_head_from_json(json_object_get(o, "checkpoint"), &h1) == 0 && json_is_integer(idx) &&
	    audit_path_from_json(json_object_get(o, "inclusion_path"), p1, &n1) == 0 &&
	    audit_rec_from_json(json_object_get(o, "record"), rec) == 0 &&
	    audit_entry_encode(rec, &entry, &elen) == 0) {
		if (n1 > AUDIT_PROOF_MAX || h1.sig_len > AUDIT_SIG_MAX)
			abort();
		audit_hash_leaf_bytes(entry, elen, leaf);
		r = audit_inclusion_verify((uint64_t)json_integer_value(idx), h1.size, leaf,
		                           (const uint8_t (*)[AUDIT_HASH_LEN])p1, n1, h1.root);
		(void)r;
	}
	/* A consistency proof between two checkpoints. */
	if (audit_head_from_json(json_object_get(o, "first"), &h1) == 0 &&
	    audit_head_from_json(json_object_get(o, "second"), &h2) == 0 &&
	    audit_path_from_json(json_object_get(o, "consistency_path"), p2, &n2) == 0) {
		r = audit_consistency_verify(h1.size, h2.size, h1.root, h2.root,
		                             (const uint8_t (*)[AUDIT_HASH_LEN])p2, n2);
		(void)r;
	}
out:
	free(entry);
	free(rec);
	free(p2);
	free(p1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *o;

	fuzz_init();
	if ((o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return 0;
	bundle(o);
	proofs(o);
	json_decref(o);
	return 0;
}
