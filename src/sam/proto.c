/* proto: length-prefixed frames on the inkand <-> inkan-sam socket. */
#include "sam/sam.h"

#include "audit/audit.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
read_full(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return INK_ERR_IO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Header and body in one sendmsg (more only if the socket takes part of it): the reader wakes
 * once for a whole frame, not once for the header and again for the body. */
static int
write_frame(int fd, const uint8_t hdr[static 4], const uint8_t *body, size_t n)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = 4 }, { .iov_base = (void *)body, .iov_len = n },
	};
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t r;
	size_t k;

	while (m.msg_iovlen > 0) {
		r = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return INK_ERR_IO;
		for (k = (size_t)r; m.msg_iovlen > 0 && k >= m.msg_iov[0].iov_len; m.msg_iovlen--) {
			k -= m.msg_iov[0].iov_len;
			m.msg_iov++;
		}
		if (m.msg_iovlen > 0) {
			m.msg_iov[0].iov_base = (uint8_t *)m.msg_iov[0].iov_base + k;
			m.msg_iov[0].iov_len -= k;
		}
	}
	return 0;
}

int
sam_frame_read(int fd, struct ink_buf *b)
{
	uint8_t hdr[4];
	uint32_t len;
	int r;

	b->len = b->off = 0;
	if ((r = read_full(fd, hdr, sizeof(hdr))) != 0)
		return r;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > SAM_FRAME_MAX || len > b->max)
		return INK_ERR_PROTOCOL;
	/* Reserved through the buffer's own cap check, then filled in place; the frame's length
	 * counts only once it has all come. */
	if ((r = buf_reserve(b, len)) != 0 || (r = read_full(fd, b->data, len)) != 0)
		return r;
	b->len = len;
	return 0;
}

int
sam_reply_status(struct ink_buf *rep)
{
	uint8_t type;
	uint32_t code;
	int r;

	if ((r = buf_get_u8(rep, &type)) != 0)
		return r;
	if (type == SAM_REPLY_OK)
		return 0;
	if (type != SAM_REPLY_ERR || (r = buf_get_u32(rep, &code)) != 0)
		return INK_ERR_PROTOCOL;
	if (code == 0 || code >= (uint32_t)-INK_ERR_MAX_)
		return INK_ERR_PROTOCOL;
	return -(int)code;
}

int
sam_frame_write(int fd, const struct ink_buf *b)
{
	uint8_t hdr[4];

	if (b->len == 0 || b->len > SAM_FRAME_MAX)
		return INK_ERR_PROTOCOL;
	hdr[0] = (uint8_t)(b->len >> 24);
	hdr[1] = (uint8_t)(b->len >> 16);
	hdr[2] = (uint8_t)(b->len >> 8);
	hdr[3] = (uint8_t)b->len;
	return write_frame(fd, hdr, b->data, b->len);
}

void
sam_cred_clear(struct sam_cred *c)
{
	if (c == NULL)
		return;
	free(c->cert);
	free(c->pub);
	memset(c, 0, sizeof(*c));
}

void
sam_creds_free(struct sam_cred *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++)
		sam_cred_clear(&c[i]);
	free(c);
}

int
sam_put_cred(struct ink_buf *b, const struct sam_cred *c)
{
	int r;

	if ((r = buf_put_cstring(b, c->id)) != 0 || (r = buf_put_cstring(b, c->owner)) != 0 ||
	    (r = buf_put_cstring(b, c->algo)) != 0 || (r = buf_put_u32(b, c->status)) != 0 ||
	    (r = buf_put_u64(b, c->pin_failures)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)c->created_at)) != 0 ||
	    (r = buf_put_cstring(b, c->serial)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)c->not_before)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)c->not_after)) != 0 ||
	    (r = buf_put_u64(b, (uint64_t)c->revoked_at)) != 0 ||
	    (r = buf_put_u32(b, c->reason)) != 0 ||
	    (r = buf_put_string(b, c->cert, c->cert_len)) != 0)
		return r;
	if ((r = buf_put_string(b, c->pub, c->pub_len)) != 0)
		return r;
	return buf_put_u32(b, c->auth_mode);
}

static int
get_copy(struct ink_buf *b, uint8_t **out, size_t *outlen, size_t max)
{
	const uint8_t *p;
	size_t n;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = buf_get_string_ptr(b, &p, &n, max)) != 0)
		return r;
	if (n == 0)
		return 0;
	if ((*out = malloc(n)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(*out, p, n);
	*outlen = n;
	return 0;
}

int
sam_get_cred(struct ink_buf *b, struct sam_cred *c)
{
	uint64_t v[5];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = buf_get_cstring(b, c->id, sizeof(c->id))) != 0 ||
	    (r = buf_get_cstring(b, c->owner, sizeof(c->owner))) != 0 ||
	    (r = buf_get_cstring(b, c->algo, sizeof(c->algo))) != 0 ||
	    (r = buf_get_u32(b, &c->status)) != 0 || (r = buf_get_u64(b, &c->pin_failures)) != 0 ||
	    (r = buf_get_u64(b, &v[0])) != 0 || (r = buf_get_cstring(b, c->serial, sizeof(c->serial))) != 0 ||
	    (r = buf_get_u64(b, &v[1])) != 0 || (r = buf_get_u64(b, &v[2])) != 0 ||
	    (r = buf_get_u64(b, &v[3])) != 0 || (r = buf_get_u32(b, &c->reason)) != 0 ||
	    (r = get_copy(b, &c->cert, &c->cert_len, 65536)) != 0 ||
	    (r = get_copy(b, &c->pub, &c->pub_len, 65536)) != 0 ||
	    (r = buf_get_u32(b, &c->auth_mode)) != 0) {
		sam_cred_clear(c);
		return r == INK_ERR_ALLOC ? r : INK_ERR_PROTOCOL;
	}
	c->created_at = (int64_t)v[0];
	c->not_before = (int64_t)v[1];
	c->not_after = (int64_t)v[2];
	c->revoked_at = (int64_t)v[3];
	return 0;
}

int
sam_get_head(struct ink_buf *b, struct audit_head *h)
{
	const uint8_t *p;
	uint64_t size = 0, t = 0;
	size_t n;

	if (buf_get_u64(b, &size) != 0 || buf_get_string_ptr(b, &p, &n, AUDIT_HASH_LEN) != 0 ||
	    n != AUDIT_HASH_LEN)
		return INK_ERR_PROTOCOL;
	memcpy(h->root, p, AUDIT_HASH_LEN);
	if (buf_get_u64(b, &t) != 0 || buf_get_string_ptr(b, &p, &n, AUDIT_SIG_MAX) != 0)
		return INK_ERR_PROTOCOL;
	memcpy(h->sig, p, n);
	h->sig_len = n;
	h->size = size;
	h->time = (int64_t)t;
	return 0;
}
