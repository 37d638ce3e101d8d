/* key: signing keys and their certificates (create, list, show, renew, revoke, PIN, unlock). */
#include "cli/cli.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define KEY_USAGE                                                                         \
	"key create [--algorithm ALG] [--external-ca [--csr-out FILE]]\n"                 \
	"       inkan key list\n"                                                         \
	"       inkan key show ID [--cert-out FILE]\n"                                    \
	"       inkan key renew ID\n"                                                     \
	"       inkan key revoke ID [--reason REASON]\n"                                  \
	"       inkan key pin ID\n"                                                       \
	"       inkan key auth-mode ID oauth2code|explicit\n"                             \
	"       inkan key unlock ID\n"                                                    \
	"       inkan key certificate ID FILE"

/* The server takes at most 90000 base64 characters of certificate. */
#define CERT_DER_MAX 67500u
/* A certificate file, PEM with any text around it. */
#define CERT_FILE_MAX (1024u * 1024u)

/* RFC 5280 CRLReason names the server accepts (certificateHold is not offered). */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", 0 }, { "keyCompromise", 1 }, { "cACompromise", 2 },
	{ "affiliationChanged", 3 }, { "superseded", 4 }, { "cessationOfOperation", 5 },
	{ "privilegeWithdrawn", 9 },
};

static const char *
reason_name(const json_t *code)
{
	size_t i;

	if (!json_is_integer(code))
		return "-";
	for (i = 0; i < INK_ARRAY_LEN(reasons); i++)
		if (json_integer_value(code) == reasons[i].code)
			return reasons[i].name;
	return "other";
}

/* "/api/v1/keys/<escaped id><suffix>" */
static int
key_path(const char *id, const char *suffix, char **out)
{
	char *esc = NULL;
	int r;

	*out = NULL;
	if ((r = cli_escape(id, &esc)) != 0)
		return r;
	if (asprintf(out, "/api/v1/keys/%s%s", esc, suffix) < 0) {
		*out = NULL;
		r = INK_ERR_ALLOC;
	}
	free(esc);
	return r;
}

/* --json: the server's answer, `{}` for one without a body. */
static int
print_answer(const struct cli_resp *resp)
{
	return cli_print_json(resp->json);
}

/* The base64 DER member `key` of obj, parsed as a certificate (is_csr false) or a CSR, as PEM
 * text in *out (malloc'd, NUL-terminated, *outlen bytes). */
static int
member_pem(struct cli_ctx *c, const json_t *obj, const char *key, bool is_csr, char **out,
           size_t *outlen)
{
	const char *b64 = cli_jstr(obj, key);
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	X509_REQ *req = NULL;
	BIO *bio = NULL;
	char *pem = NULL, *copy = NULL;
	long pemlen;
	int r = INK_ERR_PROTOCOL;

	*out = NULL;
	*outlen = 0;
	if (*b64 == '\0')
		return cli_fail(c, INK_ERR_NOT_FOUND, "the key has no %s",
		                is_csr ? "certificate signing request" : "certificate");
	if (b64_decode(b64, &der, &len) != 0 || len > LONG_MAX) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "the server sent a malformed %s", key);
		goto out;
	}
	p = der;
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	/* Parsed, not just re-wrapped: the file is what openssl and others will read. */
	if (is_csr) {
		if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL || p != der + len ||
		    PEM_write_bio_X509_REQ(bio, req) != 1) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "the server sent a malformed CSR");
			goto out;
		}
	} else {
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len ||
		    PEM_write_bio_X509(bio, x) != 1) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "the server sent a malformed certificate");
			goto out;
		}
	}
	if ((pemlen = BIO_get_mem_data(bio, &pem)) <= 0) {
		r = INK_ERR_INTERNAL;
		goto out;
	}
	if ((copy = strndup(pem, (size_t)pemlen)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	*out = copy;
	*outlen = (size_t)pemlen;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_REQ_free(req);
	X509_free(x);
	free(der);
	return r;
}

/* member_pem() written to path (mode 0644: certificates and CSRs are public), or to stdout
 * when path is NULL. */
static int
write_pem(struct cli_ctx *c, const json_t *obj, const char *key, bool is_csr, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	int r;

	if ((r = member_pem(c, obj, key, is_csr, &pem, &len)) != 0)
		return r;
	if (path == NULL) {
		if (fwrite(pem, 1, len, stdout) != len)
			r = INK_ERR_IO;
	} else if ((r = ink_write_file(path, pem, len, 0644)) != 0)
		r = cli_fail(c, r, "cannot write %s: %s", path, ink_err_str(r));
	free(pem);
	return r;
}

/* Prints the subject and issuer of the credential's certificate, if it parses. */
static void
print_names(const json_t *cred)
{
	const char *b64 = cli_jstr(cred, "certificate");
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *text;
	long n;
	int which;

	if (*b64 == '\0' || b64_decode(b64, &der, &len) != 0 || len > LONG_MAX)
		goto out;
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		goto out;
	for (which = 0; which < 2; which++) {
		if ((bio = BIO_new(BIO_s_mem())) == NULL)
			goto out;
		if (X509_NAME_print_ex(bio, which == 0 ? X509_get_subject_name(x) : X509_get_issuer_name(x),
		                       0, XN_FLAG_RFC2253) < 0 ||
		    BIO_write(bio, "", 1) != 1 || (n = BIO_get_mem_data(bio, &text)) <= 0)
			goto out;
		printf(which == 0 ? "subject          " : "issuer           ");
		cli_put_safe(stdout, text);
		printf("\n");
		BIO_free(bio);
		bio = NULL;
	}
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_free(x);
	free(der);
}

static void
print_field(const char *label, const char *value)
{
	printf("%-17s", label);
	cli_put_safe(stdout, *value != '\0' ? value : "-");
	printf("\n");
}

static void
print_cred(const json_t *k)
{
	const json_t *pf = json_object_get(k, "pin_failures");
	char t[21], n[24];

	print_field("id", cli_jstr(k, "id"));
	print_field("algorithm", cli_jstr(k, "algorithm"));
	print_field("status", cli_jstr(k, "status"));
	snprintf(n, sizeof(n), "%lld", json_is_integer(pf) ? (long long)json_integer_value(pf) : 0LL);
	print_field("PIN failures", n);
	print_field("created", cli_jtime(k, "created_at", t));
	if (json_object_get(k, "certificate") != NULL) {
		print_field("serial", cli_jstr(k, "serial"));
		print_field("valid from", cli_jtime(k, "valid_from", t));
		print_field("valid to", cli_jtime(k, "valid_to", t));
		print_names(k);
	} else
		print_field("certificate", "none yet");
	if (json_object_get(k, "revoked_at") != NULL) {
		print_field("revoked", cli_jtime(k, "revoked_at", t));
		print_field("reason", reason_name(json_object_get(k, "revocation_reason")));
	}
}

static int
key_create(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "algorithm", required_argument, NULL, 'a' },
		{ "external-ca", no_argument, NULL, 'e' },
		{ "csr-out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	json_t *body = NULL;
	const char *algo = NULL, *csr_out = NULL;
	char *pin = NULL, t[21];
	bool external = false;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'a':
			algo = optarg;
			break;
		case 'e':
			external = true;
			break;
		case 'o':
			csr_out = optarg;
			break;
		default:
			return cli_usage(KEY_USAGE);
		}
	}
	if (csr_out != NULL && !external) {
		fprintf(stderr, "inkan: --csr-out needs --external-ca\n");
		return cli_usage(KEY_USAGE);
	}
	if (optind != argc || (algo != NULL && *algo == '\0') || (csr_out != NULL && *csr_out == '\0'))
		return cli_usage(KEY_USAGE);
	if ((r = cli_get_new_pin(c, "INKAN_PIN", &pin)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:b}", "pin", pin, "external_ca", external)) == NULL ||
	    (algo != NULL && json_object_set_new(body, "algorithm", json_string(algo)) != 0)) {
		r = cli_fail(c, INK_ERR_INVALID, "the PIN and --algorithm must be UTF-8 text");
		goto out;
	}
	r = cli_http(c, "POST", "/api/v1/keys", body, CLI_AUTH_BEARER, NULL, NULL, &resp);
	json_decref(body); /* wiped on free: it holds the PIN */
	body = NULL;
	if (r != 0)
		goto out;
	/* The CSR is only ever sent now: write it before anything else can fail. */
	if (csr_out != NULL && (r = write_pem(c, resp.json, "csr", true, csr_out)) != 0) {
		/* The key exists now and the server keeps no copy of the CSR: show it anyway. */
		fputs("inkan: key ", stderr);
		cli_put_safe(stderr, cli_jstr(resp.json, "id"));
		fprintf(stderr, " was created; its CSR %s\n", c->json ? "is in the answer below" : "follows");
		if (!c->json)
			(void)write_pem(c, resp.json, "csr", true, NULL);
	}
	if (c->json) {
		if (print_answer(&resp) != 0 && r == 0)
			r = INK_ERR_IO;
		goto out;
	}
	if (r != 0)
		goto out;
	printf("created key ");
	cli_put_safe(stdout, cli_jstr(resp.json, "id"));
	printf(" (");
	cli_put_safe(stdout, cli_jstr(resp.json, "algorithm"));
	printf(", ");
	cli_put_safe(stdout, cli_jstr(resp.json, "status"));
	printf(")\n");
	if (json_object_get(resp.json, "certificate") != NULL) {
		printf("certificate serial ");
		cli_put_safe(stdout, cli_jstr(resp.json, "serial"));
		printf(", valid to ");
		cli_put_safe(stdout, cli_jtime(resp.json, "valid_to", t));
		printf("\n");
	}
	if (external) {
		if (csr_out != NULL) {
			printf("certificate signing request written to ");
			cli_put_safe(stdout, csr_out);
			printf("\n");
		} else {
			if ((r = write_pem(c, resp.json, "csr", true, NULL)) != 0)
				goto out;
		}
		printf("have it signed by the CA, then: inkan key certificate ");
		cli_put_safe(stdout, cli_jstr(resp.json, "id"));
		printf(" CERTFILE\n");
	}
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(pin);
	return r;
}

static int
key_list(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	const json_t *keys, *k;
	char t[21];
	size_t i, wid = sizeof("ID"), wser = sizeof("SERIAL");
	int r;

	(void)argv;
	if (argc != 1)
		return cli_usage(KEY_USAGE);
	if ((r = cli_http(c, "GET", "/api/v1/keys", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	keys = json_object_get(resp.json, "keys");
	if (json_array_size(keys) == 0) {
		printf("no keys\n");
		r = 0;
		goto out;
	}
	json_array_foreach(keys, i, k) {
		if (strlen(cli_jstr(k, "id")) + 1 > wid)
			wid = strlen(cli_jstr(k, "id")) + 1;
		if (strlen(cli_jstr(k, "serial")) + 1 > wser)
			wser = strlen(cli_jstr(k, "serial")) + 1;
	}
	cli_put_cell(stdout, "ID", wid);
	cli_put_cell(stdout, "ALGORITHM", 10);
	cli_put_cell(stdout, "STATUS", 10);
	cli_put_cell(stdout, "SERIAL", wser);
	printf("VALID TO\n");
	json_array_foreach(keys, i, k) {
		cli_put_cell(stdout, cli_jstr(k, "id"), wid);
		cli_put_cell(stdout, cli_jstr(k, "algorithm"), 10);
		cli_put_cell(stdout, cli_jstr(k, "status"), 10);
		cli_put_cell(stdout, *cli_jstr(k, "serial") != '\0' ? cli_jstr(k, "serial") : "-", wser);
		cli_put_safe(stdout, cli_jtime(k, "valid_to", t));
		printf("\n");
	}
	r = 0;
out:
	cli_resp_free(&resp);
	return r;
}

static int
key_show(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert-out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	const char *cert_out = NULL;
	char *path = NULL;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		if (ch != 'o')
			return cli_usage(KEY_USAGE);
		cert_out = optarg;
	}
	if (optind + 1 != argc || *argv[optind] == '\0')
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[optind], "", &path)) != 0)
		goto out;
	if ((r = cli_http(c, "GET", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (cert_out != NULL && (r = write_pem(c, resp.json, "certificate", false, cert_out)) != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	print_cred(resp.json);
	if (cert_out != NULL) {
		printf("certificate written to ");
		cli_put_safe(stdout, cert_out);
		printf("\n");
	}
	r = 0;
out:
	cli_resp_free(&resp);
	free(path);
	return r;
}

static int
key_renew(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *path = NULL, *pin = NULL, *otp = NULL, t[21];
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 2 || *argv[1] == '\0')
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[1], "/renew", &path)) != 0)
		goto out;
	/* Like an authorization: the PIN is only ever tried together with a fresh OTP. */
	if ((r = cli_get_pin(c, "Signing PIN: ", &pin)) != 0 || (r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:s}", "pin", pin, "otp", otp)) == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "the PIN must be UTF-8 text");
		goto out;
	}
	r = cli_http(c, "POST", path, body, CLI_AUTH_BEARER, NULL, NULL, &resp);
	json_decref(body);
	body = NULL;
	if (r != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	printf("new key ");
	cli_put_safe(stdout, cli_jstr(resp.json, "id"));
	printf(" (");
	cli_put_safe(stdout, cli_jstr(resp.json, "algorithm"));
	printf(", serial ");
	cli_put_safe(stdout, cli_jstr(resp.json, "serial"));
	printf(", valid to ");
	cli_put_safe(stdout, cli_jtime(resp.json, "valid_to", t));
	printf("), same PIN\nkey ");
	cli_put_safe(stdout, argv[1]);
	printf(" revoked (superseded)\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(pin);
	secmem_free(otp);
	free(path);
	return r;
}

static int
key_revoke(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_resp resp;
	json_t *body = NULL;
	const char *reason = "unspecified";
	char *path = NULL;
	size_t i;
	int ch, r;

	memset(&resp, 0, sizeof(resp));
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		if (ch != 'r')
			return cli_usage(KEY_USAGE);
		reason = optarg;
	}
	if (optind + 1 != argc || *argv[optind] == '\0')
		return cli_usage(KEY_USAGE);
	for (i = 0; i < INK_ARRAY_LEN(reasons); i++)
		if (strcmp(reason, reasons[i].name) == 0)
			break;
	if (i == INK_ARRAY_LEN(reasons)) {
		fprintf(stderr, "inkan: --reason must be one of:");
		for (i = 0; i < INK_ARRAY_LEN(reasons); i++)
			fprintf(stderr, " %s", reasons[i].name);
		fprintf(stderr, "\n");
		return cli_usage(KEY_USAGE);
	}
	if ((r = key_path(argv[optind], "/revoke", &path)) != 0)
		goto out;
	if ((body = json_pack("{s:s}", "reason", reason)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", path, body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	printf("key ");
	cli_put_safe(stdout, argv[optind]);
	printf(" revoked (%s); its private key is destroyed\n", reason);
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(path);
	return r;
}

static int
key_pin(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *path = NULL, *old_pin = NULL, *new_pin = NULL, *otp = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 2 || *argv[1] == '\0')
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[1], "/pin", &path)) != 0)
		goto out;
	if ((r = cli_get_pin(c, "Current signing PIN: ", &old_pin)) != 0 ||
	    (r = cli_get_new_pin(c, "INKAN_NEW_PIN", &new_pin)) != 0 ||
	    (r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:s, s:s}", "old_pin", old_pin, "new_pin", new_pin, "otp",
	                      otp)) == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "PINs must be UTF-8 text");
		goto out;
	}
	r = cli_http(c, "POST", path, body, CLI_AUTH_BEARER, NULL, NULL, &resp);
	json_decref(body);
	body = NULL;
	if (r != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	printf("signing PIN of key ");
	cli_put_safe(stdout, argv[1]);
	printf(" changed\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(old_pin);
	secmem_free(new_pin);
	secmem_free(otp);
	free(path);
	return r;
}

static int
key_unlock(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	char *path = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 2 || *argv[1] == '\0')
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[1], "/unlock", &path)) != 0)
		goto out;
	if ((r = cli_http(c, "POST", path, NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	printf("key ");
	cli_put_safe(stdout, argv[1]);
	printf(" unlocked\n");
	r = 0;
out:
	cli_resp_free(&resp);
	free(path);
	return r;
}

/* A certificate file, PEM (the first CERTIFICATE block) or DER, as base64 DER. */
static int
cert_file_b64(struct cli_ctx *c, const char *file, char **out)
{
	char *data = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	int n, r;

	*out = NULL;
	if ((r = ink_read_file(file, CERT_FILE_MAX, &data, &len)) != 0)
		return cli_fail(c, r, "cannot read %s: %s", file, ink_err_str(r));
	if (len > INT_MAX) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	if (strstr(data, "-----BEGIN CERTIFICATE-----") != NULL) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	} else {
		p = (const unsigned char *)data;
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL && p != (const unsigned char *)data + len) {
			X509_free(x);
			x = NULL;
		}
	}
	if (x == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "%s holds no X.509 certificate (PEM or DER)", file);
		goto out;
	}
	if ((n = i2d_X509(x, &der)) <= 0) {
		r = INK_ERR_INTERNAL;
		goto out;
	}
	if ((size_t)n > CERT_DER_MAX) {
		r = cli_fail(c, INK_ERR_TOO_LARGE, "the certificate in %s is too large", file);
		goto out;
	}
	if ((r = b64_encode(der, (size_t)n, out)) != 0)
		goto out;
	r = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	free(data);
	return r;
}

static int
key_certificate(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *path = NULL, *b64 = NULL, t[21];
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 3 || *argv[1] == '\0' || *argv[2] == '\0')
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[1], "/certificate", &path)) != 0 ||
	    (r = cert_file_b64(c, argv[2], &b64)) != 0)
		goto out;
	if ((body = json_pack("{s:s}", "certificate", b64)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = cli_http(c, "POST", path, body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	if (c->json) {
		r = print_answer(&resp);
		goto out;
	}
	printf("certificate linked to key ");
	cli_put_safe(stdout, cli_jstr(resp.json, "id"));
	printf(": serial ");
	cli_put_safe(stdout, cli_jstr(resp.json, "serial"));
	printf(", valid to ");
	cli_put_safe(stdout, cli_jtime(resp.json, "valid_to", t));
	printf(", status ");
	cli_put_safe(stdout, cli_jstr(resp.json, "status"));
	printf("\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	free(b64);
	free(path);
	return r;
}

/* Whether the key may also be activated by credentials/authorize (explicit: as the service
 * allows) or only on the OAuth consent page (oauth2code): PIN and a fresh OTP. */
static int
key_auth_mode(struct cli_ctx *c, int argc, char **argv)
{
	struct cli_resp resp;
	json_t *body = NULL;
	char *path = NULL, *pin = NULL, *otp = NULL;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (argc != 3 || *argv[1] == '\0' ||
	    (strcmp(argv[2], "oauth2code") != 0 && strcmp(argv[2], "explicit") != 0))
		return cli_usage(KEY_USAGE);
	if ((r = key_path(argv[1], "/auth-mode", &path)) != 0 ||
	    (r = cli_get_pin(c, "Signing PIN: ", &pin)) != 0 || (r = cli_get_otp(c, &otp)) != 0)
		goto out;
	if ((body = json_pack("{s:s, s:s, s:s}", "authMode", argv[2], "pin", pin, "otp", otp)) == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "the PIN must be UTF-8 text");
		goto out;
	}
	if ((r = cli_http(c, "POST", path, body, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	printf("key ");
	cli_put_safe(stdout, argv[1]);
	printf(strcmp(argv[2], "oauth2code") == 0 ?
	       ": activated only on the service's consent page (oauth2/authorize)\n" :
	       ": also by credentials/authorize, as the service allows\n");
	r = 0;
out:
	json_decref(body);
	cli_resp_free(&resp);
	secmem_free(pin);
	secmem_free(otp);
	free(path);
	return r;
}

int
cmd_key(struct cli_ctx *c, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli_ctx *, int, char **);
	} actions[] = {
		{ "create", key_create }, { "list", key_list }, { "show", key_show },
		{ "renew", key_renew }, { "revoke", key_revoke }, { "pin", key_pin },
		{ "auth-mode", key_auth_mode },
		{ "unlock", key_unlock }, { "certificate", key_certificate },
	};
	const char *sub = argc >= 2 ? argv[1] : "";
	size_t i;

	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: inkan %s\n", KEY_USAGE);
		return 0;
	}
	for (i = 0; i < INK_ARRAY_LEN(actions); i++)
		if (strcmp(sub, actions[i].name) == 0)
			return actions[i].fn(c, argc - 1, argv + 1); /* argv[0]: the action */
	return cli_usage(KEY_USAGE);
}
