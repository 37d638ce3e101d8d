/* fuzz_fetched: revocation data as a URL named by a certificate serves it to `inkan verify`
 * and to B-LT signing (verify/fetch.c): an OCSP response or a CRL, checked against the
 * certificate and its issuer before it is kept. The input frames them: a byte (even: OCSP, odd:
 * CRL), u16 issuer length, the issuer's certificate, u16 length, the certificate, then the
 * data (make_corpus_fetched.sh). What the check accepts must read back as what it claims. */
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"
#include "verify/verify.h"

/* Reads a u16-length-prefixed part of *p (*left bytes), or fails. */
static int
part(const uint8_t **p, size_t *left, const uint8_t **out, size_t *len)
{
	size_t n;

	if (*left < 2)
		return -1;
	n = ((size_t)(*p)[0] << 8) | (*p)[1];
	if (*left - 2 < n)
		return -1;
	*out = *p + 2;
	*len = n;
	*p += 2 + n;
	*left -= 2 + n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *issuer, *cert, *q;
	size_t left = size, ilen, clen;
	OCSP_RESPONSE *resp;
	X509_CRL *crl;
	char why[256];
	bool ocsp;
	int r;

	fuzz_init();
	if (size < 1)
		return 0;
	ocsp = (data[0] & 1) == 0;
	p++;
	left--;
	if (part(&p, &left, &issuer, &ilen) != 0 || part(&p, &left, &cert, &clen) != 0)
		return 0;
	r = verify_fetch_check(ocsp, p, left, cert, clen, issuer, ilen, FUZZ_VERIFY_TIME, why,
	                       sizeof(why));
	if (getenv("FUZZ_DEBUG") != NULL)
		fprintf(stderr, "fuzz_fetched: %s: %s\n", ocsp ? "OCSP" : "CRL", r == 0 ? "kept" : why);
	if (r != 0) {
		if (r != INK_ERR_INVALID || why[0] == '\0')
			abort();   /* a refusal says why, and is the input's fault */
		return 0;
	}
	/* accepted: exactly one DER object of the kind asked for */
	q = p;
	if (ocsp) {
		if ((resp = d2i_OCSP_RESPONSE(NULL, &q, (long)left)) == NULL || q != p + left ||
		    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
			abort();
		OCSP_RESPONSE_free(resp);
	} else {
		if ((crl = d2i_X509_CRL(NULL, &q, (long)left)) == NULL || q != p + left)
			abort();
		X509_CRL_free(crl);
	}
	return 0;
}
