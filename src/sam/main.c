/* inkan-sam: the signature activation module process. Started by inkand over a socketpair
 * (--fd N --data DIR), or once by `inkan init` to create the key store (--init --data DIR). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys/keys.h"
#include "sam/sam.h"

static void
usage(void)
{
	fprintf(stderr, "usage: inkan-sam --init --data DIR\n"
	                "       inkan-sam --fd N --data DIR   (started by inkand)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *data = NULL;
	char dir[1024], *end;
	bool init = false;
	long fd = -1;
	int i, r;

	secmem_harden_process();
	ink_log_init("inkan-sam", INK_LOG_INFO);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--init") == 0)
			init = true;
		else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
			data = argv[++i];
		else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			errno = 0;
			fd = strtol(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || fd < 3 || fd > INT_MAX)
				usage();
		} else
			usage();
	}
	if (data == NULL || (init == (fd >= 0)))
		usage();
	if (init) {
		if ((r = ink_path(dir, sizeof(dir), data, "sam")) != 0 ||
		    (r = keys_init_dir(dir)) != 0) {
			fprintf(stderr, "inkan-sam: cannot initialise %s/sam: %s\n", data, ink_err_str(r));
			return 1;
		}
		return 0;
	}
	r = sam_serve((int)fd, data);
	close((int)fd);
	return r == 0 ? 0 : 1;
}
