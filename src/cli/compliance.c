/* compliance: `inkan compliance [--json | --html FILE] [--key PEM] [--verify FILE]` — the
 * ISO/IEC 27017 report of the running service (system auditor; docs/compliance.md): fetched,
 * or read from a file; inkan-sam's signed attestation checked against the audit log key the
 * auditor trusts, every piece of evidence credited to the SAM checked against it, every verdict
 * resting on the SAM's claims recomputed from them; printed as a
 * summary, as the JSON received, or as a printable bilingual HTML page. */
#include "cli/cli.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define USAGE "compliance [--json | --html FILE] [--key PEM] [--verify REPORT.json]"
#define REPORT_MAX (8u * 1024u * 1024u)

/* What the check of the SAM's part found. */
struct attest_check {
	int r;                  /* 0 verified, CLI_ERR_UNPROVEN no key given, else the failure */
	char why[512];
	char key_sha256[AUDIT_FPR_HEX];
};

/* Recomputes every verdict that rests on the SAM's signed claims (audit_sam_verdict) and
 * compares it with the report's, and the summary with the verdicts: 0, or INK_ERR_CRYPTO
 * with why naming the first disagreement. A control the claims decide must say what they
 * say; one they decide in part must not be met when its SAM part is not; each must be there
 * once. */
static int
check_verdicts(const json_t *rep, const json_t *claims, char *why, size_t whysz)
{
	const char *ids[16], *v;
	const json_t *ctl, *sum = json_object_get(rep, "summary");
	json_int_t count[3] = { 0, 0, 0 };
	char note[512];
	size_t n = audit_sam_controls(ids, INK_ARRAY_LEN(ids)), i, j, seen;
	bool met, whole;

	json_array_foreach(json_object_get(rep, "controls"), i, ctl) {
		v = cli_jstr(ctl, "verdict");
		count[strcmp(v, "met") == 0 ? 0 : strcmp(v, "not_met") == 0 ? 1 : 2]++;
	}
	if (json_integer_value(json_object_get(sum, "met")) != count[0] ||
	    json_integer_value(json_object_get(sum, "not_met")) != count[1] ||
	    json_integer_value(json_object_get(sum, "organisational")) != count[2]) {
		snprintf(why, whysz, "the summary does not count the controls' verdicts");
		return INK_ERR_CRYPTO;
	}
	for (j = 0; j < n && j < INK_ARRAY_LEN(ids); j++) {
		if (audit_sam_verdict(claims, ids[j], &met, &whole, note, sizeof(note)) != 0)
			return INK_ERR_INTERNAL;
		seen = 0;
		json_array_foreach(json_object_get(rep, "controls"), i, ctl) {
			if (strcmp(cli_jstr(ctl, "id"), ids[j]) != 0)
				continue;
			seen++;
			v = cli_jstr(ctl, "verdict");
			if ((whole && strcmp(v, met ? "met" : "not_met") != 0) ||
			    (!whole && !met && strcmp(v, "not_met") != 0)) {
				snprintf(why, whysz, "control %s: the report says %.16s, the SAM's signed values "
				         "give %s (%.160s)", ids[j], v, met ? "met" : "not_met", note);
				return INK_ERR_CRYPTO;
			}
		}
		if (seen != 1) {
			snprintf(why, whysz, "control %s, which the SAM's signed values decide, is in the "
			         "report %zu times", ids[j], seen);
			return INK_ERR_CRYPTO;
		}
	}
	return 0;
}

/* Checks the SAM's attestation against spki (NULL: none trusted) and every "inkan-sam" evidence
 * item against its signed claims. */
static void
check_attestation(const json_t *rep, const uint8_t *spki, size_t spki_len, struct attest_check *ac)
{
	const json_t *sam = json_object_get(rep, "sam"), *ctl, *e;
	const char *text = json_string_value(json_object_get(sam, "attestation"));
	uint8_t sig[AUDIT_SIG_MAX];
	json_t *claims = NULL;
	size_t sig_len = 0, i, j;

	memset(ac, 0, sizeof(*ac));
	ac->r = INK_ERR_CRYPTO;
	if (text == NULL || audit_attest_sig_from_json(sam, sig, &sig_len) != 0) {
		snprintf(ac->why, sizeof(ac->why), "the report carries no well-formed SAM attestation");
		return;
	}
	if (audit_attest_parse(text, &claims) != 0) {
		snprintf(ac->why, sizeof(ac->why), "the SAM attestation is malformed");
		return;
	}
	if (!json_equal(claims, json_object_get(sam, "claims"))) {
		snprintf(ac->why, sizeof(ac->why), "sam.claims differ from the signed attestation");
		goto out;
	}
	json_array_foreach(json_object_get(rep, "controls"), i, ctl) {
		json_array_foreach(json_object_get(ctl, "evidence"), j, e) {
			const char *src = json_string_value(json_object_get(e, "source"));
			const char *name = json_string_value(json_object_get(e, "claim"));

			if (src == NULL || strcmp(src, "inkan-sam") != 0)
				continue;
			if (name == NULL || !json_equal(json_object_get(e, "value"),
			                                json_object_get(claims, name))) {
				snprintf(ac->why, sizeof(ac->why), "control %s: evidence \"%s\" is not what "
				         "the SAM signed", json_string_value(json_object_get(ctl, "id")),
				         name != NULL ? name : "?");
				goto out;
			}
		}
	}
	if (check_verdicts(rep, claims, ac->why, sizeof(ac->why)) != 0)
		goto out;
	if (spki == NULL) {
		ac->r = CLI_ERR_UNPROVEN;
		snprintf(ac->why, sizeof(ac->why), "no --key given: the SAM's signature is unchecked");
		goto out;
	}
	audit_key_fingerprint(spki, spki_len, ac->key_sha256);
	if (strcmp(json_string_value(json_object_get(claims, "log_key_sha256")) != NULL ?
	           json_string_value(json_object_get(claims, "log_key_sha256")) : "",
	           ac->key_sha256) != 0 ||
	    audit_attest_verify(text, sig, sig_len, spki, spki_len) != 0) {
		snprintf(ac->why, sizeof(ac->why), "the SAM attestation's signature does not verify "
		         "with the trusted log key");
		goto out;
	}
	ac->r = 0;
out:
	json_decref(claims);
}

/* ---- the printable page ---- */

static void
html_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n')
				fputc('?', f);
			else
				fputc(*s, f);
		}
	}
}

static void
html_value(FILE *f, const json_t *v)
{
	char *t;

	if (json_is_string(v)) {
		html_text(f, json_string_value(v));
		return;
	}
	/* jansson's own allocator (the CLI's wipes what it frees) */
	if ((t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL) {
		html_text(f, t);
		json_text_free(t);
	}
}

static const char CSS[] =
	"body{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:1.5em;color:#111}"
	"h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}"
	"table{border-collapse:collapse;width:100%;font-size:0.82em}"
	"th,td{border:1px solid #888;padding:4px;vertical-align:top;text-align:left}"
	"th{background:#eee}.met{background:#dfd}.not_met{background:#fdd}"
	".organisational{background:#eef}.ja{color:#333}.ev{font-family:monospace;font-size:0.9em}"
	".ok{color:#060;font-weight:bold}.bad{color:#a00;font-weight:bold}"
	"@media print{body{margin:0}tr{page-break-inside:avoid}}";

static int
write_html(const char *path, const json_t *rep, const struct attest_check *ac, const char *hash)
{
	const json_t *ctl, *e, *sum = json_object_get(rep, "summary");
	FILE *f = fopen(path, "w");
	size_t i, j;

	if (f == NULL)
		return INK_ERR_IO;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">"
	        "<title>ISO/IEC 27017 適合性報告 / Compliance report</title><style>%s</style></head>"
	        "<body>\n", CSS);
	fputs("<h1>ISO/IEC 27017 適合性報告 — 稼働中のシステムから<br>"
	      "ISO/IEC 27017 compliance report — from the running system</h1>\n<p>", f);
	fputs("サービス / Service: ", f);
	html_text(f, cli_jstr(rep, "service"));
	fputs("<br>作成日時 / Generated (UTC): ", f);
	html_text(f, cli_jstr(rep, "generated_at"));
	fprintf(f, "<br>保証レベル / Assurance level: %lld", (long long)json_integer_value(
	        json_object_get(rep, "assurance_level")));
	fprintf(f, "<br>報告の SHA-256（監査ログに記録） / Report SHA-256 (recorded in the audit "
	        "log): <span class=\"ev\">%s</span></p>\n", hash);
	fputs("<h2>inkan-sam の署名付き申告 / inkan-sam's signed attestation</h2>\n<p>", f);
	if (ac->r == 0)
		fprintf(f, "<span class=\"ok\">検証済み / VERIFIED</span> — 信頼するログ鍵 / trusted "
		        "log key SHA-256 <span class=\"ev\">%s</span>", ac->key_sha256);
	else if (ac->r == CLI_ERR_UNPROVEN)
		fputs("<span class=\"bad\">未検証 / NOT CHECKED</span> — ", f);
	else
		fputs("<span class=\"bad\">検証失敗 / VERIFICATION FAILED</span> — ", f);
	html_text(f, ac->why);
	fprintf(f, "</p>\n<h2>概要 / Summary</h2>\n<p>適合 / met: %lld　不適合 / not met: %lld　"
	        "組織的管理策 / organisational: %lld</p>\n",
	        (long long)json_integer_value(json_object_get(sum, "met")),
	        (long long)json_integer_value(json_object_get(sum, "not_met")),
	        (long long)json_integer_value(json_object_get(sum, "organisational")));
	fputs("<h2>管理策ごとの判定 / Controls</h2>\n<table><tr><th>管理策<br>Control</th>"
	      "<th>名称<br>Title</th><th>判定<br>Verdict</th><th>システムの実施内容<br>What the "
	      "service does</th><th>判定の根拠・必要な対応<br>Reason, what to do or show</th>"
	      "<th>証跡（稼働中のシステムから）<br>Live evidence</th></tr>\n", f);
	json_array_foreach(json_object_get(rep, "controls"), i, ctl) {
		const char *v = cli_jstr(ctl, "verdict");

		fputs("<tr><td>", f);
		html_text(f, cli_jstr(ctl, "id"));
		fputs("</td><td><span class=\"ja\">", f);
		html_text(f, cli_jstr(ctl, "title_ja"));
		fputs("</span><br>", f);
		html_text(f, cli_jstr(ctl, "title"));
		fprintf(f, "</td><td class=\"%s\">", strcmp(v, "met") == 0 ? "met" :
		        strcmp(v, "not_met") == 0 ? "not_met" : "organisational");
		html_text(f, cli_jstr(ctl, "verdict_ja"));
		fputs("<br>", f);
		html_text(f, v);
		fputs("</td><td><span class=\"ja\">", f);
		html_text(f, cli_jstr(ctl, "does_ja"));
		fputs("</span><br>", f);
		html_text(f, cli_jstr(ctl, "does"));
		fputs("</td><td>", f);
		html_text(f, cli_jstr(ctl, strcmp(v, "met") == 0 ? "remark" :
		                        strcmp(v, "not_met") == 0 ? "to_meet" : "operator_must_show"));
		fputs("</td><td class=\"ev\">", f);
		json_array_foreach(json_object_get(ctl, "evidence"), j, e) {
			const char *name = cli_jstr(e, "claim");

			html_text(f, cli_jstr(e, "source"));
			fputs(": ", f);
			html_text(f, *name != '\0' ? name : cli_jstr(e, "name"));
			fputs(" = ", f);
			html_value(f, json_object_get(e, "value"));
			fputs("<br>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n<h2>inkan-sam の申告（署名対象の全文） / The attestation as signed</h2>\n"
	      "<pre class=\"ev\">", f);
	html_text(f, cli_jstr(json_object_get(rep, "sam"), "attestation"));
	fputs("</pre>\n</body></html>\n", f);
	return fclose(f) == 0 ? 0 : INK_ERR_IO;
}

static void
print_summary(const json_t *rep)
{
	const json_t *ctl;
	size_t i;

	printf("%-8s %-15s %s\n", "CONTROL", "VERDICT", "TITLE / WHAT IT TAKES");
	json_array_foreach(json_object_get(rep, "controls"), i, ctl) {
		const char *v = cli_jstr(ctl, "verdict");

		cli_put_cell(stdout, cli_jstr(ctl, "id"), 9);
		cli_put_cell(stdout, v, 16);
		cli_put_safe(stdout, cli_jstr(ctl, "title"));
		printf("\n%25s", "");
		cli_put_safe(stdout, cli_jstr(ctl, strcmp(v, "met") == 0 ? "remark" :
		                               strcmp(v, "not_met") == 0 ? "to_meet" :
		                               "operator_must_show"));
		printf("\n");
	}
}

int
cmd_compliance(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "html", required_argument, NULL, 'H' },
		{ "key", required_argument, NULL, 'k' },
		{ "verify", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct attest_check ac;
	const char *html = NULL, *keyfile = NULL, *from = NULL;
	uint8_t *raw = NULL, *spki = NULL, dig[32];
	char *pem = NULL, hash[65];
	size_t len = 0, spki_len = 0;
	json_error_t jerr;
	json_t *rep = NULL;
	int ch, r;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'H':
			html = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'v':
			from = optarg;
			break;
		case 'h':
			printf("usage: inkan %s\n", USAGE);
			return 0;
		default:
			return cli_usage(USAGE);
		}
	}
	if (optind != argc || (html != NULL && c->json))
		return cli_usage(USAGE);
	if (keyfile != NULL) {
		r = ink_read_file(keyfile, 65536, &pem, NULL);
		if (r != 0 || audit_pem_to_spki(pem, &spki, &spki_len) != 0) {
			free(pem);
			return cli_fail(c, INK_ERR_INVALID, "%s: not a PEM public key", keyfile);
		}
		free(pem);
	}
	if (from != NULL)
		r = ink_read_file(from, REPORT_MAX, (char **)&raw, &len);
	else
		r = cli_http_raw(c, "/api/v1/compliance", "application/json", CLI_AUTH_BEARER, &raw, &len);
	if (r != 0) {
		if (from != NULL)
			r = cli_fail(c, r, "%s: cannot read it", from);
		goto out;
	}
	if ((rep = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_array(json_object_get(rep, "controls"))) {
		r = cli_fail(c, INK_ERR_INVALID, "not a compliance report (%s)", jerr.text);
		goto out;
	}
	SHA256(raw, len, dig);
	hex_encode(dig, sizeof(dig), hash);
	check_attestation(rep, spki, spki_len, &ac);
	if (html != NULL && (r = write_html(html, rep, &ac, hash)) != 0) {
		r = cli_fail(c, r, "%s: cannot write it", html);
		goto out;
	}
	if (c->json) {
		fwrite(raw, 1, len, stdout);
		fputc('\n', stdout);
	} else if (html == NULL) {
		print_summary(rep);
	}
	if (!c->json) {
		printf("report sha256 %s (compliance.report in the audit log)\n", hash);
		if (ac.r == 0)
			printf("SAM attestation verified with the trusted log key %s\n", ac.key_sha256);
	}
	r = ac.r;
	if (r == CLI_ERR_UNPROVEN) {
		fprintf(stderr, "inkan: SAM attestation UNPROVEN: %s\n", ac.why);
		c->reported = true;
	} else if (r != 0) {
		r = cli_fail(c, r, "SAM attestation FAILED: %s", ac.why);
	}
out:
	json_decref(rep);
	free(raw);
	free(spki);
	return r;
}
