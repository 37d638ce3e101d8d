/* report: indications, the problems of one signature, the report and its JSON and text forms. */
#include "verify/verify_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct verify_report {
	json_t *root;       /* {format, validation_time, trust_anchors, signatures: [...], all_passed} */
	json_t *sigs;       /* borrowed: root.signatures */
	enum verify_indication ind[VERIFY_MAX_SIGNATURES];
	enum verify_sub sub[VERIFY_MAX_SIGNATURES];
	size_t n;
};

static const char *const sub_names[VERIFY_SUB_MAX_] = {
	[VERIFY_SUB_NONE] = "",
	[VERIFY_SUB_FORMAT_FAILURE] = "FORMAT_FAILURE",
	[VERIFY_SUB_HASH_FAILURE] = "HASH_FAILURE",
	[VERIFY_SUB_SIG_CRYPTO_FAILURE] = "SIG_CRYPTO_FAILURE",
	[VERIFY_SUB_REVOKED] = "REVOKED",
	[VERIFY_SUB_EXPIRED] = "EXPIRED",
	[VERIFY_SUB_NOT_YET_VALID] = "NOT_YET_VALID",
	[VERIFY_SUB_SIGNED_DATA_NOT_FOUND] = "SIGNED_DATA_NOT_FOUND",
	[VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND] = "NO_SIGNING_CERTIFICATE_FOUND",
	[VERIFY_SUB_NO_CERTIFICATE_CHAIN_FOUND] = "NO_CERTIFICATE_CHAIN_FOUND",
	[VERIFY_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE] = "CERTIFICATE_CHAIN_GENERAL_FAILURE",
	[VERIFY_SUB_CHAIN_CONSTRAINTS_FAILURE] = "CHAIN_CONSTRAINTS_FAILURE",
	[VERIFY_SUB_REVOKED_NO_POE] = "REVOKED_NO_POE",
	[VERIFY_SUB_REVOKED_CA_NO_POE] = "REVOKED_CA_NO_POE",
	[VERIFY_SUB_OUT_OF_BOUNDS_NOT_REVOKED] = "OUT_OF_BOUNDS_NOT_REVOKED",
	[VERIFY_SUB_OUT_OF_BOUNDS_NO_POE] = "OUT_OF_BOUNDS_NO_POE",
	[VERIFY_SUB_TRY_LATER] = "TRY_LATER",
	[VERIFY_SUB_SIG_CONSTRAINTS_FAILURE] = "SIG_CONSTRAINTS_FAILURE",
	[VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE] = "CRYPTO_CONSTRAINTS_FAILURE",
};

const char *
verify_indication_str(enum verify_indication ind)
{
	switch (ind) {
	case VERIFY_TOTAL_PASSED:
		return "TOTAL-PASSED";
	case VERIFY_TOTAL_FAILED:
		return "TOTAL-FAILED";
	case VERIFY_INDETERMINATE:
		break;
	}
	return "INDETERMINATE";
}

const char *
verify_sub_str(enum verify_sub sub)
{
	if ((unsigned)sub >= VERIFY_SUB_MAX_)
		return "";
	return sub_names[sub];
}

/* ---- issues of one signature ---- */

void
issues_init(struct verify_issues *is)
{
	memset(is, 0, sizeof(*is));
	is->problems = json_array();
	is->warnings = json_array();
}

void
issues_free(struct verify_issues *is)
{
	json_decref(is->problems);
	json_decref(is->warnings);
	is->problems = is->warnings = NULL;
}

void
issue_add(struct verify_issues *is, enum verify_indication ind, enum verify_sub sub,
          const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (is->n < VERIFY_MAX_ISSUES) {
		is->v[is->n].ind = ind;
		is->v[is->n].sub = sub;
		is->n++;
	}
	if (is->problems != NULL)
		json_array_append_new(is->problems,
		                      json_pack("{s:s, s:s, s:s}", "indication", verify_indication_str(ind),
		                                "sub_indication", verify_sub_str(sub), "detail", msg));
}

void
warn_add(struct verify_issues *is, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (is->warnings != NULL)
		json_array_append_new(is->warnings, json_string(msg));
}

void
issues_result(const struct verify_issues *is, enum verify_indication *ind, enum verify_sub *sub)
{
	enum verify_indication best_ind = VERIFY_TOTAL_PASSED;
	enum verify_sub best_sub = VERIFY_SUB_NONE;
	size_t i;

	/* TOTAL-FAILED outranks INDETERMINATE; within one indication the enum order decides. */
	for (i = 0; i < is->n; i++) {
		if (is->v[i].ind > best_ind ||
		    (is->v[i].ind == best_ind && is->v[i].sub < best_sub)) {
			best_ind = is->v[i].ind;
			best_sub = is->v[i].sub;
		}
	}
	*ind = best_ind;
	*sub = best_sub;
}

void
issues_to_json(struct verify_issues *is, json_t *obj)
{
	enum verify_indication ind;
	enum verify_sub sub;

	issues_result(is, &ind, &sub);
	json_object_set_new(obj, "indication", json_string(verify_indication_str(ind)));
	json_object_set_new(obj, "sub_indication",
	                    sub == VERIFY_SUB_NONE ? json_null() : json_string(verify_sub_str(sub)));
	json_object_set_new(obj, "problems", is->problems != NULL ? is->problems : json_array());
	json_object_set_new(obj, "warnings", is->warnings != NULL ? is->warnings : json_array());
	is->problems = is->warnings = NULL;
}

/* ---- the report ---- */

/* The service's own CAs and the current CRLs it gave: {source, cas, current_crls: [...]}. */
static json_t *
service_json(const struct verify_ctx *ctx)
{
	json_t *o, *crls;
	X509_CRL *crl;
	int i;

	if ((o = json_pack("{s:s?, s:I, s:[]}", "source", ctx->service_source, "cas",
	                   (json_int_t)verify_ctx_service_count(ctx), "current_crls")) == NULL)
		return NULL;
	crls = json_object_get(o, "current_crls");
	for (i = 0; i < sk_X509_CRL_num(ctx->service_crls); i++) {
		crl = sk_X509_CRL_value(ctx->service_crls, i);
		json_array_append_new(crls, json_pack("{s:o, s:o, s:o}", "issuer",
		                      json_name(X509_CRL_get_issuer(crl)), "this_update",
		                      json_time(asn1_time_secs(X509_CRL_get0_lastUpdate(crl))),
		                      "next_update",
		                      json_time(asn1_time_secs(X509_CRL_get0_nextUpdate(crl)))));
	}
	return o;
}

static int
report_new(struct verify_ctx *ctx, const char *format, struct verify_report **out)
{
	struct verify_report *r = NULL;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return INK_ERR_ALLOC;
	r->root = json_pack("{s:s, s:o, s:I, s:b, s:[]}", "format", format,
	                    "validation_time", json_time(ctx->now),
	                    "trust_anchors", (json_int_t)verify_ctx_trust_count(ctx),
	                    "revocation_fetch", ctx->fetch, "signatures");
	if (r->root == NULL) {
		free(r);
		return INK_ERR_ALLOC;
	}
	/* Whether the service's current status was at hand: null when it was not consulted. */
	json_object_set_new(r->root, "service", verify_ctx_service_count(ctx) > 0 ?
	                    service_json(ctx) : json_null());
	r->sigs = json_object_get(r->root, "signatures");
	*out = r;
	return 0;
}

int
report_add(struct verify_report *r, json_t *sig, enum verify_indication ind, enum verify_sub sub)
{
	if (sig == NULL)
		return INK_ERR_ALLOC;
	if (r->n >= VERIFY_MAX_SIGNATURES) {
		json_decref(sig);
		return INK_ERR_TOO_LARGE;
	}
	json_object_set_new(sig, "index", json_integer((json_int_t)r->n + 1));
	if (json_array_append_new(r->sigs, sig) != 0)
		return INK_ERR_ALLOC;
	r->ind[r->n] = ind;
	r->sub[r->n] = sub;
	r->n++;
	return 0;
}

void
verify_report_free(struct verify_report *r)
{
	if (r == NULL)
		return;
	json_decref(r->root);
	free(r);
}

size_t
verify_report_count(const struct verify_report *r)
{
	return r != NULL ? r->n : 0;
}

enum verify_indication
verify_report_indication(const struct verify_report *r, size_t i)
{
	return r != NULL && i < r->n ? r->ind[i] : VERIFY_INDETERMINATE;
}

enum verify_sub
verify_report_sub(const struct verify_report *r, size_t i)
{
	return r != NULL && i < r->n ? r->sub[i] : VERIFY_SUB_NONE;
}

bool
verify_report_all_passed(const struct verify_report *r)
{
	size_t i;

	if (r == NULL || r->n == 0)
		return false;
	for (i = 0; i < r->n; i++) {
		if (r->ind[i] != VERIFY_TOTAL_PASSED)
			return false;
	}
	return true;
}

json_t *
verify_report_json(const struct verify_report *r)
{
	json_t *copy;

	if (r == NULL || (copy = json_deep_copy(r->root)) == NULL)
		return NULL;
	json_object_set_new(copy, "all_passed", json_boolean(verify_report_all_passed(r)));
	return copy;
}

/* ---- the human summary ---- */

static void
put_safe(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
line(FILE *f, const char *indent, const char *label, const char *value)
{
	if (value == NULL)
		return;
	fprintf(f, "%s%-16s", indent, label);
	put_safe(f, value);
	fputc('\n', f);
}

static void
print_result(FILE *f, const json_t *o)
{
	const char *sub = jstr(o, "sub_indication");

	put_safe(f, jstr(o, "indication") != NULL ? jstr(o, "indication") : "?");
	if (sub != NULL) {
		fputc('/', f);
		put_safe(f, sub);
	}
}

static void
print_chain(FILE *f, const char *indent, const json_t *chain)
{
	const json_t *c, *rev;
	size_t i;

	json_array_foreach(chain, i, c) {
		fprintf(f, "%s%-16s", indent, i == 0 ? "chain" : "");
		put_safe(f, jstr(c, "subject") != NULL ? jstr(c, "subject") : "?");
		rev = json_object_get(c, "revocation");
		if (json_is_true(json_object_get(c, "trust_anchor"))) {
			fputs(" (trust anchor)", f);
		} else if (rev != NULL && jstr(rev, "status") != NULL) {
			fputs(" [", f);
			put_safe(f, jstr(rev, "status"));
			if (jstr(rev, "source") != NULL) {
				fputs(", ", f);
				put_safe(f, jstr(rev, "source"));
			}
			if (jstr(rev, "this_update") != NULL) {
				fputs(" of ", f);
				put_safe(f, jstr(rev, "this_update"));
			}
			fputc(']', f);
		}
		fputc('\n', f);
	}
}

static void
print_list(FILE *f, const char *indent, const char *label, const json_t *arr, bool problems)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v) {
		fprintf(f, "%s%-16s", indent, i == 0 ? label : "");
		if (problems) {
			print_result(f, v);
			fputs(": ", f);
			put_safe(f, jstr(v, "detail") != NULL ? jstr(v, "detail") : "");
		} else if (json_is_string(v)) {
			put_safe(f, json_string_value(v));
		}
		fputc('\n', f);
	}
}

static void
print_timestamp(FILE *f, const json_t *ts, const char *label)
{
	fprintf(f, "    %-16s", label);
	put_safe(f, jstr(ts, "gen_time") != NULL ? jstr(ts, "gen_time") : "-");
	fputs(" by ", f);
	put_safe(f, jstr(json_object_get(ts, "signer"), "subject") != NULL ?
	            jstr(json_object_get(ts, "signer"), "subject") : "?");
	fputs(": ", f);
	print_result(f, ts);
	fputc('\n', f);
	print_list(f, "      ", "problem", json_object_get(ts, "problems"), true);
}

void
verify_report_print(const struct verify_report *r, FILE *f)
{
	const json_t *s, *ts, *pdf, *u;
	size_t i, j, passed = 0;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		s = json_array_get(r->sigs, i);
		fprintf(f, "Signature %zu of %zu (%s): ", i + 1, r->n,
		        jstr(s, "format") != NULL ? jstr(s, "format") : "?");
		print_result(f, s);
		fputc('\n', f);
		line(f, "    ", "signer", jstr(json_object_get(s, "signer"), "subject"));
		line(f, "    ", "checked over", jstr(s, "signed_content"));
		line(f, "    ", "signing time", jstr(s, "claimed_signing_time"));
		line(f, "    ", "best sig. time", jstr(s, "best_signature_time"));
		line(f, "    ", "algorithm", jstr(s, "signature_algorithm"));
		line(f, "    ", "level", jstr(s, "level"));
		json_array_foreach(json_object_get(s, "timestamps"), j, ts)
			print_timestamp(f, ts, "time-stamp");
		json_array_foreach(json_object_get(s, "archive_timestamps"), j, ts)
			print_timestamp(f, ts, "archive stamp");
		print_chain(f, "    ", json_object_get(s, "chain"));
		if ((pdf = json_object_get(s, "pdf")) != NULL) {
			fprintf(f, "    %-16s%s\n", "byte range",
			        json_is_true(json_object_get(pdf, "byte_range_ok")) ?
			        "covers the revision except /Contents" : "DOES NOT cover the revision");
			json_array_foreach(json_object_get(pdf, "modifications"), j, u) {
				fprintf(f, "    %-16s", j == 0 ? "changed after" : "");
				put_safe(f, jstr(u, "where") != NULL ? jstr(u, "where") : "?");
				fputs(": ", f);
				put_safe(f, jstr(u, "change") != NULL ? jstr(u, "change") : "?");
				fputs(json_is_true(json_object_get(u, "permitted")) ? " (permitted)\n" :
				      " (NOT PERMITTED)\n", f);
			}
		}
		print_list(f, "    ", "problem", json_object_get(s, "problems"), true);
		print_list(f, "    ", "warning", json_object_get(s, "warnings"), false);
		if (r->ind[i] == VERIFY_TOTAL_PASSED)
			passed++;
	}
	fprintf(f, "%zu of %zu signature%s TOTAL-PASSED\n", passed, r->n, r->n == 1 ? "" : "s");
}

/* ---- the entry point ---- */

int
verify_format_parse(const char *s, enum verify_format *out)
{
	static const struct {
		const char *name;
		enum verify_format f;
	} names[] = {
		{ "auto", VERIFY_FORMAT_AUTO }, { "cades", VERIFY_FORMAT_CADES },
		{ "cms", VERIFY_FORMAT_CADES }, { "pades", VERIFY_FORMAT_PADES },
		{ "timestamp", VERIFY_FORMAT_TIMESTAMP }, { "xades", VERIFY_FORMAT_XADES },
	};
	size_t i;

	for (i = 0; s != NULL && i < INK_ARRAY_LEN(names); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return INK_ERR_INVALID;
}

int
verify_run(struct verify_ctx *ctx, const struct verify_input *in, struct verify_report **out,
           char *err, size_t errsz)
{
	struct verify_report *r = NULL;
	enum verify_format fmt = in->format;
	static const char *const fmt_names[] = { "auto", "cades", "pades", "timestamp", "xades" };
	int ret;

	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	ctx->now = ctx->time != 0 ? ctx->time : ink_now();
	if (in->sig == NULL || in->sig_len == 0) {
		snprintf(err, errsz, "empty signature input");
		return INK_ERR_INVALID;
	}
	if (in->digest != NULL && (in->digest_oid == NULL || in->doc != NULL)) {
		snprintf(err, errsz, "a document digest needs its algorithm, and excludes the document");
		return INK_ERR_INVALID;
	}
	if (fmt == VERIFY_FORMAT_XADES || (fmt == VERIFY_FORMAT_AUTO && xades_detect(in->sig, in->sig_len)))
		fmt = VERIFY_FORMAT_XADES;
	else if ((ret = input_detect(in, &fmt, err, errsz)) != 0)
		return ret;
	if ((ret = report_new(ctx, fmt_names[fmt], &r)) != 0)
		return ret;
	if (fmt == VERIFY_FORMAT_PADES)
		ret = pdf_validate(ctx, in->sig, in->sig_len, r, err, errsz);
	else if (fmt == VERIFY_FORMAT_XADES)
		ret = xades_run(ctx, in, r, err, errsz);
	else
		ret = cms_run(ctx, in, fmt, r, err, errsz);
	if (ret != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	verify_report_free(r);
	return ret;
}
