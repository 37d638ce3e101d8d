/* audit_int: what the audit module's own files share; nothing outside src/audit/ includes it. */
#ifndef INKAN_AUDIT_INT_H
#define INKAN_AUDIT_INT_H

#include "audit/audit.h"

/* The Merkle tree hash of the leaves [lo, hi) (hi > lo) of a tree known to the caller. */
typedef int (*audit_mth_fn)(void *arg, uint64_t lo, uint64_t hi, uint8_t out[static AUDIT_HASH_LEN]);

/* RFC 9162 2.1.3.1 and 2.1.4.1 over a tree of n leaves that fn describes: the same proofs,
 * hash for hash, as audit_inclusion_proof() and audit_consistency_proof() over its leaves. */
int audit_inclusion_proof_fn(audit_mth_fn fn, void *arg, uint64_t n, uint64_t m,
                             uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;
int audit_consistency_proof_fn(audit_mth_fn fn, void *arg, uint64_t n, uint64_t m,
                               uint8_t (*path)[AUDIT_HASH_LEN], size_t *plen) INK_WUR;

#endif
