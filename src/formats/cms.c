/* cms: CMS SignedData (RFC 5652) with CAdES baseline attributes (ETSI EN 319 122-1), encoded
 * here byte by byte so the signature can be made elsewhere: prepare the signed attributes,
 * hand out their digest, take the signature value (and a time-stamp), write the DER. */
#include "formats/formats_int.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define OID_DATA "1.2.840.113549.1.7.1"
#define OID_SIGNED_DATA "1.2.840.113549.1.7.2"
#define OID_CONTENT_TYPE "1.2.840.113549.1.9.3"
#define OID_MESSAGE_DIGEST "1.2.840.113549.1.9.4"
#define OID_SIGNING_TIME "1.2.840.113549.1.9.5"
#define OID_SIGNING_CERT_V2 "1.2.840.113549.1.9.16.2.47"
#define OID_SIG_TIMESTAMP "1.2.840.113549.1.9.16.2.14"
#define OID_ECDSA_SHA256 "1.2.840.10045.4.3.2"
#define OID_RSA_SHA256 "1.2.840.113549.1.1.11"
#define OID_RSA_PSS "1.2.840.113549.1.1.10"
#define OID_MGF1 "1.2.840.113549.1.1.8"
#define CMS_SIG_MAX 1024
#define CMS_TOKEN_MAX 65536
#define CMS_COPY_BLOCK (1u << 20)

struct formats_cms {
	X509 *cert;
	EVP_PKEY *pub;
	bool pss;
	struct der certs;       /* contents of certificates [0]: the DER certificates */
	struct der attrs;       /* the signed attributes, sorted, without their SET header */
	struct der sid;         /* IssuerAndSerialNumber */
	struct der sig_alg;     /* signatureAlgorithm AlgorithmIdentifier */
	struct der pss_params;  /* RSASSA-PSS-params, for signHash */
	uint8_t tbs[FORMATS_SHA256_LEN];
	uint8_t content_digest[FORMATS_SHA256_LEN];
	uint8_t *sig;
	size_t sig_len;
	uint8_t *token;
	size_t token_len;
};

/* One attribute: SEQUENCE { type, SET { value } }. */
static void
attr(struct der *out, const char *oid, struct der *value)
{
	struct der a = { 0 }, set = { 0 };

	der_oid(&a, oid);
	der_wrap(&set, 0x31, value);
	der_raw(&a, set.p, set.len);
	if (set.err != 0 && a.err == 0)
		a.err = set.err;
	der_free(&set);
	der_wrap(out, 0x30, &a);
}

/* SignedAttributes is a DER SET OF: its elements sorted by their encodings. */
static int
cmp_der(const void *a, const void *b)
{
	const struct der *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* PAdES and CAdES B-B signed attributes. */
static int
build_attrs(struct formats_cms *c, const struct formats_cms_params *p)
{
	struct der a[4] = { { 0 } }, v = { 0 }, ess = { 0 }, ids = { 0 }, is = { 0 }, gn = { 0 };
	uint8_t chash[EVP_MAX_MD_SIZE], *name = NULL, *serial = NULL;
	unsigned chlen = 0;
	char ut[64];
	struct tm tm;
	time_t t = (time_t)p->when;
	size_t n = 0, i;
	int nl, sl, r = INK_ERR_CRYPTO;

	/* content-type: id-data */
	der_oid(&v, OID_DATA);
	attr(&a[n++], OID_CONTENT_TYPE, &v);
	/* message-digest */
	der_tlv(&v, 0x04, p->content_digest, FORMATS_SHA256_LEN);
	attr(&a[n++], OID_MESSAGE_DIGEST, &v);
	/* signing-time: UTCTime until 2049 (RFC 5652 11.3) */
	if (p->signing_time) {
		if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 >= 2050 || tm.tm_year + 1900 < 1950)
			goto out;
		snprintf(ut, sizeof(ut), "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1,
		         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		der_tlv(&v, 0x17, ut, strlen(ut));
		attr(&a[n++], OID_SIGNING_TIME, &v);
	}
	/* signing-certificate-v2: ESSCertIDv2 { certHash (SHA-256, the default algorithm),
	 * issuerSerial { GeneralNames { directoryName [4] issuer }, serialNumber } } */
	if (EVP_Digest(p->cert, p->cert_len, chash, &chlen, EVP_sha256(), NULL) != 1 ||
	    (nl = i2d_X509_NAME(X509_get_issuer_name(c->cert), &name)) <= 0 ||
	    (sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(c->cert), &serial)) <= 0)
		goto out;
	der_tlv(&gn, 0xA4, name, (size_t)nl);
	der_wrap(&is, 0x30, &gn);
	der_raw(&is, serial, (size_t)sl);
	der_tlv(&ess, 0x04, chash, chlen);
	der_wrap(&ess, 0x30, &is);
	der_wrap(&ids, 0x30, &ess);
	{
		struct der certs = { 0 };

		der_wrap(&certs, 0x30, &ids);
		der_wrap(&v, 0x30, &certs);
	}
	attr(&a[n++], OID_SIGNING_CERT_V2, &v);
	for (i = 0; i < n; i++)
		if (a[i].err != 0) {
			r = a[i].err;
			goto out;
		}
	qsort(a, n, sizeof(a[0]), cmp_der);
	for (i = 0; i < n; i++)
		der_raw(&c->attrs, a[i].p, a[i].len);
	/* What is signed is the attributes' DER as a SET (RFC 5652 5.4), not the [0] form. */
	{
		struct der set = { 0 };

		der_tlv(&set, 0x31, c->attrs.p, c->attrs.len);
		r = set.err != 0 ? set.err : c->attrs.err;
		if (r == 0 && EVP_Digest(set.p, set.len, c->tbs, &chlen, EVP_sha256(), NULL) != 1)
			r = INK_ERR_CRYPTO;
		der_free(&set);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	for (i = 0; i < INK_ARRAY_LEN(a); i++)
		der_free(&a[i]);
	der_free(&v);
	der_free(&ess);
	der_free(&ids);
	der_free(&is);
	der_free(&gn);
	OPENSSL_free(name);
	OPENSSL_free(serial);
	return r;
}

void
formats_pss_sha256_params(struct der *out)
{
	struct der h = { 0 }, m = { 0 }, mi = { 0 }, s = { 0 }, params = { 0 };
	static const uint8_t salt[] = { 0x02, 0x01, FORMATS_SHA256_LEN };

	der_algid(&h, FORMATS_OID_SHA256, true);
	der_wrap(&params, 0xA0, &h);
	der_oid(&mi, OID_MGF1);
	der_algid(&mi, FORMATS_OID_SHA256, true);
	der_wrap(&m, 0x30, &mi);
	der_wrap(&params, 0xA1, &m);
	der_raw(&s, salt, sizeof(salt));
	der_wrap(&params, 0xA2, &s);
	der_wrap(out, 0x30, &params);
}

/* signatureAlgorithm for the key; RSASSA-PSS with SHA-256, MGF1-SHA-256, salt 32 (RFC 4055). */
static int
build_sig_alg(struct formats_cms *c)
{
	int id = EVP_PKEY_get_base_id(c->pub);

	if (id == EVP_PKEY_EC) {
		c->pss = false;
		der_algid(&c->sig_alg, OID_ECDSA_SHA256, false);
	} else if (id == EVP_PKEY_RSA && !c->pss) {
		der_algid(&c->sig_alg, OID_RSA_SHA256, true);
	} else if (id == EVP_PKEY_RSA) {
		struct der a = { 0 };

		formats_pss_sha256_params(&c->pss_params);
		der_oid(&a, OID_RSA_PSS);
		der_raw(&a, c->pss_params.p, c->pss_params.len);
		der_wrap(&c->sig_alg, 0x30, &a);
		if (c->pss_params.err != 0)
			return c->pss_params.err;
	} else {
		return INK_ERR_UNSUPPORTED;
	}
	return c->sig_alg.err;
}

int
formats_cms_prepare(const struct formats_cms_params *p, struct formats_cms **out)
{
	struct formats_cms *c = NULL;
	const uint8_t *pp = p->cert;
	uint8_t *name = NULL, *serial = NULL;
	int nl, sl, r = INK_ERR_INVALID;
	size_t i;

	*out = NULL;
	if (p->cert == NULL || p->cert_len == 0 || p->content_digest == NULL)
		return INK_ERR_INVALID;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return INK_ERR_ALLOC;
	c->pss = p->pss;
	memcpy(c->content_digest, p->content_digest, FORMATS_SHA256_LEN);
	if ((c->cert = d2i_X509(NULL, &pp, (long)p->cert_len)) == NULL ||
	    pp != p->cert + p->cert_len || (c->pub = X509_get_pubkey(c->cert)) == NULL)
		goto out;
	if ((r = build_sig_alg(c)) != 0 || (r = build_attrs(c, p)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((nl = i2d_X509_NAME(X509_get_issuer_name(c->cert), &name)) <= 0 ||
	    (sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(c->cert), &serial)) <= 0)
		goto out;
	{
		struct der s = { 0 };

		der_raw(&s, name, (size_t)nl);
		der_raw(&s, serial, (size_t)sl);
		der_wrap(&c->sid, 0x30, &s);
	}
	der_raw(&c->certs, p->cert, p->cert_len);
	for (i = 0; i < p->nextra; i++)
		der_raw(&c->certs, p->extra[i], p->extra_lens[i]);
	if ((r = c->sid.err) != 0 || (r = c->certs.err) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	OPENSSL_free(name);
	OPENSSL_free(serial);
	formats_cms_free(c);
	return r;
}

void
formats_cms_tbs_digest(const struct formats_cms *c, uint8_t md[static FORMATS_SHA256_LEN])
{
	memcpy(md, c->tbs, FORMATS_SHA256_LEN);
}

const char *
formats_cms_sign_algo(const struct formats_cms *c, const uint8_t **params, size_t *params_len)
{
	*params = NULL;
	*params_len = 0;
	if (EVP_PKEY_get_base_id(c->pub) == EVP_PKEY_EC)
		return OID_ECDSA_SHA256;
	if (!c->pss)
		return OID_RSA_SHA256;
	*params = c->pss_params.p;
	*params_len = c->pss_params.len;
	return OID_RSA_PSS;
}

int
formats_cms_set_signature(struct formats_cms *c, const uint8_t *sig, size_t len)
{
	EVP_PKEY_CTX *pc = NULL;
	uint8_t *copy = NULL;
	int r = INK_ERR_CRYPTO;

	if (sig == NULL || len == 0 || len > CMS_SIG_MAX)
		return INK_ERR_INVALID;
	if ((pc = EVP_PKEY_CTX_new(c->pub, NULL)) == NULL || EVP_PKEY_verify_init(pc) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) != 1)
		goto out;
	if (c->pss && (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
	               EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) != 1 ||
	               EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, FORMATS_SHA256_LEN) != 1))
		goto out;
	if (EVP_PKEY_verify(pc, sig, len, c->tbs, sizeof(c->tbs)) != 1)
		goto out;
	if ((copy = malloc(len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(copy, sig, len);
	free(c->sig);
	c->sig = copy;
	c->sig_len = len;
	r = 0;
out:
	EVP_PKEY_CTX_free(pc);
	return r;
}

int
formats_cms_signature_digest(const struct formats_cms *c, uint8_t md[static FORMATS_SHA256_LEN])
{
	unsigned n = 0;

	if (c->sig == NULL)
		return INK_ERR_INVALID;
	return EVP_Digest(c->sig, c->sig_len, md, &n, EVP_sha256(), NULL) == 1 ? 0 : INK_ERR_CRYPTO;
}

int
formats_cms_set_timestamp(struct formats_cms *c, const uint8_t *token, size_t len)
{
	uint8_t md[FORMATS_SHA256_LEN], *copy = NULL;
	int r;

	if (len == 0 || len > CMS_TOKEN_MAX)
		return INK_ERR_INVALID;
	if ((r = formats_cms_signature_digest(c, md)) != 0 ||
	    (r = formats_ts_token_check(token, len, md, NULL)) != 0)
		return r;
	if ((copy = malloc(len)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(copy, token, len);
	free(c->token);
	c->token = copy;
	c->token_len = len;
	return 0;
}

/* The SignedData around the encapsulated content: before it (pre) and after it (post). With
 * attached, the content of content_len bytes goes between them. */
static int
build_frame(const struct formats_cms *c, bool attached, uint64_t content_len, struct der *pre,
            struct der *post)
{
	struct der head = { 0 }, si = { 0 }, sis = { 0 }, enc_oid = { 0 };
	uint64_t oct, enc_len, sd_len;
	static const uint8_t v1[] = { 0x02, 0x01, 0x01 };

	if (c->sig == NULL)
		return INK_ERR_INVALID;
	/* version, digestAlgorithms */
	der_raw(&head, v1, sizeof(v1));
	{
		struct der d = { 0 };

		der_algid(&d, FORMATS_OID_SHA256, false);
		der_wrap(&head, 0x31, &d);
	}
	der_oid(&enc_oid, OID_DATA);
	/* certificates [0], signerInfos */
	der_tlv(post, 0xA0, c->certs.p, c->certs.len);
	der_raw(&si, v1, sizeof(v1));
	der_raw(&si, c->sid.p, c->sid.len);
	der_algid(&si, FORMATS_OID_SHA256, false);
	der_tlv(&si, 0xA0, c->attrs.p, c->attrs.len);
	der_raw(&si, c->sig_alg.p, c->sig_alg.len);
	der_tlv(&si, 0x04, c->sig, c->sig_len);
	if (c->token != NULL) {
		struct der set = { 0 }, tv = { 0 };

		der_raw(&tv, c->token, c->token_len);
		attr(&set, OID_SIG_TIMESTAMP, &tv);
		der_wrap(&si, 0xA1, &set);
	}
	der_wrap(&sis, 0x30, &si);
	der_wrap(post, 0x31, &sis);
	/* encapContentInfo { eContentType, [0] { OCTET STRING content } } */
	oct = attached ? der_hdr_len(content_len) + content_len : 0;
	enc_len = enc_oid.len + (attached ? der_hdr_len(oct) + oct : 0);
	sd_len = head.len + der_hdr_len(enc_len) + enc_len + post->len;
	{
		struct der ci_oid = { 0 };
		uint64_t sd_tlv = der_hdr_len(sd_len) + sd_len;

		der_oid(&ci_oid, OID_SIGNED_DATA);
		der_hdr(pre, 0x30, ci_oid.len + der_hdr_len(sd_tlv) + sd_tlv);
		der_raw(pre, ci_oid.p, ci_oid.len);
		der_hdr(pre, 0xA0, sd_tlv);
		der_hdr(pre, 0x30, sd_len);
		der_free(&ci_oid);
	}
	der_raw(pre, head.p, head.len);
	der_hdr(pre, 0x30, enc_len);
	der_raw(pre, enc_oid.p, enc_oid.len);
	if (attached) {
		der_hdr(pre, 0xA0, oct);
		der_hdr(pre, 0x04, content_len);
	}
	der_free(&head);
	der_free(&enc_oid);
	return pre->err != 0 ? pre->err : post->err;
}

int
formats_cms_der(const struct formats_cms *c, uint8_t **der, size_t *len)
{
	struct der pre = { 0 }, post = { 0 };
	int r;

	*der = NULL;
	*len = 0;
	if ((r = build_frame(c, false, 0, &pre, &post)) == 0) {
		der_raw(&pre, post.p, post.len);
		if ((r = pre.err) == 0) {
			*der = pre.p;
			*len = pre.len;
			pre.p = NULL;
		}
	}
	der_free(&pre);
	der_free(&post);
	return r;
}

int
formats_cms_write(const struct formats_cms *c, FILE *out, FILE *content, uint64_t content_len)
{
	struct der pre = { 0 }, post = { 0 };
	uint8_t *blk = NULL, md[FORMATS_SHA256_LEN];
	uint64_t left = content_len;
	EVP_MD_CTX *ctx = NULL;
	unsigned mdlen = 0;
	size_t n;
	int r;

	if ((r = build_frame(c, content != NULL, content_len, &pre, &post)) != 0)
		goto out;
	if (content != NULL && ((ctx = EVP_MD_CTX_new()) == NULL ||
	                        EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	r = INK_ERR_IO;
	if (fwrite(pre.p, 1, pre.len, out) != pre.len)
		goto out;
	if (content != NULL) {
		if ((blk = malloc(CMS_COPY_BLOCK)) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		while (left > 0) {
			n = fread(blk, 1, left < CMS_COPY_BLOCK ? (size_t)left : CMS_COPY_BLOCK, content);
			if (n == 0 || fwrite(blk, 1, n, out) != n || EVP_DigestUpdate(ctx, blk, n) != 1)
				goto out;
			left -= n;
		}
		/* The content carried must be the content signed: a file changed since it was hashed
		 * is refused rather than written under a signature that cannot verify. */
		if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
		    CRYPTO_memcmp(md, c->content_digest, sizeof(md)) != 0) {
			r = INK_ERR_INVALID;
			goto out;
		}
	}
	if (fwrite(post.p, 1, post.len, out) != post.len)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(blk);
	der_free(&pre);
	der_free(&post);
	return r;
}

void
formats_cms_free(struct formats_cms *c)
{
	if (c == NULL)
		return;
	X509_free(c->cert);
	EVP_PKEY_free(c->pub);
	der_free(&c->certs);
	der_free(&c->attrs);
	der_free(&c->sid);
	der_free(&c->sig_alg);
	der_free(&c->pss_params);
	free(c->sig);
	free(c->token);
	free(c);
}
