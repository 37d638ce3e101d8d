/* ep_ca_crl: GET /ca/crl — the issuing CA's current CRL (DER), renewed after every revocation. */
#include "server/server.h"

#include <stdlib.h>

#include "sam/sam.h"

void
ep_ca_crl(struct srv_request *rq)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r = sam_ca_crl(rq->srv->sam, &der, &len);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/pkix-crl", der, len);
	free(der);
}
