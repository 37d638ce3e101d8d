/* prompt: secrets from the environment, a file or the terminal (no echo), held in secmem. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define SECRET_MAX 1024

static volatile sig_atomic_t caught_signal;

static void
on_signal(int sig)
{
	caught_signal = sig;
}

/* Signals that would leave the terminal without echo are caught while reading, then re-raised
 * once the terminal is restored (as OpenBSD's readpassphrase does). */
static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU };

int
cli_prompt_secret(const char *prompt, char **out)
{
	struct sigaction sa, saved[INK_ARRAY_LEN(tty_signals)];
	struct termios term, saved_term;
	char *line = NULL, ch;
	size_t i, len = 0;
	ssize_t n;
	int fd = -1, r = INK_ERR_IO;
	bool restore = false, overflow = false;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return INK_ERR_UNSUPPORTED;
	if ((line = secmem_alloc(SECRET_MAX + 1)) == NULL) {
		close(fd);
		return INK_ERR_ALLOC;
	}
	caught_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < INK_ARRAY_LEN(tty_signals); i++)
		(void)sigaction(tty_signals[i], &sa, &saved[i]);
	if (tcgetattr(fd, &saved_term) == 0) {
		term = saved_term;
		term.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (tcsetattr(fd, TCSAFLUSH, &term) == 0)
			restore = true;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		goto done;
	for (;;) {
		n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR && caught_signal == 0)
			continue;
		if (n < 0)
			goto done;
		if (n == 0 || ch == '\n' || ch == '\r')
			break;
		if (len < SECRET_MAX)
			line[len++] = ch;
		else
			overflow = true;
	}
	line[len] = '\0';
	ch = 0;
	r = overflow ? INK_ERR_TOO_LARGE : 0;
done:
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &saved_term);
	if (write(fd, "\n", 1) < 0) {
		/* the newline only tidies the terminal */
	}
	close(fd);
	for (i = 0; i < INK_ARRAY_LEN(tty_signals); i++)
		(void)sigaction(tty_signals[i], &saved[i], NULL);
	if (caught_signal != 0) {
		secmem_free(line);
		(void)raise(caught_signal);
		return INK_ERR_IO;
	}
	if (r != 0) {
		secmem_free(line);
		return r;
	}
	*out = line;
	return 0;
}

/* First line of a file (without the line end) as a secmem string. */
static int
secret_from_file(struct cli_ctx *c, const char *path, char **out)
{
	char *data = NULL, *s = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = ink_read_file(path, SECRET_MAX, &data, &len)) != 0)
		return cli_fail(c, r, "cannot read password file %s: %s", path, ink_err_str(r));
	len = strcspn(data, "\r\n");
	data[len] = '\0';
	if ((s = secmem_strdup(data)) == NULL)
		r = INK_ERR_ALLOC;
	ink_freezero_str(data);
	if (r != 0)
		return r;
	*out = s;
	return 0;
}

/* env, else a prompt on the terminal. */
static int
secret_from_env_or_tty(struct cli_ctx *c, const char *env, const char *prompt, char **out)
{
	const char *v = getenv(env);
	char *s = NULL;
	int r;

	*out = NULL;
	if (v != NULL && *v != '\0') {
		if ((s = secmem_strdup(v)) == NULL)
			return INK_ERR_ALLOC;
		*out = s;
		return 0;
	}
	r = cli_prompt_secret(prompt, out);
	if (r == INK_ERR_UNSUPPORTED)
		return cli_fail(c, r, "no terminal to prompt on: set %s", env);
	if (r == INK_ERR_TOO_LARGE)
		return cli_fail(c, r, "input too long");
	return r;
}

int
cli_get_password(struct cli_ctx *c, const char *prompt, char **out)
{
	*out = NULL;
	if (c->password_file != NULL)
		return secret_from_file(c, c->password_file, out);
	return secret_from_env_or_tty(c, "INKAN_PASSWORD", prompt, out);
}

int
cli_get_otp(struct cli_ctx *c, char **out)
{
	return secret_from_env_or_tty(c, "INKAN_OTP", "TOTP code: ", out);
}

int
cli_get_second_otp(struct cli_ctx *c, char **out)
{
	return secret_from_env_or_tty(c, "INKAN_SECOND_OTP", "Second officer's TOTP code: ", out);
}

/* A secret being set: env, else asked twice on the terminal (both answers must match). */
static int
new_secret(struct cli_ctx *c, const char *env, const char *prompt, const char *again,
           const char *what, char **out)
{
	const char *v = getenv(env);
	char *a = NULL, *b = NULL;
	int r;

	*out = NULL;
	if (v != NULL && *v != '\0')
		return secret_from_env_or_tty(c, env, "", out);
	if ((r = secret_from_env_or_tty(c, env, prompt, &a)) != 0)
		goto out;
	if ((r = cli_prompt_secret(again, &b)) != 0)
		goto out;
	if (strlen(a) != strlen(b) || !ink_ct_equal(a, b, strlen(a))) {
		r = cli_fail(c, INK_ERR_INVALID, "the new %ss do not match", what);
		goto out;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	secmem_free(a);
	secmem_free(b);
	return r;
}

int
cli_get_new_password(struct cli_ctx *c, char **out)
{
	return new_secret(c, "INKAN_NEW_PASSWORD", "New password: ", "Repeat new password: ",
	                  "password", out);
}

int
cli_get_pin(struct cli_ctx *c, const char *prompt, char **out)
{
	return secret_from_env_or_tty(c, "INKAN_PIN", prompt, out);
}

int
cli_get_new_pin(struct cli_ctx *c, const char *env, char **out)
{
	return new_secret(c, env, "New signing PIN: ", "Repeat new signing PIN: ", "PIN", out);
}
