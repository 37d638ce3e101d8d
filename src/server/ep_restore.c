/* ep_restore: POST /api/v1/restore — a backup back into the key store (same master key), with
 * the system operator's fresh OTP (the SAM checks it), the CA's last CRL as an optional witness
 * of revocations made after it, and — on a bare key store, where the SAM serves nobody yet — a
 * security officer's name and fresh OTP (dual control, checked against the backup's records). */
#include "server/server.h"

#include <stdlib.h>

#include "sam/sam.h"

struct restore_req {
	char *backup;
	char *otp;
	char *crl;
	char *second_officer;
	char *second_otp;
};

static const struct json_field restore_spec[] = {
	JSPEC_STRING("backup", struct restore_req, backup, 256u * 1024u * 1024u, JF_REQUIRED),
	JSPEC_STRING("otp", struct restore_req, otp, SAM_OTP_MAX, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("crl", struct restore_req, crl, 16u * 1024u * 1024u, 0),
	JSPEC_STRING("second_officer", struct restore_req, second_officer, STORE_NAME_MAX, 0),
	JSPEC_STRING("second_otp", struct restore_req, second_otp, SAM_OTP_MAX, JF_SECRET),
	JSPEC_END,
};

void
ep_restore(struct srv_request *rq)
{
	struct restore_req req = { 0 };
	uint8_t *blob = NULL, *crl = NULL;
	size_t len = 0, crl_len = 0;
	uint32_t n = 0;
	int r;

	if (req_parse(rq, restore_spec, &req) != 0)
		return;
	if (b64_decode(req.backup, &blob, &len) != 0) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request", "Invalid parameter backup: base64 expected");
		goto out;
	}
	if (req.crl != NULL && (b64_decode(req.crl, &crl, &crl_len) != 0 || crl_len == 0)) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "Invalid parameter crl: base64 DER expected");
		goto out;
	}
	if ((req.second_officer == NULL) != (req.second_otp == NULL)) {
		reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_request",
		            "second_officer and second_otp go together");
		goto out;
	}
	{
		struct auth_restore_req ar = {
			.otp = req.otp, .second_officer = req.second_officer, .second_otp = req.second_otp,
			.blob = blob, .len = len, .crl = crl, .crl_len = crl_len,
		};

		r = auth_restore(&rq->srv->actx, &rq->areq, &rq->who, &ar, &n);
	}
	if (r != 0)
		reply_key_err(rq, r);
	else
		reply_json(rq, MHD_HTTP_OK, json_pack("{s:I}", "restored", (json_int_t)n));
out:
	free(crl);
	free(blob);
	json_free_spec(restore_spec, &req);
}
