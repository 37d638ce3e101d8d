/* datadir: the data directory's layout — DATA/inkan.conf, DATA/sam/ and DATA/ca/ on the SAM's
 * side, everything inkand writes in DATA/inkand/ — and the move from the old layout, which kept
 * inkand's files at DATA's top where inkand's user could also replace the SAM's configuration. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What the old layout kept at DATA's top, in the order it moves: the database last, so that
 * until it has moved the next start sees an old layout and finishes the move. */
static const char *const old_names[] = {
	"inkan.db-journal", "inkan.db-wal", "inkan.db-shm", "tls", "audit-archive", "inkan.db",
};

/* Links that keep the automation interface (README): clients read DATA/inkand.addr and trust
 * DATA/tls/cert.pem. Only root (or the single user without privilege separation) can make or
 * change them, as DATA is theirs; nothing of inkan's that runs as root resolves them. */
static const struct {
	const char *name, *target;
} compat_links[] = {
	{ "tls", INK_SRV_DIR "/tls" },
	{ "inkand.addr", INK_SRV_DIR "/inkand.addr" },
};

int
ink_srv_path(char *out, size_t outsz, const char *data, const char *name)
{
	int n;

	if (name[0] == '/')
		n = snprintf(out, outsz, "%s", name);
	else
		n = snprintf(out, outsz, "%s/" INK_SRV_DIR "/%s", data, name);
	if (n < 0 || (size_t)n >= outsz)
		return INK_ERR_TOO_LARGE;
	return 0;
}

int
ink_database_uri(const struct ink_config *cfg, const char *data, char *out, size_t outsz)
{
	if (cfg->database[0] == '\0')
		return ink_srv_path(out, outsz, data, "inkan.db");
	if (strlen(cfg->database) >= outsz)
		return INK_ERR_TOO_LARGE;
	memcpy(out, cfg->database, strlen(cfg->database) + 1);
	return 0;
}

static bool
is_compat_link(const char *name)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(compat_links); i++)
		if (strcmp(compat_links[i].name, name) == 0)
			return true;
	return false;
}

/* Moves DATA/name (dfd) into DATA/inkand/ (sfd) in one rename, unless it is not there. */
static int
move_old(int dfd, int sfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		log_error("DATA/%s: %s", name, strerror(errno));
		return INK_ERR_IO;
	}
	if (S_ISLNK(st.st_mode)) {
		if (is_compat_link(name))
			return 0;
		log_error("DATA/%s is a link: move what it names into DATA/" INK_SRV_DIR "/ by hand",
		          name);
		return INK_ERR_CONFIG;
	}
	if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		log_error("both DATA/%s and DATA/" INK_SRV_DIR "/%s exist: keep the right one and "
		          "start again", name, name);
		return INK_ERR_EXISTS;
	}
	if (renameat(dfd, name, sfd, name) != 0) {
		log_error("cannot move DATA/%s into DATA/" INK_SRV_DIR "/: %s", name, strerror(errno));
		return INK_ERR_IO;
	}
	log_info("moved DATA/%s to DATA/" INK_SRV_DIR "/%s (inkand's files have a directory of "
	         "their own)", name, name);
	return 0;
}

/* Makes DATA/name a link to target; an old address file or a link elsewhere is replaced. */
static int
make_link(int dfd, const char *name, const char *target)
{
	char have[256];
	bool stale = false;
	ssize_t n;

	if ((n = readlinkat(dfd, name, have, sizeof(have) - 1)) >= 0) {
		have[n] = '\0';
		if (strcmp(have, target) == 0)
			return 0;
		stale = true;
	} else if (errno == EINVAL && strcmp(name, "inkand.addr") == 0) {
		stale = true;   /* the old layout's address file: out of date anyway */
	} else if (errno != ENOENT) {
		/* anything else in a link's place was moved (or refused) before */
		log_error("DATA/%s: %s", name, errno == EINVAL ? "not a link" : strerror(errno));
		return INK_ERR_CONFIG;
	}
	if (stale && unlinkat(dfd, name, 0) != 0) {
		log_error("DATA/%s: %s", name, strerror(errno));
		return INK_ERR_IO;
	}
	if (symlinkat(target, dfd, name) != 0) {
		log_error("cannot link DATA/%s to %s: %s", name, target, strerror(errno));
		return INK_ERR_IO;
	}
	return 0;
}

int
ink_datadir_prepare(int dfd)
{
	size_t i;
	int sfd = -1, r = INK_ERR_IO;

	if (mkdirat(dfd, INK_SRV_DIR, 0700) != 0 && errno != EEXIST) {
		log_error("cannot create DATA/" INK_SRV_DIR ": %s", strerror(errno));
		return INK_ERR_IO;
	}
	if ((sfd = openat(dfd, INK_SRV_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_error("DATA/" INK_SRV_DIR ": %s (it must be a directory, not a link)",
		          strerror(errno));
		return INK_ERR_CONFIG;
	}
	for (i = 0; i < INK_ARRAY_LEN(old_names); i++)
		if ((r = move_old(dfd, sfd, old_names[i])) != 0)
			goto out;
	/* The last run's addresses: readers wait for the file, they must not find stale ones. */
	if (unlinkat(sfd, "inkand.addr", 0) != 0 && errno != ENOENT) {
		log_error("DATA/" INK_SRV_DIR "/inkand.addr: %s", strerror(errno));
		r = INK_ERR_IO;
		goto out;
	}
	for (i = 0; i < INK_ARRAY_LEN(compat_links); i++)
		if ((r = make_link(dfd, compat_links[i].name, compat_links[i].target)) != 0)
			goto out;
	/* Durable before the database is opened in its new place. */
	if (fsync(sfd) != 0 || fsync(dfd) != 0) {
		log_error("cannot sync the data directory: %s", strerror(errno));
		r = INK_ERR_IO;
		goto out;
	}
	r = 0;
out:
	close(sfd);
	return r;
}
