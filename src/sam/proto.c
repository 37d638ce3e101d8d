/* proto: length-prefixed frames on the inkand <-> inkan-sam socket. */
#include "sam/sam.h"

#include <errno.h>
#include <sys/socket.h>
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

static int
write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return INK_ERR_IO;
		p += r;
		n -= (size_t)r;
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
	/* Reserve through the buffer's own cap check, then fill in place. */
	{
		uint8_t zero[256] = { 0 };
		size_t left = len;

		while (left > 0) {
			size_t k = left < sizeof(zero) ? left : sizeof(zero);

			if ((r = buf_put(b, zero, k)) != 0)
				return r;
			left -= k;
		}
	}
	return read_full(fd, b->data, len);
}

int
sam_frame_write(int fd, const struct ink_buf *b)
{
	uint8_t hdr[4];
	int r;

	if (b->len == 0 || b->len > SAM_FRAME_MAX)
		return INK_ERR_PROTOCOL;
	hdr[0] = (uint8_t)(b->len >> 24);
	hdr[1] = (uint8_t)(b->len >> 16);
	hdr[2] = (uint8_t)(b->len >> 8);
	hdr[3] = (uint8_t)b->len;
	if ((r = write_full(fd, hdr, sizeof(hdr))) != 0)
		return r;
	return write_full(fd, b->data, b->len);
}
