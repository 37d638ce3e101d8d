/* inkan-soak: a real inkand under a mixed load from many loopback sources for minutes, its memory
 * watched; and a crash loop that kills inkand and inkan-sam under signing load, then checks that
 * every signature handed out is on the audit log, the log verifies, and nothing was lost. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "bench.h"
#include "formats/formats.h"

#define SOAK_DURATION 600            /* seconds of mixed load */
#define SOAK_CONNS 64
#define SOAK_MAX_CONNS 64            /* one source address each: 127.0.0.10 ... 127.0.0.73 */
#define SOAK_SRC_FIRST 10
#define SOAK_RATE 100                /* requests per second, all connections together */
#define SOAK_LOGIN_EVERY 120         /* seconds between a connection's logins (on average) */
#define SOAK_AUTHORIZE_EVERY 60      /* at least this long between its authorizations */
#define SOAK_HASHES 50               /* hashes one authorization allows */
#define SOAK_SAD_MAX_AGE 240         /* a SAD lives 5 min; older ones are dropped */
#define SOAK_SAMPLE_SECS 10          /* RSS reported every ... */
#define SOAK_WARMUP_PCT 50            /* SADs live 5 min: the SAM grows until the first expire */
#define SOAK_RSS_BOUND_PCT 10
#define SOAK_TOTP_MARGIN 15          /* as bench_totp_next: a step with this much of it left */
#define SOAK_ERRORS_SHOWN 5          /* unexpected answers printed per endpoint */
#define CRASH_CONNS 4
#define CRASH_ACCOUNTS 6             /* signers per crash-loop connection, used in turn */
#define CRASH_HASHES 100             /* a SAD's hashes: most die with inkan-sam unused */
#define CRASH_RATE 20                /* signHash requests per second and connection */
#define CRASH_WAIT_MAX 90            /* seconds to wait for a signature after a restart */
#define SIG_ALG_P256 "1.2.840.10045.4.3.2"
#define DIGEST_LEN SHA256_DIGEST_LENGTH

enum ep {
	EP_LOGIN,
	EP_AUTHORIZE,
	EP_SIGNHASH,
	EP_TSA,
	EP_VERIFY,
	EP_BAD_JSON,
	EP_BAD_TYPE,
	EP_BAD_B64,
	EP_BAD_PATH,
	EP_BAD_TOKEN,
	EP_N
};

/* Each endpoint of the mix and the status it must answer. */
static const struct ep_desc {
	const char *name;
	const char *request;
	long want;
} eps[EP_N] = {
	[EP_LOGIN] = { "login", "POST /csc/v2/auth/login", 200 },
	[EP_AUTHORIZE] = { "authorize", "POST /csc/v2/credentials/authorize", 200 },
	[EP_SIGNHASH] = { "signHash", "POST /csc/v2/signatures/signHash", 200 },
	[EP_TSA] = { "tsa", "POST /tsa", 200 },
	[EP_VERIFY] = { "verify", "POST /api/v1/verify (CAdES, P-256)", 200 },
	[EP_BAD_JSON] = { "bad JSON", "signHash, body cut short", 400 },
	[EP_BAD_TYPE] = { "wrong type", "credentials/info, credentialID a number", 400 },
	[EP_BAD_B64] = { "bad base64", "signHash, a hash not base64", 400 },
	[EP_BAD_PATH] = { "unknown path", "POST /csc/v2/no-such-endpoint", 404 },
	[EP_BAD_TOKEN] = { "bad token", "credentials/list, a random bearer token", 401 },
};

struct lat {
	double *v;                           /* seconds */
	size_t n, cap;
};

struct stats {
	size_t count[EP_N], errors[EP_N];
	struct lat lat[EP_N];
};

/* A signature a crash-loop client received: which signer, which hash. */
struct received {
	size_t signer;
	uint8_t hash[DIGEST_LEN];
};

struct soak;

/* One client connection: its own source address; in the soak its own signer, in the crash loop
 * a few used in turn. */
struct conn {
	struct soak *s;
	size_t idx;
	struct bench_client c;
	const struct bench_svc *svc;         /* a copy of the service's address: never rewritten */
	size_t signer;                       /* the signer in use (index into s->signers) */
	char *sad;                           /* and its SAD, over pool[used .. npool) */
	uint8_t (*pool)[DIGEST_LEN];
	size_t npool, used;
	double sad_at, relogin_at, authorize_at, next_at;
	uint64_t rng;
	struct stats st;
	size_t shown[EP_N];
	struct received *rcv;
	size_t nrcv, rcvcap;
	size_t sign_fail;                    /* crash loop: signHash without signatures */
	int err;                             /* a failure that is not the service's answer */
};

struct rss_sample {
	double t;                            /* seconds since the load began */
	long inkand, sam;                    /* KiB at the sample */
	long inkand_floor, sam_floor;        /* the least of the 1 s readings of the interval */
	size_t requests, errors;
};

struct soak {
	/* options */
	double duration, rate, warmup_pct, rss_bound;
	size_t nconns, crashes, crash_conns, crash_accounts, hashes;
	size_t nworkers;                     /* threads of the set-up and of the final check */
	double login_every, authorize_every;
	bool json, fast_argon2, keep;
	/* run */
	struct bench_svc svc, svc_clients;   /* svc_clients: what the client threads read */
	char pin[40];
	struct bench_account ro, aud, *signers;
	size_t nsigners;
	struct bench_client admin;
	char *verify_body;
	struct conn *conns;
	atomic_bool stop;
	atomic_size_t received;              /* crash loop: signatures received so far */
	atomic_size_t gen;                   /* crash loop: restarts so far */
	size_t crash_first;                  /* its first signer (after the soak's) */
	size_t *proven;                      /* per signer: 1 + the gen it last signed in, or 0 */
	double setup_secs;
	/* soak results */
	double run_secs;
	struct stats total;
	struct rss_sample *samples;
	size_t nsamples;
	long base_inkand, base_sam, max_inkand, max_sam;
	long late_inkand, late_sam;          /* median floors of the later half after warm-up */
	double base_t;
	bool rss_flat, soak_ok, soak_ran;
	/* crash loop results */
	size_t crashes_done, killed_inkand, killed_sam, inkand_exited_with_sam, sam_outlived;
	size_t rcv_total, rcv_audited, rcv_bad_sig, sign_fail;
	size_t accounts_ok, accounts_total, keys_ok, keys_total;
	size_t audit_records;
	bool audit_verified, crash_ok, crash_ran;
	char audit_line[256];
	double crash_secs;
};

/* ---- small helpers ---- */

static uint64_t
rng_next(uint64_t *s)
{
	/* xorshift64*: the mix and the moments of the crashes, nothing secret */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static double
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static int
lat_add(struct lat *l, double v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 256 : 2 * l->cap;
		double *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return INK_ERR_ALLOC;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
	return 0;
}

static void
stats_free(struct stats *st)
{
	size_t e;

	for (e = 0; e < EP_N; e++)
		free(st->lat[e].v);
	memset(st, 0, sizeof(*st));
}

static int
stats_merge(struct stats *into, const struct stats *from)
{
	size_t e, i;
	int r;

	for (e = 0; e < EP_N; e++) {
		into->count[e] += from->count[e];
		into->errors[e] += from->errors[e];
		for (i = 0; i < from->lat[e].n; i++)
			if ((r = lat_add(&into->lat[e], from->lat[e].v[i])) != 0)
				return r;
	}
	return 0;
}

/* One request's outcome. */
static void
record(struct conn *cn, enum ep e, double t0, long status, bool ok, const char *why)
{
	cn->st.count[e]++;
	if (lat_add(&cn->st.lat[e], bench_mono_now() - t0) != 0)
		cn->err = INK_ERR_ALLOC;
	if (ok)
		return;
	cn->st.errors[e]++;
	if (cn->shown[e]++ < SOAK_ERRORS_SHOWN)
		fprintf(stderr, "%s: %s from 127.0.0.%zu: HTTP %ld (want %ld)%s%s%s%s\n", bench_prog,
		        eps[e].name, SOAK_SRC_FIRST + cn->idx, status, eps[e].want,
		        why != NULL && *why != '\0' ? ": " : "", why != NULL ? why : "",
		        status == 0 ? " no answer: " : "",
		        status == 0 ? curl_easy_strerror(cn->c.last) : "");
}

/* The reply as JSON (NULL when it is none), the raw bytes wiped. */
static json_t *
reply_json(struct bench_client *c)
{
	json_error_t jerr;
	json_t *j = NULL;

	if (c->reply.len > 0)
		j = json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr);
	if (c->reply.data != NULL)
		OPENSSL_cleanse(c->reply.data, c->reply.len);
	c->reply.len = 0;
	return j;
}

/* error_description of a CSC error reply, for the message. */
static void
reply_why(struct bench_client *c, char *out, size_t outsz)
{
	json_t *j = reply_json(c);
	const char *d = json_string_value(json_object_get(j, "error_description"));

	snprintf(out, outsz, "%s", d != NULL ? d : "");
	json_decref(j);
}

/* POST a JSON body (consumed) from connection cn; the status and (optional) parsed answer. */
static int
post_json(struct conn *cn, const char *path, const char *authz, json_t *body, long *status,
          json_t **reply)
{
	char *text = NULL;
	int r = INK_ERR_ALLOC;

	*status = 0;
	if (reply != NULL)
		*reply = NULL;
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) != NULL)
		r = bench_post(cn->svc, &cn->c, path, "application/json", authz, text, strlen(text),
		               status);
	json_decref(body);
	bench_json_free_str(text);
	if (r == 0 && reply != NULL && *status == 200)
		*reply = reply_json(&cn->c);
	return r;
}

/* A TOTP step no later than the current one + ahead is free for the account. Neither the soak
 * nor the crash loop takes the next step (+1) the SAM would accept, and the soak's last 30 s
 * not even the current one (-1): the checks after the crash loop then log every account in and
 * authorize again without waiting for the clock. */
static bool
step_free(const struct soak *s, const struct bench_account *a, int ahead)
{
	double now = bench_wall_now();
	int64_t st = bench_totp_pick(a->last_step, now, SOAK_TOTP_MARGIN, s->svc.cfg.totp_window);

	return st >= 0 && st <= (int64_t)(now / AUTH_TOTP_STEP) + ahead;
}

static bool
sig_verifies(EVP_PKEY *pub, const uint8_t *sig, size_t sig_len, const uint8_t *md)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pub, NULL);
	bool ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
	          EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	          EVP_PKEY_verify(ctx, sig, sig_len, md, DIGEST_LEN) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
pool_drop(struct conn *cn)
{
	bench_freezero_str(&cn->sad);
	free(cn->pool);
	cn->pool = NULL;
	cn->npool = cn->used = 0;
}

/* ---- the requests ---- */

static int
do_login(struct conn *cn)
{
	struct bench_account *a = &cn->s->signers[cn->signer];
	double t0 = bench_mono_now();
	bool enrol = false;
	int r;

	/* bench_login says on stderr what went wrong */
	r = bench_login(cn->svc, &cn->c, a, a->password, false, &enrol);
	record(cn, EP_LOGIN, t0, r == 0 ? 200 : 0, r == 0, NULL);
	return r;
}

/* n digests (random, or the given ones) authorized for the connection's signer: a new SAD and
 * pool. */
static int
do_authorize(struct conn *cn, size_t n, bool quiet, const uint8_t *given)
{
	struct bench_account *a = &cn->s->signers[cn->signer];
	char otp[8] = "", why[200] = "";
	const char *sad = NULL;
	json_t *hashes = NULL, *reply = NULL;
	int64_t last = a->last_step;
	long status = 0;
	double t0;
	size_t i;
	int r;

	pool_drop(cn);
	if ((cn->pool = calloc(n, sizeof(*cn->pool))) == NULL || (hashes = json_array()) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		char *b64 = NULL;

		if (given != NULL)
			memcpy(cn->pool[i], given + i * DIGEST_LEN, DIGEST_LEN);
		else if ((r = ink_random(cn->pool[i], DIGEST_LEN)) != 0)
			goto out;
		if ((r = b64_encode(cn->pool[i], DIGEST_LEN, &b64)) != 0)
			goto out;
		r = json_array_append_new(hashes, json_string(b64)) == 0 ? 0 : INK_ERR_ALLOC;
		free(b64);
		if (r != 0)
			goto out;
	}
	if ((r = bench_totp_next(cn->svc, a, otp)) != 0)
		goto out;
	t0 = bench_mono_now();
	r = post_json(cn, "/csc/v2/credentials/authorize", a->authz,
	              json_pack("{s:s, s:I, s:O, s:s, s:s, s:s}", "credentialID", a->cred[0],
	                        "numSignatures", (json_int_t)n, "hashes", hashes,
	                        "hashAlgorithmOID", BENCH_OID_SHA256, "PIN", cn->s->pin, "OTP", otp),
	              &status, &reply);
	if (r == INK_ERR_ALLOC)
		goto out;
	if (r == 0 && status == 200 && json_unpack(reply, "{s:s}", "SAD", &sad) == 0 &&
	    (cn->sad = strdup(sad)) != NULL) {
		cn->npool = n;
		cn->sad_at = bench_mono_now();
	} else if (r == 0 && status != 200)
		reply_why(&cn->c, why, sizeof(why));
	/* A code that never reached inkan-sam (inkand down, or up without its SAM) is not spent:
	 * the crash loop would otherwise use up every step while the service restarts. */
	if ((r == INK_ERR_IO && cn->c.last == CURLE_COULDNT_CONNECT) ||
	    (r == 0 && status == 503))
		a->last_step = last;
	if (!quiet)
		record(cn, EP_AUTHORIZE, t0, status, cn->sad != NULL, why);
	r = 0;
out:
	if (cn->sad == NULL)
		pool_drop(cn);
	OPENSSL_cleanse(otp, sizeof(otp));
	json_decref(hashes);
	json_decref(reply);
	return r;
}

/* One hash of the pool signed; *got: the signature came and verifies (then in *sig_out when
 * that is not NULL). */
static int
do_sign(struct conn *cn, bool quiet, bool *got, uint8_t **sig_out, size_t *sig_len_out)
{
	struct bench_account *a = &cn->s->signers[cn->signer];
	const uint8_t *md = cn->pool[cn->used];
	char *b64 = NULL, why[200] = "";
	uint8_t *sig = NULL;
	size_t sig_len = 0;
	const char *s64;
	json_t *reply = NULL;
	long status = 0;
	double t0;
	int r;

	*got = false;
	if ((r = b64_encode(md, DIGEST_LEN, &b64)) != 0)
		return r;
	cn->used++;   /* tried once, whatever the answer: a hash is signed at most once per SAD */
	t0 = bench_mono_now();
	r = post_json(cn, "/csc/v2/signatures/signHash", a->authz,
	              json_pack("{s:s, s:s, s:[s], s:s, s:s}", "credentialID", a->cred[0], "SAD",
	                        cn->sad, "hashes", b64, "hashAlgorithmOID", BENCH_OID_SHA256,
	                        "signAlgo", SIG_ALG_P256), &status, &reply);
	free(b64);
	if (r == INK_ERR_ALLOC)
		goto out;
	if (r == 0 && status == 200) {
		s64 = json_string_value(json_array_get(json_object_get(reply, "signatures"), 0));
		if (s64 != NULL && json_array_size(json_object_get(reply, "signatures")) == 1 &&
		    b64_decode(s64, &sig, &sig_len) == 0 && sig_verifies(a->pub[0], sig, sig_len, md)) {
			*got = true;
			if (sig_out != NULL) {
				*sig_out = sig;
				*sig_len_out = sig_len;
				sig = NULL;
			}
		} else
			snprintf(why, sizeof(why), "the signature is missing or does not verify");
	} else if (r == 0)
		reply_why(&cn->c, why, sizeof(why));
	if (!quiet)
		record(cn, EP_SIGNHASH, t0, status, *got, why);
	r = 0;
out:
	free(sig);
	json_decref(reply);
	return r;
}

static int
do_tsa(struct conn *cn)
{
	uint8_t md[DIGEST_LEN], nonce[FORMATS_TS_NONCE_LEN], *der = NULL, *token = NULL;
	size_t len = 0, tlen = 0;
	long status = 0;
	double t0;
	bool ok;
	int r;

	if ((r = ink_random(md, sizeof(md))) != 0 ||
	    (r = formats_ts_request(md, nonce, &der, &len)) != 0)
		return r;
	t0 = bench_mono_now();
	r = bench_post(cn->svc, &cn->c, "/tsa", "application/timestamp-query", NULL, der, len,
	               &status);
	ok = r == 0 && status == 200 &&
	     formats_ts_reply_token(cn->c.reply.data, cn->c.reply.len, md, nonce, &token, &tlen) == 0;
	record(cn, EP_TSA, t0, status, ok, r == 0 && status == 200 && !ok ?
	       "not a granted time-stamp of this request" : NULL);
	cn->c.reply.len = 0;
	free(der);
	free(token);
	return 0;
}

static int
do_verify(struct conn *cn)
{
	const char *ind = NULL;
	json_t *reply = NULL;
	long status = 0;
	double t0 = bench_mono_now();
	bool ok;
	int r;

	r = bench_post(cn->svc, &cn->c, "/api/v1/verify", "application/json", NULL,
	               cn->s->verify_body, strlen(cn->s->verify_body), &status);
	reply = r == 0 ? reply_json(&cn->c) : NULL;
	ok = r == 0 && status == 200 &&
	     json_unpack(reply, "{s:[{s:s}]}", "signatures", "indication", &ind) == 0 &&
	     strcmp(ind, "TOTAL-PASSED") == 0;
	record(cn, EP_VERIFY, t0, status, ok, r == 0 && status == 200 && !ok ?
	       "the report is not TOTAL-PASSED" : NULL);
	json_decref(reply);
	return 0;
}

/* A request the service must refuse with the endpoint's status. */
static int
do_bad(struct conn *cn, enum ep e)
{
	struct bench_account *a = &cn->s->signers[cn->signer];
	char text[400], tok[80], *authz = NULL;
	const char *path;
	long status = 0;
	double t0;
	int r;

	switch (e) {
	case EP_BAD_JSON:
		path = "/csc/v2/signatures/signHash";
		snprintf(text, sizeof(text), "{\"credentialID\": \"%s\", \"SAD\": \"AAAA\", \"hashes\": [",
		         a->cred[0]);
		break;
	case EP_BAD_TYPE:
		path = "/csc/v2/credentials/info";
		snprintf(text, sizeof(text), "{\"credentialID\": 12345, \"certificates\": \"chain\"}");
		break;
	case EP_BAD_B64:
		path = "/csc/v2/signatures/signHash";
		snprintf(text, sizeof(text), "{\"credentialID\": \"%s\", \"SAD\": \"AAAA\", \"hashes\": "
		         "[\"not*base64!\"], \"signAlgo\": \"%s\"}", a->cred[0], SIG_ALG_P256);
		break;
	case EP_BAD_PATH:
		path = "/csc/v2/no-such-endpoint";
		snprintf(text, sizeof(text), "{}");
		break;
	default:
		path = "/csc/v2/credentials/list";
		snprintf(text, sizeof(text), "{}");
		if ((r = bench_random_secret(tok, sizeof(tok), "", "Zm9vYmFyYmF6cXV4")) != 0)
			return r;
		if ((authz = bench_header_value("Bearer", tok)) == NULL)
			return INK_ERR_ALLOC;
		break;
	}
	t0 = bench_mono_now();
	r = bench_post(cn->svc, &cn->c, path, "application/json", authz != NULL ? authz : a->authz,
	               text, strlen(text), &status);
	cn->c.reply.len = 0;
	record(cn, e, t0, status, r == 0 && status == eps[e].want, NULL);
	bench_freezero_str(&authz);
	return 0;
}

/* ---- the soak: every connection runs the mix, paced to its share of the rate ---- */

static void *
soak_conn_main(void *arg)
{
	struct conn *cn = arg;
	struct soak *s = cn->s;
	struct bench_account *a = &s->signers[cn->signer];
	double now, start = bench_mono_now(), end = start + s->duration;
	double interval = (double)s->nconns / s->rate, x;
	int ahead;
	bool got;
	int r = 0;

	cn->next_at = start + rng_unit(&cn->rng) * interval;
	/* The Argon2id work (logins, authorizations) spread over the run, not all at once; the
	 * session of the set-up serves the first authorization. */
	cn->relogin_at = start + s->login_every * (0.5 + rng_unit(&cn->rng));
	cn->authorize_at = start + rng_unit(&cn->rng) * fmin(30, s->authorize_every);
	while (r == 0 && cn->err == 0 && !bench_interrupted && !atomic_load(&s->stop)) {
		now = bench_mono_now();
		if (now >= end)
			break;
		if (now < cn->next_at) {
			bench_sleep(fmin(cn->next_at, end) - now);
			continue;
		}
		cn->next_at += interval * (0.5 + rng_unit(&cn->rng));
		if (cn->next_at < now)
			cn->next_at = now;
		if (cn->sad != NULL && (cn->used == cn->npool || now - cn->sad_at > SOAK_SAD_MAX_AGE))
			pool_drop(cn);
		ahead = s->duration >= 120 && now > end - 30 ? -1 : 0;
		/* A SAD belongs to the session it was made in: log in again between two. */
		if ((a->authz == NULL || (now >= cn->relogin_at && cn->sad == NULL)) &&
		    step_free(s, a, ahead)) {
			cn->relogin_at = now + s->login_every * (0.5 + rng_unit(&cn->rng));
			if (do_login(cn) != 0)
				cn->relogin_at = now;   /* no session: the next free step tries again */
			continue;
		}
		if (a->authz == NULL)
			continue;
		if (cn->sad == NULL && now >= cn->authorize_at && step_free(s, a, ahead)) {
			cn->authorize_at = now + s->authorize_every * (0.75 + 0.5 * rng_unit(&cn->rng));
			r = do_authorize(cn, s->hashes, false, NULL);
			continue;
		}
		/* signHash 40 %, TSA 20 %, verify 15 %, bad requests 25 % (5 kinds alike) */
		x = rng_unit(&cn->rng) * 100;
		if (x < 40 && cn->sad != NULL)
			r = do_sign(cn, false, &got, NULL, NULL);
		else if (x < 40 || x < 60)
			r = do_tsa(cn);
		else if (x < 75)
			r = do_verify(cn);
		else
			r = do_bad(cn, EP_BAD_JSON + (enum ep)(rng_next(&cn->rng) % 5));
	}
	if (r != 0 && cn->err == 0)
		cn->err = r;
	pool_drop(cn);
	return NULL;
}

static size_t
live_totals(const struct soak *s, size_t *errors)
{
	size_t i, e, n = 0;

	*errors = 0;
	for (i = 0; i < s->nconns; i++) {
		for (e = 0; e < EP_N; e++) {
			/* read while the threads write: a progress figure, not the result */
			n += __atomic_load_n(&s->conns[i].st.count[e], __ATOMIC_RELAXED);
			*errors += __atomic_load_n(&s->conns[i].st.errors[e], __ATOMIC_RELAXED);
		}
	}
	return n;
}

/* Every SOAK_SAMPLE_SECS: inkand's and inkan-sam's VmRSS, and the least of the readings taken
 * each second of the interval (an Argon2id derivation holds 64 MiB while it runs: the floor is
 * what stays). */
static int
soak_watch(struct soak *s, double start)
{
	long fi = -1, fs = -1, ri, rs;
	double next = start + 1, now;
	size_t tick = 0, cap = (size_t)(s->duration / SOAK_SAMPLE_SECS) + 2;

	if ((s->samples = calloc(cap, sizeof(*s->samples))) == NULL)
		return INK_ERR_ALLOC;
	while (!bench_interrupted) {
		now = bench_mono_now();
		if (now < next) {
			bench_sleep(next - now);
			continue;
		}
		ri = bench_rss_kib(s->svc.inkand);
		rs = bench_rss_kib(s->svc.sam);
		fi = fi < 0 || (ri >= 0 && ri < fi) ? ri : fi;
		fs = fs < 0 || (rs >= 0 && rs < fs) ? rs : fs;
		if ((++tick % SOAK_SAMPLE_SECS == 0 || now - start >= s->duration) &&
		    s->nsamples < cap) {
			struct rss_sample *sm = &s->samples[s->nsamples++];

			sm->t = now - start;
			sm->inkand = ri;
			sm->sam = rs;
			sm->inkand_floor = fi;
			sm->sam_floor = fs;
			sm->requests = live_totals(s, &sm->errors);
			fi = fs = -1;
			if (!s->svc.quiet)
				fprintf(stderr, "%s: %4.0f s: %zu requests, %zu errors; RSS inkand %.1f MiB "
				        "(floor %.1f), inkan-sam %.1f MiB (floor %.1f)\n", bench_prog, sm->t,
				        sm->requests, sm->errors, (double)sm->inkand / 1024,
				        (double)sm->inkand_floor / 1024, (double)sm->sam / 1024,
				        (double)sm->sam_floor / 1024);
			if (ri < 0 || rs < 0) {
				fprintf(stderr, "%s: inkand or inkan-sam is gone\n", bench_prog);
				return INK_ERR_IO;
			}
		}
		if (now - start >= s->duration)
			break;
		next += 1;
	}
	return 0;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorted in place); 0 when n is 0. */
static long
median_long(long *v, size_t n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_long);
	return v[n / 2];
}

/* RSS flat: after warm-up, the floors of the later half stay (their median) within rss_bound %
 * of the first floor measured after it — memory that grows for good shows there, a passing
 * bump (a burst of Argon2id runs, an allocator keeping pages a while) does not; the largest
 * floor is reported too. */
static void
soak_rss_judge(struct soak *s)
{
	long *late_inkand = NULL, *late_sam = NULL;
	size_t i, first = 0, nlate = 0, njudged = 0;
	bool have = false;

	s->rss_flat = true;
	for (i = 0; i < s->nsamples; i++) {
		const struct rss_sample *sm = &s->samples[i];

		if (sm->t < s->duration * s->warmup_pct / 100 - 0.5)
			continue;
		njudged++;
		if (!have) {
			have = true;
			first = i;
			s->base_t = sm->t;
			s->base_inkand = s->max_inkand = sm->inkand_floor;
			s->base_sam = s->max_sam = sm->sam_floor;
			continue;
		}
		if (sm->inkand_floor > s->max_inkand)
			s->max_inkand = sm->inkand_floor;
		if (sm->sam_floor > s->max_sam)
			s->max_sam = sm->sam_floor;
	}
	if (!have || s->rss_bound <= 0)
		return;
	if ((late_inkand = calloc(s->nsamples, sizeof(*late_inkand))) == NULL ||
	    (late_sam = calloc(s->nsamples, sizeof(*late_sam))) == NULL) {
		free(late_inkand);
		s->rss_flat = false;
		return;
	}
	for (i = first + njudged / 2; i < s->nsamples; i++, nlate++) {
		late_inkand[nlate] = s->samples[i].inkand_floor;
		late_sam[nlate] = s->samples[i].sam_floor;
	}
	s->late_inkand = median_long(late_inkand, nlate);
	s->late_sam = median_long(late_sam, nlate);
	free(late_inkand);
	free(late_sam);
	if ((double)s->late_inkand > (double)s->base_inkand * (1 + s->rss_bound / 100) ||
	    (double)s->late_sam > (double)s->base_sam * (1 + s->rss_bound / 100))
		s->rss_flat = false;
}

static int
soak_run(struct soak *s)
{
	pthread_t tid[SOAK_MAX_CONNS];
	size_t i, started = 0, e;
	double start;
	int r = 0;

	if (!s->svc.quiet)
		fprintf(stderr, "%s: soak: %zu connections (127.0.0.%d-%zu), %.0f requests/s, %.0f s\n",
		        bench_prog, s->nconns, SOAK_SRC_FIRST, SOAK_SRC_FIRST + s->nconns - 1, s->rate,
		        s->duration);
	atomic_store(&s->stop, false);
	start = bench_mono_now();
	for (i = 0; i < s->nconns; i++) {
		struct conn *cn = &s->conns[i];

		cn->signer = i;
		if (pthread_create(&tid[i], NULL, soak_conn_main, cn) != 0) {
			r = INK_ERR_INTERNAL;
			break;
		}
		started++;
	}
	if (r == 0)
		r = soak_watch(s, start);
	atomic_store(&s->stop, true);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	s->run_secs = bench_mono_now() - start;
	s->soak_ran = true;
	for (i = 0; i < started; i++) {
		if (r == 0 && s->conns[i].err != 0)
			r = s->conns[i].err;
		if (r == 0)
			r = stats_merge(&s->total, &s->conns[i].st);
		stats_free(&s->conns[i].st);
		memset(s->conns[i].shown, 0, sizeof(s->conns[i].shown));
	}
	for (e = 0; e < EP_N; e++)
		if (s->total.lat[e].n > 0)
			qsort(s->total.lat[e].v, s->total.lat[e].n, sizeof(double), bench_cmp_double);
	soak_rss_judge(s);
	s->soak_ok = r == 0 && s->rss_flat && !bench_interrupted;
	for (e = 0; e < EP_N; e++)
		if (s->total.errors[e] != 0)
			s->soak_ok = false;
	return r;
}

/* ---- the crash loop ---- */

static int
keep_received(struct conn *cn)
{
	struct received *rc;

	if (cn->nrcv == cn->rcvcap) {
		size_t cap = cn->rcvcap == 0 ? 256 : 2 * cn->rcvcap;

		if ((rc = realloc(cn->rcv, cap * sizeof(*rc))) == NULL)
			return INK_ERR_ALLOC;
		cn->rcv = rc;
		cn->rcvcap = cap;
	}
	rc = &cn->rcv[cn->nrcv++];
	rc->signer = cn->signer;
	memcpy(rc->hash, cn->pool[cn->used - 1], DIGEST_LEN);
	return 0;
}

/* The connection's signer with a TOTP step free, the one used longest ago; false if none. */
static bool
crash_pick_signer(struct conn *cn)
{
	struct soak *s = cn->s;
	size_t k, best = 0, first = s->crash_first + cn->idx * s->crash_accounts;
	bool found = false;

	for (k = first; k < first + s->crash_accounts; k++) {
		if (!step_free(s, &s->signers[k], 0))
			continue;
		if (!found || s->signers[k].last_step < s->signers[best].last_step)
			best = k;
		found = true;
	}
	if (found)
		cn->signer = best;
	return found;
}

/* Signs one hash per request until stopped; after a failure (the service is down, or came back
 * without the SAD) authorizes again with a signer whose TOTP step is free. */
static void *
crash_conn_main(void *arg)
{
	struct conn *cn = arg;
	struct soak *s = cn->s;
	size_t gen;
	bool got;
	int r = 0;

	cn->next_at = bench_mono_now();
	while (r == 0 && !bench_interrupted && !atomic_load(&s->stop)) {
		/* paced: an authorization spends a TOTP step, and each signer has few */
		if (bench_mono_now() < cn->next_at) {
			bench_sleep(cn->next_at - bench_mono_now());
			continue;
		}
		cn->next_at = fmax(cn->next_at + 1.0 / CRASH_RATE, bench_mono_now() - 1);
		if (cn->sad == NULL || cn->used == cn->npool) {
			if (!crash_pick_signer(cn)) {
				bench_sleep(0.5);
				continue;
			}
			if ((r = do_authorize(cn, CRASH_HASHES, true, NULL)) == 0 && cn->sad == NULL)
				bench_sleep(0.2);
			continue;
		}
		gen = atomic_load(&s->gen);
		if ((r = do_sign(cn, true, &got, NULL, NULL)) != 0)
			break;
		if (got) {
			s->proven[cn->signer] = gen + 1;
			r = keep_received(cn);
			atomic_fetch_add(&s->received, 1);
		} else {
			cn->sign_fail++;
			pool_drop(cn);   /* the SAD died with inkan-sam */
			bench_sleep(0.1);
		}
	}
	cn->err = r;
	pool_drop(cn);
	return NULL;
}

/* Waits up to secs for pid to be gone (inkan-sam is reaped by inkand, or init). */
static bool
wait_gone(pid_t pid, double secs)
{
	double t0 = bench_mono_now();

	while (bench_alive(pid)) {
		if (bench_mono_now() - t0 > secs)
			return false;
		bench_sleep(0.02);
	}
	return true;
}

/* One crash: SIGKILL to inkand or inkan-sam, then whatever is needed to serve again. */
static int
crash_one(struct soak *s, bool kill_sam)
{
	pid_t sam = s->svc.sam != 0 ? s->svc.sam : bench_find_child(s->svc.inkand);
	int status, r;

	if (sam <= 0) {
		fprintf(stderr, "%s: no inkan-sam under inkand %ld\n", bench_prog, (long)s->svc.inkand);
		return INK_ERR_IO;
	}
	if (kill_sam) {
		kill(sam, SIGKILL);
		s->killed_sam++;
		if (!wait_gone(sam, 10))
			return INK_ERR_IO;
		/* inkand stays up without its SAM (503, never a silent restart): a restart is needed */
		bench_sleep(0.2);
		if (waitpid(s->svc.inkand, &status, WNOHANG) == s->svc.inkand) {
			s->inkand_exited_with_sam++;
			s->svc.inkand = 0;
		} else if ((r = bench_stop_inkand(&s->svc)) != 0)
			return r;
	} else {
		kill(s->svc.inkand, SIGKILL);
		s->killed_inkand++;
		while (waitpid(s->svc.inkand, &status, 0) < 0 && errno == EINTR)
			;
		s->svc.inkand = 0;
		if (!wait_gone(sam, 10)) {
			s->sam_outlived++;
			fprintf(stderr, "%s: inkan-sam %ld outlived its inkand by 10 s\n", bench_prog,
			        (long)sam);
			kill(sam, SIGKILL);
			wait_gone(sam, 10);
		}
	}
	s->svc.sam = 0;
	if ((r = bench_start_inkand(&s->svc)) != 0)
		return r;
	if (s->svc.sam == 0)
		s->svc.sam = bench_find_child(s->svc.inkand);
	return 0;
}

static int
crash_loop(struct soak *s)
{
	pthread_t tid[SOAK_MAX_CONNS];
	size_t i, started = 0, before;
	uint64_t rng = 0;
	double t0, start = bench_mono_now(), delay;
	int r = 0;

	if ((r = ink_random(&rng, sizeof(rng))) != 0)
		return r;
	rng |= 1;
	if (!s->svc.quiet)
		fprintf(stderr, "%s: crash loop: %zu SIGKILLs under signing load (%zu connections, %zu "
		        "signers each)\n", bench_prog, s->crashes, s->crash_conns, s->crash_accounts);
	atomic_store(&s->stop, false);
	for (i = 0; i < s->crash_conns; i++) {
		struct conn *cn = &s->conns[i];

		cn->signer = s->crash_first + i * s->crash_accounts;
		if (pthread_create(&tid[i], NULL, crash_conn_main, cn) != 0) {
			r = INK_ERR_INTERNAL;
			break;
		}
		started++;
	}
	s->crash_ran = true;
	for (i = 0; r == 0 && i < s->crashes && !bench_interrupted; i++) {
		/* a random moment once signatures flow again */
		before = atomic_load(&s->received);
		delay = 0.3 + 2.7 * rng_unit(&rng);
		t0 = bench_mono_now();
		while (!bench_interrupted && (atomic_load(&s->received) == before ||
		                              bench_mono_now() - t0 < delay)) {
			if (bench_mono_now() - t0 > CRASH_WAIT_MAX) {
				fprintf(stderr, "%s: no signature within %d s after restart %zu\n", bench_prog,
				        CRASH_WAIT_MAX, i);
				r = INK_ERR_IO;
				break;
			}
			bench_sleep(0.01);
		}
		if (r != 0 || bench_interrupted)
			break;
		/* alternately inkand and inkan-sam */
		if ((r = crash_one(s, i % 2 == 1)) != 0) {
			bench_fatal("crash and restart", r);
			break;
		}
		s->crashes_done++;
		atomic_fetch_add(&s->gen, 1);
		if (!s->svc.quiet)
			fprintf(stderr, "%s: crash %zu/%zu: SIGKILL to %s after %.1f s, %zu signatures "
			        "so far; restarted\n", bench_prog, i + 1, s->crashes,
			        i % 2 == 1 ? "inkan-sam" : "inkand", bench_mono_now() - t0,
			        atomic_load(&s->received));
	}
	/* signatures after the last restart too */
	before = atomic_load(&s->received);
	for (t0 = bench_mono_now(); r == 0 && !bench_interrupted && bench_mono_now() - t0 < 30 &&
	     atomic_load(&s->received) == before;)
		bench_sleep(0.05);
	atomic_store(&s->stop, true);
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (r == 0 && s->conns[i].err != 0)
			r = s->conns[i].err;
		s->sign_fail += s->conns[i].sign_fail;
	}
	s->crash_secs = bench_mono_now() - start;
	return r;
}

/* The set of "credential hash-hex" a successful csc.signHash record names (a JSON object used
 * as a set), from every record of the audit trail. */
static int
audit_signed(struct soak *s, json_t **out)
{
	char path[128];
	json_t *set = json_object(), *page = NULL, *recs, *rec;
	json_int_t after = 0;
	long status = 0;
	size_t i;
	int r;

	*out = NULL;
	if (set == NULL)
		return INK_ERR_ALLOC;
	for (;;) {
		snprintf(path, sizeof(path), "/api/v1/audit?after=%lld&limit=1000", (long long)after);
		if ((r = bench_get(&s->svc, &s->admin, path, s->aud.authz, &status)) != 0 ||
		    status != 200) {
			fprintf(stderr, "%s: GET %s: HTTP %ld\n", bench_prog, path, status);
			r = r != 0 ? r : INK_ERR_PROTOCOL;
			goto out;
		}
		json_decref(page);
		page = reply_json(&s->admin);
		recs = json_object_get(page, "records");
		if (!json_is_array(recs)) {
			r = INK_ERR_PROTOCOL;
			goto out;
		}
		json_array_foreach(recs, i, rec) {
			const char *act = json_string_value(json_object_get(rec, "action"));
			const char *res = json_string_value(json_object_get(rec, "result"));
			const char *subj = json_string_value(json_object_get(rec, "subject"));
			const char *det = json_string_value(json_object_get(rec, "detail"));
			const char *p;
			char key[200];
			size_t n;

			after = json_integer_value(json_object_get(rec, "seq"));
			s->audit_records++;
			if (act == NULL || strcmp(act, "csc.signHash") != 0 || res == NULL ||
			    strcmp(res, "success") != 0 || subj == NULL || det == NULL ||
			    (p = strrchr(det, ':')) == NULL)
				continue;
			/* "serial S; hashes 1-1 of 1: HEX HEX ..." */
			for (p++; *p != '\0'; p += n) {
				p += strspn(p, " ");
				n = strcspn(p, " ");
				if (n == 0)
					break;
				snprintf(key, sizeof(key), "%s %.*s", subj, (int)n, p);
				if (json_object_set_new(set, key, json_true()) != 0) {
					r = INK_ERR_ALLOC;
					goto out;
				}
			}
		}
		if (json_array_size(recs) < 1000)
			break;
	}
	*out = set;
	set = NULL;
	r = 0;
out:
	json_decref(page);
	json_decref(set);
	return r;
}

/* `inkan audit verify --key DATA/ca/audit-log.pem` as the auditor, online. */
static int
audit_verify(struct soak *s)
{
	char prog[600], tokf[400], key[400];
	char *argv[] = { prog, "--server", s->svc.url, "--cacert", s->svc.cacert, "--token-file",
		         tokf, "audit", "verify", "--key", key, NULL };
	const char *tok = s->aud.authz + strlen("Bearer ");
	struct ink_buf out;
	int r;

	buf_init(&out, BENCH_CMD_OUT_MAX, false);
	if ((r = ink_path(prog, sizeof(prog), s->svc.bindir, "inkan")) != 0 ||
	    (r = ink_path(tokf, sizeof(tokf), s->svc.tmpdir, "auditor.token")) != 0 ||
	    (r = ink_path(key, sizeof(key), s->svc.datadir, "ca/audit-log.pem")) != 0 ||
	    (r = ink_write_file(tokf, tok, strlen(tok), 0600)) != 0)
		goto out;
	r = bench_run_capture(argv, &out);
	if (out.len > 0) {
		snprintf(s->audit_line, sizeof(s->audit_line), "%s", (const char *)out.data);
		s->audit_line[strcspn(s->audit_line, "\n")] = '\0';
	}
	s->audit_verified = r == 0;
	if (r != 0)
		fprintf(stderr, "%s: inkan audit verify failed: %s\n", bench_prog, s->audit_line);
out:
	unlink(tokf);
	buf_free(&out);
	return r;
}

/* Every signer logs in afresh, authorizes one hash and signs it with its key. */
static void *
final_conn_main(void *arg)
{
	struct conn *cn = arg;
	struct soak *s = cn->s;
	size_t i, step = s->nworkers;
	bool enrol, got;

	for (i = cn->idx; i < s->nsigners && !bench_interrupted; i += step) {
		struct bench_account *a = &s->signers[i];

		cn->signer = i;
		if (bench_login(cn->svc, &cn->c, a, a->password, false, &enrol) != 0)
			continue;
		__atomic_add_fetch(&s->accounts_ok, 1, __ATOMIC_RELAXED);
		/* a key that signed after the last restart has shown it (and its TOTP steps are
		 * spent) */
		if (s->proven[i] == s->crashes_done + 1) {
			__atomic_add_fetch(&s->keys_ok, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (do_authorize(cn, 1, true, NULL) != 0 || cn->sad == NULL ||
		    do_sign(cn, true, &got, NULL, NULL) != 0 || !got) {
			fprintf(stderr, "%s: %s's key no longer signs\n", bench_prog, a->name);
			continue;
		}
		__atomic_add_fetch(&s->keys_ok, 1, __ATOMIC_RELAXED);
	}
	pool_drop(cn);
	return NULL;
}

static int
crash_check(struct soak *s)
{
	pthread_t tid[SOAK_MAX_CONNS];
	json_t *set = NULL;
	char key[200], hex[2 * DIGEST_LEN + 1];
	size_t i, k, started = 0;
	double t0 = bench_mono_now();
	bool enrol;
	int r;

	if (!s->svc.quiet)
		fprintf(stderr, "%s: checking: audit records, the log, every account and key\n",
		        bench_prog);
	/* a check, not a measurement: a 503 is waited out as a client would */
	atomic_store(&bench_retry_busy, true);
	/* the officers log in too: no account lost */
	s->accounts_total = s->nsigners + 3;
	s->keys_total = s->nsigners;
	if ((r = bench_login(&s->svc, &s->admin, &s->aud, s->aud.password, false, &enrol)) != 0)
		return r;
	s->accounts_ok++;
	if (bench_login(&s->svc, &s->admin, &s->ro, s->ro.password, false, &enrol) == 0)
		s->accounts_ok++;
	if (bench_login(&s->svc, &s->admin, &s->svc.so, s->svc.so.password, false, &enrol) == 0)
		s->accounts_ok++;
	if ((r = audit_signed(s, &set)) != 0)
		goto out;
	for (i = 0; i < s->crash_conns; i++) {
		const struct conn *cn = &s->conns[i];

		for (k = 0; k < cn->nrcv; k++) {
			hex_encode(cn->rcv[k].hash, DIGEST_LEN, hex);
			snprintf(key, sizeof(key), "%s %s", s->signers[cn->rcv[k].signer].cred[0], hex);
			s->rcv_total++;
			if (json_object_get(set, key) != NULL)
				s->rcv_audited++;
			else if (s->rcv_total - s->rcv_audited <= SOAK_ERRORS_SHOWN)
				fprintf(stderr, "%s: a signature received has no audit record: %s\n",
				        bench_prog, key);
		}
	}
	if (!s->svc.quiet)
		fprintf(stderr, "%s: %zu audit records read (%.1f s)\n", bench_prog, s->audit_records,
		        bench_mono_now() - t0);
	if ((r = audit_verify(s)) != 0)
		r = 0;   /* judged below */
	if (!s->svc.quiet)
		fprintf(stderr, "%s: inkan audit verify: %s (%.1f s)\n", bench_prog, s->audit_line,
		        bench_mono_now() - t0);
	/* a thread per signer (as far as there are connections): most of the time is spent
	 * waiting for TOTP steps the crash loop used */
	s->nworkers = s->nconns > s->crash_conns ? s->nconns : s->crash_conns;
	if (s->nworkers > s->nsigners)
		s->nworkers = s->nsigners;
	for (i = 0; i < s->nworkers; i++) {
		if (pthread_create(&tid[i], NULL, final_conn_main, &s->conns[i]) != 0) {
			r = INK_ERR_INTERNAL;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	if (!s->svc.quiet)
		fprintf(stderr, "%s: logged in %zu of %zu accounts, signed with %zu of %zu keys (%.1f s)\n",
		        bench_prog, s->accounts_ok, s->accounts_total, s->keys_ok, s->keys_total,
		        bench_mono_now() - t0);
out:
	json_decref(set);
	s->crash_ok = r == 0 && s->crashes_done == s->crashes && s->rcv_total > 0 &&
	              s->rcv_audited == s->rcv_total && s->audit_verified &&
	              s->accounts_ok == s->accounts_total && s->keys_ok == s->keys_total &&
	              s->sam_outlived == 0;
	return r;
}

/* ---- set-up ---- */

/* Small Argon2id parameters in inkan.conf (a test under sanitizers; never for figures). */
static int
conf_fast_argon2(struct soak *s)
{
	static const char *const keys[] = { "argon2_memory_kib", "argon2_iterations" };
	char path[600], *text = NULL, *line, *save = NULL;
	struct ink_buf out;
	size_t len = 0, k;
	int r;

	buf_init(&out, 1u << 20, false);
	if ((r = ink_path(path, sizeof(path), s->svc.datadir, "inkan.conf")) != 0 ||
	    (r = ink_read_file(path, 1u << 20, &text, &len)) != 0)
		goto out;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		const char *p = line + strspn(line, " \t");

		for (k = 0; k < INK_ARRAY_LEN(keys); k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0 &&
			    strchr(" \t=", p[strlen(keys[k])]) != NULL)
				break;
		if (k == INK_ARRAY_LEN(keys) &&
		    ((r = buf_put(&out, line, strlen(line))) != 0 || (r = buf_put_u8(&out, '\n')) != 0))
			goto out;
	}
	if ((r = buf_put(&out, "argon2_memory_kib = 8192\nargon2_iterations = 1\n", 47)) != 0 ||
	    (r = ink_write_file(path, out.data, out.len, 0600)) != 0)
		goto out;
	r = bench_load_config(&s->svc);
out:
	free(text);
	buf_free(&out);
	return r;
}

static void *
setup_conn_main(void *arg)
{
	struct conn *cn = arg;
	struct soak *s = cn->s;
	size_t i, step = s->nworkers;
	int r = 0;

	for (i = cn->idx; r == 0 && i < s->nsigners && !bench_interrupted; i += step) {
		struct bench_account *a = &s->signers[i];

		snprintf(a->name, sizeof(a->name), "soak%03zu", i);
		if ((r = bench_make_account(cn->svc, &cn->c, &s->ro, a, "signer")) == 0)
			r = bench_make_key(cn->svc, &cn->c, a, 0, "P-256", s->pin);
	}
	cn->err = r;
	return NULL;
}

/* The CAdES signature POST /api/v1/verify is given in the mix: a small document signed by the
 * first signer through authorize and signHash, as `inkan sign` would. */
static int
make_verify_body(struct soak *s)
{
	static const char doc[] = "inkan-soak: the document every verify request carries.\n";
	struct conn *cn = &s->conns[0];
	struct bench_account *a = &s->signers[0];
	struct formats_cms_params p = { 0 };
	struct formats_cms *cms = NULL;
	uint8_t md[DIGEST_LEN], tbs[DIGEST_LEN], *sig = NULL, *der = NULL;
	char *b64sig = NULL, *b64doc = NULL;
	json_t *body = NULL;
	size_t sig_len = 0, der_len = 0;
	bool got = false;
	int r;

	SHA256((const uint8_t *)doc, sizeof(doc) - 1, md);
	p.cert = a->cert[0];
	p.cert_len = a->cert_len[0];
	p.content_digest = md;
	p.signing_time = true;
	p.when = (int64_t)bench_wall_now();
	cn->signer = 0;
	if ((r = formats_cms_prepare(&p, &cms)) != 0)
		goto out;
	formats_cms_tbs_digest(cms, tbs);
	if ((r = do_authorize(cn, 1, true, tbs)) != 0 ||
	    (cn->sad != NULL && (r = do_sign(cn, true, &got, &sig, &sig_len)) != 0))
		goto out;
	r = INK_ERR_PROTOCOL;
	if (!got) {
		fprintf(stderr, "%s: the signature for the verify requests failed\n", bench_prog);
		goto out;
	}
	if ((r = formats_cms_set_signature(cms, sig, sig_len)) != 0 ||
	    (r = formats_cms_der(cms, &der, &der_len)) != 0 ||
	    (r = b64_encode(der, der_len, &b64sig)) != 0 ||
	    (r = b64_encode((const uint8_t *)doc, sizeof(doc) - 1, &b64doc)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((body = json_pack("{s:s, s:s, s:s}", "signature", b64sig, "document", b64doc, "format",
	                      "cades")) != NULL &&
	    (s->verify_body = json_dumps(body, JSON_COMPACT)) != NULL)
		r = 0;
out:
	json_decref(body);
	pool_drop(cn);
	formats_cms_free(cms);
	free(sig);
	free(der);
	free(b64sig);
	free(b64doc);
	return r;
}

/* The officers, an auditor and the signers with a P-256 key each, on the connections. */
static int
setup(struct soak *s)
{
	pthread_t tid[SOAK_MAX_CONNS];
	size_t i, started = 0, n = s->nconns;
	int r;

	snprintf(s->ro.name, sizeof(s->ro.name), "soak-ro");
	snprintf(s->aud.name, sizeof(s->aud.name), "soak-auditor");
	/* all accounts are made at once, more Argon2id runs than slots and queue: a 503 is waited
	 * out as a client would (the mix that is measured counts every 503 as an error) */
	atomic_store(&bench_retry_busy, true);
	if ((r = bench_so_login(&s->svc, &s->admin)) != 0 ||
	    (r = bench_make_account(&s->svc, &s->admin, &s->svc.so, &s->ro,
	                            "registration_officer")) != 0 ||
	    (r = bench_make_account(&s->svc, &s->admin, &s->svc.so, &s->aud, "system_auditor")) != 0)
		return r;
	if (n < s->crash_conns)
		n = s->crash_conns;
	s->nworkers = n;
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, setup_conn_main, &s->conns[i]) != 0) {
			r = INK_ERR_INTERNAL;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (r == 0)
			r = s->conns[i].err;
		s->conns[i].err = 0;
	}
	atomic_store(&bench_retry_busy, false);
	if (r == 0)
		r = make_verify_body(s);
	return r;
}

/* ---- report ---- */

static double
ms(const struct lat *l, double pct)
{
	return 1e3 * bench_percentile(l->v, l->n, pct);
}

static double
mib(long kib)
{
	return (double)kib / 1024;
}

static double
growth(long base, long max)
{
	return base > 0 ? 100.0 * ((double)max / (double)base - 1) : 0;
}

/* A Markdown summary, ready for docs/performance.md. */
static void
print_summary(const struct soak *s)
{
	size_t e, i, every;

	printf("inkan-soak: inkand %s (Argon2id %lld KiB, t=%lld), %zu CPUs, setup %.0f s\n",
	       s->fast_argon2 ? "with small Argon2id parameters (test)" : "on its defaults",
	       (long long)s->svc.cfg.argon2_m_kib, (long long)s->svc.cfg.argon2_t, bench_cpus(),
	       s->setup_secs);
	if (s->soak_ran) {
		printf("\n### Soak: %zu connections from 127.0.0.%d-%zu, %.0f requests/s for %.0f s\n\n",
		       s->nconns, SOAK_SRC_FIRST, SOAK_SRC_FIRST + s->nconns - 1, s->rate, s->run_secs);
		printf("| endpoint | request | expected | requests | errors | p50 ms | p99 ms |\n");
		printf("|---|---|---:|---:|---:|---:|---:|\n");
		for (e = 0; e < EP_N; e++)
			printf("| %s | %s | %ld | %zu | %zu | %.1f | %.1f |\n", eps[e].name,
			       eps[e].request, eps[e].want, s->total.count[e], s->total.errors[e],
			       ms(&s->total.lat[e], 50), ms(&s->total.lat[e], 99));
		printf("\nRSS (MiB; floor: the least of the 1 s readings of the %d s before):\n\n",
		       SOAK_SAMPLE_SECS);
		printf("| t s | requests | errors | inkand | inkand floor | inkan-sam | inkan-sam floor |\n");
		printf("|---:|---:|---:|---:|---:|---:|---:|\n");
		every = s->nsamples > 12 ? 6 : 1;
		for (i = 0; i < s->nsamples; i++) {
			const struct rss_sample *sm = &s->samples[i];

			if ((i + 1) % every != 0 && i + 1 != s->nsamples)
				continue;
			printf("| %.0f | %zu | %zu | %.1f | %.1f | %.1f | %.1f |\n", sm->t, sm->requests,
			       sm->errors, mib(sm->inkand), mib(sm->inkand_floor), mib(sm->sam),
			       mib(sm->sam_floor));
		}
		printf("\nAfter warm-up (the first %.0f %%; floors from %.0f s on): inkand %.1f -> "
		       "%.1f MiB in the later half (median, %+.1f %%; at most %.1f), inkan-sam %.1f -> "
		       "%.1f MiB (%+.1f %%; at most %.1f); bound %.0f %%: %s\n",
		       s->warmup_pct, s->base_t, mib(s->base_inkand), mib(s->late_inkand),
		       growth(s->base_inkand, s->late_inkand), mib(s->max_inkand), mib(s->base_sam),
		       mib(s->late_sam), growth(s->base_sam, s->late_sam), mib(s->max_sam),
		       s->rss_bound, s->rss_bound <= 0 ? "not checked" : s->rss_flat ? "flat" : "GREW");
		printf("Soak: %s\n", s->soak_ok ? "OK" : "FAILED");
	}
	if (s->crash_ran) {
		printf("\n### Crash loop: %zu SIGKILLs under signing load (%zu connections)\n\n",
		       s->crashes, s->crash_conns);
		printf("| | |\n|---|---|\n");
		printf("| crashes survived | %zu of %zu (inkand killed %zu times, inkan-sam %zu) in "
		       "%.0f s |\n", s->crashes_done, s->crashes, s->killed_inkand, s->killed_sam,
		       s->crash_secs);
		printf("| inkand after inkan-sam's death | %s |\n", s->killed_sam == 0 ? "-" :
		       s->inkand_exited_with_sam == 0 ? "stays up (503), restarted by the loop" :
		       "exited");
		printf("| inkan-sam outlived inkand | %zu times |\n", s->sam_outlived);
		printf("| signatures received | %zu (signHash without one: %zu) |\n", s->rcv_total,
		       s->sign_fail);
		printf("| with their csc.signHash audit record | %zu of %zu (%zu records read) |\n",
		       s->rcv_audited, s->rcv_total, s->audit_records);
		printf("| inkan audit verify --key | %s |\n",
		       s->audit_verified ? s->audit_line : "FAILED");
		printf("| accounts logging in afterwards | %zu of %zu |\n", s->accounts_ok,
		       s->accounts_total);
		printf("| keys signing afterwards | %zu of %zu |\n", s->keys_ok, s->keys_total);
		printf("\nCrash loop: %s\n", s->crash_ok ? "OK" : "FAILED");
	}
}

static int
print_json(const struct soak *s)
{
	json_t *o = json_object(), *a;
	char *text = NULL;
	size_t e, i;
	int r = INK_ERR_ALLOC;

	if (o == NULL)
		return r;
	json_object_set_new(o, "cpus", json_integer((json_int_t)bench_cpus()));
	json_object_set_new(o, "argon2_memory_kib", json_integer(s->svc.cfg.argon2_m_kib));
	json_object_set_new(o, "argon2_iterations", json_integer(s->svc.cfg.argon2_t));
	json_object_set_new(o, "setup_s", json_real(s->setup_secs));
	if (s->soak_ran) {
		json_t *so = json_pack("{s:I, s:f, s:f, s:f, s:b}", "connections",
		                       (json_int_t)s->nconns, "rate", s->rate, "duration_s",
		                       s->run_secs, "warmup_pct", s->warmup_pct, "ok", s->soak_ok);
		json_t *eo = json_object(), *rs = json_array();

		if (so == NULL || eo == NULL || rs == NULL)
			goto out;
		for (e = 0; e < EP_N; e++)
			json_object_set_new(eo, eps[e].name, json_pack(
			    "{s:s, s:I, s:I, s:I, s:f, s:f}", "request", eps[e].request, "expected",
			    (json_int_t)eps[e].want, "requests", (json_int_t)s->total.count[e], "errors",
			    (json_int_t)s->total.errors[e], "p50_ms", ms(&s->total.lat[e], 50), "p99_ms",
			    ms(&s->total.lat[e], 99)));
		for (i = 0; i < s->nsamples; i++) {
			const struct rss_sample *sm = &s->samples[i];

			json_array_append_new(rs, json_pack(
			    "{s:f, s:I, s:I, s:I, s:I, s:I, s:I}", "t_s", sm->t, "requests",
			    (json_int_t)sm->requests, "errors", (json_int_t)sm->errors, "inkand_kib",
			    (json_int_t)sm->inkand, "inkand_floor_kib", (json_int_t)sm->inkand_floor,
			    "sam_kib", (json_int_t)sm->sam, "sam_floor_kib", (json_int_t)sm->sam_floor));
		}
		json_object_set_new(so, "endpoints", eo);
		json_object_set_new(so, "rss", rs);
		json_object_set_new(so, "rss_check", json_pack(
		    "{s:f, s:f, s:I, s:I, s:I, s:I, s:b, s:I, s:I}", "bound_pct", s->rss_bound, "baseline_t_s",
		    s->base_t, "inkand_base_kib", (json_int_t)s->base_inkand, "inkand_max_kib",
		    (json_int_t)s->max_inkand, "sam_base_kib", (json_int_t)s->base_sam, "sam_max_kib",
		    (json_int_t)s->max_sam, "flat", s->rss_flat, "inkand_late_median_kib",
		    (json_int_t)s->late_inkand, "sam_late_median_kib", (json_int_t)s->late_sam));
		json_object_set_new(o, "soak", so);
	}
	if (s->crash_ran) {
		a = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:I, s:I, "
		              "s:I, s:I, s:f, s:b}",
		              "crashes", (json_int_t)s->crashes, "survived", (json_int_t)s->crashes_done,
		              "killed_inkand", (json_int_t)s->killed_inkand, "killed_sam",
		              (json_int_t)s->killed_sam, "inkand_exited_with_sam",
		              (json_int_t)s->inkand_exited_with_sam, "sam_outlived_inkand",
		              (json_int_t)s->sam_outlived, "signatures_received",
		              (json_int_t)s->rcv_total, "signatures_audited",
		              (json_int_t)s->rcv_audited, "signhash_failed", (json_int_t)s->sign_fail,
		              "audit_records", (json_int_t)s->audit_records, "audit_verified",
		              s->audit_verified, "audit_verify_output", s->audit_line,
		              "accounts_ok", (json_int_t)s->accounts_ok, "accounts",
		              (json_int_t)s->accounts_total,
		              "keys_ok", (json_int_t)s->keys_ok, "keys", (json_int_t)s->keys_total,
		              "duration_s", s->crash_secs, "ok", s->crash_ok);
		if (a == NULL)
			goto out;
		json_object_set_new(o, "crash", a);
	}
	if ((text = json_dumps(o, JSON_INDENT(2))) == NULL)
		goto out;
	printf("%s\n", text);
	r = 0;
out:
	bench_json_free_str(text);
	json_decref(o);
	return r;
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: inkan-soak [-d SECONDS] [-c CONNS] [-r RATE] [--crash N] [--json] ...\n"
	        "  -d, --duration S       seconds of mixed load (%d; 0: none)\n"
	        "  -c, --connections N    client connections, each from its own 127.0.0.X (%d, at "
	        "most %d)\n"
	        "  -r, --rate R           requests per second, all connections together (%d)\n"
	        "      --login-every S    seconds between a connection's logins, on average (%d)\n"
	        "      --authorize-every S  at least this long between its authorizations (%d)\n"
	        "      --hashes N         hashes one authorization allows (%d)\n"
	        "      --warmup PCT       the first PCT %% of the run is warm-up (%d)\n"
	        "      --rss-bound PCT    RSS may grow this much after warm-up (%d; 0: not checked)\n"
	        "      --crash N          then N SIGKILLs (inkand and inkan-sam in turn) under "
	        "signing load (0)\n"
	        "      --crash-connections N  signing connections in the crash loop (%d)\n"
	        "      --crash-signers N  signers each of them uses in turn (%d)\n"
	        "      --fast-argon2      small Argon2id parameters (tests under sanitizers)\n"
	        "      --json             machine-readable output on stdout\n"
	        "      --keep             keep the temporary directory\n"
	        "      --bin DIR          where inkand, inkan-sam and inkan are (next to inkan-soak)\n",
	        SOAK_DURATION, SOAK_CONNS, SOAK_MAX_CONNS, SOAK_RATE, SOAK_LOGIN_EVERY,
	        SOAK_AUTHORIZE_EVERY, SOAK_HASHES, SOAK_WARMUP_PCT, SOAK_RSS_BOUND_PCT, CRASH_CONNS,
	        CRASH_ACCOUNTS);
}

static int
parse_num(const char *str, double lo, double hi, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(str, &end);
	if (errno != 0 || end == str || *end != '\0' || !(v >= lo && v <= hi))
		return INK_ERR_INVALID;
	*out = v;
	return 0;
}

static int
parse_args(struct soak *s, int argc, char **argv)
{
	enum { O_LOGIN = 256, O_AUTHZ, O_HASHES, O_WARMUP, O_RSS, O_CRASH, O_CCONN, O_CSIGN, O_FAST,
	       O_JSON, O_KEEP, O_BIN };
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "connections", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "login-every", required_argument, NULL, O_LOGIN },
		{ "authorize-every", required_argument, NULL, O_AUTHZ },
		{ "hashes", required_argument, NULL, O_HASHES },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "rss-bound", required_argument, NULL, O_RSS },
		{ "crash", required_argument, NULL, O_CRASH },
		{ "crash-connections", required_argument, NULL, O_CCONN },
		{ "crash-signers", required_argument, NULL, O_CSIGN },
		{ "fast-argon2", no_argument, NULL, O_FAST },
		{ "json", no_argument, NULL, O_JSON },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "bin", required_argument, NULL, O_BIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int ch;

	s->duration = SOAK_DURATION;
	s->nconns = SOAK_CONNS;
	s->rate = SOAK_RATE;
	s->login_every = SOAK_LOGIN_EVERY;
	s->authorize_every = SOAK_AUTHORIZE_EVERY;
	s->hashes = SOAK_HASHES;
	s->warmup_pct = SOAK_WARMUP_PCT;
	s->rss_bound = SOAK_RSS_BOUND_PCT;
	s->crash_conns = CRASH_CONNS;
	s->crash_accounts = CRASH_ACCOUNTS;
	if (ink_exe_sibling("", NULL, s->svc.bindir, sizeof(s->svc.bindir)) != 0)
		return INK_ERR_IO;
	while ((ch = getopt_long(argc, argv, "d:c:r:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (parse_num(optarg, 0, 86400, &s->duration) != 0)
				goto bad;
			break;
		case 'c':
			if (parse_num(optarg, 1, SOAK_MAX_CONNS, &v) != 0)
				goto bad;
			s->nconns = (size_t)v;
			break;
		case 'r':
			if (parse_num(optarg, 0.1, 100000, &s->rate) != 0)
				goto bad;
			break;
		case O_LOGIN:
			if (parse_num(optarg, 1, 86400, &s->login_every) != 0)
				goto bad;
			break;
		case O_AUTHZ:
			if (parse_num(optarg, 1, 86400, &s->authorize_every) != 0)
				goto bad;
			break;
		case O_HASHES:
			if (parse_num(optarg, 1, 100, &v) != 0)
				goto bad;
			s->hashes = (size_t)v;
			break;
		case O_WARMUP:
			if (parse_num(optarg, 0, 90, &s->warmup_pct) != 0)
				goto bad;
			break;
		case O_RSS:
			if (parse_num(optarg, 0, 1000, &s->rss_bound) != 0)
				goto bad;
			break;
		case O_CRASH:
			if (parse_num(optarg, 0, 1000, &v) != 0)
				goto bad;
			s->crashes = (size_t)v;
			break;
		case O_CCONN:
			if (parse_num(optarg, 1, SOAK_MAX_CONNS, &v) != 0)
				goto bad;
			s->crash_conns = (size_t)v;
			break;
		case O_CSIGN:
			if (parse_num(optarg, 1, 100, &v) != 0)
				goto bad;
			s->crash_accounts = (size_t)v;
			break;
		case O_FAST:
			s->fast_argon2 = true;
			break;
		case O_JSON:
			s->json = s->svc.quiet = true;
			break;
		case O_KEEP:
			s->keep = true;
			break;
		case O_BIN:
			if (strlen(optarg) >= sizeof(s->svc.bindir))
				goto bad;
			snprintf(s->svc.bindir, sizeof(s->svc.bindir), "%s", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc || (s->duration <= 0 && s->crashes == 0))
		goto bad;
	/* the crash loop's signers are its own: the soak's have spent their TOTP steps */
	s->crash_first = s->nsigners = s->duration > 0 ? s->nconns : 0;
	if (s->crashes > 0)
		s->nsigners += s->crash_conns * s->crash_accounts;
	return 0;
bad:
	usage(stderr);
	return INK_ERR_INVALID;
}

int
main(int argc, char **argv)
{
	struct soak s;
	size_t i, nconns = 0, nclients;
	char src[16];
	double t0;
	int r, rc = 1;

	memset(&s, 0, sizeof(s));
	bench_prog = "inkan-soak";
	secmem_json_wipe_on_free();
	if (parse_args(&s, argc, argv) != 0)
		return 2;
	bench_signals(&s.svc);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "inkan-soak: curl_global_init failed\n");
		return 1;
	}
	nclients = s.nconns > s.crash_conns ? s.nconns : s.crash_conns;
	if (bench_svc_dirs(&s.svc, "inkan-soak") != 0)
		goto out;
	if ((s.signers = calloc(s.nsigners, sizeof(*s.signers))) == NULL ||
	    (s.proven = calloc(s.nsigners, sizeof(*s.proven))) == NULL ||
	    (s.conns = calloc(nclients, sizeof(*s.conns))) == NULL) {
		bench_fatal("setup", INK_ERR_ALLOC);
		goto out;
	}
	t0 = bench_mono_now();
	if (!s.svc.quiet)
		fprintf(stderr, "inkan-soak: inkan init and inkand in %s\n", s.svc.tmpdir);
	if ((r = bench_random_secret(s.pin, sizeof(s.pin), "", "")) != 0 ||
	    (r = bench_init_data(&s.svc)) != 0 || (s.fast_argon2 && (r = conf_fast_argon2(&s)) != 0) ||
	    (r = bench_start_inkand(&s.svc)) != 0) {
		bench_fatal("starting the service", r);
		goto out;
	}
	/* The clients read this copy: the crash loop rewrites s.svc as it restarts inkand (on the
	 * same port). */
	s.svc_clients = s.svc;
	if ((r = bench_client_init(&s.svc, &s.admin, NULL)) != 0) {
		bench_fatal("libcurl", r);
		goto out;
	}
	for (i = 0; i < nclients; i++, nconns++) {
		struct conn *cn = &s.conns[i];

		cn->s = &s;
		cn->idx = i;
		cn->svc = &s.svc_clients;
		snprintf(src, sizeof(src), "127.0.0.%zu", SOAK_SRC_FIRST + i);
		if ((r = bench_client_init(&s.svc, &cn->c, src)) != 0 ||
		    (r = ink_random(&cn->rng, sizeof(cn->rng))) != 0) {
			bench_fatal("libcurl", r);
			goto out;
		}
		cn->rng |= 1;
	}
	if (!s.svc.quiet)
		fprintf(stderr, "inkan-soak: %zu signers with a P-256 key each...\n", s.nsigners);
	if ((r = setup(&s)) != 0) {
		bench_fatal("setting up accounts and keys", r);
		goto out;
	}
	s.setup_secs = bench_mono_now() - t0;
	if (s.duration > 0 && (r = soak_run(&s)) != 0) {
		bench_fatal("soak", r);
		goto report;
	}
	if (s.crashes > 0 && !bench_interrupted &&
	    ((r = crash_loop(&s)) != 0 || (r = crash_check(&s)) != 0))
		bench_fatal("crash loop", r);
report:
	if (s.json ? print_json(&s) != 0 : (print_summary(&s), false))
		goto out;
	if ((s.duration <= 0 || s.soak_ok) && (s.crashes == 0 || s.crash_ok) && r == 0)
		rc = 0;
out:
	for (i = 0; i < nconns; i++) {
		bench_client_free(&s.conns[i].c);
		stats_free(&s.conns[i].st);
		free(s.conns[i].rcv);
	}
	free(s.conns);
	bench_client_free(&s.admin);
	if (bench_stop_inkand(&s.svc) != 0)
		rc = 1;
	for (i = 0; s.signers != NULL && i < s.nsigners; i++)
		bench_account_clear(&s.signers[i]);
	free(s.signers);
	free(s.proven);
	bench_account_clear(&s.svc.so);
	bench_account_clear(&s.ro);
	bench_account_clear(&s.aud);
	OPENSSL_cleanse(s.pin, sizeof(s.pin));
	bench_json_free_str(s.verify_body);
	stats_free(&s.total);
	free(s.samples);
	if (s.keep)
		fprintf(stderr, "inkan-soak: kept %s (log: %s)\n", s.svc.tmpdir, s.svc.logfile);
	else if (s.svc.tmpdir[0] != '\0' && bench_rm_tree(s.svc.tmpdir) != 0) {
		fprintf(stderr, "inkan-soak: could not remove %s\n", s.svc.tmpdir);
		rc = 1;
	}
	curl_global_cleanup();
	return rc;
}
