/* ep_keys_create: POST /api/v1/keys — a signer makes a key under a new signing PIN. */
#include "server/server.h"

#include <stdlib.h>

#include "sam/sam.h"

struct create_req {
	char *pin;
	char *algorithm;
	bool external_ca;
};

static const struct json_field create_spec[] = {
	JSPEC_STRING("pin", struct create_req, pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("algorithm", struct create_req, algorithm, 15, 0),
	JSPEC_BOOL("external_ca", struct create_req, external_ca, 0),
	JSPEC_END,
};

void
ep_keys_create(struct srv_request *rq)
{
	struct create_req req = { 0 };
	struct sam_cred c;
	uint8_t *csr = NULL;
	size_t csr_len = 0;
	char *b64 = NULL;
	json_t *o;
	int r;

	if (req_parse(rq, create_spec, &req) != 0 || req_pin_policy(rq, req.pin, "key.create") != 0)
		goto out;
	r = auth_key_create(&rq->srv->actx, &rq->areq, &rq->who, req.algorithm, req.pin,
	                    req.external_ca, &c, &csr, &csr_len);
	if (r != 0) {
		reply_key_err(rq, r);
		goto out;
	}
	o = render_cred(&c);
	if (o != NULL && csr_len > 0 && b64_encode(csr, csr_len, &b64) == 0)
		json_object_set_new(o, "csr", json_string(b64));
	reply_json(rq, MHD_HTTP_CREATED, o);
	sam_cred_clear(&c);
out:
	free(b64);
	free(csr);
	json_free_spec(create_spec, &req);
}
