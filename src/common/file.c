/* file: whole-file reads with a cap, atomic writes with a mode, trusted paths. */
#include "common/common.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ink_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct ink_buf b;
	char chunk[4096];
	ssize_t n;
	int r = INK_ERR_IO;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	buf_init(&b, max + 1, true);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if ((r = buf_put(&b, chunk, (size_t)n)) != 0)
			goto out;
		r = INK_ERR_IO;
	}
	if ((r = buf_put_u8(&b, 0)) != 0)
		goto out;
	if (outlen != NULL)
		*outlen = b.len - 1;
	*out = (char *)b.data;
	b.data = NULL;
	r = 0;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));   /* what is read may be a secret (a token, a PIN) */
	buf_free(&b);
	return r == INK_ERR_TOO_LARGE && max > 0 ? INK_ERR_TOO_LARGE : r;
}

int
ink_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	int fd, r;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? INK_ERR_NOT_FOUND : INK_ERR_IO;
	r = ink_read_fd(fd, max, out, outlen);
	close(fd);
	return r;
}

int
ink_write_fd(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return INK_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ink_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[1024];
	int fd = -1, r = INK_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return INK_ERR_TOO_LARGE;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0)
		return INK_ERR_IO;
	if (fchmod(fd, mode) != 0 || ink_write_fd(fd, data, len) != 0)
		goto out;
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		(void)unlink(tmp);
	return r;
}

int
ink_path(char *out, size_t outsz, const char *dir, const char *name)
{
	int n = snprintf(out, outsz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outsz)
		return INK_ERR_TOO_LARGE;
	return 0;
}

int
ink_exe_sibling(const char *name, const char *env, char *out, size_t outsz)
{
	char self[1024], *slash;
	const char *e = env != NULL ? getenv(env) : NULL;
	ssize_t n;
	int r;

	if (e != NULL && *e != '\0') {
		if (strlen(e) >= outsz)
			return INK_ERR_TOO_LARGE;
		memcpy(out, e, strlen(e) + 1);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return INK_ERR_IO;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return INK_ERR_IO;
	*slash = '\0';
	if ((r = ink_path(out, outsz, self, name)) != 0)
		return r;
#ifdef INKAN_SBINDIR
	/* Installed, `inkan` is in bin/ and the daemons in sbin/ (make install, the .deb). */
	if (access(out, X_OK) != 0)
		return ink_path(out, outsz, INKAN_SBINDIR, name);
#endif
	return 0;
}

int
ink_mkdir(const char *path, unsigned mode)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return INK_ERR_IO;
	if (chmod(path, mode) != 0)
		return INK_ERR_IO;
	return 0;
}

/* ---- trusted paths ---- */

#define TRUST_LINKS_MAX 40

/* Judges one entry met on the way to the end of the path (final: the last one). */
static int
trust_entry(const char *at, const struct stat *st, uid_t uid, unsigned flags, bool final,
            char *why, size_t whysz)
{
	bool root_only = (flags & INK_TRUST_ROOT_ONLY) != 0;

	if (st->st_uid != 0 && (root_only || st->st_uid != uid)) {
		if (root_only)
			snprintf(why, whysz, "%s is owned by uid %u, not by root", at,
			         (unsigned)st->st_uid);
		else
			snprintf(why, whysz, "%s is owned by uid %u, neither root nor uid %u", at,
			         (unsigned)st->st_uid, (unsigned)uid);
		return INK_ERR_CONFIG;
	}
	if (S_ISLNK(st->st_mode))
		return 0;   /* it cannot be changed: its directory and owner are trusted */
	if (!S_ISDIR(st->st_mode) && !(final && S_ISREG(st->st_mode))) {
		snprintf(why, whysz, "%s is not %s", at, final ? "a regular file or a directory" :
		         "a directory");
		return INK_ERR_CONFIG;
	}
	/* Others may add entries to a sticky directory (/tmp), never rename or remove ours. */
	if ((st->st_mode & 022) != 0 &&
	    !((flags & INK_TRUST_STICKY) && !final && S_ISDIR(st->st_mode) &&
	      (st->st_mode & S_ISVTX) && st->st_uid == 0)) {
		snprintf(why, whysz, "%s is writable by group or others (mode %04o)", at,
		         (unsigned)(st->st_mode & 07777));
		return INK_ERR_CONFIG;
	}
	return 0;
}

int
ink_path_trusted(const char *path, uid_t uid, unsigned flags, char *canon, size_t canonsz,
                 char *why, size_t whysz)
{
	char rest[PATH_MAX], cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	const char *p, *remain;
	char *slash;
	struct stat st;
	size_t len, links = 0;
	ssize_t n;
	bool final;
	int r;

	if (canonsz > 0)
		canon[0] = '\0';
	if (whysz > 0)
		why[0] = '\0';
	if (path == NULL || *path == '\0') {
		snprintf(why, whysz, "empty path");
		return INK_ERR_CONFIG;
	}
	if (path[0] != '/' && getcwd(cur, sizeof(cur)) == NULL) {
		snprintf(why, whysz, "getcwd: %s", strerror(errno));
		return INK_ERR_IO;
	}
	if (snprintf(rest, sizeof(rest), "%s%s%s", path[0] == '/' ? "" : cur,
	             path[0] == '/' ? "" : "/", path) >= (int)sizeof(rest))
		goto too_long;
	if (lstat("/", &st) != 0) {
		snprintf(why, whysz, "/: %s", strerror(errno));
		return INK_ERR_IO;
	}
	if ((r = trust_entry("/", &st, uid, flags, false, why, whysz)) != 0)
		return r;
	cur[0] = '\0';   /* the resolved part; "" is / */
	for (;;) {
		for (p = rest; *p == '/'; p++)
			;
		if (*p == '\0')
			break;
		len = strcspn(p, "/");
		remain = p + len;
		final = remain[strspn(remain, "/")] == '\0';
		if (len == 1 && p[0] == '.') {
			memmove(rest, remain, strlen(remain) + 1);
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			/* cur has no links left in it: its parent is a plain cut */
			if ((slash = strrchr(cur, '/')) != NULL)
				*slash = '\0';
			memmove(rest, remain, strlen(remain) + 1);
			continue;
		}
		if (snprintf(next, sizeof(next), "%s/%.*s", cur, (int)len, p) >= (int)sizeof(next))
			goto too_long;
		if (lstat(next, &st) != 0) {
			snprintf(why, whysz, "%s: %s", next, strerror(errno));
			return errno == ENOENT ? INK_ERR_NOT_FOUND : INK_ERR_CONFIG;
		}
		if ((r = trust_entry(next, &st, uid, flags, final, why, whysz)) != 0)
			return r;
		if (S_ISLNK(st.st_mode)) {
			if (++links > TRUST_LINKS_MAX) {
				snprintf(why, whysz, "%s: too many links", path);
				return INK_ERR_CONFIG;
			}
			if ((n = readlink(next, target, sizeof(target) - 1)) <= 0) {
				snprintf(why, whysz, "%s: %s", next, n < 0 ? strerror(errno) : "empty link");
				return INK_ERR_CONFIG;
			}
			target[n] = '\0';
			/* the rest of the path now starts with the link's target */
			if (snprintf(next, sizeof(next), "%s/%s", target, remain) >= (int)sizeof(next))
				goto too_long;
			memcpy(rest, next, strlen(next) + 1);
			if (target[0] == '/')
				cur[0] = '\0';
			continue;
		}
		memcpy(cur, next, strlen(next) + 1);
		memmove(rest, remain, strlen(remain) + 1);
	}
	if (snprintf(canon, canonsz, "%s", cur[0] != '\0' ? cur : "/") >= (int)canonsz)
		goto too_long;
	return 0;
too_long:
	snprintf(why, whysz, "%.64s...: path too long", path);
	return INK_ERR_TOO_LARGE;
}
