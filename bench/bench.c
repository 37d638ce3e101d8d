/* bench: what inkan-bench and inkan-soak share — a real inkand in a temporary data directory,
 * libcurl clients, TOTP steps and accounts made through the API as their holders would. */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

const char *bench_prog = "inkan-bench";
volatile sig_atomic_t bench_interrupted;
atomic_bool bench_retry_busy;
static struct bench_svc *signal_svc;   /* whose inkand a signal stops */

/* ---- small helpers ---- */

void
bench_fatal(const char *what, int r)
{
	fprintf(stderr, "%s: %s: %s\n", bench_prog, what, ink_err_str(r));
}

double
bench_mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
bench_sleep(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !bench_interrupted)
		;
}

static void
on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
	/* Blocked requests fail at once; the main thread then cleans up. */
	if (signal_svc != NULL && signal_svc->inkand > 0)
		kill(signal_svc->inkand, SIGTERM);
}

void
bench_signals(struct bench_svc *svc)
{
	signal_svc = svc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

size_t
bench_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (size_t)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}

/* Random printable secret: prefix, 24 hex digits, suffix. */
int
bench_random_secret(char *out, size_t outsz, const char *prefix, const char *suffix)
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
int
bench_base32_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen)
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

void
bench_freezero_str(char **s)
{
	ink_freezero_str(*s);
	*s = NULL;
}

/* "PREFIX VALUE" in a malloc'd string (an Authorization header value). */
char *
bench_header_value(const char *prefix, const char *value)
{
	size_t n = strlen(prefix) + strlen(value) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s %s", prefix, value);
	return s;
}

void
bench_json_free_str(char *text)
{
	json_text_free(text);
}

int
bench_cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, c = *(const double *)y;

	return a < c ? -1 : a > c;
}

double
bench_percentile(const double *v, size_t n, double pct)
{
	size_t rank = (size_t)ceil(pct / 100.0 * (double)n);

	if (n == 0)
		return 0;
	return v[rank == 0 ? 0 : rank - 1];
}

/* ---- processes ---- */

/* Runs argv (no shell); stdout into out (a secret buffer: it may hold the officer's password),
 * stderr to /dev/null. 0 only when the program exits 0. */
int
bench_run_capture(char *const argv[], struct ink_buf *out)
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

int
bench_parse_size(const char *s, size_t lo, size_t hi, size_t *out)
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

void
bench_openssl_version(const char *openssl, char *out, size_t outsz)
{
	char *argv[] = { (char *)openssl, "version", NULL };
	struct ink_buf o;

	snprintf(out, outsz, "unknown");
	buf_init(&o, BENCH_CMD_OUT_MAX, false);
	if (bench_run_capture(argv, &o) == 0) {
		snprintf(out, outsz, "%s", (char *)o.data);
		out[strcspn(out, "\n")] = '\0';
	}
	buf_free(&o);
}

/* The summary tables: "rsa 2048 bits 0.000410s 0.000011s 2440.0 89759.0" and
 * " 256 bits ecdsa (nistp256)   0.0000s   0.0000s  70965.0  25215.0". */
int
bench_openssl_speed(const char *openssl, size_t multi, int seconds, const char *const names[],
                    size_t n, double sign[])
{
	char smulti[16], ssecs[16], name[32], *line, *save = NULL;
	char *argv[6 + 8 + 1];
	struct ink_buf out;
	size_t k, ai = 0;
	double t1, t2, s, verify;
	int bits, r;

	if (n > 8)
		return INK_ERR_INVALID;
	snprintf(smulti, sizeof(smulti), "%zu", multi);
	snprintf(ssecs, sizeof(ssecs), "%d", seconds);
	argv[ai++] = (char *)openssl;
	argv[ai++] = "speed";
	argv[ai++] = "-multi";
	argv[ai++] = smulti;
	argv[ai++] = "-seconds";
	argv[ai++] = ssecs;
	for (k = 0; k < n; k++) {
		sign[k] = 0;
		argv[ai++] = (char *)names[k];
	}
	argv[ai] = NULL;
	buf_init(&out, BENCH_CMD_OUT_MAX, false);
	if ((r = bench_run_capture(argv, &out)) != 0) {
		fprintf(stderr, "%s: %s speed -multi %zu failed\n", bench_prog, openssl, multi);
		goto out;
	}
	for (line = strtok_r((char *)out.data, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *ec = strstr(line, "bits ecdsa (nistp");

		name[0] = '\0';
		if (sscanf(line, " rsa %d bits %lfs %lfs %lf %lf", &bits, &t1, &t2, &s, &verify) == 5)
			snprintf(name, sizeof(name), "rsa%d", bits);
		else if (ec != NULL && sscanf(ec, "bits ecdsa (nistp%d) %lfs %lfs %lf %lf", &bits, &t1,
		                              &t2, &s, &verify) == 5)
			snprintf(name, sizeof(name), "ecdsap%d", bits);
		for (k = 0; name[0] != '\0' && k < n; k++)
			if (strcmp(name, names[k]) == 0)
				sign[k] = s;
	}
	for (k = 0; k < n; k++) {
		if (sign[k] <= 0) {
			fprintf(stderr, "%s: no %s figure in the output of openssl speed\n", bench_prog,
			        names[k]);
			r = INK_ERR_PROTOCOL;
		}
	}
out:
	buf_free(&out);
	return r;
}

int
bench_verify_sig(EVP_PKEY *pub, const uint8_t digest[static 32], const char *b64)
{
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *sig = NULL;
	size_t len = 0;
	int r = INK_ERR_PROTOCOL;

	if (b64 == NULL || b64_decode(b64, &sig, &len) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((ctx = EVP_PKEY_CTX_new(pub, NULL)) == NULL || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
	    EVP_PKEY_verify(ctx, sig, len, digest, 32) != 1)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	free(sig);
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

int
bench_rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : INK_ERR_IO;
}

int
bench_svc_dirs(struct bench_svc *svc, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(svc->tmpdir, sizeof(svc->tmpdir), "%s/%s.XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp", name);
	if (mkdtemp(svc->tmpdir) == NULL) {
		fprintf(stderr, "%s: mkdtemp %s: %s\n", bench_prog, svc->tmpdir, strerror(errno));
		svc->tmpdir[0] = '\0';
		return INK_ERR_IO;
	}
	snprintf(svc->datadir, sizeof(svc->datadir), "%s/data", svc->tmpdir);
	return 0;
}

int
bench_load_config(struct bench_svc *svc)
{
	char path[600], err[200] = "";
	int r;

	config_defaults(&svc->cfg, svc->datadir);
	if ((r = ink_path(path, sizeof(path), svc->datadir, "inkan.conf")) != 0 ||
	    (r = config_load(&svc->cfg, path, err, sizeof(err))) != 0)
		fprintf(stderr, "%s: %s: %s\n", bench_prog, path, err);
	return r;
}

/* Writes DIR/inkan.conf with the defaults and the database setting into conf[confsz]. */
static int
write_database_config(struct bench_svc *svc, char *conf, size_t confsz)
{
	struct ink_config cfg;
	FILE *f;
	int r;

	config_defaults(&cfg, svc->datadir);
	if ((r = ink_mkdir(svc->datadir, 0700)) != 0 ||
	    (r = ink_path(conf, confsz, svc->datadir, "inkan.conf")) != 0 ||
	    (r = config_write_default(&cfg, conf)) != 0)
		return r;
	if ((f = fopen(conf, "a")) == NULL)
		return INK_ERR_IO;
	fprintf(f, "database = %s\n", svc->database);
	return fclose(f) == 0 ? 0 : INK_ERR_IO;
}

/* DIR/sam/keystore.url (0600) holding svc->keystore: inkan-sam keeps the key store in
 * PostgreSQL (docs/scaling.md); the URI names the SAM's passfile. */
static int
write_keystore_url(struct bench_svc *svc)
{
	char dir[600], path[640];
	int fd, r;
	size_t len = strlen(svc->keystore);

	if ((r = ink_mkdir(svc->datadir, 0700)) != 0 ||
	    (r = ink_path(dir, sizeof(dir), svc->datadir, "sam")) != 0 ||
	    (r = ink_mkdir(dir, 0700)) != 0 || (r = ink_path(path, sizeof(path), dir, "keystore.url")) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return INK_ERR_IO;
	r = write(fd, svc->keystore, len) == (ssize_t)len && write(fd, "\n", 1) == 1 ? 0 : INK_ERR_IO;
	if (close(fd) != 0)
		r = INK_ERR_IO;
	return r;
}

/* `inkan init --data DIR --json`: the default configuration and the security officer. */
int
bench_init_data(struct bench_svc *svc)
{
	char prog[600], conf[600];
	char *argv[] = { prog, "init", "--data", svc->datadir, "--json", NULL, NULL, NULL };
	struct ink_buf out;
	json_error_t jerr;
	json_t *j = NULL;
	const char *user = NULL, *secret = NULL, *pw = NULL;
	int r;

	buf_init(&out, BENCH_CMD_OUT_MAX, true);
	if ((r = ink_path(prog, sizeof(prog), svc->bindir, "inkan")) != 0)
		goto out;
	if (svc->keystore != NULL && (r = write_keystore_url(svc)) != 0) {
		fprintf(stderr, "%s: cannot write the key store's URI\n", bench_prog);
		goto out;
	}
	if (svc->database != NULL) {
		if ((r = write_database_config(svc, conf, sizeof(conf))) != 0)
			goto out;
		argv[5] = "--config";
		argv[6] = conf;
	}
	if ((r = bench_run_capture(argv, &out)) != 0) {
		fprintf(stderr, "%s: %s init failed\n", bench_prog, prog);
		goto out;
	}
	r = INK_ERR_INVALID;
	if ((j = json_loads((const char *)out.data, 0, &jerr)) == NULL ||
	    json_unpack(j, "{s:{s:s, s:s, s:s}}", "security_officer", "username", &user,
	                "password", &pw, "totp_secret", &secret) != 0 ||
	    strlen(user) >= sizeof(svc->so.name) || strlen(pw) >= sizeof(svc->so_onetime)) {
		fprintf(stderr, "%s: unexpected output of inkan init --json\n", bench_prog);
		goto out;
	}
	snprintf(svc->so.name, sizeof(svc->so.name), "%s", user);
	snprintf(svc->so_onetime, sizeof(svc->so_onetime), "%s", pw);
	if ((r = bench_base32_decode(secret, svc->so.seed, sizeof(svc->so.seed), &svc->so.seedlen)) != 0)
		goto out;
	r = bench_load_config(svc);
out:
	json_decref(j);   /* wiped as freed: it holds the one-time password */
	buf_free(&out);
	return r;
}

/* Starts inkand on 127.0.0.1:svc->port (0: a free one, kept for restarts), waits for the
 * address it writes. */
int
bench_start_inkand(struct bench_svc *svc)
{
	char prog[600], addrf[400], listen[32], *addr = NULL;
	size_t len = 0;
	double t0;
	pid_t pid;
	int r, status;

	if ((r = ink_path(prog, sizeof(prog), svc->bindir, "inkand")) != 0 ||
	    (r = ink_srv_path(addrf, sizeof(addrf), svc->datadir, "inkand.addr")) != 0)
		return r;
	if (svc->logfile[0] == '\0' &&
	    (r = ink_path(svc->logfile, sizeof(svc->logfile), svc->tmpdir, "inkand.log")) != 0)
		return r;
	/* The last run's address must not be taken for this one's. */
	if (unlink(addrf) != 0 && errno != ENOENT)
		return INK_ERR_IO;
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", svc->port);
	if ((pid = fork()) < 0)
		return INK_ERR_IO;
	if (pid == 0) {
		int fd = open(svc->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* A benchmark that dies leaves no inkand behind (inkan-sam follows inkand). */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1)
			_exit(127);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execl(prog, prog, "--data", svc->datadir, "--listen", listen, (char *)NULL);
		_exit(127);
	}
	svc->inkand = pid;
	svc->sam = 0;
	for (t0 = bench_mono_now(); bench_mono_now() - t0 < 60 && !bench_interrupted;
	     bench_sleep(0.05)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			svc->inkand = 0;
			fprintf(stderr, "%s: inkand exited during start (log: %s)\n", bench_prog,
			        svc->logfile);
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
		svc->port = (unsigned)atoi(addr + 10);
		snprintf(svc->url, sizeof(svc->url), "https://%s", addr);
		r = ink_path(svc->cacert, sizeof(svc->cacert), svc->datadir, "tls/cert.pem");
		svc->sam = bench_find_child(svc->inkand);
	} else
		fprintf(stderr, "%s: inkand wrote no address within 60 s\n", bench_prog);
	free(addr);
	return r;
}

int
bench_stop_inkand(struct bench_svc *svc)
{
	double t0;
	int status = 0;

	if (svc->inkand <= 0)
		return 0;
	kill(svc->inkand, SIGTERM);
	for (t0 = bench_mono_now(); bench_mono_now() - t0 < 15; bench_sleep(0.05)) {
		if (waitpid(svc->inkand, &status, WNOHANG) == svc->inkand) {
			svc->inkand = svc->sam = 0;
			return 0;
		}
	}
	fprintf(stderr, "%s: inkand did not stop within 15 s of SIGTERM; killed\n", bench_prog);
	kill(svc->inkand, SIGKILL);
	waitpid(svc->inkand, &status, 0);
	svc->inkand = svc->sam = 0;
	return INK_ERR_IO;
}

/* CPU time (user + system, threads ended included) of a process, in seconds; -1 unknown. */
double
bench_proc_cpu(pid_t pid)
{
	struct timespec ts;
	clockid_t clk;

	if (pid <= 0 || clock_getcpuclockid(pid, &clk) != 0 || clock_gettime(clk, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
bench_idle_cpu(void)
{
	unsigned long long user, nice, sys, idle, iowait;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int n;

	if (hz <= 0 || (f = fopen("/proc/stat", "r")) == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait);
	fclose(f);
	return n == 5 ? (double)(idle + iowait) / (double)hz : -1;
}

/* The parent id is the 4th field of /proc/PID/stat, after the command in parentheses. */
pid_t
bench_find_child(pid_t parent)
{
	DIR *d;
	struct dirent *e;
	pid_t found = 0;

	if (parent <= 0 || (d = opendir("/proc")) == NULL)
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
		if (ppid == (long)parent)
			found = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return found;
}

long
bench_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

bool
bench_alive(pid_t pid)
{
	char path[64], line[512], *p, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (pid <= 0 || (f = fopen(path, "r")) == NULL)
		return false;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL || sscanf(p + 1, " %c", &st) != 1)
		return false;
	return st != 'Z' && st != 'X';
}

/* ---- HTTP ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bench_client *c = arg;

	return buf_put(&c->reply, p, size * nmemb) == 0 ? size * nmemb : 0;
}

int
bench_client_init(const struct bench_svc *svc, struct bench_client *c, const char *source)
{
	buf_init(&c->reply, BENCH_REPLY_MAX, true);
	c->source[0] = '\0';
	if (source != NULL)
		snprintf(c->source, sizeof(c->source), "%s", source);
	if ((c->h = curl_easy_init()) == NULL)
		return INK_ERR_ALLOC;
	if (curl_easy_setopt(c->h, CURLOPT_CAINFO, svc->cacert) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TIMEOUT, BENCH_HTTP_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c) != CURLE_OK ||
	    /* inkand cuts a connection idle for header_timeout (10 s by default): never send on
	     * one idle that long */
	    curl_easy_setopt(c->h, CURLOPT_MAXAGE_CONN, 5L) != CURLE_OK ||
	    (c->source[0] != '\0' &&
	     curl_easy_setopt(c->h, CURLOPT_INTERFACE, c->source) != CURLE_OK))
		return INK_ERR_INTERNAL;
	return 0;
}

void
bench_client_free(struct bench_client *c)
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

/* One request: a POST when body is not NULL, else a GET. */
static int
request(const struct bench_svc *svc, struct bench_client *c, const char *path,
        const char *ctype, const char *authz, const void *body, size_t len, long *status)
{
	struct curl_slist *hdrs = NULL, *nh;
	char url[512], ct[128], *ah = NULL;
	CURLcode cr;
	int r = INK_ERR_ALLOC;

	*status = 0;
	c->reply.len = 0;
	c->last = CURLE_FAILED_INIT;
	snprintf(url, sizeof(url), "%s%s", svc->url, path);
	if (ctype != NULL) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		if ((nh = curl_slist_append(hdrs, ct)) == NULL)
			goto out;
		hdrs = nh;
	}
	if (authz != NULL) {
		if ((ah = bench_header_value("Authorization:", authz)) == NULL ||
		    (nh = curl_slist_append(hdrs, ah)) == NULL)
			goto out;
		hdrs = nh;
	}
	r = INK_ERR_INTERNAL;
	if (curl_easy_setopt(c->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK)
		goto out;
	if (body != NULL ?
	    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)len) != CURLE_OK :
	    curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L) != CURLE_OK)
		goto out;
	cr = c->last = curl_easy_perform(c->h);
	/* The handle keeps the pointers: nothing of this request may outlive it there. */
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	if (cr != CURLE_OK) {
		r = INK_ERR_IO;
		goto out;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
	r = 0;
out:
	headers_free(hdrs);
	bench_freezero_str(&ah);
	return r;
}

int
bench_post(const struct bench_svc *svc, struct bench_client *c, const char *path,
           const char *ctype, const char *authz, const void *body, size_t len, long *status)
{
	return request(svc, c, path, ctype, authz, body != NULL ? body : "", len, status);
}

int
bench_get(const struct bench_svc *svc, struct bench_client *c, const char *path,
          const char *authz, long *status)
{
	return request(svc, c, path, NULL, authz, NULL, 0, status);
}

int
bench_post_text(const struct bench_svc *svc, struct bench_client *c, const char *path,
                const char *authz, const char *text, long want)
{
	json_error_t jerr;
	json_t *j = NULL;
	const char *e, *d;
	long status = 0;
	curl_off_t after = 0;
	int r, tries;

	for (tries = 0;; tries++) {
		if ((r = bench_post(svc, c, path, "application/json", authz, text, strlen(text),
		                    &status)) != 0) {
			if (!bench_interrupted)
				fprintf(stderr, "%s: POST %s: %s\n", bench_prog, path,
				        curl_easy_strerror(c->last));
			return r;
		}
		if (status != 503 || want == 503 || !atomic_load(&bench_retry_busy) || tries >= 60 ||
		    bench_interrupted)
			break;
		/* refused before any work was done (nor a one-time code spent): again, later */
		if (curl_easy_getinfo(c->h, CURLINFO_RETRY_AFTER, &after) != CURLE_OK || after <= 0)
			after = 1;
		bench_sleep((double)after);
	}
	if (status == want)
		return 0;
	j = c->reply.len > 0 ? json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr) : NULL;
	e = json_string_value(json_object_get(j, "error"));
	d = json_string_value(json_object_get(j, "error_description"));
	fprintf(stderr, "%s: POST %s: HTTP %ld (%s: %s), expected %ld\n", bench_prog, path, status,
	        e != NULL ? e : "-", d != NULL ? d : "-", want);
	json_decref(j);
	return INK_ERR_PROTOCOL;
}

int
bench_api_post_text(const struct bench_svc *svc, struct bench_client *c, const char *path,
                    const char *authz, const char *text, long want, json_t **reply)
{
	json_error_t jerr;
	json_t *j = NULL;
	int r;

	if (reply != NULL)
		*reply = NULL;
	if ((r = bench_post_text(svc, c, path, authz, text, want)) != 0)
		goto out;
	if (c->reply.len > 0 &&
	    (j = json_loadb((const char *)c->reply.data, c->reply.len, 0, &jerr)) == NULL) {
		fprintf(stderr, "%s: POST %s: reply is not JSON\n", bench_prog, path);
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

int
bench_api_post(const struct bench_svc *svc, struct bench_client *c, const char *path,
               const char *authz, json_t *body, long want, json_t **reply)
{
	char *text = NULL;
	int r = INK_ERR_ALLOC;

	if (reply != NULL)
		*reply = NULL;
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		goto out;
	r = bench_api_post_text(svc, c, path, authz, text, want, reply);
out:
	json_decref(body);
	bench_json_free_str(text);
	return r;
}

/* ---- TOTP: each step once per person (login, enrolment and authorize alike), increasing,
 * within now ± the SAM's totp_window ---- */

/* The earliest usable step after last. The SAM takes step s until (s + window + 1) steps have
 * begun; s only while margin seconds of that remain. -1: none until the clock moves on. */
int64_t
bench_totp_pick(int64_t last, double now, double margin, int64_t window)
{
	int64_t cur = (int64_t)(now / AUTH_TOTP_STEP), s;

	for (s = cur - window; s <= cur + window; s++) {
		if (s <= last || (double)(s + window + 1) * AUTH_TOTP_STEP - now < margin)
			continue;
		return s;
	}
	return -1;
}

double
bench_next_step_in(void)
{
	double now = bench_wall_now();

	return (floor(now / AUTH_TOTP_STEP) + 1) * AUTH_TOTP_STEP - now + 0.2;
}

/* The next code of an account, waiting for the clock when its steps are used up. A step only
 * with TOTP_LOGIN_MARGIN seconds of it left: during set-up a login may queue behind the other
 * accounts' Argon2id work for several seconds (5 s were once too few). */
#define TOTP_LOGIN_MARGIN 15
int
bench_totp_next(const struct bench_svc *svc, struct bench_account *a, char otp[static 8])
{
	uint32_t code = 0;
	int64_t s;
	int r;

	while ((s = bench_totp_pick(a->last_step, bench_wall_now(), TOTP_LOGIN_MARGIN,
	                            svc->cfg.totp_window)) < 0) {
		if (bench_interrupted)
			return INK_ERR_IO;
		bench_sleep(bench_next_step_in());
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
int
bench_login(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a,
            const char *password, bool want_change, bool *enrol)
{
	char otp[8] = "", *up = NULL, *basic = NULL, *b64 = NULL;
	const char *tok = NULL;
	json_t *body, *reply = NULL;
	int change = 0, enr = 0, r;

	*enrol = false;
	bench_freezero_str(&a->authz);
	if (a->seedlen > 0 && (r = bench_totp_next(svc, a, otp)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((up = bench_header_value(a->name, password)) == NULL)
		goto out;
	up[strlen(a->name)] = ':';
	if ((r = b64_encode((const uint8_t *)up, strlen(up), &b64)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((basic = bench_header_value("Basic", b64)) == NULL)
		goto out;
	body = a->seedlen > 0 ? json_pack("{s:s, s:b}", "otp", otp, "rememberMe", 0) :
	                        json_pack("{s:b}", "rememberMe", 0);
	if ((r = bench_api_post(svc, c, "/csc/v2/auth/login", basic, body, 200, &reply)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s, s:b, s:b}", "access_token", &tok, "password_change_required",
	                &change, "enrolment_required", &enr) != 0 ||
	    (change != 0) != want_change)
		goto out;
	r = INK_ERR_ALLOC;
	if ((a->authz = bench_header_value("Bearer", tok)) == NULL)
		goto out;
	*enrol = enr != 0;
	r = 0;
out:
	OPENSSL_cleanse(otp, sizeof(otp));
	json_decref(reply);
	bench_freezero_str(&up);
	bench_freezero_str(&b64);
	bench_freezero_str(&basic);
	return r;
}

/* The account holder's own TOTP seed: made by the SAM and shown in this reply alone; its first
 * code confirms it and makes the session a full one (that step is then used). */
static int
enrol_totp(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a)
{
	char otp[8] = "";
	const char *secret = NULL;
	json_t *reply = NULL;
	int r;

	if ((r = bench_api_post_text(svc, c, "/api/v1/enrol", a->authz, "", 200, &reply)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s}", "totp_secret", &secret) != 0)
		goto out;
	if ((r = bench_base32_decode(secret, a->seed, sizeof(a->seed), &a->seedlen)) != 0 ||
	    (r = bench_totp_next(svc, a, otp)) != 0 ||
	    (r = bench_api_post(svc, c, "/api/v1/enrol/confirm", a->authz,
	                        json_pack("{s:s}", "otp", otp), 204, NULL)) != 0)
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
first_login(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a,
            const char *onetime)
{
	char newpw[64];
	bool enrol = false;
	int r;

	if ((r = bench_random_secret(newpw, sizeof(newpw), "Bp-", "-Zq7")) != 0 ||
	    (r = bench_login(svc, c, a, onetime, true, &enrol)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (enrol != (a->seedlen == 0)) {
		fprintf(stderr, "%s: %s: enrolment_required is %s\n", bench_prog, a->name,
		        enrol ? "true with a seed" : "false without one");
		goto out;
	}
	if ((r = bench_api_post(svc, c, "/api/v1/passwd", a->authz,
	                        json_pack("{s:s, s:s}", "old_password", onetime, "new_password",
	                                  newpw), enrol ? 200 : 204, NULL)) != 0)
		goto out;
	snprintf(a->password, sizeof(a->password), "%s", newpw);
	r = enrol ? enrol_totp(svc, c, a) : bench_login(svc, c, a, newpw, false, &enrol);
out:
	OPENSSL_cleanse(newpw, sizeof(newpw));
	return r;
}

/* actor creates account a with roles (a signer with an identity document of its own: one
 * person, one registration); then its first login and enrolment. */
int
bench_make_account(const struct bench_svc *svc, struct bench_client *c,
                   const struct bench_account *actor, struct bench_account *a, const char *role)
{
	char docno[40] = "";
	const char *pw = NULL;
	json_t *req = NULL, *reply = NULL;
	int enrol = 0, r;

	if ((r = bench_random_secret(docno, sizeof(docno), "BENCH-", "")) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	req = json_pack("{s:s, s:s, s:[s]}", "username", a->name, "display_name", bench_prog,
	                "roles", role);
	if (req == NULL)
		goto out;
	if (strcmp(role, "signer") == 0 &&
	    (json_object_set_new(req, "idv_method", json_string("in-person, passport")) != 0 ||
	     json_object_set_new(req, "idv_evidence", json_string(bench_prog)) != 0 ||
	     json_object_set_new(req, "idv_document_type", json_string("passport")) != 0 ||
	     json_object_set_new(req, "idv_document_number", json_string(docno)) != 0))
		goto out;
	r = bench_api_post(svc, c, "/api/v1/users", actor->authz, req, 201, &reply);
	req = NULL;
	if (r != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s, s:b}", "password", &pw, "enrolment_required", &enrol) != 0 ||
	    !enrol)
		goto out;
	a->seedlen = 0;   /* no seed until its holder enrols one */
	r = first_login(svc, c, a, pw);
out:
	OPENSSL_cleanse(docno, sizeof(docno));
	json_decref(req);
	json_decref(reply);
	return r;
}

/* The certificate (DER) and its public key of key k. */
static int
cert_pubkey(const char *b64, struct bench_account *a, size_t k)
{
	uint8_t *der = NULL;
	const uint8_t *p;
	size_t len = 0;
	X509 *x = NULL;
	int r;

	if ((r = b64_decode(b64, &der, &len)) != 0)
		goto out;
	p = der;
	r = INK_ERR_CRYPTO;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || (a->pub[k] = X509_get_pubkey(x)) == NULL)
		goto out;
	a->cert[k] = der;
	a->cert_len[k] = len;
	der = NULL;
	r = 0;
out:
	X509_free(x);
	free(der);
	return r;
}

int
bench_so_login(struct bench_svc *svc, struct bench_client *c)
{
	int r = first_login(svc, c, &svc->so, svc->so_onetime);

	OPENSSL_cleanse(svc->so_onetime, sizeof(svc->so_onetime));
	return r;
}

int
bench_make_key(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a,
               size_t k, const char *algorithm, const char *pin)
{
	const char *id = NULL, *cert = NULL;
	json_t *reply = NULL;
	int r;

	if (k >= BENCH_KEYS_MAX)
		return INK_ERR_INVALID;
	if ((r = bench_api_post(svc, c, "/api/v1/keys", a->authz,
	                        json_pack("{s:s, s:s}", "pin", pin, "algorithm", algorithm), 201,
	                        &reply)) != 0)
		goto out;
	r = INK_ERR_PROTOCOL;
	if (json_unpack(reply, "{s:s, s:s}", "id", &id, "certificate", &cert) != 0 ||
	    strlen(id) >= sizeof(a->cred[k]))
		goto out;
	snprintf(a->cred[k], sizeof(a->cred[k]), "%s", id);
	EVP_PKEY_free(a->pub[k]);
	free(a->cert[k]);
	a->pub[k] = NULL;
	a->cert[k] = NULL;
	r = cert_pubkey(cert, a, k);
out:
	json_decref(reply);
	return r;
}

void
bench_account_clear(struct bench_account *a)
{
	size_t k;

	bench_freezero_str(&a->authz);
	for (k = 0; k < BENCH_KEYS_MAX; k++) {
		EVP_PKEY_free(a->pub[k]);
		free(a->cert[k]);
	}
	OPENSSL_cleanse(a, sizeof(*a));
}
