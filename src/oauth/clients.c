/* clients: OAuth clients — which programs may ask signers for signatures, a security officer's
 * decision; registered, listed and removed here, every act audited. */
#include "oauth/oauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"

static void
client_audit(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *a,
             const char *action, const char *id, const char *detail, int r)
{
	char roles[STORE_TEXT_MAX];
	struct audit_event ev = {
		.actor = a->username, .role = roles, .action = action, .subject = id,
		.result = r == 0 ? AUDIT_SUCCESS : ink_err_str(r), .request_id = rq->request_id,
		.source = rq->source, .detail = detail,
	};

	auth_roles_str(a->roles, roles, sizeof(roles));
	if (audit_append(ctx->st, &ev) != 0)
		log_error("cannot audit %s", action);
}

static int
may_manage(const struct auth_ctx *ctx, const struct auth_req *rq, const struct auth_principal *a,
           const char *action, const char *id)
{
	int r = 0;

	if (a->password_change_only)
		r = INK_ERR_PASSWORD_CHANGE;
	else if (!auth_allowed(a->roles, AUTH_PERM_CLIENT_MANAGE))
		r = INK_ERR_DENIED;
	if (r != 0)
		client_audit(ctx, rq, a, action, id, NULL, r);
	return r;
}

/* The host part of an http(s) URI: [start, end). */
static bool
uri_host(const char *uri, size_t skip, const char **start, size_t *len)
{
	const char *h = uri + skip, *e = h;

	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL)
			return false;
		e++;
	} else {
		while (*e != '\0' && *e != ':' && *e != '/' && *e != '?')
			e++;
	}
	*start = h;
	*len = (size_t)(e - h);
	return *len > 0;
}

const char *
oauth_uri_problem(const char *uri)
{
	const char *host;
	size_t i, len, hl;
	bool loopback;

	if (uri == NULL || (len = strlen(uri)) == 0 || len > OAUTH_URI_MAX)
		return "a redirect URI must be 1..512 bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)uri[i] <= 0x20 || (unsigned char)uri[i] >= 0x7f || uri[i] == '"' ||
		    uri[i] == '<' || uri[i] == '>' || uri[i] == '\\')
			return "a redirect URI must be printable ASCII without spaces";
	if (strchr(uri, '#') != NULL)
		return "a redirect URI must not have a fragment (RFC 6749 3.1.2)";
	if (strncmp(uri, "https://", 8) == 0)
		return uri_host(uri, 8, &host, &hl) ? NULL : "a redirect URI needs a host";
	if (strncmp(uri, "http://", 7) != 0)
		return "a redirect URI must be https (or http on a loopback address, RFC 8252 7.3)";
	if (!uri_host(uri, 7, &host, &hl))
		return "a redirect URI needs a host";
	loopback = (hl == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
	           (hl == 5 && strncmp(host, "[::1]", 5) == 0) ||
	           (hl == 9 && strncasecmp(host, "localhost", 9) == 0);
	return loopback ? NULL : "plain http is allowed for loopback redirect URIs only";
}

int
oauth_uri_origin(const char *uri, char *out, size_t outsz)
{
	const char *host, *end;
	size_t skip, hl, n;

	out[0] = '\0';
	skip = strncmp(uri, "https://", 8) == 0 ? 8 : strncmp(uri, "http://", 7) == 0 ? 7 : 0;
	if (skip == 0 || !uri_host(uri, skip, &host, &hl))
		return INK_ERR_INVALID;
	end = host + hl;
	if (*end == ':') {
		const char *q = end + 1;

		while (*q >= '0' && *q <= '9')
			q++;
		if (q > end + 1)
			end = q;
	}
	n = (size_t)(end - uri);
	if (n + 1 > outsz)
		return INK_ERR_TOO_LARGE;
	memcpy(out, uri, n);
	out[n] = '\0';
	return 0;
}

static void
pct_append(char *out, size_t *o, const char *v)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hexd[c >> 4];
			out[(*o)++] = hexd[c & 15];
		}
	}
}

int
oauth_redirect_build(const char *uri, const char *name, const char *value, const char *state,
                     char **out)
{
	size_t len = strlen(uri) + strlen(name) + 3 * strlen(value) + 16, o;
	char *p;

	*out = NULL;
	if (state != NULL)
		len += 3 * strlen(state) + 8;
	if ((p = malloc(len)) == NULL)
		return INK_ERR_ALLOC;
	o = strlen(uri);
	memcpy(p, uri, o);
	p[o++] = strchr(uri, '?') != NULL ? '&' : '?';
	memcpy(p + o, name, strlen(name));
	o += strlen(name);
	p[o++] = '=';
	pct_append(p, &o, value);
	if (state != NULL && state[0] != '\0') {
		memcpy(p + o, "&state=", 7);
		o += 7;
		pct_append(p, &o, state);
	}
	p[o] = '\0';
	*out = p;
	return 0;
}

static bool
name_valid(const char *name)
{
	size_t i, len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len > STORE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

static int
secret_hash(const char *secret, uint8_t out[static 32])
{
	unsigned int n = 0;

	return EVP_Digest(secret, strlen(secret), out, &n, EVP_sha256(), NULL) == 1 && n == 32 ?
	       0 : INK_ERR_CRYPTO;
}

int
oauth_client_add(const struct auth_ctx *ctx, const struct auth_req *rq,
                 const struct auth_principal *actor, const char *name, const char *const *uris,
                 size_t nuris, bool public_client, const char *public_key,
                 struct store_oauth_client *out, char secret[static OAUTH_TOKEN_CHARS + 1],
                 const char **why)
{
	uint8_t id_raw[16];
	char detail[STORE_TEXT_MAX];
	size_t i, j, off = 0;
	int r;

	memset(out, 0, sizeof(*out));
	secret[0] = '\0';
	*why = NULL;
	if ((r = may_manage(ctx, rq, actor, "oauth.client.add", name)) != 0)
		return r;
	if (!name_valid(name))
		*why = "a client name must be 1..64 printable bytes";
	else if (nuris == 0 || nuris > OAUTH_URIS_MAX)
		*why = "a client needs 1..8 redirect URIs";
	else if (public_key != NULL && public_client)
		*why = "a public client has no key: choose --public or a public key, not both";
	else if (public_key != NULL)
		*why = oauth_pubkey_problem(public_key);
	for (i = 0; *why == NULL && i < nuris; i++) {
		if ((*why = oauth_uri_problem(uris[i])) != NULL)
			break;
		for (j = 0; j < i; j++)
			if (strcmp(uris[i], uris[j]) == 0)
				*why = "a redirect URI is listed twice";
		if (off + strlen(uris[i]) + 1 > STORE_URIS_MAX)
			*why = "the redirect URIs are too long together";
		else
			off += (size_t)snprintf(out->redirect_uris + off, sizeof(out->redirect_uris) - off,
			                        "%s%s", i > 0 ? "\n" : "", uris[i]);
	}
	if (*why != NULL) {
		client_audit(ctx, rq, actor, "oauth.client.add", name, *why, INK_ERR_INVALID);
		memset(out, 0, sizeof(*out));
		return INK_ERR_INVALID;
	}
	if ((r = ink_random(id_raw, sizeof(id_raw))) != 0)
		goto out;
	hex_encode(id_raw, sizeof(id_raw), out->id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->created_by, sizeof(out->created_by), "%s", actor->username);
	out->created_at = ink_now();
	out->public_client = public_client;
	if (public_key != NULL)
		snprintf(out->public_key, sizeof(out->public_key), "%s", public_key);
	else if (!public_client && ((r = oauth_random_token(secret)) != 0 ||
	                       (r = secret_hash(secret, out->secret_hash)) != 0))
		goto out;
	r = ctx->st->ops->oauth_client_insert(ctx->st, out);
out:
	snprintf(detail, sizeof(detail), "client %s (%s), %zu redirect URI(s)", out->id,
	         public_client ? "public" : public_key != NULL ? "private_key_jwt" : "confidential",
	         nuris);
	client_audit(ctx, rq, actor, "oauth.client.add", name, detail, r);
	if (r != 0) {
		OPENSSL_cleanse(secret, OAUTH_TOKEN_CHARS + 1);
		memset(out, 0, sizeof(*out));
	}
	return r;
}

int
oauth_client_list(const struct auth_ctx *ctx, const struct auth_req *rq,
                  const struct auth_principal *actor, struct store_oauth_client **out, size_t *n)
{
	int r;

	*out = NULL;
	*n = 0;
	if ((r = may_manage(ctx, rq, actor, "oauth.client.list", NULL)) != 0)
		return r;
	return ctx->st->ops->oauth_client_list(ctx->st, out, n);
}

int
oauth_client_remove(const struct auth_ctx *ctx, const struct auth_req *rq,
                    const struct auth_principal *actor, const char *id)
{
	int r;

	if ((r = may_manage(ctx, rq, actor, "oauth.client.remove", id)) != 0)
		return r;
	r = ctx->st->ops->oauth_client_remove(ctx->st, id, ink_now());
	client_audit(ctx, rq, actor, "oauth.client.remove", id, NULL, r);
	return r;
}

int
oauth_client_find(struct store *st, const char *id, struct store_oauth_client *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (id == NULL || strlen(id) != STORE_ID_LEN)
		return INK_ERR_NOT_FOUND;
	if ((r = st->ops->oauth_client_get(st, id, out)) != 0)
		return r;
	if (out->removed_at != 0) {
		memset(out, 0, sizeof(*out));
		return INK_ERR_NOT_FOUND;
	}
	return 0;
}

/* RFC 8252 7.3: a registered loopback IP URI without a port allows any port (a native app
 * listens on one of the moment): reg[0..len) "http://127.0.0.1/p" matches
 * "http://127.0.0.1:PORT/p". */
static bool
loopback_any_port(const char *reg, size_t len, const char *uri)
{
	static const char *const hosts[] = { "http://127.0.0.1", "http://[::1]" };
	size_t i, hl;
	const char *p;

	for (i = 0; i < INK_ARRAY_LEN(hosts); i++) {
		hl = strlen(hosts[i]);
		if (len <= hl || strncmp(reg, hosts[i], hl) != 0 || reg[hl] != '/' ||
		    strncmp(uri, hosts[i], hl) != 0 || uri[hl] != ':')
			continue;
		for (p = uri + hl + 1; *p >= '0' && *p <= '9'; p++)
			;
		if (p == uri + hl + 1 || p - (uri + hl + 1) > 5)
			return false;
		return strlen(p) == len - hl && memcmp(p, reg + hl, len - hl) == 0;
	}
	return false;
}

bool
oauth_redirect_registered(const struct store_oauth_client *c, const char *uri)
{
	const char *p = c->redirect_uris, *nl;
	size_t len, ul;

	if (uri == NULL)
		return false;
	ul = strlen(uri);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		/* exact, simple string comparison (RFC 6749 3.1.2.3, as OAuth 2.1 requires) */
		if ((len == ul && memcmp(p, uri, ul) == 0) || loopback_any_port(p, len, uri))
			return true;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return false;
}

int
oauth_client_secret_check(const struct store_oauth_client *c, const char *secret)
{
	uint8_t h[32];
	int r;

	/* one registered by its key proves itself by an assertion, never by this */
	if (c->public_key[0] != '\0')
		return INK_ERR_AUTH;
	if (c->public_client)
		return secret == NULL ? 0 : INK_ERR_AUTH;
	if (secret == NULL || strlen(secret) != OAUTH_TOKEN_CHARS || secret_hash(secret, h) != 0)
		return INK_ERR_AUTH;
	r = CRYPTO_memcmp(h, c->secret_hash, sizeof(h)) == 0 ? 0 : INK_ERR_AUTH;
	OPENSSL_cleanse(h, sizeof(h));
	return r;
}
