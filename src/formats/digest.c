/* digest: streaming SHA-256 of a file of any size, in large reads, with progress reports. */
#include "formats/formats.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Large reads keep the per-call overhead far below the hashing itself. */
#define DIGEST_BLOCK (1u << 20)

int
formats_digest_file(const char *path, formats_progress_fn progress, void *arg,
                    uint8_t md[static FORMATS_SHA256_LEN], uint64_t *size)
{
	EVP_MD_CTX *ctx = NULL;
	uint8_t *blk = NULL;
	struct stat st;
	uint64_t done = 0, next = 0;
	unsigned mdlen = 0;
	ssize_t n;
	int fd = -1, r = INK_ERR_IO;

	*size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		r = INK_ERR_INVALID;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((blk = malloc(DIGEST_BLOCK)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	for (;;) {
		n = read(fd, blk, DIGEST_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, blk, (size_t)n) != 1) {
			r = INK_ERR_CRYPTO;
			goto out;
		}
		done += (uint64_t)n;
		if (progress != NULL && done >= next) {
			progress(arg, done, (uint64_t)st.st_size);
			next = done + 64u * DIGEST_BLOCK;
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != FORMATS_SHA256_LEN) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	if (progress != NULL)
		progress(arg, done, done);
	*size = done;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(blk);
	if (fd >= 0)
		close(fd);
	return r;
}
