/* test_audit: audit_append() stamps, bounds and stores events; audit_read() pages them back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

/* ---- a real store on a temporary file ---- */

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/inkan-test-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		goto fail;
	snprintf(f->path, sizeof(f->path), "%s/inkan.db", f->dir);
	if (store_open(f->path, &f->st) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	(void)rmdir(f->dir);
	free(f);
	return -1;
}

static int
teardown(void **state)
{
	static const char *suffixes[] = { "", "-wal", "-shm" };
	struct fx *f = *state;
	char p[160];
	size_t i;

	store_close(f->st);
	for (i = 0; i < INK_ARRAY_LEN(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_append_read(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {
		.actor = "rita",
		.role = "registration_officer",
		.action = "user.create",
		.subject = "alice",
		.result = AUDIT_SUCCESS,
		.request_id = "req-1",
		.source = "192.0.2.7",
		.detail = "roles=signer",
	};
	struct store_audit_rec *recs = NULL;
	int64_t before, after;
	size_t n = 0;

	before = ink_now();
	assert_int_equal(audit_append(f->st, &ev), 0);
	ev.action = "auth.login";
	ev.result = "bad password";
	assert_int_equal(audit_append(f->st, &ev), 0);
	after = ink_now();

	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_true(recs[0].seq < recs[1].seq);
	assert_true(recs[0].time >= before && recs[0].time <= after);
	assert_true(recs[1].time >= recs[0].time && recs[1].time <= after);
	assert_string_equal(recs[0].actor, "rita");
	assert_string_equal(recs[0].role, "registration_officer");
	assert_string_equal(recs[0].action, "user.create");
	assert_string_equal(recs[0].subject, "alice");
	assert_string_equal(recs[0].result, "success");
	assert_string_equal(recs[0].request_id, "req-1");
	assert_string_equal(recs[0].source, "192.0.2.7");
	assert_string_equal(recs[0].detail, "roles=signer");
	assert_string_equal(recs[1].action, "auth.login");
	assert_string_equal(recs[1].result, "bad password");

	/* paging from the last seen sequence number */
	after = recs[0].seq;
	free(recs);
	recs = NULL;
	assert_int_equal(audit_read(f->st, after, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].action, "auth.login");
	free(recs);
}

static void
test_null_fields(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = { .action = "system.start" };
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	assert_int_equal(audit_append(f->st, &ev), 0);
	ev.actor = "";
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(recs[0].actor, "-");
	assert_string_equal(recs[0].role, "-");
	assert_string_equal(recs[0].action, "system.start");
	assert_string_equal(recs[0].subject, "-");
	assert_string_equal(recs[0].result, "-");
	assert_string_equal(recs[0].request_id, "-");
	assert_string_equal(recs[0].source, "-");
	assert_string_equal(recs[0].detail, "-");
	assert_string_equal(recs[1].actor, "-");
	free(recs);
}

static void
test_truncation(void **state)
{
	struct fx *f = *state;
	char longname[STORE_NAME_MAX * 3], longtext[STORE_TEXT_MAX * 3];
	static char longdetail[STORE_DETAIL_MAX * 2];
	struct audit_event ev;
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(longtext, 't', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	memset(longdetail, 'd', sizeof(longdetail) - 1);
	longdetail[sizeof(longdetail) - 1] = '\0';
	/* a multi-byte character cut at the end must not break anything */
	memcpy(longname + STORE_NAME_MAX - 1, "\xc3\xa9", 2);
	ev = (struct audit_event){
		.actor = longname, .role = longtext, .action = longname, .subject = longtext,
		.result = longname, .request_id = longname, .source = longname, .detail = longdetail,
	};
	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(recs[0].actor), STORE_NAME_MAX);
	assert_memory_equal(recs[0].actor, longname, STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].role), STORE_TEXT_MAX);
	assert_int_equal(strlen(recs[0].action), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].subject), STORE_TEXT_MAX);
	assert_int_equal(strlen(recs[0].result), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].request_id), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].source), STORE_NAME_MAX);
	assert_int_equal(strlen(recs[0].detail), STORE_DETAIL_MAX);
	free(recs);
}

static void
test_control_characters(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {
		.action = "auth.login",
		.subject = "alice\nseq=9 actor=admin action=key.destroy\r\x1b[2J\x7f",
	};
	struct store_audit_rec *recs = NULL;
	size_t n = 0;

	assert_int_equal(audit_append(f->st, &ev), 0);
	assert_int_equal(audit_read(f->st, 0, 10, &recs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(recs[0].subject, "alice?seq=9 actor=admin action=key.destroy??[2J?");
	free(recs);
}

/* ---- a stand-in backend: what audit.c hands the store, and what it does with failures ---- */

struct fake {
	struct store base;
	struct store_audit_rec last;
	size_t last_limit;
	int fail;
};

static int
fake_audit_insert(struct store *st, const struct store_audit_rec *rec, int64_t *seq)
{
	struct fake *fk = (struct fake *)st;

	*seq = 0;
	if (fk->fail != 0)
		return fk->fail;
	fk->last = *rec;
	*seq = 1;
	return 0;
}

static int
fake_audit_list(struct store *st, int64_t after, size_t limit, struct store_audit_rec **out,
    size_t *n)
{
	struct fake *fk = (struct fake *)st;

	(void)after;
	*out = NULL;
	*n = 0;
	fk->last_limit = limit;
	return fk->fail;
}

static const struct store_ops fake_ops = {
	.name = "fake",
	.audit_insert = fake_audit_insert,
	.audit_list = fake_audit_list,
};

#define GC_THREADS 8
#define GC_EACH 40

static void *
gc_worker(void *arg)
{
	struct store *st = arg;
	struct audit_event ev = { .action = "test.gc", .result = AUDIT_SUCCESS };
	int i;

	for (i = 0; i < GC_EACH; i++)
		if (audit_append(st, &ev) != 0)
			return (void *)1;
	return NULL;
}

/* Group commit: concurrent appends all land, each once, with strictly increasing numbers. */
static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	pthread_t th[GC_THREADS];
	struct store_audit_rec *recs = NULL;
	size_t n = 0, i;
	void *ret;

	for (i = 0; i < GC_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, gc_worker, f->st), 0);
	for (i = 0; i < GC_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_null(ret);
	}
	assert_int_equal(audit_read(f->st, 0, 1000, &recs, &n), 0);
	assert_int_equal(n, GC_THREADS * GC_EACH);
	for (i = 1; i < n; i++)
		assert_true(recs[i].seq == recs[i - 1].seq + 1);
	free(recs);
}

static void
test_read_limit_capped(void **state)
{
	struct fake fk = { .base = { .ops = &fake_ops } };
	struct store_audit_rec *recs = (void *)1;
	size_t n = 5;

	(void)state;
	assert_int_equal(audit_read(&fk.base, 0, 1000000, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 1000);
	assert_null(recs);
	assert_int_equal(n, 0);
	assert_int_equal(audit_read(&fk.base, 0, SIZE_MAX, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 1000);
	assert_int_equal(audit_read(&fk.base, 0, 7, &recs, &n), 0);
	assert_int_equal(fk.last_limit, 7);
}

static void
test_store_failure_is_returned(void **state)
{
	struct fake fk = { .base = { .ops = &fake_ops }, .fail = INK_ERR_STORE };
	struct audit_event ev = { .action = "user.create" };

	(void)state;
	assert_int_equal(audit_append(&fk.base, &ev), INK_ERR_STORE);
	fk.fail = 0;
	assert_int_equal(audit_append(&fk.base, &ev), 0);
	assert_true(fk.last.time > 0);
	assert_int_equal(fk.last.seq, 0);
	assert_string_equal(fk.last.action, "user.create");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test(test_read_limit_capped),
		cmocka_unit_test(test_store_failure_is_returned),
	};

	ink_log_init("test_audit", INK_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
