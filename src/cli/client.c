/* client: HTTPS requests to inkand with libcurl, JSON in and out, and the saved bearer token. */
#include "cli/cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_FILE_MAX 4096

int
cli_http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : INK_ERR_INTERNAL;
}

void
cli_http_global_cleanup(void)
{
	curl_global_cleanup();
}

void
cli_resp_free(struct cli_resp *resp)
{
	if (resp == NULL)
		return;
	json_decref(resp->json); /* jansson's allocator wipes (secmem_json_wipe_on_free) */
	resp->json = NULL;
	resp->status = 0;
}

int
cli_escape(const char *s, char **out)
{
	char *e = NULL, *p = NULL;

	*out = NULL;
	if (strlen(s) > 1024 || (e = curl_easy_escape(NULL, s, 0)) == NULL)
		return INK_ERR_INVALID;
	p = strdup(e);
	curl_free(e);
	if (p == NULL)
		return INK_ERR_ALLOC;
	*out = p;
	return 0;
}

/* libcurl write callback: the body goes into a capped, wiped buffer. */
static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ink_buf *b = arg;
	size_t n = size * nmemb;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (buf_put(b, ptr, n) != 0)
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	return n;
}

/* Wipes every header line we built (the bearer token is in one) before freeing the list. */
static void
slist_free_wipe(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next) {
		if (p->data != NULL)
			OPENSSL_cleanse(p->data, strlen(p->data));
	}
	curl_slist_free_all(l);
}

static int
status_err(long status)
{
	switch (status) {
	case 400:
	case 405:
	case 413:
		return INK_ERR_INVALID;
	case 401:
		return INK_ERR_AUTH;
	case 403:
		return INK_ERR_DENIED;
	case 404:
		return INK_ERR_NOT_FOUND;
	case 409:
		return INK_ERR_EXISTS;
	case 503:
		return INK_ERR_SAM_UNAVAILABLE;
	default:
		return INK_ERR_INTERNAL;
	}
}

/* "inkan: <error_description> (<error>)", or the bare status when the body is not ours. */
static int
report_error(struct cli_ctx *c, const struct cli_resp *resp)
{
	const char *err = cli_jstr(resp->json, "error");
	const char *desc = cli_jstr(resp->json, "error_description");

	c->reported = true;
	fputs("inkan: ", stderr);
	if (*err == '\0') {
		fprintf(stderr, "server answered HTTP %ld\n", resp->status);
		return status_err(resp->status);
	}
	cli_put_safe(stderr, *desc != '\0' ? desc : err);
	fputs(" (", stderr);
	cli_put_safe(stderr, err);
	fputs(")\n", stderr);
	return status_err(resp->status);
}

/* The options every request shares: TLS verification on, no redirects, timeouts, the body
 * into rsp (capped). */
static int
easy_setup(struct cli_ctx *c, CURL *h, const char *url, char *errbuf, struct curl_slist *headers,
           struct ink_buf *rsp)
{
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, CLI_REQUEST_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEDATA, rsp) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "inkan-cli/0.1") != CURLE_OK)
		return INK_ERR_INTERNAL;
	if (c->cacert != NULL && curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert) != CURLE_OK)
		return INK_ERR_INTERNAL;
	return 0;
}

/* One request to c->server + path; the answer's status in *status and its body in rsp
 * (capped at rsp->max). Transport failures are reported here; the status is the caller's. */
static int
http_perform(struct cli_ctx *c, const char *method, const char *path, const json_t *body,
             const char *accept, int auth, const char *basic_user, const char *basic_pw,
             long *status, struct ink_buf *rsp)
{
	struct ink_buf hdr;
	struct curl_slist *headers = NULL, *tmp = NULL;
	char errbuf[CURL_ERROR_SIZE], *url = NULL, *token = NULL, *reqbody = NULL, *acc = NULL;
	CURL *h = NULL;
	size_t n, reqlen = 0;
	int r = INK_ERR_INTERNAL;

	*status = 0;
	errbuf[0] = '\0';
	buf_init(&hdr, 8192, true);

	if (asprintf(&url, "%s%s", c->server, path) < 0) {
		url = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (auth == CLI_AUTH_BEARER && basic_user == NULL) {
		if ((r = cli_token_load(c, &token)) != 0)
			goto out;
		if ((r = buf_put(&hdr, "Authorization: Bearer ", 22)) != 0 ||
		    (r = buf_put(&hdr, token, strlen(token))) != 0 || (r = buf_put_u8(&hdr, 0)) != 0)
			goto out;
		if ((tmp = curl_slist_append(headers, (const char *)hdr.data)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		headers = tmp;
	}
	if (body != NULL) {
		/* Serialised into our own wiped buffer: bodies carry passwords. */
		if ((n = json_dumpb(body, NULL, 0, JSON_COMPACT)) == 0) {
			r = INK_ERR_INTERNAL;
			goto out;
		}
		if ((reqbody = malloc(n)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		reqlen = n;
		if (json_dumpb(body, reqbody, reqlen, JSON_COMPACT) != reqlen) {
			r = INK_ERR_INTERNAL;
			goto out;
		}
		if ((tmp = curl_slist_append(headers, "Content-Type: application/json")) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		headers = tmp;
	}
	if (asprintf(&acc, "Accept: %s", accept) < 0) {
		acc = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((tmp = curl_slist_append(headers, acc)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	headers = tmp;

	if ((h = curl_easy_init()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	r = INK_ERR_INTERNAL;
	if (easy_setup(c, h, url, errbuf, headers, rsp) != 0 ||
	    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
		goto out;
	if (body != NULL &&
	    (curl_easy_setopt(h, CURLOPT_POSTFIELDS, reqbody) != CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)reqlen) != CURLE_OK))
		goto out;
	if (body == NULL && strcmp(method, "POST") == 0 &&
	    (curl_easy_setopt(h, CURLOPT_POSTFIELDS, "") != CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0) != CURLE_OK))
		goto out;
	if (basic_user != NULL &&
	    (curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_USERNAME, basic_user) != CURLE_OK ||
	     curl_easy_setopt(h, CURLOPT_PASSWORD, basic_pw != NULL ? basic_pw : "") != CURLE_OK))
		goto out;

	switch (curl_easy_perform(h)) {
	case CURLE_OK:
		break;
	case CURLE_WRITE_ERROR:
		r = cli_fail(c, INK_ERR_TOO_LARGE, "answer from %s too large", c->server);
		goto out;
	default:
		r = cli_fail(c, INK_ERR_IO, "cannot reach %s: %s", c->server,
		             errbuf[0] != '\0' ? errbuf : "transfer failed");
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
		goto out;
	r = 0;
out:
	curl_easy_cleanup(h);
	slist_free_wipe(headers);
	if (reqbody != NULL)
		OPENSSL_cleanse(reqbody, reqlen);
	free(reqbody);
	free(acc);
	buf_free(&hdr);
	secmem_free(token);
	free(url);
	return r;
}

int
cli_http(struct cli_ctx *c, const char *method, const char *path, const json_t *body,
         int auth, const char *basic_user, const char *basic_pw, struct cli_resp *resp)
{
	struct ink_buf rsp;
	long status = 0;
	int r;
	json_error_t jerr;

	memset(resp, 0, sizeof(*resp));
	buf_init(&rsp, CLI_RESP_MAX, true);
	if ((r = http_perform(c, method, path, body, "application/json", auth, basic_user, basic_pw,
	                      &status, &rsp)) != 0)
		goto out;
	resp->status = status;
	if (rsp.len > 0) {
		resp->json = json_loadb((const char *)rsp.data, rsp.len, JSON_REJECT_DUPLICATES, &jerr);
		if (resp->json == NULL) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "server answered HTTP %ld with a body that is not JSON",
			             status);
			goto out;
		}
	}
	if (status < 200 || status > 299) {
		r = report_error(c, resp);
		goto out;
	}
	r = 0;
out:
	buf_free(&rsp);
	return r;
}

int
cli_http_raw(struct cli_ctx *c, const char *path, const char *accept, int auth, uint8_t **out,
             size_t *outlen)
{
	struct ink_buf rsp;
	struct cli_resp resp;
	uint8_t *p = NULL;
	long status = 0;
	int r;
	json_error_t jerr;

	*out = NULL;
	*outlen = 0;
	memset(&resp, 0, sizeof(resp));
	buf_init(&rsp, CLI_RESP_MAX, false);
	if ((r = http_perform(c, "GET", path, NULL, accept, auth, NULL, NULL, &status, &rsp)) != 0)
		goto out;
	if (status < 200 || status > 299) {
		/* Errors are JSON even here; anything else is reported by its status alone. */
		resp.status = status;
		if (rsp.len > 0)
			resp.json = json_loadb((const char *)rsp.data, rsp.len, JSON_REJECT_DUPLICATES, &jerr);
		r = report_error(c, &resp);
		goto out;
	}
	if ((p = malloc(rsp.len + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (rsp.len > 0)
		memcpy(p, rsp.data, rsp.len);
	p[rsp.len] = '\0';
	*out = p;
	*outlen = rsp.len;
	r = 0;
out:
	cli_resp_free(&resp);
	buf_free(&rsp);
	return r;
}

/* ---- the saved token ---- */

int
cli_token_load(struct cli_ctx *c, char **out)
{
	const char *env = getenv("INKAN_TOKEN");
	char *data = NULL, *tok = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (c->bearer != NULL) {
		if ((tok = secmem_strdup(c->bearer)) == NULL)
			return INK_ERR_ALLOC;
		*out = tok;
		return 0;
	}
	if (env != NULL && *env != '\0') {
		if ((tok = secmem_strdup(env)) == NULL)
			return INK_ERR_ALLOC;
		*out = tok;
		return 0;
	}
	if (c->token_file == NULL)
		return cli_fail(c, INK_ERR_AUTH, "not logged in: no token file (set HOME or --token-file)");
	r = ink_read_file(c->token_file, TOKEN_FILE_MAX, &data, &len);
	if (r == INK_ERR_NOT_FOUND) {
		r = cli_fail(c, INK_ERR_AUTH, "not logged in: run `inkan login USER` first");
		goto out;
	}
	if (r != 0) {
		r = cli_fail(c, r, "cannot read token file %s: %s", c->token_file, ink_err_str(r));
		goto out;
	}
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (len == 0 || strchr(data, '\n') != NULL || strchr(data, '\r') != NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "token file %s is malformed", c->token_file);
		goto out;
	}
	if ((tok = secmem_strdup(data)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	*out = tok;
	r = 0;
out:
	ink_freezero_str(data);
	return r;
}

/* mkdir -p for the parent of path: missing directories are made 0700, existing ones left alone. */
static int
make_parents(const char *path)
{
	char dir[1024], *p;
	struct stat st;

	if (strlen(path) >= sizeof(dir))
		return INK_ERR_TOO_LARGE;
	memcpy(dir, path, strlen(path) + 1);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : INK_ERR_IO;
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return INK_ERR_IO;
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return INK_ERR_IO;
	return 0;
}

int
cli_token_save(struct cli_ctx *c, const char *token)
{
	struct ink_buf b;
	int r;

	buf_init(&b, TOKEN_FILE_MAX, true);
	if (c->token_file == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "no token file (set HOME or --token-file)");
		goto out;
	}
	if ((r = make_parents(c->token_file)) != 0) {
		r = cli_fail(c, r, "cannot create the directory of %s", c->token_file);
		goto out;
	}
	if ((r = buf_put(&b, token, strlen(token))) != 0 || (r = buf_put_u8(&b, '\n')) != 0)
		goto out;
	if ((r = ink_write_file(c->token_file, b.data, b.len, 0600)) != 0) {
		r = cli_fail(c, r, "cannot write token file %s: %s", c->token_file, ink_err_str(r));
		goto out;
	}
	r = 0;
out:
	buf_free(&b);
	return r;
}

int
cli_token_delete(struct cli_ctx *c)
{
	if (c->token_file == NULL)
		return 0;
	if (unlink(c->token_file) != 0 && errno != ENOENT)
		return cli_fail(c, INK_ERR_IO, "cannot delete token file %s: %s", c->token_file,
		                strerror(errno));
	return 0;
}

int
cli_http_post_bytes(struct cli_ctx *c, const char *url, const char *type, const char *accept,
                    const uint8_t *body, size_t len, uint8_t **out, size_t *outlen)
{
	struct ink_buf rsp;
	struct curl_slist *headers = NULL, *tmp;
	char errbuf[CURL_ERROR_SIZE], ct[128], acc[128];
	CURL *h = NULL;
	long status = 0;
	int r = INK_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	errbuf[0] = '\0';
	buf_init(&rsp, CLI_RESP_MAX, false);
	snprintf(ct, sizeof(ct), "Content-Type: %s", type);
	snprintf(acc, sizeof(acc), "Accept: %s", accept);
	if ((headers = curl_slist_append(NULL, ct)) == NULL ||
	    (tmp = curl_slist_append(headers, acc)) == NULL || (h = curl_easy_init()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	headers = tmp;
	if (easy_setup(c, h, url, errbuf, headers, &rsp) != 0 ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK)
		goto out;
	if (curl_easy_perform(h) != CURLE_OK) {
		r = cli_fail(c, INK_ERR_IO, "cannot reach %s: %s", url,
		             errbuf[0] != '\0' ? errbuf : "transfer failed");
		goto out;
	}
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		goto out;
	if (status < 200 || status > 299) {
		r = cli_fail(c, status_err(status), "%s answered HTTP %ld", url, status);
		goto out;
	}
	if ((*out = malloc(rsp.len + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*out, rsp.data, rsp.len);
	*outlen = rsp.len;
	r = 0;
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	buf_free(&rsp);
	return r;
}
