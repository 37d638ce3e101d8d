/* persons: the SAM's own record of every person it serves — the name its certificates carry,
 * the roles that act on keys, the sealed TOTP seed, the attempt counter and the last TOTP step
 * used — and the sessions it opened, all in the key store (DB-2), out of inkand's reach. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PURPOSE_TOTP "totp-seed"
#define PURPOSE_TOTP_PENDING "totp-seed-pending"
#define PURPOSE_IDV "idv-document"
#define PURPOSE_ACTIVATION "activation-code"
#define PSEUDONYM_PREFIX "INKAN-"
#define PSEUDONYM_RANDOM 10          /* bytes: 20 hex digits */

static const char person_cols[] =
    "id, username, display_name, pseudonym, roles, status, totp IS NOT NULL, "
    "totp_pending IS NOT NULL, otp_step, otp_failures, created_at, coalesce(activated_at, 0), "
    "created_by, coalesce(activated_from, '')";

static void
text_col(struct ksdb_stmt *st, int col, char *out, size_t outsz)
{
	const char *t = ksdb_column_text(st, col);

	snprintf(out, outsz, "%s", t != NULL ? t : "");
}

/* Prepares sql, binds the text arguments in order (NULL binds NULL). */
static int
prepare(struct keys *k, const char *sql, struct ksdb_stmt **st, const char *const *args, size_t n)
{
	size_t i;

	*st = NULL;
	if (ksdb_prepare(k->db, sql, st) != KSDB_OK) {
		log_error("keystore: %s", ksdb_errmsg(k->db));
		return INK_ERR_STORE;
	}
	for (i = 0; i < n; i++)
		if (ksdb_bind_text(*st, (int)i + 1, args[i], -1) != KSDB_OK) {
			ksdb_finalize(*st);
			*st = NULL;
			return INK_ERR_STORE;
		}
	return 0;
}

/* Runs a statement that changes one person's row: INK_ERR_NOT_FOUND when there is none. */
static int
change_one(struct ksdb_stmt *st, struct keys *k)
{
	int r = INK_ERR_STORE;

	if (ksdb_step(st) == KSDB_DONE)
		r = ksdb_changes(k->db) == 1 ? 0 : INK_ERR_NOT_FOUND;
	else
		log_error("keystore: %s", ksdb_errmsg(k->db));
	ksdb_finalize(st);
	return r;
}

int
keys_bootstrap_token_new(struct keys *k, char token[static KEYS_BOOTSTRAP_TOKEN_LEN + 1])
{
	uint8_t rnd[KEYS_BOOTSTRAP_TOKEN_LEN / 2], dig[32];
	struct ksdb_stmt *st = NULL;
	int r;

	token[0] = '\0';
	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), token);
	SHA256((const uint8_t *)token, KEYS_BOOTSTRAP_TOKEN_LEN, dig);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if ((r = prepare(k, "UPDATE sam_meta SET bootstrap = ?1", &st, NULL, 0)) != 0)
		goto out;
	ksdb_bind_blob(st, 1, dig, sizeof(dig));
	r = change_one(st, k);
out:
	if (r != 0)
		OPENSSL_cleanse(token, KEYS_BOOTSTRAP_TOKEN_LEN + 1);
	return r;
}

int
keys_bootstrap_token_take(struct keys *k, const char *token)
{
	uint8_t dig[32];
	struct ksdb_stmt *st = NULL;
	int r;

	if (strlen(token) != KEYS_BOOTSTRAP_TOKEN_LEN)
		return INK_ERR_AUTH;
	SHA256((const uint8_t *)token, KEYS_BOOTSTRAP_TOKEN_LEN, dig);
	if ((r = prepare(k, "SELECT bootstrap FROM sam_meta", &st, NULL, 0)) != 0)
		return r;
	r = INK_ERR_AUTH;
	if (ksdb_step(st) == KSDB_ROW && ksdb_column_bytes(st, 0) == sizeof(dig) &&
	    CRYPTO_memcmp(ksdb_column_blob(st, 0), dig, sizeof(dig)) == 0)
		r = 0;
	ksdb_finalize(st);
	/* spent either way only when right: a wrong guess leaves the token to its owner */
	if (r == 0)
		r = keys_exec(k, "UPDATE sam_meta SET bootstrap = NULL");
	return r;
}

int
keys_person_add(struct keys *k, const struct keys_registration *reg,
                char pseudonym[static KEYS_PSEUDONYM_MAX + 1])
{
	struct ksdb_stmt *st = NULL;
	uint8_t rnd[PSEUDONYM_RANDOM], doc[32];
	char hex[2 * PSEUDONYM_RANDOM + 1], *docbuf = NULL;
	bool has_doc = reg->doc_type != NULL && reg->doc_number != NULL;
	size_t dlen = 0;
	int r, rc;

	pseudonym[0] = '\0';
	if (reg->id == NULL || reg->username == NULL || reg->display_name == NULL ||
	    reg->created_by == NULL || strlen(reg->id) > KEYS_ID_LEN ||
	    strlen(reg->username) > KEYS_NAME_MAX || strlen(reg->display_name) > KEYS_CN_MAX)
		return INK_ERR_INVALID;
	if (has_doc) {
		/* type NUL number: ("a", "bc") and ("ab", "c") differ. Neither is kept. */
		dlen = strlen(reg->doc_type) + 1 + strlen(reg->doc_number);
		if ((docbuf = secmem_alloc(dlen + 1)) == NULL)
			return INK_ERR_ALLOC;
		memcpy(docbuf, reg->doc_type, strlen(reg->doc_type) + 1);
		memcpy(docbuf + strlen(reg->doc_type) + 1, reg->doc_number, strlen(reg->doc_number));
		r = keys_mac(k, PURPOSE_IDV, (const uint8_t *)docbuf, dlen, doc);
		secmem_free(docbuf);
		if (r != 0)
			return r;
	}
	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), hex);
	for (char *c = hex; *c != '\0'; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	snprintf(pseudonym, KEYS_PSEUDONYM_MAX + 1, "%s%s", PSEUDONYM_PREFIX, hex);
	{
		const char *args[] = { reg->id, reg->username, reg->display_name, pseudonym,
		                       reg->idv_method, reg->idv_evidence, reg->created_by };

		if ((r = prepare(k, "INSERT INTO persons (id, username, display_name, pseudonym, "
		                    "idv_method, idv_evidence, created_by, roles, status, idv_doc, "
		                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
		                 &st, args, INK_ARRAY_LEN(args))) != 0)
			goto out;
	}
	ksdb_bind_int64(st, 8, (int64_t)reg->roles);
	if (has_doc)
		ksdb_bind_blob(st, 9, doc, sizeof(doc));
	ksdb_bind_int64(st, 10, ink_now());
	rc = ksdb_step(st);
	if (rc == KSDB_DONE)
		r = 0;
	else if (rc == KSDB_CONSTRAINT) {
		r = strstr(ksdb_errmsg(k->db), "idv_doc") != NULL ? INK_ERR_IDENTITY : INK_ERR_EXISTS;
	} else {
		log_error("keystore: %s", ksdb_errmsg(k->db));
		r = INK_ERR_STORE;
	}
out:
	ksdb_finalize(st);
	OPENSSL_cleanse(doc, sizeof(doc));
	if (r != 0)
		pseudonym[0] = '\0';
	return r;
}

/* The columns of person_cols from col 0 on. */
static void
person_row(struct ksdb_stmt *st, struct keys_person *out)
{
	text_col(st, 0, out->id, sizeof(out->id));
	text_col(st, 1, out->username, sizeof(out->username));
	text_col(st, 2, out->display_name, sizeof(out->display_name));
	text_col(st, 3, out->pseudonym, sizeof(out->pseudonym));
	out->roles = (uint32_t)ksdb_column_int64(st, 4);
	out->status = ksdb_column_int(st, 5);
	out->enrolled = ksdb_column_int(st, 6) != 0;
	out->seed_pending = ksdb_column_int(st, 7) != 0;
	out->otp_step = ksdb_column_int64(st, 8);
	out->otp_failures = ksdb_column_int64(st, 9);
	out->created_at = ksdb_column_int64(st, 10);
	out->activated_at = ksdb_column_int64(st, 11);
	text_col(st, 12, out->created_by, sizeof(out->created_by));
	text_col(st, 13, out->activated_from, sizeof(out->activated_from));
}

int
keys_person_get(struct keys *k, const char *id, struct keys_person *out)
{
	char sql[512];
	struct ksdb_stmt *st = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	snprintf(sql, sizeof(sql), "SELECT %s FROM persons WHERE id = ?", person_cols);
	if ((r = prepare(k, sql, &st, &id, 1)) != 0)
		return r;
	rc = ksdb_step(st);
	if (rc == KSDB_DONE)
		r = INK_ERR_NOT_FOUND;
	else if (rc != KSDB_ROW)
		r = INK_ERR_STORE;
	else {
		person_row(st, out);
		r = 0;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_person_count_role(struct keys *k, uint32_t role, const char *except_id, size_t *n)
{
	const char *args[] = { except_id != NULL ? except_id : "" };
	struct ksdb_stmt *st = NULL;
	int r;

	*n = 0;
	if ((r = prepare(k, "SELECT count(*) FROM persons WHERE (roles & ?2) != 0 AND status != 3 "
	                    "AND id != ?1", &st, args, 1)) != 0)
		return r;
	ksdb_bind_int64(st, 2, (int64_t)role);
	if (ksdb_step(st) == KSDB_ROW)
		*n = (size_t)ksdb_column_int64(st, 0);
	else
		r = INK_ERR_STORE;
	ksdb_finalize(st);
	return r;
}

int
keys_person_set_roles(struct keys *k, const char *id, uint32_t roles)
{
	struct ksdb_stmt *st = NULL;
	int r;

	if ((r = prepare(k, "UPDATE persons SET roles = ?2 WHERE id = ?1", &st, &id, 1)) != 0)
		return r;
	ksdb_bind_int64(st, 2, (int64_t)roles);
	return change_one(st, k);
}

int
keys_person_set_status(struct keys *k, const char *id, int status)
{
	struct ksdb_stmt *st = NULL;
	int r;

	if (status < KEYS_PERSON_ACTIVE || status > KEYS_PERSON_GONE)
		return INK_ERR_INVALID;
	if ((r = prepare(k, "UPDATE persons SET status = ?2, otp_failures = CASE WHEN ?2 = 1 "
	                    "THEN 0 ELSE otp_failures END WHERE id = ?1", &st, &id, 1)) != 0)
		return r;
	ksdb_bind_int64(st, 2, status);
	return change_one(st, k);
}

int
keys_person_seed_store(struct keys *k, const char *id, bool pending, const uint8_t *seed,
                       size_t len)
{
	uint8_t sealed[KEYS_SEED_MAX + KEYS_SEAL_OVERHEAD];
	size_t sealed_len = 0;
	struct ksdb_stmt *st = NULL;
	int r;

	if (seed != NULL && (len == 0 || len > KEYS_SEED_MAX))
		return INK_ERR_INVALID;
	if (seed != NULL &&
	    (r = keys_seal(k, pending ? PURPOSE_TOTP_PENDING : PURPOSE_TOTP, (const uint8_t *)id,
	                   strlen(id), seed, len, sealed, &sealed_len)) != 0)
		return r;
	if (seed == NULL)
		r = prepare(k, "UPDATE persons SET totp = NULL, totp_pending = NULL WHERE id = ?1",
		            &st, &id, 1);
	else if (pending)
		r = prepare(k, "UPDATE persons SET totp_pending = ?2 WHERE id = ?1", &st, &id, 1);
	else
		r = prepare(k, "UPDATE persons SET totp = ?2, totp_pending = NULL WHERE id = ?1",
		            &st, &id, 1);
	if (r != 0)
		return r;
	if (seed != NULL)
		ksdb_bind_blob(st, 2, sealed, sealed_len);
	if ((r = change_one(st, k)) == 0)
		keys_scrub(k);   /* the seed it replaces */
	return r;
}

int
keys_person_seed(struct keys *k, const char *id, bool pending, uint8_t *seed, size_t *len)
{
	struct ksdb_stmt *st = NULL;
	const void *blob;
	int r, n;

	*len = 0;
	if ((r = prepare(k, pending ? "SELECT totp_pending FROM persons WHERE id = ?1" :
	                              "SELECT totp FROM persons WHERE id = ?1", &st, &id, 1)) != 0)
		return r;
	if (ksdb_step(st) != KSDB_ROW)
		r = INK_ERR_NOT_FOUND;
	else if ((blob = ksdb_column_blob(st, 0)) == NULL)
		r = INK_ERR_ENROL;
	else if ((n = ksdb_column_bytes(st, 0)) > KEYS_SEED_MAX + KEYS_SEAL_OVERHEAD ||
	         n <= KEYS_SEAL_OVERHEAD)
		r = INK_ERR_CRYPTO;
	else
		r = keys_unseal(k, pending ? PURPOSE_TOTP_PENDING : PURPOSE_TOTP, (const uint8_t *)id,
		                strlen(id), blob, (size_t)n, seed, len);
	ksdb_finalize(st);
	return r;
}

int
keys_person_seed_activate(struct keys *k, const char *id, const char *source)
{
	uint8_t *seed = NULL;
	size_t len = 0;
	struct ksdb_stmt *st = NULL;
	const char *args[] = { id, source != NULL ? source : "" };
	int r;

	if ((seed = secmem_alloc(KEYS_SEED_MAX + KEYS_SEAL_OVERHEAD)) == NULL)
		return INK_ERR_ALLOC;
	/* Re-sealed under the confirmed seed's purpose: the two blobs never open as each other. */
	if ((r = keys_person_seed(k, id, true, seed, &len)) != 0 ||
	    (r = keys_person_seed_store(k, id, false, seed, len)) != 0)
		goto out;
	if ((r = prepare(k, "UPDATE persons SET activated_at = ?3, activated_from = ?2 "
	                    "WHERE id = ?1", &st, args, 2)) != 0)
		goto out;
	ksdb_bind_int64(st, 3, ink_now());
	r = change_one(st, k);
out:
	secmem_free(seed);
	return r;
}

/* HMAC over id NUL code: a code is bound to its person. */
static int
activation_mac(struct keys *k, const char *id, const char *code, uint8_t out[static 32])
{
	size_t il = strlen(id), cl = strlen(code);
	char *buf = NULL;
	int r;

	if ((buf = secmem_alloc(il + 1 + cl + 1)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(buf, id, il + 1);
	memcpy(buf + il + 1, code, cl);
	r = keys_mac(k, PURPOSE_ACTIVATION, (const uint8_t *)buf, il + 1 + cl, out);
	secmem_free(buf);
	return r;
}

int
keys_person_activation_set(struct keys *k, const char *id, const char *code)
{
	uint8_t mac[32];
	struct ksdb_stmt *st = NULL;
	int r;

	if (code != NULL && (r = activation_mac(k, id, code, mac)) != 0)
		return r;
	if ((r = prepare(k, "UPDATE persons SET activation = ?2 WHERE id = ?1", &st, &id, 1)) != 0)
		return r;
	if (code != NULL)
		ksdb_bind_blob(st, 2, mac, sizeof(mac));
	OPENSSL_cleanse(mac, sizeof(mac));
	return change_one(st, k);
}

int
keys_person_activation_check(struct keys *k, const char *id, const char *code)
{
	uint8_t mac[32];
	struct ksdb_stmt *st = NULL;
	int r;

	if ((r = activation_mac(k, id, code, mac)) != 0)
		return r;
	if ((r = prepare(k, "SELECT activation FROM persons WHERE id = ?1", &st, &id, 1)) != 0)
		goto out;
	r = INK_ERR_AUTH;
	if (ksdb_step(st) == KSDB_ROW && ksdb_column_bytes(st, 0) == sizeof(mac) &&
	    CRYPTO_memcmp(ksdb_column_blob(st, 0), mac, sizeof(mac)) == 0)
		r = 0;
	ksdb_finalize(st);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

int
keys_person_claim_step(struct keys *k, const char *id, int64_t step)
{
	struct ksdb_stmt *st = NULL;
	int r;

	if ((r = prepare(k, "UPDATE persons SET otp_step = ?2, otp_failures = 0 "
	                    "WHERE id = ?1 AND otp_step < ?2", &st, &id, 1)) != 0)
		return r;
	ksdb_bind_int64(st, 2, step);
	r = change_one(st, k);
	return r == INK_ERR_NOT_FOUND ? INK_ERR_REPLAY : r;
}

int
keys_person_fail(struct keys *k, const char *id, int64_t max_failures, bool *locked_now)
{
	struct ksdb_stmt *st = NULL;
	int r;

	*locked_now = false;
	if ((r = prepare(k, "UPDATE persons SET otp_failures = otp_failures + 1, status = "
	                    "CASE WHEN status = 1 AND otp_failures + 1 >= ?2 THEN 2 ELSE status END "
	                    "WHERE id = ?1 RETURNING status", &st, &id, 1)) != 0)
		return r;
	ksdb_bind_int64(st, 2, max_failures);
	if (ksdb_step(st) == KSDB_ROW) {
		*locked_now = ksdb_column_int(st, 0) == KEYS_PERSON_LOCKED;
		r = ksdb_step(st) == KSDB_DONE ? 0 : INK_ERR_STORE;
	} else
		r = INK_ERR_NOT_FOUND;
	ksdb_finalize(st);
	return r;
}

/* ---- sessions ---- */

int
keys_session_open(struct keys *k, const uint8_t token_hash[static 32], const char *person,
                  bool setup, int64_t ttl)
{
	struct ksdb_stmt *st = NULL;
	int64_t now = ink_now();
	int r;

	/* Ended sessions go first: the table holds only live ones. */
	if ((r = prepare(k, "DELETE FROM sam_sessions WHERE expires_at <= ?1", &st, NULL, 0)) != 0)
		return r;
	ksdb_bind_int64(st, 1, now);
	if (ksdb_step(st) != KSDB_DONE) {
		log_error("keystore: %s", ksdb_errmsg(k->db));
		ksdb_finalize(st);
		return INK_ERR_STORE;
	}
	ksdb_finalize(st);
	st = NULL;
	if ((r = prepare(k, "INSERT INTO sam_sessions (person, token_hash, setup, created_at, "
	                    "expires_at) VALUES (?1, ?2, ?3, ?4, ?5)", &st, &person, 1)) != 0)
		return r;
	ksdb_bind_blob(st, 2, token_hash, 32);
	ksdb_bind_int64(st, 3, setup ? 1 : 0);
	ksdb_bind_int64(st, 4, now);
	ksdb_bind_int64(st, 5, now + ttl);
	r = ksdb_step(st) == KSDB_DONE ? 0 : INK_ERR_EXISTS;
	ksdb_finalize(st);
	return r;
}

int
keys_session_get(struct keys *k, const uint8_t token_hash[static 32], struct keys_session *out)
{
	struct ksdb_stmt *st = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = prepare(k, "SELECT person, setup, expires_at FROM sam_sessions "
	                    "WHERE token_hash = ?1", &st, NULL, 0)) != 0)
		return r;
	ksdb_bind_blob(st, 1, token_hash, 32);
	if (ksdb_step(st) != KSDB_ROW)
		r = INK_ERR_AUTH;
	else {
		text_col(st, 0, out->person, sizeof(out->person));
		out->setup = ksdb_column_int(st, 1) != 0;
		out->expires_at = ksdb_column_int64(st, 2);
		if (ink_now() >= out->expires_at)
			r = INK_ERR_EXPIRED;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_session_actor(struct keys *k, const uint8_t token_hash[static 32], struct keys_session *ss,
                   struct keys_person *who)
{
	char sql[640];
	struct ksdb_stmt *st = NULL;
	int r, rc;

	memset(ss, 0, sizeof(*ss));
	memset(who, 0, sizeof(*who));
	/* the session's columns renamed, so that person_cols name the person's alone */
	snprintf(sql, sizeof(sql), "SELECT %s, s_setup, s_expires FROM persons AS p JOIN (SELECT "
	         "person AS s_person, setup AS s_setup, expires_at AS s_expires FROM sam_sessions "
	         "WHERE token_hash = ?1) AS s ON p.id = s.s_person", person_cols);
	if ((r = prepare(k, sql, &st, NULL, 0)) != 0)
		return r;
	if (ksdb_bind_blob(st, 1, token_hash, 32) != KSDB_OK) {
		ksdb_finalize(st);
		return INK_ERR_STORE;
	}
	rc = ksdb_step(st);
	if (rc == KSDB_DONE) {
		r = INK_ERR_AUTH;
	} else if (rc != KSDB_ROW) {
		r = INK_ERR_STORE;
	} else {
		person_row(st, who);
		snprintf(ss->person, sizeof(ss->person), "%s", who->id);
		ss->setup = ksdb_column_int(st, 14) != 0;
		ss->expires_at = ksdb_column_int64(st, 15);
		r = ink_now() >= ss->expires_at ? INK_ERR_EXPIRED : 0;
	}
	ksdb_finalize(st);
	if (r == INK_ERR_EXPIRED)
		memset(who, 0, sizeof(*who));
	return r;
}

int
keys_session_upgrade(struct keys *k, const uint8_t token_hash[static 32])
{
	struct ksdb_stmt *st = NULL;
	int r;

	if ((r = prepare(k, "UPDATE sam_sessions SET setup = 0 WHERE token_hash = ?1", &st, NULL,
	                 0)) != 0)
		return r;
	ksdb_bind_blob(st, 1, token_hash, 32);
	return change_one(st, k);
}

int
keys_session_end(struct keys *k, const uint8_t *token_hash, const char *person)
{
	struct ksdb_stmt *st = NULL;
	int r;

	if (person != NULL && token_hash != NULL) {
		if ((r = prepare(k, "DELETE FROM sam_sessions WHERE person = ?1 AND token_hash != ?2",
		                 &st, &person, 1)) == 0)
			ksdb_bind_blob(st, 2, token_hash, 32);
	} else if (person != NULL)
		r = prepare(k, "DELETE FROM sam_sessions WHERE person = ?1", &st, &person, 1);
	else if (token_hash != NULL) {
		if ((r = prepare(k, "DELETE FROM sam_sessions WHERE token_hash = ?1", &st, NULL, 0)) == 0)
			ksdb_bind_blob(st, 1, token_hash, 32);
	} else
		return INK_ERR_INVALID;
	if (r != 0)
		return r;
	r = ksdb_step(st) == KSDB_DONE ? 0 : INK_ERR_STORE;
	ksdb_finalize(st);
	return r;
}
