/* ep_ca_arl: GET /ca/arl — the root's CRL (DER), the distribution point of the issuing CA
 * certificate, so that a relying party trusting only the root can check the issuing CA. */
#include "server/server.h"

#include <stdlib.h>

#include "sam/sam.h"

void
ep_ca_arl(struct srv_request *rq)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int r = sam_ca_arl(rq->srv->sam, &der, &len);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/pkix-crl", der, len);
	free(der);
}
