/* ltv: what a signature's long-term validation data must cover (ETSI EN 319 102-1, EN 319
 * 142-1 B-LT) — the chains of its signer and of its time-stamps' signers, built from the
 * certificates the signature and its tokens carry and any the caller adds. Collecting the
 * data (OCSP, CRLs) and checking it is the caller's business (verify/fetch.c). */
#include "formats/formats_int.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/* Certificates in one set at most; signature time-stamps followed in one signature. */
#define LTV_CERTS_MAX FORMATS_LTV_CERTS_MAX
#define LTV_TOKENS_MAX 8
#define LTV_DEPTH 10

static CMS_ContentInfo *
cms_read(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;

	if (len == 0 || len > LONG_MAX)
		return NULL;
	return d2i_CMS_ContentInfo(NULL, &p, (long)len);
}

/* Adds x (up-ref'd) to pool unless it is there. */
static int
pool_add(STACK_OF(X509) *pool, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(pool); i++)
		if (X509_cmp(sk_X509_value(pool, i), x) == 0)
			return 0;
	if (sk_X509_num(pool) >= LTV_CERTS_MAX)
		return INK_ERR_TOO_LARGE;
	if (!X509_up_ref(x))
		return INK_ERR_CRYPTO;
	if (!sk_X509_push(pool, x)) {
		X509_free(x);
		return INK_ERR_ALLOC;
	}
	return 0;
}

/* The certificates cms carries into pool; its signers' certificates into signers. */
static int
cms_certs(CMS_ContentInfo *cms, STACK_OF(X509) *pool, STACK_OF(X509) *signers)
{
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	X509 *x;
	int i, j, r = 0;

	for (i = 0; certs != NULL && i < sk_X509_num(certs) && r == 0; i++)
		r = pool_add(pool, sk_X509_value(certs, i));
	/* A signer is the pool's certificate its SignerIdentifier names. */
	for (i = 0; r == 0 && i < sk_CMS_SignerInfo_num(sis); i++) {
		for (j = 0; j < sk_X509_num(pool); j++) {
			x = sk_X509_value(pool, j);
			if (CMS_SignerInfo_cert_cmp(sk_CMS_SignerInfo_value(sis, i), x) == 0) {
				r = pool_add(signers, x);
				break;
			}
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* The signature time-stamp tokens of cms's signers (unsigned attribute
 * id-aa-signatureTimeStampToken), each handed to cms_certs. */
static int
token_certs(CMS_ContentInfo *cms, STACK_OF(X509) *pool, STACK_OF(X509) *signers)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113549.1.9.16.2.14", 1);
	X509_ATTRIBUTE *a;
	ASN1_TYPE *t;
	CMS_ContentInfo *tok;
	const unsigned char *p;
	int i, j, k, idx, seen = 0, r = 0;

	if (oid == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; r == 0 && i < sk_CMS_SignerInfo_num(sis); i++) {
		CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, i);

		for (idx = -1; r == 0 && (idx = CMS_unsigned_get_attr_by_OBJ(si, oid, idx)) >= 0;) {
			a = CMS_unsigned_get_attr(si, idx);
			k = X509_ATTRIBUTE_count(a);
			for (j = 0; r == 0 && j < k && seen < LTV_TOKENS_MAX; j++, seen++) {
				t = X509_ATTRIBUTE_get0_type(a, j);
				if (t == NULL || t->type != V_ASN1_SEQUENCE)
					continue;
				p = t->value.sequence->data;
				tok = d2i_CMS_ContentInfo(NULL, &p, t->value.sequence->length);
				if (tok != NULL)
					r = cms_certs(tok, pool, signers);
				CMS_ContentInfo_free(tok);
			}
		}
	}
	ASN1_OBJECT_free(oid);
	return r;
}

/* The pool's certificate that issued x (name and signature), or NULL. */
static X509 *
issuer_of(STACK_OF(X509) *pool, X509 *x)
{
	EVP_PKEY *pk;
	X509 *c;
	int i;

	for (i = 0; i < sk_X509_num(pool); i++) {
		c = sk_X509_value(pool, i);
		if (X509_check_issued(c, x) != X509_V_OK || (pk = X509_get0_pubkey(c)) == NULL)
			continue;
		if (X509_verify(x, pk) == 1)
			return c;
	}
	ERR_clear_error();
	return NULL;
}

static int
out_index(STACK_OF(X509) *done, X509 *x)
{
	int i;

	for (i = 0; i < sk_X509_num(done); i++)
		if (X509_cmp(sk_X509_value(done, i), x) == 0)
			return i;
	return -1;
}

/* Index of x in done (and l), added at the end when new. */
static int
ltv_put(STACK_OF(X509) *done, struct formats_ltv *l, X509 *x, int *idx)
{
	unsigned char *d = NULL;
	int n;

	if ((*idx = out_index(done, x)) >= 0)
		return 0;
	if (l->n == LTV_CERTS_MAX)
		return INK_ERR_TOO_LARGE;
	if ((n = i2d_X509(x, &d)) <= 0)
		return INK_ERR_CRYPTO;
	if (!X509_up_ref(x)) {
		OPENSSL_free(d);
		return INK_ERR_CRYPTO;
	}
	if (!sk_X509_push(done, x)) {
		X509_free(x);
		OPENSSL_free(d);
		return INK_ERR_ALLOC;
	}
	l->v[l->n].der = d;
	l->v[l->n].len = (size_t)n;
	l->v[l->n].issuer = -1;
	l->v[l->n].self_signed = X509_check_issued(x, x) == X509_V_OK;
	*idx = (int)l->n++;
	return 0;
}

void
formats_ltv_free(struct formats_ltv *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		OPENSSL_free(l->v[i].der);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
formats_ltv_chains(const uint8_t *cms_der, size_t len, const struct formats_blob *extra,
                   size_t nextra, struct formats_ltv *out)
{
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *pool = NULL, *signers = NULL, *done = NULL;
	struct formats_ltv l = { 0 };
	X509 *x, *iss, *e;
	const unsigned char *p;
	size_t i;
	int s, depth, xi, ii, r = INK_ERR_ALLOC;

	memset(out, 0, sizeof(*out));
	if ((pool = sk_X509_new_null()) == NULL || (signers = sk_X509_new_null()) == NULL ||
	    (done = sk_X509_new_null()) == NULL)
		goto out;
	r = INK_ERR_INVALID;
	if ((cms = cms_read(cms_der, len)) == NULL ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		goto out;
	if ((r = cms_certs(cms, pool, signers)) != 0 || (r = token_certs(cms, pool, signers)) != 0)
		goto out;
	for (i = 0; i < nextra; i++) {
		p = extra[i].data;
		if (extra[i].len > LONG_MAX || (e = d2i_X509(NULL, &p, (long)extra[i].len)) == NULL)
			continue;
		r = pool_add(pool, e);
		X509_free(e);
		if (r != 0)
			goto out;
	}
	r = INK_ERR_INVALID;
	if (sk_X509_num(signers) == 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((l.v = calloc(LTV_CERTS_MAX, sizeof(*l.v))) == NULL)
		goto out;
	/* Each signer's chain, leaf first, each certificate once; issuer the index of its issuer. */
	for (s = 0; s < sk_X509_num(signers); s++) {
		x = sk_X509_value(signers, s);
		for (depth = 0; x != NULL && depth < LTV_DEPTH; depth++) {
			if ((r = ltv_put(done, &l, x, &xi)) != 0)
				goto out;
			if (X509_check_issued(x, x) == X509_V_OK)
				break;
			if ((iss = issuer_of(pool, x)) != NULL) {
				if ((r = ltv_put(done, &l, iss, &ii)) != 0)
					goto out;
				l.v[xi].issuer = ii;
			}
			x = iss;
		}
	}
	*out = l;
	memset(&l, 0, sizeof(l));
	r = 0;
out:
	ERR_clear_error();
	formats_ltv_free(&l);
	CMS_ContentInfo_free(cms);
	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(signers, X509_free);
	sk_X509_pop_free(done, X509_free);
	return r;
}
