/* inkan-bench: CSC signing throughput of a real inkand on its defaults, against `openssl speed`. */
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

#define BENCH_SIGNERS 32
#define BENCH_ROUNDS 3
#define BENCH_MAX_ROUNDS 6         /* rounds wait ~30 s each for TOTP steps; SADs live 5 min */
#define BENCH_MAX_SIGNERS 1000
#define BENCH_MAX_THREADS 256
#define BENCH_SPEED_SECONDS 3
#define DIGEST_LEN SHA256_DIGEST_LENGTH
#define OID_SHA256 BENCH_OID_SHA256

/* One key algorithm: inkan's name, the signHash algorithm, and `openssl speed`'s name. */
static const struct bench_alg {
	const char *name;
	const char *sign_oid;
	const char *speed_name;
} algs[] = {
	{ "P-256", "1.2.840.10045.4.3.2", "ecdsap256" },
	{ "RSA-2048", "1.2.840.113549.1.1.11", "rsa2048" },
	{ "RSA-3072", "1.2.840.113549.1.1.11", "rsa3072" },
};
#define NALGS INK_ARRAY_LEN(algs)

static const size_t batches[] = { 1, 100 };
#define NBATCHES INK_ARRAY_LEN(batches)

/* One authorization and its signHash in a measurement: a signer's in one round. */
struct job {
	struct bench_account *a;
	char otp[8];
	char *sad;
	json_t *hashes;                      /* base64 of digests[] */
	uint8_t *digests;                    /* B * DIGEST_LEN */
	json_t *sigs;
	char *sign_body;                     /* the signHash request, made before timing */
	char *sign_reply;                    /* its answer as received */
	size_t sign_reply_len;
};

struct result {
	size_t alg, batch, sigs;
	double auth_wall, sign_wall;
	double auth_p50, auth_p99, sign_p50, sign_p99;   /* seconds */
	/* CPU time spent during the signHash phase (seconds; < 0 when unknown) */
	double cpu_sam, cpu_inkand, cpu_client;
	double idle;                         /* the machine's idle CPU time then (< 0: unknown) */
};

struct speed {
	double sign[NALGS];                  /* sign/s; 0 when not measured */
};

struct bench {
	/* options */
	size_t nsigners, nthreads, ncpus, rounds;
	const struct bench_alg *only;        /* measure just this algorithm (-a) */
	int speed_seconds;
	bool json;
	const char *openssl;
	/* run */
	struct bench_svc svc;                /* the data directory, inkand and its inkan-sam */
	char pin[40];
	struct bench_account ro, *signers;
	struct bench_client *clients;
	struct result results[NALGS * NBATCHES];
	size_t nresults;
	struct speed speed_n, speed_1;       /* the better of the two runs of each */
	struct speed speed_runs[2][2];       /* [before, after the measurements][-multi N, 1] */
	char openssl_version[128];
	double auth_margin;                  /* seconds of TOTP step left needed to use step now-1 */
	double setup_secs, bench_secs;
	/* the current measurement: rounds x nsigners jobs; a pool runs jobs[from, to) */
	size_t cur_alg, cur_batch;
	struct job *jobs;
	size_t njobs, from, to;
	double *alat, *slat;                 /* its latencies: authorize, signHash */
	size_t nclients;                     /* clients[] initialised */
	/* --beside-sqlite: the same benchmark on SQLite, its phases next to this one's */
	bool beside_sqlite;
	struct bench *beside;
};

/* ---- accounts ---- */

/* A signer: registered by the registration officer, logged in and enrolled, with one key per
 * algorithm (-a: of that algorithm only, so that many signers cost little to set up). */
static int
setup_signer(struct bench *b, struct bench_client *c, size_t i)
{
	struct bench_account *a = &b->signers[i];
	size_t k;
	int r;

	snprintf(a->name, sizeof(a->name), "bench%03zu", i);
	if ((r = bench_make_account(&b->svc, c, &b->ro, a, "signer")) != 0)
		return r;
	for (k = 0; k < NALGS; k++)
		if ((b->only == NULL || b->only == &algs[k]) &&
		    (r = bench_make_key(&b->svc, c, a, k, algs[k].name, b->pin)) != 0)
			return r;
	return 0;
}

/* ---- the measured requests ---- */

static int
do_authorize(struct bench *b, struct bench_client *c, size_t i)
{
	struct job *a = &b->jobs[i];
	const char *sad = NULL;
	json_t *reply = NULL;
	int r;

	r = bench_api_post(&b->svc, c, "/csc/v2/credentials/authorize", a->a->authz,
	             json_pack("{s:s, s:I, s:O, s:s, s:s, s:s}", "credentialID",
	                       a->a->cred[b->cur_alg],
	                       "numSignatures", (json_int_t)b->cur_batch, "hashes", a->hashes,
	                       "hashAlgorithmOID", OID_SHA256, "PIN", b->pin, "OTP", a->otp),
	             200, &reply);
	if (r != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s}", "SAD", &sad) != 0)
		goto out;
	r = (a->sad = strdup(sad)) != NULL ? 0 : INK_ERR_ALLOC;
out:
	json_decref(reply);
	return r;
}

/* The signHash bodies, made before the phase is timed (the client's JSON work is not the
 * server's). */
static int
make_sign_bodies(struct bench *b)
{
	json_malloc_t jm;
	json_free_t jf;
	size_t i;

	json_get_alloc_funcs(&jm, &jf);
	for (i = 0; i < b->njobs; i++) {
		struct job *a = &b->jobs[i];
		json_t *body = json_pack("{s:s, s:s, s:O, s:s, s:s}", "credentialID",
		                         a->a->cred[b->cur_alg], "SAD", a->sad, "hashes", a->hashes,
		                         "hashAlgorithmOID", OID_SHA256, "signAlgo",
		                         algs[b->cur_alg].sign_oid);

		char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

		json_decref(body);
		if (text == NULL)
			return INK_ERR_ALLOC;
		/* jansson's allocator wipes what it frees; ours is plain malloc */
		a->sign_body = strdup(text);
		OPENSSL_cleanse(text, strlen(text));
		jf(text);
		if (a->sign_body == NULL)
			return INK_ERR_ALLOC;
	}
	return 0;
}

/* One signHash; its answer is kept as it came and read after the phase (parse_sigs). */
static int
do_sign(struct bench *b, struct bench_client *c, size_t i)
{
	struct job *a = &b->jobs[i];
	int r;

	if ((r = bench_post_text(&b->svc, c, "/csc/v2/signatures/signHash", a->a->authz, a->sign_body, 200)) ==
	    0) {
		if ((a->sign_reply = malloc(c->reply.len + 1)) == NULL)
			r = INK_ERR_ALLOC;
		else {
			memcpy(a->sign_reply, c->reply.data, c->reply.len);
			a->sign_reply_len = c->reply.len;
		}
	}
	c->reply.len = 0;
	return r;
}

/* The signatures of each signHash answer (not timed). */
static int
parse_sigs(struct bench *b)
{
	json_error_t jerr;
	json_t *reply, *sigs;
	size_t i;

	for (i = 0; i < b->njobs; i++) {
		struct job *a = &b->jobs[i];

		reply = json_loadb(a->sign_reply, a->sign_reply_len, 0, &jerr);
		sigs = json_object_get(reply, "signatures");
		if (!json_is_array(sigs) || json_array_size(sigs) != b->cur_batch) {
			fprintf(stderr, "inkan-bench: signHash answer of %s is not %zu signatures\n",
			        a->a->name, b->cur_batch);
			json_decref(reply);
			return INK_ERR_PROTOCOL;
		}
		a->sigs = json_incref(sigs);
		json_decref(reply);
	}
	return 0;
}

/* Every signature of the last measurement verifies against its certificate (not timed). */
static int
verify_sigs(struct bench *b)
{
	size_t i, k;

	for (i = 0; i < b->njobs; i++) {
		struct job *a = &b->jobs[i];

		for (k = 0; k < b->cur_batch; k++) {
			if (bench_verify_sig(a->a->pub[b->cur_alg], a->digests + k * DIGEST_LEN,
			                     json_string_value(json_array_get(a->sigs, k))) != 0) {
				fprintf(stderr, "inkan-bench: %s signature %zu of %s does not verify\n",
				        algs[b->cur_alg].name, k, a->a->name);
				return INK_ERR_CRYPTO;
			}
		}
	}
	return 0;
}

/* ---- a pool of client threads over the jobs ---- */

typedef int (*work_fn)(struct bench *, struct bench_client *, size_t);

struct pool {
	struct bench *b;
	work_fn fn;
	double *lat;          /* per item, seconds (NULL: not kept) */
	atomic_size_t next;
	atomic_int err;
};

struct worker {
	struct pool *p;
	struct bench_client *c;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	size_t i;
	double t0;
	int r;

	while (atomic_load(&p->err) == 0 && !bench_interrupted) {
		if ((i = atomic_fetch_add(&p->next, 1)) >= p->b->to)
			break;
		t0 = bench_mono_now();
		r = p->fn(p->b, w->c, i);
		if (p->lat != NULL)
			p->lat[i] = bench_mono_now() - t0;
		if (r != 0) {
			int zero = 0;

			atomic_compare_exchange_strong(&p->err, &zero, r);
		}
	}
	return NULL;
}

/* Runs fn for jobs[b->from, b->to) on the client threads; *wall is the elapsed time. */
static int
pool_run(struct bench *b, work_fn fn, double *lat, double *wall)
{
	pthread_t tid[BENCH_MAX_THREADS];
	struct worker w[BENCH_MAX_THREADS];
	struct pool p = { .b = b, .fn = fn, .lat = lat };
	size_t t, started = 0;
	double t0;
	int r = 0;

	atomic_init(&p.next, b->from);
	atomic_init(&p.err, 0);
	t0 = bench_mono_now();
	for (t = 0; t < b->nthreads; t++) {
		w[t].p = &p;
		w[t].c = &b->clients[t];
		if (pthread_create(&tid[t], NULL, worker_main, &w[t]) != 0) {
			atomic_store(&p.err, INK_ERR_INTERNAL);
			break;
		}
		started++;
	}
	for (t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (wall != NULL)
		*wall = bench_mono_now() - t0;
	r = atomic_load(&p.err);
	if (r == 0 && bench_interrupted)
		r = INK_ERR_IO;
	return r;
}

/* ---- one measurement: every signer authorizes B digests, then signs them ---- */

static void
measurement_clear(struct bench *b)
{
	size_t i;

	for (i = 0; b->jobs != NULL && i < b->njobs; i++) {
		struct job *a = &b->jobs[i];

		bench_freezero_str(&a->sad);
		json_decref(a->hashes);
		json_decref(a->sigs);
		free(a->digests);
		bench_freezero_str(&a->sign_body);     /* it holds the SAD */
		free(a->sign_reply);
		OPENSSL_cleanse(a, sizeof(*a));
	}
	free(b->jobs);
	b->jobs = NULL;
	b->njobs = b->from = b->to = 0;
}

/* Round `round`'s jobs: B random SHA-256 digests each, and a TOTP code the server will take
 * during the whole authorize phase: waits (untimed) for the next step when some signer has
 * none. */
static int
round_prepare(struct bench *b, size_t round)
{
	uint8_t rnd[32];
	char *s = NULL;
	size_t i, k;
	uint32_t code;
	double now;
	int r;

	b->from = round * b->nsigners;
	b->to = b->from + b->nsigners;
	for (i = b->from; i < b->to; i++) {
		struct job *a = &b->jobs[i];

		a->a = &b->signers[i - b->from];
		if ((a->digests = malloc(b->cur_batch * DIGEST_LEN)) == NULL ||
		    (a->hashes = json_array()) == NULL)
			return INK_ERR_ALLOC;
		for (k = 0; k < b->cur_batch; k++) {
			if ((r = ink_random(rnd, sizeof(rnd))) != 0)
				return r;
			SHA256(rnd, sizeof(rnd), a->digests + k * DIGEST_LEN);
			if ((r = b64_encode(a->digests + k * DIGEST_LEN, DIGEST_LEN, &s)) != 0)
				return r;
			r = json_array_append_new(a->hashes, json_string(s));
			free(s);
			s = NULL;
			if (r != 0)
				return INK_ERR_ALLOC;
		}
	}
	for (;;) {
		now = bench_wall_now();
		for (i = 0; i < b->nsigners; i++)
			if (bench_totp_pick(b->signers[i].last_step, now, b->auth_margin,
			              b->svc.cfg.totp_window) < 0)
				break;
		if (i == b->nsigners)
			break;
		if (bench_interrupted)
			return INK_ERR_IO;
		bench_sleep(bench_next_step_in());
	}
	for (i = b->from; i < b->to; i++) {
		struct job *a = &b->jobs[i];

		a->a->last_step = bench_totp_pick(a->a->last_step, now, b->auth_margin,
		                            b->svc.cfg.totp_window);
		if ((r = auth_totp_code(a->a->seed, a->a->seedlen, a->a->last_step, &code)) != 0)
			return r;
		snprintf(a->otp, sizeof(a->otp), "%06u", (unsigned)code);
	}
	code = 0;
	return 0;
}

/* Which service b is, in progress lines: PostgreSQL when either of its databases is. */
static const char *
svc_name(const struct bench *b)
{
	return b->svc.database != NULL || b->svc.keystore != NULL ? "PostgreSQL" : "SQLite";
}

static void
measure_end(struct bench *b)
{
	measurement_clear(b);
	free(b->alat);
	free(b->slat);
	b->alat = b->slat = NULL;
}

/* A measurement's first part: `rounds` authorize phases (every signer authorizes B digests in
 * each; a TOTP step is usable once per account, so rounds are about 30 s apart). */
static int
measure_auth(struct bench *b, size_t alg, size_t batch)
{
	struct result *res = &b->results[b->nresults];
	double wall;
	size_t round;
	int r;

	b->cur_alg = alg;
	b->cur_batch = batch;
	b->njobs = b->rounds * b->nsigners;
	if ((b->jobs = calloc(b->njobs, sizeof(*b->jobs))) == NULL ||
	    (b->alat = calloc(b->njobs, sizeof(*b->alat))) == NULL ||
	    (b->slat = calloc(b->njobs, sizeof(*b->slat))) == NULL)
		return INK_ERR_ALLOC;
	memset(res, 0, sizeof(*res));
	if (!b->json)
		fprintf(stderr, "inkan-bench: %s, batch %zu, %s: authorize...", algs[alg].name, batch,
		        svc_name(b));
	for (round = 0; round < b->rounds; round++) {
		if ((r = round_prepare(b, round)) != 0 ||
		    (r = pool_run(b, do_authorize, b->alat, &wall)) != 0)
			return r;
		res->auth_wall += wall;
		/* The next authorize phase may use step now-1 only with this much of it left. */
		if (b->auth_margin < 1.5 * wall + 3)
			b->auth_margin = 1.5 * wall + 3;
		if (!b->json)
			fprintf(stderr, " %.1f s", wall);
	}
	if (!b->json)
		fprintf(stderr, "\n");
	return 0;
}

/* Its second: one signHash phase over all those authorizations, then (untimed) every
 * signature verified. */
static int
measure_sign(struct bench *b)
{
	struct result *res = &b->results[b->nresults];
	double cpu_sam, cpu_inkand, cpu_client, idle, phase;
	int r;

	if (!b->json)
		fprintf(stderr, "inkan-bench: %s, batch %zu, %s: signHash...", algs[b->cur_alg].name,
		        b->cur_batch, svc_name(b));
	b->from = 0;
	b->to = b->njobs;
	if ((r = make_sign_bodies(b)) != 0)
		return r;
	if (b->svc.sam == 0)
		b->svc.sam = bench_find_child(b->svc.inkand);
	cpu_sam = bench_proc_cpu(b->svc.sam);
	cpu_inkand = bench_proc_cpu(b->svc.inkand);
	cpu_client = bench_proc_cpu(getpid());
	idle = bench_idle_cpu();
	phase = bench_mono_now();
	if ((r = pool_run(b, do_sign, b->slat, &res->sign_wall)) != 0)
		return r;
	res->idle = idle < 0 ? -1 : bench_idle_cpu() - idle;
	res->cpu_sam = cpu_sam < 0 ? -1 : bench_proc_cpu(b->svc.sam) - cpu_sam;
	res->cpu_inkand = cpu_inkand < 0 ? -1 : bench_proc_cpu(b->svc.inkand) - cpu_inkand;
	res->cpu_client = cpu_client < 0 ? -1 : bench_proc_cpu(getpid()) - cpu_client;
	if ((r = parse_sigs(b)) != 0)
		return r;
	if (!b->json)
		fprintf(stderr, " %.2f s (monotonic %.3f..%.3f, for perf --time); verifying...",
		        res->sign_wall, phase, phase + res->sign_wall);
	if ((r = verify_sigs(b)) != 0)
		return r;
	if (!b->json)
		fprintf(stderr, " ok\n");
	qsort(b->alat, b->njobs, sizeof(*b->alat), bench_cmp_double);
	qsort(b->slat, b->njobs, sizeof(*b->slat), bench_cmp_double);
	res->alg = b->cur_alg;
	res->batch = b->cur_batch;
	res->sigs = b->njobs * b->cur_batch;
	res->auth_p50 = bench_percentile(b->alat, b->njobs, 50);
	res->auth_p99 = bench_percentile(b->alat, b->njobs, 99);
	res->sign_p50 = bench_percentile(b->slat, b->njobs, 50);
	res->sign_p99 = bench_percentile(b->slat, b->njobs, 99);
	b->nresults++;
	return 0;
}

/* Seconds before each signHash phase of --beside-sqlite: what the authorize parts leave to do
 * (the next checkpoint, the SAM's held records, Argon2id memory given back) is done before
 * either phase, not during the first. */
#define BESIDE_SETTLE 3.0

/* One measurement of alg at batch; with --beside-sqlite the SQLite service's too, both
 * authorize parts first and the signHash phases one right after the other (seconds apart,
 * not minutes: what the machine's speed does between them is what is left to their ratio). */
static int
measure(struct bench *b, size_t alg, size_t batch)
{
	struct bench *o = b->beside;
	int r;

	if ((r = measure_auth(b, alg, batch)) != 0 ||
	    (o != NULL && (r = measure_auth(o, alg, batch)) != 0))
		goto out;
	if (o != NULL)
		bench_sleep(BESIDE_SETTLE);
	if ((r = measure_sign(b)) != 0)
		goto out;
	if (o != NULL) {
		bench_sleep(BESIDE_SETTLE);
		r = measure_sign(o);
	}
out:
	measure_end(b);
	if (o != NULL)
		measure_end(o);
	return r;
}

/* ---- openssl speed ---- */

/* sign/s of each algorithm from `openssl speed -multi n -seconds s ecdsap256 rsa2048 rsa3072`. */
static int
openssl_speed(struct bench *b, size_t n, struct speed *sp)
{
	const char *names[NALGS];
	size_t k;

	for (k = 0; k < NALGS; k++)
		names[k] = algs[k].speed_name;
	return bench_openssl_speed(b->openssl, n, b->speed_seconds, names, NALGS, sp->sign);
}

/* One run of `openssl speed` with -multi N and -multi 1 (run 0 before the measurements, 1
 * after); the figures compared with are the better of the two runs: on a shared machine a
 * slow moment would otherwise flatter the ratio. */
static int
openssl_speed_run(struct bench *b, size_t run)
{
	size_t k;
	int r;

	if (!b->json)
		fprintf(stderr, "inkan-bench: openssl speed -multi %zu and -multi 1 (%s the "
		        "measurements)...\n", b->ncpus, run == 0 ? "before" : "after");
	if ((r = openssl_speed(b, b->ncpus, &b->speed_runs[run][0])) != 0 ||
	    (r = openssl_speed(b, 1, &b->speed_runs[run][1])) != 0)
		return r;
	for (k = 0; k < NALGS; k++) {
		if (b->speed_runs[run][0].sign[k] > b->speed_n.sign[k])
			b->speed_n.sign[k] = b->speed_runs[run][0].sign[k];
		if (b->speed_runs[run][1].sign[k] > b->speed_1.sign[k])
			b->speed_1.sign[k] = b->speed_runs[run][1].sign[k];
	}
	return 0;
}

/* ---- report ---- */

static const struct result *
find_result(const struct bench *b, size_t alg, size_t batch)
{
	size_t i;

	for (i = 0; i < b->nresults; i++)
		if (b->results[i].alg == alg && b->results[i].batch == batch)
			return &b->results[i];
	return NULL;
}

static double
ratio(double a, double c)
{
	return c > 0 ? a / c : 0;
}

static void
print_table(const struct bench *b)
{
	const struct result *res;
	size_t i, k, m;

	printf("inkan-bench: inkand on its defaults (Argon2id %lld KiB, t=%lld, p=%lld; threads "
	       "%lld; audit fsync'ed), %zu signers x %zu keys, %zu rounds, %zu client threads, "
	       "%zu CPUs\n",
	       (long long)b->svc.cfg.argon2_m_kib, (long long)b->svc.cfg.argon2_t,
	       (long long)b->svc.cfg.argon2_p, (long long)b->svc.cfg.threads, b->nsigners,
	       b->only != NULL ? (size_t)1 : NALGS, b->rounds, b->nthreads, b->ncpus);
	printf("setup %.0f s, measurements %.0f s (TOTP waits included); %s; database %s; "
	       "key store %s\n\n", b->setup_secs, b->bench_secs, b->openssl_version,
	       b->svc.database != NULL ? "PostgreSQL" : "SQLite",
	       b->svc.keystore != NULL ? "PostgreSQL" : "SQLite");
	printf("%-9s %5s %6s | %11s | %11s %9s %9s | %9s %9s\n", "", "", "", "end to end",
	       "signHash", "signHash", "signHash", "authorize", "authorize");
	printf("%-9s %5s %6s | %11s | %11s %9s %9s | %9s %9s\n", "algorithm", "batch", "sigs",
	       "sig/s", "alone sig/s", "p50 ms", "p99 ms", "p50 ms", "p99 ms");
	for (i = 0; i < b->nresults; i++) {
		res = &b->results[i];
		printf("%-9s %5zu %6zu | %11.1f | %11.1f %9.1f %9.1f | %9.1f %9.1f\n",
		       algs[res->alg].name, res->batch, res->sigs,
		       (double)res->sigs / (res->auth_wall + res->sign_wall),
		       (double)res->sigs / res->sign_wall, res->sign_p50 * 1e3, res->sign_p99 * 1e3,
		       res->auth_p50 * 1e3, res->auth_p99 * 1e3);
	}
	printf("\nopenssl speed -seconds %d, sign/s, the better of a run before and one after the "
	       "measurements; ratio = inkan's signHash alone at batch %zu / openssl's\n",
	       b->speed_seconds, batches[NBATCHES - 1]);
	printf("%-9s %16s %10s%3zu | %12s | %14s %11s%3zu\n", "algorithm", "openssl -multi 1",
	       "-multi", b->ncpus, "inkan B=100", "ratio -multi 1", "ratio -multi", b->ncpus);
	for (k = 0; k < NALGS; k++) {
		double ours;

		res = find_result(b, k, batches[NBATCHES - 1]);
		ours = res != NULL ? (double)res->sigs / res->sign_wall : 0;
		printf("%-9s %16.1f %13.1f | %12.1f | %13.0f%% %13.0f%%\n", algs[k].name,
		       b->speed_1.sign[k], b->speed_n.sign[k], ours,
		       100 * ratio(ours, b->speed_1.sign[k]), 100 * ratio(ours, b->speed_n.sign[k]));
	}
	for (m = 0; m < 2; m++) {
		printf("openssl speed before / after, -multi %zu:", m == 0 ? b->ncpus : 1);
		for (k = 0; k < NALGS; k++)
			printf(" %s %.0f / %.0f%s", algs[k].name, b->speed_runs[0][m].sign[k],
			       b->speed_runs[1][m].sign[k], k + 1 < NALGS ? "," : "\n");
	}
	printf("\nCPU time during signHash at batch %zu, %% of %zu CPUs x the phase; inkan-sam's "
	       "signatures per CPU-second / openssl -multi 1\n",
	       batches[NBATCHES - 1], b->ncpus);
	printf("%-9s %9s %7s %7s %7s %7s | %15s %8s\n", "algorithm", "inkan-sam", "inkand", "client",
	       "others", "idle", "sam sig/CPU-s", "ratio");
	for (k = 0; k < NALGS; k++) {
		double cap, sam, ink, cli, idl;

		if ((res = find_result(b, k, batches[NBATCHES - 1])) == NULL || res->cpu_sam < 0 ||
		    res->cpu_inkand < 0 || res->cpu_client < 0)
			continue;
		cap = (double)b->ncpus * res->sign_wall;
		sam = 100 * ratio(res->cpu_sam, cap);
		ink = 100 * ratio(res->cpu_inkand, cap);
		cli = 100 * ratio(res->cpu_client, cap);
		/* idle from the kernel's ticks (10 ms): a rough figure over a short phase */
		idl = res->idle < 0 ? 0 : 100 * ratio(res->idle, cap);
		printf("%-9s %8.0f%% %6.0f%% %6.0f%% %6.0f%% %6.0f%% | %15.1f %7.0f%%\n", algs[k].name,
		       sam, ink, cli, 100 - sam - ink - cli - idl, idl, ratio((double)res->sigs, res->cpu_sam),
		       100 * ratio(ratio((double)res->sigs, res->cpu_sam), b->speed_1.sign[k]));
	}
}

static int
print_json(const struct bench *b)
{
	json_t *o = NULL, *arr = NULL, *a;
	const struct result *res;
	char *text = NULL;
	size_t i, k;
	int r = INK_ERR_ALLOC;

	if ((arr = json_array()) == NULL)
		goto out;
	for (k = 0; k < NALGS; k++) {
		json_t *bs = json_array();
		double ours = 0;

		if (bs == NULL)
			goto out;
		for (i = 0; i < NBATCHES; i++) {
			if ((res = find_result(b, k, batches[i])) == NULL)
				continue;
			if (batches[i] == batches[NBATCHES - 1])
				ours = (double)res->sigs / res->sign_wall;
			json_array_append_new(bs, json_pack(
			    "{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f, s:f, s:f}}",
			    "batch", (json_int_t)res->batch, "signatures", (json_int_t)res->sigs,
			    "e2e_sig_per_s", (double)res->sigs / (res->auth_wall + res->sign_wall),
			    "signhash_sig_per_s", (double)res->sigs / res->sign_wall,
			    "authorize_wall_s", res->auth_wall, "signhash_wall_s", res->sign_wall,
			    "signhash_p50_ms", res->sign_p50 * 1e3, "signhash_p99_ms", res->sign_p99 * 1e3,
			    "authorize_p50_ms", res->auth_p50 * 1e3, "authorize_p99_ms",
			    res->auth_p99 * 1e3, "signhash_cpu_s", "inkan_sam", res->cpu_sam, "inkand",
			    res->cpu_inkand, "client", res->cpu_client, "machine_idle", res->idle));
		}
		a = json_pack("{s:s, s:s, s:o, s:{s:f, s:f}, s:{s:{s:f, s:f}, s:{s:f, s:f}}, "
		              "s:{s:f, s:f}}", "algorithm",
		              algs[k].name, "openssl_speed_name", algs[k].speed_name, "batches", bs,
		              "openssl_sign_per_s", "multi_1", b->speed_1.sign[k], "multi_n",
		              b->speed_n.sign[k], "openssl_runs", "before", "multi_1",
		              b->speed_runs[0][1].sign[k], "multi_n", b->speed_runs[0][0].sign[k],
		              "after", "multi_1", b->speed_runs[1][1].sign[k], "multi_n",
		              b->speed_runs[1][0].sign[k], "ratio_signhash_b100", "multi_1",
		              ratio(ours, b->speed_1.sign[k]), "multi_n", ratio(ours, b->speed_n.sign[k]));
		if (a == NULL || json_array_append_new(arr, a) != 0)
			goto out;
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I}, s:f, s:f, s:o}",
	              "cpus", (json_int_t)b->ncpus, "multi_n", (json_int_t)b->ncpus, "signers",
	              (json_int_t)b->nsigners, "rounds", (json_int_t)b->rounds, "client_threads",
	              (json_int_t)b->nthreads, "openssl",
	              b->openssl_version, "server", "argon2_memory_kib",
	              (json_int_t)b->svc.cfg.argon2_m_kib, "argon2_iterations", (json_int_t)b->svc.cfg.argon2_t,
	              "argon2_parallelism", (json_int_t)b->svc.cfg.argon2_p, "http_threads",
	              (json_int_t)b->svc.cfg.threads, "setup_s", b->setup_secs, "measure_s",
	              b->bench_secs, "algorithms", arr);
	arr = NULL;
	if (o == NULL || (text = json_dumps(o, JSON_INDENT(2))) == NULL)
		goto out;
	printf("%s\n", text);
	r = 0;
out:
	if (text != NULL) {
		json_malloc_t jm;
		json_free_t jf;

		json_get_alloc_funcs(&jm, &jf);
		jf(text);
	}
	json_decref(arr);
	json_decref(o);
	return r;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: inkan-bench [-s SIGNERS] [-r ROUNDS] [-c THREADS] [-t SECONDS] [-a ALG]\n"
	        "                   [--json] [--bin DIR] [--openssl PATH] [--database URI]\n"
	        "                   [--keystore URI] [--beside-sqlite]\n"
	        "  -s, --signers N   signers, each with a P-256, RSA-2048 and RSA-3072 key (with -a:\n"
	        "                    that one only) (%d)\n"
	        "  -r, --rounds N    authorizations per signer and measurement, ~30 s apart (%d, "
	        "at most %d)\n"
	        "  -c, --threads N   concurrent client threads (8 x CPUs)\n"
	        "  -t, --speed-seconds N  seconds per `openssl speed` test (%d)\n"
	        "  -a, --alg NAME    measure only P-256, RSA-2048 or RSA-3072 (all)\n"
	        "      --json        machine-readable output on stdout\n"
	        "      --bin DIR     where inkand, inkan-sam and inkan are (next to inkan-bench)\n"
	        "      --openssl P   the openssl program (openssl)\n"
	        "      --database URI  inkand's database setting (a postgresql:// URI; default:\n"
	        "                    SQLite in the data directory)\n"
	        "      --keystore URI  inkan-sam's key store (a postgresql:// URI naming its passfile,\n"
	        "                    written to DIR/sam/keystore.url; default: SQLite in DIR/sam)\n"
	        "      --beside-sqlite  with --database/--keystore: the same benchmark on a second\n"
	        "                    service on SQLite in the same run, each signHash phase right\n"
	        "                    after the other's, and their ratio (not with --json)\n",
	        BENCH_SIGNERS, BENCH_ROUNDS, BENCH_MAX_ROUNDS, BENCH_SPEED_SECONDS);
}

static int
parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signers", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 'c' },
		{ "speed-seconds", required_argument, NULL, 't' },
		{ "alg", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "bin", required_argument, NULL, 'b' },
		{ "openssl", required_argument, NULL, 'o' },
		{ "database", required_argument, NULL, 'd' },
		{ "keystore", required_argument, NULL, 'k' },
		{ "beside-sqlite", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t v, k;
	int ch;

	b->nsigners = BENCH_SIGNERS;
	b->rounds = BENCH_ROUNDS;
	b->ncpus = bench_cpus();
	/* Eight requests in flight per core: each spends part of its time waiting (the audit
	 * fsync, the round trip to inkan-sam); four left a CPU idle 5-12 % of a P-256 phase
	 * (2026-12-07, docs/performance.md), fewer ~12 % of any phase. */
	b->nthreads = 8 * b->ncpus;
	if (b->nthreads > BENCH_MAX_THREADS)
		b->nthreads = BENCH_MAX_THREADS;
	b->speed_seconds = BENCH_SPEED_SECONDS;
	b->openssl = "openssl";
	if (ink_exe_sibling("", NULL, b->svc.bindir, sizeof(b->svc.bindir)) != 0)
		return INK_ERR_IO;
	while ((ch = getopt_long(argc, argv, "s:r:c:t:a:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (bench_parse_size(optarg, 1, BENCH_MAX_SIGNERS, &b->nsigners) != 0)
				goto bad;
			break;
		case 'r':
			if (bench_parse_size(optarg, 1, BENCH_MAX_ROUNDS, &b->rounds) != 0)
				goto bad;
			break;
		case 'c':
			if (bench_parse_size(optarg, 1, BENCH_MAX_THREADS, &b->nthreads) != 0)
				goto bad;
			break;
		case 't':
			if (bench_parse_size(optarg, 1, 60, &v) != 0)
				goto bad;
			b->speed_seconds = (int)v;
			break;
		case 'a':
			for (k = 0; k < NALGS && strcmp(optarg, algs[k].name) != 0; k++)
				;
			if (k == NALGS)
				goto bad;
			b->only = &algs[k];
			break;
		case 'j':
			b->json = true;
			break;
		case 'b':
			if (strlen(optarg) >= sizeof(b->svc.bindir))
				goto bad;
			snprintf(b->svc.bindir, sizeof(b->svc.bindir), "%s", optarg);
			break;
		case 'o':
			b->openssl = optarg;
			break;
		case 'd':
			b->svc.database = optarg;
			break;
		case 'k':
			b->svc.keystore = optarg;
			break;
		case 'B':
			b->beside_sqlite = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	/* beside what? (and one table is no JSON document) */
	if (b->beside_sqlite && ((b->svc.database == NULL && b->svc.keystore == NULL) || b->json))
		goto bad;
	return 0;
bad:
	usage(stderr);
	return INK_ERR_INVALID;
}

/* The security officer's first login (one-time password from `inkan init`), the registration
 * officer, then the signers with their keys on the client threads. */
static int
setup_accounts(struct bench *b)
{
	int r;

	snprintf(b->ro.name, sizeof(b->ro.name), "bench-ro");
	if ((r = bench_so_login(&b->svc, &b->clients[0])) != 0)
		return r;
	if ((r = bench_make_account(&b->svc, &b->clients[0], &b->svc.so, &b->ro,
	                            "registration_officer")) != 0)
		return r;
	b->from = 0;
	b->to = b->nsigners;
	/* setting up waits out a full Argon2id queue (503, Retry-After), as a client would */
	atomic_store(&bench_retry_busy, true);
	r = pool_run(b, setup_signer, NULL, NULL);
	atomic_store(&bench_retry_busy, false);
	return r;
}

/* The service of b started (its own data directory, inkand and inkan-sam) and its accounts
 * and keys made; 0 or an error, said. */
static int
service_up(struct bench *b)
{
	size_t t;
	int r;

	if (bench_svc_dirs(&b->svc, "inkan-bench") != 0)
		return INK_ERR_IO;
	if ((b->signers = calloc(b->nsigners, sizeof(*b->signers))) == NULL ||
	    (b->clients = calloc(b->nthreads, sizeof(*b->clients))) == NULL) {
		bench_fatal("setup", INK_ERR_ALLOC);
		return INK_ERR_ALLOC;
	}
	if (!b->json)
		fprintf(stderr, "inkan-bench: inkan init and inkand in %s (%s)\n", b->svc.tmpdir,
		        svc_name(b));
	if ((r = bench_random_secret(b->pin, sizeof(b->pin), "pin-", "")) != 0 ||
	    (r = bench_init_data(&b->svc)) != 0 || (r = bench_start_inkand(&b->svc)) != 0) {
		bench_fatal("starting the service", r);
		return r;
	}
	for (t = 0; t < b->nthreads; t++, b->nclients++) {
		char src[24];

		/* a source address each: the login rate is counted per source */
		snprintf(src, sizeof(src), "127.0.%u.%u", (unsigned)(t / 200), (unsigned)(10 + t % 200));
		if ((r = bench_client_init(&b->svc, &b->clients[t], src)) != 0) {
			bench_fatal("libcurl", r);
			return r;
		}
	}
	if (!b->json)
		fprintf(stderr, "inkan-bench: %zu signers with %zu key(s) each...\n", b->nsigners,
		        b->only != NULL ? (size_t)1 : NALGS);
	if ((r = setup_accounts(b)) != 0)
		bench_fatal("setting up accounts and keys", r);
	return r;
}

/* Stops b's service and removes its data; 0, or 1 when something could not be undone. */
static int
service_down(struct bench *b)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < b->nclients; i++)
		bench_client_free(&b->clients[i]);
	free(b->clients);
	if (bench_stop_inkand(&b->svc) != 0)
		rc = 1;
	for (i = 0; b->signers != NULL && i < b->nsigners; i++)
		bench_account_clear(&b->signers[i]);
	free(b->signers);
	bench_account_clear(&b->svc.so);
	bench_account_clear(&b->ro);
	OPENSSL_cleanse(b->pin, sizeof(b->pin));
	OPENSSL_cleanse(b->svc.so_onetime, sizeof(b->svc.so_onetime));
	if (b->svc.tmpdir[0] != '\0' && bench_rm_tree(b->svc.tmpdir) != 0) {
		fprintf(stderr, "inkan-bench: could not remove %s\n", b->svc.tmpdir);
		rc = 1;
	}
	return rc;
}

/* --beside-sqlite: the signHash figures of the two services measured in the same run. */
static void
print_beside(const struct bench *b)
{
	const struct bench *o = b->beside;
	const struct result *p, *q;
	size_t i;

	printf("\nPostgreSQL beside SQLite, same run (each signHash phase right after the other's):\n");
	printf("%-9s %5s | %14s %14s %8s | %22s %8s\n", "algorithm", "batch", "PG sig/s",
	       "SQLite sig/s", "PG/SQLite", "inkan-sam CPU PG / SQLite", "ratio");
	for (i = 0; i < b->nresults; i++) {
		p = &b->results[i];
		if ((q = find_result(o, p->alg, p->batch)) == NULL)
			continue;
		printf("%-9s %5zu | %14.1f %14.1f %8.1f%% | %10.0f%% / %8.0f%% %7.1f%%\n",
		       algs[p->alg].name, p->batch, (double)p->sigs / p->sign_wall,
		       (double)q->sigs / q->sign_wall,
		       100 * ratio((double)p->sigs / p->sign_wall, (double)q->sigs / q->sign_wall),
		       100 * ratio(p->cpu_sam, (double)b->ncpus * p->sign_wall),
		       100 * ratio(q->cpu_sam, (double)o->ncpus * q->sign_wall),
		       100 * ratio(ratio(p->cpu_sam, p->sign_wall), ratio(q->cpu_sam, q->sign_wall)));
	}
}

int
main(int argc, char **argv)
{
	struct bench b, sq;
	size_t i, k;
	double t0;
	int r, rc = 1;

	memset(&b, 0, sizeof(b));
	memset(&sq, 0, sizeof(sq));
	secmem_json_wipe_on_free();
	if (parse_args(&b, argc, argv) != 0)
		return 2;
	if (b.nthreads > b.nsigners)
		b.nthreads = b.nsigners;
	if (b.beside_sqlite) {
		/* the same options, SQLite's defaults for its databases */
		memcpy(&sq.svc.bindir, &b.svc.bindir, sizeof(sq.svc.bindir));
		sq.nsigners = b.nsigners;
		sq.rounds = b.rounds;
		sq.nthreads = b.nthreads;
		sq.ncpus = b.ncpus;
		sq.only = b.only;
		sq.speed_seconds = b.speed_seconds;
		sq.openssl = b.openssl;
		b.beside = &sq;
	}
	bench_signals(&b.svc);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "inkan-bench: curl_global_init failed\n");
		return 1;
	}
	bench_openssl_version(b.openssl, b.openssl_version, sizeof(b.openssl_version));
	t0 = bench_mono_now();
	if (service_up(&b) != 0 || (b.beside != NULL && service_up(&sq) != 0))
		goto out;
	b.setup_secs = sq.setup_secs = bench_mono_now() - t0;
	if ((r = openssl_speed_run(&b, 0)) != 0) {
		bench_fatal("openssl speed", r);
		goto out;
	}
	b.auth_margin = sq.auth_margin = 3 + 0.5 * (double)b.nsigners;
	t0 = bench_mono_now();
	for (k = 0; k < NALGS; k++) {
		for (i = 0; i < NBATCHES && (b.only == NULL || b.only == &algs[k]); i++) {
			if ((r = measure(&b, k, batches[i])) != 0) {
				if (!b.json)
					fprintf(stderr, "\n");
				bench_fatal("measuring", r);
				goto out;
			}
		}
	}
	b.bench_secs = sq.bench_secs = bench_mono_now() - t0;
	if ((r = openssl_speed_run(&b, 1)) != 0) {
		bench_fatal("openssl speed", r);
		goto out;
	}
	if (b.json) {
		if (print_json(&b) != 0)
			goto out;
	} else {
		print_table(&b);
		if (b.beside != NULL) {
			/* one openssl speed for both */
			memcpy(sq.speed_runs, b.speed_runs, sizeof(sq.speed_runs));
			sq.speed_n = b.speed_n;
			sq.speed_1 = b.speed_1;
			memcpy(sq.openssl_version, b.openssl_version, sizeof(sq.openssl_version));
			printf("\n");
			print_table(&sq);
			print_beside(&b);
		}
	}
	rc = 0;
out:
	if (service_down(&b) != 0)
		rc = 1;
	if (b.beside != NULL && service_down(&sq) != 0)
		rc = 1;
	curl_global_cleanup();
	return rc;
}
