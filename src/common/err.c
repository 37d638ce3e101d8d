/* err: the one table of error texts. */
#include "common/common.h"

static const char *const err_text[] = {
	[0] = "success",
	[-INK_ERR_INTERNAL] = "internal error",
	[-INK_ERR_ALLOC] = "out of memory",
	[-INK_ERR_INVALID] = "invalid input",
	[-INK_ERR_TOO_LARGE] = "input too large",
	[-INK_ERR_NOT_FOUND] = "not found",
	[-INK_ERR_EXISTS] = "already exists",
	[-INK_ERR_AUTH] = "authentication failed",
	[-INK_ERR_DENIED] = "permission denied",
	[-INK_ERR_LOCKED] = "locked",
	[-INK_ERR_DISABLED] = "account disabled",
	[-INK_ERR_EXPIRED] = "expired",
	[-INK_ERR_REPLAY] = "one-time value already used",
	[-INK_ERR_SOD] = "separation of duties violated",
	[-INK_ERR_POLICY] = "refused by policy",
	[-INK_ERR_IO] = "input/output error",
	[-INK_ERR_STORE] = "storage error",
	[-INK_ERR_CRYPTO] = "cryptographic failure",
	[-INK_ERR_SAM_UNAVAILABLE] = "signature activation module unavailable",
	[-INK_ERR_PROTOCOL] = "protocol error",
	[-INK_ERR_CONFIG] = "configuration error",
	[-INK_ERR_PASSWORD_CHANGE] = "password change required",
	[-INK_ERR_UNSUPPORTED] = "unsupported",
	[-INK_ERR_SAD_EXPIRED] = "SAD expired",
	[-INK_ERR_NOT_AUTHORIZED] = "hash not authorized by the SAD",
	[-INK_ERR_BAD_PIN] = "wrong PIN",
	[-INK_ERR_ENROL] = "second factor not enrolled",
	[-INK_ERR_IDENTITY] = "identity already registered",
	[-INK_ERR_UNTRUSTED] = "not issued by a trusted CA",
	[-INK_ERR_WRONG_KEY] = "certificate is for another key",
	[-INK_ERR_WRONG_SUBJECT] = "certificate names another subject",
	[-INK_ERR_KEY_USAGE] = "key usage not allowed at this assurance level",
	[-INK_ERR_NO_WITNESS] = "no witness of later revocations",
	[-INK_ERR_BUSY] = "busy, try again later",
	[-INK_ERR_CLOCK] = "the clock is not synchronised",
};

const char *
ink_err_str(int err)
{
	if (err > 0 || err <= INK_ERR_MAX_ || err_text[-err] == NULL)
		return "unknown error";
	return err_text[-err];
}
