/* ep_backup: POST /api/v1/backup — the key store, sealed, for the system operator to keep. */
#include "server/server.h"

#include <stdlib.h>

void
ep_backup(struct srv_request *rq)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	char *b64 = NULL;
	int r = auth_backup(&rq->srv->actx, &rq->areq, &rq->who, &blob, &len);

	if (r != 0) {
		reply_key_err(rq, r);
		return;
	}
	if (b64_encode(blob, len, &b64) != 0)
		reply_ink_err(rq, INK_ERR_ALLOC, NULL);
	else
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:s, s:I}", "backup", b64, "size", (json_int_t)len));
	free(b64);
	free(blob);
}
