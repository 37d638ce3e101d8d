/* replay: runs a harness on every file of the directories (or files) named on the command
 * line, without libFuzzer, so that the seeds and every saved crash replay under any compiler. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* A seed or crash is small; a larger file is a mistake in the tree. */
#define REPLAY_MAX (8u * 1024u * 1024u)

static int
replay_file(const char *path)
{
	FILE *f = NULL;
	uint8_t *data = NULL;
	struct stat st;
	size_t n = 0;
	int ret = -1;

	if (stat(path, &st) != 0 || st.st_size < 0 || (size_t)st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: %s: unreadable or too large\n", path);
		return -1;
	}
	/* One byte more than needed, so that an empty file still has a buffer. */
	if ((data = malloc((size_t)st.st_size + 1)) == NULL || (f = fopen(path, "rb")) == NULL)
		goto out;
	n = fread(data, 1, (size_t)st.st_size, f);
	if (ferror(f) || n != (size_t)st.st_size)
		goto out;
	(void)LLVMFuzzerTestOneInput(data, n);
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "replay: %s: cannot read\n", path);
	if (f != NULL)
		fclose(f);
	free(data);
	return ret;
}

static int
skip_name(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "README") != 0;
}

/* Every regular file of dir, in name order; a missing directory has none. */
static int
replay_dir(const char *dir, size_t *count)
{
	struct dirent **names = NULL;
	struct stat st;
	char path[4096];
	int i, n, ret = 0;

	if ((n = scandir(dir, &names, skip_name, alphasort)) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >= (int)sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (replay_file(path) != 0)
			ret = -1;
		else
			(*count)++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int
main(int argc, char **argv)
{
	struct stat st;
	size_t count = 0;
	int i, ret = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(argv[i]) != 0)
				ret = 1;
			else
				count++;
		} else if (replay_dir(argv[i], &count) != 0) {
			ret = 1;
		}
	}
	printf("replay: %zu inputs\n", count);
	/* A test that replays nothing tests nothing: the corpus went missing. */
	return ret != 0 || count == 0 ? 1 : 0;
}
