/* store: picks a backend from a URI and frees what backends hand out. */
#include "store/store.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* URI schemes, one line per backend; the PostgreSQL backend adds its own here. */
static const struct {
	const char *scheme;
	const struct store_ops *ops;
} backends[] = {
	{ "sqlite:", &store_sqlite_ops },
};

int
store_open(const char *uri, struct store **out)
{
	const char *colon, *slash;
	size_t i, len;

	*out = NULL;
	if (uri == NULL || *uri == '\0')
		return INK_ERR_INVALID;
	for (i = 0; i < INK_ARRAY_LEN(backends); i++) {
		len = strlen(backends[i].scheme);
		if (strncmp(uri, backends[i].scheme, len) == 0)
			return backends[i].ops->open(uri + len, out);
	}
	/* A bare path is an SQLite file. Something that looks like "scheme:..." but names no
	 * backend is refused: a mistyped "postgres:" URI must not quietly become a local file. */
	colon = strchr(uri, ':');
	slash = strchr(uri, '/');
	if (colon != NULL && (slash == NULL || colon < slash)) {
		log_error("unknown storage backend in the store URI");
		return INK_ERR_UNSUPPORTED;
	}
	return store_sqlite_ops.open(uri, out);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

void
store_users_free(struct store_user *u, size_t n)
{
	if (u == NULL)
		return;
	/* password hashes and sealed seeds */
	OPENSSL_cleanse(u, n * sizeof(*u));
	free(u);
}
