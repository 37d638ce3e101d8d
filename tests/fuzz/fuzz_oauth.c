/* fuzz_oauth: the OAuth parameter parsers — an application/x-www-form-urlencoded body or query
 * (oauth_form_parse) and the authorization request read from it (srv_oauth_read_request, with
 * RFC 9396 authorization_details), a CSC hash list (oauth_hashes_parse), a PKCE pair, a redirect URI (its
 * checks, origin and the redirect built on it), Accept-Language — and the consent page
 * and the service scope's page rendering the parsed values (every one HTML-escaped).
 * Input: one byte picks the parser, the rest is its text. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "oauth/oauth.h"
#include "server/server.h"
#include "web/web.h"

static void
page(const struct oauth_form *f)
{
	uint8_t h[4][OAUTH_HASH_MAX];
	const uint8_t *hp[4] = { h[0], h[1], h[2], h[3] };
	size_t lens[4], n = 0;
	char *html = NULL;
	struct web_consent p = {
		.lang = web_lang(oauth_form_get(f, "lang"), oauth_form_get(f, "accept")),
		.nonce = "bm9uY2U", .csrf = oauth_form_get(f, "csrf"),
		.client_name = oauth_form_get(f, "client"), .username = oauth_form_get(f, "user"),
		.cred = oauth_form_get(f, "credentialID"), .cert_subject = oauth_form_get(f, "subject"),
		.hash_oid = oauth_form_get(f, "hashAlgorithmOID"),
		.description = oauth_form_get(f, "description"), .hashes = hp, .hash_lens = lens,
	};

	if (oauth_hashes_parse(oauth_form_get(f, "hashes"), h, lens, 4, &n) == 0)
		p.n = n;
	if (web_consent_page(&p, &html) == 0) {
		/* nothing of the input opens a tag */
		if (strstr(html, "<script") != NULL)
			abort();
		free(html);
	}
	{
		struct web_service sp = {
			.lang = p.lang, .nonce = p.nonce, .csrf = p.csrf, .client_name = p.client_name,
		};

		html = NULL;
		if (web_service_page(&sp, &html) == 0) {
			if (strstr(html, "<script") != NULL)
				abort();
			free(html);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_form f;
	uint8_t h[8][OAUTH_HASH_MAX];
	size_t lens[8], n;
	char *text, *sep, origin[OAUTH_URI_MAX + 1], *loc = NULL;

	fuzz_init();
	if (size < 1 || (text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		/* a length, not a C string: the parser must not read past it */
		if (oauth_form_parse((const char *)data + 1, size - 1, 16384, &f) == 0) {
			struct oauth_request *req = calloc(1, sizeof(*req));
			const char *error = NULL;

			/* the request as the authorization and PAR endpoints read it (RFC 9396 JSON too) */
			if (req != NULL && srv_oauth_read_request(&f, req, &error) == NULL &&
			    (req->n == 0 || req->n > OAUTH_HASHES_MAX))
				abort();
			free(req);
			page(&f);
			oauth_form_free(&f);
		}
		break;
	case 1:
		if (oauth_hashes_parse(text, h, lens, 8, &n) == 0 && n > 8)
			abort();
		break;
	case 2:
		if ((sep = strchr(text, '\n')) != NULL) {
			*sep = '\0';
			if (oauth_pkce_verify(text, sep + 1) && !oauth_pkce_challenge_valid(text))
				abort();
		}
		break;
	case 3:
		if (oauth_uri_problem(text) == NULL && oauth_uri_origin(text, origin, sizeof(origin)) == 0 &&
		    oauth_redirect_build(text, "code", text, text, &loc) == 0)
			free(loc);
		break;
	default:
		(void)web_lang(text, text);
		break;
	}
	free(text);
	return 0;
}
