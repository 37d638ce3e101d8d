/* store: picks a backend from a URI and frees what backends hand out. */
#include "store/store.h"
#include "store/store_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* URI schemes, one line per backend. A PostgreSQL URI is handed to libpq whole. */
static const struct {
	const char *scheme;
	bool keep_scheme;
	const struct store_ops *ops;
} backends[] = {
	{ "sqlite:", false, &store_sqlite_ops },
	{ "postgresql://", true, &store_postgres_ops },
	{ "postgres://", true, &store_postgres_ops },
};

const struct store_role_name store_role_names[] = {
	{ 1u << 0, "security_officer" },
	{ 1u << 1, "system_administrator" },
	{ 1u << 2, "system_operator" },
	{ 1u << 3, "system_auditor" },
	{ 1u << 4, "registration_officer" },
	{ 1u << 5, "signer" },
};
const size_t store_nroles = INK_ARRAY_LEN(store_role_names);

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
			return backends[i].ops->open(backends[i].keep_scheme ? uri : uri + len, out);
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

int
store_roles_from_names(const char *names, uint32_t *out)
{
	const char *p = names, *comma;
	uint32_t roles = 0;
	size_t len, i;

	*out = 0;
	if (names == NULL || *names == '\0')
		return 0;
	for (;;) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < store_nroles; i++) {
			if (strlen(store_role_names[i].name) == len &&
			    memcmp(store_role_names[i].name, p, len) == 0)
				break;
		}
		if (i == store_nroles) {
			log_bug("unknown role name in user_roles");
			return INK_ERR_STORE;
		}
		roles |= store_role_names[i].bit;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = roles;
	return 0;
}

bool
store_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

bool
store_user_ok(const struct store_user *u)
{
	return store_terminated(u->id, sizeof(u->id)) &&
	    store_terminated(u->username, sizeof(u->username)) &&
	    store_terminated(u->display_name, sizeof(u->display_name)) &&
	    store_terminated(u->created_by, sizeof(u->created_by)) &&
	    store_terminated(u->password_hash, sizeof(u->password_hash)) &&
	    u->id[0] != '\0' && u->username[0] != '\0' &&
	    u->status >= STORE_USER_ACTIVE && u->status <= STORE_USER_DISABLED &&
	    (u->roles & ~STORE_ROLES_KNOWN) == 0 && u->totp_sealed_len <= sizeof(u->totp_sealed);
}

bool
store_idv_ok(const struct store_idv *v)
{
	return store_terminated(v->user_id, sizeof(v->user_id)) &&
	    store_terminated(v->method, sizeof(v->method)) &&
	    store_terminated(v->evidence_ref, sizeof(v->evidence_ref)) &&
	    store_terminated(v->officer, sizeof(v->officer)) && v->user_id[0] != '\0';
}

bool
store_audit_rec_ok(const struct store_audit_rec *rec)
{
	return store_terminated(rec->actor, sizeof(rec->actor)) &&
	    store_terminated(rec->role, sizeof(rec->role)) &&
	    store_terminated(rec->action, sizeof(rec->action)) &&
	    store_terminated(rec->subject, sizeof(rec->subject)) &&
	    store_terminated(rec->result, sizeof(rec->result)) &&
	    store_terminated(rec->request_id, sizeof(rec->request_id)) &&
	    store_terminated(rec->source, sizeof(rec->source)) &&
	    store_terminated(rec->detail, sizeof(rec->detail));
}

bool
store_audit_batch_ok(const struct store_audit_rec *const *recs, size_t n, int64_t *seqs)
{
	size_t i;

	for (i = 0; i < n; i++)
		seqs[i] = 0;
	for (i = 0; i < n; i++)
		if (!store_audit_rec_ok(recs[i]))
			return false;
	return true;
}

bool
store_archive_ok(const struct store_archive *a)
{
	return a->first_seq >= 1 && a->last_seq >= a->first_seq &&
	    a->frontier_len <= sizeof(a->frontier) && store_terminated(a->file, sizeof(a->file)) &&
	    store_terminated(a->sha256, sizeof(a->sha256));
}

bool
store_checkpoint_ok(const struct store_checkpoint *c)
{
	return c->size >= 0 && c->sig_len != 0 && c->sig_len <= sizeof(c->sig);
}

int
store_users_grow(struct store_user **v, size_t n, size_t *cap)
{
	struct store_user *nv;
	size_t ncap = *cap == 0 ? 16 : *cap * 2;

	if (ncap > SIZE_MAX / sizeof(*nv) || (nv = calloc(ncap, sizeof(*nv))) == NULL)
		return INK_ERR_ALLOC;
	if (n > 0)
		memcpy(nv, *v, n * sizeof(*nv));
	store_users_free(*v, *cap);
	*v = nv;
	*cap = ncap;
	return 0;
}

bool
store_oauth_client_ok(const struct store_oauth_client *c)
{
	return store_terminated(c->id, sizeof(c->id)) && strlen(c->id) == STORE_ID_LEN &&
	    store_terminated(c->name, sizeof(c->name)) && c->name[0] != '\0' &&
	    store_terminated(c->redirect_uris, sizeof(c->redirect_uris)) &&
	    store_terminated(c->public_key, sizeof(c->public_key)) &&
	    (c->public_key[0] == '\0' || !c->public_client) &&
	    store_terminated(c->created_by, sizeof(c->created_by));
}

bool
store_oauth_token_ok(const struct store_oauth_token *t)
{
	return (t->kind == STORE_TOKEN_ACCESS || t->kind == STORE_TOKEN_REFRESH) &&
	    store_terminated(t->family, sizeof(t->family)) && strlen(t->family) == STORE_ID_LEN &&
	    store_terminated(t->client_id, sizeof(t->client_id)) &&
	    strlen(t->client_id) == STORE_ID_LEN &&
	    store_terminated(t->user_id, sizeof(t->user_id)) && strlen(t->user_id) == STORE_ID_LEN;
}

bool
store_oauth_flow_ok(const struct store_oauth_flow *f)
{
	return f->kind >= STORE_FLOW_PAGE && f->kind <= STORE_FLOW_TOKEN &&
	    f->state >= STORE_FLOW_LIVE && f->state <= STORE_FLOW_REVOKED &&
	    store_terminated(f->client_id, sizeof(f->client_id)) &&
	    store_terminated(f->source, sizeof(f->source)) &&
	    (f->body == NULL || (f->body_len > 0 && f->body_len <= STORE_FLOW_BODY_MAX));
}

void
store_oauth_flow_clear(struct store_oauth_flow *f)
{
	if (f == NULL)
		return;
	if (f->body != NULL) {
		OPENSSL_cleanse(f->body, f->body_len);
		free(f->body);
	}
	f->body = NULL;
	f->body_len = 0;
}
