/* ep_keys_certificate: POST /api/v1/keys/{id}/certificate — link an external CA's certificate. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "sam/sam.h"

struct cert_req {
	char *certificate;
};

static const struct json_field cert_spec[] = {
	JSPEC_STRING("certificate", struct cert_req, certificate, 90000, JF_REQUIRED),
	JSPEC_END,
};

void
ep_keys_certificate(struct srv_request *rq)
{
	struct cert_req req = { 0 };
	struct sam_cred c;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	memset(&c, 0, sizeof(c));
	if (req_parse(rq, cert_spec, &req) != 0)
		return;
	if (b64_decode(req.certificate, &der, &len) != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter certificate: base64 DER expected");
		goto out;
	}
	r = auth_key_import(&rq->srv->actx, &rq->areq, &rq->who, rq->params[0], der, len, &c);
	reply_cred(rq, r, MHD_HTTP_OK, &c);
	sam_cred_clear(&c);
out:
	free(der);
	json_free_spec(cert_spec, &req);
}
