/* bench: what inkan-bench and inkan-soak share — a real inkand in a temporary data directory,
 * libcurl clients, TOTP steps and accounts made through the API as their holders would. */
#ifndef INKAN_BENCH_H
#define INKAN_BENCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "common/common.h"

#define BENCH_REPLY_MAX (64u << 20)
#define BENCH_CMD_OUT_MAX (1u << 20)
#define BENCH_HTTP_TIMEOUT 600L
#define BENCH_KEYS_MAX 3                 /* keys an account keeps (one per algorithm) */
#define BENCH_OID_SHA256 "2.16.840.1.101.3.4.2.1"

/* An account and what its holder knows: TOTP seed, the newest step used, a session. */
struct bench_account {
	char name[40];
	uint8_t seed[AUTH_TOTP_B32_MAX];     /* TOTP seed */
	size_t seedlen;
	int64_t last_step;                   /* newest step used: the server takes only later ones */
	char *authz;                         /* "Bearer <token>" */
	char password[64];                   /* the holder's own, after the first change */
	char cred[BENCH_KEYS_MAX][65];
	EVP_PKEY *pub[BENCH_KEYS_MAX];
	uint8_t *cert[BENCH_KEYS_MAX];       /* its certificate, DER */
	size_t cert_len[BENCH_KEYS_MAX];
};

/* The service under test: its data directory, the running inkand and its inkan-sam. */
struct bench_svc {
	char bindir[512];                    /* inkand, inkan-sam and inkan */
	char tmpdir[256], datadir[300], url[128], cacert[400], logfile[400];
	unsigned port;                       /* 0: a free one at the first start, then kept */
	pid_t inkand, sam;                   /* sam: inkand's child, found after the start */
	struct ink_config cfg;
	struct bench_account so;             /* the first security officer */
	char so_onetime[128];                /* until the officer's first login */
	bool quiet;                          /* no progress on stderr */
	const char *database;                /* inkand's database setting (NULL: SQLite in DIR) */
	const char *keystore;                /* the key store's URI, DIR/sam/keystore.url (NULL: SQLite) */
};

/* One HTTP client: one libcurl handle (keep-alive). */
struct bench_client {
	CURL *h;
	struct ink_buf reply;
	char source[16];                     /* local address to connect from; "" for any */
	CURLcode last;                       /* libcurl's result of the last request */
};

/* The program's name in messages (set by main). */
extern const char *bench_prog;
/* Set by SIGINT/SIGTERM (bench_signals); waits and loops give up. */
extern volatile sig_atomic_t bench_interrupted;
/* While set, bench_post_text() sends a request again after a 503 (at capacity), when the
 * server's Retry-After says, as a client would: for setting up, never for what is measured. */
extern atomic_bool bench_retry_busy;

/* ---- small helpers ---- */

void bench_fatal(const char *what, int r);
double bench_mono_now(void);
double bench_wall_now(void);
/* Sleeps s seconds, less when interrupted. */
void bench_sleep(double s);
/* SIGINT and SIGTERM stop the run (svc's inkand gets SIGTERM, so blocked requests fail at
 * once); SIGPIPE ignored. */
void bench_signals(struct bench_svc *svc);
size_t bench_cpus(void);
/* Random printable secret: prefix, 24 hex digits, suffix. */
int bench_random_secret(char *out, size_t outsz, const char *prefix, const char *suffix) INK_WUR;
/* RFC 4648 base32 (the form inkan hands out TOTP seeds in), padding optional. */
int bench_base32_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen) INK_WUR;
void bench_freezero_str(char **s);
/* "PREFIX VALUE" in a malloc'd string (an Authorization header value). */
char *bench_header_value(const char *prefix, const char *value);
/* Frees a string jansson allocated (json_dumps), wiped first. */
void bench_json_free_str(char *text);
/* Nearest-rank percentile of sorted v[n]; qsort comparator for doubles. */
double bench_percentile(const double *v, size_t n, double pct);
/* A decimal option value in [lo, hi]. */
int bench_parse_size(const char *s, size_t lo, size_t hi, size_t *out) INK_WUR;
int bench_cmp_double(const void *x, const void *y);

/* ---- processes ---- */

/* The first line of `openssl version` in out ("unknown" when it fails). */
void bench_openssl_version(const char *openssl, char *out, size_t outsz);
/* sign/s of each of names[n] ("ecdsap256", "rsa2048", "rsa3072") from `openssl speed -multi
 * multi -seconds seconds NAMES...`; every figure must be found. */
int bench_openssl_speed(const char *openssl, size_t multi, int seconds, const char *const names[],
                        size_t n, double sign[]) INK_WUR;
/* 0 when b64 (a signHash answer's signature) verifies with pub over the SHA-256 digest. */
int bench_verify_sig(EVP_PKEY *pub, const uint8_t digest[static 32], const char *b64) INK_WUR;

/* Runs argv (no shell); stdout into out (may be a secret buffer), stderr to /dev/null. 0 only
 * when the program exits 0. */
int bench_run_capture(char *const argv[], struct ink_buf *out) INK_WUR;
int bench_rm_tree(const char *dir) INK_WUR;
/* A temporary directory TMPDIR/NAME.XXXXXX with data/ in it (not made yet). */
int bench_svc_dirs(struct bench_svc *svc, const char *name) INK_WUR;
/* `inkan init --data DIR --json`: the default configuration and the security officer; with
 * svc->database, the configuration is written first with that setting (`--config`). */
int bench_init_data(struct bench_svc *svc) INK_WUR;
/* Reads inkan.conf again (after a setting was added). */
int bench_load_config(struct bench_svc *svc) INK_WUR;
/* Starts inkand on 127.0.0.1:port (log appended to svc->logfile), waits for its address; sets
 * port, url, cacert, inkand and sam. */
int bench_start_inkand(struct bench_svc *svc) INK_WUR;
/* SIGTERM, and SIGKILL after 15 s (then INK_ERR_IO). */
int bench_stop_inkand(struct bench_svc *svc);
/* CPU time (user + system, ended threads included) of a process, seconds; -1 unknown. */
double bench_proc_cpu(pid_t pid);
/* The machine's idle CPU time so far (idle + iowait of every CPU, /proc/stat), seconds; -1
 * unknown. Its change over a phase says whether the cores were saturated. */
double bench_idle_cpu(void);
/* A child of parent (inkan-sam is inkand's only one); 0 when none. */
pid_t bench_find_child(pid_t parent);
/* VmRSS of a process in KiB; -1 when it is gone. */
long bench_rss_kib(pid_t pid);
/* True while pid exists and is not a zombie. */
bool bench_alive(pid_t pid);

/* ---- HTTP ---- */

/* source: local address to connect from (NULL: any). */
int bench_client_init(const struct bench_svc *svc, struct bench_client *c,
                      const char *source) INK_WUR;
void bench_client_free(struct bench_client *c);
/* One POST of len bytes to path with the given Content-Type and optional Authorization value;
 * the answer in c->reply, its status in *status. INK_ERR_IO when no HTTP answer came (libcurl's
 * reason in c->last). */
int bench_post(const struct bench_svc *svc, struct bench_client *c, const char *path,
               const char *ctype, const char *authz, const void *body, size_t len,
               long *status) INK_WUR;
/* One GET of path with optional Authorization; as bench_post. */
int bench_get(const struct bench_svc *svc, struct bench_client *c, const char *path,
              const char *authz, long *status) INK_WUR;
/* POST JSON text to path with optional Authorization; the reply must have status want and is
 * left in c->reply (the caller wipes it). */
int bench_post_text(const struct bench_svc *svc, struct bench_client *c, const char *path,
                    const char *authz, const char *text, long want) INK_WUR;
/* As bench_post_text; *reply (optional) gets the parsed JSON answer, the raw one is wiped. */
int bench_api_post_text(const struct bench_svc *svc, struct bench_client *c, const char *path,
                        const char *authz, const char *text, long want, json_t **reply) INK_WUR;
/* As bench_api_post_text with a JSON body (consumed). */
int bench_api_post(const struct bench_svc *svc, struct bench_client *c, const char *path,
                   const char *authz, json_t *body, long want, json_t **reply) INK_WUR;

/* ---- TOTP: each step once per person (login, enrolment and authorize alike), increasing,
 * within now ± the SAM's totp_window ---- */

/* The earliest usable step after last with margin seconds of it left; -1 when none until the
 * clock moves on. */
int64_t bench_totp_pick(int64_t last, double now, double margin, int64_t window);
/* Seconds until the next step begins (and a little more). */
double bench_next_step_in(void);
/* The next code of an account, waiting for the clock when its steps are used up. */
int bench_totp_next(const struct bench_svc *svc, struct bench_account *a,
                    char otp[static 8]) INK_WUR;

/* ---- accounts ---- */

/* Basic user:password, with the next TOTP code once the account has a seed; a->authz is the
 * new session. *enrol: the SAM wants the holder to enrol a seed. */
int bench_login(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a,
                const char *password, bool want_change, bool *enrol) INK_WUR;
/* The first security officer's first login (one-time password from `inkan init`). */
int bench_so_login(struct bench_svc *svc, struct bench_client *c) INK_WUR;
/* actor creates account a with a role (a signer with an identity document of its own); then
 * its first login, password change (a->password) and enrolment. */
int bench_make_account(const struct bench_svc *svc, struct bench_client *c,
                       const struct bench_account *actor, struct bench_account *a,
                       const char *role) INK_WUR;
/* A key (POST /api/v1/keys) of an algorithm under pin: a->cred[k] and a->pub[k]. */
int bench_make_key(const struct bench_svc *svc, struct bench_client *c, struct bench_account *a,
                   size_t k, const char *algorithm, const char *pin) INK_WUR;
/* Frees and wipes what an account holds. */
void bench_account_clear(struct bench_account *a);

#endif
