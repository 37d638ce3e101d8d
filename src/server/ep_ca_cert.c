/* ep_ca_cert: GET /ca/cert — the CA chain (issuing CA, then root) as PEM; and GET /ca/tsa — the
 * built-in TSA's certificate alone (PEM), for relying parties that check time-stamps, never in
 * the chain they use as trust anchors. (Both here: they differ only in what they ask the SAM.) */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "sam/sam.h"

/* Replies with the PEM get fetches from inkan-sam, as type. */
static void
pem_reply(struct srv_request *rq, int (*get)(struct sam_client *, char **), const char *type)
{
	char *pem = NULL;
	int r = get(rq->srv->sam, &pem);

	if (r != 0) {
		reply_ink_err(rq, r, NULL);
		return;
	}
	reply_bytes(rq, MHD_HTTP_OK, type, pem, strlen(pem));
	free(pem);
}

void
ep_ca_cert(struct srv_request *rq)
{
	pem_reply(rq, sam_ca_chain, "application/pem-certificate-chain");
}

void
ep_ca_tsa(struct srv_request *rq)
{
	pem_reply(rq, sam_ca_tsa, "application/x-pem-file");
}
