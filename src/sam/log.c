/* log: inkan-sam's side of the audit log — it signs tree heads with the log key, over leaf
 * hashes it folds into its own frontier, never over a root inkand names. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "keys/keys.h"

static int
put_head(struct ink_buf *b, const struct audit_head *h)
{
	int r;

	if ((r = buf_put_u64(b, h->size)) != 0 || (r = buf_put_string(b, h->root, AUDIT_HASH_LEN)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)h->time)) != 0 ||
	    (r = buf_put_string(b, h->sig, h->sig_len)) != 0)
		return r;
	return 0;
}

int
sam_handle_log_head(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	struct audit_head h;
	uint8_t *spki = NULL;
	size_t len = 0;
	int r;

	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	bool closed = false;

	if ((r = keys_log_head(s->keys, &h, &closed, &spki, &len)) != 0)
		return r;
	if ((r = put_head(rep, &h)) == 0 && (r = buf_put_u8(rep, closed ? 1 : 0)) == 0)
		r = buf_put_string(rep, spki, len);
	free(spki);
	return r;
}

int
sam_handle_log_extend(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	struct audit_head h;
	uint64_t from = 0;
	uint32_t n = 0;
	uint8_t final = 0;
	int r;

	if (buf_get_u64(req, &from) != 0 || buf_get_u8(req, &final) != 0 || final > 1 ||
	    buf_get_u32(req, &n) != 0 ||
	    n > KEYS_LOG_LEAVES_MAX || buf_remaining(req) != (size_t)n * AUDIT_HASH_LEN)
		return INK_ERR_PROTOCOL;
	if ((r = keys_log_extend(s->keys, from, req->data + req->off, n, final == 1, &h)) != 0)
		return r;
	req->off += (size_t)n * AUDIT_HASH_LEN;
	return put_head(rep, &h);
}
