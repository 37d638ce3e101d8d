/* metrics: inkand's counters for GET /metrics (docs/operations.md, "Metrics") — requests by
 * route and status, their latency, signatures by algorithm, refusals by route and reason —
 * and the Prometheus text format they are written in. Every counter is a C11 atomic in a
 * fixed array indexed by the routing table, the status or the reason: a request costs a few
 * relaxed increments, and no label ever holds what a client sent. */
#include "server/server.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"

/* Routes the arrays have room for, the last one for requests that matched none. */
#define MET_ROUTES 96
#define MET_ALGS 16

static const unsigned statuses[] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503,
};
#define MET_STATUSES (INK_ARRAY_LEN(statuses) + 1)   /* the last: any other */

/* Upper bounds of the latency buckets, in microseconds (the text says seconds). */
static const uint64_t bounds_us[] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000,
};
#define MET_BUCKETS (INK_ARRAY_LEN(bounds_us) + 1)   /* the last: +Inf */

static const char *const reasons[SRV_REASON_N_] = {
	[SRV_REASON_NONE] = "other",
	[SRV_REASON_INVALID] = "invalid_request",
	[SRV_REASON_TOO_LARGE] = "too_large",
	[SRV_REASON_MEDIA_TYPE] = "media_type",
	[SRV_REASON_NOT_FOUND] = "not_found",
	[SRV_REASON_METHOD] = "method_not_allowed",
	[SRV_REASON_TOKEN] = "invalid_token",
	[SRV_REASON_AUTH] = "authentication_failed",
	[SRV_REASON_WRONG_OTP] = "wrong_otp",
	[SRV_REASON_WRONG_PIN] = "wrong_pin",
	[SRV_REASON_BAD_SAD] = "sad_invalid",
	[SRV_REASON_SAD_EXPIRED] = "sad_expired",
	[SRV_REASON_NOT_AUTHORIZED] = "hash_not_authorized",
	[SRV_REASON_POLICY] = "policy",
	[SRV_REASON_LOCKED] = "locked",
	[SRV_REASON_DENIED] = "denied",
	[SRV_REASON_SOD] = "separation_of_duties",
	[SRV_REASON_PASSWORD_CHANGE] = "password_change_required",
	[SRV_REASON_ENROL] = "enrolment_required",
	[SRV_REASON_CERT] = "certificate_expired_or_revoked",
	[SRV_REASON_CONFLICT] = "conflict",
	[SRV_REASON_RATE] = "rate_limited",
	[SRV_REASON_BUSY] = "busy",
	[SRV_REASON_UNAVAILABLE] = "unavailable",
	[SRV_REASON_INTERNAL] = "internal_error",
};

static struct {
	atomic_ullong requests[MET_ROUTES][MET_STATUSES];
	atomic_ullong buckets[MET_ROUTES][MET_BUCKETS];
	atomic_ullong sum_us[MET_ROUTES];
	atomic_ullong refusals[MET_ROUTES][SRV_REASON_N_];
	atomic_ullong signatures[MET_ALGS];
	atomic_ullong cut;   /* requests whose connection ended before a reply */
} met;

static int64_t started_at;

int
srv_metrics_start(void)
{
	size_t n;

	(void)policy_sig_algs(&n);
	if (srv_routes_len >= MET_ROUTES || n > MET_ALGS) {
		log_bug("metrics: %zu routes or %zu algorithms do not fit", srv_routes_len, n);
		return INK_ERR_INTERNAL;
	}
	started_at = ink_now();
	return 0;
}

static size_t
route_index(const struct srv_route *rt)
{
	return rt != NULL ? (size_t)(rt - srv_routes) : srv_routes_len;
}

static size_t
status_index(unsigned status)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(statuses); i++)
		if (statuses[i] == status)
			return i;
	return INK_ARRAY_LEN(statuses);
}

/* The reason a refusal is counted under when the handler named none: its status's. */
static enum srv_reason
reason_of_status(unsigned status)
{
	switch (status) {
	case MHD_HTTP_BAD_REQUEST: return SRV_REASON_INVALID;
	case MHD_HTTP_UNAUTHORIZED: return SRV_REASON_TOKEN;
	case MHD_HTTP_FORBIDDEN: return SRV_REASON_DENIED;
	case MHD_HTTP_NOT_FOUND: return SRV_REASON_NOT_FOUND;
	case MHD_HTTP_METHOD_NOT_ALLOWED: return SRV_REASON_METHOD;
	case MHD_HTTP_CONFLICT: return SRV_REASON_CONFLICT;
	case MHD_HTTP_CONTENT_TOO_LARGE: return SRV_REASON_TOO_LARGE;
	case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE: return SRV_REASON_MEDIA_TYPE;
	case MHD_HTTP_TOO_MANY_REQUESTS: return SRV_REASON_RATE;
	case MHD_HTTP_SERVICE_UNAVAILABLE: return SRV_REASON_BUSY;
	default: return status >= 500 ? SRV_REASON_INTERNAL : SRV_REASON_NONE;
	}
}

void
srv_metrics_request(const struct srv_request *rq, uint64_t elapsed_us)
{
	size_t r = route_index(rq->route), b;
	enum srv_reason why;

	if (rq->status == 0) {
		atomic_fetch_add_explicit(&met.cut, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&met.requests[r][status_index(rq->status)], 1, memory_order_relaxed);
	for (b = 0; b < INK_ARRAY_LEN(bounds_us) && elapsed_us > bounds_us[b]; b++)
		;
	atomic_fetch_add_explicit(&met.buckets[r][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&met.sum_us[r], elapsed_us, memory_order_relaxed);
	if (rq->status >= 400) {
		why = rq->reason != SRV_REASON_NONE ? rq->reason : reason_of_status(rq->status);
		atomic_fetch_add_explicit(&met.refusals[r][why], 1, memory_order_relaxed);
	}
}

void
srv_metrics_signatures(const struct policy_sig_alg *alg, size_t n)
{
	size_t count;
	const struct policy_sig_alg *all = policy_sig_algs(&count);
	size_t i = (size_t)(alg - all);

	if (alg != NULL && i < count && i < MET_ALGS)
		atomic_fetch_add_explicit(&met.signatures[i], n, memory_order_relaxed);
}

enum srv_reason
srv_reason_of_err(int err)
{
	switch (err) {
	case INK_ERR_INVALID: return SRV_REASON_INVALID;
	case INK_ERR_TOO_LARGE: return SRV_REASON_TOO_LARGE;
	case INK_ERR_NOT_FOUND: return SRV_REASON_NOT_FOUND;
	case INK_ERR_EXISTS: case INK_ERR_IDENTITY: return SRV_REASON_CONFLICT;
	case INK_ERR_AUTH: case INK_ERR_DISABLED: return SRV_REASON_AUTH;
	case INK_ERR_EXPIRED: return SRV_REASON_TOKEN;
	case INK_ERR_BAD_PIN: return SRV_REASON_WRONG_PIN;
	case INK_ERR_SAD_EXPIRED: return SRV_REASON_SAD_EXPIRED;
	case INK_ERR_NOT_AUTHORIZED: return SRV_REASON_NOT_AUTHORIZED;
	case INK_ERR_POLICY: return SRV_REASON_POLICY;
	case INK_ERR_LOCKED: return SRV_REASON_LOCKED;
	case INK_ERR_DENIED: return SRV_REASON_DENIED;
	case INK_ERR_SOD: return SRV_REASON_SOD;
	case INK_ERR_PASSWORD_CHANGE: return SRV_REASON_PASSWORD_CHANGE;
	case INK_ERR_ENROL: return SRV_REASON_ENROL;
	case INK_ERR_BUSY: return SRV_REASON_BUSY;
	case INK_ERR_SAM_UNAVAILABLE: case INK_ERR_CLOCK: return SRV_REASON_UNAVAILABLE;
	default: return SRV_REASON_INTERNAL;
	}
}

/* ---- the text format (Prometheus exposition format 0.0.4) ---- */

void
srv_metrics_printf(struct srv_mtext *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (t->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* a line that does not fit is a bug of ours: no cut line, no text at all */
	if (n < 0 || (size_t)n >= sizeof(line)) {
		log_bug("metrics line too long");
		t->err = INK_ERR_INTERNAL;
	} else {
		t->err = buf_put(&t->b, line, (size_t)n);
	}
}

void
srv_metrics_family(struct srv_mtext *b, const char *name, const char *type, const char *help)
{
	srv_metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A route's labels: its pattern and method (endpoint="/csc/v2/signatures/signHash",
 * method="POST"); a request that matched no route: endpoint="unmatched", method="". */
static void
route_label(size_t r, char *out, size_t outsz)
{
	if (r < srv_routes_len)
		snprintf(out, outsz, "endpoint=\"%s\",method=\"%s\"", srv_routes[r].path,
		         srv_routes[r].method);
	else
		snprintf(out, outsz, "endpoint=\"unmatched\",method=\"\"");
}

static bool
is_authorize(size_t r)
{
	return r < srv_routes_len && srv_routes[r].fn == ep_csc_authorize;
}

void
srv_metrics_render_counters(struct srv_mtext *b)
{
	const struct policy_sig_alg *algs;
	unsigned long long v, cum, granted = 0, authz[SRV_REASON_N_] = { 0 };
	char ep[160];
	size_t r, i, nalg;

	srv_metrics_family(b, "inkan_http_requests_total", "counter",
	                   "HTTP requests answered, by route pattern and status");
	for (r = 0; r <= srv_routes_len; r++) {
		route_label(r, ep, sizeof(ep));
		for (i = 0; i < MET_STATUSES; i++) {
			if ((v = atomic_load_explicit(&met.requests[r][i], memory_order_relaxed)) == 0)
				continue;
			if (i < INK_ARRAY_LEN(statuses))
				srv_metrics_printf(b, "inkan_http_requests_total{%s,status=\"%u\"} "
				                   "%llu\n", ep, statuses[i], v);
			else
				srv_metrics_printf(b, "inkan_http_requests_total{%s,status=\"other\"} "
				                   "%llu\n", ep, v);
			if (is_authorize(r) && statuses[i] == 200)
				granted += v;
		}
	}
	srv_metrics_printf(b, "# HELP inkan_http_requests_cut_total requests whose connection ended "
	                   "before a reply\n# TYPE inkan_http_requests_cut_total counter\n"
	                   "inkan_http_requests_cut_total %llu\n",
	                   (unsigned long long)atomic_load(&met.cut));

	srv_metrics_family(b, "inkan_http_request_duration_seconds", "histogram",
	                   "time from a request's first byte to its reply, by route pattern");
	for (r = 0; r <= srv_routes_len; r++) {
		unsigned long long n = 0;

		for (i = 0; i < MET_BUCKETS; i++)
			n += atomic_load_explicit(&met.buckets[r][i], memory_order_relaxed);
		if (n == 0)
			continue;
		route_label(r, ep, sizeof(ep));
		cum = 0;
		for (i = 0; i < MET_BUCKETS; i++) {
			cum += atomic_load_explicit(&met.buckets[r][i], memory_order_relaxed);
			if (i < INK_ARRAY_LEN(bounds_us))
				srv_metrics_printf(b, "inkan_http_request_duration_seconds_bucket{%s,"
				                   "le=\"%g\"} %llu\n", ep, (double)bounds_us[i] / 1e6, cum);
			else
				srv_metrics_printf(b, "inkan_http_request_duration_seconds_bucket{%s,"
				                   "le=\"+Inf\"} %llu\n", ep, cum);
		}
		srv_metrics_printf(b, "inkan_http_request_duration_seconds_sum{%s} %.6f\n",
		                   ep, (double)atomic_load(&met.sum_us[r]) / 1e6);
		srv_metrics_printf(b, "inkan_http_request_duration_seconds_count{%s} %llu\n",
		                   ep, cum);
	}

	srv_metrics_family(b, "inkan_refusals_total", "counter",
	                   "requests refused (status 400 and above), by route pattern and reason");
	for (r = 0; r <= srv_routes_len; r++) {
		route_label(r, ep, sizeof(ep));
		for (i = 0; i < SRV_REASON_N_; i++) {
			if ((v = atomic_load_explicit(&met.refusals[r][i], memory_order_relaxed)) == 0)
				continue;
			srv_metrics_printf(b, "inkan_refusals_total{%s,reason=\"%s\"} %llu\n",
			                   ep, reasons[i], v);
			if (is_authorize(r))
				authz[i] += v;
		}
	}

	srv_metrics_family(b, "inkan_authorizations_total", "counter",
	                   "credentials/authorize requests (v1 and v2): granted, or the reason refused");
	srv_metrics_printf(b, "inkan_authorizations_total{result=\"granted\"} %llu\n", granted);
	for (i = 0; i < SRV_REASON_N_; i++)
		if (authz[i] > 0)
			srv_metrics_printf(b, "inkan_authorizations_total{result=\"%s\"} %llu\n", reasons[i],
			                   authz[i]);

	srv_metrics_family(b, "inkan_signatures_total", "counter",
	                   "signatures made through signatures/signHash, by signature algorithm");
	algs = policy_sig_algs(&nalg);
	for (i = 0; i < nalg && i < MET_ALGS; i++)
		srv_metrics_printf(b, "inkan_signatures_total{algorithm=\"%s\"} %llu\n", algs[i].name,
		                   (unsigned long long)atomic_load(&met.signatures[i]));

	srv_metrics_family(b, "process_start_time_seconds", "gauge",
	                   "start time of inkand since the Unix epoch in seconds");
	srv_metrics_printf(b, "process_start_time_seconds %lld\n", (long long)started_at);
}

unsigned long long
srv_metrics_requests_total(void)
{
	unsigned long long n = 0;
	size_t r, i;

	for (r = 0; r <= srv_routes_len; r++)
		for (i = 0; i < MET_STATUSES; i++)
			n += atomic_load_explicit(&met.requests[r][i], memory_order_relaxed);
	return n;
}
