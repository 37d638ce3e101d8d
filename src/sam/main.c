/* inkan-sam: the signature activation module process. Started by inkand over socketpairs
 * (--fd N[,N...] --data DIR: one per channel), once by `inkan init` to create the key store
 * and CA (--init --data DIR),
 * once by `inkan init --join` on a node joining a shared key store (--join --data DIR),
 * and by security officers for the master key shares (--master-split, --master-join).
 * Whatever the mode, it refuses a data directory or configuration that anyone but root or
 * its own user could change. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/keys.h"
#include "policy/policy.h"
#include "sam/sam.h"

static void
usage(void)
{
	fprintf(stderr, "usage: inkan-sam --init --data DIR [--config FILE] [--token-fd N]\n"
	                "       inkan-sam --join --data DIR [--config FILE]   (a node of a shared key store)\n"
	                "       inkan-sam --fd N[,N...] --data DIR [--config FILE]   (started by inkand)\n"
	                "       inkan-sam --master-split K N --data DIR       (prints N shares, any K rebuild)\n"
	                "       inkan-sam --master-join --data DIR            (reads shares from stdin)\n"
	                "       inkan-sam --accept-rollback --data DIR        (after a database recovery)\n");
	exit(2);
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

/* "3,4,5": the channels' descriptors inkand left open for us (at least one, no repeats). */
static size_t
fd_list(const char *s, int fds[static SAM_CHANNELS_MAX])
{
	char buf[16];
	size_t n = 0, len, i;

	while (*s != '\0') {
		len = strcspn(s, ",");
		if (len == 0 || len >= sizeof(buf) || n == SAM_CHANNELS_MAX)
			usage();
		memcpy(buf, s, len);
		buf[len] = '\0';
		fds[n] = (int)number(buf, 3, INT_MAX);
		for (i = 0; i < n; i++)
			if (fds[i] == fds[n])
				usage();
		n++;
		s += len;
		if (*s == ',' && *++s == '\0')
			usage();
	}
	if (n == 0)
		usage();
	return n;
}

/* The SAM reads its settings, keys and certificates only from places that nobody but root or
 * its own user can change: were inkand's user able to swap the configuration, it could have
 * the SAM load a PKCS#11 module of its own, or send a file of the key store as a token PIN.
 * On success canon holds path with its links resolved; INK_ERR_NOT_FOUND if it is missing. */
static int
trusted(const char *what, const char *path, char *canon, size_t canonsz)
{
	char why[PATH_MAX + 128];
	int r;

	r = ink_path_trusted(path, geteuid(), INK_TRUST_STICKY, canon, canonsz, why, sizeof(why));
	if (r != 0 && r != INK_ERR_NOT_FOUND)
		log_error("%s %s: %s; refusing to start", what, path, why);
	return r;
}

/* The data directory, DATA/sam and DATA/ca (when they exist) and the configuration (when it
 * exists) must be trusted; data[] and config[] then name them by their resolved paths. */
static int
trusted_paths(char data[static PATH_MAX], char config[static PATH_MAX])
{
	static const char *const subdirs[][2] = {
		{ "sam", "the key store's directory" }, { "ca", "the CA's directory" },
	};
	char path[PATH_MAX], canon[PATH_MAX];
	size_t i;
	int r;

	if ((r = trusted("the data directory", data, canon, sizeof(canon))) != 0) {
		if (r == INK_ERR_NOT_FOUND)
			log_error("the data directory %s does not exist", data);
		return r;
	}
	memcpy(data, canon, strlen(canon) + 1);
	for (i = 0; i < INK_ARRAY_LEN(subdirs); i++) {
		if ((r = ink_path(path, sizeof(path), data, subdirs[i][0])) != 0)
			return r;
		if ((r = trusted(subdirs[i][1], path, canon, sizeof(canon))) != 0 &&
		    r != INK_ERR_NOT_FOUND)
			return r;
	}
	if ((r = trusted("the configuration", config, canon, sizeof(canon))) == INK_ERR_NOT_FOUND)
		return 0;   /* config_load says whether that is fine */
	if (r == 0)
		memcpy(config, canon, strlen(canon) + 1);
	return r;
}

static int
master_split(const struct ink_config *cfg, int k, int n)
{
	char dir[1024], shares[16][KEYS_SHARE_MAX];
	struct keys *keys = NULL;
	int i, r;

	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0 ||
	    (r = keys_open(dir, &keys)) != 0)
		return r;
	if ((r = keys_master_split(keys, k, n, shares)) == 0) {
		/* Each share goes to a different custodian; none is logged or stored. */
		for (i = 0; i < n; i++)
			printf("%s\n", shares[i]);
		fflush(stdout);
	}
	OPENSSL_cleanse(shares, sizeof(shares));
	keys_close(keys);
	return r;
}

static int
master_join(const struct ink_config *cfg)
{
	char dir[1024], *lines[16] = { NULL }, buf[KEYS_SHARE_MAX + 2];
	uint8_t *master = NULL;
	size_t n = 0, i, len;
	int r;

	if ((master = secmem_alloc(KEYS_MASTER_LEN)) == NULL)
		return INK_ERR_ALLOC;
	while (n < 16 && fgets(buf, sizeof(buf), stdin) != NULL) {
		len = strcspn(buf, "\r\n");
		buf[len] = '\0';
		if (len == 0)
			continue;
		if ((lines[n] = secmem_strdup(buf)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		n++;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if ((r = ink_path(dir, sizeof(dir), cfg->data_dir, "sam")) != 0)
		goto out;
	/* No shares (a node whose key was copied by the custodians, or a PKCS#11 token's): the
	 * master key already here must open the key store, its check value included. */
	if (n == 0) {
		struct keys *k = NULL;

		if ((r = keys_open(dir, &k)) == 0)
			log_info("no shares given: the master key here opens the key store");
		keys_close(k);
		goto out;
	}
	if ((r = keys_master_combine((const char *const *)lines, n, master)) != 0 ||
	    (r = keys_master_install(dir, master)) != 0)
		goto out;
out:
	for (i = 0; i < n; i++)
		secmem_free(lines[i]);
	secmem_free(master);
	return r;
}

int
main(int argc, char **argv)
{
	struct ink_config cfg;
	const char *data_arg = NULL, *config_arg = NULL;
	char data[PATH_MAX], config[PATH_MAX], err[512];
	bool init = false, join = false, node = false, accept = false;
	long split_k = 0, split_n = 0;
	int fds[SAM_CHANNELS_MAX];
	size_t nfds = 0, k;
	int i, r, token_fd = -1;

	secmem_harden_process();
	/* A fixed mmap threshold: glibc would raise it each time a large block is freed, after
	 * which large temporary buffers come from the heap and their pages stay — the SAM's
	 * memory then stepped up by 10-20 MiB at a time under load (docs/performance.md). */
	(void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* OpenSSL keeps private key numbers in its own locked heap, and so do we the small
	 * secmem blocks (a request's KEK and decrypted key): 64 channels signing at once fit. */
	(void)CRYPTO_secure_malloc_init(4 << 20, 16);
	ink_log_init("inkan-sam", INK_LOG_INFO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--init") == 0)
			init = true;
		else if (strcmp(argv[i], "--join") == 0)
			node = true;
		else if (strcmp(argv[i], "--master-join") == 0)
			join = true;
		else if (strcmp(argv[i], "--accept-rollback") == 0)
			accept = true;
		else if (strcmp(argv[i], "--master-split") == 0 && i + 2 < argc) {
			split_k = number(argv[++i], 2, 16);
			split_n = number(argv[++i], 2, 16);
		} else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data_arg = argv[++i];
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_arg = argv[++i];
		else if (strcmp(argv[i], "--token-fd") == 0 && i + 1 < argc && token_fd < 0)
			token_fd = (int)number(argv[++i], 3, INT_MAX);
		else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc && nfds == 0)
			nfds = fd_list(argv[++i], fds);
		else
			usage();
	}
	if (data_arg == NULL || (int)init + (int)node + (int)join + (int)accept + (split_k > 0) + (nfds > 0) != 1 ||
	    (token_fd >= 0 && !init))
		usage();
	if (snprintf(data, sizeof(data), "%s", data_arg) >= (int)sizeof(data))
		usage();
	if (config_arg == NULL ? ink_path(config, sizeof(config), data, "inkan.conf") != 0 :
	    snprintf(config, sizeof(config), "%s", config_arg) >= (int)sizeof(config))
		usage();
	if ((r = trusted_paths(data, config)) == 0 && strlen(data) >= sizeof(cfg.data_dir))
		r = INK_ERR_TOO_LARGE;
	if (r != 0) {
		fprintf(stderr, "inkan-sam: %s\n", ink_err_str(r));
		return 1;
	}
	config_defaults(&cfg, data);
	r = config_load(&cfg, config, err, sizeof(err));
	if (r != 0 && !(r == INK_ERR_NOT_FOUND && !init && !node && nfds == 0)) {
		fprintf(stderr, "inkan-sam: %s\n", err);
		return 1;
	}
	ink_alert_init("inkan-sam", cfg.alert_journal_socket, cfg.alert_syslog_socket);
	/* the SAM reads its level itself: nothing runs on a configuration contradicting it */
	if (policy_check_config(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "inkan-sam: %s\n", err);
		return 1;
	}
	if (init) {
		r = sam_init(&cfg, token_fd);
		if (token_fd >= 0)
			close(token_fd);
	}
	else if (node)
		r = sam_join(&cfg);
	else if (join)
		r = master_join(&cfg);
	else if (accept)
		r = sam_accept_rollback(&cfg);
	else if (split_k > 0)
		r = master_split(&cfg, (int)split_k, (int)split_n);
	else {
		r = sam_serve(fds, nfds, &cfg);
		for (k = 0; k < nfds; k++)
			close(fds[k]);
	}
	if (r != 0)
		fprintf(stderr, "inkan-sam: %s\n", ink_err_str(r));
	return r == 0 ? 0 : 1;
}
