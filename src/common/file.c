/* file: whole-file reads with a cap, atomic writes with a mode. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ink_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct ink_buf b;
	char chunk[4096];
	ssize_t n;
	int fd, r = INK_ERR_IO;

	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? INK_ERR_NOT_FOUND : INK_ERR_IO;
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
	close(fd);
	buf_free(&b);
	return r == INK_ERR_TOO_LARGE && max > 0 ? INK_ERR_TOO_LARGE : r;
}

int
ink_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[1024];
	const uint8_t *p = data;
	ssize_t n;
	int fd = -1, r = INK_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return INK_ERR_TOO_LARGE;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0)
		return INK_ERR_IO;
	if (fchmod(fd, mode) != 0)
		goto out;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
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
	return ink_path(out, outsz, self, name);
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
