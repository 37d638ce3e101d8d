/* cli: the inkan command's shared context, subcommand table entry, HTTP client and prompts. */
#ifndef INKAN_CLI_H
#define INKAN_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/common.h"

/* A command-line usage error: exit status 2. Outside the INK_ERR_* range on purpose. */
#define CLI_ERR_USAGE (-100)

/* A check that passed but proves nothing without a trust anchor (`audit verify` with neither
 * --key nor --fingerprint): exit status 3, the message already printed. */
#define CLI_ERR_UNPROVEN (-101)

/* Exit statuses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_UNPROVEN 3

/* Response bodies larger than this are refused. */
#define CLI_RESP_MAX (16u * 1024u * 1024u)
/* Seconds to wait for a TCP + TLS connection, and for a whole request. */
#define CLI_CONNECT_TIMEOUT 10L
#define CLI_REQUEST_TIMEOUT 120L

/* ---- context shared by every subcommand, filled from the global options ---- */

struct cli_ctx {
	const char *server;         /* base URL, no trailing slash */
	bool server_given;          /* --server or INKAN_SERVER, not the default */
	const char *cacert;         /* CA bundle for the server's certificate; NULL: system store */
	const char *token_file;     /* where `login` saves and other commands read the token */
	const char *password_file;  /* --password-file, or NULL */
	bool json;                  /* machine output */
	bool reported;              /* an error message has already been printed */
	const char *bearer;         /* when set, the bearer token instead of the saved one (an OAuth access token) */
	char server_buf[1024];
	char token_path_buf[1024];
};

/* One subcommand: argv[0] is its own name, options follow (getopt-ready). Returns 0,
 * CLI_ERR_USAGE, or a negative INK_ERR_* (its message printed with cli_fail when possible). */
struct cli_cmd {
	const char *name;
	int (*fn)(struct cli_ctx *c, int argc, char **argv);
	const char *help;
};

int cmd_init(struct cli_ctx *c, int argc, char **argv);
int cmd_login(struct cli_ctx *c, int argc, char **argv);
int cmd_logout(struct cli_ctx *c, int argc, char **argv);
int cmd_passwd(struct cli_ctx *c, int argc, char **argv);
int cmd_user(struct cli_ctx *c, int argc, char **argv);
int cmd_role(struct cli_ctx *c, int argc, char **argv);
int cmd_client(struct cli_ctx *c, int argc, char **argv);
/* `inkan sign --browser`: the signer authorizes exactly this hash on the service's page; the
 * CLI (an OAuth public client, client_id) takes the code on a loopback port and returns the
 * access token (secmem) in *token (browser.c). */
int cli_browser_authorize(struct cli_ctx *c, const char *client_id, const char *cred,
                          const uint8_t *hash, size_t hash_len, const char *hash_oid,
                          const char *description, char **token) INK_WUR;
int cmd_audit(struct cli_ctx *c, int argc, char **argv);
/* audit sub-commands (audit_export.c, audit_verify.c, audit_proof.c) */
int cli_audit_export(struct cli_ctx *c, int argc, char **argv);
/* A decimal number within [lo, hi] (audit.c). */
int cli_audit_num(const char *s, long long lo, long long hi, long long *out) INK_WUR;
int cli_audit_verify(struct cli_ctx *c, int argc, char **argv);
int cli_audit_proof(struct cli_ctx *c, int argc, char **argv);
int cli_audit_consistency(struct cli_ctx *c, int argc, char **argv);
int cmd_info(struct cli_ctx *c, int argc, char **argv);
int cmd_whoami(struct cli_ctx *c, int argc, char **argv);
int cmd_enrol(struct cli_ctx *c, int argc, char **argv);
int cmd_key(struct cli_ctx *c, int argc, char **argv);
int cmd_backup(struct cli_ctx *c, int argc, char **argv);
int cmd_ca(struct cli_ctx *c, int argc, char **argv);
int cmd_verify(struct cli_ctx *c, int argc, char **argv);
int cmd_sign(struct cli_ctx *c, int argc, char **argv);
int cmd_compliance(struct cli_ctx *c, int argc, char **argv);
int cmd_extend(struct cli_ctx *c, int argc, char **argv);

/* An RFC 3161 time-stamp token (DER, malloc'd) over the SHA-256 md: from the TSA at tsa (a
 * URL), or when tsa is NULL from the service's signatures/timestamp (tstamp.c). */
int cli_timestamp(struct cli_ctx *c, const char *tsa, const uint8_t md[static 32],
                  uint8_t **token, size_t *token_len) INK_WUR;
/* Raises the CAdES signature in *der (one signer; replaced on success) to B-LT — a signature
 * time-stamp first when it has none, then the validation data of every certificate of the
 * signer's and the time-stamps' chains, fetched from their own URLs — and, with lta, adds an
 * archive-time-stamp-v3 over everything (renewing an LTA). doc: the detached document, or NULL
 * (extend.c). */
int cli_cades_extend(struct cli_ctx *c, uint8_t **der, size_t *len, bool lta, const char *tsa,
                     const uint8_t *doc, size_t doc_len) INK_WUR;
/* The same on the file at path, written to output (refused when it exists) or, when output is
 * NULL, replacing path only once complete; doc_path: the detached document, or NULL. */
int cli_cades_extend_file(struct cli_ctx *c, const char *path, const char *output, bool lta,
                          const char *tsa, const char *doc_path) INK_WUR;

/* An RFC 3161 time-stamp token (DER, malloc'd) over the SHA-256 md: from the TSA at tsa (a
 * URL), or when tsa is NULL from the service's signatures/timestamp (tstamp.c). */
int cli_timestamp(struct cli_ctx *c, const char *tsa, const uint8_t md[static 32],
                  uint8_t **token, size_t *token_len) INK_WUR;
/* Writes data to path through a temporary file renamed into place (replace_ok: an existing
 * path is replaced, else refused) (extend.c). */
int cli_write_atomic(struct cli_ctx *c, const char *path, const uint8_t *data, size_t len,
                     bool replace_ok) INK_WUR;
/* A list of verify_blob views of l's DER objects (*out malloc'd; the data stays l's). */
struct verify_blob;
struct formats_der_list;
int cli_blobs_of(const struct formats_der_list *l, struct verify_blob **out) INK_WUR;

/* ---- XAdES long-term signatures (extend_xades.c) ---- */

struct formats_xades;
/* Raises the XAdES signature x to B-LT — a SignatureTimeStamp first when it has none, then
 * CertificateValues and RevocationValues for the signer's chain and a TimeStampValidationData
 * for the time-stamps' chains (only what is missing, fetched from the certificates' own URLs)
 * — and, with lta, adds an ArchiveTimeStamp over everything (renewing a B-LTA). doc: the
 * detached document, or NULL. */
int cli_xades_extend(struct cli_ctx *c, struct formats_xades *x, bool lta, const char *tsa,
                     const uint8_t *doc, size_t doc_len) INK_WUR;
/* The same on the XML file at path, written to output (refused when it exists) or, when
 * output is NULL, replacing path once complete; doc_path: the detached document, or NULL. */
int cli_xades_extend_file(struct cli_ctx *c, const char *path, const char *output, bool lta,
                          const char *tsa, const char *doc_path) INK_WUR;

/* How the signer authorizes one hash: browser NULL (or how NULL): the CLI asks for the signing
 * PIN and OTP and sends them (credentials/authorize); else the OAuth public client browser, the
 * signer entering them on the service's page, which names file (its base name only). */
struct cli_sign_auth {
	const char *browser;
	const char *file;
};
/* Signs one hash (md_len bytes of the digest hash_oid) with credential cred through the CSC
 * API: authorized for exactly that hash as how says, then signatures/signHash with algo (a
 * dotted OID; params: its DER parameters or NULL). The signature value (malloc'd) into *sig
 * (signhash.c). */
int cli_sign_hash(struct cli_ctx *c, const struct cli_sign_auth *how, const char *cred,
                  const uint8_t *md, size_t md_len, const char *hash_oid, const char *algo,
                  const uint8_t *params, size_t plen, uint8_t **sig, size_t *sig_len) INK_WUR;
/* Asks "Sign this? [y/N]" on the terminal; without one, yes is required (sign.c). */
int cli_sign_confirm(struct cli_ctx *c, bool yes) INK_WUR;

/* What `inkan sign --format xades` signs, with whose credential (sign_xades.c). */
struct cli_xades_job {
	const char *file, *output, *cred, *tsa;
	const uint8_t *const *certs;   /* the credential's chain, signer first (DER) */
	const size_t *cert_lens;
	size_t ncerts;
	const char *signer, *subject;  /* who signs, for the summary shown before signing */
	int place;                     /* enum formats_xades_place */
	bool bt, yes;
	bool pss;                      /* an RSA key signs with RSASSA-PSS */
	int lt;                        /* 0: B-B or B-T, 1: B-LT, 2: B-LTA */
	const char *level;             /* the level's name */
	struct cli_sign_auth how;      /* PIN and OTP here, or on the service's page */
};
/* Signs job->file as XAdES B-B, B-T, B-LT or B-LTA into job->output (never an existing file). */
int cli_sign_xades(struct cli_ctx *c, const struct cli_xades_job *job) INK_WUR;

/* getopt_long() with two differences: a long option must be spelled out in full (glibc takes any
 * unambiguous prefix, so `--password SECRET` would become --password-file), and an unknown
 * option is reported on stderr by name only, never with a value. '?' after reporting. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* ---- messages and output ---- */

/* Prints "inkan: <message>" on stderr, marks the error reported and returns err. */
int cli_fail(struct cli_ctx *c, int err, const char *fmt, ...) INK_PRINTF(3, 4);
/* True for a lone "--help" or "-h" argument: the command then prints its usage on stdout. */
bool cli_want_help(int argc, char **argv);
/* Prints "usage: inkan <usage>" on stderr and returns CLI_ERR_USAGE. */
int cli_usage(const char *usage);
/* Writes s to f with control characters replaced by '?' (server text never drives the terminal). */
void cli_put_safe(FILE *f, const char *s);
/* Like cli_put_safe, then spaces up to width characters (at least one separating space). */
void cli_put_cell(FILE *f, const char *s, size_t width);
/* A string member of obj, or "" if absent or not a string. */
const char *cli_jstr(const json_t *obj, const char *key);
/* A time member of obj (RFC 3339 string, or seconds since the epoch) as text in buf; "-" if absent. */
const char *cli_jtime(const json_t *obj, const char *key, char buf[static 21]);
/* Prints an account object (docs/api.md) as aligned "field  value" lines. */
void cli_print_account(const json_t *acct);
/* Pretty-prints j (JSON_INDENT(2)) and a newline on stdout. */
int cli_print_json(const json_t *j) INK_WUR;
/* Comma-separated strings of a JSON array into out[outsz] ("-" when empty). */
void cli_jstrings(const json_t *arr, char *out, size_t outsz);
/* Prints the one-time secrets of a new account (password, TOTP secret, otpauth URI, a QR code
 * on a terminal) from a JSON object holding "password", "totp_secret", "otpauth_uri". */
void cli_print_secrets(const char *username, const char *password, const char *totp_secret,
                       const char *otpauth_uri);

/* ---- HTTP client (libcurl; TLS verification always on) ---- */

struct cli_resp {
	long status;   /* HTTP status */
	json_t *json;  /* parsed body, or NULL for an empty body */
};

#define CLI_AUTH_NONE 0
#define CLI_AUTH_BEARER 1

/* One request to c->server + path. body (may be NULL) is sent as JSON. With
 * CLI_AUTH_BEARER the saved token is sent; with basic_user != NULL Basic authentication is
 * used instead. A non-2xx answer is printed as "inkan: <description> (<error>)" and mapped
 * to an INK_ERR_* code; resp is then still filled (status, json) for the caller. */
int cli_http(struct cli_ctx *c, const char *method, const char *path, const json_t *body,
             int auth, const char *basic_user, const char *basic_pw, struct cli_resp *resp) INK_WUR;
/* A GET of c->server + path whose answer is not JSON (a PEM chain, a DER CRL), sending
 * "Accept: <accept>": the body in *out (malloc'd, NUL-terminated after *outlen bytes). A non-2xx
 * answer is reported and mapped as by cli_http. */
int cli_http_raw(struct cli_ctx *c, const char *path, const char *accept, int auth,
                 uint8_t **out, size_t *outlen) INK_WUR;
/* A POST of raw bytes to a full URL (e.g. an RFC 3161 TSA): the 2xx body in *out (malloc'd). */
int cli_http_post_bytes(struct cli_ctx *c, const char *url, const char *type, const char *accept,
                        const uint8_t *body, size_t len, uint8_t **out, size_t *outlen) INK_WUR;
/* Frees (and wipes) a response; accepts NULL. */
void cli_resp_free(struct cli_resp *resp);
/* Percent-encoded copy of s for a URL path segment; free with free(). */
int cli_escape(const char *s, char **out) INK_WUR;
/* Global libcurl setup and teardown (main only). */
int cli_http_global_init(void) INK_WUR;
void cli_http_global_cleanup(void);

/* ---- token file ---- */

/* The bearer token: env INKAN_TOKEN, else the token file; *out is secmem (secmem_free). */
int cli_token_load(struct cli_ctx *c, char **out) INK_WUR;
/* Saves the token (parent directories created 0700, the file 0600). */
int cli_token_save(struct cli_ctx *c, const char *token) INK_WUR;
/* Deletes the token file; a missing one is not an error. */
int cli_token_delete(struct cli_ctx *c) INK_WUR;

/* ---- secrets: never on the command line; every result is secmem (secmem_free) ---- */

/* Reads one line from /dev/tty with echo off after showing prompt. */
int cli_prompt_secret(const char *prompt, char **out) INK_WUR;
/* The password: --password-file, else env INKAN_PASSWORD, else a prompt. */
int cli_get_password(struct cli_ctx *c, const char *prompt, char **out) INK_WUR;
/* The TOTP code: env INKAN_OTP, else a prompt. */
int cli_get_otp(struct cli_ctx *c, char **out) INK_WUR;
/* A second officer's TOTP code (dual control): $INKAN_SECOND_OTP or the terminal. */
int cli_get_second_otp(struct cli_ctx *c, char **out) INK_WUR;
/* A new password: env INKAN_NEW_PASSWORD, else prompted twice (both must match). */
int cli_get_new_password(struct cli_ctx *c, char **out) INK_WUR;
/* A signing PIN already set: env INKAN_PIN, else a prompt. */
int cli_get_pin(struct cli_ctx *c, const char *prompt, char **out) INK_WUR;
/* A signing PIN being set: env `env` (INKAN_PIN for a new key, INKAN_NEW_PIN for a change),
 * else prompted twice (both must match). */
int cli_get_new_pin(struct cli_ctx *c, const char *env, char **out) INK_WUR;

/* ---- PAdES long-term signatures (ltv.c) ---- */

struct formats_blob;
/* How a PDF is raised to B-LT or B-LTA. */
struct cli_ltv {
	bool lta;                         /* B-LTA: a document time-stamp after the DSS */
	const char *tsa;                  /* its TSA (URL), or NULL: CSC signatures/timestamp */
	bool offline;                     /* revocation data only from what is given here */
	const struct formats_blob *certs, *ocsps, *crls;  /* given by the user (DER) */
	size_t ncerts, nocsps, ncrls;
};
/* Writes out (never an existing file): in with, in further incremental updates, a DSS that
 * holds for every signature and document time-stamp the certificates of its chains and an OCSP
 * response or CRL for each certificate but a root (fetched from its own URLs, o's, the service's
 * current CRLs; only o's when o->offline), and
 * with o->lta a document time-stamp over all of it. Nothing is written when data is missing. */
int cli_pades_ltv(struct cli_ctx *c, const char *in, const char *out, const struct cli_ltv *o) INK_WUR;

/* ---- terminal QR code ---- */

/* Prints text as a QR code with Unicode half blocks on f (light modules drawn, explicit
 * black background so it scans on any terminal theme). */
int cli_qr_print(FILE *f, const char *text) INK_WUR;

#endif
