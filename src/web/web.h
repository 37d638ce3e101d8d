/* web: the signer's own pages (server-rendered HTML, Japanese and English): consent and
 * error pages of the OAuth authorization endpoint. Self-contained — no script, no external
 * resource, one inline style allowed by a per-response nonce; every value is HTML-escaped. */
#ifndef INKAN_WEB_H
#define INKAN_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_NONCE_CHARS 24        /* base64 of 18 random bytes */

/* "ja" or "en": the lang parameter when it names one, else the first of them in
 * Accept-Language (either may be NULL), else "en". */
const char *web_lang(const char *param, const char *accept_language);

/* What a page says besides its form (a refusal to show the signer), NULL-able. */
enum web_msg {
	WEB_MSG_NONE = 0,
	WEB_MSG_LOGIN_FAILED,         /* wrong user name, password or one-time password */
	WEB_MSG_LOCKED,               /* account locked */
	WEB_MSG_NOT_SIGNER,           /* only a signer may authorize signatures */
	WEB_MSG_AUTHZ_FAILED,         /* wrong PIN or one-time password */
	WEB_MSG_CRED_LOCKED,          /* the credential is locked (too many wrong PINs) */
	WEB_MSG_BAD_CLIENT,           /* unknown client_id */
	WEB_MSG_BAD_REDIRECT,         /* redirect_uri not registered for the client */
	WEB_MSG_BAD_REQUEST,          /* other bad request parameters */
	WEB_MSG_NO_CREDENTIAL,        /* the credential is not the signer's, or not usable */
	WEB_MSG_SESSION,              /* page session expired or CSRF token missing */
	WEB_MSG_BUSY,                 /* try again later */
	WEB_MSG_INTERNAL,             /* the service failed */
	WEB_MSG_WRONG_ACCOUNT,        /* the client's account_token names another signer */
};

/* The consent page (*html malloc'd on success): what is to be signed, and a form for the PIN
 * and one OTP — for a signer not known yet (username NULL) also user name and password, in
 * the same form (one TOTP step per consent). */
struct web_consent {
	const char *lang, *nonce, *csrf, *client_name;
	const char *username;          /* the logged-in signer; NULL: the form asks who they are */
	const char *cred, *cert_subject, *hash_oid, *description;   /* cert_subject NULL: not shown */
	const uint8_t *const *hashes;
	const size_t *hash_lens;
	const char *const *labels;     /* each document's label ("" none); NULL: none at all */
	size_t n;
	enum web_msg msg;
};
int web_consent_page(const struct web_consent *p, char **html);

/* The service scope's consent page: what the client may do (list and read the signer's
 * credentials) and may not (sign), and a form for user name, password and one OTP. */
struct web_service {
	const char *lang, *nonce, *csrf, *client_name;
	enum web_msg msg;
};
int web_service_page(const struct web_service *p, char **html);

/* An error page (no form; never redirects anywhere). detail: an extra line (escaped), NULL-able. */
int web_error_page(const char *lang, const char *nonce, enum web_msg msg, const char *detail,
                   char **html);

/* A fresh nonce for the page's Content-Security-Policy. */
int web_nonce(char out[static WEB_NONCE_CHARS + 1]);

#endif
