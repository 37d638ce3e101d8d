/* test_common: bounded buffers, strict base64, JSON field tables, the typed config table, trusted
 * paths, the data directory's layout and the gate and the pool of heavy jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/common.h"

static void
test_buf_bounds(void **state)
{
	struct ink_buf b;
	const uint8_t *p;
	size_t n;
	uint32_t v32;
	uint64_t v64;
	uint8_t v8;
	char s[8];

	(void)state;
	buf_init(&b, 32, true);
	assert_int_equal(buf_put_u32(&b, 0xdeadbeef), 0);
	assert_int_equal(buf_put_u64(&b, UINT64_C(0x0102030405060708)), 0);
	assert_int_equal(buf_put_cstring(&b, "hello"), 0);
	assert_int_equal(b.len, 4 + 8 + 4 + 5);
	/* The cap holds: 21 + 12 > 32. */
	assert_int_equal(buf_put(&b, "0123456789ab", 12), INK_ERR_TOO_LARGE);
	assert_int_equal(b.len, 21);
	assert_int_equal(buf_get_u32(&b, &v32), 0);
	assert_int_equal(v32, 0xdeadbeef);
	assert_int_equal(buf_get_u64(&b, &v64), 0);
	assert_true(v64 == UINT64_C(0x0102030405060708));
	/* A string longer than the caller allows is refused and not consumed. */
	assert_int_equal(buf_get_cstring(&b, s, 5), INK_ERR_PROTOCOL);
	assert_int_equal(buf_get_cstring(&b, s, sizeof(s)), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(buf_get_u8(&b, &v8), INK_ERR_PROTOCOL);
	buf_free(&b);

	/* A length prefix that points past the end is refused. */
	buf_init(&b, 64, false);
	assert_int_equal(buf_put_u32(&b, 1000), 0);
	assert_int_equal(buf_put(&b, "abc", 3), 0);
	assert_int_equal(buf_get_string_ptr(&b, &p, &n, 4096), INK_ERR_PROTOCOL);
	assert_null(p);
	buf_free(&b);

	/* An embedded NUL is refused for C strings. */
	buf_init(&b, 64, false);
	assert_int_equal(buf_put_string(&b, "a\0b", 3), 0);
	assert_int_equal(buf_get_cstring(&b, s, sizeof(s)), INK_ERR_PROTOCOL);
	buf_free(&b);
	buf_free(NULL);
}

static void
test_base64(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} ok[] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" }, { "Zm9vYmFy", "foobar" },
	};
	static const char *const bad[] = {
		"Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9v", "Zm9v====", "Zg==Zg==", "Zm-_", "=Zm9",
	};
	uint8_t *out = NULL;
	char *enc = NULL;
	size_t n, i;

	(void)state;
	for (i = 0; i < INK_ARRAY_LEN(ok); i++) {
		assert_int_equal(b64_decode(ok[i].in, &out, &n), 0);
		assert_int_equal(n, strlen(ok[i].out));
		assert_memory_equal(out, ok[i].out, n);
		free(out);
		assert_int_equal(b64_encode((const uint8_t *)ok[i].out, strlen(ok[i].out), &enc), 0);
		assert_string_equal(enc, ok[i].in);
		free(enc);
	}
	for (i = 0; i < INK_ARRAY_LEN(bad); i++) {
		if (b64_decode(bad[i], &out, &n) != INK_ERR_INVALID)
			fail_msg("accepted bad base64 '%s'", bad[i]);
		assert_null(out);
	}
}

struct req {
	char *name;
	char *secret;
	bool flag;
	int64_t count;
	struct json_strings list;
};

static const struct json_field spec[] = {
	JSPEC_STRING("name", struct req, name, 8, JF_REQUIRED),
	JSPEC_STRING("secret", struct req, secret, 16, JF_SECRET),
	JSPEC_BOOL("flag", struct req, flag, 0),
	JSPEC_INT("count", struct req, count, 1, 10, 0),
	JSPEC_STRINGS("list", struct req, list, 3, 4, 0),
	JSPEC_END,
};

static int
parse(const char *body, struct req *r, char *err, size_t errsz)
{
	memset(r, 0, sizeof(*r));
	return json_parse_spec(body, strlen(body), spec, r, err, errsz);
}

static void
test_json_spec(void **state)
{
	static const char *const bad[] = {
		"not json", "[1,2]", "\"str\"", "{}", "{\"name\": 5}", "{\"name\": \"toolongname\"}",
		"{\"name\": \"a\", \"flag\": \"yes\"}", "{\"name\": \"a\", \"count\": 0}",
		"{\"name\": \"a\", \"count\": 11}", "{\"name\": \"a\", \"count\": 1.5}",
		"{\"name\": \"a\", \"name\": \"b\"}", "{\"name\": \"a\", \"list\": \"x\"}",
		"{\"name\": \"a\", \"list\": [\"a\", 1]}", "{\"name\": \"a\", \"list\": [\"a\",\"b\",\"c\",\"d\"]}",
		"{\"name\": \"a\", \"list\": [\"abcde\"]}", "{\"name\": \"a\\u0000b\"}",
		"{\"name\": \"a\", \"secret\": \"s3cr3t-value\", \"flag\": 1}",
	};
	struct req r;
	char err[160];
	size_t i;

	(void)state;
	assert_int_equal(parse("{\"name\": \"alice\", \"secret\": \"pw\", \"flag\": true, "
	                       "\"count\": 3, \"list\": [\"a\", \"bb\"], \"unknown\": {\"x\": 1}}",
	                       &r, err, sizeof(err)), 0);
	assert_string_equal(r.name, "alice");
	assert_string_equal(r.secret, "pw");
	assert_true(r.flag);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.list.n, 2);
	assert_string_equal(r.list.v[1], "bb");
	json_free_spec(spec, &r);
	assert_null(r.name);
	assert_null(r.secret);

	for (i = 0; i < INK_ARRAY_LEN(bad); i++) {
		if (parse(bad[i], &r, err, sizeof(err)) != INK_ERR_INVALID)
			fail_msg("accepted %s", bad[i]);
		/* Nothing is left allocated and the error never quotes a value. */
		assert_null(r.name);
		assert_null(r.secret);
		assert_null(r.list.v);
		assert_null(strstr(err, "s3cr3t"));
		assert_true(strlen(err) > 0);
	}
	/* An empty body is an empty object: only the required field is missing. */
	memset(&r, 0, sizeof(r));
	assert_int_equal(json_parse_spec("", 0, spec, &r, err, sizeof(err)), INK_ERR_INVALID);
	assert_non_null(strstr(err, "name"));
}

static void
test_config(void **state)
{
	struct ink_config c;
	char dir[] = "/tmp/inkan-test-config.XXXXXX", path[256], err[256];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	config_defaults(&c, dir);
	assert_string_equal(c.listen_signer, "127.0.0.1:8443");
	assert_int_equal(c.max_body, 1048576);
	assert_int_equal(c.max_login_failures, 5);
	assert_true(c.argon2_m_kib >= 65536);
	assert_int_equal(c.argon2_t, 3);
	assert_false(c.plain_http);

	assert_int_equal(config_set(&c, "max_body", "2048", err, sizeof(err)), 0);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(config_set(&c, "max_body", "12", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "max_body", "12x", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "plain_http", "maybe", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "no_such_key", "1", err, sizeof(err)), INK_ERR_CONFIG);
	assert_non_null(strstr(err, "unknown"));
	/* OIDs: dotted syntax; the TSA policy is required, the certificate policy optional. */
	assert_int_equal(config_set(&c, "tsa_policy_oid", "1.2.392.200091.1", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "tsa_policy_oid", "", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "tsa_policy_oid", "1.2.", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "tsa_policy_oid", "3.1", err, sizeof(err)), INK_ERR_CONFIG);
	assert_int_equal(config_set(&c, "tsa_policy_oid", "policy", err, sizeof(err)), INK_ERR_CONFIG);
	assert_string_equal(c.tsa_policy_oid, "1.2.392.200091.1");
	assert_int_equal(config_set(&c, "cert_policy_oid", "", err, sizeof(err)), 0);
	assert_int_equal(config_set(&c, "cert_policy_oid", "1.2.3 4", err, sizeof(err)), INK_ERR_CONFIG);
	assert_non_null(strstr(err, "dotted OID"));

	/* The written default file loads back; an unknown key in a file is an error. */
	snprintf(path, sizeof(path), "%s/inkan.conf", dir);
	assert_int_equal(config_write_default(&c, path), 0);
	config_defaults(&c, dir);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("session_ttl = 120\n", f);
	fclose(f);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.session_ttl, 120);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("sesion_ttl = 120\n", f);
	fclose(f);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), INK_ERR_CONFIG);
	assert_non_null(strstr(err, "sesion_ttl"));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), INK_ERR_NOT_FOUND);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void
test_files_and_secmem(void **state)
{
	char dir[] = "/tmp/inkan-test-files.XXXXXX", path[256], *text = NULL, *s;
	struct stat st;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(ink_write_file(path, "abcdef", 6, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ink_read_file(path, 6, &text, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(text, "abcdef");
	free(text);
	assert_int_equal(ink_read_file(path, 5, &text, &n), INK_ERR_TOO_LARGE);
	assert_null(text);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ink_read_file(path, 5, &text, &n), INK_ERR_NOT_FOUND);
	assert_int_equal(rmdir(dir), 0);

	s = secmem_strdup("secret");
	assert_non_null(s);
	assert_string_equal(s, "secret");
	secmem_free(s);
	secmem_free(NULL);
	assert_true(ink_ct_equal("abc", "abc", 3));
	assert_false(ink_ct_equal("abc", "abd", 3));
	assert_string_equal(ink_err_str(INK_ERR_SAM_UNAVAILABLE),
	                    "signature activation module unavailable");
	assert_string_equal(ink_err_str(1), "unknown error");
	assert_string_equal(ink_err_str(-1000), "unknown error");
}

static void
test_time(void **state)
{
	char ts[21];

	(void)state;
	ink_time_str(0, ts);
	assert_string_equal(ts, "1970-01-01T00:00:00Z");
	ink_time_str(INT64_C(1924991999), ts);
	assert_string_equal(ts, "2030-12-31T23:59:59Z");
	assert_true(ink_now() > INT64_C(1700000000));
}

/* p = dir/name */
static void
join(char *p, size_t n, const char *dir, const char *name)
{
	assert_true(snprintf(p, n, "%s/%s", dir, name) < (int)n);
}

/* ink_path_trusted() for the tests below, with its answers in these. */
static char canon[PATH_MAX], why[PATH_MAX + 128];

static int
trust(const char *path, uid_t uid, unsigned flags)
{
	return ink_path_trusted(path, uid, flags, canon, sizeof(canon), why, sizeof(why));
}

/* dir/name: a link to target, a file (target NULL, mode), or a directory (mode with S_IFDIR). */
static void
make(char *p, size_t n, const char *dir, const char *name, const char *target, unsigned mode)
{
	FILE *fp;

	join(p, n, dir, name);
	if (target != NULL) {
		assert_int_equal(symlink(target, p), 0);
		return;
	}
	if (mode & S_IFDIR) {
		assert_int_equal(mkdir(p, 0700), 0);
	} else {
		assert_non_null(fp = fopen(p, "w"));
		fclose(fp);
	}
	assert_int_equal(chmod(p, mode & 07777), 0);
}

static void
test_path_trusted(void **state)
{
	char dir[] = "/tmp/inkan-test-trust.XXXXXX", real[PATH_MAX], f[PATH_MAX], p[PATH_MAX];
	char cwd[PATH_MAX], want[PATH_MAX + 128];
	const unsigned sticky = INK_TRUST_STICKY;
	struct stat st;
	uid_t me = geteuid();

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_non_null(realpath(dir, real));
	make(f, sizeof(f), real, "f", NULL, 0644);

	/* A file of ours in directories of root's or ours: its resolved path. /tmp is
	 * world-writable but sticky and root's: others cannot swap what is ours in it. */
	assert_int_equal(trust(f, me, sticky), 0);
	assert_string_equal(canon, f);
	assert_int_equal(stat("/tmp", &st), 0);
	if ((st.st_mode & 01002) == 01002 && st.st_uid == 0) {
		assert_int_equal(trust(f, me, 0), INK_ERR_CONFIG);
		assert_non_null(strstr(why, "/tmp is writable by group or others (mode 1777)"));
	}
	/* Group-writable: the file, or a directory on the way. */
	assert_int_equal(chmod(f, 0664), 0);
	assert_int_equal(trust(f, me, sticky), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "/f is writable by group or others (mode 0664)"));
	assert_string_equal(canon, "");
	assert_int_equal(chmod(f, 0644), 0);
	make(p, sizeof(p), real, "gw", NULL, S_IFDIR | 0775);
	make(p, sizeof(p), real, "gw/g", NULL, 0644);
	assert_int_equal(trust(p, me, sticky), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "/gw is writable by group or others"));
	/* Links are followed and judged where they lead; "." and ".." on the resolved path. */
	make(p, sizeof(p), real, "l", "f", 0);
	assert_int_equal(trust(p, me, sticky), 0);
	assert_string_equal(canon, f);
	make(p, sizeof(p), real, "l2", "./gw/../gw/g", 0);
	assert_int_equal(trust(p, me, sticky), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "/gw is writable by group or others"));
	join(p, sizeof(p), real, "gw/.././/l");
	assert_int_equal(trust(p, me, sticky), INK_ERR_CONFIG);
	make(p, sizeof(p), real, "loop-a", "loop-b", 0);
	make(p, sizeof(p), real, "loop-b", "loop-a", 0);
	assert_int_equal(trust(p, me, sticky), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "too many links"));
	join(p, sizeof(p), real, "missing");
	assert_int_equal(trust(p, me, sticky), INK_ERR_NOT_FOUND);
	join(p, sizeof(p), real, "f/x");
	assert_int_equal(trust(p, me, sticky), INK_ERR_CONFIG);
	assert_non_null(strstr(why, "is not a directory"));
	/* A relative path starts at the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(real), 0);
	assert_int_equal(trust("l", me, sticky), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(canon, f);
	/* Owners: root or uid; root alone with INK_TRUST_ROOT_ONLY. */
	if (me == 0) {
		assert_int_equal(chown(f, 12345, 12345), 0);
		assert_int_equal(trust(f, 0, sticky), INK_ERR_CONFIG);
		snprintf(want, sizeof(want), "%s is owned by uid 12345, neither root nor uid 0", f);
		assert_string_equal(why, want);
		assert_int_equal(trust(f, 12345, sticky), 0);
		assert_int_equal(trust(f, 12345, INK_TRUST_ROOT_ONLY | sticky), INK_ERR_CONFIG);
		snprintf(want, sizeof(want), "%s is owned by uid 12345, not by root", f);
		assert_string_equal(why, want);
	}
	snprintf(want, sizeof(want), "rm -rf '%s'", real);
	assert_int_equal(system(want), 0);
}

/* The content of dir/name (a short file), "" if there is none. */
static const char *
slurp(const char *dir, const char *name)
{
	static char text[64];
	char p[PATH_MAX];
	FILE *fp;
	size_t n;

	join(p, sizeof(p), dir, name);
	text[0] = '\0';
	if ((fp = fopen(p, "r")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, fp);
		text[n] = '\0';
		fclose(fp);
	}
	return text;
}

static void
put(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	FILE *fp;

	join(p, sizeof(p), dir, name);
	assert_non_null(fp = fopen(p, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void
test_datadir(void **state)
{
	char dir[] = "/tmp/inkan-test-datadir.XXXXXX", p[PATH_MAX], link[64];
	struct stat st;
	ssize_t n;
	int dfd;

	(void)state;
	assert_int_equal(ink_srv_path(p, sizeof(p), "/d", "inkan.db"), 0);
	assert_string_equal(p, "/d/inkand/inkan.db");
	assert_int_equal(ink_srv_path(p, sizeof(p), "/d", "/etc/inkan/cert.pem"), 0);
	assert_string_equal(p, "/etc/inkan/cert.pem");
	assert_int_equal(ink_srv_path(p, 8, "/d", "inkan.db"), INK_ERR_TOO_LARGE);

	/* The old layout: inkand's files at DATA's top. */
	assert_non_null(mkdtemp(dir));
	put(dir, "inkan.db", "db");
	put(dir, "inkan.db-wal", "wal");
	put(dir, "inkand.addr", "127.0.0.1:1\n");
	put(dir, "inkan.conf", "conf");
	join(p, sizeof(p), dir, "tls");
	assert_int_equal(mkdir(p, 0700), 0);
	put(dir, "tls/cert.pem", "cert");
	join(p, sizeof(p), dir, "audit-archive");
	assert_int_equal(mkdir(p, 0700), 0);
	join(p, sizeof(p), dir, "sam");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_true((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0);
	assert_int_equal(ink_datadir_prepare(dfd), 0);
	assert_string_equal(slurp(dir, "inkand/inkan.db"), "db");
	assert_string_equal(slurp(dir, "inkand/inkan.db-wal"), "wal");
	assert_string_equal(slurp(dir, "inkand/tls/cert.pem"), "cert");
	assert_string_equal(slurp(dir, "tls/cert.pem"), "cert");   /* through the link */
	join(p, sizeof(p), dir, "inkand/audit-archive");
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	join(p, sizeof(p), dir, "inkand");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* What the SAM reads stays; nothing of inkand's is left at the top. */
	assert_string_equal(slurp(dir, "inkan.conf"), "conf");
	join(p, sizeof(p), dir, "sam");
	assert_int_equal(lstat(p, &st), 0);
	join(p, sizeof(p), dir, "inkan.db");
	assert_int_equal(lstat(p, &st), -1);
	join(p, sizeof(p), dir, "inkan.db-wal");
	assert_int_equal(lstat(p, &st), -1);
	/* The links; the stale address is gone (the link dangles until inkand listens). */
	assert_true((n = readlinkat(dfd, "tls", link, sizeof(link) - 1)) > 0);
	link[n] = '\0';
	assert_string_equal(link, "inkand/tls");
	assert_true((n = readlinkat(dfd, "inkand.addr", link, sizeof(link) - 1)) > 0);
	link[n] = '\0';
	assert_string_equal(link, "inkand/inkand.addr");
	assert_string_equal(slurp(dir, "inkand.addr"), "");

	/* Again: nothing moves, the last run's address goes. */
	put(dir, "inkand/inkand.addr", "127.0.0.1:2\n");
	assert_string_equal(slurp(dir, "inkand.addr"), "127.0.0.1:2\n");
	assert_int_equal(ink_datadir_prepare(dfd), 0);
	assert_string_equal(slurp(dir, "inkand/inkan.db"), "db");
	assert_string_equal(slurp(dir, "inkand.addr"), "");
	/* Interrupted after the -wal had moved: the database follows. */
	join(p, sizeof(p), dir, "inkand/inkan.db");
	assert_int_equal(renameat(AT_FDCWD, p, dfd, "inkan.db"), 0);
	assert_int_equal(ink_datadir_prepare(dfd), 0);
	assert_string_equal(slurp(dir, "inkand/inkan.db"), "db");
	assert_string_equal(slurp(dir, "inkan.db"), "");
	/* In both places: refused, neither touched. */
	put(dir, "inkan.db", "other");
	assert_int_equal(ink_datadir_prepare(dfd), INK_ERR_EXISTS);
	assert_string_equal(slurp(dir, "inkan.db"), "other");
	assert_string_equal(slurp(dir, "inkand/inkan.db"), "db");
	assert_int_equal(unlinkat(dfd, "inkan.db", 0), 0);
	/* A link elsewhere is put back; a link in a moved name's place is refused. */
	assert_int_equal(unlinkat(dfd, "tls", 0), 0);
	assert_int_equal(symlinkat("/etc", dfd, "tls"), 0);
	assert_int_equal(ink_datadir_prepare(dfd), 0);
	assert_true((n = readlinkat(dfd, "tls", link, sizeof(link) - 1)) > 0);
	link[n] = '\0';
	assert_string_equal(link, "inkand/tls");
	assert_int_equal(symlinkat("/etc/hostname", dfd, "inkan.db-shm"), 0);
	assert_int_equal(ink_datadir_prepare(dfd), INK_ERR_CONFIG);
	assert_int_equal(unlinkat(dfd, "inkan.db-shm", 0), 0);
	/* DATA/inkand must be a directory, never a link. */
	join(p, sizeof(p), dir, "inkand");
	assert_int_equal(renameat(AT_FDCWD, p, dfd, "inkand.real"), 0);
	assert_int_equal(symlinkat("inkand.real", dfd, "inkand"), 0);
	assert_int_equal(ink_datadir_prepare(dfd), INK_ERR_CONFIG);
	close(dfd);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* ---- the gate ---- */

struct gate_job {
	struct ink_gate *g;
	const char *source;
	bool first;
	unsigned hold_ms;
	atomic_int result;        /* 1: still waiting */
	pthread_t th;
};

static void *
gate_job_main(void *arg)
{
	struct gate_job *j = arg;
	int r = ink_gate_enter(j->g, j->source, j->first);

	atomic_store(&j->result, r);
	if (r == 0) {
		usleep(j->hold_ms * 1000);
		ink_gate_leave(j->g, j->source);
	}
	return NULL;
}

static void
gate_job_start_first(struct gate_job *j, struct ink_gate *g, const char *source, unsigned hold_ms,
                     bool first)
{
	j->g = g;
	j->source = source;
	j->first = first;
	j->hold_ms = hold_ms;
	atomic_init(&j->result, 1);
	assert_int_equal(pthread_create(&j->th, NULL, gate_job_main, j), 0);
	usleep(300 * 1000); /* it is queued (or answered) before the next one comes */
}

static void
gate_job_start(struct gate_job *j, struct ink_gate *g, const char *source, unsigned hold_ms)
{
	gate_job_start_first(j, g, source, hold_ms, false);
}

static void
test_gate(void **state)
{
	struct ink_gate *g = NULL;
	struct gate_job a1, a2, b, c, late;

	(void)state;
	assert_int_equal(ink_gate_new(0, 1, 100, &g), INK_ERR_INVALID);
	assert_null(g);

	/* One slot, two queue places: source A fills them all; B's newcomer takes A's newest
	 * place (refused), and a freed slot goes first to the oldest waiter. */
	assert_int_equal(ink_gate_new(1, 2, 5000, &g), 0);
	assert_int_equal(ink_gate_enter(g, "A", false), 0);
	gate_job_start(&a1, g, "A", 0);
	gate_job_start(&a2, g, "A", 0);
	assert_int_equal(atomic_load(&a1.result), 1);
	assert_int_equal(atomic_load(&a2.result), 1);
	gate_job_start(&b, g, "B", 0);
	assert_int_equal(atomic_load(&a2.result), INK_ERR_BUSY);
	assert_int_equal(atomic_load(&b.result), 1);
	/* A still holds two places (its slot, a1): C takes a1's. */
	gate_job_start(&c, g, "C", 0);
	assert_int_equal(atomic_load(&a1.result), INK_ERR_BUSY);
	assert_int_equal(atomic_load(&c.result), 1);
	/* D comes to a full queue where nobody holds two more places than D: D is refused. */
	gate_job_start(&late, g, "D", 0);
	assert_int_equal(atomic_load(&late.result), INK_ERR_BUSY);
	ink_gate_leave(g, "A");
	pthread_join(a1.th, NULL);
	pthread_join(a2.th, NULL);
	pthread_join(b.th, NULL);
	pthread_join(c.th, NULL);
	pthread_join(late.th, NULL);
	assert_int_equal(atomic_load(&b.result), 0);
	assert_int_equal(atomic_load(&c.result), 0);
	ink_gate_free(g);

	/* A freed slot goes to a source with nothing running before one that has a job running. */
	assert_int_equal(ink_gate_new(2, 4, 5000, &g), 0);
	assert_int_equal(ink_gate_enter(g, "A", false), 0);
	assert_int_equal(ink_gate_enter(g, "B", false), 0);
	gate_job_start(&a1, g, "A", 600);
	gate_job_start(&b, g, "C", 600);
	ink_gate_leave(g, "B");     /* A still runs one: C, though younger, goes first */
	usleep(300 * 1000);
	assert_int_equal(atomic_load(&b.result), 0);
	assert_int_equal(atomic_load(&a1.result), 1);
	ink_gate_leave(g, "A");
	pthread_join(a1.th, NULL);
	pthread_join(b.th, NULL);
	assert_int_equal(atomic_load(&a1.result), 0);
	ink_gate_free(g);

	/* A waiter that goes first (an authenticated caller) takes the newest other waiter's
	 * place in a full queue, though nobody holds two more places, and runs first. */
	assert_int_equal(ink_gate_new(1, 2, 5000, &g), 0);
	assert_int_equal(ink_gate_enter(g, "A", false), 0);
	gate_job_start(&a1, g, "B", 300);
	gate_job_start(&a2, g, "C", 0);
	gate_job_start_first(&b, g, "D", 300, true);
	assert_int_equal(atomic_load(&a2.result), INK_ERR_BUSY);
	assert_int_equal(atomic_load(&b.result), 1);
	ink_gate_leave(g, "A");
	usleep(150 * 1000);
	assert_int_equal(atomic_load(&b.result), 0);
	assert_int_equal(atomic_load(&a1.result), 1);
	pthread_join(a1.th, NULL);
	pthread_join(a2.th, NULL);
	pthread_join(b.th, NULL);
	assert_int_equal(atomic_load(&a1.result), 0);
	ink_gate_free(g);

	/* The wait is bounded; no queue at all refuses at once. */
	assert_int_equal(ink_gate_new(1, 4, 200, &g), 0);
	assert_int_equal(ink_gate_enter(g, "A", false), 0);
	assert_int_equal(ink_gate_enter(g, "B", false), INK_ERR_BUSY);
	ink_gate_leave(g, "A");
	ink_gate_free(g);
	assert_int_equal(ink_gate_new(1, 0, 5000, &g), 0);
	assert_int_equal(ink_gate_enter(g, "A", false), 0);
	gate_job_start(&late, g, "B", 0);
	assert_int_equal(atomic_load(&late.result), INK_ERR_BUSY);
	pthread_join(late.th, NULL);
	ink_gate_leave(g, "A");
	assert_int_equal(ink_gate_enter(g, "B", false), 0);
	ink_gate_leave(g, "B");
	ink_gate_free(g);
}

/* ---- the pool of heavy-job workers ---- */

struct pool_job {
	struct ink_pool *p;
	int nice;            /* the worker's, as it saw itself */
	int policy;
	uint64_t slice;      /* its time slice as the kernel reports it (0: none reported) */
	pid_t tid, caller;
};

/* The kernel's struct sched_attr, version 0 (glibc 2.36 has no sched_getattr()). */
struct test_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

/* The calling thread's time slice as the kernel reports it: 0 where it reports none (before
 * Linux 6.12). */
static uint64_t
own_slice(void)
{
	struct test_sched_attr a = { 0 };

	if (syscall(SYS_sched_getattr, (pid_t)syscall(SYS_gettid), &a, (unsigned)sizeof(a), 0U) != 0)
		return 0;
	return a.runtime;
}

static void
pool_fn(void *arg)
{
	struct pool_job *j = arg;

	j->tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	j->nice = getpriority(PRIO_PROCESS, (id_t)j->tid);
	j->policy = sched_getscheduler(j->tid);
	j->slice = own_slice();
}

static void *
pool_caller(void *arg)
{
	struct pool_job *j = arg;

	j->caller = (pid_t)syscall(SYS_gettid);
	ink_pool_run(j->p, pool_fn, j);
	return NULL;
}

/* Jobs run on the workers, not in the caller, at the pool's nice value above the caller's,
 * SCHED_BATCH, and (where the kernel reports slices) with the pool's long slice, not the
 * caller's default; several callers at once each get their job done; freeing stops the
 * workers. */
static void
test_pool(void **state)
{
	struct ink_pool *p = NULL;
	struct pool_job j[4] = { 0 };
	pthread_t th[4];
	uint64_t slice;
	int base;

	(void)state;
	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	slice = own_slice();
	assert_int_equal(ink_pool_new(0, 5, &p), INK_ERR_INVALID);
	assert_int_equal(ink_pool_new(2, INK_POOL_NICE_ARGON2, &p), 0);
	for (int i = 0; i < 4; i++) {
		j[i].p = p;
		assert_int_equal(pthread_create(&th[i], NULL, pool_caller, &j[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_not_equal(j[i].tid, 0);
		assert_int_not_equal(j[i].tid, j[i].caller);
		assert_int_equal(j[i].nice, base + INK_POOL_NICE_ARGON2 > 19 ? 19 : base + INK_POOL_NICE_ARGON2);
		assert_int_equal(j[i].policy, SCHED_BATCH);
		if (slice != 0) {
			assert_true(slice < INK_POOL_SLICE_NS);
			assert_true(j[i].slice == INK_POOL_SLICE_NS);
		}
	}
	ink_pool_free(p);
	ink_pool_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounds),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_json_spec),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_files_and_secmem),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_path_trusted),
		cmocka_unit_test(test_datadir),
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
