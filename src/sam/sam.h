/* sam: the signature activation module. inkand talks to the inkan-sam process over a
 * socketpair with length-prefixed binary frames; only inkan-sam holds the master key. */
#ifndef INKAN_SAM_H
#define INKAN_SAM_H

#include <sys/types.h>

#include "common/common.h"

/* Frame: u32 big-endian length (<= SAM_FRAME_MAX), then the payload; the payload starts with
 * a u8 message type. Replies: SAM_REPLY_OK followed by the fields, or SAM_REPLY_ERR with a
 * u32 error code (negated INK_ERR_*). */
#define SAM_FRAME_MAX (64u * 1024u)
#define SAM_SEALED_MAX 128

enum sam_msg {
	SAM_MSG_PING = 1,        /* -> OK, u32 pid */
	SAM_MSG_TOTP_NEW = 2,    /* cstring user_id -> OK, string sealed, cstring base32 seed */
	SAM_MSG_TOTP_CHECK = 3,  /* cstring user_id, string sealed, cstring code, u32 window -> OK, u64 step */
	SAM_REPLY_OK = 0x80,
	SAM_REPLY_ERR = 0x81,
};

/* Reads one frame into b (cleared first); INK_ERR_IO on EOF or a short read. */
int sam_frame_read(int fd, struct ink_buf *b) INK_WUR;
/* Writes b's bytes as one frame. */
int sam_frame_write(int fd, const struct ink_buf *b) INK_WUR;

/* ---- client side, in inkand ---- */

struct sam_client;

/* Starts sam_path (the inkan-sam program) on one end of a socketpair with --data data_dir. */
int sam_client_spawn(const char *sam_path, const char *data_dir, struct sam_client **out) INK_WUR;
/* Stops the child and frees; accepts NULL. */
void sam_client_free(struct sam_client *c);
/* Called once, from a monitor thread, when the child exits (status as from waitpid). */
void sam_client_set_death_hook(struct sam_client *c, void (*fn)(void *arg, int status), void *arg);
/* Process id of the child (for logs). */
pid_t sam_client_pid(const struct sam_client *c);
/* Round trip; INK_ERR_SAM_UNAVAILABLE once the child has died (it is never restarted silently). */
int sam_ping(struct sam_client *c) INK_WUR;
/* New TOTP seed for user_id, generated and sealed in the SAM. *seed_b32 is the base32 seed to
 * show the user once (secmem: secmem_free it). */
int sam_totp_new(struct sam_client *c, const char *user_id, uint8_t sealed[static SAM_SEALED_MAX],
                 size_t *sealed_len, char **seed_b32) INK_WUR;
/* Checks a 6-digit code against the sealed seed at the SAM's clock, window steps either side;
 * on a match *step is the matched time step (the caller refuses steps already used). */
int sam_totp_check(struct sam_client *c, const char *user_id, const uint8_t *sealed,
                   size_t sealed_len, const char *code, int window, int64_t *step) INK_WUR;

/* ---- server side, in inkan-sam ---- */

/* Serves requests on fd until EOF; the key manager is opened from data_dir/sam. */
int sam_serve(int fd, const char *data_dir) INK_WUR;

#endif
