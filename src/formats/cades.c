/* cades: the CAdES long-term levels (ETSI EN 319 122-1) on the encoding of a SignedData — B-LT
 * places certificate and revocation values in its certificates and crls fields (OCSP responses
 * as otherRevInfo id-ri-ocsp-response, RFC 5940), B-LTA adds archive-time-stamp-v3 attributes
 * with their ats-hash-index-v3 (5.5.2, 5.5.3). Edits are made on the bytes: what was signed or
 * time-stamped before is never re-encoded, and unsigned attributes keep their order. */
#include "formats/formats_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ts.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

#define OID_ATS_V3 "0.4.0.1733.2.4"
#define OID_ATS_HASH_INDEX_V3 "0.4.0.19122.1.5"
#define OID_RI_OCSP "1.3.6.1.5.5.7.16.2"
#define OID_MD_ATTR "1.2.840.113549.1.9.4"
#define OID_SIG_TS "1.2.840.113549.1.9.16.2.14"
/* Elements of one list read at most (certificates, revocation values, attributes). */
#define CADES_ITEMS_MAX 256

/* One DER element: the whole of it (p, len) and its contents (c, clen). */
struct tlv {
	const uint8_t *p, *c;
	size_t len, clen;
	uint8_t tag;
};

/* Reads one element of definite length (single-byte tags: all CMS uses) at p[0..len). */
static int
tlv_read(const uint8_t *p, size_t len, struct tlv *t)
{
	size_t n, l = 0, k, i;

	memset(t, 0, sizeof(*t));
	if (len < 2 || (p[0] & 0x1f) == 0x1f)
		return INK_ERR_INVALID;
	if (p[1] < 0x80) {
		l = p[1];
		n = 2;
	} else {
		k = p[1] & 0x7f;
		/* 0x80: an indefinite length (BER), not handled here */
		if (k == 0 || k > 4 || 2 + k > len)
			return INK_ERR_INVALID;
		for (i = 0; i < k; i++)
			l = (l << 8) | p[2 + i];
		n = 2 + k;
	}
	if (l > len - n)
		return INK_ERR_INVALID;
	t->tag = p[0];
	t->p = p;
	t->len = n + l;
	t->c = p + n;
	t->clen = l;
	return 0;
}

/* The next element of a constructed value (*p, *left advance); INK_ERR_NOT_FOUND at its end. */
static int
tlv_next(const uint8_t **p, size_t *left, struct tlv *t)
{
	int r;

	if (*left == 0)
		return INK_ERR_NOT_FOUND;
	if ((r = tlv_read(*p, *left, t)) != 0)
		return r;
	*p += t->len;
	*left -= t->len;
	return 0;
}

/* Whether t is the OBJECT IDENTIFIER dotted. */
static bool
tlv_is_oid(const struct tlv *t, const char *dotted)
{
	ASN1_OBJECT *o = OBJ_txt2obj(dotted, 1);
	const unsigned char *d = NULL;
	int n = 0;
	bool eq;

	if (o == NULL)
		return false;
	n = OBJ_length(o);
	d = OBJ_get0_data(o);
	eq = t->tag == 0x06 && d != NULL && (size_t)n == t->clen && memcmp(d, t->c, t->clen) == 0;
	ASN1_OBJECT_free(o);
	return eq;
}

/* The NID of the OBJECT IDENTIFIER t (NID_undef when unknown or not an OID). */
static int
tlv_nid(const struct tlv *t)
{
	const unsigned char *p = t->p;
	ASN1_OBJECT *o;
	int nid;

	if (t->tag != 0x06 || (o = d2i_ASN1_OBJECT(NULL, &p, (long)t->len)) == NULL)
		return NID_undef;
	nid = OBJ_obj2nid(o);
	ASN1_OBJECT_free(o);
	return nid;
}

static int list_push(struct formats_der_list *list, const uint8_t *p, size_t len);

/* ---- SignedData and SignerInfo ---- */

struct sd {
	struct tlv version, digest_algs, encap, certs, crls, sis;  /* certs, crls: p NULL if absent */
	struct tlv ctype;      /* eContentType */
	struct tlv econtent;   /* the eContent OCTET STRING (primitive or constructed), or p NULL */
};

struct si {
	struct tlv version, sid, digest_alg, signed_attrs, sig_alg, sig, unsigned_attrs;
};

static int
sd_parse(const uint8_t *der, size_t len, struct sd *s)
{
	struct tlv ci, oid, wrap, sd, t;
	const uint8_t *p;
	size_t left;

	memset(s, 0, sizeof(*s));
	if (tlv_read(der, len, &ci) != 0 || ci.tag != 0x30 || ci.len != len)
		return INK_ERR_INVALID;
	p = ci.c;
	left = ci.clen;
	if (tlv_next(&p, &left, &oid) != 0 || !tlv_is_oid(&oid, "1.2.840.113549.1.7.2") ||
	    tlv_next(&p, &left, &wrap) != 0 || wrap.tag != 0xA0 || left != 0 ||
	    tlv_read(wrap.c, wrap.clen, &sd) != 0 || sd.tag != 0x30 || sd.len != wrap.clen)
		return INK_ERR_INVALID;
	p = sd.c;
	left = sd.clen;
	if (tlv_next(&p, &left, &s->version) != 0 || s->version.tag != 0x02 ||
	    tlv_next(&p, &left, &s->digest_algs) != 0 || s->digest_algs.tag != 0x31 ||
	    tlv_next(&p, &left, &s->encap) != 0 || s->encap.tag != 0x30)
		return INK_ERR_INVALID;
	if (tlv_next(&p, &left, &t) != 0)
		return INK_ERR_INVALID;
	if (t.tag == 0xA0) {
		s->certs = t;
		if (tlv_next(&p, &left, &t) != 0)
			return INK_ERR_INVALID;
	}
	if (t.tag == 0xA1) {
		s->crls = t;
		if (tlv_next(&p, &left, &t) != 0)
			return INK_ERR_INVALID;
	}
	if (t.tag != 0x31 || left != 0)
		return INK_ERR_INVALID;
	s->sis = t;
	/* encapContentInfo { eContentType, [0] EXPLICIT OCTET STRING OPTIONAL } */
	p = s->encap.c;
	left = s->encap.clen;
	if (tlv_next(&p, &left, &s->ctype) != 0 || s->ctype.tag != 0x06)
		return INK_ERR_INVALID;
	if (left > 0) {
		if (tlv_next(&p, &left, &t) != 0 || t.tag != 0xA0 || left != 0 ||
		    tlv_read(t.c, t.clen, &s->econtent) != 0 || s->econtent.len != t.clen ||
		    (s->econtent.tag != 0x04 && s->econtent.tag != 0x24))
			return INK_ERR_INVALID;
	}
	return 0;
}

/* The idx-th SignerInfo of s. */
static int
si_parse(const struct sd *s, size_t idx, struct si *si)
{
	struct tlv one, t;
	const uint8_t *p = s->sis.c;
	size_t left = s->sis.clen, i;

	memset(si, 0, sizeof(*si));
	for (i = 0; i <= idx; i++)
		if (tlv_next(&p, &left, &one) != 0 || one.tag != 0x30)
			return INK_ERR_INVALID;
	p = one.c;
	left = one.clen;
	if (tlv_next(&p, &left, &si->version) != 0 || si->version.tag != 0x02 ||
	    tlv_next(&p, &left, &si->sid) != 0 ||
	    tlv_next(&p, &left, &si->digest_alg) != 0 || si->digest_alg.tag != 0x30 ||
	    tlv_next(&p, &left, &t) != 0)
		return INK_ERR_INVALID;
	if (t.tag == 0xA0) {
		si->signed_attrs = t;
		if (tlv_next(&p, &left, &t) != 0)
			return INK_ERR_INVALID;
	}
	si->sig_alg = t;
	if (si->sig_alg.tag != 0x30 || tlv_next(&p, &left, &si->sig) != 0 || si->sig.tag != 0x04)
		return INK_ERR_INVALID;
	if (left > 0 && (tlv_next(&p, &left, &si->unsigned_attrs) != 0 ||
	                 si->unsigned_attrs.tag != 0xA1 || left != 0))
		return INK_ERR_INVALID;
	return 0;
}

/* Number of SignerInfos. */
static size_t
sd_signers(const struct sd *s)
{
	struct tlv t;
	const uint8_t *p = s->sis.c;
	size_t left = s->sis.clen, n = 0;

	while (tlv_next(&p, &left, &t) == 0)
		n++;
	return n;
}

/* Whether the contents of a list (certificates, crls) hold an element equal to e. */
static bool
list_has(const struct tlv *list, const uint8_t *e, size_t elen)
{
	struct tlv t;
	const uint8_t *p = list->c;
	size_t left = list->p != NULL ? list->clen : 0;

	while (tlv_next(&p, &left, &t) == 0)
		if (t.len == elen && memcmp(t.p, e, elen) == 0)
			return true;
	return false;
}

/* What sd_rebuild() changes. */
struct sd_edit {
	const struct formats_blob *certs, *crls, *ocsps;
	size_t ncerts, ncrls, nocsps;
	const uint8_t *attr;   /* an unsigned Attribute (DER) appended to signer 0's, or NULL */
	size_t attr_len;
};

/* One blob as an element: each must be a single DER element of the tag given. */
static int
blob_ok(const struct formats_blob *b, uint8_t tag)
{
	struct tlv t;

	return tlv_read(b->data, b->len, &t) == 0 && t.tag == tag && t.len == b->len ? 0 :
	       INK_ERR_INVALID;
}

static int
sd_rebuild(const struct sd *s, const struct sd_edit *e, uint8_t **out, size_t *outlen)
{
	struct der body = { 0 }, list = { 0 }, ri = { 0 }, sis = { 0 }, one = { 0 }, ua = { 0 },
	           wrap = { 0 }, ci = { 0 };
	struct si si;
	struct tlv t;
	const uint8_t *p;
	size_t i, left;
	bool other = false;
	static const uint8_t v5[] = { 0x02, 0x01, 0x05 };
	int r;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < e->ncerts; i++)
		if ((r = blob_ok(&e->certs[i], 0x30)) != 0)
			return r;
	for (i = 0; i < e->ncrls; i++)
		if ((r = blob_ok(&e->crls[i], 0x30)) != 0)
			return r;
	for (i = 0; i < e->nocsps; i++)
		if ((r = blob_ok(&e->ocsps[i], 0x30)) != 0)
			return r;
	/* certificates [0]: those there, then the new ones */
	if (s->certs.p != NULL)
		der_raw(&list, s->certs.c, s->certs.clen);
	for (i = 0; i < e->ncerts; i++)
		if (!list_has(&s->certs, e->certs[i].data, e->certs[i].len))
			der_raw(&list, e->certs[i].data, e->certs[i].len);
	/* crls [1]: those there, the new CRLs, the OCSP responses as otherRevInfo (RFC 5940) */
	struct der crls = { 0 };

	if (s->crls.p != NULL) {
		der_raw(&crls, s->crls.c, s->crls.clen);
		p = s->crls.c;
		left = s->crls.clen;
		while (tlv_next(&p, &left, &t) == 0)
			other = other || t.tag == 0xA1;
	}
	for (i = 0; i < e->ncrls; i++)
		if (!list_has(&s->crls, e->crls[i].data, e->crls[i].len))
			der_raw(&crls, e->crls[i].data, e->crls[i].len);
	for (i = 0; i < e->nocsps; i++) {
		struct der el = { 0 };

		der_oid(&ri, OID_RI_OCSP);
		der_raw(&ri, e->ocsps[i].data, e->ocsps[i].len);
		der_wrap(&el, 0xA1, &ri);
		if (el.err != 0) {
			der_free(&el);
			der_free(&body);
			der_free(&list);
			der_free(&crls);
			return el.err;
		}
		if (!list_has(&s->crls, el.p, el.len)) {
			der_raw(&crls, el.p, el.len);
			other = true;
		}
		der_free(&el);
	}
	/* RFC 5652 5.1: otherRevInfo makes the version 5 */
	if (other)
		der_raw(&body, v5, sizeof(v5));
	else
		der_raw(&body, s->version.p, s->version.len);
	der_raw(&body, s->digest_algs.p, s->digest_algs.len);
	der_raw(&body, s->encap.p, s->encap.len);
	if (s->certs.p != NULL || list.len > 0)
		der_tlv(&body, 0xA0, list.p, list.len);
	if (s->crls.p != NULL || crls.len > 0)
		der_tlv(&body, 0xA1, crls.p, crls.len);
	der_free(&list);
	der_free(&crls);
	if (e->attr == NULL) {
		der_raw(&body, s->sis.p, s->sis.len);
	} else {
		/* signer 0 with the attribute appended to its unsigned attributes (not sorted: their
		 * order tells which time-stamp came first) */
		if ((r = si_parse(s, 0, &si)) != 0 || sd_signers(s) != 1) {
			der_free(&body);
			return INK_ERR_INVALID;
		}
		der_raw(&one, si.version.p,
		        (size_t)(si.sig.p + si.sig.len - si.version.p));
		if (si.unsigned_attrs.p != NULL)
			der_raw(&ua, si.unsigned_attrs.c, si.unsigned_attrs.clen);
		der_raw(&ua, e->attr, e->attr_len);
		der_wrap(&one, 0xA1, &ua);
		der_wrap(&sis, 0x30, &one);
		der_wrap(&body, 0x31, &sis);
	}
	der_wrap(&wrap, 0x30, &body);
	der_oid(&ci, "1.2.840.113549.1.7.2");
	der_wrap(&ci, 0xA0, &wrap);
	der_wrap(&one, 0x30, &ci);
	if ((r = one.err) != 0) {
		der_free(&one);
		return r;
	}
	*out = one.p;
	*outlen = one.len;
	return 0;
}

int
formats_cades_add_vdata(const uint8_t *cms, size_t len, const struct formats_blob *certs,
                        size_t ncerts, const struct formats_blob *crls, size_t ncrls,
                        const struct formats_blob *ocsps, size_t nocsps, uint8_t **out,
                        size_t *outlen)
{
	struct sd s;
	struct sd_edit e = { .certs = certs, .ncerts = ncerts, .crls = crls, .ncrls = ncrls,
	                     .ocsps = ocsps, .nocsps = nocsps };

	*out = NULL;
	*outlen = 0;
	if (sd_parse(cms, len, &s) != 0)
		return INK_ERR_INVALID;
	return sd_rebuild(&s, &e, out, outlen);
}

/* ---- archive-time-stamp-v3 ---- */

static int
md_of(const EVP_MD *md, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
      uint8_t *out, size_t *outlen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
	     EVP_DigestUpdate(ctx, a, alen) == 1 && (b == NULL || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	     EVP_DigestFinal_ex(ctx, out, &n) == 1;
	EVP_MD_CTX_free(ctx);
	*outlen = n;
	return ok ? 0 : INK_ERR_CRYPTO;
}

/* Calls fn for every hash an ATSHashIndexV3 lists for s and si now, list by list (0:
 * certificates, 1: crls, 2: unsigned attribute values). */
typedef int (*hash_fn)(void *arg, int list, const uint8_t *h, size_t hlen);

static int
each_hash(const struct sd *s, const struct si *si, const EVP_MD *md, hash_fn fn, void *arg)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	const struct tlv *lists[2] = { &s->certs, &s->crls };
	const uint8_t *p, *q;
	size_t left, qleft, hlen, n = 0;
	struct tlv t, type, set, v;
	int li, r;

	for (li = 0; li < 2; li++) {
		if (lists[li]->p == NULL)
			continue;
		p = lists[li]->c;
		left = lists[li]->clen;
		while ((r = tlv_next(&p, &left, &t)) == 0) {
			if (++n > CADES_ITEMS_MAX)
				return INK_ERR_TOO_LARGE;
			if ((r = md_of(md, t.p, t.len, NULL, 0, h, &hlen)) != 0 ||
			    (r = fn(arg, li, h, hlen)) != 0)
				return r;
		}
		if (r != INK_ERR_NOT_FOUND)
			return INK_ERR_INVALID;
	}
	if (si->unsigned_attrs.p == NULL)
		return 0;
	/* each value of each unsigned attribute: the hash of attrType and the value, each with
	 * its tag and length (5.5.2) */
	p = si->unsigned_attrs.c;
	left = si->unsigned_attrs.clen;
	while ((r = tlv_next(&p, &left, &t)) == 0) {
		q = t.c;
		qleft = t.clen;
		if (t.tag != 0x30 || tlv_next(&q, &qleft, &type) != 0 || type.tag != 0x06 ||
		    tlv_next(&q, &qleft, &set) != 0 || set.tag != 0x31 || qleft != 0)
			return INK_ERR_INVALID;
		q = set.c;
		qleft = set.clen;
		while ((r = tlv_next(&q, &qleft, &v)) == 0) {
			if (++n > CADES_ITEMS_MAX)
				return INK_ERR_TOO_LARGE;
			if ((r = md_of(md, type.p, type.len, v.p, v.len, h, &hlen)) != 0 ||
			    (r = fn(arg, 2, h, hlen)) != 0)
				return r;
		}
		if (r != INK_ERR_NOT_FOUND)
			return INK_ERR_INVALID;
	}
	return r == INK_ERR_NOT_FOUND ? 0 : INK_ERR_INVALID;
}

struct index_build {
	struct der lists[3];
};

static int
index_add(void *arg, int list, const uint8_t *h, size_t hlen)
{
	struct index_build *b = arg;

	der_tlv(&b->lists[list], 0x04, h, hlen);
	return b->lists[list].err;
}

/* An ATSHashIndexV3 over what s and si hold now, hashed with md (oid). */
static int
index_build(const struct sd *s, const struct si *si, const EVP_MD *md, const char *oid,
            struct der *out)
{
	struct index_build b;
	struct der seq = { 0 };
	int i, r;

	memset(&b, 0, sizeof(b));
	if ((r = each_hash(s, si, md, index_add, &b)) != 0) {
		for (i = 0; i < 3; i++)
			der_free(&b.lists[i]);
		return r;
	}
	/* hashIndAlgorithm DEFAULT {algorithm id-sha256}: omitted for SHA-256, as DER wants */
	if (strcmp(oid, FORMATS_OID_SHA256) != 0)
		der_algid(&seq, oid, false);
	for (i = 0; i < 3; i++) {
		if (b.lists[i].len == 0)
			der_hdr(&seq, 0x30, 0);
		else
			der_wrap(&seq, 0x30, &b.lists[i]);
	}
	der_wrap(out, 0x30, &seq);
	return out->err;
}

/* The hash with md of the signed content: the eContent carried, the document given, or (for
 * a detached signature without it) the signer's message-digest attribute when the signer used
 * md too. */
static int
content_hash(const struct sd *s, const struct si *si, const EVP_MD *md, const uint8_t *content,
             size_t clen, uint8_t *out, size_t *outlen)
{
	EVP_MD_CTX *ctx = NULL;
	struct tlv t, alg, type, set, v;
	const uint8_t *p, *q;
	size_t left, qleft;
	unsigned n = 0;
	int r = INK_ERR_CRYPTO;

	*outlen = 0;
	if (s->econtent.p != NULL || content != NULL) {
		if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, md, NULL) != 1)
			goto out;
		if (s->econtent.p == NULL) {
			if (EVP_DigestUpdate(ctx, content, clen) != 1)
				goto out;
		} else if (s->econtent.tag == 0x04) {
			if (EVP_DigestUpdate(ctx, s->econtent.c, s->econtent.clen) != 1)
				goto out;
		} else {
			/* a constructed OCTET STRING: its segments' contents, in order */
			p = s->econtent.c;
			left = s->econtent.clen;
			while (tlv_next(&p, &left, &t) == 0) {
				if (t.tag != 0x04 || EVP_DigestUpdate(ctx, t.c, t.clen) != 1) {
					r = INK_ERR_INVALID;
					goto out;
				}
			}
		}
		if (EVP_DigestFinal_ex(ctx, out, &n) != 1)
			goto out;
		*outlen = n;
		r = 0;
		goto out;
	}
	r = INK_ERR_NOT_FOUND;
	p = si->digest_alg.c;
	left = si->digest_alg.clen;
	if (tlv_next(&p, &left, &alg) != 0 || alg.tag != 0x06 || si->signed_attrs.p == NULL)
		goto out;
	if (tlv_nid(&alg) != EVP_MD_get_type(md))
		goto out;
	p = si->signed_attrs.c;
	left = si->signed_attrs.clen;
	while (tlv_next(&p, &left, &t) == 0) {
		q = t.c;
		qleft = t.clen;
		if (tlv_next(&q, &qleft, &type) != 0 || !tlv_is_oid(&type, OID_MD_ATTR) ||
		    tlv_next(&q, &qleft, &set) != 0 || tlv_read(set.c, set.clen, &v) != 0 ||
		    v.tag != 0x04 || v.clen > EVP_MAX_MD_SIZE)
			continue;
		memcpy(out, v.c, v.clen);
		*outlen = v.clen;
		r = 0;
		break;
	}
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* The imprint input of an archive-time-stamp-v3 (5.5.3): eContentType, the content's hash,
 * the SignerInfo's version to signature, the ATSHashIndexV3 — each as encoded. */
static int
ats_input(const struct sd *s, const struct si *si, const EVP_MD *md, const uint8_t *content,
          size_t clen, const uint8_t *index, size_t ilen, struct der *out)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	size_t hlen = 0;
	int r;

	if ((r = content_hash(s, si, md, content, clen, h, &hlen)) != 0)
		return r;
	der_raw(out, s->ctype.p, s->ctype.len);
	der_raw(out, h, hlen);
	der_raw(out, si->version.p, (size_t)(si->sig.p + si->sig.len - si->version.p));
	der_raw(out, index, ilen);
	return out->err;
}

int
formats_cades_ats_prepare(const uint8_t *cms, size_t len, const uint8_t *content, size_t clen,
                          uint8_t md[static FORMATS_SHA256_LEN], uint8_t **index,
                          size_t *index_len)
{
	struct sd s;
	struct si si;
	struct der idx = { 0 }, in = { 0 };
	size_t n = 0;
	int r;

	*index = NULL;
	*index_len = 0;
	if (sd_parse(cms, len, &s) != 0 || sd_signers(&s) != 1 || si_parse(&s, 0, &si) != 0)
		return INK_ERR_INVALID;
	if ((r = index_build(&s, &si, EVP_sha256(), FORMATS_OID_SHA256, &idx)) != 0 ||
	    (r = ats_input(&s, &si, EVP_sha256(), content, clen, idx.p, idx.len, &in)) != 0 ||
	    (r = md_of(EVP_sha256(), in.p, in.len, NULL, 0, md, &n)) != 0)
		goto out;
	*index = idx.p;
	*index_len = idx.len;
	idx.p = NULL;
out:
	der_free(&idx);
	der_free(&in);
	return r;
}

/* Attribute { oid, SET { value } } (value: one DER element). */
static void
attr_der(struct der *out, const char *oid, const uint8_t *value, size_t vlen)
{
	struct der a = { 0 }, set = { 0 };

	der_oid(&a, oid);
	der_raw(&set, value, vlen);
	der_wrap(&a, 0x31, &set);
	der_wrap(out, 0x30, &a);
}

int
formats_cades_ats_add(const uint8_t *cms, size_t len, const uint8_t *token, size_t token_len,
                      const uint8_t *index, size_t index_len, uint8_t **out, size_t *outlen)
{
	struct sd s, ts;
	struct sd_edit e = { 0 };
	struct der a = { 0 };
	uint8_t *tok2 = NULL;
	size_t tok2_len = 0;
	struct tlv t;
	int r;

	*out = NULL;
	*outlen = 0;
	if (sd_parse(cms, len, &s) != 0 || sd_parse(token, token_len, &ts) != 0 ||
	    tlv_read(index, index_len, &t) != 0 || t.len != index_len || t.tag != 0x30)
		return INK_ERR_INVALID;
	/* the index goes into the token's own unsigned attributes ... */
	attr_der(&a, OID_ATS_HASH_INDEX_V3, index, index_len);
	if ((r = a.err) != 0)
		goto out;
	e.attr = a.p;
	e.attr_len = a.len;
	if ((r = sd_rebuild(&ts, &e, &tok2, &tok2_len)) != 0)
		goto out;
	der_free(&a);
	/* ... and the token into the signature's */
	attr_der(&a, OID_ATS_V3, tok2, tok2_len);
	if ((r = a.err) != 0)
		goto out;
	e.attr = a.p;
	e.attr_len = a.len;
	r = sd_rebuild(&s, &e, out, outlen);
out:
	free(tok2);
	der_free(&a);
	return r;
}

struct index_check {
	struct der have[3];   /* the hashes present now, concatenated, per list */
	size_t hlen;
};

static int
index_have(void *arg, int list, const uint8_t *h, size_t hlen)
{
	struct index_check *c = arg;

	c->hlen = hlen;
	der_raw(&c->have[list], h, hlen);
	return c->have[list].err;
}

/* Whether every hash of one list of the index names something present now. */
static bool
index_list_ok(const struct tlv *list, const struct der *have, size_t hlen)
{
	struct tlv t;
	const uint8_t *p = list->c;
	size_t left = list->clen, i, n = 0;
	bool found;

	if (list->tag != 0x30)
		return false;
	while (tlv_next(&p, &left, &t) == 0) {
		/* no more entries than elements may be read: the work stays bounded */
		if (t.tag != 0x04 || t.clen != hlen || ++n > CADES_ITEMS_MAX)
			return false;
		found = false;
		for (i = 0; i + hlen <= have->len && !found; i += hlen)
			found = memcmp(have->p + i, t.c, hlen) == 0;
		if (!found)
			return false;
	}
	return left == 0;
}

/* The k-th archive-time-stamp-v3 value of si (*tok), and the hashes (with md) of the
 * unsigned attribute values before it, concatenated into before. INK_ERR_NOT_FOUND when si has
 * no k-th. */
static int
ats_nth(const struct si *si, size_t k, const EVP_MD *md, struct tlv *tok, struct der *before)
{
	struct tlv t, type, set, v;
	const uint8_t *p, *q, *r;
	size_t left, qleft, rleft, seen = 0, hlen;
	uint8_t h[EVP_MAX_MD_SIZE];
	int ret;

	p = si->unsigned_attrs.c;
	left = si->unsigned_attrs.p != NULL ? si->unsigned_attrs.clen : 0;
	while (tlv_next(&p, &left, &t) == 0) {
		q = t.c;
		qleft = t.clen;
		if (tlv_next(&q, &qleft, &type) != 0 || tlv_next(&q, &qleft, &set) != 0)
			return INK_ERR_INVALID;
		r = set.c;
		rleft = set.clen;
		while (tlv_next(&r, &rleft, &v) == 0) {
			if (tlv_is_oid(&type, OID_ATS_V3) && seen++ == k) {
				*tok = v;
				return before->err;
			}
			if (md != NULL) {
				if ((ret = md_of(md, type.p, type.len, v.p, v.len, h, &hlen)) != 0)
					return ret;
				der_raw(before, h, hlen);
			}
		}
	}
	return INK_ERR_NOT_FOUND;
}

/* Whether an index list holds the hash h. */
static bool
list_covers(const struct tlv *list, const uint8_t *h, size_t hlen)
{
	struct tlv t;
	const uint8_t *p = list->c;
	size_t left = list->clen;

	while (tlv_next(&p, &left, &t) == 0)
		if (t.tag == 0x04 && t.clen == hlen && memcmp(t.c, h, hlen) == 0)
			return true;
	return false;
}

int
formats_cades_ats_input(const uint8_t *cms, size_t len, size_t signer, size_t k,
                        const uint8_t *content, size_t clen, const uint8_t **token,
                        size_t *token_len, uint8_t **input, size_t *input_len, char *why,
                        size_t whysz)
{
	struct sd s, ts;
	struct si si, tsi;
	struct index_check c;
	struct tlv t, type, set, index, f[4], tok;
	struct der in = { 0 }, before = { 0 };
	const uint8_t *p, *q;
	size_t left, qleft, nf = 0, nidx = 0, i, hlen;
	const EVP_MD *md = EVP_sha256();
	char dotted[80];
	int r = INK_ERR_INVALID;

	*input = NULL;
	*input_len = 0;
	*token = NULL;
	*token_len = 0;
	why[0] = '\0';
	memset(&c, 0, sizeof(c));
	memset(&index, 0, sizeof(index));
	if (sd_parse(cms, len, &s) != 0 || si_parse(&s, signer, &si) != 0) {
		snprintf(why, whysz, "the signature is not DER of definite lengths: its archive "
		         "time-stamps cannot be checked here");
		r = INK_ERR_UNSUPPORTED;
		goto out;
	}
	if ((r = ats_nth(&si, k, NULL, &tok, &before)) != 0)
		goto out;
	r = INK_ERR_INVALID;
	*token = tok.p;
	*token_len = tok.len;
	if (sd_parse(tok.p, tok.len, &ts) != 0 || sd_signers(&ts) != 1 ||
	    si_parse(&ts, 0, &tsi) != 0 || tsi.unsigned_attrs.p == NULL) {
		snprintf(why, whysz, "the archive time-stamp carries no ats-hash-index-v3");
		goto out;
	}
	/* exactly one ats-hash-index-v3, of one value */
	p = tsi.unsigned_attrs.c;
	left = tsi.unsigned_attrs.clen;
	while (tlv_next(&p, &left, &t) == 0) {
		q = t.c;
		qleft = t.clen;
		if (tlv_next(&q, &qleft, &type) != 0 || !tlv_is_oid(&type, OID_ATS_HASH_INDEX_V3))
			continue;
		if (tlv_next(&q, &qleft, &set) != 0 || set.tag != 0x31 ||
		    tlv_read(set.c, set.clen, &index) != 0 || index.len != set.clen)
			nidx = 2;
		else
			nidx++;
	}
	if (nidx != 1 || index.tag != 0x30) {
		snprintf(why, whysz, "the archive time-stamp needs exactly one ats-hash-index-v3");
		goto out;
	}
	p = index.c;
	left = index.clen;
	while (nf < 4 && tlv_next(&p, &left, &f[nf]) == 0)
		nf++;
	if (left != 0 || (nf != 3 && nf != 4)) {
		snprintf(why, whysz, "malformed ats-hash-index-v3");
		goto out;
	}
	if (nf == 4) {
		/* hashIndAlgorithm: the caller checks the token's imprint, made with the same one */
		q = f[0].c;
		qleft = f[0].clen;
		if (f[0].tag != 0x30 || tlv_next(&q, &qleft, &t) != 0 ||
		    (md = EVP_get_digestbynid(tlv_nid(&t))) == NULL ||
		    OBJ_obj2txt(dotted, sizeof(dotted), OBJ_nid2obj(tlv_nid(&t)), 1) <= 0 ||
		    policy_hash_by_oid(dotted) == NULL) {
			snprintf(why, whysz, "the ats-hash-index-v3's hashIndAlgorithm is unknown or "
			         "not allowed");
			goto out;
		}
	}
	hlen = (size_t)EVP_MD_get_size(md);
	if ((r = each_hash(&s, &si, md, index_have, &c)) != 0 ||
	    (r = ats_nth(&si, k, md, &tok, &before)) != 0) {
		snprintf(why, whysz, "the signature's elements cannot be hashed (more than %d?)",
		         CADES_ITEMS_MAX);
		if (r != INK_ERR_ALLOC)
			r = INK_ERR_UNSUPPORTED;
		goto out;
	}
	r = INK_ERR_INVALID;
	for (i = 0; i < 3; i++) {
		if (!index_list_ok(&f[nf - 3 + i], &c.have[i], hlen)) {
			snprintf(why, whysz, "the ats-hash-index-v3 names %s that the signature does not "
			         "hold (altered since?)", i == 0 ? "a certificate" : i == 1 ?
			         "revocation data" : "an unsigned attribute");
			goto out;
		}
	}
	/* it covers every unsigned attribute value before it: the signature time-stamp and the
	 * archive time-stamps it renews */
	for (i = 0; i + hlen <= before.len; i += hlen) {
		if (!list_covers(&f[nf - 1], before.p + i, hlen)) {
			snprintf(why, whysz, "the archive time-stamp does not cover the unsigned "
			         "attributes before it");
			goto out;
		}
	}
	if ((r = ats_input(&s, &si, md, content, clen, index.p, index.len, &in)) != 0) {
		snprintf(why, whysz, r == INK_ERR_NOT_FOUND ? "the signed content's hash is not at "
		         "hand (give the document)" : "the imprint input cannot be computed");
		goto out;
	}
	*input = in.p;
	*input_len = in.len;
	in.p = NULL;
	r = 0;
out:
	for (i = 0; i < 3; i++)
		der_free(&c.have[i]);
	der_free(&before);
	der_free(&in);
	return r;
}

int
formats_cades_revocation(const uint8_t *cms, size_t len, struct formats_der_list *crls,
                         struct formats_der_list *ocsps)
{
	struct sd s;
	struct tlv t, oid, v;
	const uint8_t *p, *q;
	size_t left, qleft;
	int r;

	memset(crls, 0, sizeof(*crls));
	memset(ocsps, 0, sizeof(*ocsps));
	if (sd_parse(cms, len, &s) != 0)
		return INK_ERR_INVALID;
	p = s.crls.c;
	left = s.crls.p != NULL ? s.crls.clen : 0;
	while (tlv_next(&p, &left, &t) == 0) {
		if (t.tag == 0x30) {
			r = list_push(crls, t.p, t.len);
		} else if (t.tag == 0xA1) {
			/* other [1] IMPLICIT OtherRevocationInfoFormat: id-ri-ocsp-response only */
			q = t.c;
			qleft = t.clen;
			if (tlv_next(&q, &qleft, &oid) != 0 || !tlv_is_oid(&oid, OID_RI_OCSP) ||
			    tlv_next(&q, &qleft, &v) != 0 || qleft != 0)
				continue;
			r = list_push(ocsps, v.p, v.len);
		} else {
			continue;
		}
		if (r != 0) {
			formats_der_list_free(crls);
			formats_der_list_free(ocsps);
			return r;
		}
	}
	return 0;
}

/* ---- what a signature holds ---- */

int
formats_cades_info(const uint8_t *cms, size_t len, struct formats_cades_info *info)
{
	struct sd s;
	struct si si;
	struct tlv t, type;
	const uint8_t *p, *q;
	size_t left, qleft;

	memset(info, 0, sizeof(*info));
	if (sd_parse(cms, len, &s) != 0 || si_parse(&s, 0, &si) != 0)
		return INK_ERR_INVALID;
	info->signers = sd_signers(&s);
	info->detached = s.econtent.p == NULL;
	if (si.unsigned_attrs.p == NULL)
		return 0;
	p = si.unsigned_attrs.c;
	left = si.unsigned_attrs.clen;
	while (tlv_next(&p, &left, &t) == 0) {
		q = t.c;
		qleft = t.clen;
		if (tlv_next(&q, &qleft, &type) != 0)
			return INK_ERR_INVALID;
		if (tlv_is_oid(&type, OID_SIG_TS))
			info->sig_timestamps++;
		else if (tlv_is_oid(&type, OID_ATS_V3))
			info->archive_timestamps++;
	}
	return 0;
}

/* Appends a copy of p[len] to list unless an equal one is there. */
static int
list_push(struct formats_der_list *list, const uint8_t *p, size_t len)
{
	struct formats_blob *nv;
	uint8_t *copy;
	size_t i;

	for (i = 0; i < list->n; i++)
		if (list->v[i].len == len && memcmp(list->v[i].data, p, len) == 0)
			return 0;
	if (list->n >= CADES_ITEMS_MAX)
		return INK_ERR_TOO_LARGE;
	if ((copy = malloc(len)) == NULL ||
	    (nv = realloc(list->v, (list->n + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		return INK_ERR_ALLOC;
	}
	memcpy(copy, p, len);
	list->v = nv;
	list->v[list->n].data = copy;
	list->v[list->n].len = len;
	list->n++;
	return 0;
}

/* Appends a copy of each Certificate (a SEQUENCE) of a certificates field to *list. */
static int
certs_of(const struct tlv *certs, struct formats_der_list *list)
{
	struct tlv t;
	const uint8_t *p = certs->c;
	size_t left = certs->p != NULL ? certs->clen : 0;
	int r;

	while (tlv_next(&p, &left, &t) == 0) {
		/* other certificate formats: not ours to follow */
		if (t.tag == 0x30 && (r = list_push(list, t.p, t.len)) != 0)
			return r;
	}
	return 0;
}

int
formats_cades_certs(const uint8_t *cms, size_t len, struct formats_der_list *out)
{
	struct formats_der_list got = { 0 };
	struct sd s, ts;
	struct si si;
	struct tlv t, type, set, v;
	const uint8_t *p, *q, *r;
	size_t left, qleft, rleft;
	int ret;

	memset(out, 0, sizeof(*out));
	if (sd_parse(cms, len, &s) != 0 || si_parse(&s, 0, &si) != 0)
		return INK_ERR_INVALID;
	if ((ret = certs_of(&s.certs, &got)) != 0)
		goto out;
	p = si.unsigned_attrs.c;
	left = si.unsigned_attrs.p != NULL ? si.unsigned_attrs.clen : 0;
	while (tlv_next(&p, &left, &t) == 0) {
		q = t.c;
		qleft = t.clen;
		if (tlv_next(&q, &qleft, &type) != 0 || tlv_next(&q, &qleft, &set) != 0 ||
		    (!tlv_is_oid(&type, OID_SIG_TS) && !tlv_is_oid(&type, OID_ATS_V3)))
			continue;
		r = set.c;
		rleft = set.clen;
		while (tlv_next(&r, &rleft, &v) == 0) {
			if (sd_parse(v.p, v.len, &ts) == 0 && (ret = certs_of(&ts.certs, &got)) != 0)
				goto out;
		}
	}
	*out = got;
	memset(&got, 0, sizeof(got));
	ret = 0;
out:
	formats_der_list_free(&got);
	return ret;
}

int
formats_der_list_add(struct formats_der_list *list, const uint8_t *p, size_t len)
{
	return list_push(list, p, len);
}

int
formats_cms_certs_add(const uint8_t *cms, size_t len, struct formats_der_list *list)
{
	struct sd s;

	if (sd_parse(cms, len, &s) != 0)
		return INK_ERR_INVALID;
	return certs_of(&s.certs, list);
}

void
formats_der_list_free(struct formats_der_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		free((void *)l->v[i].data);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
formats_cades_sig_digest(const uint8_t *cms, size_t len, uint8_t md[static FORMATS_SHA256_LEN])
{
	struct sd s;
	struct si si;
	size_t n = 0;

	if (sd_parse(cms, len, &s) != 0 || sd_signers(&s) != 1 || si_parse(&s, 0, &si) != 0)
		return INK_ERR_INVALID;
	/* the signature value's octets (RFC 3161 / EN 319 122-1 5.3: signature-time-stamp) */
	return md_of(EVP_sha256(), si.sig.c, si.sig.clen, NULL, 0, md, &n);
}

int
formats_cades_add_sig_timestamp(const uint8_t *cms, size_t len, const uint8_t *token,
                                size_t token_len, uint8_t **out, size_t *outlen)
{
	struct sd s, ts;
	struct sd_edit e = { 0 };
	struct der a = { 0 };
	int r;

	*out = NULL;
	*outlen = 0;
	if (sd_parse(cms, len, &s) != 0 || sd_parse(token, token_len, &ts) != 0)
		return INK_ERR_INVALID;
	attr_der(&a, OID_SIG_TS, token, token_len);
	if ((r = a.err) == 0) {
		e.attr = a.p;
		e.attr_len = a.len;
		r = sd_rebuild(&s, &e, out, outlen);
	}
	der_free(&a);
	return r;
}
