/* ep_metrics: GET /metrics — Prometheus text format 0.0.4, on the listen_metrics listener only
 * (docs/operations.md, "Metrics"): the request counters of metrics.c, and the state of the
 * service read at each scrape — SAM channels and work slots in use, connections, the audit
 * backlog, certificate and CRL expiry, the clock, the version. No label holds a user name, a
 * credential ID or anything else a client sent. */
#include "server/server.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "ca/ca.h"
#include "sam/sam.h"

#ifndef INKAN_VERSION
#define INKAN_VERSION "unknown"
#endif

#define METRICS_MAX (4u * 1024u * 1024u)
/* The CA's certificates and CRL are asked of inkan-sam at most this often (seconds). */
#define EXPIRY_CACHE 60

struct expiry {
	int64_t at;                 /* when read (0: never) */
	int64_t ca, tsa, crl;       /* notAfter, nextUpdate (0: none or unreadable) */
};

static pthread_mutex_t expiry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct expiry expiry_cache;

static int64_t
pem_not_after(int r, char *pem)
{
	struct ca_cert_facts f;

	if (r != 0)
		return 0;
	ca_cert_facts(pem, &f);
	free(pem);
	return f.present ? f.not_after : 0;
}

/* What inkan-sam publishes, read again once the cache is EXPIRY_CACHE seconds old. */
static void
read_expiry(struct srv *s, int64_t now, struct expiry *out)
{
	char *pem = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	pthread_mutex_lock(&expiry_mu);
	if (expiry_cache.at == 0 || now - expiry_cache.at >= EXPIRY_CACHE) {
		expiry_cache.at = now;
		r = sam_ca_chain(s->sam, &pem);
		expiry_cache.ca = pem_not_after(r, pem);
		pem = NULL;
		r = sam_ca_tsa(s->sam, &pem);
		expiry_cache.tsa = pem_not_after(r, pem);
		expiry_cache.crl = 0;
		if (sam_ca_crl(s->sam, &der, &len) == 0) {
			if (ca_crl_next_update(der, len, &expiry_cache.crl) != 0)
				expiry_cache.crl = 0;
			free(der);
		}
	}
	*out = expiry_cache;
	pthread_mutex_unlock(&expiry_mu);
}

static void
gauge(struct srv_mtext *t, const char *name, const char *help, long long v)
{
	srv_metrics_family(t, name, "gauge", help);
	srv_metrics_printf(t, "%s %lld\n", name, v);
}

/* A listener's label: its classes ("signer,admin,public", "metrics"). */
static void
listener_label(const struct srv_listener *l, char *out, size_t outsz)
{
	static const struct { unsigned bit; const char *name; } cls[] = {
		{ SRV_SIGNER, "signer" }, { SRV_ADMIN, "admin" }, { SRV_PUBLIC, "public" },
		{ SRV_METRICS, "metrics" },
	};
	size_t i, off = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < INK_ARRAY_LEN(cls); i++) {
		if (!(l->classes & cls[i].bit))
			continue;
		n = snprintf(out + off, outsz - off, "%s%s", off > 0 ? "," : "", cls[i].name);
		if (n > 0 && (size_t)n < outsz - off)
			off += (size_t)n;
	}
}

static void
load_metrics(struct srv_mtext *t, struct srv *s)
{
	static const char *const kinds[SRV_GATE_N_] = {
		[SRV_GATE_ARGON2] = "argon2", [SRV_GATE_VERIFY] = "verify",
	};
	struct srv_load ld;
	struct sam_load sl;
	char label[64];
	size_t i;

	sam_client_load(s->sam, &sl);
	gauge(t, "inkan_sam_up", "1 while inkan-sam answers on its channels", sl.alive ? 1 : 0);
	gauge(t, "inkan_sam_channels", "channels to inkan-sam", sl.channels);
	gauge(t, "inkan_sam_channels_busy", "channels with a request to inkan-sam under way "
	      "(the SAM's queue depth)", sl.busy);
	gauge(t, "inkan_sam_channel_waiters", "requests waiting for a free channel to inkan-sam",
	      sl.waiting);

	srv_limits_load(s, &ld);
	srv_metrics_family(t, "inkan_slots", "gauge", "slots for bounded work (argon2: Argon2id "
	                   "runs in inkand and inkan-sam; verify: signature validations)");
	for (i = SRV_GATE_NONE + 1; i < SRV_GATE_N_; i++)
		srv_metrics_printf(t, "inkan_slots{kind=\"%s\"} %u\n", kinds[i], ld.slots[i]);
	srv_metrics_family(t, "inkan_slots_in_use", "gauge", "slots of bounded work in use now");
	for (i = SRV_GATE_NONE + 1; i < SRV_GATE_N_; i++)
		srv_metrics_printf(t, "inkan_slots_in_use{kind=\"%s\"} %u\n", kinds[i], ld.busy[i]);
	srv_metrics_family(t, "inkan_slots_waiting", "gauge", "requests queued for a slot");
	for (i = SRV_GATE_NONE + 1; i < SRV_GATE_N_; i++)
		srv_metrics_printf(t, "inkan_slots_waiting{kind=\"%s\"} %u\n", kinds[i], ld.waiting[i]);
	srv_metrics_family(t, "inkan_connections", "gauge", "connections open, by listener (its "
	                   "endpoint classes)");
	for (i = 0; i < s->nls; i++) {
		listener_label(&s->ls[i], label, sizeof(label));
		srv_metrics_printf(t, "inkan_connections{listener=\"%s\"} %u\n", label,
		                   ld.connections[i]);
	}
	gauge(t, "inkan_request_body_bytes", "bytes of request bodies held now (max_body_total "
	      "bounds it)", ld.body_bytes);
}

static void
audit_metrics(struct srv_mtext *t, int64_t now)
{
	uint64_t pending = 0, size = 0;
	int64_t when = 0;

	audit_log_status(&pending, &size, &when);
	gauge(t, "inkan_audit_backlog_records", "audit records written and not yet under a signed "
	      "checkpoint", (long long)pending);
	gauge(t, "inkan_audit_checkpoint_size", "records under the last signed checkpoint",
	      (long long)size);
	if (when > 0) {
		gauge(t, "inkan_audit_last_checkpoint_timestamp_seconds", "time of the last signed "
		      "checkpoint since the Unix epoch", when);
		gauge(t, "inkan_audit_seconds_since_checkpoint", "seconds since the last signed "
		      "checkpoint (a quiet log needs none: alert on it with a backlog)", now - when);
	}
}

static void
alert_metrics(struct srv_mtext *t)
{
	int a;

	srv_metrics_family(t, "inkan_alerts_total", "counter", "security alerts inkand raised, by "
	                   "alert name (docs/operations.md; inkan-sam's own go to the journal)");
	for (a = 0; a < INK_ALERT_N_; a++)
		srv_metrics_printf(t, "inkan_alerts_total{alert=\"%s\"} %llu\n", ink_alert_name(a),
		                   ink_alert_count(a));
	srv_metrics_family(t, "inkan_lockouts_total", "counter", "accounts inkand locked after "
	                   "failed logins (persons and credentials lock in inkan-sam: refusals "
	                   "with reason locked)");
	srv_metrics_printf(t, "inkan_lockouts_total{kind=\"account\"} %llu\n",
	                   ink_alert_count(INK_ALERT_ACCOUNT_LOCKED));
}

static void
expiry_metrics(struct srv_mtext *t, struct srv *s, int64_t now)
{
	struct ca_cert_facts tls;
	struct expiry e;

	read_expiry(s, now, &e);
	ca_cert_facts(s->cfg.plain_http ? NULL : s->tls_cert, &tls);
	srv_metrics_family(t, "inkan_certificate_expiry_seconds", "gauge", "seconds until the "
	                   "certificate's notAfter (negative: expired)");
	if (e.ca > 0)
		srv_metrics_printf(t, "inkan_certificate_expiry_seconds{certificate=\"ca\"} %lld\n",
		                   (long long)(e.ca - now));
	if (e.tsa > 0)
		srv_metrics_printf(t, "inkan_certificate_expiry_seconds{certificate=\"tsa\"} %lld\n",
		                   (long long)(e.tsa - now));
	if (tls.present)
		srv_metrics_printf(t, "inkan_certificate_expiry_seconds{certificate=\"tls\"} %lld\n",
		                   (long long)(tls.not_after - now));
	if (e.crl > 0)
		gauge(t, "inkan_crl_next_update_seconds", "seconds until the CRL's nextUpdate "
		      "(negative: stale)", (long long)(e.crl - now));
}

static void
clock_metrics(struct srv_mtext *t)
{
	struct ink_clock c;

	if (ink_clock_state(&c) != 0)
		return;
	gauge(t, "inkan_clock_synchronised", "1 when the kernel reports the clock synchronised",
	      c.synced ? 1 : 0);
	srv_metrics_family(t, "inkan_clock_maxerror_seconds", "gauge", "the kernel's maximum "
	                   "error of the clock");
	srv_metrics_printf(t, "inkan_clock_maxerror_seconds %.6f\n", (double)c.maxerror_us / 1e6);
}

void
ep_metrics(struct srv_request *rq)
{
	struct srv *s = rq->srv;
	struct srv_mtext t = { .err = 0 };
	int64_t now = ink_now();

	buf_init(&t.b, METRICS_MAX, false);
	/* labels in quotes: neither version text holds a quote or a backslash */
	srv_metrics_family(&t, "inkan_build_info", "gauge", "the version of inkan and of OpenSSL");
	srv_metrics_printf(&t, "inkan_build_info{version=\"%s\",openssl_version=\"%s\"} 1\n",
	                   INKAN_VERSION, OpenSSL_version(OPENSSL_VERSION));
	srv_metrics_render_counters(&t);
	load_metrics(&t, s);
	audit_metrics(&t, now);
	alert_metrics(&t);
	expiry_metrics(&t, s, now);
	clock_metrics(&t);
	if (t.err != 0)
		reply_ink_err(rq, t.err, NULL);
	else
		reply_bytes(rq, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", t.b.data, t.b.len);
	buf_free(&t.b);
}
