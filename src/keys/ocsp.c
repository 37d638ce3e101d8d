/* ocsp: the built-in CA's OCSP responder (RFC 6960), inside inkan-sam. inkand hands over only
 * the CertIDs and the nonce; the status of each comes from the CA's own records here, and the
 * response is built and signed here, so inkand cannot make the responder vouch for anything. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "formats/formats.h"

#define OCSP_NAME "ocsp"
#define OCSP_DAYS 365
#define OCSP_RENEW_BEFORE (30 * 86400)
/* Pre-produced responses kept (one per certificate asked about); beyond, the oldest slot goes. */
#define OCSP_CACHE_MAX 1024

/* What one CertID's answer states: compared with the records before a cached answer is reused. */
struct ocsp_status {
	int status;            /* V_OCSP_CERTSTATUS_* */
	int reason;
	int64_t revoked_at;
};

struct ocsp_entry {
	uint8_t id[KEYS_OCSP_ID_MAX];
	size_t id_len;
	struct ocsp_status st;
	int64_t made;
	uint8_t *resp;
	size_t len;
};

struct keys_ocsp_cache {
	struct ocsp_entry e[OCSP_CACHE_MAX];
	size_t next;           /* the slot a new entry takes when none is free */
};

void
keys_ocsp_forget(struct keys *k)
{
	size_t i;

	if (k == NULL || k->ocsp == NULL)
		return;
	for (i = 0; i < OCSP_CACHE_MAX; i++) {
		free(k->ocsp->e[i].resp);
		k->ocsp->e[i].resp = NULL;
		k->ocsp->e[i].id_len = 0;
	}
	k->ocsp->next = 0;
}

int
keys_ocsp_ensure(struct keys *k)
{
	struct ca_subject subj = { .organization = k->organization, .country = "JP" };
	EVP_PKEY *ik = NULL, *key = NULL;
	X509 *ic = NULL, *cert = NULL;
	char cn[96];
	time_t soon = (time_t)(ink_now() + OCSP_RENEW_BEFORE);
	int r;

	if ((r = keys_ca_load(k, OCSP_NAME, NULL, &cert)) == 0 &&
	    X509_cmp_time(X509_get0_notAfter(cert), &soon) > 0) {
		X509_free(cert);
		return 0;
	}
	X509_free(cert);
	cert = NULL;
	if (r != 0 && r != INK_ERR_NOT_FOUND)
		return r;
	snprintf(cn, sizeof(cn), "%.60s OCSP Responder", k->organization);
	subj.common_name = cn;
	if ((r = keys_ca_load(k, "issuing", &ik, &ic)) != 0 ||
	    (r = ca_make_ocsp(ik, ic, &subj, OCSP_DAYS, &key, &cert)) != 0 ||
	    (r = keys_ca_store(k, OCSP_NAME, key, cert)) != 0)
		goto out;
	keys_ocsp_forget(k);
	log_info("made the OCSP responder's key and certificate");
out:
	EVP_PKEY_free(ik);
	EVP_PKEY_free(key);
	X509_free(ic);
	X509_free(cert);
	return r;
}

/* Whether serial (hex as the CA writes it) is one of the issuing CA's: the revocation list, then
 * the signers' certificates, then the CA's own end-entity certificates (TSA, responder). */
static int
serial_status(struct keys *k, X509 *issuing, const char *serial, struct ocsp_status *st)
{
	static const char *const sql[] = {
		"SELECT revoked_at, reason FROM revoked WHERE serial = ?1",
		/* (one literal: clang warns of concatenation in an array of strings) */
		("SELECT cert, status, revoked_at, reason FROM credentials WHERE serial = ?1 "
		 "AND cert IS NOT NULL"),
		"SELECT cert FROM ca WHERE name IN ('tsa', 'ocsp')",
	};
	struct ksdb_stmt *st_ = NULL;
	X509 *c = NULL;
	char hex[41];
	size_t i;
	int rc, r = INK_ERR_STORE;

	st->status = V_OCSP_CERTSTATUS_UNKNOWN;
	for (i = 0; i < INK_ARRAY_LEN(sql); i++) {
		if (ksdb_prepare(k->db, sql[i], &st_) != KSDB_OK)
			goto out;
		if (i < 2)
			ksdb_bind_text(st_, 1, serial, -1);
		while ((rc = ksdb_step(st_)) == KSDB_ROW) {
			if (i == 0) {
				st->status = V_OCSP_CERTSTATUS_REVOKED;
				st->revoked_at = ksdb_column_int64(st_, 0);
				st->reason = ksdb_column_int(st_, 1);
				r = 0;
				goto out;
			}
			X509_free(c);
			c = NULL;
			/* an external CA's certificate carries a serial too: only ours are answered */
			if (ca_cert_from_der(ksdb_column_blob(st_, 0),
			                     ksdb_column_bytes(st_, 0), &c) != 0 ||
			    X509_check_issued(issuing, c) != X509_V_OK ||
			    ca_serial_hex(X509_get0_serialNumber(c), hex) != 0 || strcmp(hex, serial) != 0)
				continue;
			st->status = V_OCSP_CERTSTATUS_GOOD;
			if (i == 1 && ksdb_column_int(st_, 1) == KEYS_REVOKED) {
				/* revoked with its credential, whatever became of the list's row */
				st->status = V_OCSP_CERTSTATUS_REVOKED;
				st->revoked_at = ksdb_column_int64(st_, 2);
				st->reason = ksdb_column_int(st_, 3);
			}
			r = 0;
			goto out;
		}
		if (rc != KSDB_DONE)
			goto out;
		ksdb_finalize(st_);
		st_ = NULL;
	}
	r = 0;
out:
	ksdb_finalize(st_);
	X509_free(c);
	return r;
}

/* The digests a CertID may use (RFC 6960 and RFC 5019 clients send SHA-1; some SHA-2). */
static bool
certid_md_ok(const EVP_MD *md)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha1:
	case NID_sha256:
	case NID_sha384:
	case NID_sha512:
		return true;
	default:
		return false;
	}
}

/* The status of one CertID: unknown unless it names the issuing CA by both hashes. */
static int
certid_status(struct keys *k, X509 *issuing, OCSP_CERTID *id, struct ocsp_status *st)
{
	ASN1_OCTET_STRING *name_hash = NULL, *key_hash = NULL;
	ASN1_OBJECT *md_obj = NULL;
	ASN1_INTEGER *serial = NULL;
	const EVP_MD *md;
	unsigned char nh[EVP_MAX_MD_SIZE], kh[EVP_MAX_MD_SIZE];
	unsigned int nlen = 0, klen = 0;
	char hex[41];

	memset(st, 0, sizeof(*st));
	st->status = V_OCSP_CERTSTATUS_UNKNOWN;
	if (OCSP_id_get0_info(&name_hash, &md_obj, &key_hash, &serial, id) != 1 ||
	    (md = EVP_get_digestbyobj(md_obj)) == NULL || !certid_md_ok(md))
		return 0;
	if (X509_NAME_digest(X509_get_subject_name(issuing), md, nh, &nlen) != 1 ||
	    X509_pubkey_digest(issuing, md, kh, &klen) != 1)
		return INK_ERR_CRYPTO;
	if ((size_t)ASN1_STRING_length(name_hash) != nlen ||
	    memcmp(ASN1_STRING_get0_data(name_hash), nh, nlen) != 0 ||
	    (size_t)ASN1_STRING_length(key_hash) != klen ||
	    memcmp(ASN1_STRING_get0_data(key_hash), kh, klen) != 0)
		return 0;
	if (ca_serial_hex(serial, hex) != 0)
		return 0;
	return serial_status(k, issuing, hex, st);
}

static int
set_time(ASN1_GENERALIZEDTIME **t, int64_t when)
{
	return (*t = ASN1_GENERALIZEDTIME_set(NULL, (time_t)when)) != NULL ? 0 : INK_ERR_CRYPTO;
}

/* The nonce extension with the request's value, byte for byte (RFC 8954). */
static int
add_nonce(OCSP_BASICRESP *bs, const uint8_t *nonce, size_t len)
{
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int r = INK_ERR_CRYPTO;

	if ((os = ASN1_OCTET_STRING_new()) == NULL || ASN1_OCTET_STRING_set(os, nonce, (int)len) != 1 ||
	    (ext = X509_EXTENSION_create_by_NID(NULL, NID_id_pkix_OCSP_Nonce, 0, os)) == NULL ||
	    OCSP_BASICRESP_add_ext(bs, ext, -1) != 1)
		goto out;
	r = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	return r;
}

/* Builds and signs a successful OCSPResponse for the n CertIDs and their statuses. */
static int
build(struct keys *k, X509 *issuing, OCSP_CERTID *const *ids, const struct ocsp_status *st,
      size_t n, const struct keys_ocsp_req *q, int64_t now, uint8_t **resp, size_t *len)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *or = NULL;
	ASN1_GENERALIZEDTIME *this_upd = NULL, *next_upd = NULL, *rev = NULL;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	size_t i;
	int r;

	if ((r = keys_ca_load(k, OCSP_NAME, &key, &cert)) != 0 ||
	    (r = set_time(&this_upd, now)) != 0 || (r = set_time(&next_upd, now + q->validity)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((bs = OCSP_BASICRESP_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		bool revoked = st[i].status == V_OCSP_CERTSTATUS_REVOKED;

		ASN1_GENERALIZEDTIME_free(rev);
		rev = NULL;
		if (revoked && (r = set_time(&rev, st[i].revoked_at)) != 0)
			goto out;
		r = INK_ERR_CRYPTO;
		if (OCSP_basic_add1_status(bs, ids[i], st[i].status, revoked ? st[i].reason : -1, rev,
		                           this_upd, next_upd) == NULL)
			goto out;
	}
	if (q->nonce != NULL && (r = add_nonce(bs, q->nonce, q->nonce_len)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	/* the issuing CA goes along, so that a relying party holding only the root has the path */
	if ((certs = sk_X509_new_null()) == NULL || sk_X509_push(certs, issuing) <= 0 ||
	    X509_up_ref(issuing) != 1)
		goto out;
	if (OCSP_basic_sign(bs, cert, key, EVP_sha256(), certs, 0) != 1 ||
	    (or = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL)
		goto out;
	r = formats_ocsp_der(or, resp, len);
out:
	if (r == INK_ERR_CRYPTO)
		ERR_clear_error();
	OCSP_RESPONSE_free(or);
	OCSP_BASICRESP_free(bs);
	ASN1_GENERALIZEDTIME_free(this_upd);
	ASN1_GENERALIZEDTIME_free(next_upd);
	ASN1_GENERALIZEDTIME_free(rev);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

static struct ocsp_entry *
cache_find(struct keys *k, const uint8_t *id, size_t len)
{
	size_t i;

	if (k->ocsp == NULL)
		return NULL;
	for (i = 0; i < OCSP_CACHE_MAX; i++) {
		struct ocsp_entry *e = &k->ocsp->e[i];

		if (e->resp != NULL && e->id_len == len && memcmp(e->id, id, len) == 0)
			return e;
	}
	return NULL;
}

/* Keeps a copy of resp for id (best effort: no memory, no cache). */
static void
cache_put(struct keys *k, struct ocsp_entry *e, const uint8_t *id, size_t len,
          const struct ocsp_status *st, int64_t made, const uint8_t *resp, size_t rlen)
{
	uint8_t *copy;

	if (k->ocsp == NULL && (k->ocsp = calloc(1, sizeof(*k->ocsp))) == NULL)
		return;
	if ((copy = malloc(rlen)) == NULL)
		return;
	memcpy(copy, resp, rlen);
	if (e == NULL) {
		e = &k->ocsp->e[k->ocsp->next];
		k->ocsp->next = (k->ocsp->next + 1) % OCSP_CACHE_MAX;
	}
	free(e->resp);
	memcpy(e->id, id, len);
	e->id_len = len;
	e->st = *st;
	e->made = made;
	e->resp = copy;
	e->len = rlen;
}

static bool
same_status(const struct ocsp_status *a, const struct ocsp_status *b)
{
	return a->status == b->status && (a->status != V_OCSP_CERTSTATUS_REVOKED ||
	                                  (a->reason == b->reason && a->revoked_at == b->revoked_at));
}

int
keys_ocsp_respond(struct keys *k, const struct keys_ocsp_req *q, uint8_t **resp, size_t *len,
                  bool *fresh)
{
	OCSP_CERTID *ids[KEYS_OCSP_IDS_MAX] = { 0 };
	struct ocsp_status st[KEYS_OCSP_IDS_MAX];
	struct ocsp_entry *e = NULL;
	X509 *issuing = NULL;
	const unsigned char *p;
	int64_t now = ink_now();
	bool cacheable;
	size_t i;
	int r = INK_ERR_INVALID;

	*resp = NULL;
	*len = 0;
	*fresh = false;
	if (q->n < 1 || q->n > KEYS_OCSP_IDS_MAX || q->validity < 60 ||
	    (q->nonce != NULL && (q->nonce_len < 1 || q->nonce_len > KEYS_OCSP_NONCE_MAX)))
		return INK_ERR_INVALID;
	for (i = 0; i < q->n; i++) {
		if (q->id_lens[i] < 1 || q->id_lens[i] > KEYS_OCSP_ID_MAX)
			goto out;
		p = q->ids[i];
		if ((ids[i] = d2i_OCSP_CERTID(NULL, &p, (long)q->id_lens[i])) == NULL ||
		    p != q->ids[i] + q->id_lens[i]) {
			ERR_clear_error();
			goto out;
		}
	}
	if ((r = keys_ocsp_ensure(k)) != 0 || (r = keys_ca_load(k, "issuing", NULL, &issuing)) != 0)
		goto out;
	for (i = 0; i < q->n; i++)
		if ((r = certid_status(k, issuing, ids[i], &st[i])) != 0)
			goto out;
	cacheable = q->n == 1 && q->nonce == NULL;
	if (cacheable && (e = cache_find(k, q->ids[0], q->id_lens[0])) != NULL &&
	    same_status(&e->st, &st[0]) && now >= e->made && now - e->made < q->validity / 2) {
		r = INK_ERR_ALLOC;
		if ((*resp = malloc(e->len)) == NULL)
			goto out;
		memcpy(*resp, e->resp, e->len);
		*len = e->len;
		r = 0;
		goto out;
	}
	if (!q->may_sign) {
		r = INK_ERR_BUSY;
		goto out;
	}
	if ((r = build(k, issuing, ids, st, q->n, q, now, resp, len)) != 0)
		goto out;
	if (cacheable)
		cache_put(k, e, q->ids[0], q->id_lens[0], &st[0], now, *resp, *len);
	*fresh = true;
out:
	for (i = 0; i < q->n && i < KEYS_OCSP_IDS_MAX; i++)
		OCSP_CERTID_free(ids[i]);
	X509_free(issuing);
	return r;
}
