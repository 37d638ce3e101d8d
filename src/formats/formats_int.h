/* formats_int: what the formats files share — a small DER writer with a sticky error. */
#ifndef INKAN_FORMATS_INT_H
#define INKAN_FORMATS_INT_H

#include "formats/formats.h"

/* A growing DER encoding; the first failure sticks in err and later calls do nothing. */
struct der {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/* Appends raw bytes. */
void der_raw(struct der *d, const void *p, size_t n);
/* Appends a tag and a DER length. */
void der_hdr(struct der *d, uint8_t tag, uint64_t len);
/* Bytes a tag and length of len take. */
size_t der_hdr_len(uint64_t len);
/* Appends tag, length, contents. */
void der_tlv(struct der *d, uint8_t tag, const void *p, size_t n);
/* Appends inner wrapped in tag, then frees inner (errors carry over). */
void der_wrap(struct der *d, uint8_t tag, struct der *inner);
/* Appends an OBJECT IDENTIFIER from dotted text. */
void der_oid(struct der *d, const char *dotted);
/* Appends an AlgorithmIdentifier with absent (null_params false) or NULL parameters. */
void der_algid(struct der *d, const char *dotted, bool null_params);
/* Frees (accepts a zeroed struct). */
void der_free(struct der *d);

#endif
