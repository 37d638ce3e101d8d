/* census: what the key store holds, counted without a secret, for the SAM's attestation of
 * itself (docs/compliance.md): persons by role, separation of duties, credentials by backend,
 * algorithm and status. */
#include "keys/keys_int.h"

#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

#define PRIVILEGED (AUTH_ROLE_SECURITY_OFFICER | AUTH_ROLE_SYSTEM_ADMINISTRATOR | \
	AUTH_ROLE_SYSTEM_OPERATOR | AUTH_ROLE_SYSTEM_AUDITOR | AUTH_ROLE_REGISTRATION_OFFICER)

/* One count over the persons not removed (status 3) whose roles satisfy the condition. */
static int
count_persons(struct keys *k, const char *where, int64_t a, int64_t b, int64_t *n)
{
	char sql[256];
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM persons WHERE status != 3 AND %s", where);
	if (ksdb_prepare(k->db, sql, &st) != KSDB_OK)
		return INK_ERR_STORE;
	ksdb_bind_int64(st, 1, a);
	ksdb_bind_int64(st, 2, b);
	if (ksdb_step(st) == KSDB_ROW) {
		*n = ksdb_column_int64(st, 0);
		r = 0;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_census(struct keys *k, struct keys_census *out)
{
	static const char *const status[] = { "pending", "active", "locked", "revoked", "destroyed" };
	struct ksdb_stmt *st = NULL;
	size_t off = 0, i;
	int64_t s, n;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = count_persons(k, "?1 = ?2", 0, 0, &out->persons)) != 0)
		return r;
	for (i = 0; i < INK_ARRAY_LEN(out->roles); i++)
		if ((r = count_persons(k, "(roles & ?1) != 0 AND ?2 = ?2", (int64_t)1 << i, 0,
		                       &out->roles[i])) != 0)
			return r;
	if ((r = count_persons(k, "(roles & ?1) != 0 AND (roles & ?2) != 0", PRIVILEGED,
	                       AUTH_ROLE_SIGNER, &out->privileged_signers)) != 0 ||
	    (r = count_persons(k, "(roles & ?1) = ?1 AND ?2 = ?2", PRIVILEGED, 0,
	                       &out->all_privileged)) != 0 ||
	    (r = count_persons(k, "(roles & ?1) != 0 AND (roles & ?2) != 0",
	                       AUTH_ROLE_SECURITY_OFFICER,
	                       AUTH_ROLE_SYSTEM_AUDITOR | AUTH_ROLE_REGISTRATION_OFFICER,
	                       &out->officer_conflicts)) != 0)
		return r;
	if (ksdb_prepare(k->db, "SELECT backend, algo, status, count(*) FROM credentials "
	                       "GROUP BY backend, algo, status ORDER BY backend, algo, status", &st) != KSDB_OK)
		return INK_ERR_STORE;
	while ((r = ksdb_step(st)) == KSDB_ROW) {
		const char *be = ksdb_column_text(st, 0);
		const char *al = ksdb_column_text(st, 1);
		int w;

		s = ksdb_column_int64(st, 2);
		n = ksdb_column_int64(st, 3);
		if (s == KEYS_ACTIVE || s == KEYS_LOCKED)
			out->usable_credentials += n;
		w = snprintf(out->credentials + off, sizeof(out->credentials) - off, "%s%s/%s/%s=%lld",
		             off > 0 ? "," : "", be != NULL ? be : "?", al != NULL ? al : "?",
		             s >= 0 && s < (int64_t)INK_ARRAY_LEN(status) ? status[s] : "other",
		             (long long)n);
		if (w < 0 || (size_t)w >= sizeof(out->credentials) - off)
			break;    /* kept short: the counts of the first ones */
		off += (size_t)w;
	}
	ksdb_finalize(st);
	return r == KSDB_DONE || r == KSDB_ROW ? 0 : INK_ERR_STORE;
}
