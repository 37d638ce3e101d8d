/* init: creates a data directory (configuration, SAM key store; inkand's TLS certificate and
 * database in DIR/inkand/) and the first security officer; or (--join) a further node's data
 * directory for a service whose database and key store are shared (PostgreSQL). Needs no
 * server. */
#include "cli/cli.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "ca/ca.h"
#include "sam/sam.h"
#include "store/store.h"

#define INIT_USAGE "init --data DIR [--config FILE] [--officer NAME] [--json]\n" \
	"       inkan init --join --data DIR [--config FILE] [--json]   (the master key's shares " \
	"on stdin when this node has no copy of it)"
#define TLS_CERT_DAYS 825

/* Runs `inkan-sam MODE --data dir [--config config]` and waits (MODE --init: the SAM makes its
 * own master key and key store; --join, --master-join: it checks them): this process never
 * opens them. The child inherits stdin (the shares of --master-join go to it directly). With
 * token (--init): the one-time token for the first security officer comes back on a pipe
 * (--token-fd), never through a file. */
static int
run_sam(struct cli_ctx *c, const char *sam_path, const char *mode, const char *dir,
        const char *config, char **token, size_t *toklen)
{
	char fdarg[16], *args[9];
	int pfd[2] = { -1, -1 }, n = 0, status = 0, rr = 0;
	pid_t pid;

	args[n++] = (char *)sam_path;
	args[n++] = (char *)mode;
	args[n++] = (char *)"--data";
	args[n++] = (char *)dir;
	if (config != NULL) {
		args[n++] = (char *)"--config";
		args[n++] = (char *)config;
	}
	if (token != NULL) {
		*token = NULL;
		*toklen = 0;
		if (pipe(pfd) != 0)
			return cli_fail(c, INK_ERR_IO, "pipe: %s", strerror(errno));
		snprintf(fdarg, sizeof(fdarg), "%d", pfd[1]);
		args[n++] = (char *)"--token-fd";
		args[n++] = fdarg;
	}
	args[n] = NULL;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		rr = errno;
		if (token != NULL) {
			close(pfd[0]);
			close(pfd[1]);
		}
		return cli_fail(c, INK_ERR_IO, "fork: %s", strerror(rr));
	}
	if (pid == 0) {
		if (token != NULL)
			close(pfd[0]);
		execv(sam_path, args);
		fprintf(stderr, "inkan: cannot run %s: %s\n", sam_path, strerror(errno));
		_exit(127);
	}
	if (token != NULL) {
		/* read to the end (the child's exit closes it), then wait */
		close(pfd[1]);
		rr = ink_read_fd(pfd[0], 128, token, toklen);
		close(pfd[0]);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return cli_fail(c, INK_ERR_IO, "waitpid: %s", strerror(errno));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (token == NULL || (rr == 0 && *toklen > 0))
			return 0;
		return cli_fail(c, rr != 0 ? rr : INK_ERR_INTERNAL, "%s %s gave no bootstrap token",
		                sam_path, mode);
	}
	if (WIFEXITED(status))
		return cli_fail(c, INK_ERR_INTERNAL, "%s %s failed (exit status %d)", sam_path, mode,
		                WEXITSTATUS(status));
	return cli_fail(c, INK_ERR_INTERNAL, "%s %s killed by signal %d", sam_path, mode,
	                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The fingerprint of the audit log key, as the SAM that holds it reports it. */
static int
log_key_fingerprint(struct sam_client *sam, char out[static AUDIT_FPR_HEX])
{
	struct audit_head h;
	uint8_t *spki = NULL;
	size_t len = 0;
	bool closed = false;
	int r;

	if ((r = sam_log_head(sam, &h, &closed, &spki, &len)) == 0)
		audit_key_fingerprint(spki, len, out);
	free(spki);
	return r;
}

static int
print_json_result(const char *officer, const struct auth_new_secrets *s, const char *fpr)
{
	json_t *j = NULL;
	int r;

	j = json_pack("{s:{s:s, s:s, s:s, s:s}, s:s}", "security_officer", "username", officer,
	              "password", s->password, "totp_secret", s->totp_seed_b32, "otpauth_uri",
	              s->otpauth_uri, "audit_log_key_sha256", fpr);
	if (j == NULL)
		return INK_ERR_ALLOC;
	r = cli_print_json(j);
	json_decref(j);
	return r;
}

static void
print_human_result(const char *dir, const char *officer, const struct auth_new_secrets *s,
                   const char *fpr)
{
	printf("Initialised %s; first security officer: %s\n\n", dir, officer);
	cli_print_secrets(officer, s->password, s->totp_seed_b32, s->otpauth_uri);
	printf("\nAudit log key (SHA-256 of its public key; keep it where auditors find it, they\n"
	       "verify with `inkan audit verify FILE --fingerprint` and this value):\n  %s\n", fpr);
	printf("\nNext steps:\n"
	       "  1. Add the TOTP secret to an authenticator app.\n"
	       "  2. Start the server:        inkand --data %s\n"
	       "  3. Log in:                  inkan --cacert %s/tls/cert.pem login %s\n"
	       "  4. Change the password:     inkan passwd\n"
	       "  5. Create the other officers with `inkan user add`; each enrols their own\n"
	       "     TOTP seed at their first login (`inkan login --first`, `inkan enrol`).\n",
	       dir, dir, officer);
}

/* Opens (creating) inkand's database into *out; refuses one that has accounts already. */
static int
open_empty_store(struct cli_ctx *c, const struct ink_config *cfg, const char *dir,
                 struct store **out)
{
	struct store_user *users = NULL;
	struct store *st = NULL;
	char path[1024];
	size_t n = 0;
	int r;

	*out = NULL;
	if ((r = ink_database_uri(cfg, dir, path, sizeof(path))) != 0)
		return cli_fail(c, r, "database path too long");
	/* a URI is not repeated: a mistaken one could hold a password */
	if ((r = store_open(path, &st)) != 0)
		return cli_fail(c, r, "cannot create %s: %s", cfg->database[0] != '\0' ?
		                "the database of the database setting" : path, ink_err_str(r));
	if ((r = st->ops->user_list(st, &users, &n)) != 0 || n != 0) {
		r = cli_fail(c, r != 0 ? r : INK_ERR_EXISTS, r != 0 ? "cannot read the database" :
		             "the database has accounts already: refusing to initialise again");
		store_users_free(users, n);
		store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

/* inkand's own directory, the links DIR/tls and DIR/inkand.addr into it, and its own TLS
 * certificate (each node has its own). */
static int
make_inkand_dir(struct cli_ctx *c, const char *dir)
{
	char path[1024], cert[1024], key[1024];
	int r, dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cli_fail(c, INK_ERR_IO, "%s: %s", dir, strerror(errno));
	r = ink_datadir_prepare(dfd);
	close(dfd);
	if (r != 0)
		return cli_fail(c, r, "cannot lay out %s: %s", dir, ink_err_str(r));
	if ((r = ink_srv_path(path, sizeof(path), dir, "tls")) != 0 ||
	    (r = ink_path(cert, sizeof(cert), path, "cert.pem")) != 0 ||
	    (r = ink_path(key, sizeof(key), path, "key.pem")) != 0)
		return r;
	if ((r = ink_mkdir(path, 0700)) != 0)
		return cli_fail(c, r, "cannot create %s: %s", path, strerror(errno));
	if ((r = ca_make_tls_cert(cert, key, TLS_CERT_DAYS)) != 0)
		return cli_fail(c, r, "cannot make the TLS certificate: %s", ink_err_str(r));
	return 0;
}

/* `inkan init --join`: a further node of a service on PostgreSQL. The database (the database
 * setting) and the key store (its URI and passfile in inkan-sam's directory) exist and have
 * served; this node gets its copy of the master key (inkan-sam --master-join, shares on stdin;
 * with none, inkan-sam checks the key it already has: copied by the custodians, or a PKCS#11
 * token's node), which inkan-sam --join checks against the key store's check value, then the
 * CA's and the audit log key's public files, inkand's directory and its own TLS certificate.
 * No CA, master key, TSA, audit log key or account is made. This process opens none of the
 * key store's files. */
static int
init_join(struct cli_ctx *c, const struct ink_config *cfg, const char *dir, const char *config,
          const char *sam_path)
{
	struct store_user *users = NULL;
	struct sam_client *sam = NULL;
	struct store *st = NULL;
	char fpr[AUDIT_FPR_HEX];
	size_t n = 0;
	json_t *j = NULL;
	int r;

	if (strncmp(cfg->database, "postgresql://", 13) != 0 &&
	    strncmp(cfg->database, "postgres://", 11) != 0)
		return cli_fail(c, CLI_ERR_USAGE, "--join needs the service's shared database: a "
		                "postgresql:// database setting in the configuration");
	/* the service's database, with its accounts: nothing here makes one */
	if ((r = store_open(cfg->database, &st)) != 0)
		return cli_fail(c, r, "cannot open the database of the database setting: %s",
		                ink_err_str(r));
	r = st->ops->user_list(st, &users, &n);
	store_users_free(users, n);
	store_close(st);
	if (r != 0 || n == 0)
		return cli_fail(c, r != 0 ? r : INK_ERR_NOT_FOUND, r != 0 ? "cannot read the database" :
		                "the database has no accounts: no service to join (inkan init "
		                "without --join makes one)");
	/* the key store and the master key are inkan-sam's to read: the shares on stdin (none: the
	 * key already in DIR/sam), checked against the key store's check value */
	if ((r = run_sam(c, sam_path, "--master-join", dir, config, NULL, NULL)) != 0)
		return r;
	if ((r = run_sam(c, sam_path, "--join", dir, config, NULL, NULL)) != 0)
		return r;
	if ((r = make_inkand_dir(c, dir)) != 0)
		return r;
	if ((r = sam_client_spawn(sam_path, dir, config, &sam)) != 0)
		return cli_fail(c, r, "cannot start %s: %s", sam_path, ink_err_str(r));
	r = log_key_fingerprint(sam, fpr);
	sam_client_free(sam);
	if (r != 0)
		return cli_fail(c, r, "cannot read the audit log key: %s", ink_err_str(r));
	if (c->json) {
		if ((j = json_pack("{s:b, s:s}", "joined", 1, "audit_log_key_sha256", fpr)) == NULL)
			return INK_ERR_ALLOC;
		r = cli_print_json(j);
		json_decref(j);
		return r;
	}
	printf("Joined %s to the service: the key store's master key, CA and audit log key.\n"
	       "Audit log key (SHA-256 of its public key; the same on every node):\n  %s\n"
	       "Start it with: inkand --data %s%s%s\n", dir, fpr, dir, config != NULL ?
	       " --config " : "", config != NULL ? config : "");
	return 0;
}

int
cmd_init(struct cli_ctx *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "officer", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "join", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ink_config cfg;
	struct auth_new_secrets secrets;
	struct auth_ctx actx = { 0 };
	struct store *st = NULL;
	struct sam_client *sam = NULL;
	const char *dir = NULL, *config = NULL, *officer = "officer";
	char path[1024], sam_path[1024], jconf[1024], *token = NULL;
	char fpr[AUDIT_FPR_HEX], err[512];
	struct stat sb;
	size_t toklen = 0;
	bool join = false;
	int ch, i, r;

	memset(&secrets, 0, sizeof(secrets));
	memset(&cfg, 0, sizeof(cfg));
	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'o':
			officer = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'J':
			join = true;
			break;
		case 'h':
			printf("usage: inkan %s\n", INIT_USAGE);
			return 0;
		default:
			return cli_usage(INIT_USAGE);
		}
	}
	if (dir == NULL || *dir == '\0' || optind != argc)
		return cli_usage(INIT_USAGE);
	if (strlen(dir) >= sizeof(cfg.data_dir))
		return cli_fail(c, INK_ERR_TOO_LARGE, "data directory path too long");
	if (!auth_username_valid(officer))
		return cli_fail(c, CLI_ERR_USAGE, "invalid officer name (1-64 of A-Z a-z 0-9 . _ @ -)");

	/* the database in either layout (DIR/inkand/ now, DIR/ before) */
	for (i = 0; i < 2; i++) {
		if ((r = (i == 0 ? ink_srv_path : ink_path)(path, sizeof(path), dir, "inkan.db")) != 0)
			return r;
		if (lstat(path, &sb) == 0)
			return cli_fail(c, INK_ERR_EXISTS, "%s already exists: refusing to initialise "
			                "again", path);
	}
	if ((r = ink_exe_sibling("inkan-sam", "INKAN_SAM", sam_path, sizeof(sam_path))) != 0)
		return cli_fail(c, r, "cannot locate inkan-sam (set INKAN_SAM)");
	if (access(sam_path, X_OK) != 0)
		return cli_fail(c, INK_ERR_NOT_FOUND, "%s is not executable (set INKAN_SAM)", sam_path);

	/* A configuration of its own (the installed service's /etc/inkan/inkan.conf) is read
	 * before anything is made, and no DIR/inkan.conf is written that nothing would read. */
	config_defaults(&cfg, dir);
	/* a node joining: its configuration names the shared database; DIR/inkan.conf by default */
	if (join && config == NULL) {
		if ((r = ink_path(jconf, sizeof(jconf), dir, "inkan.conf")) != 0)
			return r;
		config = jconf;
	}
	if (config != NULL && (r = config_load(&cfg, config, err, sizeof(err))) != 0)
		return cli_fail(c, r, "%s", err);
	if (join)
		return init_join(c, &cfg, dir, config, sam_path);
	/* A shared database (PostgreSQL) has no file to find above: it is checked before
	 * anything is made. The SQLite file is made below, in DIR/inkand/. */
	if (cfg.database[0] != '\0' && (r = open_empty_store(c, &cfg, dir, &st)) != 0)
		goto out;
	if ((r = ink_mkdir(dir, 0700)) != 0) {
		r = cli_fail(c, r, "cannot create %s: %s", dir, strerror(errno));
		goto out;
	}
	if (config == NULL && ((r = ink_path(path, sizeof(path), dir, "inkan.conf")) != 0 ||
	                       (r = config_write_default(&cfg, path)) != 0)) {
		r = cli_fail(c, r, "cannot write %s: %s", path, ink_err_str(r));
		goto out;
	}
	if ((r = run_sam(c, sam_path, "--init", dir, config, &token, &toklen)) != 0)
		goto out;
	if ((r = make_inkand_dir(c, dir)) != 0)
		goto out;
	if (st == NULL && (r = open_empty_store(c, &cfg, dir, &st)) != 0)
		goto out;
	if ((r = sam_client_spawn(sam_path, dir, config, &sam)) != 0) {
		r = cli_fail(c, r, "cannot start %s: %s", sam_path, ink_err_str(r));
		goto out;
	}
	actx.st = st;
	actx.sam = sam;
	actx.cfg = &cfg;
	/* spends the one-time token inkan-sam --init gave */
	r = auth_bootstrap_officer(&actx, officer, token, &secrets);
	if (r != 0) {
		r = cli_fail(c, r, "cannot create the security officer: %s", ink_err_str(r));
		goto out;
	}
	if ((r = log_key_fingerprint(sam, fpr)) != 0) {
		r = cli_fail(c, r, "cannot read the audit log key: %s", ink_err_str(r));
		goto out;
	}
	if (c->json)
		r = print_json_result(officer, &secrets, fpr);
	else {
		print_human_result(dir, officer, &secrets, fpr);
		r = 0;
	}
out:
	auth_secrets_free(&secrets);
	sam_client_free(sam);
	store_close(st);
	if (token != NULL) {
		OPENSSL_cleanse(token, toklen);
		free(token);
	}
	return r;
}
