/* common: errors, logging, secure memory, bounded buffers, base64, JSON field tables, config,
 * files and the data directory's layout. */
#ifndef INKAN_COMMON_H
#define INKAN_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define INK_WUR __attribute__((warn_unused_result))
#define INK_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define INK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define INK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors: 0 is success, every failure a negative INK_ERR_* ---- */

enum {
	INK_OK = 0,
	INK_ERR_INTERNAL = -1,       /* our bug or an unexpected library failure */
	INK_ERR_ALLOC = -2,          /* out of memory */
	INK_ERR_INVALID = -3,        /* their bad input: malformed, wrong type, out of bounds */
	INK_ERR_TOO_LARGE = -4,      /* input exceeds a configured cap */
	INK_ERR_NOT_FOUND = -5,      /* no such object (or not visible to the caller) */
	INK_ERR_EXISTS = -6,         /* object already exists */
	INK_ERR_AUTH = -7,           /* authentication failed (password, OTP or token) */
	INK_ERR_DENIED = -8,         /* authenticated, but the role may not do this */
	INK_ERR_LOCKED = -9,         /* account or credential locked */
	INK_ERR_DISABLED = -10,      /* account deregistered */
	INK_ERR_EXPIRED = -11,       /* token or SAD expired */
	INK_ERR_REPLAY = -12,        /* one-time value already used */
	INK_ERR_SOD = -13,           /* would break separation of duties */
	INK_ERR_POLICY = -14,        /* refused by policy (algorithm, password rules) */
	INK_ERR_IO = -15,            /* file or socket error */
	INK_ERR_STORE = -16,         /* database error */
	INK_ERR_CRYPTO = -17,        /* cryptographic operation failed */
	INK_ERR_SAM_UNAVAILABLE = -18, /* the signature activation module is not running */
	INK_ERR_PROTOCOL = -19,      /* malformed message on the SAM channel */
	INK_ERR_CONFIG = -20,        /* bad configuration */
	INK_ERR_PASSWORD_CHANGE = -21, /* the account must change its password first */
	INK_ERR_UNSUPPORTED = -22,   /* not implemented or not allowed here */
	INK_ERR_SAD_EXPIRED = -23,   /* signature activation data past its expiry */
	INK_ERR_NOT_AUTHORIZED = -24, /* a hash the SAD does not (or no longer) authorize */
	INK_ERR_BAD_PIN = -25,       /* wrong signing PIN (counted against the credential) */
	INK_ERR_ENROL = -26,         /* the person has not enrolled their second factor yet */
	INK_ERR_IDENTITY = -27,      /* this identity (document) is registered already */
	INK_ERR_UNTRUSTED = -28,     /* not issued by a CA we trust (certificate chain, CRL signature) */
	INK_ERR_WRONG_KEY = -29,     /* the certificate is for another public key */
	INK_ERR_WRONG_SUBJECT = -30, /* the certificate names someone other than the registered signer */
	INK_ERR_KEY_USAGE = -31,     /* key usage not what the assurance level requires, or a CA */
	INK_ERR_NO_WITNESS = -32,    /* a restore with nothing that shows later revocations */
	INK_ERR_BUSY = -33,          /* at capacity: try again later (503 with Retry-After) */
	INK_ERR_CLOCK = -34,         /* the clock is not synchronised: no time can be vouched for */
	INK_ERR_MAX_ = -35
};

/* Fixed English text for an INK_ERR_* code; never NULL. */
const char *ink_err_str(int err);

/* ---- logging: one structured line per event on stderr, never a secret ---- */

enum ink_log_level { INK_LOG_DEBUG, INK_LOG_INFO, INK_LOG_WARN, INK_LOG_ERROR };

/* Sets the program name printed in every line and the minimum level. */
void ink_log_init(const char *prog, enum ink_log_level min);
void ink_log(enum ink_log_level lvl, const char *func, const char *fmt, ...) INK_PRINTF(3, 4);

#define log_debug(...) ink_log(INK_LOG_DEBUG, __func__, __VA_ARGS__)
#define log_info(...) ink_log(INK_LOG_INFO, __func__, __VA_ARGS__)
#define log_warn(...) ink_log(INK_LOG_WARN, __func__, __VA_ARGS__)
#define log_error(...) ink_log(INK_LOG_ERROR, __func__, __VA_ARGS__)
/* Our bug: something that must not happen did. */
#define log_bug(...) ink_log(INK_LOG_ERROR, __func__, "BUG: " __VA_ARGS__)
/* Their bad input: worth a line, not an alarm. */
#define log_op(...) ink_log(INK_LOG_INFO, __func__, "bad input: " __VA_ARGS__)

/* ---- security alerts (16.1.2): also to the journal or syslog, with a stable id (alert.c) ---- */

enum ink_alert {
	INK_ALERT_PERSON_LOCKED,    /* inkan-sam locked a person after wrong one-time passwords */
	INK_ALERT_KEY_LOCKED,       /* a credential locked after wrong PINs */
	INK_ALERT_ACCOUNT_LOCKED,   /* inkand locked an account after wrong passwords */
	INK_ALERT_SAM_DIED,         /* inkan-sam is gone: no signing until a restart */
	INK_ALERT_AUDIT,            /* the audit log failed its check or could not be written */
	INK_ALERT_CLOCK,            /* the clock is not synchronised, or it jumped */
	INK_ALERT_REFUSALS,         /* one source refused past the burst of an interval */
	INK_ALERT_N_
};
/* The program name and where alerts go besides the log (NULL: /run/systemd/journal/socket,
 * /dev/log). The journal is used where its socket is, else syslog. */
void ink_alert_init(const char *prog, const char *journal_socket, const char *syslog_socket);
/* Logs the alert (warn, "alert=NAME ...") and sends it on; never blocks, never fails. */
void ink_alert(enum ink_alert a, const char *fmt, ...) INK_PRINTF(2, 3);
/* Its stable name, e.g. "inkan.sam.died". */
const char *ink_alert_name(enum ink_alert a);
/* How many alerts of kind a this process raised since it started (the metrics' count). */
unsigned long long ink_alert_count(enum ink_alert a);

/* ---- secure memory: locked, excluded from core dumps, wiped on free ---- */

/* Turns off core dumps and ptrace attach for this process; call first in main(). */
void secmem_harden_process(void);
/* Zeroed, mlock'd, MADV_DONTDUMP memory (up to 4 KiB from OpenSSL's secure heap when the
 * process set one up); NULL on failure. */
void *secmem_alloc(size_t len) INK_WUR;
/* Wipes and releases memory from secmem_alloc(); accepts NULL. */
void secmem_free(void *p);
/* secmem copy of a NUL-terminated string; NULL on failure. */
char *secmem_strdup(const char *s) INK_WUR;
/* Wipes and frees a malloc'd string; accepts NULL. */
void ink_freezero_str(char *s);
/* Constant-time equality of two byte strings of the same length. */
bool ink_ct_equal(const void *a, const void *b, size_t len) INK_WUR;
/* Installs jansson allocators that wipe every block they free (secrets pass through JSON). */
void secmem_json_wipe_on_free(void);

/* ---- gate: at most N heavy jobs (Argon2id runs) at once, a bounded queue fair between sources ---- */

#define INK_GATE_SOURCE_MAX 64
#define INK_GATE_SLOTS_MAX 256
#define INK_GATE_QUEUE_MAX 256

struct ink_gate;
/* A gate of slots places, queue waiting places, each wait at most wait_ms. */
int ink_gate_new(unsigned slots, unsigned queue, unsigned wait_ms, struct ink_gate **out) INK_WUR;
void ink_gate_free(struct ink_gate *g);
unsigned ink_gate_slots(const struct ink_gate *g);
/* The jobs running now (*busy) and waiting for a slot (*waiting): the metrics' view. */
void ink_gate_load(struct ink_gate *g, unsigned *busy, unsigned *waiting);
/* Takes a slot for source (an address; groups its jobs), waiting in the queue if none is free.
 * A waiter that goes first (first: e.g. an authenticated caller) runs before every waiter that
 * does not, and takes the newest one's place in a full queue. Otherwise INK_ERR_BUSY, having
 * waited for nothing, when the queue is full (unless another source holds at least two more
 * places: its newest waiter gives its place up, refused), or when the wait ran out. A freed
 * slot goes to the oldest waiter of the sources with the fewest jobs running. */
int ink_gate_enter(struct ink_gate *g, const char *source, bool first) INK_WUR;
/* Gives back the slot ink_gate_enter() took for source. */
void ink_gate_leave(struct ink_gate *g, const char *source);

/* ---- pool: worker threads at a lower CPU priority for heavy jobs (pool.c) ---- */

/* The nice value of the workers of the Argon2id runs: on saturated cores a signature goes
 * first, and the runs still get about a quarter of a core each (CFS weight 335 against 1024). */
#define INK_POOL_NICE_ARGON2 5
/* The workers' time slice (Linux >= 6.12): longer than the default, so that any thread woken
 * with the default slice (a signature's path) preempts a worker at once (pool.c). */
#define INK_POOL_SLICE_NS 12000000ULL
struct ink_pool;
/* n workers (at most INK_GATE_SLOTS_MAX), each SCHED_BATCH at nice more than the process's
 * (at most 19) with a slice of INK_POOL_SLICE_NS (Linux: per thread). */
int ink_pool_new(unsigned n, int nice, struct ink_pool **out) INK_WUR;
/* Lets the queued jobs finish, then stops the workers. */
void ink_pool_free(struct ink_pool *p);
/* Runs fn(arg) on a worker and returns when it has returned. Callers bound how many run at
 * once to the workers (a gate slot each), or jobs wait for a free worker. */
void ink_pool_run(struct ink_pool *p, void (*fn)(void *), void *arg);

/* ---- bounded buffer: all untrusted bytes are read through this ---- */

struct ink_buf {
	uint8_t *data;
	size_t len;   /* bytes written */
	size_t off;   /* read position */
	size_t cap;   /* allocated */
	size_t max;   /* hard limit; a write beyond it fails with INK_ERR_TOO_LARGE */
	bool secret;  /* wipe on growth and free */
};

/* Initialises an empty buffer that may grow to max bytes. */
void buf_init(struct ink_buf *b, size_t max, bool secret);
/* Wipes (when secret) and frees the contents; accepts NULL. */
void buf_free(struct ink_buf *b);
/* Room for n more bytes at once (within max), so that puts after it do not grow the buffer
 * step by step. */
int buf_reserve(struct ink_buf *b, size_t n) INK_WUR;
int buf_put(struct ink_buf *b, const void *p, size_t n) INK_WUR;
int buf_put_u8(struct ink_buf *b, uint8_t v) INK_WUR;
int buf_put_u32(struct ink_buf *b, uint32_t v) INK_WUR;
int buf_put_u64(struct ink_buf *b, uint64_t v) INK_WUR;
/* u32 length then the bytes. */
int buf_put_string(struct ink_buf *b, const void *p, size_t n) INK_WUR;
int buf_put_cstring(struct ink_buf *b, const char *s) INK_WUR;
/* Bytes not yet read. */
size_t buf_remaining(const struct ink_buf *b);
int buf_get_u8(struct ink_buf *b, uint8_t *v) INK_WUR;
int buf_get_u32(struct ink_buf *b, uint32_t *v) INK_WUR;
int buf_get_u64(struct ink_buf *b, uint64_t *v) INK_WUR;
/* Points *p into the buffer at a u32-length-prefixed string of at most maxlen bytes. */
int buf_get_string_ptr(struct ink_buf *b, const uint8_t **p, size_t *n, size_t maxlen) INK_WUR;
/* Copies a u32-length-prefixed string with no NUL inside into out[outsz] (NUL-terminated). */
int buf_get_cstring(struct ink_buf *b, char *out, size_t outsz) INK_WUR;

/* ---- encodings ---- */

/* Characters of the base64 of len bytes (padding included, no NUL); the largest len taken. */
#define B64_LEN(len) (4 * (((size_t)(len) + 2) / 3))
#define B64_MAX_IN ((size_t)INT32_MAX / 2)
/* Standard base64 with padding; *out is malloc'd and NUL-terminated. */
int b64_encode(const uint8_t *in, size_t len, char **out) INK_WUR;
/* Standard base64 of len (at most B64_MAX_IN) bytes written to out[B64_LEN(len)], no NUL;
 * returns the characters written. */
size_t b64_encode_to(const uint8_t *in, size_t len, char *out);
/* Strict standard base64 (padding required, no whitespace); *out malloc'd. */
int b64_decode(const char *in, uint8_t **out, size_t *outlen) INK_WUR;
/* As b64_decode, of in[len], into out[outsz] (at least len / 4 * 3 bytes, else
 * INK_ERR_TOO_LARGE). */
int b64_decode_to(const char *in, size_t len, uint8_t *out, size_t outsz, size_t *outlen) INK_WUR;
/* An ECDSA signature as r || s (XMLDSig, JWS: two halves of equal length, at most 2 x 66
 * bytes) into the DER OpenSSL verifies; *der OPENSSL_malloc'd. INK_ERR_CRYPTO otherwise. */
int ink_ecdsa_raw_to_der(const uint8_t *raw, size_t len, uint8_t **der, size_t *der_len) INK_WUR;
/* Lower-case hex into out[2*len+1]. */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);
/* Random bytes from the OpenSSL DRBG. */
int ink_random(void *out, size_t len) INK_WUR;
/* qsort/bsearch order of two int64_t. */
int ink_cmp_i64(const void *a, const void *b);
/* Seconds since the epoch, UTC. */
int64_t ink_now(void);
/* RFC 3339 UTC ("2026-11-25T22:26:35Z") into out[21]. */
void ink_time_str(int64_t t, char out[static 21]);

/* ---- JSON request bodies described by field tables ---- */

enum json_ftype {
	JF_END = 0,
	JF_STRING,    /* char * (malloc'd; secmem when JF_SECRET) */
	JF_BOOL,      /* bool */
	JF_INT,       /* int64_t within [min, max] */
	JF_STRINGS,   /* struct json_strings */
};

#define JF_REQUIRED 0x1u
#define JF_SECRET 0x2u

struct json_strings {
	char **v;
	size_t n;
};

struct json_field {
	const char *name;
	enum json_ftype type;
	unsigned flags;
	size_t offset;     /* offsetof(struct your_request, member) */
	size_t max_len;    /* strings: maximum length in bytes; arrays: maximum count */
	int64_t min, max;  /* JF_INT bounds */
};

#define JSPEC_STRING(n, st, m, maxl, fl) { .name = (n), .type = JF_STRING, .flags = (fl), .offset = offsetof(st, m), .max_len = (maxl) }
#define JSPEC_BOOL(n, st, m, fl) { .name = (n), .type = JF_BOOL, .flags = (fl), .offset = offsetof(st, m) }
#define JSPEC_INT(n, st, m, lo, hi, fl) { .name = (n), .type = JF_INT, .flags = (fl), .offset = offsetof(st, m), .min = (lo), .max = (hi) }
#define JSPEC_STRINGS(n, st, m, maxn, maxl, fl) { .name = (n), .type = JF_STRINGS, .flags = (fl), .offset = offsetof(st, m), .max_len = (maxn), .min = 0, .max = (maxl) }
#define JSPEC_END { .name = NULL, .type = JF_END }

/* Parses body (len bytes; an empty body is "{}") into the struct at out following spec.
 * Unknown fields are ignored; a wrong type, an over-long value, a missing required field,
 * duplicate keys or non-JSON fail with INK_ERR_INVALID and a description in err[errsz]
 * that never quotes a value. On failure nothing is left allocated. */
int json_parse_spec(const char *body, size_t len, const struct json_field *spec, void *out,
                    char *err, size_t errsz) INK_WUR;
/* Frees (and wipes, for JF_SECRET) what json_parse_spec() allocated in out. */
void json_free_spec(const struct json_field *spec, void *out);
/* Wipes and frees a text from json_dumps() with jansson's allocator (which
 * secmem_json_wipe_on_free may have replaced: never free() it); accepts NULL. */
void json_text_free(char *text);

/* ---- configuration: one typed table, `key = value` lines, unknown keys are errors ---- */

struct ink_config {
	char data_dir[512];
	char listen_signer[128];     /* HOST:PORT for the CSC signer API */
	char listen_admin[128];      /* HOST:PORT for the administration API */
	char listen_public[128];     /* HOST:PORT for public endpoints (info, CRL, OCSP, TSA) */
	char listen_metrics[128];    /* unix:PATH or loopback HOST:PORT of /metrics ("" off) */
	bool plain_http;             /* serve HTTP without TLS: loopback only */
	char tls_cert[512];
	char tls_key[512];
	int64_t max_body;            /* bytes */
	int64_t threads;
	int64_t session_ttl;         /* seconds */
	int64_t max_login_failures;
	int64_t password_min_len;
	int64_t argon2_m_kib;
	int64_t argon2_t;
	int64_t argon2_p;
	int64_t argon2_slots;        /* Argon2id runs at once (0: the CPU count) */
	int64_t argon2_queue;        /* requests waiting for an Argon2id slot */
	int64_t verify_slots;        /* validations at once (0: the CPU count) */
	int64_t verify_queue;        /* validations waiting for a slot */
	int64_t max_connections;     /* per listener */
	int64_t max_connections_per_source;
	int64_t header_timeout;      /* seconds to a complete request header */
	int64_t request_timeout;     /* seconds to a complete request body */
	int64_t login_rate;          /* login attempts per source per minute */
	int64_t max_body_total;      /* bytes of request bodies held at once */
	char trusted_proxies[512];   /* addresses whose X-Forwarded-For is believed */
	int64_t totp_window;         /* steps either side */
	int64_t assurance_level;     /* 1-4: signer certificate key usage and rules */
	int64_t cert_days;           /* signer certificate lifetime */
	int64_t cert_minutes;        /* ... in minutes instead, when not 0 (short-lived) */
	char cert_policy_oid[128];   /* certificatePolicies OID of signer certificates ("" none) */
	char public_url[200];        /* base URL of the public endpoints, e.g. for the CRL */
	char ca_organization[64];    /* O= of the built-in CA and of signer certificates */
	char ca_base_url[200];       /* base of the CRL and OCSP URLs in certificates ("" public_url) */
	char tsa_policy_oid[128];    /* TSA policy of the built-in time-stamp authority */
	bool tsa_require_synced_clock; /* no time-stamp on a clock that cannot vouch for it */
	bool allow_software_keys;    /* tests only: level 4 on software keys */
	int64_t oauth_code_ttl;      /* seconds an OAuth authorization code lives */
	int64_t oauth_service_token_ttl; /* seconds a service-scope access token lives */
	int64_t oauth_refresh_ttl;   /* seconds a service-scope grant (its refresh tokens) lives */
	bool allow_explicit_authorize; /* credentials/authorize (PIN and OTP sent by the client) accepted */
	char oauth_issuer[200];      /* what client assertions name as aud ("" scheme://listener) */
	char alert_journal_socket[108]; /* security alerts: the journal's socket ... */
	char alert_syslog_socket[108];  /* ... else syslog's */
	int64_t pin_max_failures;    /* wrong signing PINs before a credential locks */
	int64_t pin_min_len;         /* shortest new signing PIN (policy_check_pin) */
	int64_t sad_ttl;             /* seconds a SAD stays valid */
	int64_t multisign;           /* most signatures one authorization may allow */
	char database[512];          /* inkand's database: "" DATA/inkand/inkan.db, or a postgresql:// URI */
	char user[64];               /* Unix user of inkand after start ("" stay) */
	char sam_user[64];           /* Unix user of inkan-sam ("" same as inkand) */
	char key_backend[16];        /* "soft" or "pkcs11" */
	char pkcs11_module[512];     /* PKCS#11 module (absolute path) */
	char pkcs11_allowed_modules[1024]; /* colon-separated allow-list of module paths */
	char pkcs11_token_label[33]; /* token label (at most 32 bytes) */
	char pkcs11_pin_file[512];   /* token user PIN file (0600), relative to DIR/sam/ */
	char external_ca_file[512];  /* PEM bundle of external CAs, relative to DIR/sam/ ("" none) */
	char service_name[64];
	char lang[16];
	char log_level[16];
	int64_t audit_checkpoint_interval; /* seconds between signed checkpoints of the audit log */
	int64_t audit_clock_tolerance;     /* seconds the clock may go back before it is an event */
	int64_t backup_max_age_days;       /* 12.3.1 is met with a backup at most this old */
	int64_t audit_retention;           /* seconds records stay in the database (0: for ever) */
	int64_t audit_refusal_interval;    /* seconds over which unauthenticated refusals are counted */
	int64_t audit_refusal_burst;       /* of these, written singly per source and action */
	int64_t tsa_rate;                  /* time-stamps per second, whole service (0: no limit) */
	int64_t tsa_client_rate;           /* time-stamps per second, one signer or address (0: none) */
	int64_t ocsp_validity;             /* seconds from thisUpdate to nextUpdate */
	int64_t ocsp_cache_max_age;        /* RFC 5019 max-age cap of a nonce-less GET answer (0: none) */
	int64_t ocsp_rate;                 /* OCSP responses signed per second, whole service (0: none) */
	int64_t ocsp_client_rate;          /* ... for one source address (0: none) */
};

/* Fills cfg with the built-in defaults for data directory dir. */
void config_defaults(struct ink_config *cfg, const char *dir);
/* Reads `key = value` lines from path over the current values; unknown keys, bad values
 * and out-of-range numbers are errors described in err[errsz]. A missing file is INK_ERR_NOT_FOUND. */
int config_load(struct ink_config *cfg, const char *path, char *err, size_t errsz) INK_WUR;
/* Writes the documented default configuration file for cfg to path (mode 0640). */
int config_write_default(const struct ink_config *cfg, const char *path) INK_WUR;
/* Prints every setting as one tab-separated line: name, type, range, default, help (for the
 * inkan.conf(5) manual page, made at build time by `inkand --settings`). */
int config_print_table(FILE *f) INK_WUR;
/* A slots setting (argon2_slots, verify_slots): itself, or the CPU count when it is 0. */
unsigned config_slots(int64_t setting);
/* Applies one `key`, `value` pair (used by the loader and command-line overrides). */
int config_set(struct ink_config *cfg, const char *key, const char *value, char *err, size_t errsz) INK_WUR;

/* ---- the system clock (12.4.4): the kernel's word on its synchronisation, and jumps ---- */

/* The error a time-stamp declares (RFC 3161 accuracy): a clock whose maximum error is larger
 * cannot vouch for it. */
#define INK_CLOCK_ACCURACY_US 1000000

struct ink_clock {
	bool synced;                /* the kernel says NTP (or PTP) keeps it synchronised */
	int64_t maxerror_us;        /* the kernel's bound on its error */
	int64_t esterror_us;        /* ... and its estimate */
};
/* Reads the kernel's clock state (adjtimex, changing nothing). INK_ERR_IO if it cannot. */
int ink_clock_state(struct ink_clock *c) INK_WUR;
/* 0 when the clock can vouch for a time-stamp's time (synchronised, maximum error within
 * INK_CLOCK_ACCURACY_US); else INK_ERR_CLOCK, with the reason in why. */
int ink_clock_vouch(char *why, size_t whysz) INK_WUR;

/* Jumps of the real-time clock against the monotonic one (a step by an operator or an NTP
 * daemon, a suspended machine). */
struct ink_clock_mark {
	int64_t real_us, mono_us;
};
void ink_clock_mark(struct ink_clock_mark *m);
/* How far (µs) the real-time clock moved against the monotonic one since m, which then marks
 * now. */
int64_t ink_clock_jump(struct ink_clock_mark *m);

/* ---- small file helpers ---- */

/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer. */
int ink_read_file(const char *path, size_t max, char **out, size_t *outlen) INK_WUR;
/* The same from an open descriptor (a pipe: up to its end). */
int ink_read_fd(int fd, size_t max, char **out, size_t *outlen) INK_WUR;
/* Writes all of data to fd (short writes and EINTR continued). */
int ink_write_fd(int fd, const void *data, size_t len) INK_WUR;
/* Writes data atomically (temp file, fsync, rename) with the given mode. */
int ink_write_file(const char *path, const void *data, size_t len, unsigned mode) INK_WUR;
/* Joins dir and name into out[outsz]; INK_ERR_TOO_LARGE if it does not fit. */
int ink_path(char *out, size_t outsz, const char *dir, const char *name) INK_WUR;
/* Path of program `name` in the directory of the running executable, unless the environment
 * variable env (e.g. "INKAN_SAM") names it; if there is no such program there, the one in the
 * installation's sbin directory (INKAN_SBINDIR, set by the build). */
int ink_exe_sibling(const char *name, const char *env, char *out, size_t outsz) INK_WUR;
/* Creates a directory with mode (chmod'ed even if it existed). */
int ink_mkdir(const char *path, unsigned mode) INK_WUR;

/* How ink_path_trusted() judges a path. */
#define INK_TRUST_ROOT_ONLY 0x1u  /* root alone may own the file and every directory on the way */
#define INK_TRUST_STICKY    0x2u  /* a root-owned sticky directory above (/tmp) may be writable by all */
/* Follows path from / one component at a time (links too, at most 40) and checks that the
 * file or directory it names, every directory on the way and every link are owned by root or
 * uid (root alone with INK_TRUST_ROOT_ONLY) and writable by nobody else (no group or other
 * write bit). On success canon[canonsz] holds the path with every link resolved: open that
 * one, which nobody else can change. INK_ERR_NOT_FOUND if a component is missing;
 * INK_ERR_CONFIG with the offending path and the reason in why[whysz]. */
int ink_path_trusted(const char *path, uid_t uid, unsigned flags, char *canon, size_t canonsz,
                     char *why, size_t whysz) INK_WUR;

/* ---- PostgreSQL connections (pgconn.c), of the store and of the key store ---- */

struct pg_conn;	/* libpq's PGconn */
/* Whether an idle connection (no statement under way, no transaction open) is gone: the server
 * that ends a connection (pg_terminate_backend, a restart, a failover) says so and closes it,
 * which the socket shows before the next statement is sent. One poll(2), no round trip; true
 * also when there is no socket. The caller reconnects then, rather than failing a request. */
bool ink_pg_idle_lost(struct pg_conn *conn) INK_WUR;

/* ---- the data directory's layout (docs/configuration.md, "Data directory") ---- */

/* inkand's own directory in DATA: everything inkand writes (inkan.db and its -wal/-shm,
 * tls/, inkand.addr, audit-archive/) is there. DATA itself, DATA/inkan.conf, DATA/sam/ and
 * DATA/ca/ are the SAM's side: under privilege separation root's or sam_user's. */
#define INK_SRV_DIR "inkand"
/* DATA/inkand/name into out[outsz]; an absolute name stays as it is. */
int ink_srv_path(char *out, size_t outsz, const char *data, const char *name) INK_WUR;
/* inkand's database for store_open() into out[outsz]: the database setting, or the SQLite file
 * DATA/inkand/inkan.db when it is empty. */
int ink_database_uri(const struct ink_config *cfg, const char *data, char *out, size_t outsz) INK_WUR;
/* Brings DATA (open as dfd) to the current layout: creates DATA/inkand (0700); moves there,
 * one rename each, what the old layout kept at DATA's top (inkan.db and its -journal, -wal
 * and -shm, tls/, audit-archive/), the database last; removes the last run's inkand.addr;
 * and makes the links DATA/tls -> inkand/tls and DATA/inkand.addr -> inkand/inkand.addr.
 * Idempotent: an interrupted run is finished by the next. Refuses (INK_ERR_EXISTS) a name
 * found in both places, and (INK_ERR_CONFIG) links in the old names' place. */
int ink_datadir_prepare(int dfd) INK_WUR;

#endif
