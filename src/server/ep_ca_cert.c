/* ep_ca_cert: GET /ca/cert — the CA chain (issuing CA, then root) as PEM. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "sam/sam.h"

void
ep_ca_cert(struct srv_request *rq)
{
	char *pem = NULL;
	int r = sam_ca_chain(rq->srv->sam, &pem);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/pem-certificate-chain", pem, strlen(pem));
	free(pem);
}
