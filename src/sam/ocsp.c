/* ocsp: the OCSP responder's message and the TSA certificate, inside inkan-sam. inkand sends
 * what it parsed out of an OCSP request (CertIDs, nonce); whether a certificate is good,
 * revoked or unknown is never a field of the request: keys/ocsp.c reads the CA's own records. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

#define OCSP_VALIDITY_DEFAULT 3600

/* u8 may_sign, string nonce ("" none), u32 n, n x string CertID -> string OCSPResponse, u8 fresh */
int
sam_handle_ocsp(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const uint8_t *ids[KEYS_OCSP_IDS_MAX], *nonce;
	size_t lens[KEYS_OCSP_IDS_MAX], nlen, len = 0, i;
	struct keys_ocsp_req q;
	uint8_t may_sign = 0, *resp = NULL;
	uint32_t n = 0;
	bool fresh = false;
	int r;

	if (buf_get_u8(req, &may_sign) != 0 || may_sign > 1 ||
	    buf_get_string_ptr(req, &nonce, &nlen, KEYS_OCSP_NONCE_MAX) != 0 ||
	    buf_get_u32(req, &n) != 0 || n < 1 || n > KEYS_OCSP_IDS_MAX)
		return INK_ERR_PROTOCOL;
	for (i = 0; i < n; i++)
		if (buf_get_string_ptr(req, &ids[i], &lens[i], KEYS_OCSP_ID_MAX) != 0 || lens[i] == 0)
			return INK_ERR_PROTOCOL;
	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	q = (struct keys_ocsp_req){
		.ids = ids,
		.id_lens = lens,
		.n = n,
		.nonce = nlen > 0 ? nonce : NULL,
		.nonce_len = nlen,
		.validity = s->cfg != NULL ? s->cfg->ocsp_validity : OCSP_VALIDITY_DEFAULT,
		.may_sign = may_sign == 1,
	};
	if ((r = keys_ocsp_respond(s->keys, &q, &resp, &len, &fresh)) != 0) {
		if (r != INK_ERR_BUSY)
			log_warn("refused or failed an OCSP response: %s", ink_err_str(r));
		return r;
	}
	if ((r = buf_put_string(rep, resp, len)) == 0)
		r = buf_put_u8(rep, fresh ? 1 : 0);
	free(resp);
	return r;
}

/* () -> cstring PEM of the TSA certificate */
int
sam_handle_ca_tsa(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char *pem = NULL;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if ((r = keys_ca_tsa_pem(s->keys, &pem)) != 0)
		return r;
	r = buf_put_cstring(rep, pem);
	free(pem);
	return r;
}
