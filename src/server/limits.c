/* limits: what the network may cost inkand — connections per source and in all, time to a
 * complete header and body, login attempts per source per minute, memory held by request
 * bodies, slots for Argon2id runs and validations — and who "the source" is behind a trusted
 * proxy (docs/api.md, "Limits"). */
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Sources the service keeps state for (connections held, login attempts), each in a window of
 * SRC_WINDOW entries where SipHash puts it (src_get). */
#define SRC_TABLE 8192
#define SRC_WINDOW 16
/* A new source may still connect when a listener is at max_connections: this many more. */
#define CONN_RESERVE 64
#define REAP_INTERVAL_MS 200
#define GATE_WAIT_MS 10000
#define MAX_PROXIES 16

/* A source: an IPv4 address, or the /64 of an IPv6 address (one host owns a /64). */
struct src_key {
	uint8_t b[17];
};

struct src_ent {
	struct src_key key;
	bool used;
	unsigned conns;           /* connections open now */
	double tokens;            /* login attempts left (token bucket) */
	int64_t refill_ms;        /* when tokens was last brought up to date */
};

enum conn_phase { PH_HEAD, PH_BODY, PH_HANDLER, PH_CUT };

/* One open connection (MHD's socket context). */
struct conn {
	struct srv_listener *l;
	int fd;
	enum conn_phase phase;
	int64_t since_ms;         /* when this phase began */
	struct src_ent *src;      /* the entry whose conns counts it (NULL: none); an entry
	                           * with connections is never reused, so it stays this one's */
	struct conn *prev, *next;
};

struct srv_limits {
	struct srv *srv;
	pthread_mutex_t mu;       /* the table, the connection list, the counters */
	struct src_ent *tab;
	EVP_MAC_CTX *sip;         /* SipHash under a random key: where an entry lives */
	uint64_t untracked;       /* lookups that found no room (for the log) */
	struct conn *conns;
	unsigned open[SRV_MAX_LISTENERS];
	struct src_key proxies[MAX_PROXIES];
	size_t nproxies;
	struct ink_gate *gates[SRV_GATE_N_];
	atomic_llong body_bytes;
	uint64_t cut;             /* connections cut for slowness (for the log) */
	pthread_t reaper;
	pthread_cond_t stop_cv;
	bool stop, reaper_started;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
key_of(const struct sockaddr *sa, struct src_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		k->b[0] = 4;
		memcpy(k->b + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		/* an IPv4-mapped address is that IPv4 address */
		if (IN6_IS_ADDR_V4MAPPED(a)) {
			k->b[0] = 4;
			memcpy(k->b + 1, a->s6_addr + 12, 4);
		} else {
			k->b[0] = 6;
			memcpy(k->b + 1, a->s6_addr, 8);
		}
		return true;
	}
	return false;
}

/* A numeric address as text -> key; the exact address (all 16 bytes) when exact. */
static bool
key_of_text(const char *text, struct src_key *k, bool exact)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, text, &in4.sin_addr) == 1)
		return key_of((struct sockaddr *)&in4, k);
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) != 1)
		return false;
	if (!exact || IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr))
		return key_of((struct sockaddr *)&in6, k);
	memset(k, 0, sizeof(*k));
	k->b[0] = 16;
	memcpy(k->b + 1, in6.sin6_addr.s6_addr, 16);
	return true;
}

static bool
is_proxy(const struct srv_limits *lm, const char *addr)
{
	struct src_key k;
	size_t i;

	if (lm->nproxies == 0 || !key_of_text(addr, &k, true))
		return false;
	for (i = 0; i < lm->nproxies; i++)
		if (memcmp(&lm->proxies[i], &k, sizeof(k)) == 0)
			return true;
	return false;
}

/* Where a source's entry lives: SipHash under a key drawn at start, so nobody can pick
 * addresses that share a victim's window. Under lm->mu (one MAC context, copied per use). */
static uint32_t
key_hash(struct srv_limits *lm, const struct src_key *k)
{
	EVP_MAC_CTX *c;
	uint8_t out[8] = { 0 };
	size_t outl = 0;

	if ((c = EVP_MAC_CTX_dup(lm->sip)) == NULL)
		return 0;
	if (EVP_MAC_update(c, k->b, sizeof(k->b)) != 1 ||
	    EVP_MAC_final(c, out, &outl, sizeof(out)) != 1)
		memset(out, 0, sizeof(out));
	EVP_MAC_CTX_free(c);
	return (uint32_t)out[0] | (uint32_t)out[1] << 8 | (uint32_t)out[2] << 16 |
	       (uint32_t)out[3] << 24;
}

/* The entry of source k (made if need be), under lm->mu. A slot in k's window is reused only
 * when its source holds no connection and has its full login allowance back. NULL when the
 * window is full: that source is then held to the limits of all sources together (a listener's
 * connections, the Argon2id slots) — never to a bucket it would share with others, which a
 * flood of addresses could drain to lock a signer out. */
static struct src_ent *
src_get(struct srv_limits *lm, const struct src_key *k, int64_t now)
{
	uint32_t h = key_hash(lm, k);
	struct src_ent *e, *free_e = NULL;
	size_t i;
	double full = (double)lm->srv->cfg.login_rate;

	for (i = 0; i < SRC_WINDOW; i++) {
		e = &lm->tab[(h + i) % SRC_TABLE];
		if (e->used && memcmp(&e->key, k, sizeof(*k)) == 0)
			return e;
		if (free_e == NULL && (!e->used || (e->conns == 0 && (e->tokens >= full ||
		                                    now - e->refill_ms >= 60000))))
			free_e = e;
	}
	if (free_e == NULL) {
		lm->untracked++;
		return NULL;
	}
	memset(free_e, 0, sizeof(*free_e));
	free_e->used = true;
	free_e->key = *k;
	free_e->tokens = full;
	free_e->refill_ms = now;
	return free_e;
}

/* ---- connections ---- */

enum MHD_Result
srv_limits_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct srv_listener *l = cls;
	struct srv_limits *lm = l->srv->lim;
	const struct ink_config *cfg = &l->srv->cfg;
	struct src_key k;
	struct src_ent *e;
	char text[INET6_ADDRSTRLEN] = "";
	bool ok = true, proxy;
	unsigned li = (unsigned)(l - l->srv->ls);

	(void)addrlen;
	if (!key_of(addr, &k))
		return MHD_YES;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, text, sizeof(text));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, text, sizeof(text));
	proxy = is_proxy(lm, text);
	pthread_mutex_lock(&lm->mu);
	e = src_get(lm, &k, mono_ms());
	if (!proxy && e != NULL && e->conns >= (unsigned)cfg->max_connections_per_source)
		ok = false;
	/* Past the limit only a source holding no connection gets in (the reserve): a few
	 * sources holding many cannot lock a signer out. */
	else if (lm->open[li] >= (unsigned)cfg->max_connections &&
	         (e == NULL || e->conns > 0 || proxy))
		ok = false;
	pthread_mutex_unlock(&lm->mu);
	if (!ok)
		log_debug("refused a connection from %s (connection limits)", text);
	return ok ? MHD_YES : MHD_NO;
}

void
srv_limits_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
	struct srv_listener *l = cls;
	struct srv_limits *lm = l->srv->lim;
	const union MHD_ConnectionInfo *ci;
	struct conn *c = *socket_context;
	struct src_key k;
	unsigned li = (unsigned)(l - l->srv->ls);

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return; /* untracked: no deadline, no count (and no harm to others' counts) */
		c->l = l;
		c->fd = -1;
		if ((ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL)
			c->fd = ci->connect_fd;
		ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		pthread_mutex_lock(&lm->mu);
		c->phase = PH_HEAD;
		c->since_ms = mono_ms();
		if (ci != NULL && key_of(ci->client_addr, &k) &&
		    (c->src = src_get(lm, &k, c->since_ms)) != NULL)
			c->src->conns++;
		lm->open[li]++;
		c->next = lm->conns;
		if (lm->conns != NULL)
			lm->conns->prev = c;
		lm->conns = c;
		pthread_mutex_unlock(&lm->mu);
		*socket_context = c;
		return;
	}
	if (c == NULL)
		return;
	/* MHD tells of the close before it closes the descriptor: the reaper never shuts a
	 * descriptor that another connection has since been given. */
	pthread_mutex_lock(&lm->mu);
	if (c->src != NULL && c->src->conns > 0)
		c->src->conns--;
	if (lm->open[li] > 0)
		lm->open[li]--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		lm->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&lm->mu);
	free(c);
	*socket_context = NULL;
}

void
srv_limits_phase(struct MHD_Connection *mc, enum srv_conn_phase phase)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *c;
	struct srv_limits *lm;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return;
	lm = c->l->srv->lim;
	pthread_mutex_lock(&lm->mu);
	if (c->phase != PH_CUT) {
		c->phase = phase == SRV_PHASE_BODY ? PH_BODY :
		           phase == SRV_PHASE_HANDLER ? PH_HANDLER : PH_HEAD;
		c->since_ms = mono_ms();
	}
	pthread_mutex_unlock(&lm->mu);
}

/* Cuts the connections that took too long to send a header (from their start, or from their
 * previous reply) or a body: a slow client holds a place for seconds, not for ever. */
static void *
reaper_main(void *arg)
{
	struct srv_limits *lm = arg;
	const struct ink_config *cfg = &lm->srv->cfg;
	struct timespec until;
	struct conn *c;
	uint64_t cut = 0, reported = 0, untracked_reported = 0;
	int64_t now, last_report = mono_ms() - 10000;

	pthread_mutex_lock(&lm->mu);
	while (!lm->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += REAP_INTERVAL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&lm->stop_cv, &lm->mu, &until);
		if (lm->stop)
			break;
		now = mono_ms();
		for (c = lm->conns; c != NULL; c = c->next) {
			if (c->fd < 0 || c->phase == PH_CUT || c->phase == PH_HANDLER)
				continue;
			if ((c->phase == PH_HEAD && now - c->since_ms > cfg->header_timeout * 1000) ||
			    (c->phase == PH_BODY && now - c->since_ms > cfg->request_timeout * 1000)) {
				(void)shutdown(c->fd, SHUT_RDWR);
				c->phase = PH_CUT;
				lm->cut++;
			}
		}
		if (lm->untracked != untracked_reported && now - last_report >= 10000) {
			log_warn("source table full: %llu lookups held sources only to the limits of "
			         "all sources together", (unsigned long long)(lm->untracked -
			                                                      untracked_reported));
			untracked_reported = lm->untracked;
			last_report = now;
		}
		cut = lm->cut;
		if (cut != reported && now - last_report >= 10000) {
			log_warn("cut %llu slow connections (header_timeout %llds, request_timeout %llds)",
			         (unsigned long long)(cut - reported), (long long)cfg->header_timeout,
			         (long long)cfg->request_timeout);
			reported = cut;
		}
	}
	pthread_mutex_unlock(&lm->mu);
	return NULL;
}

/* ---- who the source is ---- */

/* Every X-Forwarded-For line, in the order received, joined with commas: a proxy that adds a
 * line of its own (rather than extending the client's) names the client in the last one. */
struct xff {
	char text[1024];
	size_t len;
	bool overlong;
};

static enum MHD_Result
xff_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct xff *x = cls;
	size_t n;

	(void)kind;
	if (key == NULL || value == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	n = strlen(value);
	if (x->len + n + 2 >= sizeof(x->text)) {
		x->overlong = true;
		return MHD_NO;
	}
	if (x->len > 0)
		x->text[x->len++] = ',';
	memcpy(x->text + x->len, value, n + 1);
	x->len += n;
	return MHD_YES;
}

/* The /64 of an IPv6 source, the address of an IPv4 one: what the limits count by. */
static void
source_key_text(const char *addr, char *out, size_t outsz)
{
	struct in6_addr a6;
	char text[INET6_ADDRSTRLEN];

	snprintf(out, outsz, "%s", addr);
	if (inet_pton(AF_INET6, addr, &a6) != 1 || IN6_IS_ADDR_V4MAPPED(&a6))
		return;
	memset(a6.s6_addr + 8, 0, 8);
	if (inet_ntop(AF_INET6, &a6, text, sizeof(text)) != NULL)
		snprintf(out, outsz, "%s/64", text);
}

void
srv_limits_source(struct srv_request *rq)
{
	const struct srv_limits *lm = rq->srv->lim;
	struct xff x = { .len = 0 };
	char item[INET6_ADDRSTRLEN + 8];
	struct src_key k;
	const char *end, *start, *xs;
	size_t n;

	if (lm == NULL || !is_proxy(lm, rq->source))
		goto out;
	(void)MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, xff_line, &x);
	if (x.len == 0 || x.overlong)
		goto out;
	/* From the right: the first address that is not one of our proxies is the client.
	 * Anything malformed on the way: the proxy itself stays the source (fail closed). */
	xs = x.text;
	end = xs + x.len;
	while (end > xs) {
		start = end;
		while (start > xs && start[-1] != ',')
			start--;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		n = (size_t)(end - start);
		while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(item))
			goto out;
		memcpy(item, start, n);
		item[n] = '\0';
		if (!key_of_text(item, &k, false))
			goto out;
		if (!is_proxy(lm, item)) {
			snprintf(rq->source, sizeof(rq->source), "%s", item);
			goto out;
		}
		end = start;
		while (end > xs && end[-1] != ',')
			end--;
		if (end > xs)
			end--;
	}
out:
	source_key_text(rq->source, rq->source_key, sizeof(rq->source_key));
}

/* ---- login attempts, body memory, Argon2id ---- */

int
srv_limits_login(struct srv_request *rq, unsigned *retry_after)
{
	struct srv_limits *lm = rq->srv->lim;
	double rate = (double)rq->srv->cfg.login_rate, wait;
	struct src_key k;
	struct src_ent *e;
	int64_t now = mono_ms();
	int r = 0;

	*retry_after = 0;
	if (!key_of_text(rq->source, &k, false))
		return 0;
	pthread_mutex_lock(&lm->mu);
	if ((e = src_get(lm, &k, now)) == NULL) {
		pthread_mutex_unlock(&lm->mu);
		return 0;
	}
	e->tokens += (double)(now - e->refill_ms) * rate / 60000.0;
	if (e->tokens > rate)
		e->tokens = rate;
	e->refill_ms = now;
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
	} else {
		wait = (1.0 - e->tokens) * 60.0 / rate;
		*retry_after = (unsigned)wait + 1;
		r = INK_ERR_BUSY;
	}
	pthread_mutex_unlock(&lm->mu);
	return r;
}

bool
srv_limits_body_take(struct srv *s, long long n)
{
	struct srv_limits *lm = s->lim;

	if (atomic_fetch_add(&lm->body_bytes, n) + n > s->cfg.max_body_total) {
		atomic_fetch_sub(&lm->body_bytes, n);
		return false;
	}
	return true;
}

void
srv_limits_body_give(struct srv *s, long long n)
{
	atomic_fetch_sub(&s->lim->body_bytes, n);
}

int
srv_limits_gate_enter(struct srv_request *rq, enum srv_gate gate)
{
	/* Who has authenticated (a signer authorizing, changing a PIN) goes before anonymous
	 * logins: many addresses each sending one login cannot keep signers from signing. */
	return ink_gate_enter(rq->srv->lim->gates[gate], rq->source_key,
	                      rq->who.username[0] != '\0');
}

void
srv_limits_gate_leave(struct srv_request *rq, enum srv_gate gate)
{
	ink_gate_leave(rq->srv->lim->gates[gate], rq->source_key);
}

/* ---- lifecycle ---- */

void
srv_limits_load(struct srv *s, struct srv_load *out)
{
	struct srv_limits *lm = s->lim;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (lm == NULL)
		return;
	pthread_mutex_lock(&lm->mu);
	for (i = 0; i < SRV_MAX_LISTENERS; i++)
		out->connections[i] = lm->open[i];
	pthread_mutex_unlock(&lm->mu);
	for (i = SRV_GATE_NONE + 1; i < SRV_GATE_N_; i++) {
		out->slots[i] = ink_gate_slots(lm->gates[i]);
		ink_gate_load(lm->gates[i], &out->busy[i], &out->waiting[i]);
	}
	out->body_bytes = atomic_load(&lm->body_bytes);
}

unsigned
srv_limits_mhd_connections(const struct ink_config *cfg)
{
	return (unsigned)cfg->max_connections + CONN_RESERVE;
}

static int
parse_proxies(struct srv_limits *lm, const char *list)
{
	char item[INET6_ADDRSTRLEN + 8];
	const char *p = list;
	size_t n;

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		n = strcspn(p, " ,\t");
		if (n == 0)
			break;
		if (n >= sizeof(item) || lm->nproxies >= MAX_PROXIES) {
			log_error("trusted_proxies: at most %d numeric addresses", MAX_PROXIES);
			return INK_ERR_CONFIG;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (!key_of_text(item, &lm->proxies[lm->nproxies], true)) {
			log_error("trusted_proxies: '%s' is not a numeric address", item);
			return INK_ERR_CONFIG;
		}
		lm->nproxies++;
		p += n;
	}
	return 0;
}

/* Enough descriptors for every connection the listeners may hold, as far as the hard limit
 * allows (a soft limit of 1024 would refuse connections long before max_connections). */
static void
raise_nofile(const struct ink_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)SRV_MAX_LISTENERS * srv_limits_mhd_connections(cfg) + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		log_warn("only %llu file descriptors: fewer connections than max_connections fit",
		         (unsigned long long)rl.rlim_cur);
}

static int
sip_new(EVP_MAC_CTX **out)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *c = NULL;
	OSSL_PARAM params[2];
	size_t outsize = 8;
	uint8_t key[16];
	int r = INK_ERR_CRYPTO;

	*out = NULL;
	if (ink_random(key, sizeof(key)) != 0)
		return INK_ERR_CRYPTO;
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outsize);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL || (c = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(c, key, sizeof(key), params) != 1)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return r;
}

int
srv_limits_start(struct srv *s)
{
	struct srv_limits *lm;
	pthread_condattr_t ca;
	int r;

	if ((lm = calloc(1, sizeof(*lm))) == NULL)
		return INK_ERR_ALLOC;
	lm->srv = s;
	raise_nofile(&s->cfg);
	pthread_mutex_init(&lm->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lm->stop_cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&lm->body_bytes, 0);
	s->lim = lm;
	if ((lm->tab = calloc(SRC_TABLE, sizeof(*lm->tab))) == NULL) {
		r = INK_ERR_ALLOC;
		goto fail;
	}
	if ((r = sip_new(&lm->sip)) != 0)
		goto fail;
	if ((r = parse_proxies(lm, s->cfg.trusted_proxies)) != 0 ||
	    (r = ink_gate_new(config_slots(s->cfg.argon2_slots), (unsigned)s->cfg.argon2_queue,
	                      GATE_WAIT_MS, &lm->gates[SRV_GATE_ARGON2])) != 0 ||
	    (r = ink_gate_new(config_slots(s->cfg.verify_slots), (unsigned)s->cfg.verify_queue, GATE_WAIT_MS,
	                      &lm->gates[SRV_GATE_VERIFY])) != 0)
		goto fail;
	if (pthread_create(&lm->reaper, NULL, reaper_main, lm) != 0) {
		r = INK_ERR_INTERNAL;
		goto fail;
	}
	lm->reaper_started = true;
	log_info("limits: %u Argon2id slots (queue %lld), %u verification slots (queue %lld), %lld "
	         "connections per listener, %lld per source, header %llds, body %llds, %lld logins "
	         "per source per minute", ink_gate_slots(lm->gates[SRV_GATE_ARGON2]),
	         (long long)s->cfg.argon2_queue, ink_gate_slots(lm->gates[SRV_GATE_VERIFY]),
	         (long long)s->cfg.verify_queue,
	         (long long)s->cfg.max_connections, (long long)s->cfg.max_connections_per_source,
	         (long long)s->cfg.header_timeout, (long long)s->cfg.request_timeout,
	         (long long)s->cfg.login_rate);
	return 0;
fail:
	srv_limits_stop(s);
	return r;
}

void
srv_limits_stop(struct srv *s)
{
	struct srv_limits *lm = s->lim;

	if (lm == NULL)
		return;
	if (lm->reaper_started) {
		pthread_mutex_lock(&lm->mu);
		lm->stop = true;
		pthread_cond_broadcast(&lm->stop_cv);
		pthread_mutex_unlock(&lm->mu);
		pthread_join(lm->reaper, NULL);
	}
	for (size_t i = 0; i < SRV_GATE_N_; i++)
		ink_gate_free(lm->gates[i]);
	free(lm->tab);
	EVP_MAC_CTX_free(lm->sip);
	pthread_cond_destroy(&lm->stop_cv);
	pthread_mutex_destroy(&lm->mu);
	free(lm);
	s->lim = NULL;
}
