/* fuzz: what the libFuzzer harnesses of tests/fuzz share (common.c). */
#ifndef INKAN_FUZZ_H
#define INKAN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "verify/verify.h"

/* libFuzzer's entry point; each fuzz_<name>.c defines it (replay.c calls it too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Once per process: logs only errors (a fuzzer makes millions of bad inputs). */
void fuzz_init(void);

/* A validation context trusting the seed material's CA with its CRL (anchor.pem), a fixed
 * validation time inside their validity and no network: made once, kept for the process. */
struct verify_ctx;
struct verify_ctx *fuzz_verify_ctx(void);

/* The fixed validation time, seconds since the epoch. */
#define FUZZ_VERIFY_TIME 1800000000   /* 2027-01-15 */

/* The document the detached seed signatures and time-stamps were made over (make_corpus.sh). */
#define FUZZ_DOC "inkan fuzz seed document\n"

/* What fuzz_verify_one() gives as the signed content besides sig. */
#define FUZZ_NO_DOC 0
#define FUZZ_WITH_DOC 1      /* FUZZ_DOC */
#define FUZZ_WITH_DIGEST 2   /* its SHA-256, as POST /api/v1/verify may be given instead */

/* Validates sig as fmt (with the content as with_doc says) in fuzz_verify_ctx();
 * a report is rendered to JSON and text and checked for consistency. FUZZ_DEBUG in the
 * environment prints each report (or refusal) on stderr. */
void fuzz_verify_one(const uint8_t *sig, size_t len, enum verify_format fmt, int with_doc);

#endif
