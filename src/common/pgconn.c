/* common: what the store and the key store both need of a libpq connection. */
#include "common.h"

#include <libpq-fe.h>
#include <poll.h>

bool
ink_pg_idle_lost(struct pg_conn *conn)
{
	struct pollfd p = { .fd = PQsocket(conn), .events = POLLIN };

	if (p.fd < 0 || PQstatus(conn) != CONNECTION_OK)
		return true;
	/* Our connections LISTEN to nothing and ask for no notices below a warning: bytes on an
	 * idle one are the server's FATAL before it closes it (or a closed socket). The FATAL
	 * may be there before the close is: taken as gone either way, a reconnection the worst
	 * a stray message costs. */
	return poll(&p, 1, 0) != 0;
}
