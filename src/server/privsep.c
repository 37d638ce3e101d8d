/* privsep: inkand started as root makes DATA root's and brings it to the current layout, hands
 * DATA/sam and DATA/ca to sam_user and DATA/inkand to user, starts inkan-sam as sam_user and
 * then becomes user for good — so that a compromise of the HTTP process can neither read the
 * master key or the key store nor change anything the SAM reads. */
#include "server/server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		log_error("no such Unix user: %s", name);
		return INK_ERR_CONFIG;
	}
	if (pw.pw_uid == 0) {
		log_error("Unix user %s is root: pick an unprivileged user", name);
		return INK_ERR_CONFIG;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

int
srv_privsep_plan(const struct ink_config *cfg, struct srv_privsep *ps)
{
	int r;

	memset(ps, 0, sizeof(*ps));
	ps->uid = ps->sam_uid = (uid_t)-1;
	ps->gid = ps->sam_gid = (gid_t)-1;
	if (cfg->user[0] == '\0' && cfg->sam_user[0] == '\0') {
		if (geteuid() == 0)
			log_warn("running as root with inkan-sam under the same user: set user and "
			         "sam_user so that inkand cannot read the master key (docs/architecture.md)");
		return 0;
	}
	if (geteuid() != 0) {
		log_error("user and sam_user need inkand started as root");
		return INK_ERR_CONFIG;
	}
	if (cfg->user[0] == '\0') {
		log_error("sam_user needs user too: inkand must not keep running as root");
		return INK_ERR_CONFIG;
	}
	if ((r = lookup(cfg->user, &ps->uid, &ps->gid)) != 0)
		return r;
	if (cfg->sam_user[0] != '\0') {
		if ((r = lookup(cfg->sam_user, &ps->sam_uid, &ps->sam_gid)) != 0)
			return r;
		if (ps->sam_uid == ps->uid) {
			log_error("user and sam_user are the same Unix user (uid %u): the SAM must be "
			          "apart", (unsigned)ps->uid);
			return INK_ERR_CONFIG;
		}
		if (ps->sam_gid == ps->gid)
			log_warn("user and sam_user share their primary group; group access is "
			         "removed from DATA/sam anyway");
	} else {
		log_warn("user without sam_user: inkan-sam runs as %s too, so inkand's user can read "
		         "the master key", cfg->user);
		ps->sam_uid = ps->uid;
		ps->sam_gid = ps->gid;
	}
	ps->active = true;
	return 0;
}

/* Where an entry belongs. */
enum own_class {
	OWN_SRV,    /* DATA/inkand: inkand's user */
	OWN_SAM,    /* DATA/sam: sam_user alone */
	OWN_PUB,    /* DATA/ca: sam_user writes, everyone reads */
	OWN_CONF,   /* the configuration: root's, read by both */
	OWN_ROOT,   /* anything else in DATA: root's */
};

#define OWN_DEPTH_MAX 16

/* The walk's fixed inputs. */
struct own_walk {
	const struct srv_privsep *ps;
	const char *config;
	dev_t conf_dev;
	ino_t conf_ino;
	bool have_conf;
};

/* Gives the open entry fd (described by st) its owner and mode. Descriptors only: nothing
 * is looked up by path again, so a swapped link cannot redirect root's chown or chmod. */
static int
own_fd(const struct own_walk *w, int fd, const struct stat *st, enum own_class cls,
       const char *name)
{
	const struct srv_privsep *ps = w->ps;
	uid_t uid = cls == OWN_SRV ? ps->uid : ps->sam_uid;
	gid_t gid = cls == OWN_SRV ? ps->gid : ps->sam_gid;
	mode_t mode;

	if (cls == OWN_CONF || cls == OWN_ROOT) {
		/* The configuration: read by both processes, changed by neither. Anything else in
		 * DATA: root's, without group or other write. */
		uid = 0;
		gid = 0;
		mode = cls == OWN_CONF ? 0644 : st->st_mode & 0755;
	} else if (cls == OWN_PUB) {
		/* DATA/ca: what the SAM publishes (root, chain, the audit log's key): everyone
		 * reads it, only the SAM writes it. */
		mode = S_ISDIR(st->st_mode) ? 0755 : 0644;
	} else if (S_ISDIR(st->st_mode)) {
		mode = 0700;
	} else {
		mode = st->st_mode & 0600;
	}
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, mode) != 0) {
		log_error("DATA/%s: cannot hand over: %s", name, strerror(errno));
		return INK_ERR_IO;
	}
	return 0;
}

/* The configuration file met in DATA: the SAM reads it, so inkand's user must never have had
 * it (a compromised inkand could have written its own, e.g. in the old layout where it owned
 * DATA). Root does not bless such a file: an operator checks it first. */
static int
own_conf(const struct own_walk *w, const struct stat *st, enum own_class cls)
{
	if (cls == OWN_SRV) {
		log_error("the configuration %s is inside DATA/" INK_SRV_DIR "/, which inkand's user "
		          "can change: move it to DATA/inkan.conf; refusing to start", w->config);
		return INK_ERR_CONFIG;
	}
	if (st->st_uid == w->ps->uid) {
		log_error("the configuration %s belongs to inkand's user (uid %u), who may have "
		          "written it: check every setting, chown it to root and start again; "
		          "refusing to start", w->config, (unsigned)st->st_uid);
		return INK_ERR_CONFIG;
	}
	return 0;
}

static int own_dir(const struct own_walk *w, int dfd, enum own_class cls, int depth);

/* One entry of the directory dfd. */
static int
own_entry(const struct own_walk *w, int dfd, const char *name, enum own_class cls, int depth)
{
	struct stat st;
	int fd, r;

	/* inkand's metrics socket, left by a run that did not stop cleanly: inkand makes it
	 * anew (http.c), nothing reads it as a file */
	if (cls == OWN_SRV && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode)) {
		log_info("DATA/inkand/.../%s: a socket of an earlier run: removed", name);
		return unlinkat(dfd, name, 0) == 0 ? 0 : INK_ERR_IO;
	}
	/* O_NOFOLLOW: a link is never followed nor handed over; O_NONBLOCK: a FIFO cannot hang. */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		if (errno == ELOOP)
			return 0;
		log_error("DATA/.../%s: %s", name, strerror(errno));
		return INK_ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		r = INK_ERR_IO;
		goto out;
	}
	if (depth == 1 && (cls == OWN_SAM || cls == OWN_PUB) && st.st_uid != 0 &&
	    st.st_uid != w->ps->sam_uid) {
		/* Made by someone else (inkand's user owned DATA in the old layout and could
		 * plant a key store or published keys of its own): refuse rather than hand it to
		 * the SAM. */
		log_error("DATA/%s belongs to uid %u, neither root nor sam_user: refusing to start",
		          name, (unsigned)st.st_uid);
		r = INK_ERR_CONFIG;
		goto out;
	}
	if (w->have_conf && st.st_dev == w->conf_dev && st.st_ino == w->conf_ino) {
		if ((r = own_conf(w, &st, cls)) != 0)
			goto out;
		cls = OWN_CONF;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((r = own_dir(w, fd, cls, depth)) != 0)
			goto out;
	} else if (!S_ISREG(st.st_mode)) {
		log_error("DATA/.../%s: neither a file nor a directory: refusing to start", name);
		r = INK_ERR_CONFIG;
		goto out;
	} else if (st.st_nlink != 1) {
		/* A hard link could be any file of the system. */
		log_error("DATA/.../%s: has %lu links: refusing to start", name,
		          (unsigned long)st.st_nlink);
		r = INK_ERR_CONFIG;
		goto out;
	}
	r = own_fd(w, fd, &st, cls, name);
out:
	close(fd);
	return r;
}

/* The class of DATA/name. */
static enum own_class
top_class(const char *name)
{
	if (strcmp(name, "sam") == 0)
		return OWN_SAM;
	if (strcmp(name, "ca") == 0)
		return OWN_PUB;
	if (strcmp(name, INK_SRV_DIR) == 0)
		return OWN_SRV;
	return OWN_ROOT;
}

/* Every entry of the directory dfd (at depth), which belongs to cls. */
static int
own_dir(const struct own_walk *w, int dfd, enum own_class cls, int depth)
{
	struct dirent *de;
	enum own_class c;
	DIR *d = NULL;
	int fd, r = 0;

	if (depth >= OWN_DEPTH_MAX) {
		log_error("the data directory is nested too deep");
		return INK_ERR_CONFIG;
	}
	if ((fd = dup(dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return INK_ERR_IO;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		c = depth == 0 ? top_class(de->d_name) : cls;
		r = own_entry(w, dfd, de->d_name, c, depth + 1);
	}
	closedir(d);
	return r;
}

int
srv_privsep_data(const struct srv_privsep *ps, const char *data, const char *config)
{
	struct own_walk w = { .ps = ps, .config = config };
	struct stat st;
	int fd, r = INK_ERR_IO;

	if ((fd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_error("%s: %s", data, strerror(errno));
		return INK_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0)
		goto out;
	/* First of all DATA becomes root's: from here on inkand's user can neither add, rename
	 * nor remove anything in it (it owned DATA in the old layout), and root's moves and
	 * hand-over below cannot be raced. DATA 0711: both users pass through it, nobody else
	 * lists it. */
	if (ps->active && (st.st_uid != 0 || (st.st_mode & 07777) != 0711)) {
		if (fchown(fd, 0, 0) != 0 || fchmod(fd, 0711) != 0) {
			log_error("%s: cannot give it to root: %s", data, strerror(errno));
			goto out;
		}
		if (st.st_uid != 0)
			log_info("%s belonged to uid %u: now root's", data, (unsigned)st.st_uid);
	}
	if ((r = ink_datadir_prepare(fd)) != 0 || !ps->active)
		goto out;
	if (config != NULL && stat(config, &st) == 0) {
		w.conf_dev = st.st_dev;
		w.conf_ino = st.st_ino;
		w.have_conf = true;
	}
	r = own_dir(&w, fd, OWN_ROOT, 0);
out:
	close(fd);
	return r;
}

int
srv_privsep_drop(const struct srv_privsep *ps)
{
	if (!ps->active)
		return 0;
	if (setgroups(0, NULL) != 0 || setresgid(ps->gid, ps->gid, ps->gid) != 0 ||
	    setresuid(ps->uid, ps->uid, ps->uid) != 0) {
		log_error("cannot become uid %u: %s", (unsigned)ps->uid, strerror(errno));
		return INK_ERR_INTERNAL;
	}
	if (getuid() != ps->uid || geteuid() != ps->uid || setuid(0) == 0) {
		log_error("privileges were not dropped");
		return INK_ERR_INTERNAL;
	}
	/* A change of identity resets the dumpable flag: no core dumps, no ptrace, again. */
	secmem_harden_process();
	log_info("running as uid %u; inkan-sam as uid %u", (unsigned)ps->uid,
	         (unsigned)ps->sam_uid);
	return 0;
}
