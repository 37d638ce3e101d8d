/* inkand: the HTTP server. Reads the configuration, starts inkan-sam, opens the store, listens,
 * and stops cleanly on SIGTERM/SIGINT. */
#include "server/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "sam/sam.h"

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
	audit_system(arg, "sam.died", "failure", detail);
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

/* Reads a PEM file named relative to the data directory unless absolute. */
static int
read_pem(const char *dir, const char *name, char **out)
{
	char path[1024];
	int r;

	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else if ((r = ink_path(path, sizeof(path), dir, name)) != 0)
		return r;
	if ((r = ink_read_file(path, 1 << 20, out, NULL)) != 0)
		log_error("cannot read %s: %s", path, ink_err_str(r));
	return r;
}

int
main(int argc, char **argv)
{
	struct srv s;
	struct srv_privsep ps;
	const char *data = NULL, *config = NULL, *listen = NULL;
	char path[1024], cfgpath[1024], err[512], sam_path[1024];
	bool plain = false;
	sigset_t sigs;
	int i, sig, r, rsam, rc = 1;

	memset(&s, 0, sizeof(s));
	secmem_harden_process();
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
	ink_log_init("inkand", level_of(s.cfg.log_level));

	/* Signals are taken by sigwait in this thread only; every later thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);

	/* As root: hand the data directory over and start inkan-sam as its own user; then
	 * become inkand's user before reading a key or opening a database. */
	if ((r = srv_privsep_plan(&s.cfg, &ps)) != 0 ||
	    (r = srv_privsep_own(&ps, data, config)) != 0)
		goto out;
	if ((rsam = ink_exe_sibling("inkan-sam", "INKAN_SAM", sam_path, sizeof(sam_path))) == 0)
		rsam = sam_client_spawn_as(sam_path, data, config, ps.sam_uid, ps.sam_gid, &s.sam);
	if ((r = srv_privsep_drop(&ps)) != 0)
		goto out;
	if (!s.cfg.plain_http && ((r = read_pem(data, s.cfg.tls_cert, &s.tls_cert)) != 0 ||
	                          (r = read_pem(data, s.cfg.tls_key, &s.tls_key)) != 0))
		goto out;
	if ((r = ink_path(path, sizeof(path), data, "inkan.db")) != 0 ||
	    (r = store_open(path, &s.st)) != 0) {
		log_error("cannot open the database %s: %s", path, ink_err_str(r));
		goto out;
	}
	if ((r = rsam) != 0) {
		log_error("cannot start inkan-sam: %s", ink_err_str(r));
		audit_system(&s, "service.start", "failure", "inkan-sam did not start");
		goto out;
	}
	sam_client_set_death_hook(s.sam, on_sam_death, &s);
	s.actx.st = s.st;
	s.actx.sam = s.sam;
	s.actx.cfg = &s.cfg;
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
	audit_system(&s, "service.stop", AUDIT_SUCCESS, NULL);
	rc = 0;
out:
	srv_stop(&s);
	sam_client_free(s.sam);
	store_close(s.st);
	if (s.tls_key != NULL) {
		explicit_bzero(s.tls_key, strlen(s.tls_key));
		free(s.tls_key);
	}
	free(s.tls_cert);
	return rc;
}
