/* test_sads: a SAD minted on one node and spent on another, exactly once, and what a DBA who
 * edits its spend record (or reads it with the master key) gets: nothing.
 *
 * Each "node" is a SAM state of its own (its own key store connection, its own SAD table) on
 * one key store and one master key; signHash requests go through sam_handle_sign as the SAM's
 * channel would pass them, and every signature is checked with OpenSSL against the
 * credential's certificate. Run twice by ctest: on SQLite (unit/test_sads: one node, the SADs
 * in memory) and on PostgreSQL (unit/test_sads_pg, fixture "pg": several nodes, the SADs in
 * the key store, the DBA's edits made as inkan_admin, the cluster's superuser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys/keys.h"
#include "sam/sam_int.h"
#include "store/store.h"
#include "ks_pg.h"

static const char *const OWNER_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *const OWNER_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char *const PIN = "481526";
static const char *const ECDSA_SHA256 = "1.2.840.10045.4.3.2";
#define RACE_ROUNDS 100

struct fixture {
	char root[64];
	char dir[128];
	char pgdb[64];
};

struct node {
	struct keys *k;
	struct sam_state s;
};

static void
dba_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

static long
dba_count(PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT count(*) FROM inkan_keys.sads");
	long n;

	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/inkan-test-sads.XXXXXX");
	if (mkdtemp(f->root) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/keys", f->root);
	*state = f;
	if (!pg_mode())
		return 0;
	pg_keystore(f->dir, "sads", f->pgdb, sizeof(f->pgdb));
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* A node of the service: a SAM state on the key store of f (the same master key file). */
static void
node_open(struct fixture *f, struct node *n)
{
	struct keys_params p = {
		.argon2_m_kib = 8192, .argon2_t = 1, .argon2_p = 1, .max_pin_failures = 3, .level = 4,
		.cert_days = 365, .crl_url = "https://127.0.0.1:8443/ca/crl",
		.policy_oid = "1.2.392.200091.1", .organization = "inkan test",
		/* a signature's witness check takes the SAM's key store lock, as in inkan-sam */
		.store_begin = sam_store_begin, .store_end = sam_store_end, .slow_arg = &n->s,
	};

	memset(n, 0, sizeof(*n));
	assert_int_equal(keys_open(f->dir, &n->k), 0);
	assert_int_equal(keys_set_params(n->k, &p), 0);
	assert_int_equal(pthread_mutex_init(&n->s.ks, NULL), 0);
	assert_int_equal(pthread_mutex_init(&n->s.mu, NULL), 0);
	assert_int_equal(pthread_rwlock_init(&n->s.use, NULL), 0);
	assert_int_equal(pthread_cond_init(&n->s.holds_freed, NULL), 0);
	n->s.keys = n->k;
	n->s.cores = 1;
	assert_int_equal(sad_table_new(n->k, &n->s.sads), 0);
	assert_int_equal(n->s.sads != NULL && keys_sads_shared(n->k), pg_mode());
	/* signatures read their keys on readers of their own, compared with the witness the
	 * start's check makes, as in inkan-sam */
	assert_int_equal(keys_witness_check(n->k), 0);
	assert_int_equal(keys_readers_open(n->k), 0);
}

static void
node_close(struct node *n)
{
	sad_table_free(n->s.sads);
	free(n->s.held);
	free(n->s.spare);
	pthread_cond_destroy(&n->s.holds_freed);
	pthread_rwlock_destroy(&n->s.use);
	pthread_mutex_destroy(&n->s.mu);
	pthread_mutex_destroy(&n->s.ks);
	keys_close(n->k);
}

/* Two nodes (one on SQLite, where a second node has no SADs of the first's) and a P-256
 * credential of OWNER_A made on the first, its kek opened with the PIN. */
static void
service(struct fixture *f, struct node *a, struct node *b, struct keys_cred *c, uint8_t kek[32])
{
	struct keys_subject subj = { .common_name = "Test Signer", .serial_number = OWNER_A };

	assert_int_equal(keys_init_dir(f->dir), 0);
	node_open(f, a);
	assert_int_equal(keys_ca_init(a->k), 0);
	if (b != NULL)
		node_open(f, b);
	assert_int_equal(keys_cred_create(a->k, OWNER_A, &subj, NULL, PIN, false, c, NULL, NULL), 0);
	assert_int_equal(keys_cred_open(a->k, OWNER_A, c->id, PIN, kek), 0);
}

static void
service_close(struct node *a, struct node *b, struct keys_cred *c, PGconn *db)
{
	if (db != NULL)
		PQfinish(db);
	keys_cred_clear(c);
	node_close(a);
	if (b != NULL)
		node_close(b);
}

static void
digest(uint8_t d[32], int seed)
{
	memset(d, seed, 32);
	d[0] = 0x5a;
}

/* A SAD of the credential for OWNER_A in session, for digests seeds[n], expiring in ttl s. */
static void
mint(struct node *n, const struct keys_cred *c, const uint8_t kek[32], const uint8_t session[32],
     const int *seeds, size_t count, int64_t ttl, uint8_t sad[SAD_ID_LEN])
{
	uint8_t d[SAD_MAX_HASHES][32];
	const uint8_t *p[SAD_MAX_HASHES];
	size_t len[SAD_MAX_HASHES], i;
	struct sad_grant g = {
		.owner = OWNER_A, .session = session, .cred = c->id, .serial = c->serial,
		.hashes = p, .hash_lens = len, .n = count, .kek = kek, .expires = ink_now() + ttl,
		.hash_oid = "2.16.840.1.101.3.4.2.1",
	};

	for (i = 0; i < count; i++) {
		digest(d[i], seeds[i]);
		p[i] = d[i];
		len[i] = 32;
	}
	assert_int_equal(sad_issue(n->s.sads, &g, sad), 0);
}

/* Checks an ECDSA signature of digest seed with the credential's certificate (OpenSSL). */
static void
verify(const struct keys_cred *c, int seed, const uint8_t *sig, size_t sig_len)
{
	const uint8_t *pp = c->cert;
	X509 *cert = d2i_X509(NULL, &pp, (long)c->cert_len);
	EVP_PKEY_CTX *ctx;
	uint8_t d[32];

	assert_non_null(cert);
	digest(d, seed);
	assert_non_null(ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(cert), NULL));
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_int_equal(EVP_PKEY_verify(ctx, sig, sig_len, d, sizeof(d)), 1);
	EVP_PKEY_CTX_free(ctx);
	X509_free(cert);
}

/* signHash on node n as the SAM's channel passes it; the signature checked when made. */
static int
sign_as(struct node *n, const char *owner, const uint8_t session[32], const char *cred,
        const uint8_t sad[SAD_ID_LEN], const struct keys_cred *c, int seed)
{
	struct ink_buf req, rep;
	uint8_t d[32];
	const uint8_t *sig;
	size_t sig_len;
	uint32_t count;
	int r;

	buf_init(&req, 1 << 16, true);
	buf_init(&rep, 1 << 16, false);
	digest(d, seed);
	assert_int_equal(buf_put_cstring(&req, owner), 0);
	assert_int_equal(buf_put_string(&req, session, 32), 0);
	assert_int_equal(buf_put_cstring(&req, cred), 0);
	assert_int_equal(buf_put_string(&req, sad, SAD_ID_LEN), 0);
	assert_int_equal(buf_put_cstring(&req, ECDSA_SHA256), 0);
	assert_int_equal(buf_put_cstring(&req, ""), 0);
	assert_int_equal(buf_put_u32(&req, UINT32_MAX), 0);
	assert_int_equal(buf_put_u32(&req, 1), 0);
	assert_int_equal(buf_put_string(&req, d, sizeof(d)), 0);
	/* as dispatch runs it: mu only */
	sam_lock(&n->s, SAM_LOCK_MU);
	r = sam_handle_sign(&n->s, &req, &rep);
	(void)sam_let_go(&n->s);
	if (r == 0) {
		assert_int_equal(buf_get_u32(&rep, &count), 0);
		assert_int_equal(count, 1);
		assert_int_equal(buf_get_string_ptr(&rep, &sig, &sig_len, 1024), 0);
		verify(c, seed, sig, sig_len);
	}
	buf_free(&req);
	buf_free(&rep);
	return r;
}

static int
sign(struct node *n, const uint8_t session[32], const uint8_t sad[SAD_ID_LEN],
     const struct keys_cred *c, int seed)
{
	return sign_as(n, OWNER_A, session, c->id, sad, c, seed);
}

/* The last record node n holds for the log: a refusal of a SAD, with its reason. */
static void
assert_refusal_recorded(struct node *n, int r, const char *detail)
{
	const struct store_audit_rec *rec;

	assert_true(n->s.nheld > 0);
	rec = &n->s.held[n->s.nheld - 1];
	assert_string_equal(rec->action, "sam.sign");
	assert_string_equal(rec->result, ink_err_str(r));
	assert_non_null(strstr(rec->detail, detail));
}

/* One node: the SADs in memory, each hash as often as authorized, bound as today. */
static void
test_one_node(void **state)
{
	struct fixture *f = *state;
	struct node a;
	struct keys_cred c;
	uint8_t kek[32], session[32], other[32], sad[SAD_ID_LEN];
	const int seeds[] = { 1, 1, 2 };

	service(f, &a, NULL, &c, kek);
	memset(session, 7, sizeof(session));
	memset(other, 8, sizeof(other));
	mint(&a, &c, kek, session, seeds, 3, 300, sad);
	/* bound to its signer, session and credential */
	assert_int_equal(sign_as(&a, OWNER_B, session, c.id, sad, &c, 1), INK_ERR_AUTH);
	assert_int_equal(sign(&a, other, sad, &c, 1), INK_ERR_AUTH);
	assert_int_equal(sign_as(&a, OWNER_A, session, "cccccccccccccccccccccccccccccccc", sad, &c, 1),
	                 INK_ERR_AUTH);
	assert_int_equal(sign(&a, session, sad, &c, 3), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&a, session, sad, &c, 1), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&a, session, sad, &c, 2), 0);
	/* used up: gone */
	assert_int_equal(sign(&a, session, sad, &c, 2), INK_ERR_AUTH);
	/* a flipped byte is another SAD: none */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	sad[5] ^= 1;
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_AUTH);
	assert_refusal_recorded(&a, INK_ERR_AUTH, "SAD refused");
	sad[5] ^= 1;
	assert_int_equal(sign(&a, session, sad, &c, 1), 0);
	/* past its expiry */
	mint(&a, &c, kek, session, seeds, 1, -1, sad);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_SAD_EXPIRED);
	/* the PIN changed after the SAD was checked (here: its drop not yet seen): the kek it
	 * carries opens nothing, and the refusal is recorded as a SAD's */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	assert_int_equal(keys_cred_change_pin(a.k, OWNER_A, c.id, PIN, "482913"), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_AUTH);
	assert_refusal_recorded(&a, INK_ERR_AUTH, "SAD refused");
	service_close(&a, NULL, &c, NULL);
}

/* Many SADs live at once (several to a look-up's bucket on one node): each found by its own
 * bytes alone, a drop by session takes exactly that session's wherever they are, a single
 * SAD's drop or last spend takes that one and no neighbour; drops by credential and by owner
 * take all of theirs. */
static void
test_many_live(void **state)
{
	struct fixture *f = *state;
	struct node a;
	struct keys_cred c;
	uint8_t kek[32], s1[32], s2[32];
	size_t n = pg_mode() ? 200 : 6000, i;
	uint8_t (*sads)[SAD_ID_LEN];
	int seed;

	service(f, &a, NULL, &c, kek);
	/* (the records held meanwhile are written when their room is full, as in inkan-sam) */
	memset(s1, 7, sizeof(s1));
	memset(s2, 9, sizeof(s2));
	assert_non_null(sads = calloc(n, SAD_ID_LEN));
	for (i = 0; i < n; i++) {
		seed = (int)(i % 250);
		mint(&a, &c, kek, i % 2 == 0 ? s1 : s2, &seed, 1, 300, sads[i]);
	}
	assert_int_equal(sad_drop_session(a.s.sads, s2), 0);
	/* one SAD dropped by itself, its neighbours in the table untouched */
	assert_int_equal(sad_drop(a.s.sads, sads[0]), 0);
	assert_int_equal(sign(&a, s1, sads[0], &c, 0), INK_ERR_AUTH);
	for (i = 1; i < n; i++) {
		seed = (int)(i % 250);
		if (i % 2 == 1) {
			assert_int_equal(sign(&a, s2, sads[i], &c, seed), INK_ERR_AUTH);
			continue;
		}
		assert_int_equal(sign(&a, s1, sads[i], &c, seed), 0);
		/* used up: gone, and only it (the next even one still signs, above) */
		assert_int_equal(sign(&a, s1, sads[i], &c, seed), INK_ERR_AUTH);
	}
	/* a credential's revocation, then an owner's lock: every one of theirs */
	for (i = 0; i < n; i++) {
		seed = (int)(i % 250);
		mint(&a, &c, kek, s1, &seed, 1, 300, sads[i]);
	}
	assert_int_equal(sad_drop_cred(a.s.sads, c.id), 0);
	for (i = 0; i < n; i += 97)
		assert_int_equal(sign(&a, s1, sads[i], &c, (int)(i % 250)), INK_ERR_AUTH);
	for (i = 0; i < n; i++) {
		seed = (int)(i % 250);
		mint(&a, &c, kek, s2, &seed, 1, 300, sads[i]);
	}
	assert_int_equal(sad_drop_owner(a.s.sads, OWNER_A), 0);
	for (i = 0; i < n; i += 97)
		assert_int_equal(sign(&a, s2, sads[i], &c, (int)(i % 250)), INK_ERR_AUTH);
	OPENSSL_cleanse(sads, n * SAD_ID_LEN);
	free(sads);
	service_close(&a, NULL, &c, NULL);
}

/* A spend prepared by a check, then overtaken before it is made (another request spent the
 * same count, a revocation dropped the SAD): it reads the record again and refuses. */
static void
test_stale_spend(void **state)
{
	struct fixture *f = *state;
	struct node a;
	struct keys_cred c;
	struct sad_spend sp;
	uint8_t kek[32], kek2[32], session[32], sad[SAD_ID_LEN], d[32];
	const uint8_t *dp[1] = { d };
	const size_t dl[1] = { 32 };
	char serial[41];
	const int seeds[] = { 1, 2 };

	service(f, &a, NULL, &c, kek);
	memset(session, 7, sizeof(session));
	mint(&a, &c, kek, session, seeds, 2, 300, sad);
	digest(d, 1);
	assert_int_equal(sad_check(a.s.sads, sad, OWNER_A, session, c.id, "2.16.840.1.101.3.4.2.1",
	                           dp, dl, 1, kek2, serial, &sp), 0);
	assert_memory_equal(kek2, kek, 32);
	assert_false(sp.last);
	/* another request spends hash 1 first: the prepared spend of it finds its count gone */
	assert_int_equal(sign(&a, session, sad, &c, 1), 0);
	assert_int_equal(sad_consume(a.s.sads, sad, &sp, dp, dl, 1), INK_ERR_NOT_AUTHORIZED);
	sad_spend_clear(&sp);
	/* hash 2 checked, then the SAD dropped (a revocation): its prepared spend finds no SAD */
	digest(d, 2);
	assert_int_equal(sad_check(a.s.sads, sad, OWNER_A, session, c.id, "2.16.840.1.101.3.4.2.1",
	                           dp, dl, 1, kek2, serial, &sp), 0);
	assert_true(sp.last);
	assert_int_equal(sad_drop(a.s.sads, sad), 0);
	assert_int_equal(sad_consume(a.s.sads, sad, &sp, dp, dl, 1), INK_ERR_AUTH);
	sad_spend_clear(&sp);
	/* prepared and made: the last count spent, the SAD is gone */
	mint(&a, &c, kek, session, seeds + 1, 1, 300, sad);
	assert_int_equal(sad_check(a.s.sads, sad, OWNER_A, session, c.id, "2.16.840.1.101.3.4.2.1",
	                           dp, dl, 1, kek2, serial, &sp), 0);
	assert_int_equal(sad_consume(a.s.sads, sad, &sp, dp, dl, 1), 0);
	assert_int_equal(sad_consume(a.s.sads, sad, &sp, dp, dl, 1), INK_ERR_AUTH);
	sad_spend_clear(&sp);
	assert_int_equal(sign(&a, session, sad, &c, 2), INK_ERR_AUTH);
	service_close(&a, NULL, &c, NULL);
}

/* The spend made by the statement that reads the signature's key (keys_signer_open_spend),
 * where several nodes share the SADs: made once (the same prepared spend again changes
 * nothing, and the hash is refused after it), not made for a credential that has no row or
 * cannot make the signature asked for, and never tried where the SADs are in inkan-sam's
 * memory. */
static void
test_spend_with_read(void **state)
{
	static const char *const SHA256 = "2.16.840.1.101.3.4.2.1";
	struct fixture *f = *state;
	struct node a;
	struct keys_cred c;
	struct sad_spend sp;
	struct keys_sad_spend_req ksp;
	struct keys_signer *sg = NULL;
	uint8_t kek[32], kek2[32], session[32], sad[SAD_ID_LEN], d[32];
	const uint8_t *dp[1] = { d };
	const size_t dl[1] = { 32 };
	char serial[41];
	const int seeds[] = { 1, 2 };
	PGconn *db = NULL;
	int spent = 0;

	service(f, &a, NULL, &c, kek);
	memset(session, 7, sizeof(session));
	mint(&a, &c, kek, session, seeds, 2, 300, sad);
	digest(d, 1);
	assert_int_equal(sad_check(a.s.sads, sad, OWNER_A, session, c.id, SHA256, dp, dl, 1, kek2,
	                           serial, &sp), 0);
	if (!pg_mode()) {
		assert_false(sad_spend_with_read(a.s.sads, &sp, &ksp));
		ksp = (struct keys_sad_spend_req){ .id_hash = sp.id_hash, .from = sp.from,
		                                   .from_len = sp.from_len, .to = sp.to,
		                                   .to_len = sp.to_len };
		assert_int_equal(keys_signer_open_spend(a.k, c.id, kek, ECDSA_SHA256, NULL, -1, dl, 1,
		                                        &ksp, &spent, &sg), 0);
		assert_int_equal(spent, KEYS_SPEND_NOT_TRIED);
		keys_signer_free(sg);
		sad_spend_clear(&sp);
		/* nothing spent: the hash still signs */
		assert_int_equal(sign(&a, session, sad, &c, 1), 0);
		service_close(&a, NULL, &c, NULL);
		return;
	}
	db = pg_connect(f->pgdb, "inkan_admin");
	assert_true(sad_spend_with_read(a.s.sads, &sp, &ksp));
	assert_int_equal(keys_signer_open_spend(a.k, c.id, kek, ECDSA_SHA256, NULL, -1, dl, 1, &ksp,
	                                        &spent, &sg), 0);
	assert_int_equal(spent, 0);
	keys_signer_free(sg);
	sg = NULL;
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(keys_signer_open_spend(a.k, c.id, kek, ECDSA_SHA256, NULL, -1, dl, 1, &ksp,
	                                        &spent, &sg), 0);
	assert_int_equal(spent, INK_ERR_REPLAY);
	keys_signer_free(sg);
	sg = NULL;
	sad_spend_clear(&sp);
	/* the last count: not spent with the read of a credential that has no row, nor for a
	 * signature its key cannot make (RSASSA-PKCS1 with a P-256 key), as on one node */
	digest(d, 2);
	assert_int_equal(sad_check(a.s.sads, sad, OWNER_A, session, c.id, SHA256, dp, dl, 1, kek2,
	                           serial, &sp), 0);
	assert_true(sp.last);
	assert_true(sad_spend_with_read(a.s.sads, &sp, &ksp));
	assert_int_equal(keys_signer_open_spend(a.k, "cccccccccccccccccccccccccccccccc", kek,
	                                        ECDSA_SHA256, NULL, -1, dl, 1, &ksp, &spent, &sg),
	                 INK_ERR_NOT_FOUND);
	assert_int_equal(spent, INK_ERR_REPLAY);
	assert_null(sg);
	assert_int_equal(keys_signer_open_spend(a.k, c.id, kek, "1.2.840.113549.1.1.11", NULL, -1,
	                                        dl, 1, &ksp, &spent, &sg), INK_ERR_POLICY);
	assert_int_equal(spent, INK_ERR_REPLAY);
	assert_null(sg);
	assert_int_equal(dba_count(db), 1);
	/* and then spent, the record gone */
	assert_int_equal(keys_signer_open_spend(a.k, c.id, kek, ECDSA_SHA256, NULL, -1, dl, 1, &ksp,
	                                        &spent, &sg), 0);
	assert_int_equal(spent, 0);
	keys_signer_free(sg);
	assert_int_equal(dba_count(db), 0);
	assert_int_equal(sign(&a, session, sad, &c, 2), INK_ERR_AUTH);
	sad_spend_clear(&sp);
	service_close(&a, NULL, &c, db);
}

/* Minted on A, spent on B; the same hash again refused on either once its count is used. */
static void
test_across_nodes(void **state)
{
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN];
	const int seeds[] = { 1, 2, 2 };
	PGconn *db;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	mint(&a, &c, kek, session, seeds, 3, 300, sad);
	assert_int_equal(dba_count(db), 1);
	assert_int_equal(sign(&b, session, sad, &c, 1), 0);
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&a, session, sad, &c, 2), 0);
	assert_int_equal(sign(&b, session, sad, &c, 2), 0);
	/* used up on both: the record is gone */
	assert_int_equal(dba_count(db), 0);
	assert_int_equal(sign(&a, session, sad, &c, 2), INK_ERR_AUTH);
	assert_int_equal(sign(&b, session, sad, &c, 2), INK_ERR_AUTH);
	/* bound on every node to its signer and session */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	assert_int_equal(sign_as(&b, OWNER_B, session, c.id, sad, &c, 1), INK_ERR_AUTH);
	session[0] ^= 1;
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_AUTH);
	session[0] ^= 1;
	sad[SAD_ID_LEN - 1] ^= 0x80;
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_AUTH);
	sad[SAD_ID_LEN - 1] ^= 0x80;
	assert_int_equal(sign(&b, session, sad, &c, 1), 0);
	service_close(&a, &b, &c, db);
}

struct racer {
	struct node *n;
	const uint8_t *session, *sad;
	const struct keys_cred *c;
	pthread_barrier_t *go;
	int r;
};

static void *
race(void *arg)
{
	struct racer *x = arg;

	pthread_barrier_wait(x->go);
	x->r = sign(x->n, x->session, x->sad, x->c, 1);
	return NULL;
}

/* Two requests per node spend one SAD at once, on two nodes: exactly as many signatures as
 * the SAD allows (one, then three), round after round. */
static void
test_race(void **state)
{
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN];
	const int once[] = { 1 }, thrice[] = { 1, 1, 1 };
	struct racer x[4];
	pthread_barrier_t go;
	pthread_t t[4];
	int round, i, won, allowed;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	memset(session, 9, sizeof(session));
	assert_int_equal(pthread_barrier_init(&go, NULL, 4), 0);
	for (round = 0; round < RACE_ROUNDS; round++) {
		allowed = round % 2 == 0 ? 1 : 3;
		mint(round % 4 < 2 ? &a : &b, &c, kek, session, allowed == 1 ? once : thrice,
		     (size_t)allowed, 300, sad);
		for (i = 0; i < 4; i++) {
			x[i] = (struct racer){ .n = i % 2 == 0 ? &a : &b, .session = session, .sad = sad,
			                       .c = &c, .go = &go, .r = 1 };
			assert_int_equal(pthread_create(&t[i], NULL, race, &x[i]), 0);
		}
		for (i = 0, won = 0; i < 4; i++) {
			assert_int_equal(pthread_join(t[i], NULL), 0);
			if (x[i].r == 0)
				won++;
			else   /* the losers: the count used, or the record gone with it */
				assert_true(x[i].r == INK_ERR_NOT_AUTHORIZED || x[i].r == INK_ERR_AUTH ||
				            x[i].r == INK_ERR_TOO_LARGE);
		}
		assert_int_equal(won, allowed);
	}
	pthread_barrier_destroy(&go);
	service_close(&a, &b, &c, NULL);
}

/* The node that minted a SAD keeps a copy of its record (a hint that spares the key store's
 * read): gone stale by a spend or a drop on another node, or by the DBA deleting the row or
 * changing its counts, it never gives a signature the key store's counts do not allow; the
 * spend stays the key store's. Whether A answers from its copy is seen through an edit of the
 * owner column, which breaks the row's MAC but not its counts: with the copy A signs (the spend
 * needs only the counts), without it A reads the row and refuses it (INK_ERR_CRYPTO). */
static void
test_copy_on_minting_node(void **state)
{
	static const char *const EDIT_OWNER =
		"UPDATE inkan_keys.sads SET owner = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'";
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN];
	const int seeds[] = { 1, 2, 3 };
	PGconn *db;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	/* spent on B: A's copy still counts hash 1, the key store does not */
	mint(&a, &c, kek, session, seeds, 3, 300, sad);
	assert_int_equal(sign(&b, session, sad, &c, 1), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	assert_refusal_recorded(&a, INK_ERR_NOT_AUTHORIZED, "SAD refused");
	dba_exec(db, "DELETE FROM inkan_keys.sads");
	/* spent on A, whose copy follows its own spend: the same hash again refused from the copy,
	 * the next one signed from it (the edited owner unseen, the counts the row's) */
	mint(&a, &c, kek, session, seeds + 1, 2, 300, sad);
	assert_int_equal(sign(&a, session, sad, &c, 2), 0);
	dba_exec(db, EDIT_OWNER);
	assert_int_equal(sign(&a, session, sad, &c, 2), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&b, session, sad, &c, 3), INK_ERR_CRYPTO);
	assert_int_equal(sign(&a, session, sad, &c, 3), 0);
	assert_int_equal(dba_count(db), 0);
	/* asked in another signer's name, the copy refuses as the record was made */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	assert_int_equal(sign_as(&a, OWNER_B, session, c.id, sad, &c, 1), INK_ERR_AUTH);
	/* the session ended on B: A's copy gives nothing */
	assert_int_equal(sad_drop_session(b.s.sads, session), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_AUTH);
	/* the row deleted by the DBA: nothing to spend, nothing signed */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	dba_exec(db, "DELETE FROM inkan_keys.sads");
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_AUTH);
	/* its counts raised by the DBA: the copy's spend changes nothing, the row is read and
	 * refused on both nodes */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	dba_exec(db, "UPDATE inkan_keys.sads SET lefts = overlay(lefts placing '\\x09'::bytea from 4)");
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_CRYPTO);
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_CRYPTO);
	assert_int_equal(dba_count(db), 1);
	dba_exec(db, "DELETE FROM inkan_keys.sads");
	/* a logout on A drops its copy with the row: the row put back (edited, as a backup's with
	 * another owner) is read, not answered by a copy */
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	dba_exec(db, "CREATE TEMP TABLE keepc AS SELECT * FROM inkan_keys.sads");
	assert_int_equal(sad_drop_session(a.s.sads, session), 0);
	assert_int_equal(dba_count(db), 0);
	dba_exec(db, "INSERT INTO inkan_keys.sads SELECT * FROM keepc");
	dba_exec(db, EDIT_OWNER);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_CRYPTO);
	service_close(&a, &b, &c, db);
}

/* The DBA edits the spend record: each edit refused on the other node, the refusal recorded;
 * the record put back, it signs; counts rolled back give the same hash again, never another. */
static void
test_dba_edits(void **state)
{
	static const struct {
		const char *sql, *what;
		int seed;
		bool other_owner, other_cred;
	} edits[] = {
		{ "UPDATE inkan_keys.sads SET granted = set_byte(granted, 3, 3) || "
		  "'\\x205a'::bytea || decode(repeat('03', 31), 'hex') || '\\x00000001'::bytea, "
		  "lefts = lefts || '\\x00000001'::bytea", "a hash added", 3, false, false },
		{ "UPDATE inkan_keys.sads SET granted = overlay(granted placing '\\x05'::bytea from 41)",
		  "a count raised in the grant", 1, false, false },
		{ "UPDATE inkan_keys.sads SET lefts = overlay(lefts placing '\\x09'::bytea from 4)",
		  "the total left raised", 1, false, false },
		{ "UPDATE inkan_keys.sads SET lefts = overlay(lefts placing '\\x05'::bytea from 8)",
		  "a hash's count left beyond its grant", 1, false, false },
		{ "UPDATE inkan_keys.sads SET expires = expires + 86400", "the expiry extended", 1,
		  false, false },
		{ "UPDATE inkan_keys.sads SET owner = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'",
		  "another owner", 1, true, false },
		{ "UPDATE inkan_keys.sads SET cred = 'cccccccccccccccccccccccccccccccc'",
		  "another credential", 1, false, true },
		{ "UPDATE inkan_keys.sads SET hash_oid = '2.16.840.1.101.3.4.2.8'", "another digest", 1,
		  false, false },
		{ "UPDATE inkan_keys.sads SET sealed = set_byte(sealed, 5, get_byte(sealed, 5) # 1)",
		  "a flipped byte in the sealed kek", 1, false, false },
		{ "UPDATE inkan_keys.sads SET mac = set_byte(mac, 0, get_byte(mac, 0) # 1)",
		  "a flipped byte in the MAC", 1, false, false },
		{ "UPDATE inkan_keys.sads SET sealed = (SELECT sealed FROM keep2), mac = (SELECT mac "
		  "FROM keep2)", "another SAD's sealed kek and MAC", 1, false, false },
		{ "UPDATE inkan_keys.sads SET id_hash = (SELECT id_hash FROM keep2)",
		  "the record moved under another SAD", 1, false, false },
	};
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN], sad2[SAD_ID_LEN];
	const int seeds[] = { 1, 2 };
	size_t i;
	PGconn *db;
	int r;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	mint(&a, &c, kek, session, seeds, 2, 300, sad2);
	dba_exec(db, "CREATE TEMP TABLE keep2 AS SELECT * FROM inkan_keys.sads");
	dba_exec(db, "DELETE FROM inkan_keys.sads");
	mint(&a, &c, kek, session, seeds, 2, 300, sad);
	dba_exec(db, "CREATE TEMP TABLE keep AS SELECT * FROM inkan_keys.sads");
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const uint8_t *s = i + 1 == sizeof(edits) / sizeof(edits[0]) ? sad2 : sad;

		dba_exec(db, edits[i].sql);
		r = sign_as(&b, edits[i].other_owner ? OWNER_B : OWNER_A, session,
		            edits[i].other_cred ? "cccccccccccccccccccccccccccccccc" : c.id, s, &c,
		            edits[i].seed);
		if (r != INK_ERR_CRYPTO)
			fail_msg("%s: %d, not refused as an edited record", edits[i].what, r);
		assert_refusal_recorded(&b, INK_ERR_CRYPTO, "fails its MAC");
		dba_exec(db, "DELETE FROM inkan_keys.sads; INSERT INTO inkan_keys.sads SELECT * FROM keep");
	}
	/* as the SAM made it, it signs, once per count */
	assert_int_equal(sign(&b, session, sad, &c, 1), 0);
	assert_int_equal(sign(&a, session, sad, &c, 1), INK_ERR_NOT_AUTHORIZED);
	/* a roll-back of the counts (or a point-in-time recovery) gives the holder the same hash
	 * again before the expiry (docs/architecture.md): never one they did not authorize */
	dba_exec(db, "DELETE FROM inkan_keys.sads; INSERT INTO inkan_keys.sads SELECT * FROM keep");
	assert_int_equal(sign(&a, session, sad, &c, 3), INK_ERR_NOT_AUTHORIZED);
	assert_int_equal(sign(&a, session, sad, &c, 1), 0);
	service_close(&a, &b, &c, db);
}

/* HKDF-SHA256(ikm, salt, info) into out[32]. */
static void
hkdf(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const char *info,
     uint8_t out[32])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[5], *q = p;

	*q++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	if (salt != NULL)
		*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	*q = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(kc, out, 32, p), 1);
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
}

/* Whether AES-256-GCM under key opens sealed (kek || tag) with any AAD, nonce all zero: the
 * tag is checked last, so an AAD-free attempt at least shows no key of the row's opens it. */
static bool
opens(const uint8_t key[32], const uint8_t *sealed, size_t len)
{
	static const uint8_t nonce[12];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t out[64];
	int n, ok;

	assert_int_equal(len, 48);
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(sealed + 32)) == 1 &&
	     EVP_DecryptUpdate(c, out, &n, sealed, 32) == 1 && EVP_DecryptFinal_ex(c, out + n, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok;
}

/* The DBA with the record and the master key, without the client's SAD: no kek in the row,
 * no key of what they hold opens the sealed one, and a SAM fed the row's id opens nothing. */
static void
test_row_and_master_open_nothing(void **state)
{
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN], master[KEYS_MASTER_LEN], key[32], kek2[32];
	uint8_t id_hash[32];
	const int seeds[] = { 1 };
	char path[256], serial[41];
	const uint8_t *d[1];
	size_t dl[1] = { 32 }, n, col;
	uint8_t dg[32];
	PGresult *res;
	PGconn *db;
	FILE *fp;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	mint(&a, &c, kek, session, seeds, 1, 300, sad);
	snprintf(path, sizeof(path), "%s/master.key", f->dir);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fread(master, 1, sizeof(master), fp), sizeof(master));
	fclose(fp);
	res = PQexecParams(db, "SELECT id_hash, owner, session, cred, serial, hash_oid, expires::text, "
	                   "granted, sealed, mac, lefts FROM inkan_keys.sads", 0, NULL, NULL, NULL,
	                   NULL, 1);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	assert_int_equal(PQntuples(res), 1);
	/* the kek is in no column, nor is the SAD */
	for (col = 0; col < (size_t)PQnfields(res); col++) {
		n = (size_t)PQgetlength(res, 0, (int)col);
		assert_null(memmem(PQgetvalue(res, 0, (int)col), n, kek, sizeof(kek)));
		assert_null(memmem(PQgetvalue(res, 0, (int)col), n, sad, sizeof(sad)));
	}
	assert_int_equal(PQgetlength(res, 0, 0), 32);
	memcpy(id_hash, PQgetvalue(res, 0, 0), 32);
	/* what the DBA can derive from the master key and the row opens nothing */
	hkdf(master, sizeof(master), id_hash, 32, "inkan sad v1", key);
	assert_false(opens(key, (const uint8_t *)PQgetvalue(res, 0, 8), (size_t)PQgetlength(res, 0, 8)));
	hkdf(master, sizeof(master), NULL, 0, "inkan sad v1", key);
	assert_false(opens(key, (const uint8_t *)PQgetvalue(res, 0, 8), (size_t)PQgetlength(res, 0, 8)));
	/* the SAM's own derivation, from the row's id instead of the SAD: nothing either */
	assert_int_equal(keys_sad_derive(b.k, id_hash, key, kek2), 0);
	assert_false(opens(key, (const uint8_t *)PQgetvalue(res, 0, 8), (size_t)PQgetlength(res, 0, 8)));
	PQclear(res);
	/* a SAM handed the row's id as if it were the SAD finds no SAD */
	digest(dg, 1);
	d[0] = dg;
	assert_int_equal(sad_check(b.s.sads, id_hash, OWNER_A, session, c.id, "2.16.840.1.101.3.4.2.1",
	                           d, dl, 1, kek2, serial, NULL), INK_ERR_AUTH);
	/* the holder's SAD opens the kek on the other node */
	assert_int_equal(sad_check(b.s.sads, sad, OWNER_A, session, c.id, "2.16.840.1.101.3.4.2.1",
	                           d, dl, 1, kek2, serial, NULL), 0);
	assert_memory_equal(kek2, kek, 32);
	OPENSSL_cleanse(master, sizeof(master));
	service_close(&a, &b, &c, db);
}

/* The key revoked on A, the signer's SADs end on B; so do a person's and a session's ends. */
static void
test_drops_across_nodes(void **state)
{
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	uint8_t kek[32], session[32], other[32], sad[SAD_ID_LEN], sad2[SAD_ID_LEN];
	const int seeds[] = { 1 };
	PGconn *db;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	memset(other, 8, sizeof(other));
	/* a session's end on A */
	mint(&b, &c, kek, session, seeds, 1, 300, sad);
	mint(&b, &c, kek, other, seeds, 1, 300, sad2);
	sad_drop_session(a.s.sads, session);
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_AUTH);
	/* a person's lock on A */
	sad_drop_owner(a.s.sads, OWNER_A);
	assert_int_equal(sign(&b, other, sad2, &c, 1), INK_ERR_AUTH);
	assert_int_equal(dba_count(db), 0);
	/* the key revoked on A, as the SAM's KEY_REVOKE does */
	mint(&b, &c, kek, session, seeds, 1, 300, sad);
	dba_exec(db, "CREATE TEMP TABLE keep AS SELECT * FROM inkan_keys.sads");
	assert_int_equal(keys_cred_revoke(a.k, OWNER_A, c.id, 1), 0);
	sad_drop_cred(a.s.sads, c.id);
	assert_int_equal(dba_count(db), 0);
	/* refused on B, which minted it: its copy of the record meets the revoked key first */
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_DISABLED);
	assert_refusal_recorded(&b, INK_ERR_DISABLED, "SAD refused");
	/* the record brought back (an old backup's row, a recovery) meets the revoked key */
	dba_exec(db, "INSERT INTO inkan_keys.sads SELECT * FROM keep");
	assert_int_equal(sign(&b, session, sad, &c, 1), INK_ERR_DISABLED);
	assert_int_equal(dba_count(db), 0);
	service_close(&a, &b, &c, db);
}

/* A drop the key store refuses (a DBA's trigger here; a connection lost, a lock timeout in
 * life) is no drop: the SAD still signs on every node, so the act that asked for it (a
 * logout, a lock, a second factor reset, a role change) must not be reported done. */
static void
test_drop_refused_fails_closed(void **state)
{
	struct fixture *f = *state;
	struct node a, b;
	struct keys_cred c;
	struct ink_buf req, rep;
	uint8_t kek[32], session[32], sad[SAD_ID_LEN];
	const int seeds[] = { 1, 2 };
	PGconn *db;

	if (!pg_mode())
		skip();
	service(f, &a, &b, &c, kek);
	db = pg_connect(f->pgdb, "inkan_admin");
	memset(session, 7, sizeof(session));
	mint(&b, &c, kek, session, seeds, 2, 300, sad);
	dba_exec(db, "CREATE FUNCTION inkan_keys.keep_sads() RETURNS trigger LANGUAGE plpgsql AS "
	             "$$BEGIN RAISE EXCEPTION 'kept'; END$$");
	dba_exec(db, "CREATE TRIGGER keep_sads BEFORE DELETE ON inkan_keys.sads FOR EACH ROW "
	             "EXECUTE FUNCTION inkan_keys.keep_sads()");
	assert_int_not_equal(sad_drop_session(a.s.sads, session), 0);
	assert_int_not_equal(sad_drop_owner(a.s.sads, OWNER_A), 0);
	assert_int_not_equal(sad_drop_cred(a.s.sads, c.id), 0);
	assert_int_not_equal(sad_drop(a.s.sads, sad), 0);
	/* the logout's SAM act, as the channel passes it: refused, since the SAD outlives it */
	buf_init(&req, 256, true);
	buf_init(&rep, 256, false);
	assert_int_equal(buf_put_string(&req, session, 32), 0);
	assert_int_equal(buf_put_u8(&req, 0), 0);
	sam_lock(&a.s, SAM_LOCK_KS);   /* as dispatch runs it */
	assert_int_not_equal(sam_handle_logout(&a.s, &req, &rep), 0);
	(void)sam_let_go(&a.s);
	buf_free(&req);
	buf_free(&rep);
	assert_int_equal(dba_count(db), 1);
	assert_int_equal(sign(&b, session, sad, &c, 1), 0);
	/* the key store takes the drop again: the next attempt ends the SAD on every node */
	dba_exec(db, "DROP TRIGGER keep_sads ON inkan_keys.sads");
	assert_int_equal(sad_drop_session(a.s.sads, session), 0);
	assert_int_equal(sign(&b, session, sad, &c, 2), INK_ERR_AUTH);
	assert_int_equal(dba_count(db), 0);
	service_close(&a, &b, &c, db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_across_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_spend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spend_with_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_on_minting_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dba_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_and_master_open_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_across_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_refused_fails_closed, setup, teardown),
	};

	if (pg_env("test_sads") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
