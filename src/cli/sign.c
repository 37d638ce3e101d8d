/* sign: `inkan sign FILE` — hashes the file here, shows what will be signed, asks for
 * confirmation, PIN and OTP, authorizes and signs exactly the signed attributes' hash through
 * the CSC API, adds a time-stamp (B-T) and writes FILE.p7s or a signed PDF. The document
 * itself never leaves this machine. */
#include "cli/cli.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "formats/formats.h"

#define SIGN_USAGE                                                                          \
	"sign FILE [--credential ID] [--level B-B|B-T|B-LT|B-LTA] [--format cades|pades|xades]\n" \
	"       [--attached] [--tsa URL] [--pss] [--output PATH] [--yes] [--browser CLIENT_ID]\n" \
	"       [--visible PAGE,X,Y,W,H] [--reason TEXT]   (PAdES)\n" \
	"       [--enveloped|--detached|--enveloping]      (XAdES)"
#define SIGN_PROGRESS_MIN (32u << 20)   /* files this large get a progress bar on a terminal */
#define SIGN_CERTS_MAX 8

struct sign_opts {
	bool xades, place_set;
	int place;   /* XAdES: enum formats_xades_place */
	const char *file, *cred, *tsa, *output;
	const char *browser;       /* an OAuth public client's id: authorize on the service's page */
	bool bt, pades, format_set, attached, pss, yes;
	int lt;   /* 0: B-B or B-T, 1: B-LT, 2: B-LTA */
	const char *level;
	const char *reason;                /* PAdES /Reason, shown on a visible signature */
	bool visible;
	struct formats_pdf_visible vis;    /* --visible PAGE,X,Y,W,H (points) */
};

struct signer {
	char cred[65];
	uint8_t *certs[SIGN_CERTS_MAX];
	size_t cert_lens[SIGN_CERTS_MAX];
	size_t ncerts;
	char subject[512];
	char name[256];
};

static void
signer_clear(struct signer *s)
{
	size_t i;

	for (i = 0; i < s->ncerts; i++)
		free(s->certs[i]);
	s->ncerts = 0;
}

static void
progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (total < SIGN_PROGRESS_MIN)
		return;
	fprintf(stderr, "\rhashing %3u%%  %llu of %llu MiB", (unsigned)(done * 100 / total),
	        (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
	if (done == total)
		fputc('\n', stderr);
}

/* The credential (the only one, or --credential), its chain, and who the signer is. */
static int
get_signer(struct cli_ctx *c, const char *want, struct signer *s)
{
	struct cli_resp resp;
	json_t *body = NULL, *ids, *list;
	size_t i;
	int r;

	memset(&resp, 0, sizeof(resp));
	if (want == NULL) {
		if ((body = json_object()) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		r = cli_http(c, "POST", "/csc/v2/credentials/list", body, CLI_AUTH_BEARER, NULL, NULL, &resp);
		json_decref(body);
		body = NULL;
		if (r != 0)
			goto out;
		ids = json_object_get(resp.json, "credentialIDs");
		if (!json_is_array(ids) || json_array_size(ids) == 0) {
			r = cli_fail(c, INK_ERR_NOT_FOUND, "you have no signing credential");
			goto out;
		}
		if (json_array_size(ids) > 1) {
			r = cli_fail(c, INK_ERR_INVALID, "you have %zu credentials: choose one with --credential",
			             json_array_size(ids));
			goto out;
		}
		snprintf(s->cred, sizeof(s->cred), "%s", json_string_value(json_array_get(ids, 0)) != NULL ?
		         json_string_value(json_array_get(ids, 0)) : "");
		cli_resp_free(&resp);
	} else {
		snprintf(s->cred, sizeof(s->cred), "%s", want);
	}
	if ((body = json_pack("{s:s, s:s, s:b}", "credentialID", s->cred, "certificates", "chain",
	                      "certInfo", 1)) == NULL) {
		r = cli_fail(c, INK_ERR_INVALID, "--credential must be UTF-8 text");
		goto out;
	}
	if ((r = cli_http(c, "POST", "/csc/v2/credentials/info", body, CLI_AUTH_BEARER, NULL, NULL,
	                  &resp)) != 0)
		goto out;
	if (strcmp(cli_jstr(json_object_get(resp.json, "key"), "status"), "enabled") != 0) {
		r = cli_fail(c, INK_ERR_DENIED, "credential %s is not enabled", s->cred);
		goto out;
	}
	snprintf(s->subject, sizeof(s->subject), "%s",
	         cli_jstr(json_object_get(resp.json, "cert"), "subjectDN"));
	list = json_object_get(json_object_get(resp.json, "cert"), "certificates");
	for (i = 0; json_is_array(list) && i < json_array_size(list) && i < SIGN_CERTS_MAX; i++) {
		const char *b = json_string_value(json_array_get(list, i));

		if (b == NULL || b64_decode(b, &s->certs[i], &s->cert_lens[i]) != 0) {
			r = cli_fail(c, INK_ERR_PROTOCOL, "credentials/info: bad certificate");
			goto out;
		}
		s->ncerts = i + 1;
	}
	if (s->ncerts == 0) {
		r = cli_fail(c, INK_ERR_PROTOCOL, "credentials/info: no certificate");
		goto out;
	}
	cli_resp_free(&resp);
	if ((r = cli_http(c, "GET", "/api/v1/me", NULL, CLI_AUTH_BEARER, NULL, NULL, &resp)) != 0)
		goto out;
	snprintf(s->name, sizeof(s->name), "%s (%s)", cli_jstr(resp.json, "display_name"),
	         cli_jstr(resp.json, "username"));
out:
	json_decref(body);
	cli_resp_free(&resp);
	return r;
}

/* Asks "Sign? [y/N]" on the terminal; without one, --yes is required. */
static int
confirm(struct cli_ctx *c, bool yes)
{
	char line[16];
	FILE *tty;
	int r;

	if (yes)
		return 0;
	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		return cli_fail(c, INK_ERR_INVALID, "no terminal to confirm on: check the above and pass --yes");
	fputs("Sign this? [y/N] ", tty);
	fflush(tty);
	r = fgets(line, sizeof(line), tty) != NULL && (line[0] == 'y' || line[0] == 'Y') ? 0 :
	    cli_fail(c, INK_ERR_DENIED, "not signed");
	fclose(tty);
	return r;
}

int
cli_sign_confirm(struct cli_ctx *c, bool yes)
{
	return confirm(c, yes);
}

/* credentials/authorize for exactly one hash (or, with a browser client, the service's own
 * page: the signer enters PIN and OTP there), then signatures/signHash with the SAD. */
static int
authorize_and_sign(struct cli_ctx *c, const struct signer *s, const char *browser,
                   const char *file, struct formats_cms *cms)
{
	uint8_t tbs[FORMATS_SHA256_LEN], *sig = NULL;
	const uint8_t *params;
	size_t plen, sig_len = 0;
	const char *algo;
	struct cli_sign_auth how = { .browser = browser, .file = file };
	int r;

	formats_cms_tbs_digest(cms, tbs);
	algo = formats_cms_sign_algo(cms, &params, &plen);
	if ((r = cli_sign_hash(c, &how, s->cred, tbs, sizeof(tbs), FORMATS_OID_SHA256, algo, params,
	                       plen, &sig, &sig_len)) != 0)
		goto out;
	if ((r = formats_cms_set_signature(cms, sig, sig_len)) != 0)
		r = cli_fail(c, r, "the signature returned does not verify with the certificate's key");
out:
	free(sig);
	return r;
}

/* B-T: a time-stamp over the signature value. */
static int
add_timestamp(struct cli_ctx *c, const char *tsa, struct formats_cms *cms)
{
	uint8_t md[FORMATS_SHA256_LEN], *tok = NULL;
	size_t tok_len = 0;
	int r;

	if ((r = formats_cms_signature_digest(cms, md)) != 0 ||
	    (r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
		goto out;
	if ((r = formats_cms_set_timestamp(cms, tok, tok_len)) != 0)
		r = cli_fail(c, r, "cannot add the time-stamp");
out:
	free(tok);
	return r;
}

/* Writes the CAdES file through a temporary name, renamed into place only when complete. */
static int
write_cades(struct cli_ctx *c, const struct sign_opts *o, const struct formats_cms *cms,
            uint64_t size)
{
	char tmp[4200];
	FILE *out = NULL, *in = NULL;
	int fd = -1, r = INK_ERR_IO;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", o->output);
	if ((fd = mkstemp(tmp)) < 0 || (out = fdopen(fd, "wb")) == NULL) {
		r = cli_fail(c, INK_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (o->attached && (in = fopen(o->file, "rb")) == NULL) {
		r = cli_fail(c, INK_ERR_IO, "cannot read %s: %s", o->file, strerror(errno));
		goto out;
	}
	if ((r = formats_cms_write(cms, out, in, size)) == INK_ERR_INVALID) {
		r = cli_fail(c, r, "%s changed while it was being signed: nothing written", o->file);
		goto out;
	}
	if (r != 0 || fflush(out) != 0 || fsync(fileno(out)) != 0) {
		r = cli_fail(c, r != 0 ? r : INK_ERR_IO, "cannot write %s", o->output);
		goto out;
	}
	if (fclose(out) != 0) {
		out = NULL;
		r = cli_fail(c, INK_ERR_IO, "cannot write %s", o->output);
		goto out;
	}
	out = NULL;
	/* link() refuses an existing name: a signature is never overwritten. */
	if (link(tmp, o->output) != 0) {
		r = cli_fail(c, INK_ERR_EXISTS, "cannot create %s: %s", o->output, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	(void)unlink(tmp);
	return r;
}

/* The text of a visible signature: the signer's name from the certificate, the time, the
 * reason; the signature dictionary's /Name is that name too. */
static int
appearance(struct cli_ctx *c, const struct signer *s, struct sign_opts *o, int64_t now,
           char text[static 3][320], struct formats_pdf_opts *po)
{
	char name[256];
	time_t t = (time_t)now;
	struct tm tm;
	size_t n = 0;

	if (formats_cert_name(s->certs[0], s->cert_lens[0], name, sizeof(name)) != 0)
		return cli_fail(c, INK_ERR_INVALID, "the certificate names no signer (no common name)");
	if (gmtime_r(&t, &tm) == NULL)
		return INK_ERR_INTERNAL;
	snprintf(text[0], 320, "Signed by %s", name);
	strftime(text[1], 320, "Date: %Y-%m-%d %H:%M:%S UTC", &tm);
	o->vis.lines[n++] = text[0];
	o->vis.lines[n++] = text[1];
	if (o->reason != NULL) {
		snprintf(text[2], 320, "Reason: %s", o->reason);
		o->vis.lines[n++] = text[2];
	}
	o->vis.lines[n] = NULL;
	po->visible = &o->vis;
	po->name = text[0] + strlen("Signed by ");
	return 0;
}

static int
parse(int argc, char **argv, struct sign_opts *o)
{
	static const struct option opts[] = {
		{ "credential", required_argument, NULL, 'c' },
		{ "level", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, 'f' },
		{ "tsa", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "attached", no_argument, NULL, 'a' },
		{ "pss", no_argument, NULL, 'p' },
		{ "yes", no_argument, NULL, 'y' },
		{ "visible", required_argument, NULL, 'V' },
		{ "reason", required_argument, NULL, 'R' },
		{ "enveloped", no_argument, NULL, 'E' },
		{ "detached", no_argument, NULL, 'D' },
		{ "enveloping", no_argument, NULL, 'G' },
		{ "browser", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->bt = true;
	o->level = "B-T";
	while ((ch = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'c': o->cred = optarg; break;
		case 't': o->tsa = optarg; break;
		case 'o': o->output = optarg; break;
		case 'a': o->attached = true; break;
		case 'p': o->pss = true; break;
		case 'y': o->yes = true; break;
		case 'R': o->reason = optarg; break;
		case 'V': {
			int used = -1;

			if (sscanf(optarg, "%d,%lf,%lf,%lf,%lf%n", &o->vis.page, &o->vis.x, &o->vis.y,
			           &o->vis.w, &o->vis.h, &used) != 5 || used < 0 || optarg[used] != '\0')
				return cli_usage(SIGN_USAGE);
			o->visible = true;
			break;
		}
		case 'E': case 'D': case 'G':
			if (o->place_set)
				return cli_usage(SIGN_USAGE);
			o->place_set = true;
			o->place = ch == 'E' ? FORMATS_XADES_ENVELOPED : ch == 'D' ?
			           FORMATS_XADES_DETACHED : FORMATS_XADES_ENVELOPING;
			break;
		case 'b': o->browser = optarg; break;
		case 'l':
			o->lt = 0;
			o->bt = true;
			if (strcmp(optarg, "B-B") == 0)
				o->bt = false;
			else if (strcmp(optarg, "B-LT") == 0)
				o->lt = 1;
			else if (strcmp(optarg, "B-LTA") == 0)
				o->lt = 2;
			else if (strcmp(optarg, "B-T") != 0)
				return cli_usage(SIGN_USAGE);
			o->level = optarg;
			break;
		case 'f':
			o->format_set = true;
			if (strcmp(optarg, "pades") == 0)
				o->pades = true;
			else if (strcmp(optarg, "xades") == 0)
				o->xades = true;
			else if (strcmp(optarg, "cades") != 0)
				return cli_usage(SIGN_USAGE);
			break;
		default:
			return cli_usage(SIGN_USAGE);
		}
	}
	if (optind != argc - 1 || (o->place_set && !o->xades) || (o->xades && o->attached))
		return cli_usage(SIGN_USAGE);
	o->file = argv[optind];
	return 0;
}

int
cmd_sign(struct cli_ctx *c, int argc, char **argv)
{
	struct sign_opts o;
	struct signer s;
	struct formats_cms *cms = NULL;
	struct formats_pdf *pdf = NULL;
	uint8_t md[FORMATS_SHA256_LEN], fmd[FORMATS_SHA256_LEN], *der = NULL;
	char out_buf[4096], hex[2 * FORMATS_SHA256_LEN + 1], tmp[4200], vis_text[3][320];
	const char *pdf_out = NULL;
	uint64_t size = 0;
	size_t der_len = 0;
	bool tty = isatty(STDERR_FILENO) == 1, made_pdf = false;
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(&s, 0, sizeof(s));
	if (cli_want_help(argc, argv)) {
		printf("usage: inkan %s\n", SIGN_USAGE);
		return 0;
	}
	if ((r = parse(argc, argv, &o)) != 0)
		return r;
	if (!o.format_set)
		o.pades = formats_is_pdf(o.file);
	if (o.pades && o.attached)
		return cli_fail(c, CLI_ERR_USAGE, "--attached is for CAdES; a PAdES signature is inside the PDF");
	if (!o.pades && (o.visible || o.reason != NULL))
		return cli_fail(c, CLI_ERR_USAGE, "--visible and --reason are for PAdES");
	if (o.output == NULL) {
		size_t n = strlen(o.file);

		if (o.xades && o.place != FORMATS_XADES_DETACHED && n > 4 &&
		    strcasecmp(o.file + n - 4, ".xml") == 0)
			snprintf(out_buf, sizeof(out_buf), "%.*s-signed.xml", (int)(n - 4), o.file);
		else if (o.xades)
			snprintf(out_buf, sizeof(out_buf), o.place == FORMATS_XADES_DETACHED ?
			         "%s.xades.xml" : "%s-signed.xml", o.file);
		else if (o.pades && n > 4 && strcasecmp(o.file + n - 4, ".pdf") == 0)
			snprintf(out_buf, sizeof(out_buf), "%.*s-signed.pdf", (int)(n - 4), o.file);
		else
			snprintf(out_buf, sizeof(out_buf), o.pades ? "%s-signed.pdf" : "%s.p7s", o.file);
		o.output = out_buf;
	}
	if (access(o.output, F_OK) == 0)
		return cli_fail(c, INK_ERR_EXISTS, "%s exists: choose another name with --output", o.output);
	/* PAdES B-LT: the signed revision goes to a name of its own; its validation data make the
	 * output. */
	pdf_out = o.output;
	if (o.pades && o.lt > 0) {
		snprintf(tmp, sizeof(tmp), "%s.sig-%ld.tmp", o.output, (long)getpid());
		pdf_out = tmp;
	}

	if ((r = get_signer(c, o.cred, &s)) != 0)
		goto out;
	if (o.xades) {
		struct cli_xades_job job = {
			.file = o.file, .output = o.output, .cred = s.cred, .tsa = o.tsa,
			.certs = (const uint8_t *const *)s.certs, .cert_lens = s.cert_lens,
			.ncerts = s.ncerts, .signer = s.name, .subject = s.subject, .place = o.place,
			.bt = o.bt, .lt = o.lt, .level = o.level, .pss = o.pss, .yes = o.yes,
			.how = { .browser = o.browser, .file = o.file },
		};

		r = cli_sign_xades(c, &job);
		goto out;
	}
	/* The document is hashed here; only hashes go to the service. */
	if ((r = formats_digest_file(o.file, tty ? progress : NULL, NULL, fmd, &size)) != 0) {
		r = cli_fail(c, r, "cannot read %s: %s", o.file, ink_err_str(r));
		goto out;
	}
	if (o.pades) {
		struct formats_pdf_opts po = { .contents_max = FORMATS_PDF_CONTENTS_DEFAULT, .when = now,
		                               .reason = o.reason };

		if (o.visible && (r = appearance(c, &s, &o, now, vis_text, &po)) != 0)
			goto out;
		r = formats_pdf_prepare(o.file, pdf_out, &po, &pdf);
		if (r == INK_ERR_INVALID && o.visible) {
			r = cli_fail(c, r, "cannot prepare %s for signing: is page %d there, and the "
			             "rectangle %gx%g at (%g, %g) sensible (points)?", o.file, o.vis.page,
			             o.vis.w, o.vis.h, o.vis.x, o.vis.y);
			goto out;
		}
		if (r != 0) {
			r = cli_fail(c, r, "cannot prepare %s for signing: %s (an unencrypted, undamaged PDF "
			             "with at least one page is needed)", o.file, ink_err_str(r));
			goto out;
		}
		made_pdf = true;
		if ((r = formats_pdf_digest(pdf, NULL, NULL, md)) != 0)
			goto out;
	} else {
		memcpy(md, fmd, sizeof(md));
	}
	{
		struct formats_cms_params p = {
			.cert = s.certs[0],
			.cert_len = s.cert_lens[0],
			.extra = (const uint8_t *const *)&s.certs[1],
			.extra_lens = &s.cert_lens[1],
			.nextra = s.ncerts - 1,
			.content_digest = md,
			.signing_time = !o.pades,
			.when = now,
			.pss = o.pss,
		};

		if ((r = formats_cms_prepare(&p, &cms)) != 0) {
			r = cli_fail(c, r, r == INK_ERR_UNSUPPORTED ?
			             "this credential's key cannot sign a hash of signed attributes (use an ECDSA or RSA key)" :
			             "cannot prepare the signature: %s", ink_err_str(r));
			goto out;
		}
	}
	hex_encode(fmd, sizeof(fmd), hex);
	fprintf(stderr, "file         %s\nsize         %llu bytes\nSHA-256      %s\nsigner       ", o.file,
	        (unsigned long long)size, hex);
	cli_put_safe(stderr, s.name);
	fputs("\ncertificate  ", stderr);
	cli_put_safe(stderr, s.subject);
	fprintf(stderr, "\nformat       %s %s%s\noutput       %s\n", o.pades ? "PAdES" : "CAdES",
	        o.level, o.pades ? "" : (o.attached ? " (attached)" : " (detached)"), o.output);
	if ((r = confirm(c, o.yes)) != 0)
		goto out;
	if ((r = authorize_and_sign(c, &s, o.browser, o.file, cms)) != 0)
		goto out;
	if (o.bt && (r = add_timestamp(c, o.tsa, cms)) != 0)
		goto out;
	if (o.pades) {
		if ((r = formats_cms_der(cms, &der, &der_len)) != 0 ||
		    (r = formats_pdf_embed(pdf, der, der_len)) != 0) {
			r = cli_fail(c, r, "cannot write the signature into %s: %s", pdf_out, ink_err_str(r));
			goto out;
		}
		if (o.lt > 0) {
			struct cli_ltv lo = { .lta = o.lt == 2, .tsa = o.tsa };

			if ((r = cli_pades_ltv(c, pdf_out, o.output, &lo)) != 0)
				goto out;
		} else {
			made_pdf = false;
		}
	} else if ((r = write_cades(c, &o, cms, size)) != 0) {
		goto out;
	} else if (o.lt > 0 &&
	           (r = cli_cades_extend_file(c, o.output, NULL, o.lt == 2, o.tsa, o.file)) != 0) {
		/* nothing half done stays behind: the B-T file goes too */
		(void)unlink(o.output);
		goto out;
	}
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "file", o.file, "output", o.output,
		                      "format", o.pades ? "pades" : "cades", "level", o.level,
		                      "size", (json_int_t)size);

		r = cli_print_json(j);
		json_decref(j);
	} else {
		printf("signed: %s\n", o.output);
	}
out:
	if (made_pdf)
		(void)unlink(pdf_out);
	signer_clear(&s);
	free(der);
	formats_cms_free(cms);
	formats_pdf_free(pdf);
	return r;
}
