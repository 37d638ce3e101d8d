/* server: inkan-sam's request loop. Every request is parsed through the bounded buffer and
 * checked here; the master key never leaves this process. */
#include "sam/sam.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "keys/keys.h"

#define SAM_PURPOSE_TOTP "totp-seed"
#define SAM_USER_ID_MAX 64
#define SAM_WINDOW_MAX 3

struct sam_state {
	struct keys *keys;
};

typedef int (*sam_handler)(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep);

static int
handle_ping(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	(void)s;
	if (buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	return buf_put_u32(rep, (uint32_t)getpid());
}

static int
handle_totp_new(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char user_id[SAM_USER_ID_MAX + 1], b32[AUTH_TOTP_B32_MAX];
	uint8_t *seed = NULL, sealed[SAM_SEALED_MAX];
	size_t sealed_len = 0;
	int r;

	if ((r = buf_get_cstring(req, user_id, sizeof(user_id))) != 0 || buf_remaining(req) != 0 ||
	    user_id[0] == '\0')
		return INK_ERR_PROTOCOL;
	if ((seed = secmem_alloc(AUTH_TOTP_SEED_LEN)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = ink_random(seed, AUTH_TOTP_SEED_LEN)) != 0)
		goto out;
	if ((r = keys_seal(s->keys, SAM_PURPOSE_TOTP, (const uint8_t *)user_id, strlen(user_id),
	                   seed, AUTH_TOTP_SEED_LEN, sealed, &sealed_len)) != 0)
		goto out;
	if ((r = auth_base32_encode(seed, AUTH_TOTP_SEED_LEN, b32, sizeof(b32))) != 0)
		goto out;
	if ((r = buf_put_string(rep, sealed, sealed_len)) != 0 ||
	    (r = buf_put_cstring(rep, b32)) != 0)
		goto out;
out:
	explicit_bzero(b32, sizeof(b32));
	secmem_free(seed);
	return r;
}

static int
handle_totp_check(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	char user_id[SAM_USER_ID_MAX + 1], code[16];
	const uint8_t *sealed;
	uint8_t *seed = NULL;
	size_t sealed_len, seed_len = 0;
	uint32_t window;
	int64_t step = -1;
	int r;

	if ((r = buf_get_cstring(req, user_id, sizeof(user_id))) != 0 ||
	    (r = buf_get_string_ptr(req, &sealed, &sealed_len, SAM_SEALED_MAX)) != 0 ||
	    (r = buf_get_cstring(req, code, sizeof(code))) != 0 ||
	    (r = buf_get_u32(req, &window)) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (window > SAM_WINDOW_MAX || user_id[0] == '\0') {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((seed = secmem_alloc(SAM_SEALED_MAX)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	/* A seed sealed for another user fails here: the user id is the associated data. */
	if ((r = keys_unseal(s->keys, SAM_PURPOSE_TOTP, (const uint8_t *)user_id, strlen(user_id),
	                     sealed, sealed_len, seed, &seed_len)) != 0) {
		r = INK_ERR_AUTH;
		goto out;
	}
	if ((r = auth_totp_verify(seed, seed_len, code, ink_now(), (int)window, &step)) != 0)
		goto out;
	r = buf_put_u64(rep, (uint64_t)step);
out:
	explicit_bzero(code, sizeof(code));
	secmem_free(seed);
	return r;
}

static const sam_handler handlers[] = {
	[SAM_MSG_PING] = handle_ping,
	[SAM_MSG_TOTP_NEW] = handle_totp_new,
	[SAM_MSG_TOTP_CHECK] = handle_totp_check,
};

int
sam_serve(int fd, const char *data_dir)
{
	struct sam_state s = { 0 };
	struct ink_buf req, rep;
	char dir[1024];
	uint8_t type = 0;
	int r;

	buf_init(&req, SAM_FRAME_MAX, true);
	buf_init(&rep, SAM_FRAME_MAX, true);
	if ((r = ink_path(dir, sizeof(dir), data_dir, "sam")) != 0)
		goto out;
	if ((r = keys_open(dir, &s.keys)) != 0) {
		log_error("cannot open the key manager in %s: %s", dir, ink_err_str(r));
		goto out;
	}
	for (;;) {
		if ((r = sam_frame_read(fd, &req)) != 0) {
			if (r == INK_ERR_IO)
				r = 0; /* inkand closed the channel: a normal stop */
			else
				log_error("malformed frame from inkand: %s", ink_err_str(r));
			break;
		}
		rep.len = rep.off = 0;
		type = 0;
		if ((r = buf_put_u8(&rep, SAM_REPLY_OK)) != 0)
			break;
		if (buf_get_u8(&req, &type) != 0 || type >= INK_ARRAY_LEN(handlers) ||
		    handlers[type] == NULL)
			r = INK_ERR_PROTOCOL;
		else
			r = handlers[type](&s, &req, &rep);
		if (r != 0) {
			if (r == INK_ERR_PROTOCOL)
				log_warn("refused a malformed or unknown request (type %u)", (unsigned)type);
			rep.len = rep.off = 0;
			if (buf_put_u8(&rep, SAM_REPLY_ERR) != 0 || buf_put_u32(&rep, (uint32_t)-r) != 0)
				break;
		}
		if ((r = sam_frame_write(fd, &rep)) != 0)
			break;
		/* Nothing from one request survives into the next. */
		if (req.data != NULL)
			explicit_bzero(req.data, req.cap);
		if (rep.data != NULL)
			explicit_bzero(rep.data, rep.cap);
	}
out:
	keys_close(s.keys);
	buf_free(&req);
	buf_free(&rep);
	return r;
}
