/* test_oauth: the OAuth module's rules without a server — the form parser, the hash lists,
 * PKCE (RFC 7636 appendix B), redirect URI rules and exact matching, and the state machine of
 * page sessions, codes and tokens on a real store (single use, replay revokes, CSRF, the rows
 * sealed under their values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oauth/oauth_int.h"

static void
test_form(void **state)
{
	struct oauth_form f;
	char big[3000];

	(void)state;
	assert_int_equal(oauth_form_parse("a=1&b=x+y%21&c=&d", 17, 100, &f), 0);
	assert_int_equal(f.n, 4);
	assert_string_equal(oauth_form_get(&f, "a"), "1");
	assert_string_equal(oauth_form_get(&f, "b"), "x y!");
	assert_string_equal(oauth_form_get(&f, "c"), "");
	assert_string_equal(oauth_form_get(&f, "d"), "");
	assert_null(oauth_form_get(&f, "e"));
	oauth_form_free(&f);
	/* RFC 6749 3.1: no parameter twice; malformed escapes, NULs and long values refused */
	assert_int_equal(oauth_form_parse("a=1&a=2", 7, 100, &f), INK_ERR_INVALID);
	assert_int_equal(f.n, 0);
	assert_int_equal(oauth_form_parse("a=%2", 4, 100, &f), INK_ERR_INVALID);
	assert_int_equal(oauth_form_parse("a=%zz", 5, 100, &f), INK_ERR_INVALID);
	assert_int_equal(oauth_form_parse("a=%00", 5, 100, &f), INK_ERR_INVALID);
	assert_int_equal(oauth_form_parse("=x", 2, 100, &f), INK_ERR_INVALID);
	assert_int_equal(oauth_form_parse("a=12345", 7, 4, &f), INK_ERR_INVALID);
	memset(big, 'a', sizeof(big));
	assert_int_equal(oauth_form_parse(big, sizeof(big), 100, &f), INK_ERR_INVALID);
	/* a length, not a C string: bytes after it are not read */
	assert_int_equal(oauth_form_parse("a=1&b=2", 3, 100, &f), 0);
	assert_int_equal(f.n, 1);
	oauth_form_free(&f);
	assert_int_equal(oauth_form_parse("&&", 2, 100, &f), 0);
	assert_int_equal(f.n, 0);
	memset(&f, 0, sizeof(f));
	assert_int_equal(oauth_form_add(&f, "k", "v%20w", 10), 0);
	assert_string_equal(oauth_form_get(&f, "k"), "v w");
	assert_int_equal(oauth_form_add(&f, "k", "x", 10), INK_ERR_INVALID);
	oauth_form_free(&f);
}

static void
test_hashes(void **state)
{
	uint8_t h[3][OAUTH_HASH_MAX];
	size_t lens[3], n = 9;

	(void)state;
	/* base64url without padding, as CSC v2 8.3.2 sends them, and standard base64 */
	assert_int_equal(oauth_hashes_parse("AAEC,_-8", h, lens, 3, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lens[0], 3);
	assert_int_equal(h[0][2], 2);
	assert_int_equal(lens[1], 2);
	assert_int_equal(h[1][0], 0xff);
	assert_int_equal(oauth_hashes_parse("AAEC,,AAEC", h, lens, 3, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_hashes_parse("AAEC,AAEC,AAEC,AAEC", h, lens, 3, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_hashes_parse("AA!C", h, lens, 3, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_hashes_parse("", h, lens, 3, &n), INK_ERR_INVALID);
	assert_int_equal(oauth_hashes_parse(NULL, h, lens, 3, &n), INK_ERR_INVALID);
	assert_int_equal(n, 0);
}

static void
test_pkce(void **state)
{
	(void)state;
	/* RFC 7636 appendix B */
	assert_true(oauth_pkce_verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	                              "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
	assert_false(oauth_pkce_verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	                               "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"));
	assert_false(oauth_pkce_verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "short"));
	assert_false(oauth_pkce_verify("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", NULL));
	assert_false(oauth_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
	assert_false(oauth_pkce_challenge_valid("plain"));
	assert_true(oauth_pkce_challenge_valid("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
}

static void
test_uris(void **state)
{
	struct store_oauth_client c;
	char origin[128], *loc = NULL;

	(void)state;
	assert_null(oauth_uri_problem("https://desk.example/cb"));
	assert_null(oauth_uri_problem("http://127.0.0.1:8080/cb"));
	assert_null(oauth_uri_problem("http://[::1]/cb"));
	assert_non_null(oauth_uri_problem("http://desk.example/cb"));
	assert_non_null(oauth_uri_problem("https://desk.example/cb#x"));
	assert_non_null(oauth_uri_problem("javascript:alert(1)"));
	assert_non_null(oauth_uri_problem("https://desk.example/c b"));
	assert_non_null(oauth_uri_problem("https:///cb"));
	memset(&c, 0, sizeof(c));
	strcpy(c.redirect_uris, "https://desk.example/cb\nhttp://127.0.0.1:9/x");
	assert_true(oauth_redirect_registered(&c, "https://desk.example/cb"));
	assert_true(oauth_redirect_registered(&c, "http://127.0.0.1:9/x"));
	assert_false(oauth_redirect_registered(&c, "https://desk.example/cb?x=1"));
	assert_false(oauth_redirect_registered(&c, "https://desk.example/c"));
	assert_false(oauth_redirect_registered(&c, "https://desk.example/cb\nhttp://127.0.0.1:9/x"));
	assert_false(oauth_redirect_registered(&c, NULL));
	/* RFC 8252 7.3: a loopback URI registered without a port, any port */
	strcpy(c.redirect_uris, "http://127.0.0.1/callback\nhttp://[::1]/cb");
	assert_true(oauth_redirect_registered(&c, "http://127.0.0.1:53682/callback"));
	assert_true(oauth_redirect_registered(&c, "http://[::1]:1/cb"));
	assert_true(oauth_redirect_registered(&c, "http://127.0.0.1/callback"));
	assert_false(oauth_redirect_registered(&c, "http://127.0.0.1:/callback"));
	assert_false(oauth_redirect_registered(&c, "http://127.0.0.1:123456/callback"));
	assert_false(oauth_redirect_registered(&c, "http://127.0.0.1:80/callback/x"));
	assert_false(oauth_redirect_registered(&c, "http://127.0.0.1:80/callbac"));
	assert_false(oauth_redirect_registered(&c, "http://127.0.0.1.evil:80/callback"));
	assert_int_equal(oauth_uri_origin("http://127.0.0.1:9/x?y", origin, sizeof(origin)), 0);
	assert_string_equal(origin, "http://127.0.0.1:9");
	assert_int_equal(oauth_uri_origin("https://desk.example/cb", origin, sizeof(origin)), 0);
	assert_string_equal(origin, "https://desk.example");
	assert_int_equal(oauth_redirect_build("https://d.example/cb?a=1", "code", "x y", "s&t", &loc), 0);
	assert_string_equal(loc, "https://d.example/cb?a=1&code=x%20y&state=s%26t");
	free(loc);
	assert_int_equal(oauth_redirect_build("https://d.example/cb", "error", "access_denied", "", &loc), 0);
	assert_string_equal(loc, "https://d.example/cb?error=access_denied");
	free(loc);
}

static const char verifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

static void
request(struct oauth_request *req)
{
	memset(req, 0, sizeof(*req));
	memset(req->client_id, 'c', STORE_ID_LEN);
	strcpy(req->redirect_uri, "https://desk.example/cb");
	strcpy(req->challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	strcpy(req->cred, "cred1");
	req->n = 1;
	req->hash_lens[0] = 32;
}

/* A fresh SQLite store in a temporary directory: the state lives in the store. */
struct fx {
	char dir[64], path[96];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/inkan-test-oauth-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/inkan.db", f->dir);
	if (store_open(f->path, &f->st) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	store_close(f->st);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_codes(void **state)
{
	struct fx *f = *state;
	struct store *s = f->st;
	struct oauth_request req;
	struct auth_principal who;
	struct oauth_token_info info;
	char sad[OAUTH_TOKEN_CHARS + 1], code[OAUTH_TOKEN_CHARS + 1], tok[OAUTH_TOKEN_CHARS + 1];
	const char *why;
	char client[STORE_ID_LEN + 1];
	struct store_oauth_flow fl;
	uint8_t h[32];
	bool found;

	request(&req);
	memcpy(client, req.client_id, sizeof(client));
	memset(&who, 0, sizeof(who));
	strcpy(who.username, "alice");
	memset(who.token_hash, 0xab, sizeof(who.token_hash));
	assert_int_equal(oauth_random_token(sad), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	/* another client, another redirect URI, a wrong verifier: each burns the code */
	assert_int_equal(oauth_code_redeem(s, code, "d", req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_AUTH);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_REPLAY);
	assert_string_equal(why, "code spent by a failed attempt");
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, "https://desk.example/cb2", verifier, tok,
	                                   &info, &why), INK_ERR_AUTH);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, "x" "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX",
	                                   tok, &info, &why), INK_ERR_AUTH);
	/* the right one: the token is the SAD */
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why), 0);
	assert_string_equal(tok, sad);
	assert_string_equal(info.who.username, "alice");
	assert_memory_equal(info.who.token_hash, who.token_hash, 32);
	assert_string_equal(info.cred, "cred1");
	assert_int_equal(oauth_token_find(s, tok, &info), 0);
	assert_string_equal(info.who.username, "alice");
	/* a replay revokes it, and says whose it was */
	memset(&info, 0, sizeof(info));
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_REPLAY);
	assert_string_equal(why, "code replayed: the token issued from it is revoked");
	assert_string_equal(info.who.username, "alice");
	assert_int_equal(oauth_token_find(s, sad, &info), INK_ERR_AUTH);
	/* unknown and malformed codes */
	assert_int_equal(oauth_code_redeem(s, "nope", client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_EXPIRED);
	assert_int_equal(oauth_random_token(code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_EXPIRED);
	/* an expired code */
	assert_int_equal(oauth_random_token(sad), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 1, code), 0);
	sleep(2);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_EXPIRED);
	assert_string_equal(why, "expired code");
	/* revocation by its own client only */
	assert_int_equal(oauth_random_token(sad), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why), 0);
	assert_int_equal(oauth_token_revoke(s, tok, "someone-else", &found), 0);
	assert_false(found);
	assert_int_equal(oauth_token_find(s, tok, &info), 0);
	assert_int_equal(oauth_token_revoke(s, tok, client, &found), 0);
	assert_true(found);
	assert_int_equal(oauth_token_find(s, tok, &info), INK_ERR_AUTH);
	assert_int_equal(oauth_token_revoke(s, tok, client, &found), 0);
	assert_false(found);
	/* replayed while the first attempt is still issuing its token (taken, not settled): the
	 * code is marked, and that attempt's settling from SPENT finds it so (oauth_code_redeem
	 * then revokes the token it issued) */
	assert_int_equal(oauth_random_token(sad), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(auth_token_hash(code, h), 0);
	assert_int_equal(s->ops->oauth_flow_take(s, STORE_FLOW_CODE, h, ink_now(), &fl), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_REPLAY);
	fl.state = STORE_FLOW_ISSUED;
	assert_int_equal(s->ops->oauth_flow_update(s, &fl, STORE_FLOW_SPENT), INK_ERR_NOT_FOUND);
	store_oauth_flow_clear(&fl);
}

/* The store holds no SAD: a code's row is sealed under the code, which only its hash names;
 * the row's body neither opens without the code nor serves another row. */
static void
test_code_sealed(void **state)
{
	struct fx *f = *state;
	struct store *s = f->st;
	struct oauth_request req;
	struct auth_principal who;
	struct oauth_token_info info;
	struct store_oauth_flow row, other;
	char sad[OAUTH_TOKEN_CHARS + 1], code[OAUTH_TOKEN_CHARS + 1], code2[OAUTH_TOKEN_CHARS + 1];
	char tok[OAUTH_TOKEN_CHARS + 1], *plain = NULL;
	const char *why;
	uint8_t h[32], h2[32];
	size_t i;

	request(&req);
	memset(&who, 0, sizeof(who));
	strcpy(who.username, "alice");
	assert_int_equal(oauth_random_token(sad), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code), 0);
	assert_int_equal(oauth_code_issue(s, &req, &who, sad, ink_now() + 300, 60, code2), 0);
	assert_int_equal(auth_token_hash(code, h), 0);
	assert_int_equal(auth_token_hash(code2, h2), 0);
	assert_int_equal(s->ops->oauth_flow_get(s, STORE_FLOW_CODE, h, &row), 0);
	assert_non_null(row.body);
	/* neither the SAD nor the code, nor the user's name, in the row */
	for (i = 0; i + OAUTH_TOKEN_CHARS <= row.body_len; i++) {
		assert_true(memcmp(row.body + i, sad, 8) != 0);
		assert_true(memcmp(row.body + i, code, 8) != 0);
		assert_true(memcmp(row.body + i, "alice", 5) != 0);
	}
	assert_int_equal(oauth_unseal(OAUTH_SEAL_CODE, code, h, row.body, row.body_len, &plain), 0);
	ink_freezero_str(plain);
	assert_int_equal(oauth_unseal(OAUTH_SEAL_CODE, code2, h, row.body, row.body_len, &plain),
	                 INK_ERR_STORE);
	assert_int_equal(oauth_unseal(OAUTH_SEAL_TOKEN, code, h, row.body, row.body_len, &plain),
	                 INK_ERR_STORE);
	/* the owner of the database moves code's body onto code2's row: code2 no longer opens */
	assert_int_equal(s->ops->oauth_flow_get(s, STORE_FLOW_CODE, h2, &other), 0);
	store_oauth_flow_clear(&other);
	other.body = row.body;
	other.body_len = row.body_len;
	assert_int_equal(s->ops->oauth_flow_update(s, &other, STORE_FLOW_LIVE), 0);
	assert_int_equal(oauth_code_redeem(s, code2, req.client_id, req.redirect_uri, verifier, tok,
	                                   &info, &why), INK_ERR_STORE);
	assert_string_equal(why, "the code's record does not open");
	assert_string_equal(tok, "");
	store_oauth_flow_clear(&row);
	/* code itself still serves */
	assert_int_equal(oauth_code_redeem(s, code, req.client_id, req.redirect_uri, verifier, tok,
	                                   &info, &why), 0);
	assert_string_equal(tok, sad);
	/* and its row no longer holds the SAD even sealed: what it gave only */
	assert_int_equal(s->ops->oauth_flow_get(s, STORE_FLOW_CODE, h, &row), 0);
	assert_int_equal(row.state, STORE_FLOW_ISSUED);
	assert_int_equal(oauth_unseal(OAUTH_SEAL_CODE, code, h, row.body, row.body_len, &plain), 0);
	assert_null(strstr(plain, sad));
	assert_null(strstr(plain, "\"sad\""));
	ink_freezero_str(plain);
	store_oauth_flow_clear(&row);
}

/* A service-scope code holds the grant's family, and no credential-scope token. */
static void
test_service_codes(void **state)
{
	struct fx *f = *state;
	struct store *s = f->st;
	struct oauth_request req;
	struct auth_principal who;
	struct oauth_token_info info;
	char family[STORE_ID_LEN + 1], code[OAUTH_TOKEN_CHARS + 1], tok[OAUTH_TOKEN_CHARS + 1];
	char client[STORE_ID_LEN + 1];
	const char *why;

	request(&req);
	req.service = true;
	req.cred[0] = '\0';
	req.n = 0;
	memcpy(client, req.client_id, sizeof(client));
	memset(&who, 0, sizeof(who));
	strcpy(who.username, "alice");
	assert_int_equal(oauth_service_family_new(family), 0);
	assert_int_equal(strlen(family), STORE_ID_LEN);
	assert_int_equal(strspn(family, "0123456789abcdef"), STORE_ID_LEN);
	assert_int_equal(oauth_code_issue(s, &req, &who, family, ink_now() + 86400, 60, code), 0);
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why), 0);
	assert_true(info.service);
	assert_string_equal(info.family, family);
	assert_string_equal(info.who.username, "alice");
	assert_string_equal(tok, "");                       /* the grant's tokens come from service.c */
	/* a replay names the family, for the caller to end the grant */
	memset(&info, 0, sizeof(info));
	assert_int_equal(oauth_code_redeem(s, code, client, req.redirect_uri, verifier, tok, &info, &why),
	                 INK_ERR_REPLAY);
	assert_true(info.service);
	assert_string_equal(info.family, family);
}

static void
test_pages(void **state)
{
	struct fx *f = *state;
	struct store *s = f->st;
	struct oauth_request req, got;
	char cookie[OAUTH_TOKEN_CHARS + 1], csrf[OAUTH_TOKEN_CHARS + 1], csrf2[OAUTH_TOKEN_CHARS + 1];
	char wrong[OAUTH_TOKEN_CHARS + 1];
	bool fresh, has_req;

	request(&req);
	req.hash_lens[0] = 3;
	memcpy(req.hashes[0], "\x01\x02\x03", 3);
	strcpy(req.labels[0], "contract.pdf");
	strcpy(req.description, "Lease <2026>");
	assert_int_equal(oauth_page_open(s, NULL, "192.0.2.1", &req, cookie, csrf, &fresh), 0);
	assert_true(fresh);
	/* CSRF: missing, wrong; unknown cookie */
	assert_int_equal(oauth_page_post(s, cookie, NULL, &got, &has_req), INK_ERR_DENIED);
	memcpy(wrong, csrf, sizeof(wrong));
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	assert_int_equal(oauth_page_post(s, cookie, wrong, &got, &has_req), INK_ERR_DENIED);
	assert_int_equal(oauth_page_post(s, csrf, csrf, &got, &has_req), INK_ERR_AUTH);
	assert_int_equal(oauth_page_post(s, cookie, csrf, &got, &has_req), 0);
	assert_true(has_req);
	/* the request comes back as it was shown */
	assert_string_equal(got.cred, "cred1");
	assert_string_equal(got.client_id, req.client_id);
	assert_string_equal(got.challenge, req.challenge);
	assert_string_equal(got.description, "Lease <2026>");
	assert_int_equal(got.n, 1);
	assert_int_equal(got.hash_lens[0], 3);
	assert_memory_equal(got.hashes[0], "\x01\x02\x03", 3);
	assert_string_equal(got.labels[0], "contract.pdf");
	oauth_page_done(s, cookie);
	assert_int_equal(oauth_page_post(s, cookie, csrf, &got, &has_req), 0);
	assert_false(has_req);
	/* the same browser: the page session is found again */
	assert_int_equal(oauth_page_open(s, cookie, "192.0.2.1", &req, wrong, csrf2, &fresh), 0);
	assert_false(fresh);
	assert_string_equal(wrong, "");
	/* a new request in the same page session: the form of the page showing the old one is
	 * refused (it must not answer a request the signer did not see) */
	assert_string_not_equal(csrf, csrf2);
	assert_int_equal(oauth_page_post(s, cookie, csrf, &got, &has_req), INK_ERR_DENIED);
	assert_int_equal(oauth_page_post(s, cookie, csrf2, &got, &has_req), 0);
	assert_true(has_req);
}

/* Full of opened pages: one address's flood pushes out only its own; pushed requests serve
 * once, for their own client only. */
static void
test_limits(void **state)
{
	struct fx *f = *state;
	struct store *s = f->st;
	struct oauth_request req, got;
	char first[OAUTH_TOKEN_CHARS + 1], cookie[OAUTH_TOKEN_CHARS + 1], csrf[OAUTH_TOKEN_CHARS + 1];
	char handle[OAUTH_TOKEN_CHARS + 1], uri[128], other[OAUTH_TOKEN_CHARS + 1];
	char other_csrf[OAUTH_TOKEN_CHARS + 1], first_csrf[OAUTH_TOKEN_CHARS + 1];
	bool fresh, has_req;
	size_t i;

	request(&req);
	assert_int_equal(oauth_page_open(s, NULL, "192.0.2.1", &req, first, first_csrf, &fresh), 0);
	/* a signer's page, opened from another address */
	assert_int_equal(oauth_page_open(s, NULL, "198.51.100.7", &req, other, other_csrf, &fresh), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(oauth_page_open(s, NULL, "192.0.2.1", &req, cookie, csrf, &fresh), 0);
	/* one address's flood pushed out only its own pages (the first of them) */
	assert_int_equal(oauth_page_post(s, other, other_csrf, &got, &has_req), 0);
	assert_true(has_req);
	assert_int_equal(oauth_page_post(s, first, first_csrf, &got, &has_req), INK_ERR_AUTH);
	assert_int_equal(oauth_page_post(s, cookie, csrf, &got, &has_req), 0);
	/* RFC 9126; one address cannot fill the table for every client */
	for (i = 0; i < 64; i++)
		assert_int_equal(oauth_par_push(s, "203.0.113.9", &req, handle), 0);
	assert_int_equal(oauth_par_push(s, "203.0.113.9", &req, handle), INK_ERR_BUSY);
	assert_int_equal(oauth_par_push(s, "192.0.2.1", &req, handle), 0);
	snprintf(uri, sizeof(uri), OAUTH_PAR_URN "%s", handle);
	assert_int_equal(oauth_par_take(s, uri, "another-client", &got), INK_ERR_EXPIRED);
	assert_int_equal(oauth_par_take(s, uri, req.client_id, &got), INK_ERR_EXPIRED);
	assert_int_equal(oauth_par_push(s, "192.0.2.1", &req, handle), 0);
	snprintf(uri, sizeof(uri), OAUTH_PAR_URN "%s", handle);
	assert_int_equal(oauth_par_take(s, uri, req.client_id, &got), 0);
	assert_string_equal(got.cred, "cred1");
	assert_int_equal(oauth_par_take(s, uri, req.client_id, &got), INK_ERR_EXPIRED);
	assert_int_equal(oauth_par_take(s, handle, req.client_id, &got), INK_ERR_EXPIRED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_pkce),
		cmocka_unit_test(test_uris),
		cmocka_unit_test_setup_teardown(test_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
