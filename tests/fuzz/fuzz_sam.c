/* fuzz_sam: one frame on the inkand <-> inkan-sam channel — the length-prefixed frame
 * (sam_frame_read); read as inkan-sam reads a request (its type, sam_act_name, a session
 * field) and as inkand reads a reply (sam_reply_status); then the typed getters and the
 * decoders of a credential (sam_get_cred) and of a signed log head (sam_get_head), in an
 * order the frame's own bytes choose. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "audit/audit.h"
#include "common/common.h"
#include "fuzz.h"
#include "sam/sam.h"
#include "sam/sam_int.h"

/* The largest frame a harness run reads: the real cap (16 MiB) is only a bound, not a size. */
#define FUZZ_FRAME_MAX (1u << 20)

/* Reads the frame's fields until one does not parse. */
static void
getters(struct ink_buf *b)
{
	struct sam_cred c;
	struct audit_head h;
	const uint8_t *p;
	char s[65];
	uint64_t u64;
	uint32_t u32;
	uint8_t op;
	size_t n, before;
	int r;

	while (buf_get_u8(b, &op) == 0) {
		before = b->off;
		switch (op % 8) {
		case 0:
			r = buf_get_u8(b, &op);
			break;
		case 1:
			r = buf_get_u32(b, &u32);
			break;
		case 2:
			r = buf_get_u64(b, &u64);
			break;
		case 3:
			if ((r = buf_get_string_ptr(b, &p, &n, 4096)) == 0 && (n > 4096 || p + n > b->data + b->len))
				abort();
			break;
		case 4:
			if ((r = buf_get_cstring(b, s, sizeof(s))) == 0 && strlen(s) >= sizeof(s))
				abort();
			break;
		case 5:
			if ((r = sam_get_cred(b, &c)) == 0)
				sam_cred_clear(&c);
			else if (c.cert != NULL || c.pub != NULL)
				abort();   /* a failed decode leaves nothing allocated */
			break;
		case 6:
			if ((r = sam_get_head(b, &h)) == 0 && h.sig_len > AUDIT_SIG_MAX)
				abort();
			break;
		default:
			if ((r = sam_get_session(b, &p)) == 0 && p + 32 > b->data + b->len)
				abort();
			break;
		}
		if (b->off > b->len || (r != 0 && op % 8 < 5 && b->off != before))
			abort();   /* a failed getter reads nothing */
		if (r != 0)
			return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ink_buf b;
	uint8_t type;
	int fd;

	fuzz_init();
	/* The frame comes through a file descriptor, as from the socket. */
	if ((fd = memfd_create("fuzz-sam", MFD_CLOEXEC)) < 0)
		abort();
	if ((size > 0 && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	buf_init(&b, FUZZ_FRAME_MAX, true);
	if (sam_frame_read(fd, &b) == 0) {
		if (b.len == 0 || b.len > FUZZ_FRAME_MAX || b.len + 4 > size)
			abort();
		/* A request: its type names the act recorded (or none), the fields follow. */
		if (buf_get_u8(&b, &type) != 0)
			abort();
		(void)sam_act_name(type);
		getters(&b);
		/* The same bytes as a reply. */
		b.off = 0;
		if (sam_reply_status(&b) == 0)
			getters(&b);
	}
	buf_free(&b);
	close(fd);
	return 0;
}
