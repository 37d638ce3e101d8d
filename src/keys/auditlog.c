/* auditlog: the audit log's signing key and the SAM's own copy of the log tree's frontier.
 * inkand hands over leaf hashes; the SAM recomputes the root and signs only a head that
 * extends the last one it signed, so a compromised inkand cannot rewrite signed history. */
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define LOG_PURPOSE "audit-log-key"
#define LOG_AAD "audit-log"
#define LOG_CURVE "P-384"
#define LOG_KEY_MAX 1024

/* Makes the log key once: ECDSA P-384 (policy-checked), sealed under the master key. */
static int
log_key_create(struct keys *k)
{
	EVP_PKEY *key = NULL;
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	struct ksdb_stmt *st = NULL;
	uint8_t *der = NULL, *pub = NULL, sealed[LOG_KEY_MAX + KEYS_SEAL_OVERHEAD];
	const char *warning = NULL;
	char why[256];
	size_t sealed_len = 0;
	int n = 0, pn = 0, r = INK_ERR_CRYPTO;

	if ((r = policy_check_key(POLICY_KEY_EC, 384, "secp384r1", ink_now(), &warning, why,
	                          sizeof(why))) != 0) {
		log_error("audit log key: %s", why);
		return r;
	}
	r = INK_ERR_CRYPTO;
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", LOG_CURVE)) == NULL ||
	    (p8 = EVP_PKEY2PKCS8(key)) == NULL || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    n > LOG_KEY_MAX || (pn = i2d_PUBKEY(key, &pub)) <= 0)
		goto out;
	if ((r = keys_seal(k, LOG_PURPOSE, (const uint8_t *)LOG_AAD, strlen(LOG_AAD), der, (size_t)n,
	                   sealed, &sealed_len)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_prepare(k->db, "INSERT INTO log_key (blob, pubkey) VALUES (?1, ?2)", &st) != KSDB_OK)
		goto out;
	ksdb_bind_blob(st, 1, sealed, sealed_len);
	ksdb_bind_blob(st, 2, pub, pn);
	if (ksdb_step(st) != KSDB_DONE)
		goto out;
	log_info("audit log key made (ECDSA %s)", LOG_CURVE);
	r = 0;
out:
	ksdb_finalize(st);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	OPENSSL_free(pub);
	PKCS8_PRIV_KEY_INFO_free(p8);
	EVP_PKEY_free(key);
	return r;
}

/* The stored state; the private key only when key != NULL. */
struct log_row {
	int64_t key_id;
	struct audit_head head;
	struct audit_frontier f;
	uint8_t *spki;
	size_t spki_len;
	bool closed;
};

static int
log_load(struct keys *k, struct log_row *row, EVP_PKEY **key)
{
	struct ksdb_stmt *st = NULL;
	const uint8_t *p;
	uint8_t *pt = NULL;
	size_t ptlen = 0, len;
	int rc, r = INK_ERR_STORE, tries;

	memset(row, 0, sizeof(*row));
	if (key != NULL)
		*key = NULL;
	for (tries = 0; tries < 2; tries++) {
		if (ksdb_prepare(k->db, "SELECT blob, pubkey, size, frontier, key_id, time, sig, "
		                       "closed FROM log_state", &st) != KSDB_OK)
			goto out;
		rc = ksdb_step(st);
		if (rc == KSDB_ROW)
			break;
		ksdb_finalize(st);
		st = NULL;
		if (rc != KSDB_DONE || tries > 0 || (r = log_key_create(k)) != 0)
			goto out;
		r = INK_ERR_STORE;
	}
	if (st == NULL)
		goto out;
	len = ksdb_column_bytes(st, 1);
	if ((p = ksdb_column_blob(st, 1)) == NULL || len == 0 || len > 4096 ||
	    (row->spki = malloc(len)) == NULL)
		goto out;
	memcpy(row->spki, p, len);
	row->spki_len = len;
	row->head.size = (uint64_t)ksdb_column_int64(st, 2);
	if (audit_frontier_load(&row->f, row->head.size, ksdb_column_blob(st, 3),
	                        ksdb_column_bytes(st, 3)) != 0) {
		log_error("audit log state in the key store is damaged");
		goto out;
	}
	audit_frontier_root(&row->f, row->head.root);
	row->key_id = ksdb_column_int64(st, 4);
	row->head.time = ksdb_column_int64(st, 5);
	row->closed = ksdb_column_int64(st, 7) != 0;
	len = ksdb_column_bytes(st, 6);
	if ((p = ksdb_column_blob(st, 6)) != NULL && len <= AUDIT_SIG_MAX) {
		memcpy(row->head.sig, p, len);
		row->head.sig_len = len;
	}
	if (key != NULL) {
		len = ksdb_column_bytes(st, 0);
		if ((p = ksdb_column_blob(st, 0)) == NULL || len == 0 ||
		    len > LOG_KEY_MAX + KEYS_SEAL_OVERHEAD || (pt = secmem_alloc(len)) == NULL)
			goto out;
		if ((r = keys_unseal(k, LOG_PURPOSE, (const uint8_t *)LOG_AAD, strlen(LOG_AAD), p, len,
		                     pt, &ptlen)) != 0)
			goto out;
		if ((r = keys_decode_private(k, KEYS_DEC_ANY, pt, ptlen, key)) != 0)
			goto out;
	}
	r = 0;
out:
	ksdb_finalize(st);
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ptlen);
		secmem_free(pt);
	}
	if (r != 0) {
		free(row->spki);
		row->spki = NULL;
	}
	return r;
}

/* ECDSA SHA-384 over text[tl]; sig[*sig_len] of at most AUDIT_SIG_MAX bytes. */
static int
log_sign_text(EVP_PKEY *key, const char *text, size_t tl, uint8_t sig[static AUDIT_SIG_MAX],
              size_t *sig_len)
{
	size_t sl = AUDIT_SIG_MAX;
	EVP_MD_CTX *md = NULL;
	int r = INK_ERR_CRYPTO;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return INK_ERR_ALLOC;
	if (EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &sl, (const uint8_t *)text, tl) == 1) {
		*sig_len = sl;
		r = 0;
	}
	EVP_MD_CTX_free(md);
	return r;
}

static int
log_sign(EVP_PKEY *key, struct audit_head *h)
{
	char text[AUDIT_HEAD_TEXT_MAX];
	size_t tl = audit_head_text(h, text);

	return log_sign_text(key, text, tl, h->sig, &h->sig_len);
}

int
keys_log_attest(struct keys *k, const char *text, uint8_t *sig,
                size_t *sig_len, uint8_t **spki, size_t *spki_len)
{
	struct log_row row;
	EVP_PKEY *key = NULL;
	int r;

	*sig_len = 0;
	*spki = NULL;
	*spki_len = 0;
	/* never a text that could read as a checkpoint's */
	if (strncmp(text, AUDIT_ATTEST_PREFIX, strlen(AUDIT_ATTEST_PREFIX)) != 0 ||
	    strlen(text) > AUDIT_ATTEST_MAX)
		return INK_ERR_INVALID;
	if ((r = log_load(k, &row, &key)) != 0)
		return r;
	if ((r = log_sign_text(key, text, strlen(text), sig, sig_len)) == 0) {
		*spki = row.spki;
		*spki_len = row.spki_len;
		row.spki = NULL;
	}
	EVP_PKEY_free(key);
	free(row.spki);
	return r;
}

int
keys_log_head(struct keys *k, struct audit_head *out, bool *closed, uint8_t **spki,
              size_t *spki_len)
{
	struct log_row row;
	int r;

	memset(out, 0, sizeof(*out));
	*spki = NULL;
	*spki_len = 0;
	if ((r = log_load(k, &row, NULL)) != 0)
		return r;
	*out = row.head;
	*closed = row.closed;
	*spki = row.spki;
	*spki_len = row.spki_len;
	return 0;
}

int
keys_log_extend(struct keys *k, uint64_t from, const uint8_t *leaves, size_t n, bool final,
                const int64_t *ids, const int64_t *seqs, size_t m, struct audit_head *out)
{
	struct log_row row;
	EVP_PKEY *key = NULL;
	struct ksdb_stmt *st = NULL;
	bool tx = false;
	size_t i;
	int64_t now = ink_now();
	int r;

	memset(out, 0, sizeof(*out));
	memset(&row, 0, sizeof(row));
	if (n > KEYS_LOG_LEAVES_MAX || (n > 0 && leaves == NULL) ||
	    (m > 0 && (ids == NULL || seqs == NULL)))
		return INK_ERR_INVALID;
	/* The state is read and the new head added in one write transaction. */
	if (keys_begin(k) != 0)
		return INK_ERR_STORE;
	tx = true;
	if ((r = log_load(k, &row, &key)) != 0)
		goto out;
	/* never a head signed onto a key store older than this node has seen (witness.c) */
	if ((r = keys_witness_check(k)) != 0)
		goto out;
	if (from != row.head.size) {
		log_warn("refused to extend the audit log tree from size %llu: the last signed head "
		         "has size %llu", (unsigned long long)from, (unsigned long long)row.head.size);
		r = INK_ERR_EXISTS;
		goto out;
	}
	for (i = 0; i < n; i++)
		audit_frontier_add(&row.f, leaves + i * AUDIT_HASH_LEN);
	row.head.size = row.f.size;
	audit_frontier_root(&row.f, row.head.root);
	/* the SAM's clock; a head never goes back in time */
	row.head.time = now > row.head.time ? now : row.head.time;
	if ((r = log_sign(key, &row.head)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_prepare(k->db, "INSERT INTO log_head (key_id, size, frontier, time, sig, "
	                       "closed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st) != KSDB_OK)
		goto out;
	ksdb_bind_int64(st, 1, row.key_id);
	ksdb_bind_int64(st, 2, (int64_t)row.head.size);
	if (row.f.n > 0)
		ksdb_bind_blob(st, 3, row.f.h, row.f.n * AUDIT_HASH_LEN);
	else
		ksdb_bind_null(st, 3);
	ksdb_bind_int64(st, 4, row.head.time);
	ksdb_bind_blob(st, 5, row.head.sig, row.head.sig_len);
	ksdb_bind_int64(st, 6, final ? 1 : 0);
	if (ksdb_step(st) != KSDB_DONE ||
	    keys_samlog_mark_in(k, ids, seqs, m) != 0 ||
	    ksdb_exec(k->db, "COMMIT") != KSDB_OK)
		goto out;
	tx = false;
	*out = row.head;
	/* the head just signed is the newest this node has seen */
	if ((r = keys_witness_check(k)) != 0)
		log_error("the audit log head of size %llu is signed but the roll-back witness is not "
		          "written", (unsigned long long)row.head.size);
out:
	ksdb_finalize(st);
	if (tx)
		(void)ksdb_exec(k->db, "ROLLBACK");
	EVP_PKEY_free(key);
	free(row.spki);
	return r;
}

int
keys_log_key_opens(struct keys *k)
{
	struct ksdb_stmt *st = NULL;
	uint8_t *pt = NULL;
	const uint8_t *p;
	size_t len, ptlen = 0;
	int rc, r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, "SELECT blob FROM log_key ORDER BY id DESC LIMIT 1", &st) != KSDB_OK)
		goto out;
	if ((rc = ksdb_step(st)) == KSDB_DONE) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	len = ksdb_column_bytes(st, 0);
	if (rc != KSDB_ROW || (p = ksdb_column_blob(st, 0)) == NULL || len == 0 ||
	    len > LOG_KEY_MAX + KEYS_SEAL_OVERHEAD)
		goto out;
	if ((pt = secmem_alloc(len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	r = keys_unseal(k, LOG_PURPOSE, (const uint8_t *)LOG_AAD, strlen(LOG_AAD), p, len, pt,
	                &ptlen);
out:
	ksdb_finalize(st);
	if (pt != NULL) {
		OPENSSL_cleanse(pt, ptlen);
		secmem_free(pt);
	}
	return r;
}

int
keys_log_key_ensure(struct keys *k)
{
	struct log_row row;
	EVP_PKEY *key = NULL;
	int r = log_load(k, &row, &key);

	EVP_PKEY_free(key);
	free(row.spki);
	/* Sealed under another master key: the key store was rebuilt by a join of another
	 * deployment's master key (keys_master_install replaced the check value, with no
	 * credential in the store), and the backup being restored carries no log key: a fresh
	 * key, the newest, takes over. A SAM whose own master key differs from the key store's
	 * never gets here: keys_open refused it (master_check), so a node with the wrong key can
	 * never replace the log key of the others. */
	return r == INK_ERR_CRYPTO ? log_key_create(k) : r;
}
