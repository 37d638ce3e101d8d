/* audit: stamps, bounds and writes audit events through the store; reads them back in pages. */
#include "audit/audit.h"

#include <string.h>

/* One page of audit_read(): large enough for an export loop, small enough to bound memory. */
#define AUDIT_READ_MAX 1000

/* Copies src into dst[dstsz]: NULL or empty becomes "-" so that every column reads as
 * something; longer values are cut at the field size (a byte boundary: UTF-8 is not promised);
 * control characters become '?' so that an exported row stays one line and cannot forge
 * another. */
static void
copy_field(char *dst, size_t dstsz, const char *src)
{
	size_t i, n;

	if (src == NULL || *src == '\0')
		src = "-";
	n = strnlen(src, dstsz - 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

int
audit_append(struct store *st, const struct audit_event *ev)
{
	struct store_audit_rec rec;
	int64_t seq = 0;
	int r;

	if (st == NULL || ev == NULL)
		return INK_ERR_INVALID;
	memset(&rec, 0, sizeof(rec));
	rec.time = ink_now();
	copy_field(rec.actor, sizeof(rec.actor), ev->actor);
	copy_field(rec.role, sizeof(rec.role), ev->role);
	copy_field(rec.action, sizeof(rec.action), ev->action);
	copy_field(rec.subject, sizeof(rec.subject), ev->subject);
	copy_field(rec.result, sizeof(rec.result), ev->result);
	copy_field(rec.request_id, sizeof(rec.request_id), ev->request_id);
	copy_field(rec.source, sizeof(rec.source), ev->source);
	copy_field(rec.detail, sizeof(rec.detail), ev->detail);
	if ((r = st->ops->audit_insert(st, &rec, &seq)) != 0) {
		/* the action name is ours, never user data */
		log_error("audit trail write failed for %s: %s", rec.action, ink_err_str(r));
		return r;
	}
	return 0;
}

int
audit_read(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (st == NULL)
		return INK_ERR_INVALID;
	if (limit > AUDIT_READ_MAX)
		limit = AUDIT_READ_MAX;
	return st->ops->audit_list(st, after, limit, out, n);
}
