/* inkan-hash-bench: the local hashing of `inkan sign` (formats_digest_file) on a 1 GiB file
 * against `openssl dgst -sha256` on the same file, alternating, in the same run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/common.h"
#include "formats/formats.h"

#define HB_SIZE (1ull << 30)
#define HB_ROUNDS 5
#define HB_MAX_ROUNDS 50
#define HB_CHUNK (16u << 20)

extern char **environ;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A file of size bytes: a random 16 MiB block, repeated with a counter in each copy. */
static int
make_file(const char *path, unsigned long long size)
{
	uint8_t *blk = malloc(HB_CHUNK);
	unsigned long long done = 0, i = 0;
	int fd = -1, r = -1;

	if (blk == NULL || RAND_bytes(blk, HB_CHUNK) != 1)
		goto out;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		goto out;
	while (done < size) {
		size_t n = size - done < HB_CHUNK ? (size_t)(size - done) : HB_CHUNK;

		memcpy(blk, &i, sizeof(i));
		if (write(fd, blk, n) != (ssize_t)n)
			goto out;
		done += n;
		i++;
	}
	r = fsync(fd);
out:
	if (fd >= 0)
		close(fd);
	free(blk);
	return r;
}

/* openssl dgst -sha256 FILE, its output compared with ours. */
static int
run_openssl(const char *openssl, const char *path, const char *want_hex, double *secs)
{
	char out[128];
	int pfd[2], st = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)openssl, "dgst", "-sha256", "-r", (char *)path, NULL };
	double t0;
	ssize_t n, got = 0;

	if (pipe(pfd) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	t0 = now_s();
	if (posix_spawnp(&pid, openssl, &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	*secs = now_s() - t0;
	out[got] = '\0';
	return strncmp(out, want_hex, 64) == 0 ? 0 : -2;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rounds", required_argument, NULL, 'n' },
		{ "file", required_argument, NULL, 'f' },
		{ "openssl", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *openssl = "openssl";
	char tmpl[] = "/tmp/inkan-hash-bench.XXXXXX", path[64], hex[65];
	double ours[HB_MAX_ROUNDS], theirs[HB_MAX_ROUNDS], t0, mo, mt;
	uint8_t md[FORMATS_SHA256_LEN], md0[FORMATS_SHA256_LEN];
	uint64_t size = 0;
	int rounds = HB_ROUNDS, ch, i, rc = 1;
	bool json = false, made = false;

	while ((ch = getopt_long(argc, argv, "n:f:o:j", opts, NULL)) != -1) {
		switch (ch) {
		case 'n': rounds = atoi(optarg); break;
		case 'f': file = optarg; break;
		case 'o': openssl = optarg; break;
		case 'j': json = true; break;
		default:
			fprintf(stderr, "usage: inkan-hash-bench [-n ROUNDS] [--file F] [--openssl PATH] [--json]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > HB_MAX_ROUNDS) {
		fprintf(stderr, "inkan-hash-bench: rounds must be 1..%d\n", HB_MAX_ROUNDS);
		return 2;
	}
	if (file == NULL) {
		if (mkdtemp(tmpl) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/1GiB.bin", tmpl);
		fprintf(stderr, "writing a 1 GiB file %s ...\n", path);
		if (make_file(path, HB_SIZE) != 0) {
			perror("write");
			goto out;
		}
		made = true;
		file = path;
	}
	/* Warm the page cache: both sides then read from memory, as a second run would. */
	if (formats_digest_file(file, NULL, NULL, md0, &size) != 0) {
		fprintf(stderr, "inkan-hash-bench: cannot read %s\n", file);
		goto out;
	}
	hex_encode(md0, sizeof(md0), hex);
	for (i = 0; i < rounds; i++) {
		if ((rc = run_openssl(openssl, file, hex, &theirs[i])) != 0) {
			fprintf(stderr, "inkan-hash-bench: openssl dgst failed or disagrees (%d)\n", rc);
			rc = 1;
			goto out;
		}
		t0 = now_s();
		if (formats_digest_file(file, NULL, NULL, md, &size) != 0 || memcmp(md, md0, sizeof(md)) != 0) {
			fprintf(stderr, "inkan-hash-bench: formats_digest_file failed\n");
			rc = 1;
			goto out;
		}
		ours[i] = now_s() - t0;
		if (!json)
			fprintf(stderr, "round %d: inkan %.3f s, openssl %.3f s\n", i + 1, ours[i], theirs[i]);
	}
	qsort(ours, (size_t)rounds, sizeof(double), cmp_double);
	qsort(theirs, (size_t)rounds, sizeof(double), cmp_double);
	mo = ours[rounds / 2];
	mt = theirs[rounds / 2];
	if (json)
		printf("{\"bytes\": %llu, \"rounds\": %d, \"inkan_median_s\": %.4f, \"openssl_median_s\": %.4f, "
		       "\"inkan_mib_s\": %.1f, \"openssl_mib_s\": %.1f, \"ratio\": %.3f}\n",
		       (unsigned long long)size, rounds, mo, mt, (double)size / mo / 1048576.0,
		       (double)size / mt / 1048576.0, mt / mo);
	else
		printf("SHA-256 of %llu bytes, median of %d rounds:\n"
		       "  inkan sign (formats_digest_file)  %.3f s  %7.1f MiB/s\n"
		       "  openssl dgst -sha256              %.3f s  %7.1f MiB/s\n"
		       "  ratio inkan / openssl             %.1f %%  (target >= 90 %%)\n",
		       (unsigned long long)size, rounds, mo, (double)size / mo / 1048576.0, mt,
		       (double)size / mt / 1048576.0, 100.0 * mt / mo);
	rc = mt / mo >= 0.90 ? 0 : 3;
out:
	if (made) {
		unlink(path);
		rmdir(tmpl);
	}
	return rc;
}
