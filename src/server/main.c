/* inkand: the HTTP server. Reads the configuration, starts inkan-sam, opens the store, listens,
 * and stops cleanly on SIGTERM/SIGINT. */
#include "server/server.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "oauth/oauth.h"
#include "policy/policy.h"
#include "sam/sam.h"

/* Sources whose refusals are counted apart in an interval (about 1 KB each); the rest are
 * counted together. Clients of the TSA told apart by its rate limit. */
#define REFUSAL_SOURCES 1024
#define TSA_CLIENTS 4096

static void
usage(void)
{
	fprintf(stderr, "usage: inkand --data DIR [--config FILE] [--listen HOST:PORT] [--plain-http]\n");
	exit(2);
}

static void
audit_system(struct srv *s, const char *action, const char *result, const char *detail)
{
	struct audit_event ev = { .action = action, .result = result, .detail = detail };

	if (audit_append(s->st, &ev) != 0)
		log_error("cannot audit %s", action);
}

/* Runs in the SAM monitor thread: the death is logged and audited, never silently repaired. */
static void
on_sam_death(void *arg, int status)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "wait status %d; not restarted", status);
	ink_alert(INK_ALERT_SAM_DIED, "inkan-sam died (%s): no signing until inkand is restarted", detail);
	audit_system(arg, "sam.died", "failure", detail);
}

/* ---- the audit log's checkpoints ---- */

/* The signer behind audit_checkpoint(): inkan-sam. */
static bool ckpt_final;   /* the shutdown checkpoint: set before the last one only */
static bool ckpt_shared;  /* the database is PostgreSQL: other nodes sign the same log */

static int
sign_head(void *arg, uint64_t from, const uint8_t (*leaves)[AUDIT_HASH_LEN], size_t n,
          struct audit_head *out)
{
	struct srv *s = arg;
	struct audit_head h;
	uint8_t *spki = NULL;
	uint64_t recovered = 0, foreign = 0;
	int64_t *ids = NULL, *seqs = NULL;
	size_t len = 0, m = 0;
	bool closed = false;
	int r;

	/* The SAM checks its own records among these leaves, by position. */
	if ((r = srv_samlog_pairs(s, from, leaves, n, &ids, &seqs, &m)) != 0)
		return r;
	r = sam_log_extend(s->sam, from, (const uint8_t *)leaves, n, ckpt_final, ids, seqs, m, out);
	free(ids);
	free(seqs);
	/* The SAM's tree is elsewhere: its key store was restored from a backup. The records
	 * after its head are read back from the database, as after a crash. */
	if (r == INK_ERR_EXISTS && sam_log_head(s->sam, &h, &closed, &spki, &len) == 0) {
		if (ckpt_shared)
			log_info("another node signed the audit log up to size %llu (not %llu): "
			         "re-reading the records after it", (unsigned long long)h.size,
			         (unsigned long long)from);
		else
			log_warn("the audit log signer's head has size %llu, not %llu (key store "
			         "restored): re-reading the records after it", (unsigned long long)h.size,
			         (unsigned long long)from);
		if (audit_log_start(s->st, h.size, false, sign_head, s, &recovered, &foreign) != 0)
			log_error("cannot re-read the audit records after the signer's head");
	}
	free(spki);
	return r;
}

/* The stop's checkpoint. With several nodes another node's checkpoint may come first more than
 * once in a row (each time this one reads back from the new head): a few tries. */
static int
final_checkpoint(struct srv *s)
{
	int r, tries = 0;

	while ((r = audit_checkpoint(s->st, NULL)) == INK_ERR_EXISTS && ckpt_shared && ++tries < 5)
		;
	return r;
}

static pthread_mutex_t ckpt_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ckpt_cv = PTHREAD_COND_INITIALIZER;
static bool ckpt_stop;

/* Moves records past audit_retention into an archive file (docs/audit.md); never drops one
 * that is not in a durable archive first. */
static void
retention(struct srv *s)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	char dir[1024], file[256], sha[65], detail[512];
	int64_t first = 0, last = 0;
	size_t len = 0;
	bool closed = false;
	int r;

	if ((r = ink_srv_path(dir, sizeof(dir), s->cfg.data_dir, "audit-archive")) != 0 ||
	    (r = sam_log_head(s->sam, &h, &closed, &spki, &len)) != 0 ||
	    (r = audit_archive(s->st, dir, ink_now() - s->cfg.audit_retention, spki, len, &first,
	                       &last, file, sha)) != 0) {
		log_error("audit retention: %s", ink_err_str(r));
		audit_system(s, "audit.archive", "failure", ink_err_str(r));
	} else if (last > 0) {
		snprintf(detail, sizeof(detail), "records %lld..%lld moved to " INK_SRV_DIR
		         "/audit-archive/%s (sha256 %s)", (long long)first, (long long)last, file, sha);
		log_info("%s", detail);
		audit_system(s, "audit.archive", AUDIT_SUCCESS, detail);
	}
	free(spki);
}

/* Writes the counted refusals of unauthenticated requests once their interval is over (all:
 * now); the time the interval under way ends, or 0. */
static int64_t
refusals_flush(struct srv *s, bool all)
{
	int64_t next = 0;

	if (s->refusals != NULL && audit_refusals_flush(s->refusals, all, &next) != 0)
		log_error("counted refusals could not all be recorded");
	return next;
}

/* The clock (ISO/IEC 27017 12.4.4), checked at start and every CLOCK_CHECK_INTERVAL seconds
 * by the checkpoint thread: each change of the kernel's word on its synchronisation, and each
 * jump of the real-time clock against the monotonic one beyond CLOCK_JUMP_US, is logged and
 * audited. Whether the TSA may stamp on such a clock, inkan-sam decides itself. */
#define CLOCK_CHECK_INTERVAL 60
#define CLOCK_JUMP_US 1000000

static struct ink_clock_mark clock_mark;
static int clock_synced = -1;        /* the last word: 1, 0, -1 none yet */

static void
clock_watch(struct srv *s)
{
	struct ink_clock c;
	char detail[160];
	int64_t jump;

	jump = ink_clock_jump(&clock_mark);
	if (clock_synced >= 0 && (jump > CLOCK_JUMP_US || jump < -CLOCK_JUMP_US)) {
		snprintf(detail, sizeof(detail), "the real-time clock moved %+lld ms against the "
		         "monotonic clock", (long long)(jump / 1000));
		ink_alert(INK_ALERT_CLOCK, "%s", detail);
		audit_system(s, "clock.jump", "failure", detail);
	}
	if (ink_clock_state(&c) != 0)
		c.synced = false, c.maxerror_us = c.esterror_us = -1;
	if ((int)c.synced == clock_synced)
		return;
	clock_synced = c.synced;
	snprintf(detail, sizeof(detail), "kernel: maximum error %lld ms, estimated error %lld ms",
	         (long long)(c.maxerror_us / 1000), (long long)(c.esterror_us / 1000));
	if (!c.synced)
		ink_alert(INK_ALERT_CLOCK, "the system clock is not synchronised (%s)", detail);
	audit_system(s, c.synced ? "clock.synchronised" : "clock.unsynchronised",
	             c.synced ? AUDIT_SUCCESS : "failure", detail);
}

/* Deletes the expired OAuth state (page sessions, pushed requests, codes, tokens, jtis) that
 * every node shares: at start and with each clock check. Any node may do it: the rows are
 * expired for all of them. */
static void
oauth_state_prune(struct srv *s)
{
	size_t n = 0;
	int r;

	if ((r = oauth_prune(s->st, &n)) != 0)
		log_warn("cannot prune the expired OAuth state: %s", ink_err_str(r));
	else if (n > 0)
		log_info("pruned %zu expired OAuth rows", n);
}

/* Signs a checkpoint every audit_checkpoint_interval seconds until told to stop, writes the
 * counted refusals at the end of each audit_refusal_interval, and watches the clock. */
static void *
checkpoint_loop(void *arg)
{
	struct srv *s = arg;
	struct timespec until;
	int64_t next_ckpt = ink_now() + s->cfg.audit_checkpoint_interval, due = 0, wake;
	int64_t next_clock = ink_now() + CLOCK_CHECK_INTERVAL;
	int r;

	pthread_mutex_lock(&ckpt_mu);
	while (!ckpt_stop) {
		/* the next checkpoint, the end of the refusals' interval under way, or (none under
		 * way) one interval on: a count begun meanwhile ends no earlier than that */
		wake = due != 0 ? due : ink_now() + s->cfg.audit_refusal_interval;
		if (next_ckpt < wake)
			wake = next_ckpt;
		if (next_clock < wake)
			wake = next_clock;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)(wake > ink_now() ? wake - ink_now() : 0);
		while (!ckpt_stop && pthread_cond_timedwait(&ckpt_cv, &ckpt_mu, &until) == 0)
			;
		if (ckpt_stop)
			break;
		pthread_mutex_unlock(&ckpt_mu);
		due = refusals_flush(s, false);
		if (ink_now() >= next_clock) {
			next_clock = ink_now() + CLOCK_CHECK_INTERVAL;
			clock_watch(s);
			oauth_state_prune(s);
		}
		if (ink_now() >= next_ckpt) {
			next_ckpt = ink_now() + s->cfg.audit_checkpoint_interval;
			if ((r = srv_samlog_pull(s)) != 0 || (r = audit_checkpoint(s->st, NULL)) != 0)
				ink_alert(INK_ALERT_AUDIT, "audit checkpoint failed: %s", ink_err_str(r));
			else if (s->cfg.audit_retention > 0)
				retention(s);
		}
		pthread_mutex_lock(&ckpt_mu);
	}
	pthread_mutex_unlock(&ckpt_mu);
	return NULL;
}

/* Starts the log: the SAM's last head, the records written after it (a crash), the
 * parameters and the configuration in force, as events. */
static int
audit_start(struct srv *s, const char *config)
{
	struct audit_head h;
	uint8_t *spki = NULL, dig[32];
	char detail[256], *text = NULL, hex[65];
	uint64_t recovered = 0, foreign = 0;
	bool closed = false;
	size_t len = 0;
	int r;

	if ((r = sam_log_head(s->sam, &h, &closed, &spki, &len)) != 0) {
		log_error("cannot read the audit log's signed head: %s", ink_err_str(r));
		return r;
	}
	free(spki);
	audit_set_clock_tolerance(s->cfg.audit_clock_tolerance);
	/* PostgreSQL: other nodes may write the same log (docs/audit.md, "Several nodes, one
	 * log") */
	ckpt_shared = strncmp(s->cfg.database, "postgresql://", 13) == 0 ||
	    strncmp(s->cfg.database, "postgres://", 11) == 0;
	audit_log_shared(ckpt_shared);
	if ((r = audit_log_start(s->st, h.size, closed, sign_head, s, &recovered, &foreign)) != 0) {
		log_error("cannot start the audit log: %s", ink_err_str(r));
		return r;
	}
	if (srv_samlog_init(s, h.size) != 0)
		log_error("cannot read back the SAM's records after the signed head");
	if (recovered > 0) {
		snprintf(detail, sizeof(detail), "%llu records after the last signed checkpoint "
		         "(size %llu) were read back from the database and are being checkpointed",
		         (unsigned long long)recovered, (unsigned long long)h.size);
		log_warn("%s", detail);
		audit_system(s, "audit.recovered", AUDIT_SUCCESS, detail);
	}
	if (foreign > 0) {
		snprintf(detail, sizeof(detail), "%llu records after seq %llu appeared in the database "
		         "while inkand was stopped; they are not signed (run inkan audit verify)",
		         (unsigned long long)foreign, (unsigned long long)h.size);
		log_error("%s", detail);
		audit_system(s, "audit.integrity", "failure", detail);
	}
	snprintf(detail, sizeof(detail), "audit_checkpoint_interval=%lld audit_clock_tolerance=%lld "
	         "audit_retention=%lld audit_refusal_interval=%lld audit_refusal_burst=%lld",
	         (long long)s->cfg.audit_checkpoint_interval, (long long)s->cfg.audit_clock_tolerance,
	         (long long)s->cfg.audit_retention, (long long)s->cfg.audit_refusal_interval,
	         (long long)s->cfg.audit_refusal_burst);
	audit_system(s, "audit.parameters", AUDIT_SUCCESS, detail);
	/* the configuration in force, by its hash: a change shows as a new value */
	if (ink_read_file(config, 1 << 20, &text, &len) == 0) {
		SHA256((const uint8_t *)text, len, dig);
		hex_encode(dig, sizeof(dig), hex);
		snprintf(detail, sizeof(detail), "sha256 %s", hex);
		audit_system(s, "config.loaded", AUDIT_SUCCESS, detail);
		free(text);
	}
	/* A signer that cannot sign (its log key sealed under another master key until a backup
	 * is restored) does not stop the service: every record is still durable, and the
	 * failure is logged and audited at each attempt. */
	if ((r = srv_samlog_pull(s)) != 0 || (r = audit_checkpoint(s->st, NULL)) != 0) {
		log_error("audit checkpoint failed: %s", ink_err_str(r));
		audit_system(s, "audit.checkpoint", "failure", ink_err_str(r));
	}
	return 0;
}

static enum ink_log_level
level_of(const char *name)
{
	if (strcmp(name, "debug") == 0)
		return INK_LOG_DEBUG;
	if (strcmp(name, "warn") == 0)
		return INK_LOG_WARN;
	if (strcmp(name, "error") == 0)
		return INK_LOG_ERROR;
	return INK_LOG_INFO;
}

/* Reads a PEM file named relative to inkand's directory (DATA/inkand) unless absolute. */
static int
read_pem(const char *data, const char *name, char **out)
{
	char path[1024];
	int r;

	if ((r = ink_srv_path(path, sizeof(path), data, name)) != 0)
		return r;
	if ((r = ink_read_file(path, 1 << 20, out, NULL)) != 0)
		log_error("cannot read %s: %s", path, ink_err_str(r));
	return r;
}

/* SAM channels: signHash requests on this many at once are signed side by side (the SAM
 * also spreads each batch over the cores). `threads`, and at least one per core, plus one for
 * each Argon2id run that may be under way in the SAM (argon2_slots): a signature never waits
 * for a channel that a PIN stretching holds. */
static size_t
sam_channels(const struct ink_config *cfg)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = (size_t)cfg->threads;

	if (cores > 0 && (size_t)cores > n)
		n = (size_t)cores;
	n += config_slots(cfg->argon2_slots);
	return n < 2 ? 2 : n > SAM_CHANNELS_MAX ? SAM_CHANNELS_MAX : n;
}

int
main(int argc, char **argv)
{
	struct srv s;
	struct srv_privsep ps;
	const char *data = NULL, *config = NULL, *listen = NULL;
	char path[1024], cfgpath[1024], err[512], sam_path[1024];
	bool plain = false, ckpt_started = false;
	pthread_t ckpt_thread;
	sigset_t sigs;
	int i, sig, r, rsam, rc = 1;

	memset(&s, 0, sizeof(s));
	s.started_at = ink_now();
	secmem_harden_process();
	/* A fixed mmap threshold, as in inkan-sam: large temporary buffers (request bodies,
	 * validations) go back to the system when freed instead of staying in the heap. */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* Secrets in requests (a SAD, PIN or OTP field, ...) are small secmem blocks: from one
	 * locked heap they cost no mmap/mlock/munmap per request. */
	(void)CRYPTO_secure_malloc_init(1 << 20, 16);
	secmem_json_wipe_on_free();
	ink_log_init("inkand", INK_LOG_INFO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--plain-http") == 0)
			plain = true;
		else if (strcmp(argv[i], "--settings") == 0)
			/* Not in the usage: the settings table, for the inkan.conf(5) manual page. */
			return config_print_table(stdout) == 0 ? 0 : 1;
		else if (strcmp(argv[i], "--routes") == 0) {
			/* Not in the usage: the routing table, for the OpenAPI coverage test. */
			srv_routes_print(stdout);
			return fflush(stdout) == 0 ? 0 : 1;
		}
		else
			usage();
	}
	if (data == NULL)
		usage();
	config_defaults(&s.cfg, data);
	if (config == NULL) {
		if (ink_path(cfgpath, sizeof(cfgpath), data, "inkan.conf") != 0)
			usage();
		config = cfgpath;
	}
	if ((r = config_load(&s.cfg, config, err, sizeof(err))) != 0) {
		fprintf(stderr, "inkand: %s\n", err);
		return 1;
	}
	if ((listen != NULL && config_set(&s.cfg, "listen_signer", listen, err, sizeof(err)) != 0)) {
		fprintf(stderr, "inkand: --listen: %s\n", err);
		return 1;
	}
	if (plain)
		s.cfg.plain_http = true;
	ink_alert_init("inkand", s.cfg.alert_journal_socket, s.cfg.alert_syslog_socket);
	/* nothing runs on a configuration that contradicts its assurance level */
	if (policy_check_config(&s.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "inkand: %s\n", err);
		return 1;
	}
	ink_log_init("inkand", level_of(s.cfg.log_level));

	/* Signals are taken by sigwait in this thread only; every later thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	/* As root: bring the data directory to its layout, hand it over and start inkan-sam as
	 * its own user; then become inkand's user before reading a key or opening a database. */
	if ((r = srv_privsep_plan(&s.cfg, &ps)) != 0 ||
	    (r = srv_privsep_data(&ps, data, config)) != 0)
		goto out;
	if ((rsam = ink_exe_sibling("inkan-sam", "INKAN_SAM", sam_path, sizeof(sam_path))) == 0)
		rsam = sam_client_spawn_as(sam_path, data, config, sam_channels(&s.cfg), ps.sam_uid,
		                           ps.sam_gid, &s.sam);
	if ((r = srv_privsep_drop(&ps)) != 0)
		goto out;
	if (!s.cfg.plain_http && ((r = read_pem(data, s.cfg.tls_cert, &s.tls_cert)) != 0 ||
	                          (r = read_pem(data, s.cfg.tls_key, &s.tls_key)) != 0))
		goto out;
	/* a URI is not repeated in the log: a mistaken one could hold a password */
	if ((r = ink_database_uri(&s.cfg, data, path, sizeof(path))) != 0 ||
	    (r = store_open(path, &s.st)) != 0) {
		log_error("cannot open the database %s: %s", s.cfg.database[0] != '\0' ?
		          "of the database setting" : path, ink_err_str(r));
		goto out;
	}
	if ((r = rsam) != 0) {
		log_error("cannot start inkan-sam: %s", ink_err_str(r));
		audit_system(&s, "service.start", "failure", "inkan-sam did not start");
		goto out;
	}
	sam_client_set_death_hook(s.sam, on_sam_death, &s);
	if ((r = audit_start(&s, config)) != 0) {
		ink_alert(INK_ALERT_AUDIT, "the audit log could not start (%s): inkand stops", ink_err_str(r));
		audit_system(&s, "service.start", "failure", "the audit log could not start");
		goto out;
	}
	if ((r = audit_refusals_new(s.st, s.cfg.audit_refusal_interval,
	                            (unsigned)s.cfg.audit_refusal_burst, REFUSAL_SOURCES,
	                            &s.refusals)) != 0 ||
	    (r = srv_rate_new(s.cfg.tsa_rate, s.cfg.tsa_client_rate, TSA_CLIENTS, &s.tsa_rate)) != 0 ||
	    (r = srv_rate_new(s.cfg.ocsp_rate, s.cfg.ocsp_client_rate, TSA_CLIENTS, &s.ocsp_rate)) != 0) {
		log_error("cannot set up the refusal counts and rate limits: %s", ink_err_str(r));
		goto out;
	}
	ink_clock_mark(&clock_mark);
	clock_watch(&s);
	if ((r = pthread_create(&ckpt_thread, NULL, checkpoint_loop, &s)) != 0) {
		log_error("cannot start the checkpoint thread");
		goto out;
	}
	ckpt_started = true;
	s.actx.st = s.st;
	s.actx.sam = s.sam;
	s.actx.cfg = &s.cfg;
	s.actx.refusals = s.refusals;
	oauth_state_prune(&s);
	if ((r = srv_listen(&s)) != 0) {
		audit_system(&s, "service.start", "failure", "cannot listen");
		goto out;
	}
	audit_system(&s, "service.start", AUDIT_SUCCESS, NULL);
	log_info("inkand ready (data %s)", data);
	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("SIGHUP ignored: restart inkand to change its configuration");
			continue;
		}
		break;
	}
	log_info("stopping on signal %d", sig);
	srv_stop(&s);
	/* no request comes any more: the refusals counted so far, before the stop's record */
	(void)refusals_flush(&s, true);
	audit_system(&s, "service.stop", AUDIT_SUCCESS, NULL);
	rc = 0;
out:
	srv_stop(&s);
	(void)refusals_flush(&s, true);
	if (ckpt_started) {
		pthread_mutex_lock(&ckpt_mu);
		ckpt_stop = true;
		pthread_cond_broadcast(&ckpt_cv);
		pthread_mutex_unlock(&ckpt_mu);
		pthread_join(ckpt_thread, NULL);
		/* the last checkpoint covers service.stop and the SAM's own record of the log's close:
		 * the SAM marks a clean stop only then */
		ckpt_final = true;
		if ((r = sam_log_close(s.sam)) == 0 && (r = srv_samlog_pull(&s)) == 0)
			r = final_checkpoint(&s);
		if (r != 0) {
			log_error("final audit checkpoint failed: %s", ink_err_str(r));
			rc = 1;
		}
	}
	audit_log_stop();
	audit_refusals_free(s.refusals);
	srv_rate_free(s.tsa_rate);
	srv_rate_free(s.ocsp_rate);
	sam_client_free(s.sam);
	store_close(s.st);
	if (s.tls_key != NULL) {
		explicit_bzero(s.tls_key, strlen(s.tls_key));
		free(s.tls_key);
	}
	free(s.tls_cert);
	return rc;
}
