/* http: libmicrohttpd listeners, capped request bodies, routing, bearer authentication, and one
 * cleanup callback that frees (and wipes) every request. */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit/audit.h"
#include "oauth/oauth.h"

#define PARAM_MAX STORE_TEXT_MAX

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- addresses ---- */

struct parsed_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool v6;
	bool loopback;
};

/* "HOST:PORT" or "[V6]:PORT" with a numeric host. */
static int
parse_addr(const char *text, struct parsed_addr *pa)
{
	char host[128], *colon, *end;
	long port;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&pa->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&pa->ss;

	memset(pa, 0, sizeof(*pa));
	if (strlen(text) >= sizeof(host))
		return INK_ERR_CONFIG;
	memcpy(host, text, strlen(text) + 1);
	if ((colon = strrchr(host, ':')) == NULL)
		return INK_ERR_CONFIG;
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return INK_ERR_CONFIG;
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return INK_ERR_CONFIG;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return INK_ERR_CONFIG;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		pa->len = sizeof(*in6);
		pa->v6 = true;
		pa->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return INK_ERR_CONFIG;
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)port);
	pa->len = sizeof(*in4);
	pa->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

static void
conn_source(struct MHD_Connection *conn, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, outsz, "-");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outsz);
}

const char *
req_bearer(struct srv_request *rq)
{
	const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
	                                            MHD_HTTP_HEADER_AUTHORIZATION);

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

/* An OAuth access token: the signer and session it was issued for become the caller's. Its
 * client must still be registered (a removed client's tokens end with it). */
static bool
oauth_bearer(struct srv_request *rq, const char *token)
{
	struct oauth_token_info info;
	struct store_oauth_client cl;

	if (oauth_token_find(rq->srv->st, token, &info) != 0)
		return false;
	if (oauth_client_find(rq->srv->st, info.client_id, &cl) != 0) {
		OPENSSL_cleanse(&info, sizeof(info));
		return false;
	}
	rq->who = info.who;
	rq->oauth = true;
	snprintf(rq->oauth_cred, sizeof(rq->oauth_cred), "%s", info.cred);
	snprintf(rq->oauth_client, sizeof(rq->oauth_client), "%s", info.client_id);
	OPENSSL_cleanse(&info, sizeof(info));
	return true;
}

/* A service-scope OAuth access token (CSC v2 section 8): the signer it was granted by becomes
 * the caller, as their account stands now, for the routes that only read credentials. Its
 * client must still be registered. */
static bool
service_bearer(struct srv_request *rq, const char *token)
{
	struct store_oauth_token t;
	struct store_oauth_client cl;
	struct store_user u;
	bool ok = false;

	memset(&u, 0, sizeof(u));
	if (oauth_service_token_find(rq->srv->st, token, &t) != 0)
		return false;
	if (oauth_client_find(rq->srv->st, t.client_id, &cl) == 0 &&
	    rq->srv->st->ops->user_get_by_id(rq->srv->st, t.user_id, &u) == 0 &&
	    u.status == STORE_USER_ACTIVE && !u.must_change_password) {
		memset(&rq->who, 0, sizeof(rq->who));
		memcpy(rq->who.user_id, u.id, sizeof(rq->who.user_id));
		memcpy(rq->who.username, u.username, sizeof(rq->who.username));
		rq->who.roles = u.roles;
		memcpy(rq->who.token_hash, t.hash, sizeof(rq->who.token_hash));
		rq->oauth_service = true;
		snprintf(rq->oauth_client, sizeof(rq->oauth_client), "%s", t.client_id);
		ok = true;
	}
	OPENSSL_cleanse(&u, sizeof(u));
	OPENSSL_cleanse(&t, sizeof(t));
	return ok;
}

static void
dispatch(struct srv_request *rq)
{
	const struct srv_route *rt;
	const char *token;
	char allow[128];
	int r;

	rt = srv_route_find(rq, allow, sizeof(allow));
	rq->route = rt;
	if (rt == NULL && allow[0] != '\0') {
		reply_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "invalid_request",
		            "Method not allowed for this path");
		if (rq->resp != NULL)
			(void)MHD_add_response_header(rq->resp, MHD_HTTP_HEADER_ALLOW, allow);
		return;
	}
	if (rt == NULL) {
		reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "Unknown path");
		return;
	}
	if (rq->too_large) {
		reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "invalid_request", "Request body too large");
		return;
	}
	if (rq->too_busy) {
		req_audit_refusal(rq, "http.busy", "request bodies at max_body_total");
		rq->retry_after = 1;
		reply_ink_err(rq, INK_ERR_BUSY, NULL);
		return;
	}
	/* A body is parsed as JSON only when declared so (an empty one is no body). */
	if (!rt->own_media && rq->body.len > 0 && !req_media_is(rq, "application/json")) {
		req_audit_refusal(rq, "http.media_type", "body not declared application/json");
		reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "invalid_request",
		            "Content-Type must be application/json");
		return;
	}
	if ((rt->fn == ep_auth_login || rt->fn == ep_oauth_authorize_post) &&
	    srv_limits_login(rq, &rq->retry_after) != 0) {
		req_audit_refusal(rq, "auth.login", "login_rate reached for this source");
		reply_error(rq, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
		            "Too many login attempts from this address; try again later");
		return;
	}
	if (rt->auth != SRV_AUTH_NONE) {
		if ((token = req_bearer(rq)) == NULL) {
			req_audit_refusal(rq, "auth.token", "no bearer token");
			reply_error(rq, MHD_HTTP_UNAUTHORIZED, "invalid_token", "Missing access token");
			return;
		}
		/* where a route also takes a credential-scope access token (the SAD itself), a
		 * session's token is looked for first: it is what a batch signer sends every time */
		if (rt->oauth_token) {
			r = auth_authenticate_session(&rq->srv->actx, &rq->areq, token, &rq->who);
			if (r == INK_ERR_NOT_FOUND)
				r = oauth_bearer(rq, token) ? 0 :
				    auth_refuse_token(&rq->srv->actx, &rq->areq);
		} else if (rt->service_token && service_bearer(rq, token)) {
			r = 0;
		} else {
			r = auth_authenticate(&rq->srv->actx, &rq->areq, token, &rq->who);
		}
		if (r == INK_ERR_AUTH || r == INK_ERR_DISABLED) {
			reply_error(rq, MHD_HTTP_UNAUTHORIZED, "invalid_token", "Invalid access token");
			return;
		}
		if (r == INK_ERR_EXPIRED) {
			reply_error(rq, MHD_HTTP_UNAUTHORIZED, "invalid_token", "Access token expired");
			return;
		}
		if (r != 0) {
			reply_ink_err(rq, r, NULL);
			return;
		}
		if (rq->who.password_change_only && rt->auth != SRV_AUTH_BEARER_ANY) {
			req_audit_refusal(rq, "auth.token", rq->who.enrol_only ?
			                  "TOTP enrolment required" : "password change required");
			reply_ink_err(rq, rq->who.enrol_only ? INK_ERR_ENROL : INK_ERR_PASSWORD_CHANGE,
			              NULL);
			return;
		}
	}
	/* Heavy work is bounded in how much runs at once: Argon2id runs (a login here, a PIN
	 * check in inkan-sam) take argon2_slots x argon2_memory_kib at most, whatever arrives;
	 * validations verify_slots x what one may cost (docs/verify.md). */
	if (rt->gate != SRV_GATE_NONE) {
		if (srv_limits_gate_enter(rq, rt->gate) != 0) {
			req_audit_refusal(rq, "http.busy", rt->gate == SRV_GATE_ARGON2 ?
			                  "Argon2id slots and queue full" : "verification slots and queue full");
			rq->retry_after = 1;
			reply_ink_err(rq, INK_ERR_BUSY, NULL);
			return;
		}
		rt->fn(rq);
		srv_limits_gate_leave(rq, rt->gate);
	} else {
		rt->fn(rq);
	}
	if (!rq->responded) {
		log_bug("handler for %s %s sent no reply", rt->method, rt->path);
		reply_ink_err(rq, INK_ERR_INTERNAL, NULL);
	}
}

/* ---- libmicrohttpd callbacks ---- */

/* MHD's own messages: one a second at most (a flood of cut connections would write one line
 * each), with the count of those left out. */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static atomic_llong last_s, dropped;
	char text[256];
	long long now = (long long)time(NULL), skipped;
	size_t n;

	(void)cls;
	if (atomic_exchange(&last_s, now) == now) {
		atomic_fetch_add(&dropped, 1);
		return;
	}
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	skipped = atomic_exchange(&dropped, 0);
	if (skipped > 0)
		log_warn("libmicrohttpd: %s (and %lld more since the last one shown)", text, skipped);
	else
		log_warn("libmicrohttpd: %s", text);
}

/* Frees (wiping) the body and gives its bytes back to max_body_total. */
static void
body_drop(struct srv_request *rq)
{
	buf_free(&rq->body);
	if (rq->body_held > 0)
		srv_limits_body_give(rq->srv, rq->body_held);
	rq->body_held = 0;
}

/* MHD's unescape callback, for the path and each query argument: leaves them as sent. A path
 * is decoded once, by routes.c, segment by segment (so %2536 stays "%36" and %2F never splits
 * a segment); req_query_int decodes the arguments it reads. */
static size_t
keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct srv_listener *l = cls;
	struct srv_request *rq = *con_cls;
	const char *cl;
	uint8_t rnd[8];
	unsigned long long clen;
	char *end;

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->srv = l->srv;
		rq->listener = l;
		rq->conn = conn;
		rq->method = method;
		rq->url = url;
		rq->start_us = mono_us();
		buf_init(&rq->body, (size_t)l->srv->cfg.max_body, true);
		if (ink_random(rnd, sizeof(rnd)) != 0) {
			free(rq);
			return MHD_NO;
		}
		hex_encode(rnd, sizeof(rnd), rq->request_id);
		conn_source(conn, rq->source, sizeof(rq->source));
		srv_limits_source(rq);
		srv_limits_phase(conn, SRV_PHASE_BODY);
		rq->areq.request_id = rq->request_id;
		rq->areq.source = rq->source;
		rq->areq.source_key = rq->source_key;
		*con_cls = rq;
		/* A declared length over the cap is refused before a byte of it is read. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			clen = strtoull(cl, &end, 10);
			if (*end != '\0' || clen > (unsigned long long)l->srv->cfg.max_body)
				rq->too_large = true;
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (!rq->too_large && !rq->too_busy) {
			if (!srv_limits_body_take(rq->srv, (long long)*upload_data_size)) {
				rq->too_busy = true;
			} else {
				rq->body_held += (long long)*upload_data_size;
				if (buf_put(&rq->body, upload_data, *upload_data_size) != 0)
					rq->too_large = true;
			}
			/* Keep reading (and dropping) the rest so the 413 or 503 reaches the client. */
			if (rq->too_large || rq->too_busy)
				body_drop(rq);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	srv_limits_phase(conn, SRV_PHASE_HANDLER);
	dispatch(rq);
	if (rq->resp == NULL)
		return MHD_NO;
	return MHD_queue_response(conn, rq->status, rq->resp);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct srv_request *rq = *con_cls;

	(void)cls;
	(void)toe;
	if (rq == NULL)
		return;
	srv_metrics_request(rq, mono_us() - rq->start_us);
	body_drop(rq);
	srv_limits_phase(conn, SRV_PHASE_HEAD);
	if (rq->resp != NULL)
		MHD_destroy_response(rq->resp);
	explicit_bzero(rq, sizeof(*rq));
	free(rq);
	*con_cls = NULL;
}

/* ---- lifecycle ---- */

static int
add_listener(struct srv *s, const char *addr, unsigned cls)
{
	size_t i;

	if (addr[0] == '\0')
		addr = s->cfg.listen_signer;
	for (i = 0; i < s->nls; i++) {
		if (strcmp(s->ls[i].addr, addr) == 0) {
			s->ls[i].classes |= cls;
			return 0;
		}
	}
	if (s->nls >= SRV_MAX_LISTENERS)
		return INK_ERR_INTERNAL;
	snprintf(s->ls[s->nls].addr, sizeof(s->ls[s->nls].addr), "%s", addr);
	s->ls[s->nls].classes = cls;
	s->ls[s->nls].srv = s;
	s->nls++;
	return 0;
}

static int
write_addr_file(struct srv *s)
{
	static const char *const names[] = { "signer", "admin", "public", "metrics" };
	char path[1024], text[1024];
	size_t off = 0, i, c;
	int n;

	/* First line: the signer API; then one "class address" line per class. */
	for (i = 0; i < s->nls; i++) {
		if (s->ls[i].classes & SRV_SIGNER) {
			n = snprintf(text, sizeof(text), "%s\n", s->ls[i].bound);
			off = (size_t)n;
		}
	}
	for (c = 0; c < INK_ARRAY_LEN(names); c++) {
		for (i = 0; i < s->nls; i++) {
			if (!(s->ls[i].classes & (1u << c)))
				continue;
			n = snprintf(text + off, sizeof(text) - off, "%s %s\n", names[c], s->ls[i].bound);
			if (n < 0 || (size_t)n >= sizeof(text) - off)
				return INK_ERR_INTERNAL;
			off += (size_t)n;
		}
	}
	if (ink_srv_path(path, sizeof(path), s->cfg.data_dir, "inkand.addr") != 0)
		return INK_ERR_TOO_LARGE;
	return ink_write_file(path, text, off, 0644);
}

/* The metrics listener's Unix socket ("unix:PATH", PATH relative to DATA/inkand/ unless
 * absolute), bound and listening, mode 0660: who may scrape is who may open it. A socket left
 * by an inkand that did not stop cleanly is replaced; anything else at PATH is an error. */
static int
metrics_socket(struct srv *s, struct srv_listener *l, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char path[1024];
	int fd = -1;

	*out = -1;
	if (ink_srv_path(path, sizeof(path), s->cfg.data_dir, l->addr + 5) != 0 ||
	    l->addr[5] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
		log_error("listen_metrics: the socket path must be 1 to %zu bytes long: %s",
		          sizeof(sa.sun_path) - 1, l->addr);
		return INK_ERR_CONFIG;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("listen_metrics: %s exists and is not a socket", path);
			return INK_ERR_CONFIG;
		}
		(void)unlink(path);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* the process umask (077) makes it 0700 at bind: opened to the group only after */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    listen(fd, 64) != 0) {
		log_error("listen_metrics: cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return INK_ERR_IO;
	}
	memcpy(l->sock_path, sa.sun_path, sizeof(l->sock_path));
	snprintf(l->bound, sizeof(l->bound), "unix:%.107s", sa.sun_path);
	*out = fd;
	return 0;
}

/* Starts l's MHD daemon: on pa, or on the listening socket fd (not -1). */
static int
start_daemon(struct srv *s, struct srv_listener *l, const struct parsed_addr *pa, int fd)
{
	/* Only the metrics listener is plain HTTP whatever plain_http says: loopback or a socket. */
	bool tls = !s->cfg.plain_http && !(l->classes & SRV_METRICS);
	struct MHD_OptionItem o[16];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_AUTO;
	unsigned int pool;
	size_t n = 0;

#define OPT(opt, v, p) (o[n++] = (struct MHD_OptionItem){ (opt), (intptr_t)(v), (p) })
	/* Signers' connections get a thread each (up to the connection limit): with a pool,
	 * two busy connections can land on one thread and wait for each other while another
	 * thread idles, which left cores idle and doubled some signHash latencies. */
	if (l->classes & SRV_SIGNER)
		flags |= MHD_USE_THREAD_PER_CONNECTION;
	if (fd < 0 && pa->v6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	/* MHD takes no pool with a thread per connection; a scraper or two need none either. */
	pool = flags & MHD_USE_THREAD_PER_CONNECTION || l->classes == SRV_METRICS ? 1u :
	       (unsigned int)s->cfg.threads;
	/* MHD's own messages through ours from the first option on */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
	if (fd >= 0)
		OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	else
		OPT(MHD_OPTION_SOCK_ADDR, 0, (void *)&pa->ss);
	if (pool > 1)
		OPT(MHD_OPTION_THREAD_POOL_SIZE, pool, NULL);
	/* The accept policy and the connection notifications keep the limits of limits.c;
	 * MHD's own idle timeout stays as a backstop. */
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, 30u, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, l->classes == SRV_METRICS ? 16u :
	    srv_limits_mhd_connections(&s->cfg), NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, srv_limits_notify, l);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL);
	if (tls) {
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key);
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)SRV_TLS_PRIORITIES);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	l->daemon = MHD_start_daemon(flags, 0, srv_limits_accept, l, on_request, l,
	                             MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	if (l->daemon == NULL) {
		log_error("cannot listen on %s", l->addr);
		return INK_ERR_IO;
	}
	return 0;
}

/* "HOST:PORT" as bound, with the real port. */
static void
note_bound(struct srv_listener *l)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
	char host[100], *colon;

	snprintf(host, sizeof(host), "%.99s", l->addr);
	if ((colon = strrchr(host, ':')) != NULL)
		*colon = '\0';
	snprintf(l->bound, sizeof(l->bound), "%s:%u", host, di != NULL ? (unsigned)di->port : 0u);
}

/* The metrics listener, a listener of its own even at another listener's address (which it
 * then cannot bind): /metrics is never served beside the other endpoints. */
static int
add_metrics_listener(struct srv *s)
{
	struct parsed_addr pa;
	bool unix_socket = strncmp(s->cfg.listen_metrics, "unix:", 5) == 0;

	if (s->cfg.listen_metrics[0] == '\0')
		return 0;
	if (!unix_socket && (parse_addr(s->cfg.listen_metrics, &pa) != 0 || !pa.loopback)) {
		log_error("listen_metrics '%s' is neither unix:PATH nor a numeric loopback HOST:PORT",
		          s->cfg.listen_metrics);
		return INK_ERR_CONFIG;
	}
	if (s->nls >= SRV_MAX_LISTENERS)
		return INK_ERR_INTERNAL;
	snprintf(s->ls[s->nls].addr, sizeof(s->ls[s->nls].addr), "%s", s->cfg.listen_metrics);
	s->ls[s->nls].classes = SRV_METRICS;
	s->ls[s->nls].srv = s;
	s->nls++;
	return 0;
}

int
srv_listen(struct srv *s)
{
	struct parsed_addr pa;
	size_t i;
	int r, fd;

	s->nls = 0;
	if ((r = srv_metrics_start()) != 0 || (r = srv_limits_start(s)) != 0)
		return r;
	if ((r = add_listener(s, s->cfg.listen_signer, SRV_SIGNER)) != 0 ||
	    (r = add_listener(s, s->cfg.listen_admin, SRV_ADMIN)) != 0 ||
	    (r = add_listener(s, s->cfg.listen_public, SRV_PUBLIC)) != 0 ||
	    (r = add_metrics_listener(s)) != 0)
		return r;
	for (i = 0; i < s->nls; i++) {
		if (s->ls[i].classes == SRV_METRICS)
			continue;
		if (parse_addr(s->ls[i].addr, &pa) != 0) {
			log_error("listen address '%s' is not numeric HOST:PORT", s->ls[i].addr);
			return INK_ERR_CONFIG;
		}
		if (s->cfg.plain_http && !pa.loopback) {
			log_error("plain_http is allowed only on loopback addresses, not %s", s->ls[i].addr);
			return INK_ERR_CONFIG;
		}
	}
	for (i = 0; i < s->nls; i++) {
		struct srv_listener *l = &s->ls[i];

		fd = -1;
		memset(&pa, 0, sizeof(pa));
		if (strncmp(l->addr, "unix:", 5) == 0) {
			if ((r = metrics_socket(s, l, &fd)) != 0)
				return r;
		} else {
			(void)parse_addr(l->addr, &pa);
		}
		if ((r = start_daemon(s, l, &pa, fd)) != 0) {
			if (fd >= 0)
				close(fd);
			return r;
		}
		if (fd < 0)
			note_bound(l);
		log_info("listening on %s%s for%s%s%s%s",
		         fd >= 0 ? "" : s->cfg.plain_http || l->classes == SRV_METRICS ? "http://" :
		         "https://", l->bound, (l->classes & SRV_SIGNER) ? " signer" : "",
		         (l->classes & SRV_ADMIN) ? " admin" : "", (l->classes & SRV_PUBLIC) ? " public" : "",
		         (l->classes & SRV_METRICS) ? " metrics" : "");
	}
	return write_addr_file(s);
}

void
srv_stop(struct srv *s)
{
	size_t i;

	for (i = 0; i < s->nls; i++) {
		if (s->ls[i].daemon != NULL)
			MHD_stop_daemon(s->ls[i].daemon);
		s->ls[i].daemon = NULL;
		if (s->ls[i].sock_path[0] != '\0')
			(void)unlink(s->ls[i].sock_path);
		s->ls[i].sock_path[0] = '\0';
	}
	srv_limits_stop(s);
}
