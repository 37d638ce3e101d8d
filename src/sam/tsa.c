/* tsa: the built-in RFC 3161 time-stamp authority's signing, inside inkan-sam. inkand parses
 * and checks the request; the SAM takes only its fields, checks them again and builds the
 * TSTInfo itself, so it never signs bytes it did not make. Like a signHash it shares the SAM
 * (s->use for reading): the key is loaded under s->ks, the token signed without either lock. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "keys/keys.h"
#include "policy/policy.h"

int
sam_handle_tsa_stamp(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char hash_oid[64], serial[65], why[128];
	const uint8_t *imprint, *nonce;
	size_t ilen, nlen, len = 0;
	uint8_t cert_req = 0, *resp = NULL;
	int64_t gen = 0;
	struct formats_tsa_req r;
	struct keys_tsa *t = NULL;
	int rc;

	if (buf_get_cstring(req, hash_oid, sizeof(hash_oid)) != 0 ||
	    buf_get_string_ptr(req, &imprint, &ilen, FORMATS_TS_IMPRINT_MAX) != 0 ||
	    buf_get_string_ptr(req, &nonce, &nlen, FORMATS_TS_NONCE_MAX) != 0 ||
	    buf_get_u8(req, &cert_req) != 0 || cert_req > 1 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	r = (struct formats_tsa_req){
		.hash_oid = hash_oid,
		.imprint = imprint,
		.imprint_len = ilen,
		.nonce = nlen > 0 ? nonce : NULL,
		.nonce_len = nlen,
		.cert_req = cert_req == 1,
	};
	/* no time that the clock cannot vouch for (the SAM asks the kernel itself) */
	if (s->cfg != NULL && policy_tsa_needs_synced_clock(s->cfg) &&
	    (rc = ink_clock_vouch(why, sizeof(why))) != 0) {
		(void)sam_hold_record(s, NULL, "sam.tsa.stamp", NULL, rc, why);
		log_warn("refused a time-stamp: %s", why);
		return rc;
	}
	/* no time-stamp the SAM could not record: the held records must have room */
	sam_lock(s, SAM_LOCK_MU);
	if (!sam_held_room(s))
		sam_flush_records(s);
	rc = sam_held_room(s) ? 0 : INK_ERR_STORE;
	sam_unlock(s, SAM_LOCK_MU);
	if (rc != 0)
		return rc;
	if ((rc = keys_tsa_open(s->keys, &t)) == 0) {
		/* the key is this call's own copy and serials are random: nothing of the SAM's is
		 * touched while its locks are let go; s->use keeps a restore (a new TSA key) out */
		unsigned was = sam_let_go(s);

		rc = keys_tsa_respond(t, s->tsa_policy, &r, &resp, &len, serial, &gen);
		sam_lock(s, was);
		keys_tsa_free(t);
	}
	if (sam_hold_record(s, NULL, "sam.tsa.stamp", rc == 0 ? serial : NULL, rc, NULL) != 0 &&
	    rc == 0) {
		free(resp);
		resp = NULL;
		rc = INK_ERR_STORE;
	}
	if (rc != 0) {
		log_warn("refused or failed a time-stamp: %s", ink_err_str(rc));
		return rc;
	}
	if ((rc = buf_put_string(rep, resp, len)) == 0 && (rc = buf_put_cstring(rep, serial)) == 0)
		rc = buf_put_u64(rep, (uint64_t)gen);
	free(resp);
	return rc;
}
