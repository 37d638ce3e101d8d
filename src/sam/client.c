/* client: inkand's side of the SAM channels: spawns inkan-sam, one request at a time on each
 * channel, and notices (never hides) its death. */
#include "sam/sam.h"

#include "audit/audit.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "formats/formats.h"

struct sam_client {
	int fd[SAM_CHANNELS_MAX];
	size_t nfd;
	bool busy[SAM_CHANNELS_MAX]; /* a request/reply exchange under way on that channel */
	unsigned nbusy, nwait;     /* channels busy, callers waiting for one (the metrics') */
	pid_t pid;
	pthread_mutex_t mu;        /* guards busy */
	pthread_cond_t freed;      /* a channel became free */
	pthread_t monitor;
	bool monitor_started;
	atomic_bool dead;
	atomic_bool stopping;      /* we asked it to stop: its exit is no incident */
	void (*hook)(void *, int);
	void *hook_arg;
	pthread_mutex_t hook_mu;
};

/* From now on every call fails at once, and whoever waits for a channel stops waiting. */
static void
mark_dead(struct sam_client *c)
{
	pthread_mutex_lock(&c->mu);
	atomic_store(&c->dead, true);
	pthread_cond_broadcast(&c->freed);
	pthread_mutex_unlock(&c->mu);
}

static void *
monitor_main(void *arg)
{
	struct sam_client *c = arg;
	int status = 0;
	pid_t r;

	do {
		r = waitpid(c->pid, &status, 0);
	} while (r < 0 && errno == EINTR);
	mark_dead(c);
	if (atomic_load(&c->stopping))
		log_info("inkan-sam (pid %d) stopped", (int)c->pid);
	else if (WIFSIGNALED(status))
		log_error("inkan-sam (pid %d) killed by signal %d; signing is unavailable until "
		          "inkand is restarted", (int)c->pid, WTERMSIG(status));
	else
		log_error("inkan-sam (pid %d) exited with status %d; signing is unavailable until "
		          "inkand is restarted", (int)c->pid, WEXITSTATUS(status));
	pthread_mutex_lock(&c->hook_mu);
	if (c->hook != NULL)
		c->hook(c->hook_arg, status);
	pthread_mutex_unlock(&c->hook_mu);
	return NULL;
}

int
sam_client_spawn(const char *sam_path, const char *data_dir, const char *config,
                 struct sam_client **out)
{
	return sam_client_spawn_as(sam_path, data_dir, config, 1, (uid_t)-1, (gid_t)-1, out);
}

/* In the child: becomes uid/gid for good (no way back to the caller's identity). */
static bool
child_drop(uid_t uid, gid_t gid)
{
	if (uid == (uid_t)-1)
		return true;
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return false;
	return getuid() == uid && geteuid() == uid && getgid() == gid && setuid(0) != 0;
}

int
sam_client_spawn_as(const char *sam_path, const char *data_dir, const char *config,
                    size_t channels, uid_t uid, gid_t gid, struct sam_client **out)
{
	struct sam_client *c = NULL;
	int sv[SAM_CHANNELS_MAX][2], r = INK_ERR_INTERNAL;
	char fdarg[SAM_CHANNELS_MAX * 12];
	size_t i, n = 0, off;
	pid_t pid;

	*out = NULL;
	if (channels == 0 || channels > SAM_CHANNELS_MAX)
		return INK_ERR_INVALID;
	if (access(sam_path, X_OK) != 0) {
		log_error("cannot execute %s", sam_path);
		return INK_ERR_SAM_UNAVAILABLE;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return INK_ERR_ALLOC;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->freed, NULL);
	pthread_mutex_init(&c->hook_mu, NULL);
	for (n = 0; n < channels; n++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv[n]) != 0) {
			r = INK_ERR_IO;
			goto out;
		}
	}
	if ((pid = fork()) < 0) {
		r = INK_ERR_IO;
		goto out;
	}
	if (pid == 0) {
		/* Child: keep only our ends, without close-on-exec, become the SAM's user, and die
		 * with the parent (after the identity change, which clears the death signal). */
		for (i = 0, off = 0; i < channels; i++) {
			close(sv[i][0]);
			if (fcntl(sv[i][1], F_SETFD, 0) != 0)
				_exit(127);
			off += (size_t)snprintf(fdarg + off, sizeof(fdarg) - off, "%s%d", i > 0 ? "," : "",
			                        sv[i][1]);
		}
		if (!child_drop(uid, gid))
			_exit(127);
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (config != NULL)
			execl(sam_path, "inkan-sam", "--fd", fdarg, "--data", data_dir, "--config", config,
			      (char *)NULL);
		else
			execl(sam_path, "inkan-sam", "--fd", fdarg, "--data", data_dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < channels; i++) {
		close(sv[i][1]);
		c->fd[i] = sv[i][0];
	}
	c->nfd = channels;
	n = 0;
	c->pid = pid;
	if (pthread_create(&c->monitor, NULL, monitor_main, c) != 0) {
		r = INK_ERR_INTERNAL;
		goto out;
	}
	c->monitor_started = true;
	if ((r = sam_ping(c)) != 0) {
		log_error("inkan-sam did not answer: %s", ink_err_str(r));
		goto out;
	}
	log_info("inkan-sam started (pid %d, %zu channel%s)", (int)pid, channels,
	         channels == 1 ? "" : "s");
	*out = c;
	c = NULL;
	r = 0;
out:
	for (i = 0; i < n; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	sam_client_free(c);
	return r;
}

void
sam_client_set_death_hook(struct sam_client *c, void (*fn)(void *arg, int status), void *arg)
{
	pthread_mutex_lock(&c->hook_mu);
	c->hook = fn;
	c->hook_arg = arg;
	pthread_mutex_unlock(&c->hook_mu);
}

void
sam_client_free(struct sam_client *c)
{
	if (c == NULL)
		return;
	sam_client_set_death_hook(c, NULL, NULL);
	atomic_store(&c->stopping, true);
	/* EOF tells the SAM to wipe its keys and exit. */
	for (size_t i = 0; i < c->nfd; i++) {
		shutdown(c->fd[i], SHUT_RDWR);
		close(c->fd[i]);
	}
	if (c->monitor_started) {
		if (!atomic_load(&c->dead) && c->pid > 0) {
			/* Give it a moment to exit on EOF, then insist. */
			for (int i = 0; i < 50 && !atomic_load(&c->dead); i++)
				usleep(20000);
			if (!atomic_load(&c->dead))
				kill(c->pid, SIGKILL);
		}
		pthread_join(c->monitor, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->freed);
	pthread_mutex_destroy(&c->hook_mu);
	free(c);
}

pid_t
sam_client_pid(const struct sam_client *c)
{
	return c->pid;
}

void
sam_client_load(struct sam_client *c, struct sam_load *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	out->channels = (unsigned)c->nfd;
	out->busy = c->nbusy;
	out->waiting = c->nwait;
	pthread_mutex_unlock(&c->mu);
	out->alive = !atomic_load(&c->dead);
}

/* Sends req and reads the reply into rep; an ERR reply becomes its error code. */
static int
sam_call(struct sam_client *c, const struct ink_buf *req, struct ink_buf *rep)
{
	size_t ch;
	int r;

	if (c == NULL || atomic_load(&c->dead))
		return INK_ERR_SAM_UNAVAILABLE;
	if (req->len == 0 || req->len > SAM_FRAME_MAX)
		return INK_ERR_TOO_LARGE;   /* refused before a byte is sent: the channel stays in step */
	/* A free channel (they are all alike); wait for one when every one is busy. */
	pthread_mutex_lock(&c->mu);
	for (;;) {
		for (ch = 0; ch < c->nfd && c->busy[ch]; ch++)
			;
		if (ch < c->nfd || atomic_load(&c->dead))
			break;
		c->nwait++;
		pthread_cond_wait(&c->freed, &c->mu);
		c->nwait--;
	}
	if (ch == c->nfd) {
		pthread_mutex_unlock(&c->mu);
		return INK_ERR_SAM_UNAVAILABLE;
	}
	c->busy[ch] = true;
	c->nbusy++;
	pthread_mutex_unlock(&c->mu);
	r = sam_frame_write(c->fd[ch], req);
	if (r == 0)
		r = sam_frame_read(c->fd[ch], rep);
	pthread_mutex_lock(&c->mu);
	c->busy[ch] = false;
	c->nbusy--;
	pthread_cond_signal(&c->freed);
	pthread_mutex_unlock(&c->mu);
	if (r != 0) {
		/* A broken or out-of-step channel is a dead SAM, whatever waitpid says yet: the next
		 * request must never read the rest of this one's reply. */
		mark_dead(c);
		log_error("channel to inkan-sam failed (%s); signing is unavailable until inkand is "
		          "restarted", ink_err_str(r));
		return INK_ERR_SAM_UNAVAILABLE;
	}
	return sam_reply_status(rep);
}

int
sam_ping(struct sam_client *c)
{
	struct ink_buf req, rep;
	uint32_t pid;
	int r;

	buf_init(&req, SAM_FRAME_MAX, false);
	buf_init(&rep, SAM_FRAME_MAX, false);
	if ((r = buf_put_u8(&req, SAM_MSG_PING)) != 0)
		goto out;
	if ((r = sam_call(c, &req, &rep)) != 0)
		goto out;
	if ((r = buf_get_u32(&rep, &pid)) != 0)
		goto out;
	r = (pid_t)pid == c->pid ? 0 : INK_ERR_PROTOCOL;
out:
	buf_free(&req);
	buf_free(&rep);
	return r;
}

/* ---- key manager ---- */

/* One exchange with a request that may carry secrets (both buffers are wiped on free). */
struct exch {
	struct ink_buf req, rep;
};

static void
exch_init(struct exch *x, uint8_t type, int *r)
{
	buf_init(&x->req, SAM_FRAME_MAX, true);
	buf_init(&x->rep, SAM_FRAME_MAX, true);
	*r = buf_put_u8(&x->req, type);
}

static void
exch_free(struct exch *x)
{
	buf_free(&x->req);
	buf_free(&x->rep);
}

static const char *
any(const char *owner)
{
	return owner != NULL ? owner : "";
}

int
sam_key_create(struct sam_client *c, const uint8_t session[static 32], const char *algo,
               const char *pin, bool external, struct sam_cred *out, uint8_t **csr,
               size_t *csr_len)
{
	struct exch x;
	const uint8_t *p;
	size_t n;
	int r;

	memset(out, 0, sizeof(*out));
	*csr = NULL;
	*csr_len = 0;
	exch_init(&x, SAM_MSG_KEY_CREATE, &r);
	if (r != 0 || (r = buf_put_string(&x.req, session, 32)) != 0 ||
	    (r = buf_put_cstring(&x.req, algo != NULL ? algo : "")) != 0 ||
	    (r = buf_put_cstring(&x.req, pin)) != 0 || (r = buf_put_u8(&x.req, external ? 1 : 0)) != 0)
		goto out;
	if ((r = sam_call(c, &x.req, &x.rep)) != 0 || (r = sam_get_cred(&x.rep, out)) != 0)
		goto out;
	if ((r = buf_get_string_ptr(&x.rep, &p, &n, 65536)) != 0)
		goto out;
	if (n > 0) {
		if ((*csr = malloc(n)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		memcpy(*csr, p, n);
		*csr_len = n;
	}
out:
	if (r != 0)
		sam_cred_clear(out);
	exch_free(&x);
	return r;
}

int
sam_key_list(struct sam_client *c, const char *owner, struct sam_cred **out, size_t *n)
{
	struct exch x;
	struct sam_cred *v = NULL;
	uint32_t cnt = 0, i = 0;
	int r;

	*out = NULL;
	*n = 0;
	exch_init(&x, SAM_MSG_KEY_LIST, &r);
	if (r != 0 || (r = buf_put_cstring(&x.req, any(owner))) != 0 ||
	    (r = sam_call(c, &x.req, &x.rep)) != 0 || (r = buf_get_u32(&x.rep, &cnt)) != 0)
		goto out;
	if (cnt > buf_remaining(&x.rep)) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if (cnt > 0 && (v = calloc(cnt, sizeof(*v))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < cnt; i++)
		if ((r = sam_get_cred(&x.rep, &v[i])) != 0)
			goto out;
	*out = v;
	*n = cnt;
	v = NULL;
out:
	sam_creds_free(v, i);
	exch_free(&x);
	return r;
}

/* Requests whose reply is one credential. */
static int
cred_reply(struct sam_client *c, struct exch *x, int r, struct sam_cred *out)
{
	if (r == 0)
		r = sam_call(c, &x->req, &x->rep);
	if (r == 0)
		r = sam_get_cred(&x->rep, out);
	exch_free(x);
	return r;
}

int
sam_key_get(struct sam_client *c, const char *owner, const char *id, struct sam_cred *out)
{
	struct exch x;
	int r;

	memset(out, 0, sizeof(*out));
	exch_init(&x, SAM_MSG_KEY_GET, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, any(owner))) == 0)
		r = buf_put_cstring(&x.req, id);
	return cred_reply(c, &x, r, out);
}

int
sam_key_import(struct sam_client *c, const uint8_t session[static 32], const char *id,
               const uint8_t *cert, size_t len, struct sam_cred *out)
{
	struct exch x;
	int r;

	memset(out, 0, sizeof(*out));
	exch_init(&x, SAM_MSG_KEY_IMPORT, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, id)) == 0)
		r = buf_put_string(&x.req, cert, len);
	return cred_reply(c, &x, r, out);
}

int
sam_key_renew(struct sam_client *c, const uint8_t session[static 32], const char *id,
              const char *pin, const char *otp, struct sam_cred *out, int64_t *step)
{
	struct exch x;
	uint64_t st = 0;
	int r;

	memset(out, 0, sizeof(*out));
	*step = -1;
	exch_init(&x, SAM_MSG_KEY_RENEW, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, id)) == 0 && (r = buf_put_cstring(&x.req, pin)) == 0)
		r = buf_put_cstring(&x.req, otp);
	if (r == 0)
		r = sam_call(c, &x.req, &x.rep);
	if (r == 0)
		r = sam_get_cred(&x.rep, out);
	if (r == 0 && (r = buf_get_u64(&x.rep, &st)) == 0)
		*step = (int64_t)st;
	if (r != 0)
		sam_cred_clear(out);
	exch_free(&x);
	return r;
}

/* Requests whose reply carries nothing (u32 count when count != NULL). */
static int
plain_reply(struct sam_client *c, struct exch *x, int r, uint32_t *count)
{
	if (r == 0)
		r = sam_call(c, &x->req, &x->rep);
	if (r == 0 && count != NULL)
		r = buf_get_u32(&x->rep, count);
	exch_free(x);
	return r;
}

/* Sends x (r: how building it went) and reads the OTP step the SAM used into *step. */
static int
step_reply(struct sam_client *c, struct exch *x, int r, int64_t *step)
{
	uint64_t st = 0;

	if (r == 0)
		r = sam_call(c, &x->req, &x->rep);
	if (r == 0 && (r = buf_get_u64(&x->rep, &st)) == 0)
		*step = (int64_t)st;
	exch_free(x);
	return r;
}

int
sam_key_pin(struct sam_client *c, const uint8_t session[static 32], const char *id,
            const char *old_pin, const char *new_pin, const char *otp, int64_t *step)
{
	struct exch x;
	int r;

	*step = -1;
	exch_init(&x, SAM_MSG_KEY_PIN, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, id)) == 0 && (r = buf_put_cstring(&x.req, old_pin)) == 0 &&
	    (r = buf_put_cstring(&x.req, new_pin)) == 0)
		r = buf_put_cstring(&x.req, otp);
	return step_reply(c, &x, r, step);
}

int
sam_key_auth_mode(struct sam_client *c, const uint8_t session[static 32], const char *id,
                  const char *pin, uint32_t mode, const char *otp, int64_t *step)
{
	struct exch x;
	int r;

	*step = -1;
	exch_init(&x, SAM_MSG_KEY_AUTH_MODE, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, id)) == 0 && (r = buf_put_cstring(&x.req, pin)) == 0 &&
	    (r = buf_put_u32(&x.req, mode)) == 0)
		r = buf_put_cstring(&x.req, otp);
	return step_reply(c, &x, r, step);
}

int
sam_key_revoke(struct sam_client *c, const uint8_t session[static 32], const char *id,
               uint32_t reason)
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_KEY_REVOKE, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, id)) == 0)
		r = buf_put_u32(&x.req, reason);
	return plain_reply(c, &x, r, NULL);
}

int
sam_key_unlock(struct sam_client *c, const uint8_t session[static 32], const char *id)
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_KEY_UNLOCK, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0)
		r = buf_put_cstring(&x.req, id);
	return plain_reply(c, &x, r, NULL);
}

int
sam_restore(struct sam_client *c, const uint8_t session[static 32], const char *otp,
            const uint8_t *blob, size_t len, const uint8_t *crl, size_t crl_len, uint32_t *count)
{
	struct exch x;
	int r;

	*count = 0;
	exch_init(&x, SAM_MSG_RESTORE, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, otp != NULL ? otp : "")) == 0 &&
	    (r = buf_put_string(&x.req, blob, len)) == 0)
		r = buf_put_string(&x.req, crl, crl != NULL ? crl_len : 0);
	return plain_reply(c, &x, r, count);
}

int
sam_restore_bare(struct sam_client *c, const struct sam_bare_restore *b, const uint8_t *blob,
                 size_t len, const uint8_t *crl, size_t crl_len, uint32_t *count)
{
	struct exch x;
	int r;

	*count = 0;
	exch_init(&x, SAM_MSG_RESTORE_BARE, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, b->operator_id)) == 0 &&
	    (r = buf_put_cstring(&x.req, b->operator_otp != NULL ? b->operator_otp : "")) == 0 &&
	    (r = buf_put_cstring(&x.req, b->officer_id != NULL ? b->officer_id : "")) == 0 &&
	    (r = buf_put_cstring(&x.req, b->officer_otp != NULL ? b->officer_otp : "")) == 0 &&
	    (r = buf_put_string(&x.req, blob, len)) == 0)
		r = buf_put_string(&x.req, crl, crl != NULL ? crl_len : 0);
	return plain_reply(c, &x, r, count);
}

/* ---- persons and the SAM's sessions ---- */

/* A reply's cstring into secmem (*out, secmem_free it). */
static int
get_secret_string(struct ink_buf *rep, char **out)
{
	char *s = NULL;
	int r;

	*out = NULL;
	if ((s = secmem_alloc(128)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = buf_get_cstring(rep, s, 128)) != 0) {
		secmem_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int
sam_bootstrap(struct sam_client *c, const char *user_id, const char *username, const char *token,
              char **seed_b32)
{
	struct exch x;
	int r;

	*seed_b32 = NULL;
	exch_init(&x, SAM_MSG_BOOTSTRAP, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, user_id)) == 0 &&
	    (r = buf_put_cstring(&x.req, username)) == 0 &&
	    (r = buf_put_cstring(&x.req, token)) == 0 && (r = sam_call(c, &x.req, &x.rep)) == 0)
		r = get_secret_string(&x.rep, seed_b32);
	exch_free(&x);
	return r;
}

int
sam_login(struct sam_client *c, const char *user_id, const uint8_t session[static 32],
          const char *otp, const char *activation, const char *source, uint32_t *roles,
          bool *setup, int64_t *step)
{
	struct exch x;
	uint64_t st = 0;
	uint8_t su = 0;
	int r;

	*roles = 0;
	*setup = false;
	*step = -1;
	exch_init(&x, SAM_MSG_LOGIN, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, user_id)) == 0 &&
	    (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, otp != NULL ? otp : "")) == 0 &&
	    (r = buf_put_cstring(&x.req, activation != NULL ? activation : "")) == 0 &&
	    (r = buf_put_cstring(&x.req, source != NULL ? source : "")) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 && (r = buf_get_u32(&x.rep, roles)) == 0 &&
	    (r = buf_get_u8(&x.rep, &su)) == 0 && (r = buf_get_u64(&x.rep, &st)) == 0) {
		*setup = su != 0;
		*step = (int64_t)st;
	}
	exch_free(&x);
	return r;
}

int
sam_oauth_service(struct sam_client *c, const char *user_id, const char *client, const char *otp,
                  int64_t *step)
{
	struct exch x;
	uint64_t st = 0;
	int r;

	*step = -1;
	exch_init(&x, SAM_MSG_OAUTH_SERVICE, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, user_id)) == 0 &&
	    (r = buf_put_cstring(&x.req, client)) == 0 &&
	    (r = buf_put_cstring(&x.req, otp != NULL && strlen(otp) <= SAM_OTP_MAX ? otp : "")) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 && (r = buf_get_u64(&x.rep, &st)) == 0)
		*step = (int64_t)st;
	exch_free(&x);
	return r;
}

int
sam_logout(struct sam_client *c, const uint8_t session[static 32], enum sam_logout_which which)
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_LOGOUT, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0)
		r = buf_put_u8(&x.req, (uint8_t)which);
	return plain_reply(c, &x, r, NULL);
}

int
sam_enrol(struct sam_client *c, const uint8_t session[static 32], char **seed_b32)
{
	struct exch x;
	int r;

	*seed_b32 = NULL;
	exch_init(&x, SAM_MSG_ENROL, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0)
		r = get_secret_string(&x.rep, seed_b32);
	exch_free(&x);
	return r;
}

int
sam_enrol_confirm(struct sam_client *c, const uint8_t session[static 32], const char *otp,
                  const char *source, uint32_t *roles)
{
	struct exch x;
	uint64_t st = 0;
	int r;

	*roles = 0;
	exch_init(&x, SAM_MSG_ENROL_CONFIRM, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, otp)) == 0 &&
	    (r = buf_put_cstring(&x.req, source != NULL ? source : "")) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 && (r = buf_get_u64(&x.rep, &st)) == 0)
		r = buf_get_u32(&x.rep, roles);
	exch_free(&x);
	return r;
}

int
sam_register(struct sam_client *c, const uint8_t session[static 32], const struct sam_reg *g,
             char pseudonym[static SAM_PSEUDONYM_MAX + 1], char **activation)
{
	struct exch x;
	int r;

	pseudonym[0] = '\0';
	*activation = NULL;
	exch_init(&x, SAM_MSG_REGISTER, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, g->user_id)) == 0 &&
	    (r = buf_put_cstring(&x.req, g->username)) == 0 &&
	    (r = buf_put_cstring(&x.req, g->display_name)) == 0 &&
	    (r = buf_put_u32(&x.req, g->roles)) == 0 &&
	    (r = buf_put_cstring(&x.req, any(g->idv_method))) == 0 &&
	    (r = buf_put_cstring(&x.req, any(g->idv_evidence))) == 0 &&
	    (r = buf_put_cstring(&x.req, any(g->doc_type))) == 0 &&
	    (r = buf_put_cstring(&x.req, any(g->doc_number))) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 &&
	    (r = buf_get_cstring(&x.rep, pseudonym, SAM_PSEUDONYM_MAX + 1)) == 0)
		r = get_secret_string(&x.rep, activation);
	exch_free(&x);
	return r;
}

int
sam_role_set(struct sam_client *c, const uint8_t session[static 32], const char *target,
             uint32_t role, bool grant, uint32_t *roles)
{
	struct exch x;
	int r;

	*roles = 0;
	exch_init(&x, SAM_MSG_ROLE_SET, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, target)) == 0 && (r = buf_put_u32(&x.req, role)) == 0)
		r = buf_put_u8(&x.req, grant ? 1 : 0);
	return plain_reply(c, &x, r, roles);
}

int
sam_person_unlock(struct sam_client *c, const uint8_t session[static 32], const char *target,
                  const char *otp)
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_PERSON_UNLOCK, &r);
	if (r == 0 && (r = buf_put_string(&x.req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x.req, target)) == 0)
		r = buf_put_cstring(&x.req, otp != NULL ? otp : "");
	return plain_reply(c, &x, r, NULL);
}

/* The officer's acts that need their fresh OTP too: the request, sent; the reply in x->rep. */
static int
grave_act(struct sam_client *c, struct exch *x, uint8_t type, const uint8_t session[static 32],
          const char *target, const char *otp)
{
	int r;

	exch_init(x, type, &r);
	if (r == 0 && (r = buf_put_string(&x->req, session, 32)) == 0 &&
	    (r = buf_put_cstring(&x->req, target)) == 0 &&
	    (r = buf_put_cstring(&x->req, otp != NULL ? otp : "")) == 0)
		r = sam_call(c, &x->req, &x->rep);
	return r;
}

int
sam_reenrol(struct sam_client *c, const uint8_t session[static 32], const char *target,
            const char *otp, char **activation)
{
	struct exch x;
	int r;

	*activation = NULL;
	if ((r = grave_act(c, &x, SAM_MSG_REENROL, session, target, otp)) == 0)
		r = get_secret_string(&x.rep, activation);
	exch_free(&x);
	return r;
}

int
sam_person_remove(struct sam_client *c, const uint8_t session[static 32], const char *target,
                  const char *otp, uint32_t *count)
{
	struct exch x;
	int r;

	*count = 0;
	if ((r = grave_act(c, &x, SAM_MSG_PERSON_REMOVE, session, target, otp)) == 0)
		r = buf_get_u32(&x.rep, count);
	exch_free(&x);
	return r;
}

int
sam_person_get(struct sam_client *c, const char *id, struct sam_person *out)
{
	struct exch x;
	uint64_t created = 0, activated = 0, failures = 0;
	uint8_t enrolled = 0;
	int r;

	memset(out, 0, sizeof(*out));
	exch_init(&x, SAM_MSG_PERSON_GET, &r);
	if (r == 0 && (r = buf_put_cstring(&x.req, id)) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 &&
	    (r = buf_get_cstring(&x.rep, out->username, sizeof(out->username))) == 0 &&
	    (r = buf_get_cstring(&x.rep, out->display_name, sizeof(out->display_name))) == 0 &&
	    (r = buf_get_cstring(&x.rep, out->pseudonym, sizeof(out->pseudonym))) == 0 &&
	    (r = buf_get_u32(&x.rep, &out->roles)) == 0 &&
	    (r = buf_get_u32(&x.rep, &out->status)) == 0 && (r = buf_get_u8(&x.rep, &enrolled)) == 0 &&
	    (r = buf_get_u64(&x.rep, &created)) == 0 && (r = buf_get_u64(&x.rep, &activated)) == 0 &&
	    (r = buf_get_cstring(&x.rep, out->activated_from, sizeof(out->activated_from))) == 0 &&
	    (r = buf_get_u64(&x.rep, &failures)) == 0) {
		out->enrolled = enrolled != 0;
		out->created_at = (int64_t)created;
		out->activated_at = (int64_t)activated;
		out->otp_failures = (int64_t)failures;
	}
	exch_free(&x);
	return r;
}

/* A string field of a reply: a NUL-terminated copy in *out (malloc'd), its length in *len. */
static int
get_dup(struct ink_buf *rep, uint8_t **out, size_t *len)
{
	const uint8_t *p;
	size_t n;
	int r;

	if ((r = buf_get_string_ptr(rep, &p, &n, SAM_FRAME_MAX)) != 0)
		return r;
	if ((*out = malloc(n + 1)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(*out, p, n);
	(*out)[n] = 0;
	*len = n;
	return 0;
}

/* Requests with no field but a session (or none) whose reply is one byte string;
 * NUL-terminated copy in *out. */
static int
bytes_call(struct sam_client *c, uint8_t type, const uint8_t *session, uint8_t **out, size_t *len)
{
	struct exch x;
	int r;

	*out = NULL;
	*len = 0;
	exch_init(&x, type, &r);
	if (r == 0 && session != NULL)
		r = buf_put_string(&x.req, session, 32);
	if (r == 0 && (r = sam_call(c, &x.req, &x.rep)) == 0)
		r = get_dup(&x.rep, out, len);
	exch_free(&x);
	return r;
}

int
sam_ca_chain(struct sam_client *c, char **pem)
{
	size_t n;

	return bytes_call(c, SAM_MSG_CA_CHAIN, NULL, (uint8_t **)pem, &n);
}

int
sam_ca_tsa(struct sam_client *c, char **pem)
{
	size_t n;

	return bytes_call(c, SAM_MSG_CA_TSA, NULL, (uint8_t **)pem, &n);
}

int
sam_ca_crl(struct sam_client *c, uint8_t **der, size_t *len)
{
	return bytes_call(c, SAM_MSG_CA_CRL, NULL, der, len);
}

int
sam_ca_arl(struct sam_client *c, uint8_t **der, size_t *len)
{
	return bytes_call(c, SAM_MSG_CA_ARL, NULL, der, len);
}

int
sam_backup(struct sam_client *c, const uint8_t session[static 32], uint8_t **blob, size_t *len)
{
	return bytes_call(c, SAM_MSG_BACKUP, session, blob, len);
}

/* ---- signing ---- */

static int
put_hashes(struct ink_buf *b, const uint8_t *const *hashes, const size_t *lens, size_t n)
{
	size_t i, need;
	int r;

	if (n > UINT32_MAX)
		return INK_ERR_TOO_LARGE;
	for (i = 0, need = 4; i < n; i++)
		need += 4 + lens[i];
	if ((r = buf_reserve(b, need)) != 0 || (r = buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = buf_put_string(b, hashes[i], lens[i])) != 0)
			return r;
	return 0;
}

int
sam_authorize(struct sam_client *c, const struct sam_authz *a, uint8_t sad[static SAM_SAD_LEN],
              int64_t *step, int64_t *expires, char serial[static 41])
{
	struct exch x;
	const uint8_t *p;
	uint64_t st = 0, ex = 0;
	size_t n;
	int r;

	memset(sad, 0, SAM_SAD_LEN);
	*step = -1;
	*expires = 0;
	serial[0] = '\0';
	/* a client's consent comes with the person who gave it, and only so */
	if ((a->person != NULL) != (a->client != NULL))
		return INK_ERR_INVALID;
	exch_init(&x, a->person != NULL ? SAM_MSG_OAUTH_CONSENT : SAM_MSG_AUTHORIZE, &r);
	if (r != 0 || (a->person != NULL && (r = buf_put_cstring(&x.req, a->person)) != 0) ||
	    (r = buf_put_string(&x.req, a->session, 32)) != 0 ||
	    (a->client != NULL && (r = buf_put_cstring(&x.req, a->client)) != 0) ||
	    (r = buf_put_cstring(&x.req, a->cred)) != 0 ||
	    (r = buf_put_cstring(&x.req, a->otp)) != 0 ||
	    (r = buf_put_cstring(&x.req, a->pin)) != 0 ||
	    (r = buf_put_cstring(&x.req, a->hash_oid != NULL ? a->hash_oid : "")) != 0 ||
	    (r = buf_put_u32(&x.req, a->ttl)) != 0 ||
	    (r = put_hashes(&x.req, a->hashes, a->hash_lens, a->n)) != 0)
		goto out;
	if ((r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if ((r = buf_get_string_ptr(&x.rep, &p, &n, SAM_SAD_LEN)) != 0 || n != SAM_SAD_LEN ||
	    (r = buf_get_u64(&x.rep, &st)) != 0 || (r = buf_get_u64(&x.rep, &ex)) != 0 ||
	    (r = buf_get_cstring(&x.rep, serial, 41)) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	memcpy(sad, p, SAM_SAD_LEN);
	*step = (int64_t)st;
	*expires = (int64_t)ex;
out:
	exch_free(&x);
	return r;
}

#define SIGN_REPLY_ROOM(n) (4 + (n) * (4 + 139) + 4 + 41)

int
sam_sign(struct sam_client *c, const char *owner, const uint8_t session[static 32],
         const char *cred, const uint8_t sad[static SAM_SAD_LEN], const char *sig_alg,
         const char *hash_oid, long pss_salt, const uint8_t *const *hashes,
         const size_t *hash_lens, size_t n, uint8_t **sigs, size_t *sig_lens,
         char serial[static 41])
{
	struct exch x;
	const uint8_t *p;
	uint32_t got = 0, i = 0;
	size_t len;
	int r;

	serial[0] = '\0';
	for (len = 0; len < n; len++) {
		sigs[len] = NULL;
		sig_lens[len] = 0;
	}
	exch_init(&x, SAM_MSG_SIGN, &r);
	if (r != 0 || (r = buf_put_cstring(&x.req, owner)) != 0 ||
	    (r = buf_put_string(&x.req, session, 32)) != 0 || (r = buf_put_cstring(&x.req, cred)) != 0 ||
	    (r = buf_put_string(&x.req, sad, SAM_SAD_LEN)) != 0 ||
	    (r = buf_put_cstring(&x.req, sig_alg)) != 0 ||
	    (r = buf_put_cstring(&x.req, hash_oid != NULL ? hash_oid : "")) != 0 ||
	    (r = buf_put_u32(&x.req, pss_salt >= 0 ? (uint32_t)pss_salt : UINT32_MAX)) != 0 ||
	    (r = put_hashes(&x.req, hashes, hash_lens, n)) != 0)
		goto out;
	/* The answer's room at once (an ECDSA signature of up to P-521 each; RSA grows it) */
	if ((r = buf_reserve(&x.rep, SIGN_REPLY_ROOM(n))) != 0 ||
	    (r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if ((r = buf_get_u32(&x.rep, &got)) != 0 || got != n) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < got; i++) {
		if ((r = buf_get_string_ptr(&x.rep, &p, &len, 4096)) != 0 || len == 0)
			goto fail;
		if ((sigs[i] = malloc(len)) == NULL) {
			r = INK_ERR_ALLOC;
			goto fail;
		}
		memcpy(sigs[i], p, len);
		sig_lens[i] = len;
	}
	if ((r = buf_get_cstring(&x.rep, serial, 41)) != 0)
		goto fail;
	goto out;
fail:
	if (r == 0)
		r = INK_ERR_PROTOCOL;
	for (len = 0; len < n; len++) {
		free(sigs[len]);
		sigs[len] = NULL;
		sig_lens[len] = 0;
	}
out:
	exch_free(&x);
	return r;
}

int
sam_sad_drop(struct sam_client *c, const uint8_t sad[static SAM_SAD_LEN])
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_SAD_DROP, &r);
	if (r == 0)
		r = buf_put_string(&x.req, sad, SAM_SAD_LEN);
	return plain_reply(c, &x, r, NULL);
}

/* ---- the audit log's signer ---- */

int
sam_log_head(struct sam_client *c, struct audit_head *out, bool *closed, uint8_t **spki,
             size_t *len)
{
	struct exch x;
	const uint8_t *p;
	uint8_t cl = 0;
	size_t n;
	int r;

	*closed = false;
	memset(out, 0, sizeof(*out));
	*spki = NULL;
	*len = 0;
	exch_init(&x, SAM_MSG_LOG_HEAD, &r);
	if (r != 0 || (r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if ((r = sam_get_head(&x.rep, out)) != 0 || buf_get_u8(&x.rep, &cl) != 0 || cl > 1 ||
	    buf_get_string_ptr(&x.rep, &p, &n, 4096) != 0 ||
	    n == 0 || buf_remaining(&x.rep) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((*spki = malloc(n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*spki, p, n);
	*len = n;
	*closed = cl == 1;
out:
	exch_free(&x);
	return r;
}

int
sam_log_extend(struct sam_client *c, uint64_t from, const uint8_t *leaves, size_t n, bool final,
               const int64_t *ids, const int64_t *seqs, size_t m, struct audit_head *out)
{
	struct exch x;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if (n > UINT32_MAX || m > n || n > (SAM_FRAME_MAX - 64) / (AUDIT_HASH_LEN + 16))
		return INK_ERR_TOO_LARGE;
	exch_init(&x, SAM_MSG_LOG_EXTEND, &r);
	if (r != 0 || (r = buf_put_u64(&x.req, from)) != 0 ||
	    (r = buf_put_u8(&x.req, final ? 1 : 0)) != 0 || (r = buf_put_u32(&x.req, (uint32_t)m)) != 0)
		goto out;
	for (i = 0; i < m; i++)
		if ((r = buf_put_u64(&x.req, (uint64_t)ids[i])) != 0 ||
		    (r = buf_put_u64(&x.req, (uint64_t)seqs[i])) != 0)
			goto out;
	if ((r = buf_put_u32(&x.req, (uint32_t)n)) != 0 ||
	    (n > 0 && (r = buf_put(&x.req, leaves, n * AUDIT_HASH_LEN)) != 0))
		goto out;
	if ((r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if ((r = sam_get_head(&x.rep, out)) != 0 || buf_remaining(&x.rep) != 0)
		r = INK_ERR_PROTOCOL;
out:
	exch_free(&x);
	return r;
}

int
sam_log_pending(struct sam_client *c, int64_t after, char epoch[static SAM_EPOCH_MAX + 1],
                int64_t **ids, struct store_audit_rec **recs, size_t *n)
{
	struct exch x;
	struct store_audit_rec *rv = NULL;
	int64_t *iv = NULL;
	uint64_t id = 0, t = 0;
	uint32_t cnt = 0, i = 0;
	int r;

	epoch[0] = '\0';
	*ids = NULL;
	*recs = NULL;
	*n = 0;
	exch_init(&x, SAM_MSG_LOG_PENDING, &r);
	if (r != 0 || (r = buf_put_u64(&x.req, (uint64_t)after)) != 0 ||
	    (r = sam_call(c, &x.req, &x.rep)) != 0 ||
	    (r = buf_get_cstring(&x.rep, epoch, SAM_EPOCH_MAX + 1)) != 0 ||
	    (r = buf_get_u32(&x.rep, &cnt)) != 0)
		goto out;
	if (cnt > SAM_LOG_PENDING_MAX) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if (cnt > 0 && ((iv = calloc(cnt, sizeof(*iv))) == NULL ||
	                (rv = calloc(cnt, sizeof(*rv))) == NULL)) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		struct store_audit_rec *a = &rv[i];

		if ((r = buf_get_u64(&x.rep, &id)) != 0 || (r = buf_get_u64(&x.rep, &t)) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->actor, sizeof(a->actor))) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->role, sizeof(a->role))) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->action, sizeof(a->action))) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->subject, sizeof(a->subject))) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->result, sizeof(a->result))) != 0 ||
		    (r = buf_get_cstring(&x.rep, a->detail, sizeof(a->detail))) != 0)
			goto out;
		iv[i] = (int64_t)id;
		a->time = (int64_t)t;
		snprintf(a->request_id, sizeof(a->request_id), "sam-%s-%lld", epoch, (long long)id);
		snprintf(a->source, sizeof(a->source), "%s", SAM_AUDIT_SOURCE);
	}
	if (buf_remaining(&x.rep) != 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	*ids = iv;
	*recs = rv;
	*n = cnt;
	iv = NULL;
	rv = NULL;
out:
	free(iv);
	free(rv);
	exch_free(&x);
	return r;
}

int
sam_log_close(struct sam_client *c)
{
	struct exch x;
	int r;

	exch_init(&x, SAM_MSG_LOG_CLOSE, &r);
	return plain_reply(c, &x, r, NULL);
}

/* ---- time-stamps ---- */

int
sam_tsa_stamp(struct sam_client *c, const struct formats_tsa_req *tr, uint8_t **resp, size_t *len,
              char serial_hex[static 65], int64_t *gen_time)
{
	struct exch x;
	const uint8_t *p;
	size_t n;
	uint64_t gen = 0;
	int r;

	*resp = NULL;
	*len = 0;
	serial_hex[0] = '\0';
	*gen_time = 0;
	exch_init(&x, SAM_MSG_TSA_STAMP, &r);
	if (r != 0 || (r = buf_put_cstring(&x.req, tr->hash_oid)) != 0 ||
	    (r = buf_put_string(&x.req, tr->imprint, tr->imprint_len)) != 0 ||
	    (r = buf_put_string(&x.req, tr->nonce, tr->nonce != NULL ? tr->nonce_len : 0)) != 0 ||
	    (r = buf_put_u8(&x.req, tr->cert_req ? 1 : 0)) != 0 || (r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if ((r = buf_get_string_ptr(&x.rep, &p, &n, SAM_FRAME_MAX)) != 0 ||
	    (r = buf_get_cstring(&x.rep, serial_hex, 65)) != 0 || (r = buf_get_u64(&x.rep, &gen)) != 0 ||
	    buf_remaining(&x.rep) != 0 || n == 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((*resp = malloc(n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*resp, p, n);
	*len = n;
	*gen_time = (int64_t)gen;
out:
	exch_free(&x);
	return r;
}

/* ---- OCSP ---- */

int
sam_ocsp(struct sam_client *c, bool may_sign, const uint8_t *nonce, size_t nonce_len,
         const uint8_t *const *ids, const size_t *id_lens, size_t n, uint8_t **resp, size_t *len,
         bool *fresh)
{
	struct exch x;
	const uint8_t *p;
	size_t plen, i;
	uint8_t f = 0;
	int r;

	*resp = NULL;
	*len = 0;
	*fresh = false;
	exch_init(&x, SAM_MSG_OCSP, &r);
	if (r != 0 || (r = buf_put_u8(&x.req, may_sign ? 1 : 0)) != 0 ||
	    (r = buf_put_string(&x.req, nonce, nonce != NULL ? nonce_len : 0)) != 0 ||
	    (r = buf_put_u32(&x.req, (uint32_t)n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = buf_put_string(&x.req, ids[i], id_lens[i])) != 0)
			goto out;
	if ((r = sam_call(c, &x.req, &x.rep)) != 0)
		goto out;
	if (buf_get_string_ptr(&x.rep, &p, &plen, SAM_FRAME_MAX) != 0 ||
	    buf_get_u8(&x.rep, &f) != 0 || f > 1 || buf_remaining(&x.rep) != 0 || plen == 0) {
		r = INK_ERR_PROTOCOL;
		goto out;
	}
	if ((*resp = malloc(plen)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*resp, p, plen);
	*len = plen;
	*fresh = f == 1;
out:
	exch_free(&x);
	return r;
}

int
sam_attest(struct sam_client *c, const uint8_t *nonce, size_t nonce_len, char **text,
           uint8_t **sig, size_t *sig_len, uint8_t **spki, size_t *spki_len)
{
	struct exch x;
	uint8_t *t = NULL;
	size_t tl = 0;
	int r;

	*text = NULL;
	*sig = *spki = NULL;
	*sig_len = *spki_len = 0;
	exch_init(&x, SAM_MSG_ATTEST, &r);
	if (r == 0 && (r = buf_put_string(&x.req, nonce, nonce_len)) == 0 &&
	    (r = sam_call(c, &x.req, &x.rep)) == 0 && (r = get_dup(&x.rep, &t, &tl)) == 0 &&
	    (r = get_dup(&x.rep, sig, sig_len)) == 0 && (r = get_dup(&x.rep, spki, spki_len)) == 0 &&
	    (strlen((char *)t) != tl || buf_remaining(&x.rep) != 0))
		r = INK_ERR_PROTOCOL;
	if (r == 0) {
		*text = (char *)t;
		t = NULL;
	} else {
		free(*sig);
		free(*spki);
		*sig = *spki = NULL;
		*sig_len = *spki_len = 0;
	}
	free(t);
	exch_free(&x);
	return r;
}
