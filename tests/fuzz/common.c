/* common: what the harnesses share — quiet logs, the validation context, one verify_run(). */
#include "fuzz.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "verify/verify.h"

/* anchor.pem (the seeds' CA certificate and its CRL), compiled in by cmake/embed.cmake. */
extern const char fuzz_anchor_pem[];

void
fuzz_init(void)
{
	static int done;

	if (done)
		return;
	ink_log_init("fuzz", INK_LOG_ERROR);
	done = 1;
}

struct verify_ctx *
fuzz_verify_ctx(void)
{
	static struct verify_ctx *ctx;

	if (ctx != NULL)
		return ctx;
	fuzz_init();
	if (verify_ctx_new(&ctx) != 0 ||
	    verify_ctx_add_trust_pem(ctx, fuzz_anchor_pem, strlen(fuzz_anchor_pem)) != 0 ||
	    verify_ctx_add_crl(ctx, (const uint8_t *)fuzz_anchor_pem, strlen(fuzz_anchor_pem)) != 0)
		abort();
	verify_ctx_set_fetch(ctx, false);
	verify_ctx_set_time(ctx, FUZZ_VERIFY_TIME);
	return ctx;
}

void
fuzz_verify_one(const uint8_t *sig, size_t len, enum verify_format fmt, int with_doc)
{
	static FILE *devnull;
	struct verify_input in = {
		.sig = sig,
		.sig_len = len,
		.format = fmt,
	};
	struct verify_report *rep = NULL;
	json_t *j;
	uint8_t md[32];
	char err[256];
	size_t i, n;
	int r;

	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	if (with_doc == FUZZ_WITH_DOC) {
		in.doc = (const uint8_t *)FUZZ_DOC;
		in.doc_len = strlen(FUZZ_DOC);
	} else if (with_doc == FUZZ_WITH_DIGEST) {
		if (EVP_Digest(FUZZ_DOC, strlen(FUZZ_DOC), md, NULL, EVP_sha256(), NULL) != 1)
			abort();
		in.digest = md;
		in.digest_len = sizeof(md);
		in.digest_oid = "2.16.840.1.101.3.4.2.1";
	}
	err[0] = '\0';
	if ((r = verify_run(fuzz_verify_ctx(), &in, &rep, err, sizeof(err))) != 0) {
		if (getenv("FUZZ_DEBUG") != NULL)
			fprintf(stderr, "fuzz: format %d: refused (%s): %s\n", (int)fmt, ink_err_str(r), err);
		if (rep != NULL || err[0] == '\0')
			abort();   /* a refusal leaves no report and says why */
		return;
	}
	n = verify_report_count(rep);
	for (i = 0; i < n; i++) {
		if ((unsigned)verify_report_indication(rep, i) > VERIFY_TOTAL_FAILED ||
		    (unsigned)verify_report_sub(rep, i) >= VERIFY_SUB_MAX_)
			abort();
	}
	if (verify_report_all_passed(rep) && n == 0)
		abort();
	if ((j = verify_report_json(rep)) == NULL)
		abort();
	/* FUZZ_DEBUG=1 shows what an input gives, e.g. that a seed still validates. */
	if (getenv("FUZZ_DEBUG") != NULL)
		json_dumpf(j, stderr, JSON_COMPACT);
	json_decref(j);
	verify_report_print(rep, devnull);
	verify_report_free(rep);
}
