/* ep_ca_audit_key: GET /ca/audit-key — the audit log's public key (PEM) as the SAM holds it, so
 * that anyone can read its fingerprint (`inkan ca cert`) and pin it for `inkan audit verify`. */
#include "server/server.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "sam/sam.h"

void
ep_ca_audit_key(struct srv_request *rq)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	char *pem = NULL;
	size_t len = 0;
	bool closed = false;
	int r;

	if ((r = sam_log_head(rq->srv->sam, &h, &closed, &spki, &len)) != 0 ||
	    (r = audit_spki_to_pem(spki, len, &pem)) != 0) {
		reply_ink_err(rq, r, NULL);
		goto out;
	}
	reply_bytes(rq, MHD_HTTP_OK, "application/x-pem-file", pem, strlen(pem));
out:
	free(spki);
	free(pem);
}
