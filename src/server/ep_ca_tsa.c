/* ep_ca_tsa: GET /ca/tsa — the built-in TSA's certificate alone (PEM), for relying parties that
 * check time-stamps; not in the CA chain, which they use as trust anchors. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "sam/sam.h"

void
ep_ca_tsa(struct srv_request *rq)
{
	char *pem = NULL;
	int r = sam_ca_tsa(rq->srv->sam, &pem);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/x-pem-file", pem, strlen(pem));
	free(pem);
}
