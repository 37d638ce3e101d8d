/* fuzz_routes: routing of a request line — srv_route_find() on a method and a path, with the
 * percent-decoding of its {} segments (the last of a tail route may hold a '/'), on a listener
 * of the classes the first byte picks.
 * Input: one byte of classes, then "METHOD PATH" (the path ends at the first NUL). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/server.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srv_listener ls;
	struct srv_request *rq;
	const struct srv_route *rt;
	char *line, *sp, allow[128];
	unsigned i;

	fuzz_init();
	if (size < 1)
		return 0;
	/* A request is large (its parameters); on the heap, so ASan sees every overrun. */
	if ((rq = calloc(1, sizeof(*rq))) == NULL || (line = malloc(size)) == NULL) {
		free(rq);
		return 0;
	}
	memset(&ls, 0, sizeof(ls));
	ls.classes = data[0] & (SRV_SIGNER | SRV_ADMIN | SRV_PUBLIC);
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	if ((sp = strchr(line, ' ')) != NULL) {
		*sp = '\0';
		rq->method = line;
		rq->url = sp + 1;
	} else {
		rq->method = "GET";
		rq->url = line;
	}
	rq->listener = &ls;
	memset(allow, 'x', sizeof(allow));
	rt = srv_route_find(rq, allow, sizeof(allow));
	if (memchr(allow, '\0', sizeof(allow)) == NULL)
		abort();
	if (rt != NULL) {
		if (strcmp(rt->method, rq->method) != 0 || !(rt->classes & ls.classes) ||
		    rq->nparams > SRV_MAX_PARAMS)
			abort();
		for (i = 0; i < rq->nparams; i++) {
			const char *p = rq->params[i];

			/* A segment is never empty and holds no '/' (no way out of its place), but the
			 * last of a tail route (the base64 of GET /ocsp/{request}). */
			if (p[0] == '\0' ||
			    (strchr(p, '/') != NULL && !(rt->tail && i + 1 == rq->nparams)) ||
			    memchr(p, '\0', sizeof(rq->params[i])) == NULL)
				abort();
		}
	}
	free(line);
	free(rq);
	return 0;
}
