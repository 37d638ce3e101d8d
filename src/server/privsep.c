/* privsep: inkand started as root hands the data directory to two Unix users — DATA/sam and
 * DATA/ca to sam_user, the rest to user — starts inkan-sam as sam_user and then becomes user for good, so
 * that a compromise of the HTTP process cannot read the master key or the key store. */
#include "server/server.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* nftw() has no argument for its callback: the walk's context lives here for its duration
 * (inkand walks once, at start, before any other thread exists). */
static const struct srv_privsep *walk_ps;
static char walk_sam[PATH_MAX + 8];
static size_t walk_sam_len;
static char walk_pub[PATH_MAX + 8];
static size_t walk_pub_len;
static char walk_conf[PATH_MAX];
static int walk_err;

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
		ps->sam_uid = ps->uid;
		ps->sam_gid = ps->gid;
	}
	ps->active = true;
	return 0;
}

/* path is dir or inside it. */
static bool
under(const char *path, const char *dir, size_t len)
{
	return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

static int
own_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const struct srv_privsep *ps = walk_ps;
	bool sam = under(path, walk_sam, walk_sam_len), pub = under(path, walk_pub, walk_pub_len);
	uid_t uid = sam || pub ? ps->sam_uid : ps->uid;
	gid_t gid = sam || pub ? ps->sam_gid : ps->gid;
	mode_t mode = st->st_mode & 07777;

	if (type == FTW_SL || type == FTW_SLN)
		return 0; /* never follow or hand over a link */
	if (type != FTW_F && type != FTW_D && type != FTW_DP) {
		log_error("%s: cannot be read while handing the data directory over", path);
		walk_err = INK_ERR_IO;
		return 1;
	}
	if (strcmp(path, walk_conf) == 0) {
		/* Read by both processes, changed by neither. */
		uid = 0;
		gid = 0;
		mode = 0644;
	} else if (pub) {
		/* DATA/ca: what the SAM publishes (root, chain, the audit log's key) — everyone
		 * reads it, only the SAM writes it, so inkand cannot swap a published key. */
		mode = S_ISDIR(st->st_mode) ? 0755 : 0644;
	} else if (S_ISDIR(st->st_mode)) {
		/* DATA itself: the SAM may pass through it to DATA/sam, nobody may list it. */
		mode = ftw->level == 0 ? 0711 : 0700;
	} else {
		mode &= 0600;
	}
	if (lchown(path, uid, gid) != 0 || (!S_ISLNK(st->st_mode) && chmod(path, mode) != 0)) {
		log_error("%s: cannot hand over: %s", path, strerror(errno));
		walk_err = INK_ERR_IO;
		return 1;
	}
	return 0;
}

int
srv_privsep_own(const struct srv_privsep *ps, const char *data, const char *config)
{
	char root[PATH_MAX];

	if (!ps->active)
		return 0;
	/* Canonical paths, so that DATA/sam is recognised however DATA was spelt. */
	if (realpath(data, root) == NULL) {
		log_error("%s: %s", data, strerror(errno));
		return INK_ERR_CONFIG;
	}
	walk_conf[0] = '\0';
	if (config != NULL && realpath(config, walk_conf) == NULL)
		walk_conf[0] = '\0';
	if (ink_path(walk_sam, sizeof(walk_sam), root, "sam") != 0 ||
	    ink_path(walk_pub, sizeof(walk_pub), root, "ca") != 0)
		return INK_ERR_CONFIG;
	walk_sam_len = strlen(walk_sam);
	walk_pub_len = strlen(walk_pub);
	walk_ps = ps;
	walk_err = 0;
	if (nftw(root, own_one, 16, FTW_PHYS | FTW_MOUNT) != 0 && walk_err == 0)
		walk_err = INK_ERR_IO;
	walk_ps = NULL;
	return walk_err;
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
