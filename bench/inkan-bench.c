/* inkan-bench: CSC signing throughput of a real inkand on its defaults, against `openssl speed`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "auth/auth.h"
#include "common/common.h"

#define BENCH_SIGNERS 32
#define BENCH_ROUNDS 3
#define BENCH_MAX_ROUNDS 6         /* rounds wait ~30 s each for TOTP steps; SADs live 5 min */
#define BENCH_MAX_SIGNERS 1000
#define BENCH_MAX_THREADS 256
#define BENCH_SPEED_SECONDS 3
#define BENCH_REPLY_MAX (64u << 20)
#define BENCH_CMD_OUT_MAX (1u << 20)
#define BENCH_HTTP_TIMEOUT 600L
#define DIGEST_LEN SHA256_DIGEST_LENGTH
#define OID_SHA256 "2.16.840.1.101.3.4.2.1"

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

struct account {
	char name[40];
	uint8_t seed[AUTH_TOTP_B32_MAX];     /* TOTP seed */
	size_t seedlen;
	int64_t last_step;                   /* newest step used: the server takes only later ones */
	char *authz;                         /* "Bearer <token>" */
	char cred[NALGS][65];
	EVP_PKEY *pub[NALGS];
};

/* One authorization and its signHash in a measurement: a signer's in one round. */
struct job {
	struct account *a;
	char otp[8];
	char *sad;
	json_t *hashes;                      /* base64 of digests[] */
	uint8_t *digests;                    /* B * DIGEST_LEN */
	json_t *sigs;
	char *sign_body;                     /* the signHash request, made before timing */
	char *sign_reply;                    /* its answer as received */
	size_t sign_reply_len;
};

/* One HTTP client: one libcurl handle (keep-alive) per thread. */
struct client {
	CURL *h;
	struct ink_buf reply;
};

struct result {
	size_t alg, batch, sigs;
	double auth_wall, sign_wall;
	double auth_p50, auth_p99, sign_p50, sign_p99;   /* seconds */
	/* CPU time spent during the signHash phase (seconds; < 0 when unknown) */
	double cpu_sam, cpu_inkand, cpu_client;
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
	char bindir[512];
	const char *openssl;
	/* run */
	char tmpdir[256], datadir[300], url[128], cacert[400];
	pid_t inkand, sam;                   /* sam: inkand's child, found after the start */
	struct ink_config cfg;
	char pin[40];
	char so_onetime[128];                /* until the officer's first login */
	struct account so, ro, *signers;
	struct client *clients;
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
};

static volatile sig_atomic_t interrupted;
static volatile pid_t inkand_pid;

/* ---- small helpers ---- */

static void
fatal_msg(const char *what, int r)
{
	fprintf(stderr, "inkan-bench: %s: %s\n", what, ink_err_str(r));
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_secs(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted)
		;
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	/* Blocked requests fail at once; the main thread then cleans up. */
	if (inkand_pid > 0)
		kill(inkand_pid, SIGTERM);
}

static size_t
cpus_usable(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

/* Random printable secret: prefix, 24 hex digits, suffix. */
static int
random_secret(char *out, size_t outsz, const char *prefix, const char *suffix)
{
	uint8_t rnd[12];
	char hex[sizeof(rnd) * 2 + 1];
	int n, r;

	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), hex);
	n = snprintf(out, outsz, "%s%s%s", prefix, hex, suffix);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	OPENSSL_cleanse(hex, sizeof(hex));
	return n > 0 && (size_t)n < outsz ? 0 : INK_ERR_TOO_LARGE;
}

/* RFC 4648 base32 (the form inkan hands out TOTP seeds in), padding optional. */
static int
base32_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen)
{
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0, v;

	*outlen = 0;
	for (; *in != '\0' && *in != '='; in++) {
		if (*in >= 'A' && *in <= 'Z')
			v = *in - 'A';
		else if (*in >= 'a' && *in <= 'z')
			v = *in - 'a';
		else if (*in >= '2' && *in <= '7')
			v = *in - '2' + 26;
		else
			return INK_ERR_INVALID;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outsz)
				return INK_ERR_TOO_LARGE;
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	acc = 0;
	*outlen = o;
	return o > 0 ? 0 : INK_ERR_INVALID;
}

static void
freezero_str(char **s)
{
	ink_freezero_str(*s);
	*s = NULL;
}

/* "PREFIX VALUE" in a malloc'd string (an Authorization header value). */
static char *
header_value(const char *prefix, const char *value)
{
	size_t n = strlen(prefix) + strlen(value) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s %s", prefix, value);
	return s;
}

/* ---- processes ---- */

/* Runs argv (no shell); stdout into out (a secret buffer: it may hold the officer's password),
 * stderr to /dev/null. 0 only when the program exits 0. */
static int
run_capture(char *const argv[], struct ink_buf *out)
{
	char chunk[4096];
	int fds[2] = { -1, -1 }, status = 0, r = INK_ERR_IO;
	ssize_t n;
	pid_t pid = -1;

	if (pipe2(fds, O_CLOEXEC) != 0)
		goto out;
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (dup2(fds[1], STDOUT_FILENO) < 0 || (dn >= 0 && dup2(dn, STDERR_FILENO) < 0))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	r = 0;
	while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = INK_ERR_IO;
			break;
		}
		if (r == 0 && (r = buf_put(out, chunk, (size_t)n)) != 0)
			continue;   /* keep draining so the child can finish */
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (r == 0)
		r = buf_put_u8(out, 0);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		r = INK_ERR_IO;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int
rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : INK_ERR_IO;
}

/* `inkan init --data DIR --json`: the default configuration and the security officer. */
static int
init_data(struct bench *b)
{
	char prog[600], err[200];
	char *argv[] = { prog, "init", "--data", b->datadir, "--json", NULL };
	struct ink_buf out;
	json_error_t jerr;
	json_t *j = NULL;
	const char *user = NULL, *secret = NULL, *pw = NULL;
	int r;

	buf_init(&out, BENCH_CMD_OUT_MAX, true);
	if ((r = ink_path(prog, sizeof(prog), b->bindir, "inkan")) != 0)
		goto out;
	if ((r = run_capture(argv, &out)) != 0) {
		fprintf(stderr, "inkan-bench: %s init failed\n", prog);
		goto out;
	}
	r = INK_ERR_INVALID;
	if ((j = json_loads((const char *)out.data, 0, &jerr)) == NULL ||
	    json_unpack(j, "{s:{s:s, s:s, s:s}}", "security_officer", "username", &user,
	                "password", &pw, "totp_secret", &secret) != 0 ||
	    strlen(user) >= sizeof(b->so.name) || strlen(pw) >= sizeof(b->so_onetime)) {
		fprintf(stderr, "inkan-bench: unexpected output of inkan init --json\n");
		goto out;
	}
	snprintf(b->so.name, sizeof(b->so.name), "%s", user);
	snprintf(b->so_onetime, sizeof(b->so_onetime), "%s", pw);
	if ((r = base32_decode(secret, b->so.seed, sizeof(b->so.seed), &b->so.seedlen)) != 0)
		goto out;
	config_defaults(&b->cfg, b->datadir);
	if ((r = ink_path(prog, sizeof(prog), b->datadir, "inkan.conf")) != 0 ||
	    (r = config_load(&b->cfg, prog, err, sizeof(err))) != 0) {
		fprintf(stderr, "inkan-bench: %s: %s\n", prog, err);
		goto out;
	}
	r = 0;
out:
	json_decref(j);   /* wiped as freed: it holds the one-time password */
	buf_free(&out);
	return r;
}

static int
start_inkand(struct bench *b)
{
	char prog[600], addrf[400], logf[400], *addr = NULL;
	size_t len = 0;
	double t0;
	pid_t pid;
	int r, status;

	if ((r = ink_path(prog, sizeof(prog), b->bindir, "inkand")) != 0 ||
	    (r = ink_path(addrf, sizeof(addrf), b->datadir, "inkand.addr")) != 0 ||
	    (r = ink_path(logf, sizeof(logf), b->tmpdir, "inkand.log")) != 0)
		return r;
	if ((pid = fork()) < 0)
		return INK_ERR_IO;
	if (pid == 0) {
		int fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execl(prog, prog, "--data", b->datadir, "--listen", "127.0.0.1:0", (char *)NULL);
		_exit(127);
	}
	b->inkand = pid;
	inkand_pid = pid;
	for (t0 = mono_now(); mono_now() - t0 < 60 && !interrupted; sleep_secs(0.05)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			b->inkand = inkand_pid = 0;
			fprintf(stderr, "inkan-bench: inkand exited during start (log: %s)\n", logf);
			return INK_ERR_IO;
		}
		free(addr);
		addr = NULL;
		if (ink_read_file(addrf, 4096, &addr, &len) != 0)
			continue;
		addr[strcspn(addr, "\r\n")] = '\0';
		if (strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0)
			break;
	}
	r = INK_ERR_IO;
	if (addr != NULL && strncmp(addr, "127.0.0.1:", 10) == 0 && atoi(addr + 10) > 0) {
		snprintf(b->url, sizeof(b->url), "https://%s", addr);
		r = ink_path(b->cacert, sizeof(b->cacert), b->datadir, "tls/cert.pem");
	} else
		fprintf(stderr, "inkan-bench: inkand wrote no address within 60 s\n");
	free(addr);
	return r;
}

static int
stop_inkand(struct bench *b)
{
	double t0;
	int status = 0;

	if (b->inkand <= 0)
		return 0;
	kill(b->inkand, SIGTERM);
	for (t0 = mono_now(); mono_now() - t0 < 15; sleep_secs(0.05)) {
		if (waitpid(b->inkand, &status, WNOHANG) == b->inkand) {
			b->inkand = inkand_pid = 0;
			return 0;
		}
	}
	fprintf(stderr, "inkan-bench: inkand did not stop within 15 s of SIGTERM; killed\n");
	kill(b->inkand, SIGKILL);
	waitpid(b->inkand, &status, 0);
	b->inkand = inkand_pid = 0;
	return INK_ERR_IO;
}

/* CPU time (user + system, threads ended included) of a process, in seconds; -1 unknown. */
static double
proc_cpu(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;

	if (pid <= 0 || clock_getcpuclockid(pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* inkan-sam: the child of inkand (its parent id is the 4th field of /proc/PID/stat, after the
 * command in parentheses). 0 when not found. */
static pid_t
find_sam(pid_t inkand)
{
	DIR *d;
	struct dirent *e;
	pid_t found = 0;

	if (inkand <= 0 || (d = opendir("/proc")) == NULL)
		return 0;
	while (found == 0 && (e = readdir(d)) != NULL) {
		char path[300], line[512], *p;
		long ppid;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(line, sizeof(line), f);
		fclose(f);
		if (p == NULL || (p = strrchr(line, ')')) == NULL ||
		    sscanf(p + 1, " %*c %ld", &ppid) != 1)
			continue;
		if (ppid == (long)inkand)
			found = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return found;
}

/* ---- HTTP ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;

	return buf_put(&c->reply, p, size * nmemb) == 0 ? size * nmemb : 0;
}

static int
client_init(struct bench *b, struct client *c)
{
	buf_init(&c->reply, BENCH_REPLY_MAX, true);
	if ((c->h = curl_easy_init()) == NULL)
		return INK_ERR_ALLOC;
	if (curl_easy_setopt(c->h, CURLOPT_CAINFO, b->cacert) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, BENCH_HTTP_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c) != CURLE_OK)
		return INK_ERR_INTERNAL;
	return 0;
}

static void
client_free(struct client *c)
{
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	c->h = NULL;
	buf_free(&c->reply);
}

/* Wipes the header values (they carry passwords and tokens) before libcurl frees them. */
static void
headers_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		OPENSSL_cleanse(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* POST text to path with optional Authorization; the reply must have status want and is left
 * in c->reply (the caller wipes it). */
static int
post_text(struct bench *b, struct client *c, const char *path, const char *authz,
          const char *text, long want)
{
	struct curl_slist *hdrs = NULL, *nh;
	char url[512], *ah = NULL;
	json_error_t jerr;
	json_t *j = NULL;
	long status = 0;
	CURLcode cr;
	int r = INK_ERR_ALLOC;

	c->reply.len = 0;
	snprintf(url, sizeof(url), "%s%s", b->url, path);
	if ((nh = curl_slist_append(hdrs, "Content-Type: application/json")) == NULL)
		goto out;
	hdrs = nh;
	if (authz != NULL) {
		if ((ah = header_value("Authorization:", authz)) == NULL ||
		    (nh = curl_slist_append(hdrs, ah)) == NULL)
			goto out;
		hdrs = nh;
	}
	r = INK_ERR_INTERNAL;
	if (curl_easy_setopt(c->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, text) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(text)) != CURLE_OK)
		goto out;
	if ((cr = curl_easy_perform(c->h)) != CURLE_OK) {
		if (!interrupted)
			fprintf(stderr, "inkan-bench: POST %s: %s\n", path, curl_easy_strerror(cr));
		r = INK_ERR_IO;
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != want) {
		const char *e, *d;

		j = c->reply.len > 0 ? json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr) :
		                       NULL;
		e = json_string_value(json_object_get(j, "error"));
		d = json_string_value(json_object_get(j, "error_description"));
		fprintf(stderr, "inkan-bench: POST %s: HTTP %ld (%s: %s), expected %ld\n", path,
		        status, e != NULL ? e : "-", d != NULL ? d : "-", want);
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	r = 0;
out:
	json_decref(j);
	headers_free(hdrs);
	freezero_str(&ah);
	return r;
}

/* POST text ("" for no body) to path with optional Authorization; the reply must have status
 * want. *reply (optional) gets the parsed JSON answer; the raw one is wiped. */
static int
api_post_text(struct bench *b, struct client *c, const char *path, const char *authz,
              const char *text, long want, json_t **reply)
{
	json_error_t jerr;
	json_t *j = NULL;
	int r;

	if (reply != NULL)
		*reply = NULL;
	if ((r = post_text(b, c, path, authz, text, want)) != 0)
		goto out;
	if (c->reply.len > 0 &&
	    (j = json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr)) == NULL) {
		fprintf(stderr, "inkan-bench: POST %s: reply is not JSON\n", path);
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if (reply != NULL) {
		*reply = j;
		j = NULL;
	}
	r = 0;
out:
	if (c->reply.data != NULL)
		OPENSSL_cleanse(c->reply.data, c->reply.len);
	c->reply.len = 0;
	json_decref(j);
	return r;
}

/* POST path with body (consumed) and optional Authorization; as api_post_text. */
static int
api_post(struct bench *b, struct client *c, const char *path, const char *authz, json_t *body,
         long want, json_t **reply)
{
	json_malloc_t jm;
	json_free_t jf;
	char *text = NULL;
	int r = INK_ERR_ALLOC;

	if (reply != NULL)
		*reply = NULL;
	json_get_alloc_funcs(&jm, &jf);
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		goto out;
	r = api_post_text(b, c, path, authz, text, want, reply);
out:
	json_decref(body);
	if (text != NULL) {
		OPENSSL_cleanse(text, strlen(text));
		jf(text);
	}
	return r;
}

/* ---- TOTP: each step once per person (login, enrolment and authorize alike), increasing,
 * within now ± the SAM's totp_window ---- */

/* The earliest usable step after last. The SAM takes step s until (s + window + 1) steps have
 * begun; s only while margin seconds of that remain. -1: none until the clock moves on. */
static int64_t
totp_pick(int64_t last, double now, double margin, int64_t window)
{
	int64_t cur = (int64_t)(now / AUTH_TOTP_STEP), s;

	for (s = cur - window; s <= cur + window; s++) {
		if (s <= last || (double)(s + window + 1) * AUTH_TOTP_STEP - now < margin)
			continue;
		return s;
	}
	return -1;
}

static double
next_step_in(void)
{
	double now = wall_now();

	return (floor(now / AUTH_TOTP_STEP) + 1) * AUTH_TOTP_STEP - now + 0.2;
}

/* The next code of an account, waiting for the clock when its steps are used up. A step only
 * with TOTP_LOGIN_MARGIN seconds of it left: during set-up a login may queue behind the other
 * accounts' Argon2id work for several seconds (5 s were once too few). */
#define TOTP_LOGIN_MARGIN 15
static int
totp_next(const struct bench *b, struct account *a, char otp[static 8])
{
	uint32_t code = 0;
	int64_t s;
	int r;

	while ((s = totp_pick(a->last_step, wall_now(), TOTP_LOGIN_MARGIN,
	                      b->cfg.totp_window)) < 0) {
		if (interrupted)
			return INK_ERR_IO;
		sleep_secs(next_step_in());
	}
	if ((r = auth_totp_code(a->seed, a->seedlen, s, &code)) != 0)
		return r;
	a->last_step = s;
	snprintf(otp, 8, "%06u", (unsigned)code);
	code = 0;
	return 0;
}

/* ---- accounts ---- */

/* Basic user:password, with the next TOTP code once the account has a seed (before its holder
 * enrolled one there is none: that session allows the password change and the enrolment
 * only). *enrol: the SAM wants the account holder to enrol a seed. */
static int
login(struct bench *b, struct client *c, struct account *a, const char *password,
      bool want_change, bool *enrol)
{
	char otp[8] = "", *up = NULL, *basic = NULL, *b64 = NULL;
	const char *tok = NULL;
	json_t *body, *reply = NULL;
	int change = 0, enr = 0, r;

	*enrol = false;
	freezero_str(&a->authz);
	if (a->seedlen > 0 && (r = totp_next(b, a, otp)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((up = header_value(a->name, password)) == NULL)
		goto out;
	up[strlen(a->name)] = ':';
	if ((r = b64_encode((const uint8_t *)up, strlen(up), &b64)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((basic = header_value("Basic", b64)) == NULL)
		goto out;
	body = a->seedlen > 0 ? json_pack("{s:s, s:b}", "otp", otp, "rememberMe", 0) :
	                        json_pack("{s:b}", "rememberMe", 0);
	if ((r = api_post(b, c, "/csc/v2/auth/login", basic, body, 200, &reply)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s, s:b, s:b}", "access_token", &tok, "password_change_required",
	                &change, "enrolment_required", &enr) != 0 ||
	    (change != 0) != want_change)
		goto out;
	r = INK_ERR_ALLOC;
	if ((a->authz = header_value("Bearer", tok)) == NULL)
		goto out;
	*enrol = enr != 0;
	r = 0;
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	json_decref(reply);
	freezero_str(&up);
	freezero_str(&b64);
	freezero_str(&basic);
	return r;
}

/* The account holder's own TOTP seed: made by the SAM and shown in this reply alone; its first
 * code confirms it and makes the session a full one (that step is then used). */
static int
enrol_totp(struct bench *b, struct client *c, struct account *a)
{
	char otp[8] = "";
	const char *secret = NULL;
	json_t *reply = NULL;
	int r;

	if ((r = api_post_text(b, c, "/api/v1/enrol", a->authz, "", 200, &reply)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s}", "totp_secret", &secret) != 0)
		goto out;
	if ((r = base32_decode(secret, a->seed, sizeof(a->seed), &a->seedlen)) != 0 ||
	    (r = totp_next(b, a, otp)) != 0 ||
	    (r = api_post(b, c, "/api/v1/enrol/confirm", a->authz, json_pack("{s:s}", "otp", otp),
	                  204, NULL)) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	json_decref(reply);   /* wiped as freed: it holds the seed */
	return r;
}

/* First login with the one-time password (for an account made through the API, the SAM's
 * activation code) and the forced change. An account whose holder has yet to enrol keeps that
 * session and enrols in it; the first security officer (his seed from `inkan init`) logs in
 * again with the new password. */
static int
first_login(struct bench *b, struct client *c, struct account *a, const char *onetime)
{
	char newpw[64];
	bool enrol = false;
	int r;

	if ((r = random_secret(newpw, sizeof(newpw), "Bp-", "-Zq7")) != 0 ||
	    (r = login(b, c, a, onetime, true, &enrol)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (enrol != (a->seedlen == 0)) {
		fprintf(stderr, "inkan-bench: %s: enrolment_required is %s\n", a->name,
		        enrol ? "true with a seed" : "false without one");
		goto out;
	}
	if ((r = api_post(b, c, "/api/v1/passwd", a->authz,
	                  json_pack("{s:s, s:s}", "old_password", onetime, "new_password", newpw),
	                  enrol ? 200 : 204, NULL)) != 0)
		goto out;
	r = enrol ? enrol_totp(b, c, a) : login(b, c, a, newpw, false, &enrol);
out:
	OPENSSL_cleanse(newpw, sizeof(newpw));
	return r;
}

/* actor creates account a with roles (a signer with an identity document of its own: one
 * person, one registration); then its first login and enrolment. */
static int
make_account(struct bench *b, struct client *c, const struct account *actor, struct account *a,
             const char *role)
{
	char docno[40] = "";
	const char *pw = NULL;
	json_t *req = NULL, *reply = NULL;
	int enrol = 0, r;

	if ((r = random_secret(docno, sizeof(docno), "BENCH-", "")) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	req = json_pack("{s:s, s:s, s:[s]}", "username", a->name, "display_name", "inkan-bench",
	                "roles", role);
	if (req == NULL)
		goto out;
	if (strcmp(role, "signer") == 0 &&
	    (json_object_set_new(req, "idv_method", json_string("in-person, passport")) != 0 ||
	     json_object_set_new(req, "idv_evidence", json_string("inkan-bench")) != 0 ||
	     json_object_set_new(req, "idv_document_type", json_string("passport")) != 0 ||
	     json_object_set_new(req, "idv_document_number", json_string(docno)) != 0))
		goto out;
	r = api_post(b, c, "/api/v1/users", actor->authz, req, 201, &reply);
	req = NULL;
	if (r != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s, s:b}", "password", &pw, "enrolment_required", &enrol) != 0 ||
	    !enrol)
		goto out;
	a->seedlen = 0;   /* no seed until its holder enrols one */
	r = first_login(b, c, a, pw);
out:
	OPENSSL_cleanse(docno, sizeof(docno));
	json_decref(req);
	json_decref(reply);
	return r;
}

static int
cert_pubkey(const char *b64, EVP_PKEY **pub)
{
	uint8_t *der = NULL;
	const uint8_t *p;
	size_t len = 0;
	X509 *x = NULL;
	int r;

	*pub = NULL;
	if ((r = b64_decode(b64, &der, &len)) != 0)
		goto out;
	p = der;
	r = INK_ERR_CRYPTO;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || (*pub = X509_get_pubkey(x)) == NULL)
		goto out;
	r = 0;
out:
	X509_free(x);
	free(der);
	return r;
}

/* A signer: registered by the registration officer, logged in and enrolled, with one key per
 * algorithm. */
static int
setup_signer(struct bench *b, struct client *c, size_t i)
{
	struct account *a = &b->signers[i];
	const char *id = NULL, *cert = NULL;
	json_t *reply = NULL;
	size_t k;
	int r;

	snprintf(a->name, sizeof(a->name), "bench%03zu", i);
	if ((r = make_account(b, c, &b->ro, a, "signer")) != 0)
		goto out;
	for (k = 0; k < NALGS; k++) {
		json_decref(reply);
		reply = NULL;
		if ((r = api_post(b, c, "/api/v1/keys", a->authz,
		                  json_pack("{s:s, s:s}", "pin", b->pin, "algorithm", algs[k].name),
		                  201, &reply)) != 0)
			goto out;
		r = INK_ERR_PROTOCOL;
		if (json_unpack(reply, "{s:s, s:s}", "id", &id, "certificate", &cert) != 0 ||
		    strlen(id) >= sizeof(a->cred[k]))
			goto out;
		snprintf(a->cred[k], sizeof(a->cred[k]), "%s", id);
		if ((r = cert_pubkey(cert, &a->pub[k])) != 0)
			goto out;
	}
	r = 0;
out:
	json_decref(reply);
	return r;
}

/* ---- the measured requests ---- */

static int
do_authorize(struct bench *b, struct client *c, size_t i)
{
	struct job *a = &b->jobs[i];
	const char *sad = NULL;
	json_t *reply = NULL;
	int r;

	r = api_post(b, c, "/csc/v2/credentials/authorize", a->a->authz,
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
do_sign(struct bench *b, struct client *c, size_t i)
{
	struct job *a = &b->jobs[i];
	int r;

	if ((r = post_text(b, c, "/csc/v2/signatures/signHash", a->a->authz, a->sign_body, 200)) ==
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
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *sig = NULL;
	size_t i, k, len = 0;
	int r = 0;

	for (i = 0; r == 0 && i < b->njobs; i++) {
		struct job *a = &b->jobs[i];

		for (k = 0; r == 0 && k < b->cur_batch; k++) {
			const char *s = json_string_value(json_array_get(a->sigs, k));

			if (s == NULL || (r = b64_decode(s, &sig, &len)) != 0) {
				r = INK_ERR_PROTOCOL;
				break;
			}
			if ((ctx = EVP_PKEY_CTX_new(a->a->pub[b->cur_alg], NULL)) == NULL ||
			    EVP_PKEY_verify_init(ctx) != 1 ||
			    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
			    EVP_PKEY_verify(ctx, sig, len, a->digests + k * DIGEST_LEN, DIGEST_LEN) != 1) {
				fprintf(stderr, "inkan-bench: %s signature %zu of %s does not verify\n",
				        algs[b->cur_alg].name, k, a->a->name);
				r = INK_ERR_CRYPTO;
			}
			EVP_PKEY_CTX_free(ctx);
			ctx = NULL;
			free(sig);
			sig = NULL;
		}
	}
	return r;
}

/* ---- a pool of client threads over the jobs ---- */

typedef int (*work_fn)(struct bench *, struct client *, size_t);

struct pool {
	struct bench *b;
	work_fn fn;
	double *lat;          /* per item, seconds (NULL: not kept) */
	atomic_size_t next;
	atomic_int err;
};

struct worker {
	struct pool *p;
	struct client *c;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->p;
	size_t i;
	double t0;
	int r;

	while (atomic_load(&p->err) == 0 && !interrupted) {
		if ((i = atomic_fetch_add(&p->next, 1)) >= p->b->to)
			break;
		t0 = mono_now();
		r = p->fn(p->b, w->c, i);
		if (p->lat != NULL)
			p->lat[i] = mono_now() - t0;
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
	t0 = mono_now();
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
		*wall = mono_now() - t0;
	r = atomic_load(&p.err);
	if (r == 0 && interrupted)
		r = INK_ERR_IO;
	return r;
}

/* ---- one measurement: every signer authorizes B digests, then signs them ---- */

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

/* Nearest-rank percentile of sorted v[n]. */
static double
percentile(const double *v, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);

	if (n == 0)
		return 0;
	return v[rank == 0 ? 0 : rank - 1];
}

static void
measurement_clear(struct bench *b)
{
	size_t i;

	for (i = 0; b->jobs != NULL && i < b->njobs; i++) {
		struct job *a = &b->jobs[i];

		freezero_str(&a->sad);
		json_decref(a->hashes);
		json_decref(a->sigs);
		free(a->digests);
		freezero_str(&a->sign_body);     /* it holds the SAD */
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
		now = wall_now();
		for (i = 0; i < b->nsigners; i++)
			if (totp_pick(b->signers[i].last_step, now, b->auth_margin,
			              b->cfg.totp_window) < 0)
				break;
		if (i == b->nsigners)
			break;
		if (interrupted)
			return INK_ERR_IO;
		sleep_secs(next_step_in());
	}
	for (i = b->from; i < b->to; i++) {
		struct job *a = &b->jobs[i];

		a->a->last_step = totp_pick(a->a->last_step, now, b->auth_margin,
		                            b->cfg.totp_window);
		if ((r = auth_totp_code(a->a->seed, a->a->seedlen, a->a->last_step, &code)) != 0)
			return r;
		snprintf(a->otp, sizeof(a->otp), "%06u", (unsigned)code);
	}
	code = 0;
	return 0;
}

/* One measurement: `rounds` authorize phases (every signer authorizes B digests in each; a
 * TOTP step is usable once per account, so rounds are about 30 s apart), then one signHash
 * phase over all those authorizations, then (untimed) every signature verified. */
static int
measure(struct bench *b, size_t alg, size_t batch)
{
	struct result *res = &b->results[b->nresults];
	double *alat = NULL, *slat = NULL, wall, cpu_sam, cpu_inkand, cpu_client;
	size_t round;
	int r = INK_ERR_ALLOC;

	b->cur_alg = alg;
	b->cur_batch = batch;
	b->njobs = b->rounds * b->nsigners;
	if ((b->jobs = calloc(b->njobs, sizeof(*b->jobs))) == NULL ||
	    (alat = calloc(b->njobs, sizeof(*alat))) == NULL ||
	    (slat = calloc(b->njobs, sizeof(*slat))) == NULL)
		goto out;
	memset(res, 0, sizeof(*res));
	if (!b->json)
		fprintf(stderr, "inkan-bench: %s, batch %zu: authorize...", algs[alg].name, batch);
	for (round = 0; round < b->rounds; round++) {
		if ((r = round_prepare(b, round)) != 0 ||
		    (r = pool_run(b, do_authorize, alat, &wall)) != 0)
			goto out;
		res->auth_wall += wall;
		/* The next authorize phase may use step now-1 only with this much of it left. */
		if (b->auth_margin < 1.5 * wall + 3)
			b->auth_margin = 1.5 * wall + 3;
		if (!b->json)
			fprintf(stderr, " %.1f s", wall);
	}
	if (!b->json)
		fprintf(stderr, "; signHash...");
	b->from = 0;
	b->to = b->njobs;
	if ((r = make_sign_bodies(b)) != 0)
		goto out;
	if (b->sam == 0)
		b->sam = find_sam(b->inkand);
	cpu_sam = proc_cpu(b->sam);
	cpu_inkand = proc_cpu(b->inkand);
	cpu_client = proc_cpu(getpid());
	if ((r = pool_run(b, do_sign, slat, &res->sign_wall)) != 0)
		goto out;
	res->cpu_sam = cpu_sam < 0 ? -1 : proc_cpu(b->sam) - cpu_sam;
	res->cpu_inkand = cpu_inkand < 0 ? -1 : proc_cpu(b->inkand) - cpu_inkand;
	res->cpu_client = cpu_client < 0 ? -1 : proc_cpu(getpid()) - cpu_client;
	if ((r = parse_sigs(b)) != 0)
		goto out;
	if (!b->json)
		fprintf(stderr, " %.2f s; verifying...", res->sign_wall);
	if ((r = verify_sigs(b)) != 0)
		goto out;
	if (!b->json)
		fprintf(stderr, " ok\n");
	qsort(alat, b->njobs, sizeof(*alat), cmp_double);
	qsort(slat, b->njobs, sizeof(*slat), cmp_double);
	res->alg = alg;
	res->batch = batch;
	res->sigs = b->njobs * batch;
	res->auth_p50 = percentile(alat, b->njobs, 50);
	res->auth_p99 = percentile(alat, b->njobs, 99);
	res->sign_p50 = percentile(slat, b->njobs, 50);
	res->sign_p99 = percentile(slat, b->njobs, 99);
	b->nresults++;
	r = 0;
out:
	measurement_clear(b);
	free(alat);
	free(slat);
	return r;
}

/* ---- openssl speed ---- */

/* sign/s of each algorithm from `openssl speed -multi n -seconds s ecdsap256 rsa2048 rsa3072`. */
static int
openssl_speed(struct bench *b, size_t n, struct speed *sp)
{
	char multi[16], secs[16], *line, *save = NULL;
	char *argv[6 + NALGS + 1];
	struct ink_buf out;
	size_t k, ai = 0;
	double t1, t2, sign, verify;
	int bits, r;

	memset(sp, 0, sizeof(*sp));
	snprintf(multi, sizeof(multi), "%zu", n);
	snprintf(secs, sizeof(secs), "%d", b->speed_seconds);
	argv[ai++] = (char *)b->openssl;
	argv[ai++] = "speed";
	argv[ai++] = "-multi";
	argv[ai++] = multi;
	argv[ai++] = "-seconds";
	argv[ai++] = secs;
	for (k = 0; k < NALGS; k++)
		argv[ai++] = (char *)algs[k].speed_name;
	argv[ai] = NULL;
	buf_init(&out, BENCH_CMD_OUT_MAX, false);
	if ((r = run_capture(argv, &out)) != 0) {
		fprintf(stderr, "inkan-bench: %s speed -multi %zu failed\n", b->openssl, n);
		goto out;
	}
	/* The summary tables: "rsa 2048 bits 0.000410s 0.000011s 2440.0 89759.0" and
	 * " 256 bits ecdsa (nistp256)   0.0000s   0.0000s  70965.0  25215.0". */
	for (line = strtok_r((char *)out.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *ec = strstr(line, "bits ecdsa (nistp256)");

		if (sscanf(line, " rsa %d bits %lfs %lfs %lf %lf", &bits, &t1, &t2, &sign,
		           &verify) == 5) {
			if (bits == 2048)
				sp->sign[1] = sign;
			else if (bits == 3072)
				sp->sign[2] = sign;
		} else if (ec != NULL && sscanf(strchr(ec, ')') + 1, " %lfs %lfs %lf %lf", &t1, &t2,
		                                &sign, &verify) == 4)
			sp->sign[0] = sign;
	}
	for (k = 0; k < NALGS; k++) {
		if (sp->sign[k] <= 0) {
			fprintf(stderr, "inkan-bench: no %s figure in the output of openssl speed\n",
			        algs[k].speed_name);
			r = INK_ERR_PROTOCOL;
		}
	}
out:
	buf_free(&out);
	return r;
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

static void
openssl_version(struct bench *b)
{
	char *argv[] = { (char *)b->openssl, "version", NULL };
	struct ink_buf out;

	snprintf(b->openssl_version, sizeof(b->openssl_version), "unknown");
	buf_init(&out, BENCH_CMD_OUT_MAX, false);
	if (run_capture(argv, &out) == 0) {
		snprintf(b->openssl_version, sizeof(b->openssl_version), "%s", (char *)out.data);
		b->openssl_version[strcspn(b->openssl_version, "\n")] = '\0';
	}
	buf_free(&out);
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
	       (long long)b->cfg.argon2_m_kib, (long long)b->cfg.argon2_t,
	       (long long)b->cfg.argon2_p, (long long)b->cfg.threads, b->nsigners, NALGS,
	       b->rounds, b->nthreads, b->ncpus);
	printf("setup %.0f s, measurements %.0f s (TOTP waits included); %s\n\n", b->setup_secs,
	       b->bench_secs, b->openssl_version);
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
	printf("%-9s %9s %7s %7s %7s | %15s %8s\n", "algorithm", "inkan-sam", "inkand", "client",
	       "rest", "sam sig/CPU-s", "ratio");
	for (k = 0; k < NALGS; k++) {
		double cap, sam, ink, cli;

		if ((res = find_result(b, k, batches[NBATCHES - 1])) == NULL || res->cpu_sam < 0 ||
		    res->cpu_inkand < 0 || res->cpu_client < 0)
			continue;
		cap = (double)b->ncpus * res->sign_wall;
		sam = 100 * ratio(res->cpu_sam, cap);
		ink = 100 * ratio(res->cpu_inkand, cap);
		cli = 100 * ratio(res->cpu_client, cap);
		printf("%-9s %8.0f%% %6.0f%% %6.0f%% %6.0f%% | %15.1f %7.0f%%\n", algs[k].name, sam,
		       ink, cli, 100 - sam - ink - cli, ratio((double)res->sigs, res->cpu_sam),
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
			    "{s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f, s:f}}",
			    "batch", (json_int_t)res->batch, "signatures", (json_int_t)res->sigs,
			    "e2e_sig_per_s", (double)res->sigs / (res->auth_wall + res->sign_wall),
			    "signhash_sig_per_s", (double)res->sigs / res->sign_wall,
			    "authorize_wall_s", res->auth_wall, "signhash_wall_s", res->sign_wall,
			    "signhash_p50_ms", res->sign_p50 * 1e3, "signhash_p99_ms", res->sign_p99 * 1e3,
			    "authorize_p50_ms", res->auth_p50 * 1e3, "authorize_p99_ms",
			    res->auth_p99 * 1e3, "signhash_cpu_s", "inkan_sam", res->cpu_sam, "inkand",
			    res->cpu_inkand, "client", res->cpu_client));
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
	              (json_int_t)b->cfg.argon2_m_kib, "argon2_iterations", (json_int_t)b->cfg.argon2_t,
	              "argon2_parallelism", (json_int_t)b->cfg.argon2_p, "http_threads",
	              (json_int_t)b->cfg.threads, "setup_s", b->setup_secs, "measure_s",
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
	        "                   [--json] [--bin DIR] [--openssl PATH]\n"
	        "  -s, --signers N   signers, each with a P-256, RSA-2048 and RSA-3072 key (%d)\n"
	        "  -r, --rounds N    authorizations per signer and measurement, ~30 s apart (%d, "
	        "at most %d)\n"
	        "  -c, --threads N   concurrent client threads (4 x CPUs)\n"
	        "  -t, --speed-seconds N  seconds per `openssl speed` test (%d)\n"
	        "  -a, --alg NAME    measure only P-256, RSA-2048 or RSA-3072 (all)\n"
	        "      --json        machine-readable output on stdout\n"
	        "      --bin DIR     where inkand, inkan-sam and inkan are (next to inkan-bench)\n"
	        "      --openssl P   the openssl program (openssl)\n",
	        BENCH_SIGNERS, BENCH_ROUNDS, BENCH_MAX_ROUNDS, BENCH_SPEED_SECONDS);
}

static int
parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return INK_ERR_INVALID;
	*out = (size_t)v;
	return 0;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t v, k;
	int ch;

	b->nsigners = BENCH_SIGNERS;
	b->rounds = BENCH_ROUNDS;
	b->ncpus = cpus_usable();
	/* Four requests in flight per core: each spends part of its time waiting (the audit
	 * fsync, the round trip to inkan-sam), and fewer left the cores idle ~12 % of a phase. */
	b->nthreads = 4 * b->ncpus;
	if (b->nthreads > BENCH_MAX_THREADS)
		b->nthreads = BENCH_MAX_THREADS;
	b->speed_seconds = BENCH_SPEED_SECONDS;
	b->openssl = "openssl";
	if (ink_exe_sibling("", NULL, b->bindir, sizeof(b->bindir)) != 0)
		return INK_ERR_IO;
	while ((ch = getopt_long(argc, argv, "s:r:c:t:a:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (parse_size(optarg, 1, BENCH_MAX_SIGNERS, &b->nsigners) != 0)
				goto bad;
			break;
		case 'r':
			if (parse_size(optarg, 1, BENCH_MAX_ROUNDS, &b->rounds) != 0)
				goto bad;
			break;
		case 'c':
			if (parse_size(optarg, 1, BENCH_MAX_THREADS, &b->nthreads) != 0)
				goto bad;
			break;
		case 't':
			if (parse_size(optarg, 1, 60, &v) != 0)
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
			if (strlen(optarg) >= sizeof(b->bindir))
				goto bad;
			snprintf(b->bindir, sizeof(b->bindir), "%s", optarg);
			break;
		case 'o':
			b->openssl = optarg;
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
	r = first_login(b, &b->clients[0], &b->so, b->so_onetime);
	OPENSSL_cleanse(b->so_onetime, sizeof(b->so_onetime));
	if (r != 0)
		return r;
	if ((r = make_account(b, &b->clients[0], &b->so, &b->ro, "registration_officer")) != 0)
		return r;
	b->from = 0;
	b->to = b->nsigners;
	return pool_run(b, setup_signer, NULL, NULL);
}

int
main(int argc, char **argv)
{
	struct bench b;
	size_t i, k, t, nclients = 0;
	double t0;
	int r, rc = 1;

	memset(&b, 0, sizeof(b));
	secmem_json_wipe_on_free();
	if (parse_args(&b, argc, argv) != 0)
		return 2;
	if (b.nthreads > b.nsigners)
		b.nthreads = b.nsigners;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "inkan-bench: curl_global_init failed\n");
		return 1;
	}
	snprintf(b.tmpdir, sizeof(b.tmpdir), "%s/inkan-bench.XXXXXX",
	         getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(b.tmpdir) == NULL) {
		fprintf(stderr, "inkan-bench: mkdtemp %s: %s\n", b.tmpdir, strerror(errno));
		b.tmpdir[0] = '\0';
		goto out;
	}
	snprintf(b.datadir, sizeof(b.datadir), "%s/data", b.tmpdir);
	if ((b.signers = calloc(b.nsigners, sizeof(*b.signers))) == NULL ||
	    (b.clients = calloc(b.nthreads, sizeof(*b.clients))) == NULL) {
		fatal_msg("setup", INK_ERR_ALLOC);
		goto out;
	}
	openssl_version(&b);
	t0 = mono_now();
	if (!b.json)
		fprintf(stderr, "inkan-bench: inkan init and inkand in %s\n", b.tmpdir);
	if ((r = random_secret(b.pin, sizeof(b.pin), "pin-", "")) != 0 ||
	    (r = init_data(&b)) != 0 || (r = start_inkand(&b)) != 0) {
		fatal_msg("starting the service", r);
		goto out;
	}
	for (t = 0; t < b.nthreads; t++, nclients++) {
		if ((r = client_init(&b, &b.clients[t])) != 0) {
			fatal_msg("libcurl", r);
			goto out;
		}
	}
	if (!b.json)
		fprintf(stderr, "inkan-bench: %zu signers with %zu keys each...\n", b.nsigners, NALGS);
	if ((r = setup_accounts(&b)) != 0) {
		fatal_msg("setting up accounts and keys", r);
		goto out;
	}
	b.setup_secs = mono_now() - t0;
	if ((r = openssl_speed_run(&b, 0)) != 0) {
		fatal_msg("openssl speed", r);
		goto out;
	}
	b.auth_margin = 3 + 0.5 * (double)b.nsigners;
	t0 = mono_now();
	for (k = 0; k < NALGS; k++) {
		for (i = 0; i < NBATCHES && (b.only == NULL || b.only == &algs[k]); i++) {
			if ((r = measure(&b, k, batches[i])) != 0) {
				if (!b.json)
					fprintf(stderr, "\n");
				fatal_msg("measuring", r);
				goto out;
			}
		}
	}
	b.bench_secs = mono_now() - t0;
	if ((r = openssl_speed_run(&b, 1)) != 0) {
		fatal_msg("openssl speed", r);
		goto out;
	}
	if (b.json) {
		if (print_json(&b) != 0)
			goto out;
	} else
		print_table(&b);
	rc = 0;
out:
	for (t = 0; t < nclients; t++)
		client_free(&b.clients[t]);
	free(b.clients);
	if (stop_inkand(&b) != 0)
		rc = 1;
	for (i = 0; b.signers != NULL && i < b.nsigners; i++) {
		freezero_str(&b.signers[i].authz);
		for (k = 0; k < NALGS; k++)
			EVP_PKEY_free(b.signers[i].pub[k]);
		OPENSSL_cleanse(&b.signers[i], sizeof(b.signers[i]));
	}
	free(b.signers);
	freezero_str(&b.so.authz);
	freezero_str(&b.ro.authz);
	OPENSSL_cleanse(&b.so, sizeof(b.so));
	OPENSSL_cleanse(&b.ro, sizeof(b.ro));
	OPENSSL_cleanse(b.pin, sizeof(b.pin));
	OPENSSL_cleanse(b.so_onetime, sizeof(b.so_onetime));
	if (b.tmpdir[0] != '\0' && rm_tree(b.tmpdir) != 0) {
		fprintf(stderr, "inkan-bench: could not remove %s\n", b.tmpdir);
		rc = 1;
	}
	curl_global_cleanup();
	return rc;
}
