/* ks_pg.h: a unit test's key store on PostgreSQL (test_keys, test_sads; run again by ctest as
 * unit/test_keys_pg and unit/test_sads_pg under the fixture "pg"). INKAN_KS_PG names
 * tests/pg.sh and INKAN_PG_STATE its running cluster; each test's key store is then a database
 * of its own, laid out as docs/scaling.md says (pg.sh newdb), named by DIR/keystore.url.
 * Included once by a test program, after cmocka.h and libpq-fe.h. */
#ifndef INKAN_TESTS_KS_PG_H
#define INKAN_TESTS_KS_PG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *pg_sh, *pg_state;

/* Reads the environment: 0, or -1 (said on stderr) when it names pg.sh without a cluster. */
static inline int
pg_env(const char *prog)
{
	if ((pg_sh = getenv("INKAN_KS_PG")) != NULL && (pg_state = getenv("INKAN_PG_STATE")) == NULL) {
		fprintf(stderr, "%s: INKAN_KS_PG without INKAN_PG_STATE\n", prog);
		return -1;
	}
	return 0;
}

static inline bool
pg_mode(void)
{
	return pg_sh != NULL;
}

/* The first line a shell command prints, into out[sz]. */
static inline int
pg_cmd_line(const char *cmd, char *out, size_t sz)
{
	FILE *p = popen(cmd, "r");
	int ok;

	if (p == NULL)
		return -1;
	ok = fgets(out, (int)sz, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* ROLE's URI for the database db. */
static inline void
pg_url(const char *db, const char *role, char *out, size_t sz)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' url '%s' %s %s", pg_sh, pg_state, role, db);
	assert_int_equal(pg_cmd_line(cmd, out, sz), 0);
}

/* ROLE connected to the database db (inkan_admin: the cluster's superuser, the DBA). */
static inline PGconn *
pg_connect(const char *db, const char *role)
{
	char url[1024];
	PGconn *c;

	pg_url(db, role, url, sizeof(url));
	c = PQconnectdb(url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

/* A new database PREFIX_<pid>_<n> (its name into db[dbsz]) for the key store of the directory
 * dir, made here, whose keystore.url names it as inkan_sam. */
static inline void
pg_keystore(const char *dir, const char *prefix, char *db, size_t dbsz)
{
	static unsigned counter;
	char cmd[1024], url[1024], path[256];
	FILE *fp;

	snprintf(db, dbsz, "%s_%ld_%u", prefix, (long)getpid(), counter++);
	snprintf(cmd, sizeof(cmd), "'%s' newdb '%s' %s >/dev/null", pg_sh, pg_state, db);
	assert_int_equal(system(cmd), 0);
	pg_url(db, "inkan_sam", url, sizeof(url));
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/keystore.url", dir);
	assert_non_null(fp = fopen(path, "w"));
	assert_true(fprintf(fp, "%s\n", url) > 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

#endif
