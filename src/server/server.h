/* server: inkand's HTTP glue. Handlers parse (a field table), authorize, call one module
 * function and render; no SQL and no private-key cryptography here. */
#ifndef INKAN_SERVER_H
#define INKAN_SERVER_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <sys/types.h>

#include "auth/auth.h"
#include "common/common.h"
#include "store/store.h"

struct sam_client;

/* Endpoint classes, each servable on its own address (13.1.3). */
enum srv_class {
	SRV_SIGNER = 1u << 0,
	SRV_ADMIN = 1u << 1,
	SRV_PUBLIC = 1u << 2,
	SRV_METRICS = 1u << 3, /* GET /metrics only: listen_metrics, never another listener */
};

/* TLS 1.3, and TLS 1.2 with forward-secret AEAD suites only: ECDHE with AES-GCM or
 * ChaCha20-Poly1305 (no CBC, no SHA-1 MAC, no RSA or DHE key exchange); GnuTLS priorities,
 * not configurable (http.c; the compliance report shows them). */
#define SRV_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:" \
	"+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"

#define SRV_MAX_LISTENERS 4
#define SRV_MAX_PARAMS 2

struct srv;

/* Privilege separation (privsep.c): who inkand and inkan-sam run as. */
struct srv_privsep {
	bool active;           /* user (and maybe sam_user) configured, started as root */
	uid_t uid, sam_uid;
	gid_t gid, sam_gid;
};
/* Resolves the configured users; INK_ERR_CONFIG when they cannot work (not root, unknown,
 * root, sam_user without user, the same user twice). Nothing configured: inactive. */
int srv_privsep_plan(const struct ink_config *cfg, struct srv_privsep *ps) INK_WUR;
/* Prepares the data directory before anything reads it. Under privilege separation DATA
 * first becomes root's (0711), so that inkand's user cannot change it. Then the layout
 * (ink_datadir_prepare: an old layout's files move into DATA/inkand/). Then, under privilege
 * separation, the hand-over: DATA/sam (0700, files at most 0600) to sam_user, DATA/ca (what
 * the SAM publishes: 0755, files 0644) to sam_user too, DATA/inkand (0700, files at most
 * 0600) to user, the configuration file to root (0644), anything else in DATA to root.
 * Works on descriptors only and never follows a link; refuses (INK_ERR_CONFIG) hard-linked
 * files, anything but files and directories, a DATA/sam or DATA/ca owned by neither root nor
 * sam_user, and a configuration file that inkand's user owns or that lies in DATA/inkand. */
int srv_privsep_data(const struct srv_privsep *ps, const char *data, const char *config) INK_WUR;
/* Becomes user for good (groups, gid, uid; no way back) and hardens the process again. */
int srv_privsep_drop(const struct srv_privsep *ps) INK_WUR;

struct srv_listener {
	struct srv *srv;       /* back pointer: every request reaches its server through it */
	struct MHD_Daemon *daemon;
	unsigned classes;
	char addr[128];        /* as configured */
	char bound[128];       /* as bound, with the real port; "unix:PATH" for a socket */
	char sock_path[108];   /* the Unix socket made for it, removed at stop ("" none) */
};

struct srv_limits;
struct srv_rate;
struct audit_refusals;

struct srv {
	struct ink_config cfg;
	struct srv_limits *lim;  /* limits.c */
	struct store *st;
	struct audit_refusals *refusals; /* refusals of unauthenticated requests, counted */
	struct srv_rate *tsa_rate;       /* the built-in TSA's rate limit */
	struct srv_rate *ocsp_rate;      /* the OCSP responder's, for responses signed on demand */
	struct sam_client *sam;
	struct auth_ctx actx;
	struct srv_listener ls[SRV_MAX_LISTENERS];
	size_t nls;
	char *tls_cert;        /* PEM */
	char *tls_key;         /* PEM, secret */
	int64_t started_at;    /* UTC seconds */
};

/* ---- the SAM's own audit records (samlog.c) ---- */

/* At start: notes the SAM records already copied after the signed head (a crash). */
int srv_samlog_init(struct srv *s, uint64_t signed_size) INK_WUR;
/* Copies the SAM's records not yet in the audit log into it (before every checkpoint). */
int srv_samlog_pull(struct srv *s) INK_WUR;
/* The SAM records among the leaves from+1..from+n and their positions, for the SAM's check;
 * *ids and *seqs malloc'd. */
int srv_samlog_pairs(struct srv *s, uint64_t from, const uint8_t (*leaves)[32], size_t n,
                     int64_t **ids, int64_t **seqs, size_t *m) INK_WUR;

/* Work bounded in how much of it runs at once (limits.c). */
enum srv_gate {
	SRV_GATE_NONE,
	SRV_GATE_ARGON2,       /* Argon2id, here or in inkan-sam: argon2_slots */
	SRV_GATE_VERIFY,       /* a signature validation (parsers, chains): verify_slots */
	SRV_GATE_N_
};

/* When a route needs a bearer token. */
enum srv_auth {
	SRV_AUTH_NONE,         /* public, or authenticates itself (login) */
	SRV_AUTH_BEARER,       /* a full session */
	SRV_AUTH_BEARER_ANY,   /* also a password-change-only session */
};

/* Why a request was refused, as the metrics count it: a fixed label (metrics.c), never
 * anything a client sent. NONE: the status's own. */
enum srv_reason {
	SRV_REASON_NONE, SRV_REASON_INVALID, SRV_REASON_TOO_LARGE, SRV_REASON_MEDIA_TYPE,
	SRV_REASON_NOT_FOUND, SRV_REASON_METHOD, SRV_REASON_TOKEN, SRV_REASON_AUTH,
	SRV_REASON_WRONG_OTP, SRV_REASON_WRONG_PIN, SRV_REASON_BAD_SAD, SRV_REASON_SAD_EXPIRED,
	SRV_REASON_NOT_AUTHORIZED, SRV_REASON_POLICY, SRV_REASON_LOCKED, SRV_REASON_DENIED,
	SRV_REASON_SOD, SRV_REASON_PASSWORD_CHANGE, SRV_REASON_ENROL, SRV_REASON_CERT,
	SRV_REASON_CONFLICT, SRV_REASON_RATE, SRV_REASON_BUSY, SRV_REASON_UNAVAILABLE,
	SRV_REASON_INTERNAL, SRV_REASON_N_
};

struct srv_route;

/* One request, alive from its first byte to the completion callback. */
struct srv_request {
	struct srv *srv;
	struct srv_listener *listener;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;       /* as sent: not percent-decoded */
	struct ink_buf body;   /* secret: may hold passwords */
	bool too_large;
	bool too_busy;         /* the bodies held at once would pass max_body_total */
	bool responded;
	long long body_held;   /* bytes of body counted against max_body_total */
	unsigned retry_after;  /* seconds, for a 429 or 503 (0: no Retry-After) */
	char request_id[17];
	char source[64];       /* the client's address (behind a trusted proxy: the one it names) */
	char source_key[64];   /* what limits count by: the address, an IPv6 one's /64 */
	struct auth_req areq;
	struct auth_principal who;
	bool oauth;            /* who comes from an OAuth access token (a SAD): oauth_cred only */
	char oauth_cred[65];
	char oauth_client[STORE_ID_LEN + 1];
	bool oauth_service;    /* who comes from a service-scope OAuth access token (oauth_client's) */
	char params[SRV_MAX_PARAMS][STORE_TEXT_MAX + 1];  /* decoded {} path segments */
	unsigned nparams;
	struct MHD_Response *resp;
	unsigned status;
	const struct srv_route *route;  /* the route it matched (NULL: none) */
	enum srv_reason reason;         /* why it was refused, when a handler says */
	uint64_t start_us;              /* its first byte (monotonic clock) */
};

typedef void (*srv_handler)(struct srv_request *rq);

struct srv_route {
	const char *method;
	const char *path;      /* segments; "{}" captures one */
	unsigned classes;
	enum srv_auth auth;
	enum srv_gate gate;    /* the bounded kind of work it does (holds a slot of it) */
	srv_handler fn;
	bool own_media;        /* a body that is not JSON: the handler checks its Content-Type */
	bool tail;             /* the last "{}" takes the rest of the path, '/' and %2F included */
	bool oauth_token;      /* a credential-scope OAuth access token is a bearer token here */
	bool service_token;    /* a service-scope OAuth access token is a bearer token here (reading
	                        * credentials only: never a route that signs or authorizes) */
};

/* The routing table (routes.c). */
extern const struct srv_route srv_routes[];
extern const size_t srv_routes_len;
/* The route for rq's method and url on its listener, its {} segments percent-decoded into
 * rq->params; NULL when none, with the methods the path allows (if any) in allow[allowsz]. */
const struct srv_route *srv_route_find(struct srv_request *rq, char *allow, size_t allowsz);
/* Prints the table, one route a line: METHOD PATH CLASSES AUTH (classes joined by ',', auth
 * none|bearer|bearer_any) — what `inkand --routes` shows, for the OpenAPI coverage test. */
void srv_routes_print(FILE *f);
/* Percent-decodes [p, p+n) once into out[outsz]; false for a malformed escape, a NUL, a '/'
 * unless slash, an empty result or one that does not fit. */
bool srv_pct_decode(const char *p, size_t n, char *out, size_t outsz, bool slash) INK_WUR;

/* ---- limits (limits.c): what the network may cost, per source and in all ---- */

/* Phases of a connection, each with its deadline (header_timeout, request_timeout, none). */
enum srv_conn_phase { SRV_PHASE_HEAD, SRV_PHASE_BODY, SRV_PHASE_HANDLER };

/* Starts the limits (tables, Argon2id slots, the thread that cuts slow connections). */
int srv_limits_start(struct srv *s) INK_WUR;
void srv_limits_stop(struct srv *s);
/* MHD's accept policy: refuses a source at max_connections_per_source, and past a listener's
 * max_connections any source that already holds a connection (cls: the listener). */
enum MHD_Result srv_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD's connection notification: counts and tracks each connection for its deadlines. */
void srv_limits_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
/* The connection enters phase (its deadline starts now). */
void srv_limits_phase(struct MHD_Connection *mc, enum srv_conn_phase phase);
/* rq->source becomes the client a trusted proxy names in X-Forwarded-For (every line, in
 * order: the rightmost address that is not a trusted proxy); a malformed header leaves the
 * proxy as the source. Sets rq->source_key. */
void srv_limits_source(struct srv_request *rq);
/* One login attempt for rq's source: 0, or INK_ERR_BUSY with *retry_after seconds. */
int srv_limits_login(struct srv_request *rq, unsigned *retry_after) INK_WUR;
/* Counts n bytes of request body against max_body_total; false (nothing counted) when they
 * would pass it. */
bool srv_limits_body_take(struct srv *s, long long n) INK_WUR;
/* Gives n counted bytes back. */
void srv_limits_body_give(struct srv *s, long long n);
/* A slot of gate for rq's source (ink_gate_enter; an authenticated caller first): 0 or
 * INK_ERR_BUSY. */
int srv_limits_gate_enter(struct srv_request *rq, enum srv_gate gate) INK_WUR;
void srv_limits_gate_leave(struct srv_request *rq, enum srv_gate gate);
/* The load now (the metrics' and the compliance report's capacity evidence). */
struct srv_load {
	unsigned connections[SRV_MAX_LISTENERS];  /* open, per listener (srv.ls order) */
	unsigned slots[SRV_GATE_N_], busy[SRV_GATE_N_], waiting[SRV_GATE_N_];
	long long body_bytes;                     /* request bodies held */
};
void srv_limits_load(struct srv *s, struct srv_load *out);
/* The connection limit given to MHD: max_connections and the new sources' reserve. */
unsigned srv_limits_mhd_connections(const struct ink_config *cfg);

/* ---- metrics (metrics.c: the counters; ep_metrics.c: the page) ---- */

/* Checks the tables fit the routing table and notes the start time. */
int srv_metrics_start(void) INK_WUR;
/* Counts one finished request: by route and status, its latency, a refusal by reason; a
 * request that got no reply (its connection ended) as cut. A few relaxed atomic additions. */
void srv_metrics_request(const struct srv_request *rq, uint64_t elapsed_us);
/* Counts n signatures made with alg (one of policy_sig_algs()). */
struct policy_sig_alg;
void srv_metrics_signatures(const struct policy_sig_alg *alg, size_t n);
/* The reason label of an INK_ERR_* refusal. */
enum srv_reason srv_reason_of_err(int err);
/* Requests answered since the start, every route and status. */
unsigned long long srv_metrics_requests_total(void);
/* A metrics page being written: once err is set nothing more is. */
struct srv_mtext {
	struct ink_buf b;
	int err;
};
void srv_metrics_printf(struct srv_mtext *t, const char *fmt, ...) INK_PRINTF(2, 3);
/* "# HELP" and "# TYPE" lines of a metric family. */
void srv_metrics_family(struct srv_mtext *t, const char *name, const char *type, const char *help);
/* The counters above as families of the text format (and process_start_time_seconds). */
void srv_metrics_render_counters(struct srv_mtext *t);

/* ---- rate limits (ratelimit.c): token buckets, one for everyone, one per client ---- */

/* rate and per_client are requests a second, each with a burst of as many (0: no limit);
 * slots (a power of two) clients are told apart, the rest share one bucket. */
int srv_rate_new(int64_t rate, int64_t per_client, size_t slots, struct srv_rate **out) INK_WUR;
void srv_rate_free(struct srv_rate *rl);
/* Takes a request of client (NULL: anyone); false when over either limit, nothing taken, with
 * *retry_after the whole seconds after which it would pass. */
bool srv_rate_take(struct srv_rate *rl, const char *client, unsigned *retry_after) INK_WUR;

/* ---- lifecycle (http.c) ---- */

/* Starts one MHD daemon per distinct address; writes DATA/inkand/inkand.addr (which
 * DATA/inkand.addr links to). */
int srv_listen(struct srv *s) INK_WUR;
/* Stops every daemon. */
void srv_stop(struct srv *s);

/* ---- rendering (reply.c): exactly one reply per request ---- */

/* Sends obj (reference stolen) with status. */
void reply_json(struct srv_request *rq, unsigned status, json_t *obj);
/* Sends text (JSON from json_dumps, jansson's allocator; ownership taken, wiped) with status. */
void reply_json_dumped(struct srv_request *rq, unsigned status, char *text);
/* A reply whose JSON text the caller made (malloc'd; owned and wiped-then-freed by the reply);
 * NULL: out of memory, replied as such. */
void reply_json_text(struct srv_request *rq, unsigned status, char *text);
/* Sends no body. */
void reply_empty(struct srv_request *rq, unsigned status);
/* Sends {"error": code, "error_description": desc}. */
void reply_error(struct srv_request *rq, unsigned status, const char *code, const char *desc);
/* Maps an INK_ERR_* to the documented status and CSC error; desc NULL for the default text. */
void reply_ink_err(struct srv_request *rq, int err, const char *desc);
/* Parses the body per spec into out; on failure replies 400 and returns non-zero. */
int req_parse(struct srv_request *rq, const struct json_field *spec, void *out) INK_WUR;
/* True when rq's Content-Type is type (any case, parameters allowed: "; charset=utf-8"). */
bool req_media_is(const struct srv_request *rq, const char *type);
/* Audits a refusal the HTTP layer itself made (bad token, wrong class, ...). Without an
 * authenticated principal it is counted per source past the first few (req_audit_event). */
void req_audit_refusal(struct srv_request *rq, const char *action, const char *why);
/* Writes the record of a refusal: as audit_append() when someone is authenticated, else
 * through the per-source count of refusals (audit_refusal()). */
struct audit_event;
int req_audit_event(struct srv_request *rq, const struct audit_event *ev) INK_WUR;
/* Signs a checkpoint over everything written so far (*h) and fetches the log public key
 * (*spki malloc'd) from inkan-sam: what the audit endpoints hand out. */
struct audit_head;
int req_audit_head(struct srv_request *rq, struct audit_head *h, uint8_t **spki, size_t *len) INK_WUR;
/* Query parameter name (name and value percent-decoded once) as an integer in [lo, hi] (def
 * when absent); INK_ERR_INVALID else, also when given twice or without a value. */
int req_query_int(struct srv_request *rq, const char *name, int64_t def, int64_t lo, int64_t hi,
                  int64_t *out) INK_WUR;

/* Sends a page of the signer's (html malloc'd, taken) with the pages' headers: a CSP of
 * default-src 'none' with the style allowed by nonce, form-action 'self' (and form_origin, the
 * client's redirect origin the page's form may end at; NULL none), frame-ancestors 'none',
 * X-Frame-Options DENY, Referrer-Policy no-referrer, Cache-Control no-store; cookie: a
 * Set-Cookie value or NULL. html NULL: out of memory, replied as such. */
void reply_html(struct srv_request *rq, unsigned status, char *html, const char *nonce,
                const char *form_origin, const char *cookie);
/* 303 See Other to location (a registered redirect URI with its parameters), with the pages'
 * headers. */
void reply_redirect(struct srv_request *rq, const char *location, const char *form_origin);
/* Every query argument (names and values percent-decoded once) into f; INK_ERR_INVALID as
 * oauth_form_parse refuses. */
struct oauth_form;
int req_query_form(struct srv_request *rq, size_t value_max, struct oauth_form *f) INK_WUR;

/* "Authorization: Bearer <token>" -> token, or NULL. */
const char *req_bearer(struct srv_request *rq);
/* Decodes "Authorization: Basic base64(user:password)" into secmem *decoded (secmem_free it),
 * pointing *user and *pw into it; INK_ERR_INVALID when absent or malformed. */
int req_basic_credentials(struct srv_request *rq, char **decoded, const char **user,
                          const char **pw) INK_WUR;

/* ---- the OAuth token endpoints' common ground (oauth.c) ---- */

/* The RFC 6749 5.2 error form (status, error, why as its description), audited as action. */
void srv_oauth_refuse(struct srv_request *rq, const char *action, unsigned status,
                      const char *error, const char *why);
/* The body as application/x-www-form-urlencoded into f; replies (audited) and fails else. */
int srv_oauth_form(struct srv_request *rq, const char *action, struct oauth_form *f) INK_WUR;
/* The client of a token request: client_secret_basic, client_secret_post, private_key_jwt (a
 * client registered by its key: RFC 7523 client assertion, jti once across nodes), or a public
 * client's client_id alone; replies invalid_client (audited) and fails else. */
struct store_oauth_client;
/* The credential-scope parameters of an authorization request (CSC v2 8.3.2, PKCE S256) from
 * f into req (client and redirect URI set by the caller); NULL, or why not with *error the
 * OAuth error code. */
struct oauth_request;
const char *srv_oauth_read_request(const struct oauth_form *f, struct oauth_request *req,
                                   const char **error);
int srv_oauth_client_auth(struct srv_request *rq, const struct oauth_form *f, const char *action,
                          struct store_oauth_client *cl) INK_WUR;
/* The request's account_token (CSC v2 8.3.2), if any, checked for client cl (oauth_account_
 * token_check()): req->account gets the signer it names. NULL, or why not. */
const char *srv_oauth_account_token(struct srv_request *rq, const struct oauth_form *f,
                                    const struct store_oauth_client *cl,
                                    struct oauth_request *req);

/* Sends raw bytes (copied) with a content type. */
void reply_bytes(struct srv_request *rq, unsigned status, const char *type, const void *data,
                 size_t len);

/* JSON views shared by several endpoints. */
json_t *render_account(const struct auth_account *a);
struct sam_cred;
json_t *render_cred(const struct sam_cred *c);
/* An OAuth client as officers see it (id, name, redirect URIs, public, created; no secret). */
struct store_oauth_client;
json_t *render_oauth_client(const struct store_oauth_client *c);
/* Replies with the credential (status) or maps the error of a key operation. */
void reply_cred(struct srv_request *rq, int r, unsigned status, const struct sam_cred *c);
/* Maps an error of a key operation ("Credential locked", "Wrong PIN", ...). */
void reply_key_err(struct srv_request *rq, int r);
/* Maps an error of credentials/authorize or signatures/signHash to the CSC descriptions. */
void reply_csc_err(struct srv_request *rq, int r);
/* True for the /csc/v1/ paths (v1.0.4 field names). */
bool req_is_v1(const struct srv_request *rq);
/* A new signing PIN against the PIN policy (policy_check_pin, pin_min_len): on refusal audits
 * action with the rule broken, replies 400 naming it (never the PIN) and returns non-zero.
 * inkan-sam enforces the same rule; this check only gives the signer the reason. */
int req_pin_policy(struct srv_request *rq, const char *pin, const char *action) INK_WUR;
/* Decodes base64 hashes (each 1..REQ_HASH_MAX bytes); *raw and *lens malloc'd (free with
 * req_hashes_free); replies 400 on failure. */
#define REQ_HASH_MAX 64
int req_hashes(struct srv_request *rq, const struct json_strings *in, uint8_t ***raw,
               size_t **lens) INK_WUR;
void req_hashes_free(uint8_t **raw, size_t *lens, size_t n);
/* The credentials/info object of one credential (v1 or v2 field names), with the service's
 * multisign, language and assurance level. */
json_t *csc_render_info(const struct sam_cred *c, bool v1, const char *certificates,
                        const struct ink_config *cfg);

/* ---- endpoints, one file each ---- */

void ep_info(struct srv_request *rq);
void ep_oauth_authorize(struct srv_request *rq);
void ep_oauth_authorize_post(struct srv_request *rq);
void ep_oauth_token(struct srv_request *rq);
void ep_oauth_par(struct srv_request *rq);
void ep_oauth_revoke(struct srv_request *rq);
void ep_clients_list(struct srv_request *rq);
void ep_clients_add(struct srv_request *rq);
void ep_clients_remove(struct srv_request *rq);
void ep_health(struct srv_request *rq);
void ep_metrics(struct srv_request *rq);
void ep_auth_login(struct srv_request *rq);
void ep_auth_revoke(struct srv_request *rq);
void ep_passwd(struct srv_request *rq);
void ep_enrol(struct srv_request *rq);
void ep_enrol_confirm(struct srv_request *rq);
void ep_users_reenrol(struct srv_request *rq);
void ep_me(struct srv_request *rq);
void ep_users_list(struct srv_request *rq);
void ep_users_create(struct srv_request *rq);
void ep_users_show(struct srv_request *rq);
void ep_users_remove(struct srv_request *rq);
void ep_users_unlock(struct srv_request *rq);
void ep_roles_grant(struct srv_request *rq);
void ep_roles_revoke(struct srv_request *rq);
/* Shared by grant and revoke: change one role, answer with the account as it now is. */
void ep_roles_apply(struct srv_request *rq, const char *role_name, bool grant);
void ep_audit_list(struct srv_request *rq);
void ep_audit_export(struct srv_request *rq);
void ep_audit_proof(struct srv_request *rq);
void ep_audit_consistency(struct srv_request *rq);
void ep_config_show(struct srv_request *rq);
void ep_compliance(struct srv_request *rq);
void ep_keys_list(struct srv_request *rq);
void ep_keys_create(struct srv_request *rq);
void ep_keys_show(struct srv_request *rq);
void ep_keys_certificate(struct srv_request *rq);
void ep_keys_pin(struct srv_request *rq);
void ep_keys_auth_mode(struct srv_request *rq);
void ep_keys_revoke(struct srv_request *rq);
void ep_keys_renew(struct srv_request *rq);
void ep_keys_unlock(struct srv_request *rq);
void ep_ca_crl(struct srv_request *rq);
void ep_ca_arl(struct srv_request *rq);
void ep_ca_cert(struct srv_request *rq);
void ep_ca_audit_key(struct srv_request *rq);
void ep_backup(struct srv_request *rq);
void ep_restore(struct srv_request *rq);
void ep_csc_credentials_list(struct srv_request *rq);
void ep_csc_credentials_info(struct srv_request *rq);
void ep_csc_authorize(struct srv_request *rq);
void ep_csc_sign_hash(struct srv_request *rq);
void ep_verify(struct srv_request *rq);
void ep_tsa(struct srv_request *rq);
void ep_ocsp(struct srv_request *rq);
void ep_ocsp_get(struct srv_request *rq);
void ep_ca_tsa(struct srv_request *rq);
void ep_csc_timestamp(struct srv_request *rq);

/* The built-in TSA, shared by /tsa and signatures/timestamp (ep_tsa.c): a TimeStampResp from
 * the SAM for tr (*resp malloc'd), audited as tsa.timestamp; tsa_audit records a refusal.
 * tsa_rate_ok takes the request from the TSA's rate limits (tsa_rate, tsa_client_rate), or
 * replies 429 with Retry-After, audits the refusal and returns false. */
struct formats_tsa_req;
int tsa_issue(struct srv_request *rq, const struct formats_tsa_req *tr, uint8_t **resp,
              size_t *len) INK_WUR;
void tsa_audit(struct srv_request *rq, const char *serial, const char *result, const char *detail);
bool tsa_rate_ok(struct srv_request *rq) INK_WUR;

#endif
