/* inkan-mixed-bench: authorizations (Argon2id PIN checks) and signatures side by side on a real
 * inkand, each phase against the machine's limit measured in the same run. */
#include <argon2.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "bench.h"

#define MB_ACCOUNTS 200
#define MB_MAX_ACCOUNTS 1000
#define MB_BULK_SADS 400
#define MB_BULK_BATCH 100          /* hashes per bulk SAD and request (multisign's default) */
#define MB_PROBE_BATCH 100         /* hashes per probe SAD, spent one per request */
#define MB_PROBES 2
#define MB_PROBE_PERIOD 0.02       /* seconds between a probe's requests */
#define MB_AUTH_SECONDS 20
#define MB_PROBE_SECONDS 30
#define MB_MIX_WARMUP 2.0          /* signers run this long before the bulk signer starts */
#define MB_SPEED_SECONDS 3
#define MB_ARGON2_RUNS 3
#define MB_MAX_THREADS 128
#define MB_TOTP_MARGIN 15.0        /* seconds of a step left to use it (queueing on 2 cores) */
#define DIGEST_LEN SHA256_DIGEST_LENGTH
#define OID_SHA256 BENCH_OID_SHA256
#define SIGN_OID "1.2.840.10045.4.3.2"   /* ecdsa-with-SHA256 */
#define KEY_ALG "P-256"
#define SPEED_NAME "ecdsap256"

/* A growing list of latencies (seconds) and, for authorizations, when each ended. */
struct lat {
	double *v, *end;
	size_t n, cap;
};

/* One authorization: its SAD, its hashes and how many are spent. */
struct sad {
	size_t acct;
	char *sad;
	size_t n, next;
	uint8_t *digests;                    /* n * DIGEST_LEN */
	json_t *hashes;                      /* base64 of each */
	char *body;                          /* bulk: the signHash of all n, made before timing */
	char *reply;                         /* bulk: the answer as received */
	size_t reply_len;
};

/* One phase's figures. */
struct figures {
	double wall;                         /* the phase's measured window, seconds */
	size_t auths, sigs;                  /* authorizations ended in the window; bulk signatures */
	double auth_share;                   /* authorizations, each by its share of time in it */
	double auth_p50, auth_p99;           /* authorize latency, seconds */
	double sign_p50, sign_p99;           /* the signers' own signHash */
	double bulk_p50, bulk_p99;           /* the bulk signer's signHash (batch 100) */
	double probe_p50, probe_p99;         /* batch-1 signHash of the probes */
	size_t probes;
	double totp_wait;                    /* seconds threads waited for a usable TOTP step */
	double cpu_sam, cpu_inkand, cpu_client;
};

enum { PH_A, PH_B, PH_C0, PH_C1, PH_D, NPHASES };
static const char *const phase_names[NPHASES] = {
	"a: authorizations alone", "b: bulk signer alone", "c: probes, no authorizations",
	"c: probes, paced authorizations", "d: mixed",
};

struct mb {
	/* options */
	size_t naccounts, nauth, nbulk, nprobes, ncpus, batch, bulk_sads;
	double auth_secs, probe_secs, probe_period, pace;
	int speed_seconds;
	bool json;
	const char *openssl;
	/* run */
	struct bench_svc svc;
	char pin[40];
	struct bench_account ro, *acc;
	bool *busy;                          /* an authorization of the account is in flight */
	size_t rr;                           /* where the next search for an account starts */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bench_client *clients;        /* [0, nauth) signers, then bulk, then probes */
	size_t nclients;
	double argon2_secs[MB_ARGON2_RUNS], argon2_med, limit;
	double speed_n[2];                   /* openssl speed -multi N, before and after */
	char openssl_version[128];
	struct figures fig[NPHASES];
	double paced_rate;                   /* phase c1's target */
	double setup_secs, total_secs;
};

/* ---- latencies ---- */

static int
lat_push(struct lat *l, double v, double end)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 256 : 2 * l->cap;
		double *nv = realloc(l->v, cap * sizeof(*nv)), *ne;

		if (nv == NULL)
			return INK_ERR_ALLOC;
		l->v = nv;
		if ((ne = realloc(l->end, cap * sizeof(*ne))) == NULL)
			return INK_ERR_ALLOC;
		l->end = ne;
		l->cap = cap;
	}
	l->v[l->n] = v;
	l->end[l->n++] = end;
	return 0;
}

static void
lat_free(struct lat *l)
{
	free(l->v);
	free(l->end);
	memset(l, 0, sizeof(*l));
}

/* p50 and p99 of the latencies of ls[n] that ended in [from, to]; how many. *share (optional):
 * each request counted by the part of its time that fell in [from, to] — in a window not much
 * longer than a request (the mixed phase's), a count of those that ended would be mostly luck. */
static size_t
lat_stats(const struct lat *ls, size_t n, double from, double to, double *p50, double *p99,
          double *share)
{
	double *all, b, e;
	size_t i, k, cnt = 0, tot = 0;

	*p50 = *p99 = 0;
	if (share != NULL)
		*share = 0;
	for (i = 0; share != NULL && i < n; i++) {
		for (k = 0; k < ls[i].n; k++) {
			b = fmax(ls[i].end[k] - ls[i].v[k], from);
			e = fmin(ls[i].end[k], to);
			if (e > b && ls[i].v[k] > 0)
				*share += (e - b) / ls[i].v[k];
		}
	}
	for (i = 0; i < n; i++)
		tot += ls[i].n;
	if (tot == 0 || (all = malloc(tot * sizeof(*all))) == NULL)
		return 0;
	for (i = 0; i < n; i++)
		for (k = 0; k < ls[i].n; k++)
			if (ls[i].end[k] >= from && ls[i].end[k] <= to)
				all[cnt++] = ls[i].v[k];
	if (cnt > 0) {
		qsort(all, cnt, sizeof(*all), bench_cmp_double);
		*p50 = bench_percentile(all, cnt, 50);
		*p99 = bench_percentile(all, cnt, 99);
	}
	free(all);
	return cnt;
}

/* ---- accounts and TOTP steps ---- */

/* An account no authorization is using whose next TOTP step the SAM will take now, with that
 * step's code; waits (counted in *waited) until one is free. 1 when `until` (monotonic) came
 * first. */
static int
account_take(struct mb *m, double until, const atomic_bool *stop, size_t *idx, char otp[static 8], double *waited)
{
	struct timespec ts;
	uint32_t code = 0;
	double t0 = bench_mono_now(), now;
	size_t k, i = 0;
	int64_t s = -1;
	int r;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		now = bench_wall_now();
		for (k = 0; k < m->naccounts; k++) {
			i = (m->rr + k) % m->naccounts;
			if (!m->busy[i] && (s = bench_totp_pick(m->acc[i].last_step, now, MB_TOTP_MARGIN,
			                                        m->svc.cfg.totp_window)) >= 0)
				break;
		}
		if (k < m->naccounts)
			break;
		if (bench_interrupted || bench_mono_now() >= until ||
		    (stop != NULL && atomic_load(stop))) {
			pthread_mutex_unlock(&m->mu);
			*waited += bench_mono_now() - t0;
			return bench_interrupted ? INK_ERR_IO : 1;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
	m->busy[i] = true;
	m->acc[i].last_step = s;
	m->rr = i + 1;
	pthread_mutex_unlock(&m->mu);
	*waited += bench_mono_now() - t0;
	if ((r = auth_totp_code(m->acc[i].seed, m->acc[i].seedlen, s, &code)) != 0)
		return r;
	snprintf(otp, 8, "%06u", (unsigned)code);
	code = 0;
	*idx = i;
	return 0;
}

static void
account_release(struct mb *m, size_t i)
{
	pthread_mutex_lock(&m->mu);
	m->busy[i] = false;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

/* ---- requests ---- */

static void
sad_clear(struct sad *s)
{
	bench_freezero_str(&s->sad);
	bench_freezero_str(&s->body);       /* it holds the SAD */
	json_decref(s->hashes);
	free(s->digests);
	free(s->reply);
	memset(s, 0, sizeof(*s));
}

/* n random SHA-256 digests and their base64. */
static int
sad_digests(struct sad *s, size_t n)
{
	uint8_t rnd[32];
	char *b64 = NULL;
	size_t k;
	int r;

	s->n = n;
	if ((s->digests = malloc(n * DIGEST_LEN)) == NULL || (s->hashes = json_array()) == NULL)
		return INK_ERR_ALLOC;
	for (k = 0; k < n; k++) {
		if ((r = ink_random(rnd, sizeof(rnd))) != 0)
			return r;
		SHA256(rnd, sizeof(rnd), s->digests + k * DIGEST_LEN);
		if ((r = b64_encode(s->digests + k * DIGEST_LEN, DIGEST_LEN, &b64)) != 0)
			return r;
		r = json_array_append_new(s->hashes, json_string(b64));
		free(b64);
		b64 = NULL;
		if (r != 0)
			return INK_ERR_ALLOC;
	}
	return 0;
}

/* credentials/authorize of n fresh digests with the next free account: s gets the SAD. *lat:
 * the request's time; 1 when no account was free before `until`. */
static int
authorize(struct mb *m, struct bench_client *c, size_t n, double until,
          const atomic_bool *stop, struct sad *s, double *lat, double *waited)
{
	struct bench_account *a;
	const char *sad = NULL;
	json_t *reply = NULL;
	char otp[8];
	double t0;
	int r;

	if ((r = sad_digests(s, n)) != 0 || (r = account_take(m, until, stop, &s->acct, otp, waited)) != 0)
		return r;
	a = &m->acc[s->acct];
	t0 = bench_mono_now();
	r = bench_api_post(&m->svc, c, "/csc/v2/credentials/authorize", a->authz,
	                   json_pack("{s:s, s:I, s:O, s:s, s:s, s:s}", "credentialID", a->cred[0],
	                             "numSignatures", (json_int_t)n, "hashes", s->hashes,
	                             "hashAlgorithmOID", OID_SHA256, "PIN", m->pin, "OTP", otp),
	                   200, &reply);
	*lat = bench_mono_now() - t0;
	account_release(m, s->acct);
	OPENSSL_cleanse(otp, sizeof(otp));
	if (r != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s}", "SAD", &sad) != 0)
		goto out;
	r = (s->sad = strdup(sad)) != NULL ? 0 : INK_ERR_ALLOC;
out:
	json_decref(reply);
	return r;
}

/* The signHash body of hashes [from, from + n) of s. */
static char *
sign_body(const struct mb *m, const struct sad *s, size_t from, size_t n)
{
	json_t *hashes = json_array(), *body;
	char *text, *copy;
	size_t k;

	for (k = from; hashes != NULL && k < from + n; k++)
		if (json_array_append(hashes, json_array_get(s->hashes, k)) != 0) {
			json_decref(hashes);
			return NULL;
		}
	body = hashes == NULL ? NULL :
	       json_pack("{s:s, s:s, s:o, s:s, s:s}", "credentialID", m->acc[s->acct].cred[0],
	                 "SAD", s->sad, "hashes", hashes, "hashAlgorithmOID", OID_SHA256,
	                 "signAlgo", SIGN_OID);
	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	/* jansson's allocator is not malloc: a copy the caller frees (wiped: it holds the SAD) */
	copy = text != NULL ? strdup(text) : NULL;
	bench_json_free_str(text);
	return copy;
}

/* signHash of hashes [s->next, s->next + n) of s; the answer must hold n signatures, the
 * first of which must verify (the bulk signer's are kept and checked after the phase). */
static int
sign(struct mb *m, struct bench_client *c, struct sad *s, size_t n, double *lat)
{
	char *body = s->body;
	json_error_t jerr;
	json_t *reply = NULL, *sigs;
	double t0;
	int r;

	if (body == NULL && (body = sign_body(m, s, s->next, n)) == NULL)
		return INK_ERR_ALLOC;
	t0 = bench_mono_now();
	r = bench_post_text(&m->svc, c, "/csc/v2/signatures/signHash", m->acc[s->acct].authz, body,
	                    200);
	*lat = bench_mono_now() - t0;
	if (body != s->body)
		bench_freezero_str(&body);
	if (r != 0)
		goto out;
	if (s->body != NULL) {
		/* parsed after the phase: the client's JSON work is not the server's */
		r = INK_ERR_ALLOC;
		if ((s->reply = malloc(c->reply.len + 1)) == NULL)
			goto out;
		memcpy(s->reply, c->reply.data, c->reply.len);
		s->reply_len = c->reply.len;
		s->next += n;
		r = 0;
		goto out;
	}
	r = INK_ERR_PROTOCOL;
	reply = json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr);
	sigs = json_object_get(reply, "signatures");
	if (json_array_size(sigs) != n ||
	    bench_verify_sig(m->acc[s->acct].pub[0], s->digests + s->next * DIGEST_LEN,
	                     json_string_value(json_array_get(sigs, 0))) != 0)
		goto out;
	s->next += n;
	r = 0;
out:
	c->reply.len = 0;
	json_decref(reply);
	return r;
}

/* A bulk answer holds its n signatures; the first and the last verify (not timed). */
static int
check_bulk(const struct mb *m, const struct sad *s)
{
	json_error_t jerr;
	json_t *reply = json_loadb(s->reply, s->reply_len, 0, &jerr);
	json_t *sigs = json_object_get(reply, "signatures");
	EVP_PKEY *pub = m->acc[s->acct].pub[0];
	int r = INK_ERR_PROTOCOL;

	if (json_array_size(sigs) == s->n &&
	    bench_verify_sig(pub, s->digests, json_string_value(json_array_get(sigs, 0))) == 0 &&
	    bench_verify_sig(pub, s->digests + (s->n - 1) * DIGEST_LEN,
	                     json_string_value(json_array_get(sigs, s->n - 1))) == 0)
		r = 0;
	json_decref(reply);
	return r;
}

/* ---- phases ---- */

enum role { R_PREP, R_SIGNER, R_BULK, R_PROBE };

struct phase {
	struct mb *m;
	double start, until;                 /* monotonic; signers and probes stop taking work */
	double pace;                         /* signers: authorizations/s of all together (0: free) */
	atomic_bool stop;
	atomic_int err;
	/* prepared SADs: bulk ones (one request each) or probes' (one hash per request) */
	struct sad *sads;
	size_t nsads;
	atomic_size_t next;
	size_t prep_batch;                   /* R_PREP: hashes per SAD */
	bool prep_bodies;                    /* R_PREP: make each SAD's signHash body */
	double bulk_start, bulk_end;
};

struct worker {
	struct phase *ph;
	enum role role;
	size_t t, of;                        /* the t-th of `of` workers of its role */
	struct bench_client *c;
	struct lat alat, slat;               /* authorize (or probe) and signHash latencies */
	double waited;
	pthread_t tid;
	bool started;
};

static void
fail(struct phase *ph, int r)
{
	int zero = 0;

	atomic_compare_exchange_strong(&ph->err, &zero, r);
}

static bool
going(struct phase *ph)
{
	return atomic_load(&ph->err) == 0 && !atomic_load(&ph->stop) && !bench_interrupted;
}

/* Authorizations of prepared SADs (untimed). */
static int
run_prep(struct worker *w)
{
	struct phase *ph = w->ph;
	double lat;
	size_t i;
	int r;

	while (going(ph) && (i = atomic_fetch_add(&ph->next, 1)) < ph->nsads) {
		struct sad *s = &ph->sads[i];

		if ((r = authorize(ph->m, w->c, ph->prep_batch, INFINITY, NULL, s, &lat,
		                    &w->waited)) != 0)
			return r;
		if (ph->prep_bodies && (s->body = sign_body(ph->m, s, 0, s->n)) == NULL)
			return INK_ERR_ALLOC;
	}
	return 0;
}

/* A signer's loop: authorize B hashes (a fresh TOTP step), then sign them, until the phase
 * ends; paced when ph->pace is set (this worker's share, evenly interleaved). */
static int
run_signer(struct worker *w)
{
	struct phase *ph = w->ph;
	struct mb *m = ph->m;
	struct sad s;
	double lat, at;
	size_t k;
	int r = 0;

	memset(&s, 0, sizeof(s));
	for (k = 0; going(ph); k++) {
		if (ph->pace > 0) {
			at = ph->start + ((double)(k * w->of + w->t)) / ph->pace;
			if (at >= ph->until)
				break;
			bench_sleep(at - bench_mono_now());
		}
		if (bench_mono_now() >= ph->until || !going(ph))
			break;
		r = authorize(m, w->c, m->batch, ph->until, &ph->stop, &s, &lat, &w->waited);
		if (r == 1) {
			r = 0;
			break;
		}
		if (r != 0 || (r = lat_push(&w->alat, lat, bench_mono_now())) != 0 ||
		    (r = sign(m, w->c, &s, s.n, &lat)) != 0 ||
		    (r = lat_push(&w->slat, lat, bench_mono_now())) != 0)
			break;
		sad_clear(&s);
	}
	sad_clear(&s);
	return r;
}

/* The bulk signer: each prepared SAD spent by one signHash of its 100 hashes. */
static int
run_bulk(struct worker *w)
{
	struct phase *ph = w->ph;
	double lat;
	size_t i;
	int r;

	while (atomic_load(&ph->err) == 0 && !bench_interrupted &&
	       (i = atomic_fetch_add(&ph->next, 1)) < ph->nsads) {
		if ((r = sign(ph->m, w->c, &ph->sads[i], ph->sads[i].n, &lat)) != 0 ||
		    (r = lat_push(&w->slat, lat, bench_mono_now())) != 0)
			return r;
	}
	return 0;
}

/* A probe: a signHash of one hash every probe_period seconds, from the prepared SADs. */
static int
run_probe(struct worker *w)
{
	struct phase *ph = w->ph;
	struct sad *s = NULL;
	double lat, at = ph->start + ph->m->probe_period * (double)w->t / (double)w->of;
	size_t i;
	int r;

	while (going(ph) && bench_mono_now() < ph->until) {
		if (s == NULL || s->next == s->n) {
			if ((i = atomic_fetch_add(&ph->next, 1)) >= ph->nsads) {
				fprintf(stderr, "%s: the probes ran out of SADs\n", bench_prog);
				return INK_ERR_INTERNAL;
			}
			s = &ph->sads[i];
		}
		bench_sleep(at - bench_mono_now());
		if ((r = sign(ph->m, w->c, s, 1, &lat)) != 0 ||
		    (r = lat_push(&w->alat, lat, bench_mono_now())) != 0)
			return r;
		at += ph->m->probe_period;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int r = 0;

	switch (w->role) {
	case R_PREP:
		r = run_prep(w);
		break;
	case R_SIGNER:
		r = run_signer(w);
		break;
	case R_BULK:
		r = run_bulk(w);
		break;
	case R_PROBE:
		r = run_probe(w);
		break;
	}
	if (r != 0)
		fail(w->ph, r);
	return NULL;
}

/* Starts n workers of a role on clients [c0, c0 + n). */
static int
workers_start(struct phase *ph, struct worker *w, size_t n, enum role role, size_t c0)
{
	size_t t;

	for (t = 0; t < n; t++) {
		w[t].ph = ph;
		w[t].role = role;
		w[t].t = t;
		w[t].of = n;
		w[t].c = &ph->m->clients[c0 + t];
		if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
			fail(ph, INK_ERR_INTERNAL);
			return INK_ERR_INTERNAL;
		}
		w[t].started = true;
	}
	return 0;
}

static void
workers_join(struct worker *w, size_t n)
{
	size_t t;

	for (t = 0; t < n; t++)
		if (w[t].started) {
			pthread_join(w[t].tid, NULL);
			w[t].started = false;
		}
}

static void
workers_free(struct worker *w, size_t n)
{
	size_t t;

	for (t = 0; t < n; t++) {
		lat_free(&w[t].alat);
		lat_free(&w[t].slat);
	}
	memset(w, 0, n * sizeof(*w));
}

static void
sads_free(struct sad *sads, size_t n)
{
	size_t i;

	for (i = 0; sads != NULL && i < n; i++)
		sad_clear(&sads[i]);
	free(sads);
}

/* n SADs of `batch` hashes each, authorized on all clients (untimed). */
static int
prepare_sads(struct mb *m, size_t n, size_t batch, bool bodies, struct sad **out)
{
	struct worker w[MB_MAX_THREADS];
	struct phase ph;
	size_t nw = m->nauth;
	double t0 = bench_mono_now();
	int r;

	*out = NULL;
	memset(&ph, 0, sizeof(ph));
	memset(w, 0, sizeof(w));
	ph.m = m;
	ph.nsads = n;
	ph.prep_batch = batch;
	ph.prep_bodies = bodies;
	if ((ph.sads = calloc(n, sizeof(*ph.sads))) == NULL)
		return INK_ERR_ALLOC;
	if (!m->json)
		fprintf(stderr, "%s: authorizing %zu SADs of %zu hashes (untimed)...", bench_prog, n,
		        batch);
	workers_start(&ph, w, nw, R_PREP, 0);
	workers_join(w, nw);
	workers_free(w, nw);
	if ((r = atomic_load(&ph.err)) == 0 && bench_interrupted)
		r = INK_ERR_IO;
	if (!m->json)
		fprintf(stderr, " %.1f s\n", bench_mono_now() - t0);
	if (r != 0) {
		sads_free(ph.sads, n);
		return r;
	}
	*out = ph.sads;
	return 0;
}

static void
cpu_mark(struct mb *m, double cpu[3])
{
	if (m->svc.sam == 0)
		m->svc.sam = bench_find_child(m->svc.inkand);
	cpu[0] = bench_proc_cpu(m->svc.sam);
	cpu[1] = bench_proc_cpu(m->svc.inkand);
	cpu[2] = bench_proc_cpu(getpid());
}

static void
cpu_since(struct mb *m, const double cpu[3], struct figures *f)
{
	double now[3];

	cpu_mark(m, now);
	f->cpu_sam = cpu[0] < 0 || now[0] < 0 ? -1 : now[0] - cpu[0];
	f->cpu_inkand = cpu[1] < 0 || now[1] < 0 ? -1 : now[1] - cpu[1];
	f->cpu_client = cpu[2] < 0 || now[2] < 0 ? -1 : now[2] - cpu[2];
}

/* One phase: signers (free or paced), the bulk signer over bulk[nbulk], probes over
 * probe[nprobe]. Alone, the signers and probes run for their seconds; with the bulk signer,
 * the signers start MB_MIX_WARMUP s earlier and the phase's window is the bulk signer's run. */
static int
run_phase(struct mb *m, int which, bool signers, double pace, struct sad *bulk, size_t nbulk,
          struct sad *probe, size_t nprobe)
{
	struct worker ws[MB_MAX_THREADS], wb[MB_MAX_THREADS], wp[MB_MAX_THREADS];
	struct figures *f = &m->fig[which];
	struct phase ph, phb;
	double cpu[3], from, to, secs;
	size_t i;
	int r;

	memset(&ph, 0, sizeof(ph));
	memset(&phb, 0, sizeof(phb));
	memset(ws, 0, sizeof(ws));
	memset(wb, 0, sizeof(wb));
	memset(wp, 0, sizeof(wp));
	memset(f, 0, sizeof(*f));
	ph.m = phb.m = m;
	ph.pace = pace;
	ph.sads = probe;
	ph.nsads = nprobe;
	phb.sads = bulk;
	phb.nsads = nbulk;
	secs = nprobe > 0 ? m->probe_secs : m->auth_secs;
	if (!m->json)
		fprintf(stderr, "%s: phase %s...", bench_prog, phase_names[which]);
	cpu_mark(m, cpu);
	ph.start = bench_mono_now();
	ph.until = nbulk > 0 ? INFINITY : ph.start + secs;
	if (signers)
		workers_start(&ph, ws, m->nauth, R_SIGNER, 0);
	if (nprobe > 0)
		workers_start(&ph, wp, m->nprobes, R_PROBE, m->nauth + m->nbulk);
	if (nbulk > 0) {
		if (signers)
			bench_sleep(MB_MIX_WARMUP);
		phb.start = bench_mono_now();
		cpu_mark(m, cpu);
		workers_start(&phb, wb, m->nbulk, R_BULK, m->nauth);
		workers_join(wb, m->nbulk);
		phb.bulk_end = bench_mono_now();
		cpu_since(m, cpu, f);
		atomic_store(&ph.stop, true);
		from = phb.start;
		to = phb.bulk_end;
	} else {
		from = ph.start;
		to = ph.until;
	}
	workers_join(ws, m->nauth);
	workers_join(wp, m->nprobes);
	if (nbulk == 0)
		cpu_since(m, cpu, f);
	if (!m->json)
		fprintf(stderr, " monotonic %.3f..%.3f (%.2f s)", from, to, to - from);
	if ((r = atomic_load(&ph.err)) == 0)
		r = atomic_load(&phb.err);
	if (r == 0 && bench_interrupted)
		r = INK_ERR_IO;
	if (r != 0)
		goto out;
	f->wall = to - from;
	for (i = 0; i < m->nauth; i++)
		f->totp_wait += ws[i].waited;
	{
		struct lat al[MB_MAX_THREADS], sl[MB_MAX_THREADS], pl[MB_MAX_THREADS];

		for (i = 0; i < m->nauth; i++) {
			al[i] = ws[i].alat;
			sl[i] = ws[i].slat;
		}
		f->auths = lat_stats(al, m->nauth, from, to, &f->auth_p50, &f->auth_p99,
		                     &f->auth_share);
		lat_stats(sl, m->nauth, from, to, &f->sign_p50, &f->sign_p99, NULL);
		for (i = 0; i < m->nbulk; i++)
			sl[i] = wb[i].slat;
		lat_stats(sl, m->nbulk, from, to, &f->bulk_p50, &f->bulk_p99, NULL);
		for (i = 0; i < m->nprobes; i++)
			pl[i] = wp[i].alat;
		f->probes = lat_stats(pl, m->nprobes, from, to, &f->probe_p50, &f->probe_p99,
		                      NULL);
	}
	for (i = 0; i < nbulk; i++) {
		f->sigs += bulk[i].n;
		if ((r = check_bulk(m, &bulk[i])) != 0) {
			fprintf(stderr, "%s: a bulk signHash answer does not hold %zu valid signatures\n",
			        bench_prog, bulk[i].n);
			goto out;
		}
	}
	if (!m->json)
		fprintf(stderr, " ok\n");
out:
	workers_free(ws, m->nauth);
	workers_free(wb, m->nbulk);
	workers_free(wp, m->nprobes);
	return r;
}

/* ---- the machine's limits ---- */

/* One Argon2id run at the configured cost, with libargon2 directly, MB_ARGON2_RUNS times; the
 * median. */
static int
argon2_calibrate(struct mb *m)
{
	uint8_t salt[16], out[32];
	double v[MB_ARGON2_RUNS], t0;
	size_t i;
	int r;

	if ((r = ink_random(salt, sizeof(salt))) != 0)
		return r;
	for (i = 0; i < MB_ARGON2_RUNS; i++) {
		t0 = bench_mono_now();
		if (argon2id_hash_raw((uint32_t)m->svc.cfg.argon2_t, (uint32_t)m->svc.cfg.argon2_m_kib,
		                      (uint32_t)m->svc.cfg.argon2_p, m->pin, strlen(m->pin), salt,
		                      sizeof(salt), out, sizeof(out)) != ARGON2_OK)
			return INK_ERR_CRYPTO;
		m->argon2_secs[i] = v[i] = bench_mono_now() - t0;
	}
	OPENSSL_cleanse(out, sizeof(out));
	qsort(v, MB_ARGON2_RUNS, sizeof(v[0]), bench_cmp_double);
	m->argon2_med = bench_percentile(v, MB_ARGON2_RUNS, 50);
	/* each run uses argon2_p lanes, at most one core each */
	m->limit = (double)m->ncpus /
	           (m->argon2_med * (double)(m->svc.cfg.argon2_p < (int64_t)m->ncpus ?
	                                     m->svc.cfg.argon2_p : (int64_t)m->ncpus));
	return 0;
}

static int
speed(struct mb *m, size_t run)
{
	const char *names[] = { SPEED_NAME };

	if (!m->json)
		fprintf(stderr, "%s: openssl speed -multi %zu %s (%s the phases)...\n", bench_prog,
		        m->ncpus, SPEED_NAME, run == 0 ? "before" : "after");
	return bench_openssl_speed(m->openssl, m->ncpus, m->speed_seconds, names, 1,
	                           &m->speed_n[run]);
}

/* ---- report ---- */

static double
ratio(double a, double c)
{
	return c > 0 ? a / c : 0;
}

static double
best_speed(const struct mb *m)
{
	return m->speed_n[0] > m->speed_n[1] ? m->speed_n[0] : m->speed_n[1];
}

static double
auth_rate(const struct figures *f)
{
	return ratio(f->auth_share, f->wall);
}

static double
bulk_rate(const struct figures *f)
{
	return ratio((double)f->sigs, f->wall);
}

static void
cpu_line(const struct mb *m, const char *what, const struct figures *f)
{
	double cap = (double)m->ncpus * f->wall;

	if (f->cpu_sam < 0 || f->cpu_inkand < 0 || f->cpu_client < 0)
		return;
	printf("  CPU during %s (%% of %zu CPUs x %.2f s): inkan-sam %.1f %%, inkand %.1f %%, "
	       "client %.1f %%, rest %.1f %%", what, m->ncpus, f->wall,
	       100 * ratio(f->cpu_sam, cap), 100 * ratio(f->cpu_inkand, cap),
	       100 * ratio(f->cpu_client, cap),
	       100 - 100 * ratio(f->cpu_sam + f->cpu_inkand + f->cpu_client, cap));
	/* per bulk request, when nothing else ran: what each side spends on one signHash of 100 */
	if (f->sigs > 0 && f->auths == 0)
		printf("; per bulk request: inkan-sam %.2f ms, inkand %.3f ms CPU",
		       1e3 * f->cpu_sam * MB_BULK_BATCH / (double)f->sigs,
		       1e3 * f->cpu_inkand * MB_BULK_BATCH / (double)f->sigs);
	printf("\n");
}

static void
print_table(const struct mb *m)
{
	const struct figures *a = &m->fig[PH_A], *b = &m->fig[PH_B], *c0 = &m->fig[PH_C0],
	                     *c1 = &m->fig[PH_C1], *d = &m->fig[PH_D];

	printf("inkan-mixed-bench: inkand on its defaults (Argon2id %lld KiB, t=%lld, p=%lld; "
	       "argon2_slots %lld), %zu accounts with a %s key, %zu CPUs\n",
	       (long long)m->svc.cfg.argon2_m_kib, (long long)m->svc.cfg.argon2_t,
	       (long long)m->svc.cfg.argon2_p, (long long)m->svc.cfg.argon2_slots, m->naccounts,
	       KEY_ALG, m->ncpus);
	printf("signers %zu (authorize %zu hash%s -> signHash), bulk signer %zu threads x %zu SADs "
	       "of %d, probes %zu every %.0f ms; setup %.0f s, total %.0f s; %s\n\n", m->nauth,
	       m->batch, m->batch == 1 ? "" : "es", m->nbulk, m->bulk_sads, MB_BULK_BATCH,
	       m->nprobes, m->probe_period * 1e3, m->setup_secs, m->total_secs, m->openssl_version);
	printf("Argon2id, one run with libargon2 in this process: %.3f s (median of %d: %.3f %.3f "
	       "%.3f); limit = %zu CPUs / that = %.2f authorizations/s\n\n", m->argon2_med,
	       MB_ARGON2_RUNS, m->argon2_secs[0], m->argon2_secs[1], m->argon2_secs[2], m->ncpus,
	       m->limit);
	printf("%-34s %8s %12s %10s %10s %10s\n", "phase", "window s", "figure", "limit", "ratio",
	       "TOTP wait");
	printf("%-34s %8.2f %9.2f /s %7.2f /s %9.0f%% %8.1f s\n", "(a) authorizations alone",
	       a->wall, auth_rate(a), m->limit, 100 * ratio(auth_rate(a), m->limit), a->totp_wait);
	printf("%-34s %8.2f %7.0f sig/s %7.0f /s %9.0f%%\n", "(b) bulk signer alone", b->wall,
	       bulk_rate(b), best_speed(m), 100 * ratio(bulk_rate(b), best_speed(m)));
	printf("%-34s %8.2f %9.2f /s %7.2f /s %9.0f%% %8.1f s\n", "(d) mixed: authorizations",
	       d->wall, auth_rate(d), m->limit, 100 * ratio(auth_rate(d), m->limit), d->totp_wait);
	printf("%-34s %8.2f %7.0f sig/s %7.0f /s %9.0f%%\n", "(d) mixed: bulk signer", d->wall,
	       bulk_rate(d), best_speed(m), 100 * ratio(bulk_rate(d), best_speed(m)));
	printf("\nlimit of (b) and (d): openssl speed -multi %zu -seconds %d %s, the better of "
	       "before / after: %.0f / %.0f sign/s\n\n", m->ncpus, m->speed_seconds, SPEED_NAME,
	       m->speed_n[0], m->speed_n[1]);
	printf("%-44s %9s %9s %9s %9s\n", "signHash latency", "requests", "p50 ms", "p99 ms",
	       "p99 / (c)");
	printf("%-44s %9zu %9.1f %9.1f %9s\n", "(c) probes (batch 1), no authorizations",
	       c0->probes, c0->probe_p50 * 1e3, c0->probe_p99 * 1e3, "1.00");
	printf("%-36s%5.2f/s %9zu %9.1f %9.1f %8.2fx\n", "(c) probes, authorizations paced at ",
	       auth_rate(c1), c1->probes, c1->probe_p50 * 1e3, c1->probe_p99 * 1e3,
	       ratio(c1->probe_p99, c0->probe_p99));
	printf("%-44s %9zu %9.1f %9.1f\n", "(b) bulk signer alone (batch 100)", b->sigs / MB_BULK_BATCH,
	       b->bulk_p50 * 1e3, b->bulk_p99 * 1e3);
	printf("%-44s %9zu %9.1f %9.1f\n", "(d) bulk signer, mixed (batch 100)",
	       d->sigs / MB_BULK_BATCH, d->bulk_p50 * 1e3, d->bulk_p99 * 1e3);
	printf("\n%-44s %9s %9s %9s\n", "authorize latency", "requests", "p50 ms", "p99 ms");
	printf("%-44s %9zu %9.1f %9.1f\n", "(a) alone", a->auths, a->auth_p50 * 1e3,
	       a->auth_p99 * 1e3);
	printf("%-44s %9zu %9.1f %9.1f\n", "(c) paced (target a quarter of the limit)", c1->auths,
	       c1->auth_p50 * 1e3, c1->auth_p99 * 1e3);
	printf("%-44s %9zu %9.1f %9.1f\n", "(d) mixed", d->auths, d->auth_p50 * 1e3,
	       d->auth_p99 * 1e3);
	printf("  paced target %.2f/s; signers' own signHash (batch %zu) p50/p99 ms: (a) %.1f / "
	       "%.1f, (d) %.1f / %.1f\n", m->paced_rate, m->batch, a->sign_p50 * 1e3,
	       a->sign_p99 * 1e3, d->sign_p50 * 1e3, d->sign_p99 * 1e3);
	cpu_line(m, "(b)", b);
	cpu_line(m, "(d)", d);
	cpu_line(m, "(a)", a);
}

static json_t *
figures_json(const struct figures *f)
{
	return json_pack("{s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:{s:f, "
	                 "s:f, s:f}}", "window_s", f->wall, "authorizations", (json_int_t)f->auths,
	                 "bulk_signatures", (json_int_t)f->sigs, "authorize_p50_ms",
	                 f->auth_p50 * 1e3, "authorize_p99_ms", f->auth_p99 * 1e3,
	                 "signer_signhash_p50_ms", f->sign_p50 * 1e3, "signer_signhash_p99_ms",
	                 f->sign_p99 * 1e3, "bulk_p50_ms", f->bulk_p50 * 1e3, "bulk_p99_ms",
	                 f->bulk_p99 * 1e3, "probes", (json_int_t)f->probes, "probe_p50_ms",
	                 f->probe_p50 * 1e3, "probe_p99_ms", f->probe_p99 * 1e3, "totp_wait_s",
	                 f->totp_wait, "authorizations_per_s", auth_rate(f), "cpu_s", "inkan_sam",
	                 f->cpu_sam, "inkand", f->cpu_inkand, "client", f->cpu_client);
}

static int
print_json(const struct mb *m)
{
	json_t *o, *ph = json_object();
	char *text = NULL;
	size_t i;
	static const char *const keys[NPHASES] = { "a_auth_alone", "b_bulk_alone",
	                                           "c_probes_alone", "c_probes_paced_auth",
	                                           "d_mixed" };

	for (i = 0; ph != NULL && i < NPHASES; i++)
		if (json_object_set_new(ph, keys[i], figures_json(&m->fig[i])) != 0) {
			json_decref(ph);
			return INK_ERR_ALLOC;
		}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:s, s:{s:I, s:I, s:I, s:I}, "
	              "s:{s:f, s:[f, f, f], s:f}, s:{s:f, s:f, s:f}, s:f, s:{s:f, s:f, s:f, s:f, "
	              "s:f}, s:o, s:f, s:f}",
	              "cpus", (json_int_t)m->ncpus, "accounts", (json_int_t)m->naccounts,
	              "signers", (json_int_t)m->nauth, "signer_batch", (json_int_t)m->batch,
	              "bulk_threads", (json_int_t)m->nbulk, "bulk_sads", (json_int_t)m->bulk_sads,
	              "probe_period_ms", m->probe_period * 1e3, "openssl", m->openssl_version,
	              "server", "argon2_memory_kib", (json_int_t)m->svc.cfg.argon2_m_kib,
	              "argon2_iterations", (json_int_t)m->svc.cfg.argon2_t, "argon2_parallelism",
	              (json_int_t)m->svc.cfg.argon2_p, "argon2_slots",
	              (json_int_t)m->svc.cfg.argon2_slots,
	              "argon2id", "median_s", m->argon2_med, "runs_s", m->argon2_secs[0],
	              m->argon2_secs[1], m->argon2_secs[2], "limit_per_s", m->limit,
	              "openssl_speed_multi_n", "before", m->speed_n[0], "after", m->speed_n[1],
	              "best", best_speed(m), "paced_target_per_s", m->paced_rate, "ratios",
	              "a_auth_vs_limit", ratio(auth_rate(&m->fig[PH_A]), m->limit),
	              "b_bulk_vs_openssl", ratio(bulk_rate(&m->fig[PH_B]), best_speed(m)),
	              "c_probe_p99_paced_vs_alone",
	              ratio(m->fig[PH_C1].probe_p99, m->fig[PH_C0].probe_p99),
	              "d_auth_vs_limit", ratio(auth_rate(&m->fig[PH_D]), m->limit),
	              "d_bulk_vs_openssl", ratio(bulk_rate(&m->fig[PH_D]), best_speed(m)),
	              "phases", ph, "setup_s", m->setup_secs, "total_s", m->total_secs);
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL) {
		json_decref(o);
		return INK_ERR_ALLOC;
	}
	printf("%s\n", text);
	bench_json_free_str(text);
	json_decref(o);
	return 0;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: inkan-mixed-bench [-n ACCOUNTS] [-s SIGNERS] [-B HASHES] [-k SADS] [-c THREADS]\n"
	        "                         [-p PROBES] [-d SECONDS] [-e SECONDS] [-t SECONDS]\n"
	        "                         [--json] [--bin DIR] [--openssl PATH]\n"
	        "  -n, --accounts N  signer accounts with a P-256 key each; TOTP steps come from "
	        "all (%d)\n"
	        "  -s, --signers N   concurrent signers, each: authorize -> signHash (2 x CPUs)\n"
	        "  -B, --hashes N    hashes per signer authorization (1)\n"
	        "  -k, --bulk-sads N SADs of %d hashes the bulk signer spends in (b) and in (d) (%d)\n"
	        "  -c, --bulk-threads N  the bulk signer's connections (8 x CPUs)\n"
	        "  -p, --probes N    batch-1 signHash probes of (c), one every %.0f ms each (%d)\n"
	        "  -d, --auth-seconds N  length of (a) (%d)\n"
	        "  -e, --probe-seconds N length of each half of (c) (%d)\n"
	        "  -t, --speed-seconds N `openssl speed -seconds` (%d)\n"
	        "      --json        machine-readable output on stdout\n"
	        "      --bin DIR     where inkand, inkan-sam and inkan are (next to this program)\n"
	        "      --openssl P   the openssl program (openssl)\n",
	        MB_ACCOUNTS, MB_BULK_BATCH, MB_BULK_SADS, MB_PROBE_PERIOD * 1e3, MB_PROBES,
	        MB_AUTH_SECONDS, MB_PROBE_SECONDS, MB_SPEED_SECONDS);
}

static int
parse_args(struct mb *m, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accounts", required_argument, NULL, 'n' },
		{ "signers", required_argument, NULL, 's' },
		{ "hashes", required_argument, NULL, 'B' },
		{ "bulk-sads", required_argument, NULL, 'k' },
		{ "bulk-threads", required_argument, NULL, 'c' },
		{ "probes", required_argument, NULL, 'p' },
		{ "auth-seconds", required_argument, NULL, 'd' },
		{ "probe-seconds", required_argument, NULL, 'e' },
		{ "speed-seconds", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "bin", required_argument, NULL, 'b' },
		{ "openssl", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t v;
	int ch;

	m->ncpus = bench_cpus();
	m->naccounts = MB_ACCOUNTS;
	/* two per core keep every Argon2id slot busy while the previous answer travels */
	m->nauth = 2 * m->ncpus;
	/* a bulk request spends part of its time in inkand's audit commit (fdatasync), away from
	 * inkan-sam: 4 per core left a CPU idle 5-7 % of phase (b), 8 per core about 1 % */
	m->nbulk = 8 * m->ncpus;
	m->nprobes = MB_PROBES;
	m->batch = 1;
	m->bulk_sads = MB_BULK_SADS;
	m->auth_secs = MB_AUTH_SECONDS;
	m->probe_secs = MB_PROBE_SECONDS;
	m->probe_period = MB_PROBE_PERIOD;
	m->speed_seconds = MB_SPEED_SECONDS;
	m->openssl = "openssl";
	if (ink_exe_sibling("", NULL, m->svc.bindir, sizeof(m->svc.bindir)) != 0)
		return INK_ERR_IO;
	while ((ch = getopt_long(argc, argv, "n:s:B:k:c:p:d:e:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (bench_parse_size(optarg, 2, MB_MAX_ACCOUNTS, &m->naccounts) != 0)
				goto bad;
			break;
		case 's':
			if (bench_parse_size(optarg, 1, MB_MAX_THREADS / 4, &m->nauth) != 0)
				goto bad;
			break;
		case 'B':
			if (bench_parse_size(optarg, 1, MB_BULK_BATCH, &m->batch) != 0)
				goto bad;
			break;
		case 'k':
			if (bench_parse_size(optarg, 1, 10000, &m->bulk_sads) != 0)
				goto bad;
			break;
		case 'c':
			if (bench_parse_size(optarg, 1, MB_MAX_THREADS / 2, &m->nbulk) != 0)
				goto bad;
			break;
		case 'p':
			if (bench_parse_size(optarg, 1, MB_MAX_THREADS / 4, &m->nprobes) != 0)
				goto bad;
			break;
		case 'd':
			if (bench_parse_size(optarg, 1, 600, &v) != 0)
				goto bad;
			m->auth_secs = (double)v;
			break;
		case 'e':
			if (bench_parse_size(optarg, 1, 600, &v) != 0)
				goto bad;
			m->probe_secs = (double)v;
			break;
		case 't':
			if (bench_parse_size(optarg, 1, 60, &v) != 0)
				goto bad;
			m->speed_seconds = (int)v;
			break;
		case 'j':
			m->json = true;
			break;
		case 'b':
			if (strlen(optarg) >= sizeof(m->svc.bindir))
				goto bad;
			snprintf(m->svc.bindir, sizeof(m->svc.bindir), "%s", optarg);
			break;
		case 'o':
			m->openssl = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc || m->nauth > m->naccounts)
		goto bad;
	return 0;
bad:
	usage(stderr);
	return INK_ERR_INVALID;
}

/* Set-up worker: accounts [t, t + of, ...) made and given a P-256 key. */
struct setup_arg {
	struct mb *m;
	size_t t, of;
	int r;
};

static void *
setup_main(void *arg)
{
	struct setup_arg *s = arg;
	struct mb *m = s->m;
	size_t i;

	for (i = s->t; s->r == 0 && i < m->naccounts && !bench_interrupted; i += s->of) {
		snprintf(m->acc[i].name, sizeof(m->acc[i].name), "mixed%03zu", i);
		if ((s->r = bench_make_account(&m->svc, &m->clients[s->t], &m->ro, &m->acc[i],
		                               "signer")) == 0)
			s->r = bench_make_key(&m->svc, &m->clients[s->t], &m->acc[i], 0, KEY_ALG, m->pin);
	}
	return NULL;
}

static int
setup_accounts(struct mb *m)
{
	struct setup_arg sa[MB_MAX_THREADS];
	pthread_t tid[MB_MAX_THREADS];
	size_t t, n = m->nauth + m->nbulk, started = 0;
	int r;

	snprintf(m->ro.name, sizeof(m->ro.name), "mixed-ro");
	if ((r = bench_so_login(&m->svc, &m->clients[0])) != 0 ||
	    (r = bench_make_account(&m->svc, &m->clients[0], &m->svc.so, &m->ro,
	                            "registration_officer")) != 0)
		return r;
	/* setting up waits out a full Argon2id queue, as a client would */
	atomic_store(&bench_retry_busy, true);
	for (t = 0; t < n; t++, started++) {
		sa[t] = (struct setup_arg){ .m = m, .t = t, .of = n };
		if (pthread_create(&tid[t], NULL, setup_main, &sa[t]) != 0)
			break;
	}
	r = started == n ? 0 : INK_ERR_INTERNAL;
	for (t = 0; t < started; t++) {
		pthread_join(tid[t], NULL);
		if (r == 0)
			r = sa[t].r;
	}
	atomic_store(&bench_retry_busy, false);
	return r;
}

/* The phases, in an order that leaves each SAD well inside its lifetime. */
static int
measure(struct mb *m)
{
	struct sad *bulk = NULL, *probe = NULL;
	size_t nprobe = 0;
	int r;

	/* (b) the bulk signer alone */
	if ((r = prepare_sads(m, m->bulk_sads, MB_BULK_BATCH, true, &bulk)) != 0 ||
	    (r = run_phase(m, PH_B, false, 0, bulk, m->bulk_sads, NULL, 0)) != 0)
		goto out;
	sads_free(bulk, m->bulk_sads);
	bulk = NULL;
	/* (c) probes alone, then with authorizations paced at a quarter of the limit: each probe
	 * spends one hash every period, in both halves */
	nprobe = 2 * (m->nprobes * ((size_t)ceil(m->probe_secs / m->probe_period) + 1) /
	              MB_PROBE_BATCH + m->nprobes);
	if ((r = prepare_sads(m, nprobe, MB_PROBE_BATCH, false, &probe)) != 0 ||
	    (r = run_phase(m, PH_C0, false, 0, NULL, 0, probe, nprobe / 2)) != 0)
		goto out;
	m->paced_rate = m->limit / 4;
	if ((r = run_phase(m, PH_C1, true, m->paced_rate, NULL, 0, probe + nprobe / 2,
	                   nprobe - nprobe / 2)) != 0)
		goto out;
	sads_free(probe, nprobe);
	probe = NULL;
	/* (a) authorizations alone, at full speed */
	if ((r = run_phase(m, PH_A, true, 0, NULL, 0, NULL, 0)) != 0)
		goto out;
	/* (d) both together */
	if ((r = prepare_sads(m, m->bulk_sads, MB_BULK_BATCH, true, &bulk)) != 0 ||
	    (r = run_phase(m, PH_D, true, 0, bulk, m->bulk_sads, NULL, 0)) != 0)
		goto out;
out:
	sads_free(bulk, m->bulk_sads);
	sads_free(probe, nprobe);
	return r;
}

int
main(int argc, char **argv)
{
	struct mb m;
	size_t i, t;
	double t0, t1;
	int r, rc = 1;

	memset(&m, 0, sizeof(m));
	bench_prog = "inkan-mixed-bench";
	secmem_json_wipe_on_free();
	if (parse_args(&m, argc, argv) != 0)
		return 2;
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.cv, NULL);
	bench_signals(&m.svc);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "%s: curl_global_init failed\n", bench_prog);
		return 1;
	}
	m.nclients = m.nauth + m.nbulk + m.nprobes;
	if (bench_svc_dirs(&m.svc, "inkan-mixed-bench") != 0)
		goto out;
	if ((m.acc = calloc(m.naccounts, sizeof(*m.acc))) == NULL ||
	    (m.busy = calloc(m.naccounts, sizeof(*m.busy))) == NULL ||
	    (m.clients = calloc(m.nclients, sizeof(*m.clients))) == NULL) {
		bench_fatal("setup", INK_ERR_ALLOC);
		goto out;
	}
	bench_openssl_version(m.openssl, m.openssl_version, sizeof(m.openssl_version));
	t0 = bench_mono_now();
	if (!m.json)
		fprintf(stderr, "%s: inkan init and inkand in %s\n", bench_prog, m.svc.tmpdir);
	if ((r = bench_random_secret(m.pin, sizeof(m.pin), "pin-", "")) != 0 ||
	    (r = bench_init_data(&m.svc)) != 0 || (r = bench_start_inkand(&m.svc)) != 0) {
		bench_fatal("starting the service", r);
		goto out;
	}
	for (t = 0; t < m.nclients; t++) {
		char src[16];

		/* a source address each: the login rate is counted per source */
		snprintf(src, sizeof(src), "127.0.0.%zu", 10 + t);
		if ((r = bench_client_init(&m.svc, &m.clients[t], src)) != 0) {
			bench_fatal("libcurl", r);
			goto out;
		}
	}
	if (!m.json)
		fprintf(stderr, "%s: %zu accounts with a %s key...\n", bench_prog, m.naccounts, KEY_ALG);
	if ((r = setup_accounts(&m)) != 0) {
		bench_fatal("setting up accounts and keys", r);
		goto out;
	}
	m.setup_secs = bench_mono_now() - t0;
	t1 = bench_mono_now();
	if ((r = argon2_calibrate(&m)) != 0 || (r = speed(&m, 0)) != 0) {
		bench_fatal("measuring the machine's limits", r);
		goto out;
	}
	if ((r = measure(&m)) != 0) {
		bench_fatal("measuring", r);
		goto out;
	}
	if ((r = speed(&m, 1)) != 0) {
		bench_fatal("openssl speed", r);
		goto out;
	}
	m.total_secs = bench_mono_now() - t1;
	if (m.json) {
		if (print_json(&m) != 0)
			goto out;
	} else
		print_table(&m);
	rc = 0;
out:
	for (t = 0; m.clients != NULL && t < m.nclients; t++)
		bench_client_free(&m.clients[t]);
	free(m.clients);
	if (bench_stop_inkand(&m.svc) != 0)
		rc = 1;
	for (i = 0; m.acc != NULL && i < m.naccounts; i++)
		bench_account_clear(&m.acc[i]);
	free(m.acc);
	free(m.busy);
	bench_account_clear(&m.svc.so);
	bench_account_clear(&m.ro);
	OPENSSL_cleanse(m.pin, sizeof(m.pin));
	OPENSSL_cleanse(m.svc.so_onetime, sizeof(m.svc.so_onetime));
	if (m.svc.tmpdir[0] != '\0' && bench_rm_tree(m.svc.tmpdir) != 0) {
		fprintf(stderr, "%s: could not remove %s\n", bench_prog, m.svc.tmpdir);
		rc = 1;
	}
	curl_global_cleanup();
	pthread_cond_destroy(&m.cv);
	pthread_mutex_destroy(&m.mu);
	return rc;
}
