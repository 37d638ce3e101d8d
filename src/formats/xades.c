/* xades: XAdES baseline signatures (ETSI EN 319 132-1 B-B, B-T) built around a signature value
 * made elsewhere — ds:Signature with SignedInfo, SignedProperties (SigningTime,
 * SigningCertificateV2, DataObjectFormat), the signature value (ECDSA, RSA PKCS #1 v1.5 or
 * RSASSA-PSS), a SignatureTimeStamp. The
 * digests are computed here (libxml2 canonicalizes, OpenSSL hashes); nothing here signs. */
#include "formats/formats_int.h"

#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#define XADES_SIG_MAX 1024   /* a DER signature value: RSA-4096 or ECDSA P-521 fit */


static const struct formats_c14n exc_c14n = { XML_C14N_EXCLUSIVE_1_0, false };

static int
digest(const char *md, const uint8_t *d, size_t n, uint8_t *out, size_t *outlen)
{
	unsigned int len = 0;
	const EVP_MD *m = EVP_get_digestbyname(md);

	if (m == NULL || EVP_Digest(d, n, out, &len, m, NULL) != 1)
		return INK_ERR_CRYPTO;
	*outlen = len;
	return 0;
}

/* Sets node's DigestValue child to the SHA-256 of the canonical subset (apex less exclude). */
static int
set_digest(struct formats_xades *x, xmlNodePtr ref, xmlNodePtr apex, xmlNodePtr exclude)
{
	uint8_t *c14n = NULL, md[EVP_MAX_MD_SIZE];
	size_t len = 0, mdlen = 0;
	char *b64 = NULL;
	xmlNodePtr dv = formats_xml_find_el(ref, FORMATS_XMLDSIG_NS, "DigestValue");
	int r;

	if (dv == NULL)
		return INK_ERR_INTERNAL;
	if ((r = formats_xml_c14n(x->doc, apex, exclude, &exc_c14n, NULL, &c14n, &len)) != 0 ||
	    (r = digest("SHA256", c14n, len, md, &mdlen)) != 0 || (r = b64_encode(md, mdlen, &b64)) != 0)
		goto out;
	xmlNodeSetContent(dv, (const xmlChar *)b64);
out:
	free(c14n);
	free(b64);
	return r;
}

/* The signature method for the key: ECDSA with the curve's size of SHA-2, or RSA with SHA-256
 * (PKCS #1 v1.5, or RSASSA-PSS when pss). */
static const struct formats_xml_sigalg *
alg_for(EVP_PKEY *pk, bool pss)
{
	const char *uri;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		uri = EVP_PKEY_get_bits(pk) > 384 ? "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" :
		      EVP_PKEY_get_bits(pk) > 256 ? "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" :
		                                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
		break;
	case EVP_PKEY_RSA:
		uri = pss ? FORMATS_XML_PSS_SHA256_URI : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
		break;
	default:
		return NULL;
	}
	return formats_xml_sigalg_by_uri(uri);
}

/* The ds:Signature, its digests still empty, as text (a malloc'd string). */
static int
template(const struct formats_xades_params *p, const struct formats_xades *x, char **out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0, i, sz = 0;
	char *cert_md = NULL, *b64 = NULL, when[32], *text = NULL;
	xmlChar *uri = NULL;
	struct tm tm;
	time_t t = (time_t)p->when;
	FILE *f = NULL;
	int r = 0;

	*out = NULL;
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return INK_ERR_INVALID;
	if ((r = digest("SHA256", p->cert, p->cert_len, md, &mdlen)) != 0 ||
	    (r = b64_encode(md, mdlen, &cert_md)) != 0)
		goto out;
	if ((f = open_memstream(&text, &sz)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	fprintf(f, "<ds:Signature xmlns:ds=\"%s\" Id=\"%s\">\n<ds:SignedInfo>\n"
	        "<ds:CanonicalizationMethod Algorithm=\"%s\"/>\n<ds:SignatureMethod Algorithm=\"%s\"/>\n",
	        FORMATS_XMLDSIG_NS, x->id, FORMATS_C14N_EXC_URI, x->alg->uri);
	switch (p->place) {
	case FORMATS_XADES_ENVELOPED:
		fprintf(f, "<ds:Reference Id=\"%s-ref\" URI=\"\">\n<ds:Transforms>\n"
		        "<ds:Transform Algorithm=\"%s\"/>\n<ds:Transform Algorithm=\"%s\"/>\n"
		        "</ds:Transforms>\n", x->id, FORMATS_XML_ENVELOPED, FORMATS_C14N_EXC_URI);
		break;
	case FORMATS_XADES_ENVELOPING:
		fprintf(f, "<ds:Reference Id=\"%s-ref\" URI=\"#%s-obj\">\n<ds:Transforms>\n"
		        "<ds:Transform Algorithm=\"%s\"/>\n</ds:Transforms>\n", x->id, x->id,
		        FORMATS_C14N_EXC_URI);
		break;
	case FORMATS_XADES_DETACHED:
		/* Escaped: the URI is an attribute value and a relative reference. */
		if ((uri = xmlURIEscapeStr((const xmlChar *)p->doc_uri, (const xmlChar *)"")) == NULL ||
		    (r = b64_encode(p->doc_digest, FORMATS_SHA256_LEN, &b64)) != 0) {
			r = r != 0 ? r : INK_ERR_ALLOC;
			goto out;
		}
		fprintf(f, "<ds:Reference Id=\"%s-ref\" URI=\"%s\">\n", x->id, (const char *)uri);
		break;
	}
	fprintf(f, "<ds:DigestMethod Algorithm=\"%s\"/>\n<ds:DigestValue>%s</ds:DigestValue>\n"
	        "</ds:Reference>\n<ds:Reference Type=\"%s\" URI=\"#%s-sp\">\n<ds:Transforms>\n"
	        "<ds:Transform Algorithm=\"%s\"/>\n</ds:Transforms>\n<ds:DigestMethod Algorithm=\"%s\"/>\n"
	        "<ds:DigestValue></ds:DigestValue>\n</ds:Reference>\n</ds:SignedInfo>\n"
	        "<ds:SignatureValue Id=\"%s-value\"></ds:SignatureValue>\n<ds:KeyInfo>\n<ds:X509Data>\n",
	        FORMATS_XML_SHA256_URI, b64 != NULL ? b64 : "", FORMATS_XADES_SP_TYPE, x->id,
	        FORMATS_C14N_EXC_URI, FORMATS_XML_SHA256_URI, x->id);
	for (i = 0; i <= p->nextra; i++) {
		free(b64);
		b64 = NULL;
		if ((r = b64_encode(i == 0 ? p->cert : p->extra[i - 1],
		                    i == 0 ? p->cert_len : p->extra_lens[i - 1], &b64)) != 0)
			goto out;
		fprintf(f, "<ds:X509Certificate>%s</ds:X509Certificate>\n", b64);
	}
	fprintf(f, "</ds:X509Data>\n</ds:KeyInfo>\n");
	if (p->place == FORMATS_XADES_ENVELOPING)
		fprintf(f, "<ds:Object Id=\"%s-obj\"></ds:Object>\n", x->id);
	fprintf(f, "<ds:Object><xades:QualifyingProperties xmlns:xades=\"%s\" Target=\"#%s\">"
	        "<xades:SignedProperties Id=\"%s-sp\"><xades:SignedSignatureProperties>"
	        "<xades:SigningTime>%s</xades:SigningTime><xades:SigningCertificateV2><xades:Cert>"
	        "<xades:CertDigest><ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>%s</ds:DigestValue>"
	        "</xades:CertDigest></xades:Cert></xades:SigningCertificateV2>"
	        "</xades:SignedSignatureProperties><xades:SignedDataObjectProperties>"
	        "<xades:DataObjectFormat ObjectReference=\"#%s-ref\"><xades:MimeType>%s</xades:MimeType>"
	        "</xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties>"
	        "</xades:QualifyingProperties></ds:Object>\n</ds:Signature>",
	        FORMATS_XADES_NS, x->id, x->id, when, FORMATS_XML_SHA256_URI, cert_md, x->id, p->mime);
	if (fclose(f) != 0) {
		f = NULL;
		r = INK_ERR_ALLOC;
		goto out;
	}
	f = NULL;
	*out = text;
	text = NULL;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	free(text);
	free(cert_md);
	free(b64);
	xmlFree(uri);
	return r;
}

/* Puts the template's signature where it belongs: into the document, around it, or alone. */
static int
place(struct formats_xades *x, const struct formats_xades_params *p, xmlDocPtr tmpl, char *why,
      size_t whysz)
{
	xmlDocPtr d = NULL;
	xmlNodePtr copy, obj;
	char oid[40];
	int r;

	if (p->place == FORMATS_XADES_DETACHED) {
		x->doc = tmpl;
		return 0;
	}
	if ((r = formats_xml_parse(p->doc, p->doc_len, &d, why, whysz)) != 0)
		return r;
	if (p->place == FORMATS_XADES_ENVELOPED) {
		/* Last child of the root, no whitespace added: the document less the signature is
		 * the document as it was. */
		if ((copy = xmlDocCopyNode(xmlDocGetRootElement(tmpl), d, 1)) == NULL ||
		    xmlAddChild(xmlDocGetRootElement(d), copy) == NULL) {
			xmlFreeNode(copy);
			xmlFreeDoc(d);
			return INK_ERR_ALLOC;
		}
		xmlFreeDoc(tmpl);
		x->doc = d;
		return 0;
	}
	snprintf(oid, sizeof(oid), "%s-obj", x->id);
	if ((obj = formats_xml_find_id(xmlDocGetRootElement(tmpl), oid)) == NULL ||
	    (copy = xmlDocCopyNode(xmlDocGetRootElement(d), tmpl, 1)) == NULL) {
		xmlFreeDoc(d);
		return INK_ERR_ALLOC;
	}
	if (xmlAddChild(obj, copy) == NULL) {
		xmlFreeNode(copy);
		xmlFreeDoc(d);
		return INK_ERR_ALLOC;
	}
	xmlFreeDoc(d);
	x->doc = tmpl;
	return 0;
}

int
formats_xades_prepare(const struct formats_xades_params *p, struct formats_xades **out, char *why,
                      size_t whysz)
{
	struct formats_xades *x = NULL;
	const unsigned char *q = p->cert;
	X509 *cert = NULL;
	xmlDocPtr tmpl = NULL;
	xmlNodePtr si, ref, sp;
	char *text = NULL, name[40];
	int r;

	*out = NULL;
	if (whysz > 0)
		why[0] = '\0';
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return INK_ERR_ALLOC;
	if ((cert = d2i_X509(NULL, &q, (long)p->cert_len)) == NULL ||
	    (x->pub = X509_get_pubkey(cert)) == NULL) {
		r = INK_ERR_INVALID;
		snprintf(why, whysz, "the signer's certificate cannot be read");
		goto out;
	}
	if ((x->alg = alg_for(x->pub, p->pss)) == NULL) {
		r = INK_ERR_UNSUPPORTED;
		snprintf(why, whysz, "XAdES needs an ECDSA or RSA key (a hash of SignedInfo is signed)");
		goto out;
	}
	if (x->alg->pss) {
		formats_pss_sha256_params(&x->pss_params);
		if ((r = x->pss_params.err) != 0)
			goto out;
	}
	if ((r = formats_xml_new_id(x->id)) != 0)
		goto out;
	if ((r = template(p, x, &text)) != 0 ||
	    (r = formats_xml_parse((const uint8_t *)text, strlen(text), &tmpl, why, whysz)) != 0)
		goto out;
	if ((r = place(x, p, tmpl, why, whysz)) != 0)
		goto out;
	tmpl = NULL;
	snprintf(name, sizeof(name), "%s-sp", x->id);
	if ((x->sig = formats_xml_find_id(xmlDocGetRootElement(x->doc), x->id)) == NULL ||
	    (si = formats_xml_find_el(x->sig, FORMATS_XMLDSIG_NS, "SignedInfo")) == NULL ||
	    (ref = formats_xml_find_el(si, FORMATS_XMLDSIG_NS, "Reference")) == NULL ||
	    (x->sig_value = formats_xml_find_el(x->sig, FORMATS_XMLDSIG_NS, "SignatureValue")) == NULL ||
	    (x->qprops = formats_xml_find_el(x->sig, FORMATS_XADES_NS, "QualifyingProperties")) == NULL ||
	    (sp = formats_xml_find_id(x->sig, name)) == NULL) {
		r = INK_ERR_INTERNAL;
		goto out;
	}
	snprintf(name, sizeof(name), "%s-obj", x->id);
	r = 0;
	if (p->place == FORMATS_XADES_ENVELOPED)
		r = set_digest(x, ref, NULL, x->sig);
	else if (p->place == FORMATS_XADES_ENVELOPING)
		r = set_digest(x, ref, formats_xml_find_id(x->sig, name), NULL);
	if (r != 0 || (r = set_digest(x, xmlNextElementSibling(ref), sp, NULL)) != 0)
		goto out;
	if ((r = formats_xml_c14n(x->doc, si, NULL, &exc_c14n, NULL, &x->si, &x->si_len)) != 0 ||
	    (r = digest(x->alg->md, x->si, x->si_len, x->tbs, &x->tbs_len)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_free(cert);
	xmlFreeDoc(tmpl);
	free(text);
	formats_xades_free(x);
	return r;
}

void
formats_xades_tbs(const struct formats_xades *x, uint8_t md[static 64], size_t *len,
                  const char **hash_oid, const char **sign_oid)
{
	memcpy(md, x->tbs, x->tbs_len);
	*len = x->tbs_len;
	*hash_oid = x->tbs_len == 64 ? "2.16.840.1.101.3.4.2.3" :
	            x->tbs_len == 48 ? "2.16.840.1.101.3.4.2.2" : FORMATS_OID_SHA256;
	*sign_oid = x->alg->oid;
}

const uint8_t *
formats_xades_sign_params(const struct formats_xades *x, size_t *len)
{
	*len = x->alg != NULL && x->alg->pss ? x->pss_params.len : 0;
	return *len > 0 ? x->pss_params.p : NULL;
}

/* An ECDSA signature (DER) as XMLDSig wants it: r || s, each as long as the group order. */
static int
ecdsa_raw(EVP_PKEY *pub, const uint8_t *der, size_t len, uint8_t *out, size_t *outlen)
{
	const unsigned char *q = der;
	ECDSA_SIG *es = NULL;
	const BIGNUM *rr, *ss;
	int n = (EVP_PKEY_get_bits(pub) + 7) / 8, r = INK_ERR_CRYPTO;

	if ((es = d2i_ECDSA_SIG(NULL, &q, (long)len)) == NULL || q != der + len || n <= 0 ||
	    2 * (size_t)n > XADES_SIG_MAX)
		goto out;
	ECDSA_SIG_get0(es, &rr, &ss);
	if (BN_bn2binpad(rr, out, n) != n || BN_bn2binpad(ss, out + n, n) != n)
		goto out;
	*outlen = 2 * (size_t)n;
	r = 0;
out:
	ECDSA_SIG_free(es);
	return r;
}

int
formats_xades_set_signature(struct formats_xades *x, const uint8_t *sig, size_t len)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t raw[XADES_SIG_MAX];
	size_t raw_len = 0;
	char *b64 = NULL;
	int r = INK_ERR_CRYPTO;

	if (len == 0 || len > XADES_SIG_MAX)
		return INK_ERR_CRYPTO;
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return INK_ERR_ALLOC;
	if (EVP_DigestVerifyInit_ex(mctx, &pctx, x->alg->md, NULL, NULL, x->pub, NULL) != 1 ||
	    formats_xml_sigalg_setup(pctx, x->alg) != 0 ||
	    EVP_DigestVerify(mctx, sig, len, x->si, x->si_len) != 1)
		goto out;
	if (x->alg->ecdsa) {
		if ((r = ecdsa_raw(x->pub, sig, len, raw, &raw_len)) != 0)
			goto out;
	} else {
		memcpy(raw, sig, len);
		raw_len = len;
	}
	if ((r = b64_encode(raw, raw_len, &b64)) != 0)
		goto out;
	xmlNodeSetContent(x->sig_value, (const xmlChar *)b64);
out:
	EVP_MD_CTX_free(mctx);
	free(b64);
	return r;
}

int
formats_xades_signature_digest(const struct formats_xades *x, uint8_t md[static FORMATS_SHA256_LEN])
{
	uint8_t *c14n = NULL;
	size_t len = 0, mdlen = 0;
	int r;

	if ((r = formats_xml_c14n(x->doc, x->sig_value, NULL, &exc_c14n, NULL, &c14n, &len)) == 0)
		r = digest("SHA256", c14n, len, md, &mdlen);
	free(c14n);
	return r;
}

xmlNodePtr
formats_xades_usp(struct formats_xades *x)
{
	xmlNsPtr xns = xmlSearchNsByHref(x->doc, x->qprops, (const xmlChar *)FORMATS_XADES_NS);
	xmlNodePtr up, usp;

	if (xns == NULL)
		return NULL;
	if ((up = formats_xml_find_el(x->qprops, FORMATS_XADES_NS, "UnsignedProperties")) == NULL &&
	    (up = xmlNewChild(x->qprops, xns, (const xmlChar *)"UnsignedProperties", NULL)) == NULL)
		return NULL;
	if ((usp = formats_xml_find_el(up, FORMATS_XADES_NS, "UnsignedSignatureProperties")) == NULL)
		usp = xmlNewChild(up, xns, (const xmlChar *)"UnsignedSignatureProperties", NULL);
	return usp;
}

int
formats_xades_add_stamp(struct formats_xades *x, const char *ns, const char *name,
                        const uint8_t *token, size_t len)
{
	xmlNsPtr xns = xmlSearchNsByHref(x->doc, x->qprops, (const xmlChar *)FORMATS_XADES_NS);
	xmlNsPtr dns = xmlSearchNsByHref(x->doc, x->qprops, (const xmlChar *)FORMATS_XMLDSIG_NS);
	xmlNsPtr ens;
	xmlNodePtr usp, ts = NULL, cm;
	char *b64 = NULL, id[48];
	size_t n = 0;
	int r;

	if (xns == NULL || dns == NULL || (usp = formats_xades_usp(x)) == NULL)
		return INK_ERR_INTERNAL;
	if ((r = b64_encode(token, len, &b64)) != 0)
		return r;
	/* Ids unique in the document: the prefix, the property, its rank */
	for (cm = usp->children; cm != NULL; cm = cm->next)
		n++;
	snprintf(id, sizeof(id), "%s-%s%zu", x->id, strcmp(name, "SignatureTimeStamp") == 0 ?
	         "ts" : "ats", n);
	r = INK_ERR_ALLOC;
	if ((ts = xmlNewNode(NULL, (const xmlChar *)name)) == NULL)
		goto out;
	ens = strcmp(ns, FORMATS_XADES_NS) == 0 ? xns : xmlNewNs(ts, (const xmlChar *)ns,
	                                                         (const xmlChar *)"xadesv141");
	if (ens == NULL)
		goto out;
	xmlSetNs(ts, ens);
	if (xmlSetProp(ts, (const xmlChar *)"Id", (const xmlChar *)id) == NULL ||
	    (cm = xmlNewChild(ts, dns, (const xmlChar *)"CanonicalizationMethod", NULL)) == NULL ||
	    xmlSetProp(cm, (const xmlChar *)"Algorithm", (const xmlChar *)FORMATS_C14N_EXC_URI) == NULL ||
	    xmlNewChild(ts, xns, (const xmlChar *)"EncapsulatedTimeStamp", (const xmlChar *)b64) == NULL ||
	    xmlAddChild(usp, ts) == NULL)
		goto out;
	ts = NULL;
	r = 0;
out:
	xmlFreeNode(ts);
	free(b64);
	return r;
}

int
formats_xades_set_timestamp(struct formats_xades *x, const uint8_t *token, size_t len)
{
	return formats_xades_add_stamp(x, FORMATS_XADES_NS, "SignatureTimeStamp", token, len);
}

int
formats_xades_write(const struct formats_xades *x, FILE *out)
{
	xmlChar *mem = NULL;
	int size = 0, r = 0;

	xmlDocDumpMemoryEnc(x->doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0)
		return INK_ERR_ALLOC;
	if (fwrite(mem, 1, (size_t)size, out) != (size_t)size)
		r = INK_ERR_IO;
	xmlFree(mem);
	return r;
}

void
formats_xades_free(struct formats_xades *x)
{
	if (x == NULL)
		return;
	xmlFreeDoc(x->doc);
	EVP_PKEY_free(x->pub);
	free(x->si);
	der_free(&x->pss_params);
	OPENSSL_cleanse(x->tbs, sizeof(x->tbs));
	free(x);
}
