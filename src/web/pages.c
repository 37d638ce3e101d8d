/* pages: the consent and error pages, in Japanese and English. Built in one growing
 * string; every value from a request, the store or a certificate goes through html_text. */
#include "web/web.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "policy/policy.h"

struct html {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
html_raw(struct html *h, const char *s)
{
	size_t n = strlen(s), cap;
	char *np;

	if (h->oom)
		return;
	if (h->len + n + 1 > h->cap) {
		cap = h->cap == 0 ? 4096 : h->cap;
		while (h->len + n + 1 > cap)
			cap *= 2;
		if ((np = realloc(h->p, cap)) == NULL) {
			h->oom = true;
			return;
		}
		h->p = np;
		h->cap = cap;
	}
	memcpy(h->p + h->len, s, n + 1);
	h->len += n;
}

/* Text and attribute values: & < > " ' escaped, control characters dropped. */
static void
html_text(struct html *h, const char *s)
{
	char one[2] = { 0, 0 };

	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': html_raw(h, "&amp;"); break;
		case '<': html_raw(h, "&lt;"); break;
		case '>': html_raw(h, "&gt;"); break;
		case '"': html_raw(h, "&quot;"); break;
		case '\'': html_raw(h, "&#39;"); break;
		default:
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				break;
			one[0] = *s;
			html_raw(h, one);
		}
	}
}

static int
html_done(struct html *h, char **out)
{
	*out = NULL;
	if (h->oom || h->p == NULL) {
		free(h->p);
		return INK_ERR_ALLOC;
	}
	*out = h->p;
	return 0;
}

/* ---- words ---- */

enum word {
	W_TITLE_CONSENT, W_TITLE_ERROR, W_REQUESTS, W_USERNAME, W_PASSWORD, W_OTP,
	W_SIGNER, W_CREDENTIAL, W_SUBJECT, W_COUNT, W_DESCRIPTION, W_DOCUMENT, W_HASH_HEX,
	W_HASH_B64, W_ALGORITHM, W_PIN, W_ALLOW, W_CANCEL, W_CHECK, W_SERVICE, W_TITLE_GRANT,
	W_ASKS_SERVICE, W_MAY, W_MAY_LIST, W_MAY_INFO, W_MAY_NOT, W_GRANT, W_N_
};

static const char *const words[W_N_][2] = {
	[W_TITLE_CONSENT] = { "Authorize signatures", "署名の承認" },
	[W_TITLE_ERROR] = { "The request cannot be served", "このリクエストは処理できません" },
	[W_REQUESTS] = { "asks you to sign with your key.", "があなたの鍵による署名を求めています。" },
	[W_USERNAME] = { "User name", "ユーザー名" },
	[W_PASSWORD] = { "Password", "パスワード" },
	[W_OTP] = { "One-time password (authenticator app)", "ワンタイムパスワード（認証アプリ）" },
	[W_SIGNER] = { "Signer", "署名者" },
	[W_CREDENTIAL] = { "Credential", "署名鍵" },
	[W_SUBJECT] = { "Certificate subject", "証明書の主体者" },
	[W_COUNT] = { "Number of signatures", "署名の数" },
	[W_DESCRIPTION] = { "Description", "説明" },
	[W_DOCUMENT] = { "Document", "文書" },
	[W_HASH_HEX] = { "Hash (hex)", "ハッシュ値（16進）" },
	[W_HASH_B64] = { "Hash (base64)", "ハッシュ値（base64）" },
	[W_ALGORITHM] = { "Hash algorithm", "ハッシュアルゴリズム" },
	[W_PIN] = { "Signing PIN", "署名用PIN" },
	[W_ALLOW] = { "Sign", "署名する" },
	[W_CANCEL] = { "Cancel", "キャンセル" },
	[W_CHECK] = { "Compare each hash with the one your application shows before you sign.",
	              "署名する前に、各ハッシュ値がアプリケーションの表示と一致することを確認してください。" },
	[W_SERVICE] = { "inkan remote signing service", "inkan リモート署名サービス" },
	[W_TITLE_GRANT] = { "Allow access to your credentials", "署名鍵の情報へのアクセスの許可" },
	[W_ASKS_SERVICE] = { "asks to see your signing credentials.",
	                     "があなたの署名鍵の情報の参照を求めています。" },
	[W_MAY] = { "If you allow it, the application may:", "許可すると、このアプリケーションは次のことができます。" },
	[W_MAY_LIST] = { "list your credentials (their IDs, key algorithms and status)",
	                 "あなたの署名鍵の一覧（ID、鍵アルゴリズム、状態）を取得する" },
	[W_MAY_INFO] = { "read a credential's certificate and details",
	                 "署名鍵の証明書と詳細を参照する" },
	[W_MAY_NOT] = { "It cannot sign nor authorize a signature: every signature asks your PIN and a one-time password again, on this service's page.",
	                "署名することも、署名を承認することもできません。署名のたびに、このサービスのページでPINとワンタイムパスワードが改めて必要です。" },
	[W_GRANT] = { "Allow", "許可する" },
};

static const char *const msgs[][2] = {
	[WEB_MSG_NONE] = { "", "" },
	[WEB_MSG_LOGIN_FAILED] = { "Wrong user name, password or one-time password.",
	                           "ユーザー名、パスワードまたはワンタイムパスワードが正しくありません。" },
	[WEB_MSG_LOCKED] = { "This account is locked. Ask your registration officer.",
	                     "このアカウントはロックされています。登録担当者にお問い合わせください。" },
	[WEB_MSG_NOT_SIGNER] = { "Only a signer can authorize signatures.",
	                         "署名を承認できるのは署名者のみです。" },
	[WEB_MSG_AUTHZ_FAILED] = { "Wrong signing PIN or one-time password. Nothing was signed.",
	                           "署名用PINまたはワンタイムパスワードが正しくありません。署名は行われていません。" },
	[WEB_MSG_CRED_LOCKED] = { "This credential is locked after too many wrong PINs.",
	                          "PINの誤りが多すぎるため、この署名鍵はロックされています。" },
	[WEB_MSG_BAD_CLIENT] = { "The application that sent you here is not registered with this service.",
	                         "このサービスに登録されていないアプリケーションからのリクエストです。" },
	[WEB_MSG_BAD_REDIRECT] = { "The application asked to return to an address that is not registered for it. You were not sent there.",
	                           "アプリケーションが未登録の戻り先を指定しました。その宛先には移動しません。" },
	[WEB_MSG_BAD_REQUEST] = { "The application's request is incomplete or malformed.",
	                          "アプリケーションのリクエストが不完全または不正です。" },
	[WEB_MSG_NO_CREDENTIAL] = { "The requested credential is not one of yours, or cannot sign now.",
	                            "指定された署名鍵はあなたのものではないか、現在使用できません。" },
	[WEB_MSG_SESSION] = { "This page has expired or was not sent by this service. Start again from your application.",
	                      "このページは期限切れか、このサービスから送信されたものではありません。アプリケーションからやり直してください。" },
	[WEB_MSG_BUSY] = { "The service is busy. Try again in a moment.",
	                   "サービスが混み合っています。しばらくしてから再度お試しください。" },
	[WEB_MSG_INTERNAL] = { "The service could not complete the request.",
	                       "サービスはリクエストを完了できませんでした。" },
	[WEB_MSG_WRONG_ACCOUNT] = { "The application asked for another signer's signature, not yours. Nothing was signed.",
	                            "アプリケーションはあなたではなく別の署名者の署名を求めています。署名は行われていません。" },
};

static int
li(const char *lang)
{
	return lang != NULL && strcmp(lang, "ja") == 0 ? 1 : 0;
}

static const char *
w(const char *lang, enum word x)
{
	return words[x][li(lang)];
}

const char *
web_lang(const char *param, const char *accept)
{
	const char *p;

	if (param != NULL && (strcmp(param, "ja") == 0 || strncmp(param, "ja-", 3) == 0))
		return "ja";
	if (param != NULL && (strcmp(param, "en") == 0 || strncmp(param, "en-", 3) == 0))
		return "en";
	/* the first language of the list that is one of ours */
	for (p = accept; p != NULL && *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, "ja", 2) == 0 && (p[2] == '\0' || p[2] == '-' || p[2] == ';' || p[2] == ','))
			return "ja";
		if (strncasecmp(p, "en", 2) == 0 && (p[2] == '\0' || p[2] == '-' || p[2] == ';' || p[2] == ','))
			return "en";
		p = strchr(p, ',');
	}
	return "en";
}

int
web_nonce(char out[static WEB_NONCE_CHARS + 1])
{
	uint8_t raw[18];
	int r;

	out[0] = '\0';
	if ((r = ink_random(raw, sizeof(raw))) != 0)
		return r;
	out[b64_encode_to(raw, sizeof(raw), out)] = '\0';
	return 0;
}

static const char style[] =
	"body{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:0;background:#f4f4f1;color:#222}"
	"main{max-width:46rem;margin:2rem auto;background:#fff;border:1px solid #ccc;padding:1.5rem 2rem}"
	"h1{font-size:1.4rem;margin-top:0}header{color:#7a1f1f;font-weight:bold;margin-bottom:1rem}"
	"label{display:block;margin-top:.8rem;font-weight:bold}"
	"input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.4rem;font-size:1rem}"
	"table{border-collapse:collapse;width:100%;margin:.8rem 0}th,td{border:1px solid #ccc;padding:.3rem;"
	"text-align:left;vertical-align:top}code{font-family:monospace;word-break:break-all}"
	".msg{background:#fdecea;border:1px solid #d33;padding:.5rem;margin:.8rem 0}"
	".note{color:#555}button{margin-top:1rem;margin-right:1rem;padding:.5rem 1.5rem;font-size:1rem}";

static void
head(struct html *h, const char *lang, const char *nonce, const char *title)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"");
	html_text(h, lang);
	html_raw(h, "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
	            "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	html_text(h, title);
	html_raw(h, "</title><style nonce=\"");
	html_text(h, nonce);
	html_raw(h, "\">");
	html_raw(h, style);
	html_raw(h, "</style></head><body><main><header>");
	html_text(h, w(lang, W_SERVICE));
	html_raw(h, "</header><h1>");
	html_text(h, title);
	html_raw(h, "</h1>\n");
}

static void
message(struct html *h, const char *lang, enum web_msg m)
{
	if (m == WEB_MSG_NONE || (size_t)m >= INK_ARRAY_LEN(msgs))
		return;
	html_raw(h, "<p class=\"msg\" id=\"message\" role=\"alert\">");
	html_text(h, msgs[m][li(lang)]);
	html_raw(h, "</p>\n");
}

static void
requester(struct html *h, const char *lang, const char *client, enum word asks)
{
	html_raw(h, "<p><strong id=\"client\">");
	html_text(h, client);
	html_raw(h, "</strong> ");
	html_text(h, w(lang, asks));
	html_raw(h, "</p>\n");
}

static void
field(struct html *h, const char *lang, enum word label, const char *name, const char *type,
      const char *autocomplete)
{
	html_raw(h, "<label for=\"");
	html_raw(h, name);
	html_raw(h, "\">");
	html_text(h, w(lang, label));
	html_raw(h, "</label><input type=\"");
	html_raw(h, type);
	html_raw(h, "\" id=\"");
	html_raw(h, name);
	html_raw(h, "\" name=\"");
	html_raw(h, name);
	html_raw(h, "\" required autocomplete=\"");
	html_raw(h, autocomplete);
	html_raw(h, "\">\n");
}

/* The form of a step: its CSRF token, language and step name. */
static void
form_open(struct html *h, const char *csrf, const char *lang, const char *step)
{
	html_raw(h, "<form method=\"post\" action=\"/oauth2/authorize\">"
	            "<input type=\"hidden\" name=\"csrf_token\" value=\"");
	html_text(h, csrf);
	html_raw(h, "\"><input type=\"hidden\" name=\"lang\" value=\"");
	html_text(h, lang);
	html_raw(h, "\"><input type=\"hidden\" name=\"step\" value=\"");
	html_raw(h, step);
	html_raw(h, "\">\n");
}

/* The step's button (action, its label) beside Cancel, and the end of the page. */
static int
form_close(struct html *h, const char *lang, const char *action, enum word label, char **html)
{
	html_raw(h, "<button type=\"submit\" id=\"");
	html_raw(h, action);
	html_raw(h, "\" name=\"action\" value=\"");
	html_raw(h, action);
	html_raw(h, "\">");
	html_text(h, w(lang, label));
	html_raw(h, "</button><button type=\"submit\" id=\"cancel\" name=\"action\" value=\"cancel\" formnovalidate>");
	html_text(h, w(lang, W_CANCEL));
	html_raw(h, "</button></form></main></body></html>\n");
	return html_done(h, html);
}

/* Hex in groups of four characters, as a person compares them. */
static void
hex_groups(struct html *h, const uint8_t *d, size_t len)
{
	char hx[2 * 64 + 1], grp[6];
	size_t i;

	hex_encode(d, len, hx);
	for (i = 0; i < 2 * len; i += 4) {
		snprintf(grp, sizeof(grp), "%s%.4s", i > 0 ? " " : "", hx + i);
		html_raw(h, grp);
	}
}

static void
row(struct html *h, const char *lang, enum word label, const char *id, const char *value)
{
	html_raw(h, "<tr><th>");
	html_text(h, w(lang, label));
	html_raw(h, "</th><td id=\"");
	html_raw(h, id);
	html_raw(h, "\">");
	html_text(h, value);
	html_raw(h, "</td></tr>\n");
}

int
web_consent_page(const struct web_consent *p, char **html)
{
	const struct policy_hash_alg *alg = NULL;
	struct html h = { 0 };
	char num[32], *b64 = NULL;
	size_t i;

	head(&h, p->lang, p->nonce, w(p->lang, W_TITLE_CONSENT));
	requester(&h, p->lang, p->client_name, W_REQUESTS);
	message(&h, p->lang, p->msg);
	html_raw(&h, "<table>\n");
	if (p->username != NULL)
		row(&h, p->lang, W_SIGNER, "signer", p->username);
	row(&h, p->lang, W_CREDENTIAL, "credential", p->cred);
	if (p->cert_subject != NULL)
		row(&h, p->lang, W_SUBJECT, "subject", p->cert_subject);
	snprintf(num, sizeof(num), "%zu", p->n);
	row(&h, p->lang, W_COUNT, "count", num);
	if (p->hash_oid != NULL && p->hash_oid[0] != '\0')
		alg = policy_hash_by_oid(p->hash_oid);
	row(&h, p->lang, W_ALGORITHM, "algorithm",
	    alg != NULL ? alg->name : p->hash_oid != NULL && p->hash_oid[0] != '\0' ? p->hash_oid : "-");
	row(&h, p->lang, W_DESCRIPTION, "description",
	    p->description != NULL && p->description[0] != '\0' ? p->description : "-");
	html_raw(&h, "</table>\n<table id=\"hashes\"><tr><th>");
	html_text(&h, w(p->lang, W_DOCUMENT));
	html_raw(&h, "</th><th>");
	html_text(&h, w(p->lang, W_HASH_HEX));
	html_raw(&h, "</th><th>");
	html_text(&h, w(p->lang, W_HASH_B64));
	html_raw(&h, "</th></tr>\n");
	for (i = 0; i < p->n; i++) {
		snprintf(num, sizeof(num), "%zu", i + 1);
		html_raw(&h, "<tr class=\"hash\"><td>");
		html_raw(&h, num);
		if (p->labels != NULL && p->labels[i] != NULL && p->labels[i][0] != '\0') {
			html_raw(&h, " <span class=\"label\">");
			html_text(&h, p->labels[i]);
			html_raw(&h, "</span>");
		}
		html_raw(&h, "</td><td><code class=\"hex\">");
		hex_groups(&h, p->hashes[i], p->hash_lens[i]);
		html_raw(&h, "</code></td><td><code class=\"b64\">");
		if (b64_encode(p->hashes[i], p->hash_lens[i], &b64) == 0)
			html_text(&h, b64);
		else
			h.oom = true;
		free(b64);
		b64 = NULL;
		html_raw(&h, "</code></td></tr>\n");
	}
	html_raw(&h, "</table>\n<p class=\"note\">");
	html_text(&h, w(p->lang, W_CHECK));
	html_raw(&h, "</p>\n");
	form_open(&h, p->csrf, p->lang, "consent");
	if (p->username == NULL) {
		field(&h, p->lang, W_USERNAME, "username", "text", "username");
		field(&h, p->lang, W_PASSWORD, "password", "password", "current-password");
	}
	field(&h, p->lang, W_PIN, "pin", "password", "off");
	field(&h, p->lang, W_OTP, "otp", "text", "one-time-code");
	return form_close(&h, p->lang, "allow", W_ALLOW, html);
}

int
web_service_page(const struct web_service *p, char **html)
{
	struct html h = { 0 };

	head(&h, p->lang, p->nonce, w(p->lang, W_TITLE_GRANT));
	requester(&h, p->lang, p->client_name, W_ASKS_SERVICE);
	message(&h, p->lang, p->msg);
	html_raw(&h, "<p>");
	html_text(&h, w(p->lang, W_MAY));
	html_raw(&h, "</p>\n<ul id=\"scope\"><li>");
	html_text(&h, w(p->lang, W_MAY_LIST));
	html_raw(&h, "</li><li>");
	html_text(&h, w(p->lang, W_MAY_INFO));
	html_raw(&h, "</li></ul>\n<p class=\"note\" id=\"cannot\">");
	html_text(&h, w(p->lang, W_MAY_NOT));
	html_raw(&h, "</p>\n");
	form_open(&h, p->csrf, p->lang, "service");
	field(&h, p->lang, W_USERNAME, "username", "text", "username");
	field(&h, p->lang, W_PASSWORD, "password", "password", "current-password");
	field(&h, p->lang, W_OTP, "otp", "text", "one-time-code");
	return form_close(&h, p->lang, "allow", W_GRANT, html);
}

int
web_error_page(const char *lang, const char *nonce, enum web_msg msg, const char *detail,
               char **html)
{
	struct html h = { 0 };

	head(&h, lang, nonce, w(lang, W_TITLE_ERROR));
	message(&h, lang, msg);
	if (detail != NULL && detail[0] != '\0') {
		html_raw(&h, "<p class=\"note\" id=\"detail\">");
		html_text(&h, detail);
		html_raw(&h, "</p>\n");
	}
	html_raw(&h, "</main></body></html>\n");
	return html_done(&h, html);
}
