/* xadesltv: XAdES B-LT and B-LTA (ETSI EN 319 132-1 5.5) on a signed document — its validation
 * data read and added (CertificateValues, RevocationValues, TimeStampValidationData), and the
 * ArchiveTimeStamp's input (clause 5.5.2.2) computed for making and for checking one. Nothing
 * signed is touched: what is added goes under UnsignedSignatureProperties only. */
#include "formats/formats_int.h"

#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define XADESLTV_B64_MAX (16u << 20)   /* one encapsulated value, base64 */
#define XADESLTV_REFS_MAX 32           /* references of SignedInfo processed */
#define XADESLTV_SIGS_MAX 16           /* ds:Signature elements looked at when opening */

bool
formats_xades_is(const xmlNode *n, const char *name)
{
	return formats_xml_is_el(n, FORMATS_XADES_NS, name) ||
	       formats_xml_is_el(n, FORMATS_XADES141_NS, name);
}

xmlNodePtr
formats_xml_child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (ns != NULL ? formats_xml_is_el(c, ns, name) : formats_xades_is(c, name))
			return c;
	return NULL;
}

/* The QualifyingProperties in an Object of sig, or NULL. */
static xmlNodePtr
qprops_of(xmlNodePtr sig)
{
	xmlNodePtr o, q;

	for (o = sig->children; o != NULL; o = o->next)
		if (formats_xml_is_el(o, FORMATS_XMLDSIG_NS, "Object") &&
		    (q = formats_xml_child(o, NULL, "QualifyingProperties")) != NULL)
			return q;
	return NULL;
}

static void
collect_sigs(xmlNodePtr n, xmlNodePtr *v, size_t *k)
{
	xmlNodePtr c;

	if (formats_xml_is_el(n, FORMATS_XMLDSIG_NS, "Signature") && *k < XADESLTV_SIGS_MAX)
		v[(*k)++] = n;
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			collect_sigs(c, v, k);
}

int
formats_xades_open(const uint8_t *xml, size_t len, struct formats_xades **out, char *why,
                   size_t whysz)
{
	struct formats_xades *x = NULL;
	xmlNodePtr sigs[XADESLTV_SIGS_MAX];
	size_t n = 0, i, found = 0;
	int r;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return INK_ERR_ALLOC;
	if ((r = formats_xml_parse(xml, len, &x->doc, why, whysz)) != 0)
		goto out;
	collect_sigs(xmlDocGetRootElement(x->doc), sigs, &n);
	for (i = 0; i < n; i++) {
		if (qprops_of(sigs[i]) == NULL)
			continue;
		found++;
		x->sig = sigs[i];
	}
	r = INK_ERR_INVALID;
	if (found != 1) {
		snprintf(why, whysz, found == 0 ? "no XAdES signature (ds:Signature with "
		         "QualifyingProperties) in the document" : "more than one XAdES signature: "
		         "which one to extend is not clear");
		goto out;
	}
	x->qprops = qprops_of(x->sig);
	if ((x->sig_value = formats_xml_child(x->sig, FORMATS_XMLDSIG_NS, "SignatureValue")) == NULL ||
	    !formats_xml_is_el(x->qprops, FORMATS_XADES_NS, "QualifyingProperties")) {
		snprintf(why, whysz, "the signature has no SignatureValue, or XAdES properties of a "
		         "namespace other than %s", FORMATS_XADES_NS);
		goto out;
	}
	if ((r = formats_xml_new_id(x->id)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	formats_xades_free(x);
	return r;
}

/* UnsignedSignatureProperties as it is (NULL when there is none). */
static xmlNodePtr
usp_of(const struct formats_xades *x)
{
	return formats_xml_child(formats_xml_child(x->qprops, NULL, "UnsignedProperties"), NULL, "UnsignedSignatureProperties");
}

void
formats_xades_info(const struct formats_xades *x, struct formats_xades_info *out)
{
	xmlNodePtr n, si = formats_xml_child(x->sig, FORMATS_XMLDSIG_NS, "SignedInfo");
	xmlChar *uri;

	memset(out, 0, sizeof(*out));
	for (n = usp_of(x) != NULL ? usp_of(x)->children : NULL; n != NULL; n = n->next) {
		out->sig_timestamps += formats_xades_is(n, "SignatureTimeStamp");
		out->archives += formats_xades_is(n, "ArchiveTimeStamp");
		out->cert_values |= formats_xades_is(n, "CertificateValues");
		out->rev_values |= formats_xades_is(n, "RevocationValues");
	}
	for (n = si != NULL ? si->children : NULL; n != NULL; n = n->next) {
		if (!formats_xml_is_el(n, FORMATS_XMLDSIG_NS, "Reference"))
			continue;
		uri = xmlGetNoNsProp(n, (const xmlChar *)"URI");
		if (uri == NULL || (uri[0] != '\0' && uri[0] != '#'))
			out->detached = true;
		xmlFree(uri);
	}
}

int
formats_xml_b64(xmlNodePtr n, uint8_t **out, size_t *len)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	char *s = NULL;
	size_t i, k = 0;
	int r = INK_ERR_INVALID;

	*out = NULL;
	*len = 0;
	if (t == NULL || (size_t)xmlStrlen(t) > XADESLTV_B64_MAX ||
	    (s = malloc((size_t)xmlStrlen(t) + 1)) == NULL)
		goto out;
	for (i = 0; t[i] != '\0'; i++)
		if (t[i] != ' ' && t[i] != '\t' && t[i] != '\r' && t[i] != '\n')
			s[k++] = (char)t[i];
	s[k] = '\0';
	r = k > 0 ? b64_decode(s, out, len) : INK_ERR_INVALID;
out:
	xmlFree(t);
	free(s);
	return r;
}

/* Appends the decoded values of the children of n named name (any XAdES namespace) to list
 * (tokens: the certificates of each, a time-stamp token, instead); unreadable ones skipped. */
static int
values_add(xmlNodePtr n, const char *name, bool tokens, struct formats_der_list *list)
{
	xmlNodePtr c;
	uint8_t *der = NULL;
	size_t len = 0;
	int r = 0;

	for (c = n != NULL ? n->children : NULL; c != NULL && r == 0; c = c->next) {
		if (!formats_xades_is(c, name) || formats_xml_b64(c, &der, &len) != 0)
			continue;
		if (tokens && formats_cms_certs_add(der, len, list) == INK_ERR_ALLOC)
			r = INK_ERR_ALLOC;
		else if (!tokens)
			r = formats_der_list_add(list, der, len);
		free(der);
	}
	return r;
}

int
formats_xades_certs(const struct formats_xades *x, int which, struct formats_der_list *out)
{
	xmlNodePtr usp = usp_of(x), n, xd;
	int r = 0;

	if ((which & FORMATS_XADES_CERTS_CARRIED) != 0) {
		for (xd = formats_xml_child(x->sig, FORMATS_XMLDSIG_NS, "KeyInfo"), xd = xd != NULL ? xd->children : NULL;
		     xd != NULL && r == 0; xd = xd->next) {
			if (!formats_xml_is_el(xd, FORMATS_XMLDSIG_NS, "X509Data"))
				continue;
			for (n = xd->children; n != NULL && r == 0; n = n->next) {
				uint8_t *der = NULL;
				size_t len = 0;

				if (formats_xml_is_el(n, FORMATS_XMLDSIG_NS, "X509Certificate") &&
				    formats_xml_b64(n, &der, &len) == 0)
					r = formats_der_list_add(out, der, len);
				free(der);
			}
		}
	}
	for (n = usp != NULL ? usp->children : NULL; n != NULL && r == 0; n = n->next) {
		if ((which & FORMATS_XADES_CERTS_CARRIED) != 0 && formats_xades_is(n, "CertificateValues"))
			r = values_add(n, "EncapsulatedX509Certificate", false, out);
		else if ((which & FORMATS_XADES_CERTS_CARRIED) != 0 &&
		         formats_xades_is(n, "TimeStampValidationData"))
			r = values_add(formats_xml_child(n, NULL, "CertificateValues"), "EncapsulatedX509Certificate",
			               false, out);
		else if ((which & FORMATS_XADES_CERTS_TOKENS) != 0 &&
		         (formats_xades_is(n, "SignatureTimeStamp") || formats_xades_is(n, "ArchiveTimeStamp")))
			r = values_add(n, "EncapsulatedTimeStamp", true, out);
	}
	return r;
}

/* Appends what a RevocationValues element holds. */
static int
revocation_add(xmlNodePtr rv, struct formats_der_list *crls, struct formats_der_list *ocsps)
{
	int r;

	if ((r = values_add(formats_xml_child(rv, NULL, "CRLValues"), "EncapsulatedCRLValue", false, crls)) != 0)
		return r;
	return values_add(formats_xml_child(rv, NULL, "OCSPValues"), "EncapsulatedOCSPValue", false, ocsps);
}

int
formats_xades_revocation(const struct formats_xades *x, struct formats_der_list *crls,
                         struct formats_der_list *ocsps)
{
	xmlNodePtr n;
	int r = 0;

	for (n = usp_of(x) != NULL ? usp_of(x)->children : NULL; n != NULL && r == 0; n = n->next) {
		if (formats_xades_is(n, "RevocationValues"))
			r = revocation_add(n, crls, ocsps);
		else if (formats_xades_is(n, "TimeStampValidationData"))
			r = revocation_add(formats_xml_child(n, NULL, "RevocationValues"), crls, ocsps);
	}
	return r;
}

/* Adds parent/ns:name with one child ns:item per blob (base64); nothing when n is 0. */
static int
values_put(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *item,
           const struct formats_blob *v, size_t n, xmlNodePtr *made)
{
	xmlNodePtr el;
	char *b64 = NULL;
	size_t i;

	if (made != NULL)
		*made = NULL;
	if (n == 0)
		return 0;
	if ((el = xmlNewChild(parent, ns, (const xmlChar *)name, NULL)) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++) {
		if (b64_encode(v[i].data, v[i].len, &b64) != 0 ||
		    xmlNewChild(el, ns, (const xmlChar *)item, (const xmlChar *)b64) == NULL) {
			free(b64);
			return INK_ERR_ALLOC;
		}
		free(b64);
		b64 = NULL;
	}
	if (made != NULL)
		*made = el;
	return 0;
}

int
formats_xades_add_vdata(struct formats_xades *x, bool for_timestamps,
                        const struct formats_blob *certs, size_t ncerts,
                        const struct formats_blob *crls, size_t ncrls,
                        const struct formats_blob *ocsps, size_t nocsps)
{
	struct formats_xades_info info;
	xmlNsPtr xns = xmlSearchNsByHref(x->doc, x->qprops, (const xmlChar *)FORMATS_XADES_NS), ns141;
	xmlNodePtr usp, parent, rv;
	int r;

	formats_xades_info(x, &info);
	if (!for_timestamps && (info.cert_values || info.rev_values))
		return INK_ERR_EXISTS;
	if (xns == NULL || (usp = formats_xades_usp(x)) == NULL)
		return INK_ERR_INTERNAL;
	parent = usp;
	if (for_timestamps) {
		if ((parent = xmlNewNode(NULL, (const xmlChar *)"TimeStampValidationData")) == NULL)
			return INK_ERR_ALLOC;
		if ((ns141 = xmlNewNs(parent, (const xmlChar *)FORMATS_XADES141_NS,
		                      (const xmlChar *)"xadesv141")) == NULL ||
		    xmlAddChild(usp, parent) == NULL) {
			xmlFreeNode(parent);
			return INK_ERR_ALLOC;
		}
		xmlSetNs(parent, ns141);
	}
	if ((r = values_put(parent, xns, "CertificateValues", "EncapsulatedX509Certificate", certs,
	                    ncerts, NULL)) != 0)
		return r;
	if (ncrls + nocsps == 0)
		return 0;
	if ((rv = xmlNewChild(parent, xns, (const xmlChar *)"RevocationValues", NULL)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = values_put(rv, xns, "CRLValues", "EncapsulatedCRLValue", crls, ncrls, NULL)) != 0)
		return r;
	return values_put(rv, xns, "OCSPValues", "EncapsulatedOCSPValue", ocsps, nocsps, NULL);
}

/* ---- the ArchiveTimeStamp's input (EN 319 132-1 5.5.2.2) ---- */

/* A growing byte string; the first failure sticks. */
struct octets {
	uint8_t *p;
	size_t len;
	int err;
};

static void
octets_add(struct octets *o, const uint8_t *p, size_t n)
{
	uint8_t *np;

	if (o->err != 0 || n == 0)
		return;
	if (o->len + n > (size_t)FORMATS_XML_MAX * 4 || (np = realloc(o->p, o->len + n)) == NULL) {
		o->err = INK_ERR_TOO_LARGE;
		return;
	}
	memcpy(np + o->len, p, n);
	o->p = np;
	o->len += n;
}

/* Appends the canonical form of apex's subtree (the document when NULL) less exclude's. */
static void
octets_c14n(struct octets *o, xmlDocPtr doc, xmlNodePtr apex, xmlNodePtr exclude,
            const struct formats_c14n *alg, const char *prefixes)
{
	uint8_t *c = NULL;
	size_t n = 0;
	int r;

	if (o->err != 0)
		return;
	if ((r = formats_xml_c14n(doc, apex, exclude, alg, prefixes, &c, &n)) != 0)
		o->err = r;
	else
		octets_add(o, c, n);
	free(c);
}

/* The one element of the document whose ID (Id, ID, id, xml:id) is id: counted in *count. */
static void
by_id(xmlNodePtr n, const char *id, xmlNodePtr *found, size_t *count)
{
	xmlAttrPtr a;
	xmlNodePtr c;
	xmlChar *v;

	for (a = n->properties; a != NULL; a = a->next) {
		bool idattr = a->ns == NULL ? (xmlStrEqual(a->name, (const xmlChar *)"Id") ||
		                               xmlStrEqual(a->name, (const xmlChar *)"ID") ||
		                               xmlStrEqual(a->name, (const xmlChar *)"id")) :
		              xmlStrEqual(a->ns->href, XML_XML_NAMESPACE) &&
		              xmlStrEqual(a->name, (const xmlChar *)"id");

		if (!idattr)
			continue;
		v = xmlNodeListGetString(n->doc, a->children, 1);
		if (v != NULL && xmlStrEqual(v, (const xmlChar *)id)) {
			*found = n;
			(*count)++;
		}
		xmlFree(v);
	}
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			by_id(c, id, found, count);
}

/* Step 1: a reference's output, a node set canonicalized (by its own canonicalization
 * transform, else alg). */
static int
ref_output(struct octets *o, xmlDocPtr doc, xmlNodePtr sig, xmlNodePtr ref,
           const struct formats_c14n *alg, const uint8_t *detached, size_t detached_len,
           char *why, size_t whysz)
{
	xmlNodePtr ts = formats_xml_child(ref, FORMATS_XMLDSIG_NS, "Transforms"), t, apex = NULL;
	struct formats_c14n own = *alg;
	xmlChar *uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI"), *a = NULL, *prefixes = NULL;
	bool enveloped = false, has_c14n = false;
	size_t count = 0;
	int r = INK_ERR_UNSUPPORTED;

	for (t = ts != NULL ? ts->children : NULL; t != NULL; t = t->next) {
		if (!formats_xml_is_el(t, FORMATS_XMLDSIG_NS, "Transform"))
			continue;
		xmlFree(a);
		a = xmlGetNoNsProp(t, (const xmlChar *)"Algorithm");
		if (a != NULL && xmlStrEqual(a, (const xmlChar *)FORMATS_XML_ENVELOPED)) {
			enveloped = true;
		} else if (a != NULL && !has_c14n && formats_c14n_by_uri((const char *)a, &own) == 0) {
			has_c14n = true;
			prefixes = xmlGetNoNsProp(formats_xml_child(t, FORMATS_C14N_EXC_URI, "InclusiveNamespaces"),
			                          (const xmlChar *)"PrefixList");
		} else {
			snprintf(why, whysz, "a reference has the transform %s", a != NULL ?
			         (const char *)a : "(none)");
			goto out;
		}
	}
	if (uri == NULL) {
		snprintf(why, whysz, "a reference has no URI");
		goto out;
	}
	if (uri[0] != '\0' && uri[0] != '#') {
		if (detached == NULL) {
			snprintf(why, whysz, "the signature is detached: the document is needed");
			r = INK_ERR_NOT_FOUND;
			goto out;
		}
		if (ts != NULL) {
			snprintf(why, whysz, "a reference to a document outside has transforms");
			goto out;
		}
		octets_add(o, detached, detached_len);
		r = o->err;
		goto out;
	}
	if (uri[0] == '#') {
		by_id(xmlDocGetRootElement(doc), (const char *)uri + 1, &apex, &count);
		if (count != 1) {
			snprintf(why, whysz, "the ID of reference %s is carried by %zu elements",
			         (const char *)uri, count);
			goto out;
		}
	}
	/* same-document references are node sets without comments (XMLDSig 4.4.3.3) */
	own.comments = false;
	octets_c14n(o, doc, apex, enveloped ? sig : NULL, &own, (const char *)prefixes);
	r = o->err;
out:
	xmlFree(uri);
	xmlFree(a);
	xmlFree(prefixes);
	return r;
}

int
formats_xades_ats_input(struct _xmlDoc *doc, struct _xmlNode *sig, struct _xmlNode *ats,
                        const uint8_t *detached, size_t detached_len, uint8_t **out, size_t *len,
                        char *why, size_t whysz)
{
	struct formats_c14n alg = { XML_C14N_EXCLUSIVE_1_0, false };
	struct octets o = { 0 };
	xmlNodePtr si = formats_xml_child(sig, FORMATS_XMLDSIG_NS, "SignedInfo"), n, qp = qprops_of(sig), usp;
	xmlChar *cm = NULL;
	size_t nrefs = 0;
	int r;

	*out = NULL;
	*len = 0;
	if (ats != NULL) {
		cm = xmlGetNoNsProp(formats_xml_child(ats, FORMATS_XMLDSIG_NS, "CanonicalizationMethod"),
		                    (const xmlChar *)"Algorithm");
		alg = (struct formats_c14n){ XML_C14N_1_0, false };
		if (cm != NULL && formats_c14n_by_uri((const char *)cm, &alg) != 0) {
			snprintf(why, whysz, "unknown canonicalization %s", (const char *)cm);
			r = INK_ERR_UNSUPPORTED;
			goto out;
		}
	}
	if (si == NULL || qp == NULL) {
		snprintf(why, whysz, "no SignedInfo or QualifyingProperties");
		r = INK_ERR_INVALID;
		goto out;
	}
	/* 1: what each reference covers */
	for (n = si->children; n != NULL; n = n->next) {
		if (!formats_xml_is_el(n, FORMATS_XMLDSIG_NS, "Reference"))
			continue;
		if (++nrefs > XADESLTV_REFS_MAX) {
			snprintf(why, whysz, "more than %d references", XADESLTV_REFS_MAX);
			r = INK_ERR_UNSUPPORTED;
			goto out;
		}
		if ((r = ref_output(&o, doc, sig, n, &alg, detached, detached_len, why, whysz)) != 0)
			goto out;
	}
	/* 2: SignedInfo, SignatureValue, KeyInfo */
	octets_c14n(&o, doc, si, NULL, &alg, NULL);
	octets_c14n(&o, doc, formats_xml_child(sig, FORMATS_XMLDSIG_NS, "SignatureValue"), NULL, &alg, NULL);
	if ((n = formats_xml_child(sig, FORMATS_XMLDSIG_NS, "KeyInfo")) != NULL)
		octets_c14n(&o, doc, n, NULL, &alg, NULL);
	/* 3: the unsigned signature properties before this one */
	usp = formats_xml_child(formats_xml_child(qp, NULL, "UnsignedProperties"), NULL, "UnsignedSignatureProperties");
	for (n = usp != NULL ? usp->children : NULL; n != NULL && n != ats; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			octets_c14n(&o, doc, n, NULL, &alg, NULL);
	if (ats != NULL && n != ats) {
		snprintf(why, whysz, "the archive time-stamp is not an unsigned signature property");
		r = INK_ERR_INVALID;
		goto out;
	}
	/* 4: the ds:Objects but the one of QualifyingProperties */
	for (n = sig->children; n != NULL; n = n->next)
		if (formats_xml_is_el(n, FORMATS_XMLDSIG_NS, "Object") && qp->parent != n)
			octets_c14n(&o, doc, n, NULL, &alg, NULL);
	if ((r = o.err) != 0) {
		snprintf(why, whysz, "cannot canonicalize what the archive time-stamp covers");
		goto out;
	}
	*out = o.p;
	*len = o.len;
	o.p = NULL;
out:
	free(o.p);
	xmlFree(cm);
	return r;
}

int
formats_xades_archive_digest(const struct formats_xades *x, const uint8_t *detached,
                             size_t detached_len, uint8_t md[static FORMATS_SHA256_LEN],
                             char *why, size_t whysz)
{
	uint8_t *in = NULL;
	size_t len = 0;
	unsigned int n = 0;
	int r;

	if ((r = formats_xades_ats_input(x->doc, x->sig, NULL, detached, detached_len, &in, &len,
	                                 why, whysz)) != 0)
		return r;
	r = EVP_Digest(in, len, md, &n, EVP_sha256(), NULL) == 1 ? 0 : INK_ERR_CRYPTO;
	free(in);
	return r;
}

int
formats_xades_add_archive(struct formats_xades *x, const uint8_t *token, size_t len)
{
	return formats_xades_add_stamp(x, FORMATS_XADES141_NS, "ArchiveTimeStamp", token, len);
}
