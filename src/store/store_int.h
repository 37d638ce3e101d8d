/* store internals: what every backend shares (role names, input checks, list growth). */
#ifndef INKAN_STORE_INT_H
#define INKAN_STORE_INT_H

#include "store/store.h"

/* Role bits (AUTH_ROLE_* in auth.h) and the names stored for them, one row per role. The
 * mapping lives here so that the database stays readable and store/ does not depend on auth/. */
struct store_role_name {
	uint32_t bit;
	const char *name;
};
extern const struct store_role_name store_role_names[];
extern const size_t store_nroles;
#define STORE_ROLES_KNOWN 0x3fu

/* Role bits from a comma-separated list of stored names (NULL or "" is none); an unknown name
 * is corruption: INK_ERR_STORE. */
int store_roles_from_names(const char *names, uint32_t *out) INK_WUR;

/* True if a fixed-size string field is NUL-terminated within its size. */
bool store_terminated(const char *field, size_t size);
/* The checks every backend makes before writing: true if the record may be stored. */
bool store_user_ok(const struct store_user *u);
bool store_idv_ok(const struct store_idv *v);
bool store_audit_rec_ok(const struct store_audit_rec *rec);
/* Every record of a batch; clears seqs[0..n) first. */
bool store_audit_batch_ok(const struct store_audit_rec *const *recs, size_t n, int64_t *seqs);
bool store_archive_ok(const struct store_archive *a);
bool store_checkpoint_ok(const struct store_checkpoint *c);
bool store_oauth_client_ok(const struct store_oauth_client *c);
/* A token row fit to insert: its kind, and ids of STORE_ID_LEN characters. */
bool store_oauth_token_ok(const struct store_oauth_token *t);
/* A flow row fit to write: its kind and state, terminated strings, a body within the cap. */
bool store_oauth_flow_ok(const struct store_oauth_flow *f);

/* Grows a user array without realloc, which would leave a copy of the hashes behind. */
int store_users_grow(struct store_user **v, size_t n, size_t *cap) INK_WUR;

#endif
