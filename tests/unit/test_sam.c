/* test_sam: the real inkan-sam process over its socketpair — ping, TOTP seeds that only it can
 * open, malformed and unknown frames refused, and a death that is reported, not hidden. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth/auth.h"
#include "common/common.h"
#include "sam/sam.h"

static char data_dir[] = "/tmp/inkan-test-sam.XXXXXX";
static char sam_path[1024];

static int
setup(void **state)
{
	char cmd[2048];

	(void)state;
	if (mkdtemp(data_dir) == NULL)
		return -1;
	if (ink_exe_sibling("inkan-sam", "INKAN_SAM", sam_path, sizeof(sam_path)) != 0)
		return -1;
	/* The SAM reads the shared configuration; an empty one means every default. */
	snprintf(cmd, sizeof(cmd), "touch '%s/inkan.conf' && '%s' --init --data '%s' --token-fd 3 "
	         "3>'%s/token'", data_dir, sam_path, data_dir, data_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[2048];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* RFC 4648 base32 decoding, only for checking what the SAM shows the user. */
static size_t
b32_decode(const char *in, uint8_t *out)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in != '\0'; in++) {
		const char *p = strchr(alpha, *in);

		assert_non_null(p);
		acc = acc << 5 | (uint32_t)(p - alpha);
		bits += 5;
		if (bits >= 8) {
			out[n++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	return n;
}

static void
test_init_refuses_second_time(void **state)
{
	char cmd[2048];

	(void)state;
	/* The master key is never overwritten. */
	snprintf(cmd, sizeof(cmd), "'%s' --init --data '%s' 2>/dev/null", sam_path, data_dir);
	assert_int_not_equal(system(cmd), 0);
}

static void
code_at(const uint8_t *seed, size_t seedlen, int64_t step, char code[static 8])
{
	uint32_t v;

	assert_int_equal(auth_totp_code(seed, seedlen, step, &v), 0);
	snprintf(code, 8, "%06u", v);
}

static void
test_ping_and_totp(void **state)
{
	struct sam_client *c = NULL;
	uint8_t seed[64], tok[32], tok2[32];
	size_t seedlen;
	char *b32 = NULL, code[8];
	uint32_t roles = 0;
	bool setup = true;
	int64_t step = -1, now = ink_now();
	struct sam_person p;
	char tokpath[1100], *token = NULL;
	size_t toklen = 0;

	(void)state;
	memset(tok, 1, sizeof(tok));
	memset(tok2, 2, sizeof(tok2));
	assert_int_equal(sam_client_spawn(sam_path, data_dir, NULL, &c), 0);
	assert_int_equal(sam_ping(c), 0);
	/* inkan-sam --init gave the one-time token for the first security officer on the
	 * descriptor named (--token-fd), and left no copy in its directory */
	snprintf(tokpath, sizeof(tokpath), "%s/sam/bootstrap.token", data_dir);
	assert_int_equal(access(tokpath, F_OK), -1);
	snprintf(tokpath, sizeof(tokpath), "%s/token", data_dir);
	assert_int_equal(ink_read_file(tokpath, 128, &token, &toklen), 0);
	assert_int_equal(toklen, 64);    /* 64 hex digits */
	assert_int_equal(sam_bootstrap(c, "user-1", "officer", "0123", &b32), INK_ERR_AUTH);
	assert_null(b32);
	assert_int_equal(sam_bootstrap(c, "user-1", "officer", token, &b32), 0);
	assert_non_null(b32);
	seedlen = b32_decode(b32, seed);
	assert_int_equal(seedlen, AUTH_TOTP_SEED_LEN);
	secmem_free(b32);
	b32 = NULL;
	/* Never a second bootstrap: the token is spent. */
	assert_int_equal(sam_bootstrap(c, "user-2", "officer2", token, &b32), INK_ERR_AUTH);
	free(token);
	assert_null(b32);

	code_at(seed, seedlen, now / AUTH_TOTP_STEP, code);
	assert_int_equal(sam_login(c, "user-1", tok, code, "", "test", &roles, &setup, &step), 0);
	assert_int_equal(step, now / AUTH_TOTP_STEP);
	assert_false(setup);
	assert_int_equal(roles, AUTH_ROLE_SECURITY_OFFICER);
	/* One code, one act: the step is the SAM's, persistently. */
	assert_int_equal(sam_login(c, "user-1", tok2, code, "", "test", &roles, &setup, &step),
	                 INK_ERR_AUTH);
	/* Unknown persons have no session to open. */
	assert_int_equal(sam_login(c, "nobody", tok2, code, "", "test", &roles, &setup, &step),
	                 INK_ERR_AUTH);
	/* A code far outside the SAM's window is refused. */
	code_at(seed, seedlen, now / AUTH_TOTP_STEP + 5, code);
	assert_int_equal(sam_login(c, "user-1", tok2, code, "", "test", &roles, &setup, &step),
	                 INK_ERR_AUTH);
	assert_int_equal(sam_person_get(c, "user-1", &p), 0);
	assert_int_equal(p.otp_failures, 2);
	assert_true(p.enrolled);
	/* A security officer is no signer: no key under their session. */
	{
		struct sam_cred cred;
		uint8_t *csr = NULL;
		size_t csr_len = 0;

		assert_int_equal(sam_key_create(c, tok, "P-256", "pin-Test-1234", false, &cred, &csr,
		                                &csr_len), INK_ERR_DENIED);
		/* ... and nothing at all under a session the SAM never opened. */
		assert_int_equal(sam_key_create(c, tok2, "P-256", "pin-Test-1234", false, &cred, &csr,
		                                &csr_len), INK_ERR_AUTH);
	}
	sam_client_free(c);
}

/* Starts inkan-sam on a raw socketpair so the test can send what no client would. */
static pid_t
raw_sam(int *fd)
{
	int sv[2];
	char fdarg[16];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		execl(sam_path, "inkan-sam", "--fd", fdarg, "--data", data_dir, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static void
expect_error(int fd, const uint8_t *frame, size_t len, uint32_t code)
{
	struct ink_buf req, rep;
	uint8_t type;
	uint32_t got;

	buf_init(&req, SAM_FRAME_MAX, false);
	buf_init(&rep, SAM_FRAME_MAX, false);
	assert_int_equal(buf_put(&req, frame, len), 0);
	assert_int_equal(sam_frame_write(fd, &req), 0);
	assert_int_equal(sam_frame_read(fd, &rep), 0);
	assert_int_equal(buf_get_u8(&rep, &type), 0);
	assert_int_equal(type, SAM_REPLY_ERR);
	assert_int_equal(buf_get_u32(&rep, &got), 0);
	assert_int_equal(got, code);
	buf_free(&req);
	buf_free(&rep);
}

static void
test_malformed_frames(void **state)
{
	static const uint8_t unknown[] = { 0x7f };
	static const uint8_t reply_type[] = { SAM_REPLY_OK };
	static const uint8_t ping_extra[] = { SAM_MSG_PING, 0 };
	/* LOGIN whose user id claims 1000 bytes. */
	static const uint8_t truncated[] = { SAM_MSG_LOGIN, 0, 0, 0x03, 0xe8, 'a' };
	uint8_t huge[4] = { 0x7f, 0xff, 0xff, 0xff };
	int fd, status;
	pid_t pid;

	(void)state;
	pid = raw_sam(&fd);
	expect_error(fd, unknown, sizeof(unknown), (uint32_t)-INK_ERR_PROTOCOL);
	expect_error(fd, reply_type, sizeof(reply_type), (uint32_t)-INK_ERR_PROTOCOL);
	expect_error(fd, ping_extra, sizeof(ping_extra), (uint32_t)-INK_ERR_PROTOCOL);
	expect_error(fd, truncated, sizeof(truncated), (uint32_t)-INK_ERR_PROTOCOL);
	/* A frame length beyond the cap ends the conversation: the SAM exits rather than guess. */
	assert_int_equal(write(fd, huge, sizeof(huge)), 4);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	close(fd);
	/* Each refusal is the SAM's own record (the malformed LOGIN as the act's, refused). */
	{
		static const char *const want[] = {
			"sam.protocol|an unknown request (type 127)",
			"sam.protocol|an unknown request (type 128)",
			"sam.protocol|a malformed request (type 1)",
			"sam.login|",
			"sam.protocol|a malformed frame ended the SAM (type 0)",
		};
		char cmd[2048], line[256];
		size_t i = 0;
		FILE *p;

		snprintf(cmd, sizeof(cmd), "sqlite3 '%s/sam/keystore.db' \"SELECT action || '|' || "
		         "detail FROM sam_audit WHERE result = '%s' AND action IN ('sam.protocol', "
		         "'sam.login') ORDER BY id\"", data_dir, ink_err_str(INK_ERR_PROTOCOL));
		assert_non_null(p = popen(cmd, "r"));
		while (fgets(line, sizeof(line), p) != NULL) {
			assert_true(i < INK_ARRAY_LEN(want));
			assert_int_equal(strncmp(line, want[i], strlen(want[i])), 0);
			i++;
		}
		assert_int_equal(pclose(p), 0);
		assert_int_equal(i, INK_ARRAY_LEN(want));
	}
}

/* After the log's close the shutdown marker stays the SAM's last record: an unknown request
 * then is refused and logged, but held as no record (a final head holds nothing after it). */
static void
test_protocol_after_close(void **state)
{
	static const uint8_t close_log[] = { SAM_MSG_LOG_CLOSE };
	static const uint8_t unknown[] = { 0x7e };
	struct ink_buf req, rep;
	char cmd[2048], line[256] = "";
	uint8_t type;
	int fd, status;
	pid_t pid;
	FILE *p;

	(void)state;
	pid = raw_sam(&fd);
	buf_init(&req, SAM_FRAME_MAX, false);
	buf_init(&rep, SAM_FRAME_MAX, false);
	assert_int_equal(buf_put(&req, close_log, sizeof(close_log)), 0);
	assert_int_equal(sam_frame_write(fd, &req), 0);
	assert_int_equal(sam_frame_read(fd, &rep), 0);
	assert_int_equal(buf_get_u8(&rep, &type), 0);
	assert_int_equal(type, SAM_REPLY_OK);
	buf_free(&req);
	buf_free(&rep);
	expect_error(fd, unknown, sizeof(unknown), (uint32_t)-INK_ERR_PROTOCOL);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s/sam/keystore.db' \"SELECT action FROM sam_audit "
	         "ORDER BY id DESC LIMIT 1\"", data_dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	assert_string_equal(line, "sam.log.close\n");
}

static atomic_int deaths;

static void
on_death(void *arg, int status)
{
	(void)arg;
	(void)status;
	atomic_fetch_add(&deaths, 1);
}

static void
test_death_is_reported(void **state)
{
	struct sam_client *c = NULL;
	int i;

	(void)state;
	assert_int_equal(sam_client_spawn(sam_path, data_dir, NULL, &c), 0);
	sam_client_set_death_hook(c, on_death, NULL);
	assert_int_equal(kill(sam_client_pid(c), SIGKILL), 0);
	for (i = 0; i < 100 && atomic_load(&deaths) == 0; i++)
		usleep(20000);
	assert_int_equal(atomic_load(&deaths), 1);
	/* No silent restart: every later request is refused as unavailable. */
	assert_int_equal(sam_ping(c), INK_ERR_SAM_UNAVAILABLE);
	assert_int_equal(sam_ping(c), INK_ERR_SAM_UNAVAILABLE);
	sam_client_free(c);
	assert_int_equal(atomic_load(&deaths), 1);
}

static void
test_spawn_failure(void **state)
{
	struct sam_client *c = NULL;

	(void)state;
	assert_int_equal(sam_client_spawn("/nonexistent/inkan-sam", data_dir, NULL, &c),
	                 INK_ERR_SAM_UNAVAILABLE);
	assert_null(c);
	/* A data directory without a key store: the SAM refuses to start. */
	assert_int_not_equal(sam_client_spawn(sam_path, "/nonexistent", NULL, &c), 0);
	assert_null(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_refuses_second_time),
		cmocka_unit_test(test_ping_and_totp),
		cmocka_unit_test(test_malformed_frames),
		cmocka_unit_test(test_protocol_after_close),
		cmocka_unit_test(test_death_is_reported),
		cmocka_unit_test(test_spawn_failure),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
