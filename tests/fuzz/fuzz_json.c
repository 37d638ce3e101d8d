/* fuzz_json: request bodies through json_parse_spec() with field tables of the shapes the
 * server's handlers use (strings, secrets, booleans, bounded integers, arrays of strings). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz.h"

/* The shape of credentials/authorize: a required array, secrets, a bounded integer. */
struct authz {
	char *credential_id;
	int64_t num_signatures;
	struct json_strings hashes;
	char *hash_oid;
	char *pin;
	char *otp;
	char *client_data;
};

static const struct json_field authz_spec[] = {
	JSPEC_STRING("credentialID", struct authz, credential_id, 64, JF_REQUIRED),
	JSPEC_INT("numSignatures", struct authz, num_signatures, 1, 1000, JF_REQUIRED),
	JSPEC_STRINGS("hashes", struct authz, hashes, 1000, 100, JF_REQUIRED),
	JSPEC_STRING("hashAlgorithmOID", struct authz, hash_oid, 64, 0),
	JSPEC_STRING("PIN", struct authz, pin, 64, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("OTP", struct authz, otp, 16, JF_REQUIRED | JF_SECRET),
	JSPEC_STRING("clientData", struct authz, client_data, 4096, 0),
	JSPEC_END,
};

/* The shape of credentials/list and auth/login: everything optional, booleans, negative bounds. */
struct list {
	char *user_id;
	bool credential_info;
	bool only_valid;
	int64_t max_results;
	int64_t offset;
	char *password;
};

static const struct json_field list_spec[] = {
	JSPEC_STRING("userID", struct list, user_id, 128, 0),
	JSPEC_BOOL("credentialInfo", struct list, credential_info, 0),
	JSPEC_BOOL("onlyValid", struct list, only_valid, 0),
	JSPEC_INT("maxResults", struct list, max_results, 1, 1000, 0),
	JSPEC_INT("offset", struct list, offset, INT64_MIN, INT64_MAX, 0),
	JSPEC_STRING("password", struct list, password, 1024, JF_SECRET),
	JSPEC_END,
};

/* The shape of users (create): an array of secrets as well as one of plain strings. */
struct users {
	char *username;
	struct json_strings roles;
	struct json_strings codes;
	char *document_number;
};

static const struct json_field users_spec[] = {
	JSPEC_STRING("username", struct users, username, 64, JF_REQUIRED),
	JSPEC_STRINGS("roles", struct users, roles, 6, 32, JF_REQUIRED),
	JSPEC_STRINGS("codes", struct users, codes, 4, 16, JF_SECRET),
	JSPEC_STRING("idv_document_number", struct users, document_number, 256, JF_SECRET),
	JSPEC_END,
};

/* What json_parse_spec() promises of a field it filled. */
static void
check_field(const struct json_field *f, const void *out)
{
	const uint8_t *base = out;
	const struct json_strings *a;
	const char *s;
	int64_t v;
	size_t i;

	switch (f->type) {
	case JF_STRING:
		s = *(char *const *)(base + f->offset);
		if (s != NULL && strlen(s) > f->max_len)
			abort();
		break;
	case JF_INT:
		v = *(const int64_t *)(base + f->offset);
		if (v != 0 && (v < f->min || v > f->max))
			abort();
		break;
	case JF_STRINGS:
		a = (const struct json_strings *)(base + f->offset);
		if (a->n > f->max_len || (a->n > 0 && a->v == NULL))
			abort();
		for (i = 0; i < a->n; i++)
			if (a->v[i] == NULL || strlen(a->v[i]) > (size_t)f->max)
				abort();
		break;
	default:
		break;
	}
}

/* The pointers json_free_spec() must leave NULL (and a failed parse must leave nothing). */
static void
check_freed(const struct json_field *spec, const void *out)
{
	const uint8_t *base = out;
	const struct json_field *f;

	for (f = spec; f->type != JF_END; f++) {
		if (f->type == JF_STRING && *(char *const *)(base + f->offset) != NULL)
			abort();
		if (f->type == JF_STRINGS &&
		    ((const struct json_strings *)(base + f->offset))->v != NULL)
			abort();
	}
}

/* The hashes of an authorization, decoded as the server does (reply.c, req_hashes). */
static void
decode_hashes(const struct json_strings *h)
{
	uint8_t *raw;
	size_t i, n;

	for (i = 0; i < h->n; i++) {
		if (b64_decode(h->v[i], &raw, &n) == 0)
			free(raw);
	}
}

static void
run(const struct json_field *spec, void *out, size_t outsz, const char *body, size_t len)
{
	const struct json_field *f;
	char err[256];

	memset(out, 0, outsz);
	if (json_parse_spec(body, len, spec, out, err, sizeof(err)) == 0) {
		for (f = spec; f->type != JF_END; f++)
			check_field(f, out);
		if (spec == authz_spec)
			decode_hashes(&((struct authz *)out)->hashes);
		json_free_spec(spec, out);
	} else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL) {
		abort();   /* a refusal always says why */
	}
	check_freed(spec, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authz a;
	struct list l;
	struct users u;

	fuzz_init();
	run(authz_spec, &a, sizeof(a), (const char *)data, size);
	run(list_spec, &l, sizeof(l), (const char *)data, size);
	run(users_spec, &u, sizeof(u), (const char *)data, size);
	return 0;
}
