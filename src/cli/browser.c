/* browser: the CLI as an OAuth public client (RFC 8252, loopback redirect) — `inkan sign
 * --browser CLIENT`: the signer confirms the hash and types PIN and OTP on the service's own
 * page, never into this program; it gets a code on 127.0.0.1 and trades it (PKCE) for the
 * access token that signs exactly that hash. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "oauth/oauth.h"

#define CALLBACK_PATH "/callback"
#define REQUEST_MAX 8192
#define WAIT_DEFAULT 300          /* seconds the signer has to consent */

/* base64url without padding of len bytes into out (room for B64_LEN(len) + 1). */
static void
b64url(const uint8_t *in, size_t len, char *out)
{
	size_t n = b64_encode_to(in, len, out), i;

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

/* One query parameter, percent-encoded, appended to *p (realloc'd). */
static int
add_param(char **p, size_t *len, const char *name, const char *value)
{
	char *esc = NULL, *np;
	size_t need;
	int r;

	if ((r = cli_escape(value, &esc)) != 0)
		return r;
	need = *len + strlen(name) + strlen(esc) + 3;
	if ((np = realloc(*p, need)) == NULL) {
		free(esc);
		return INK_ERR_ALLOC;
	}
	*p = np;
	*len += (size_t)snprintf(np + *len, need - *len, "%s%s=%s", *len > 0 ? "&" : "", name, esc);
	free(esc);
	return 0;
}

/* Waits for the browser's GET of CALLBACK_PATH on fd; its query into f. Anything else gets 404. */
static int
await_callback(struct cli_ctx *c, int fd, int wait_s, struct oauth_form *f)
{
	static const char done[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Cache-Control: no-store\r\nConnection: close\r\n\r\n<!DOCTYPE html><title>inkan</title>"
		"<p>You may close this window: inkan goes on in your terminal.</p>"
		"<p>このウィンドウを閉じてください。処理は端末で続きます。</p>\n";
	static const char missing[] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n";
	char *req = NULL, *q, *end;
	time_t until = time(NULL) + wait_s;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t got;
	size_t len;
	int cfd = -1, r = INK_ERR_INTERNAL;

	if ((req = malloc(REQUEST_MAX + 1)) == NULL)
		return INK_ERR_ALLOC;
	for (;;) {
		if (time(NULL) >= until) {
			r = cli_fail(c, INK_ERR_EXPIRED, "no answer from the browser within %d s", wait_s);
			break;
		}
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((cfd = accept(fd, NULL, NULL)) < 0)
			continue;
		/* the request line is all that is read: the answer is in its query */
		len = 0;
		while (len < REQUEST_MAX && memmem(req, len, "\r\n", 2) == NULL) {
			struct pollfd cp = { .fd = cfd, .events = POLLIN };

			if (poll(&cp, 1, 5000) <= 0 || (got = read(cfd, req + len, REQUEST_MAX - len)) <= 0)
				break;
			len += (size_t)got;
		}
		req[len] = '\0';
		if (strncmp(req, "GET " CALLBACK_PATH, 4 + sizeof(CALLBACK_PATH) - 1) != 0 ||
		    (end = strchr(req + 4, ' ')) == NULL) {
			if (write(cfd, missing, sizeof(missing) - 1) < 0)
				log_debug("the browser left before the answer");
			close(cfd);
			cfd = -1;
			continue;
		}
		q = req + 4 + sizeof(CALLBACK_PATH) - 1;
		if (*q == '?')
			q++;
		r = oauth_form_parse(q, (size_t)(end - q), 1024, f);
		if (write(cfd, done, sizeof(done) - 1) < 0)
			log_debug("the browser left before the answer");
		if (r != 0)
			r = cli_fail(c, INK_ERR_PROTOCOL, "a malformed answer came back to " CALLBACK_PATH);
		break;
	}
	if (cfd >= 0)
		close(cfd);
	OPENSSL_cleanse(req, REQUEST_MAX + 1);
	free(req);
	return r;
}

int
cli_browser_authorize(struct cli_ctx *c, const char *client_id, const char *cred,
                      const uint8_t *hash, size_t hash_len, const char *hash_oid,
                      const char *description, char **token)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	struct oauth_form f = { 0 };
	uint8_t rnd[32], dg[32];
	char verifier[B64_LEN(32) + 1], challenge[B64_LEN(32) + 1], state[B64_LEN(16) + 1];
	char hashes[B64_LEN(64) + 1], redirect[64], *q = NULL, *url = NULL, *form = NULL;
	const char *v, *wait_env = getenv("INKAN_BROWSER_WAIT");
	uint8_t *resp = NULL;
	size_t qlen = 0, flen = 0, rlen = 0;
	unsigned int dl = 0;
	json_t *j = NULL;
	int fd = -1, r, wait_s = WAIT_DEFAULT;

	*token = NULL;
	if (hash_len > 64)
		return INK_ERR_INVALID;
	if (wait_env != NULL && atoi(wait_env) > 0)
		wait_s = atoi(wait_env);
	/* PKCE (S256) and state: fresh for this one authorization */
	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	b64url(rnd, sizeof(rnd), verifier);
	if (EVP_Digest(verifier, strlen(verifier), dg, &dl, EVP_sha256(), NULL) != 1)
		return INK_ERR_CRYPTO;
	b64url(dg, sizeof(dg), challenge);
	if ((r = ink_random(rnd, 16)) != 0)
		return r;
	b64url(rnd, 16, state);
	b64url(hash, hash_len, hashes);
	/* RFC 8252 7.3: the loopback address with a port of the moment */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
		r = cli_fail(c, INK_ERR_IO, "cannot listen on 127.0.0.1: %s", strerror(errno));
		goto out;
	}
	snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%u" CALLBACK_PATH, ntohs(sa.sin_port));
	if ((r = add_param(&q, &qlen, "response_type", "code")) != 0 ||
	    (r = add_param(&q, &qlen, "client_id", client_id)) != 0 ||
	    (r = add_param(&q, &qlen, "redirect_uri", redirect)) != 0 ||
	    (r = add_param(&q, &qlen, "scope", "credential")) != 0 ||
	    (r = add_param(&q, &qlen, "credentialID", cred)) != 0 ||
	    (r = add_param(&q, &qlen, "numSignatures", "1")) != 0 ||
	    (r = add_param(&q, &qlen, "hashes", hashes)) != 0 ||
	    (r = add_param(&q, &qlen, "hashAlgorithmOID", hash_oid)) != 0 ||
	    (r = add_param(&q, &qlen, "description", description)) != 0 ||
	    (r = add_param(&q, &qlen, "state", state)) != 0 ||
	    (r = add_param(&q, &qlen, "code_challenge", challenge)) != 0 ||
	    (r = add_param(&q, &qlen, "code_challenge_method", "S256")) != 0)
		goto out;
	if (asprintf(&url, "%s/oauth2/authorize?%s", c->server, q) < 0) {
		url = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	fprintf(stderr, "Open this address in your browser, check the hash and sign there "
	        "(PIN and one-time password go to the service's page only):\n  %s\n", url);
	fflush(stderr);
	if ((r = await_callback(c, fd, wait_s, &f)) != 0)
		goto out;
	if ((v = oauth_form_get(&f, "state")) == NULL || strlen(v) != strlen(state) ||
	    CRYPTO_memcmp(v, state, strlen(state)) != 0) {
		r = cli_fail(c, INK_ERR_AUTH, "the answer in the browser is not for this request (state)");
		goto out;
	}
	if ((v = oauth_form_get(&f, "error")) != NULL) {
		r = cli_fail(c, INK_ERR_DENIED, "not signed: %s", strcmp(v, "access_denied") == 0 ?
		             "cancelled on the service's page" : "the service refused the request");
		goto out;
	}
	if ((v = oauth_form_get(&f, "code")) == NULL) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "no code came back from the browser");
		goto out;
	}
	if ((r = add_param(&form, &flen, "grant_type", "authorization_code")) != 0 ||
	    (r = add_param(&form, &flen, "code", v)) != 0 ||
	    (r = add_param(&form, &flen, "redirect_uri", redirect)) != 0 ||
	    (r = add_param(&form, &flen, "code_verifier", verifier)) != 0 ||
	    (r = add_param(&form, &flen, "client_id", client_id)) != 0)
		goto out;
	free(url);
	if (asprintf(&url, "%s/oauth2/token", c->server) < 0) {
		url = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http_post_bytes(c, url, "application/x-www-form-urlencoded", "application/json",
	                             (const uint8_t *)form, flen, &resp, &rlen)) != 0)
		goto out;
	if ((j = json_loadb((const char *)resp, rlen, 0, NULL)) == NULL ||
	    (v = json_string_value(json_object_get(j, "access_token"))) == NULL) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "oauth2/token: no access token in the answer");
		goto out;
	}
	if ((*token = secmem_strdup(v)) == NULL)
		r = INK_ERR_ALLOC;
out:
	if (fd >= 0)
		close(fd);
	oauth_form_free(&f);
	json_decref(j);
	if (resp != NULL)
		OPENSSL_clear_free(resp, rlen);
	if (form != NULL)
		OPENSSL_clear_free(form, flen);
	OPENSSL_cleanse(verifier, sizeof(verifier));
	free(q);
	free(url);
	return r;
}
