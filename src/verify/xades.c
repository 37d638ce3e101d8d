/* xades: validation of XML signatures — XMLDSig and XAdES (ETSI EN 319 132-1 B-B to B-LTA) — with
 * the attacks on them refused: only the enveloped-signature and canonicalization transforms,
 * references by ID that name exactly one element, the document element covered, no URI ever
 * dereferenced (a detached document is only what the caller gives), no DTD. */
#include "verify/verify_int.h"

#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "formats/formats.h"
#include "policy/policy.h"

#define XADES_REFS_MAX 32         /* references in one SignedInfo */
#define XADES_TRANSFORMS_MAX 8    /* transforms in one reference */
#define XADES_CERTS_MAX 16        /* certificates in KeyInfo */
#define XADES_IDS_MAX 100000      /* ID attributes in one document */

/* Transforms refused by name, so that the report says which one it was. */
static const struct {
	const char *uri, *name;
} refused_transforms[] = {
	{ "http://www.w3.org/TR/1999/REC-xslt-19991116", "XSLT" },
	{ "http://www.w3.org/TR/1999/REC-xpath-19991116", "XPath" },
	{ "http://www.w3.org/2002/06/xmldsig-filter2", "XPath Filter 2.0" },
	{ "http://www.w3.org/2000/09/xmldsig#base64", "base64 decoding" },
	{ "http://www.w3.org/2002/07/decrypt#XML", "decryption" },
};

/* What one signature's validation works with. */
struct xsig {
	struct verify_ctx *ctx;
	const struct verify_input *in;
	xmlDocPtr doc;
	xmlNodePtr sig;              /* ds:Signature */
	struct verify_issues *is;
	json_t *obj;
	xmlNodePtr sp;               /* xades:SignedProperties a valid reference covered */
	bool root_signed;            /* a reference covers the document element */
	bool detached_used;
	json_t *signed_desc;         /* [string]: what the references cover */
	const struct id_index *ids;
};

static bool
is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)ns) &&
	       (name == NULL || xmlStrEqual(n->name, (const xmlChar *)name));
}

/* The first element child of n named ns:name (NULL: any), from after. */
static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (is_el(c, ns, name))
			return c;
	return NULL;
}

static xmlNodePtr
xchild(xmlNodePtr n, const char *name)
{
	return formats_xml_child(n, NULL, name);
}

static xmlNodePtr
next_el(xmlNodePtr n, const char *ns, const char *name)
{
	for (n = n->next; n != NULL; n = n->next)
		if (is_el(n, ns, name))
			return n;
	return NULL;
}

/* An attribute value (malloc'd by libxml2) or NULL. */
static char *
attr(xmlNodePtr n, const char *name)
{
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

/* The document's IDs (Id, ID, id, xml:id attributes), sorted by value: built once, so that a
 * reference by ID costs a search, and an ID two elements carry is seen. */
struct id_ent {
	xmlChar *v;
	xmlNodePtr el;
};
struct id_index {
	struct id_ent *e;
	size_t n;
	bool full;                   /* more than XADES_IDS_MAX: nothing can be resolved by ID */
	const char *dup;             /* an ID carried twice (in e), or NULL */
};

static bool
is_id_attr(const xmlAttr *a)
{
	if (a->ns == NULL)
		return xmlStrEqual(a->name, (const xmlChar *)"Id") ||
		       xmlStrEqual(a->name, (const xmlChar *)"ID") ||
		       xmlStrEqual(a->name, (const xmlChar *)"id");
	return xmlStrEqual(a->ns->href, XML_XML_NAMESPACE) && xmlStrEqual(a->name, (const xmlChar *)"id");
}

/* Adds the IDs of n's subtree (recursion as deep as libxml2 lets a document nest). */
static int
ids_collect(xmlNodePtr n, struct id_index *ix)
{
	xmlAttrPtr a;
	xmlNodePtr c;
	int r;

	for (a = n->properties; a != NULL; a = a->next) {
		if (!is_id_attr(a))
			continue;
		if (ix->n >= XADES_IDS_MAX) {
			ix->full = true;
			return 0;
		}
		if ((ix->e[ix->n].v = xmlNodeListGetString(n->doc, a->children, 1)) == NULL)
			ix->e[ix->n].v = xmlStrdup((const xmlChar *)"");
		if (ix->e[ix->n].v == NULL)
			return INK_ERR_ALLOC;
		ix->e[ix->n++].el = n;
	}
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (r = ids_collect(c, ix)) != 0)
			return r;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	return xmlStrcmp(((const struct id_ent *)a)->v, ((const struct id_ent *)b)->v);
}

static void
ids_free(struct id_index *ix)
{
	size_t i;

	for (i = 0; ix->e != NULL && i < ix->n; i++)
		xmlFree(ix->e[i].v);
	free(ix->e);
	memset(ix, 0, sizeof(*ix));
}

static int
ids_build(xmlDocPtr doc, struct id_index *ix)
{
	size_t i;
	int r;

	memset(ix, 0, sizeof(*ix));
	if ((ix->e = calloc(XADES_IDS_MAX, sizeof(*ix->e))) == NULL)
		return INK_ERR_ALLOC;
	if ((r = ids_collect(xmlDocGetRootElement(doc), ix)) != 0) {
		ids_free(ix);
		return r;
	}
	qsort(ix->e, ix->n, sizeof(*ix->e), cmp_id);
	for (i = 1; i < ix->n && ix->dup == NULL; i++)
		if (xmlStrEqual(ix->e[i].v, ix->e[i - 1].v))
			ix->dup = (const char *)ix->e[i].v;
	return 0;
}

/* How many elements carry the ID id; the first into *found. */
static size_t
ids_count(const struct id_index *ix, const char *id, xmlNodePtr *found)
{
	size_t lo = 0, hi = ix->n, mid, k = 0;

	*found = NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (xmlStrcmp(ix->e[mid].v, (const xmlChar *)id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ix->n && xmlStrEqual(ix->e[lo].v, (const xmlChar *)id); lo++, k++)
		if (*found == NULL)
			*found = ix->e[lo].el;
	return k;
}

/* A node's place in the document, as an XPath ("/inv:Invoice/ds:Signature"). */
static json_t *
json_path(xmlNodePtr n)
{
	xmlChar *p = xmlGetNodePath(n);
	json_t *j = json_string(p != NULL ? (const char *)p : "?");

	xmlFree(p);
	return j;
}

/* ---- references ---- */

struct ref_plan {
	bool enveloped;
	bool has_c14n;
	struct formats_c14n c14n;        /* the canonicalization transform, when has_c14n */
	char *prefixes;                  /* its InclusiveNamespaces PrefixList */
	json_t *transforms;
};

/* An exclusive canonicalization's InclusiveNamespaces PrefixList (malloc'd), or NULL. */
static char *
inc_prefixes(xmlNodePtr method)
{
	return attr(child(method, FORMATS_C14N_EXC_URI, "InclusiveNamespaces"), "PrefixList");
}

/* Reads a reference's transforms; false (with an issue) when one is refused. */
static bool
transforms_read(struct xsig *x, xmlNodePtr ref, const char *uri, struct ref_plan *pl)
{
	xmlNodePtr ts = child(ref, FORMATS_XMLDSIG_NS, "Transforms"), t;
	char *a = NULL;
	size_t i, n = 0;
	bool ok = true;

	for (t = child(ts, FORMATS_XMLDSIG_NS, "Transform"); t != NULL && ok;
	     t = next_el(t, FORMATS_XMLDSIG_NS, "Transform")) {
		xmlFree(a);
		a = attr(t, "Algorithm");
		json_array_append_new(pl->transforms, json_string(a != NULL ? a : ""));
		if (++n > XADES_TRANSFORMS_MAX) {
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "reference \"%s\" has more than %d transforms", uri, XADES_TRANSFORMS_MAX);
			ok = false;
		} else if (a != NULL && strcmp(a, FORMATS_XML_ENVELOPED) == 0) {
			pl->enveloped = true;
		} else if (a != NULL && !pl->has_c14n && formats_c14n_by_uri(a, &pl->c14n) == 0) {
			pl->has_c14n = true;
			pl->prefixes = inc_prefixes(t);
		} else {
			const char *name = "an unknown transform";

			for (i = 0; a != NULL && i < INK_ARRAY_LEN(refused_transforms); i++)
				if (strcmp(a, refused_transforms[i].uri) == 0)
					name = refused_transforms[i].name;
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "reference \"%s\": transform %s (%s) is refused — only the enveloped-"
			          "signature transform and canonicalization are allowed, as what is "
			          "signed must be what is shown", uri, a != NULL ? a : "(none)", name);
			ok = false;
		}
	}
	xmlFree(a);
	return ok;
}

/* The bytes a reference covers, digested with md: the detached document the caller gave, or
 * the canonical form of a same-document node set. */
static int
ref_digest(struct xsig *x, const char *uri, xmlNodePtr apex, const struct ref_plan *pl,
           const char *md, uint8_t *out, size_t *outlen)
{
	/* Without a canonicalization transform a node set becomes octets by C14N 1.0. */
	struct formats_c14n alg = pl->has_c14n ? pl->c14n : (struct formats_c14n){ XML_C14N_1_0, false };
	uint8_t *c14n = NULL;
	size_t len = 0;
	unsigned int n = 0;
	int r;

	if (apex == NULL) {
		r = EVP_Digest(x->in->doc, x->in->doc_len, out, &n, EVP_get_digestbyname(md), NULL) == 1 ?
		    0 : INK_ERR_CRYPTO;
		*outlen = n;
		return r;
	}
	/* Same-document references are node sets without comments (XMLDSig 4.4.3.3), whatever
	 * the canonicalization: #WithComments keeps only those of an XPointer, which is refused. */
	alg.comments = false;
	if ((r = formats_xml_c14n(x->doc, apex == xmlDocGetRootElement(x->doc) && uri[0] == '\0' ?
	                          NULL : apex, pl->enveloped ? x->sig : NULL, &alg, pl->prefixes,
	                          &c14n, &len)) != 0)
		return r;
	r = EVP_Digest(c14n, len, out, &n, EVP_get_digestbyname(md), NULL) == 1 ? 0 : INK_ERR_CRYPTO;
	*outlen = n;
	free(c14n);
	return r;
}

/* Resolves a reference's URI: the element it names (or the root for ""), or NULL for the
 * detached document given by the caller; false (with an issue) when it cannot be used. */
static bool
ref_resolve(struct xsig *x, const char *uri, const struct ref_plan *pl, xmlNodePtr *apex,
            json_t *ro)
{
	xmlNodePtr el = NULL;
	size_t n;

	*apex = NULL;
	if (uri[0] == '\0') {
		*apex = xmlDocGetRootElement(x->doc);
		return true;
	}
	if (strncmp(uri, "#xpointer(", 10) == 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "reference \"%s\": XPointer references are refused (use URI=\"\" or an ID)", uri);
		return false;
	}
	if (uri[0] == '#') {
		if (x->ids->full) {
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "reference \"%s\": the document has more than %d IDs", uri, XADES_IDS_MAX);
			return false;
		}
		if ((n = ids_count(x->ids, uri + 1, &el)) == 0) {
			issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
			          "reference \"%s\": no element has this ID", uri);
			return false;
		}
		if (n > 1) {
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "reference \"%s\": %zu elements carry this ID — which one was signed is "
			          "ambiguous (signature wrapping)", uri, n);
			return false;
		}
		*apex = el;
		return true;
	}
	/* Anything else is outside the document: never fetched. */
	json_object_set_new(ro, "external", json_true());
	if (x->in->doc == NULL) {
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
		          "reference \"%s\" points outside the document: it is never fetched — give the "
		          "detached document (inkan verify DOCUMENT SIGNATURE)", uri);
		return false;
	}
	if (x->detached_used || json_array_size(pl->transforms) > 0) {
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_SIGNED_DATA_NOT_FOUND,
		          "reference \"%s\": %s", uri, x->detached_used ?
		          "only one detached document can be given" :
		          "transforms over a detached document are not supported");
		return false;
	}
	x->detached_used = true;
	return true;
}

/* Whether n is in the subtree of apex. */
static bool
descends(xmlNodePtr n, xmlNodePtr apex)
{
	for (; n != NULL; n = n->parent)
		if (n == apex)
			return true;
	return false;
}

/* Checks one ds:Reference into ro; the problems into x->is. */
static void
ref_check(struct xsig *x, xmlNodePtr ref, json_t *ro)
{
	struct ref_plan pl = { .transforms = json_array() };
	xmlNodePtr apex = NULL, root = xmlDocGetRootElement(x->doc);
	char *uri = attr(ref, "URI"), *type = attr(ref, "Type"), *dm = NULL, desc[512];
	uint8_t *want = NULL, got[EVP_MAX_MD_SIZE];
	size_t want_len = 0, got_len = 0;
	const char *md, *md_oid = NULL;
	xmlChar *path = NULL;

	json_object_set_new(ro, "uri", uri != NULL ? json_string(uri) : json_null());
	if (type != NULL)
		json_object_set_new(ro, "type", json_string(type));
	json_object_set_new(ro, "transforms", pl.transforms);
	json_object_set_new(ro, "digest_ok", json_false());
	if (uri == NULL) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "a reference without URI: what it covers would be up to the application");
		goto out;
	}
	if (!transforms_read(x, ref, uri, &pl) || !ref_resolve(x, uri, &pl, &apex, ro))
		goto out;
	dm = attr(child(ref, FORMATS_XMLDSIG_NS, "DigestMethod"), "Algorithm");
	if ((md = formats_xml_digest_by_uri(dm, &md_oid)) == NULL || policy_hash_by_oid(md_oid) == NULL) {
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "reference \"%s\": digest method %s is not allowed (SHA-256/384/512)", uri,
		          dm != NULL ? dm : "(none)");
		goto out;
	}
	if (formats_xml_b64(child(ref, FORMATS_XMLDSIG_NS, "DigestValue"), &want, &want_len) != 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "reference \"%s\": no readable DigestValue", uri);
		goto out;
	}
	if (apex != NULL) {
		path = xmlGetNodePath(apex);
		json_object_set_new(ro, "element", json_string((const char *)apex->name));
		json_object_set_new(ro, "path", json_string(path != NULL ? (const char *)path : "?"));
		if (uri[0] == '#')
			json_object_set_new(ro, "id", json_string(uri + 1));
		snprintf(desc, sizeof(desc), "<%s> at %s%s%s", (const char *)apex->name,
		         path != NULL ? (const char *)path : "?", apex == root ? " (the document element)" : "",
		         pl.enveloped && descends(x->sig, apex) ? " less the signature" : "");
	} else {
		snprintf(desc, sizeof(desc), "the detached document given (\"%s\")", uri);
	}
	json_object_set_new(ro, "covers", json_string(desc));
	if (ref_digest(x, uri, apex, &pl, md, got, &got_len) != 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "reference \"%s\": cannot canonicalize what it covers", uri);
		goto out;
	}
	if (got_len != want_len || CRYPTO_memcmp(got, want, got_len) != 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_HASH_FAILURE,
		          "reference \"%s\" (%s): the digest does not match — changed after signing", uri,
		          desc);
		goto out;
	}
	json_object_set_new(ro, "digest_ok", json_true());
	if (type != NULL && strcmp(type, FORMATS_XADES_SP_TYPE) == 0) {
		if (formats_xades_is(apex, "SignedProperties"))
			x->sp = apex;
	} else {
		if (apex == root)
			x->root_signed = true;
		json_array_append_new(x->signed_desc, json_string(desc));
	}
out:
	xmlFree(path);
	xmlFree(uri);
	xmlFree(type);
	xmlFree(dm);
	xmlFree(pl.prefixes);
	free(want);
}

/* ---- the signature value ---- */

static bool
sig_verifies(EVP_PKEY *pk, const struct formats_xml_sigalg *alg, const uint8_t *si, size_t si_len,
             const uint8_t *val, size_t val_len)
{
	EVP_MD_CTX *m = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	bool ok = false;

	if (pk == NULL || alg->ecdsa != (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) ||
	    (!alg->ecdsa && EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA))
		return false;
	if (alg->ecdsa) {
		if (ink_ecdsa_raw_to_der(val, val_len, &der, &der_len) != 0)
			return false;
		val = der;
		val_len = der_len;
	}
	ok = (m = EVP_MD_CTX_new()) != NULL &&
	     EVP_DigestVerifyInit_ex(m, &pctx, alg->md, NULL, NULL, pk, NULL) == 1 &&
	     formats_xml_sigalg_setup(pctx, alg) == 0 &&
	     EVP_DigestVerify(m, val, val_len, si, si_len) == 1;
	EVP_MD_CTX_free(m);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok;
}

/* ---- XAdES qualifying properties ---- */

/* xs:dateTime (UTC "Z" or an offset, optional fraction) as seconds; -1 when unreadable. */
static int64_t
xs_time(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t;
	int sign, hh, mm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	t = (int64_t)timegm(&tm);
	if (strcmp(p, "Z") == 0)
		return t;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p) == 6) {
		sign = *p == '+' ? 1 : -1;
		return t - sign * (hh * 3600 + mm * 60);
	}
	return -1;
}

/* The KeyInfo certificate SigningCertificateV2 (or v1) names by its digest; NULL when none. */
static X509 *
signing_cert(struct xsig *x, xmlNodePtr ssp, STACK_OF(X509) *certs)
{
	xmlNodePtr sc = xchild(ssp, "SigningCertificateV2"), cert, cd;
	uint8_t *want = NULL, got[EVP_MAX_MD_SIZE], *der = NULL;
	size_t want_len = 0;
	unsigned int got_len = 0;
	const char *md, *oid = NULL;
	char *dm = NULL;
	X509 *found = NULL;
	int i, der_len;

	if (sc == NULL && (sc = xchild(ssp, "SigningCertificate")) != NULL)
		warn_add(x->is, "SigningCertificate (XAdES 1.3.2, v1) instead of SigningCertificateV2");
	if (sc == NULL) {
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		          "the signed properties name no signing certificate (SigningCertificateV2)");
		return NULL;
	}
	for (cert = xchild(sc, "Cert"); cert != NULL && found == NULL; cert = next_el(cert, cert->ns ?
	     (const char *)cert->ns->href : FORMATS_XADES_NS, "Cert")) {
		cd = xchild(cert, "CertDigest");
		xmlFree(dm);
		dm = attr(child(cd, FORMATS_XMLDSIG_NS, "DigestMethod"), "Algorithm");
		free(want);
		want = NULL;
		if ((md = formats_xml_digest_by_uri(dm, &oid)) == NULL || policy_hash_by_oid(oid) == NULL) {
			issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
			          "the signing certificate's digest method %s is not allowed",
			          dm != NULL ? dm : "(none)");
			continue;
		}
		if (formats_xml_b64(child(cd, FORMATS_XMLDSIG_NS, "DigestValue"), &want, &want_len) != 0)
			continue;
		for (i = 0; i < sk_X509_num(certs) && found == NULL; i++) {
			der = NULL;
			if ((der_len = i2d_X509(sk_X509_value(certs, i), &der)) > 0 &&
			    EVP_Digest(der, (size_t)der_len, got, &got_len, EVP_get_digestbyname(md), NULL) == 1 &&
			    got_len == want_len && CRYPTO_memcmp(got, want, got_len) == 0)
				found = sk_X509_value(certs, i);
			OPENSSL_free(der);
		}
	}
	if (found == NULL)
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
		          "no certificate of KeyInfo is the one SigningCertificateV2 names");
	xmlFree(dm);
	free(want);
	return found;
}

/* Validates each SignatureTimeStamp over the canonical ds:SignatureValue; the earliest valid
 * genTime into *poe. */
static void
timestamps_check(struct xsig *x, xmlNodePtr qp, xmlNodePtr sv, int64_t *poe)
{
	xmlNodePtr usp = xchild(xchild(qp, "UnsignedProperties"), "UnsignedSignatureProperties"), ts;
	struct formats_c14n alg = { XML_C14N_1_0, false };
	struct verify_content over = { 0 };
	uint8_t *c14n = NULL, *tok = NULL;
	size_t len = 0, tok_len = 0;
	json_t *arr = json_array(), *to;
	char *cm = NULL;
	int64_t gt;
	enum verify_sub sub;
	enum verify_indication ind;
	int count = 0;

	*poe = -1;
	for (ts = usp != NULL ? usp->children : NULL; ts != NULL; ts = ts->next) {
		if (!formats_xades_is(ts, "SignatureTimeStamp"))
			continue;
		if (++count > VERIFY_MAX_TIMESTAMPS || (to = json_object()) == NULL)
			break;
		json_array_append_new(arr, to);
		xmlFree(cm);
		cm = attr(child(ts, FORMATS_XMLDSIG_NS, "CanonicalizationMethod"), "Algorithm");
		free(c14n);
		free(tok);
		c14n = tok = NULL;
		if ((cm != NULL && formats_c14n_by_uri(cm, &alg) != 0) ||
		    formats_xml_c14n(x->doc, sv, NULL, &alg, NULL, &c14n, &len) != 0 ||
		    formats_xml_b64(xchild(ts, "EncapsulatedTimeStamp"), &tok, &tok_len) != 0) {
			json_object_set_new(to, "indication", json_string("TOTAL-FAILED"));
			json_object_set_new(to, "sub_indication", json_string("FORMAT_FAILURE"));
			warn_add(x->is, "signature time-stamp %d is malformed", count);
			continue;
		}
		over.data = c14n;
		over.len = len;
		ind = tst_validate(x->ctx, tok, tok_len, &over, to, &gt, &sub);
		if (ind == VERIFY_TOTAL_PASSED) {
			if (*poe < 0 || gt < *poe)
				*poe = gt;
		} else {
			warn_add(x->is, "signature time-stamp %d is not valid (%s/%s); it proves nothing",
			         count, verify_indication_str(ind), verify_sub_str(sub));
		}
	}
	json_object_set_new(x->obj, "timestamps", arr);
	xmlFree(cm);
	free(c14n);
	free(tok);
}

/* B-LT: the validation data of UnsignedSignatureProperties — CertificateValues as untrusted
 * certificates, RevocationValues (CRLs, OCSP responses) as revocation data carried by the
 * signature, and the same inside each TimeStampValidationData. Returns whether
 * CertificateValues and RevocationValues were there. Malformed values are warnings. */
static void values_read(struct xsig *x, xmlNodePtr cv, xmlNodePtr rv, STACK_OF(X509) *certs,
                        struct verify_revdata *rd, size_t *n);

static bool
ltv_read(struct xsig *x, xmlNodePtr qp, STACK_OF(X509) *certs, struct verify_revdata *rd)
{
	xmlNodePtr usp = xchild(xchild(qp, "UnsignedProperties"), "UnsignedSignatureProperties");
	xmlNodePtr cv = xchild(usp, "CertificateValues"), rv = xchild(usp, "RevocationValues"), v;
	size_t n = 0;

	values_read(x, cv, rv, certs, rd, &n);
	/* the time-stamps' validation data (EN 319 132-1 5.5.1), wherever it is */
	for (v = usp != NULL ? usp->children : NULL; v != NULL; v = v->next)
		if (formats_xades_is(v, "TimeStampValidationData"))
			values_read(x, xchild(v, "CertificateValues"), xchild(v, "RevocationValues"), certs,
			            rd, &n);
	return cv != NULL && rv != NULL;
}

/* Reads one CertificateValues and one RevocationValues (either may be NULL); *n counts the
 * revocation values read across calls. */
static void
values_read(struct xsig *x, xmlNodePtr cv, xmlNodePtr rv, STACK_OF(X509) *certs,
            struct verify_revdata *rd, size_t *n)
{
	xmlNodePtr v;
	const unsigned char *p;
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *cert;
	bool ok;

	for (v = cv != NULL ? cv->children : NULL; v != NULL; v = v->next) {
		if (!formats_xades_is(v, "EncapsulatedX509Certificate"))
			continue;
		free(der);
		der = NULL;
		if (sk_X509_num(certs) >= 2 * XADES_CERTS_MAX || formats_xml_b64(v, &der, &len) != 0)
			continue;
		p = der;
		if ((cert = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len ||
		    sk_X509_push(certs, cert) <= 0) {
			X509_free(cert);
			warn_add(x->is, "CertificateValues holds an unreadable certificate");
		}
	}
	for (v = rv != NULL ? rv->children : NULL; v != NULL; v = v->next) {
		xmlNodePtr e;
		bool crl = formats_xades_is(v, "CRLValues");

		if (!crl && !formats_xades_is(v, "OCSPValues"))
			continue;
		for (e = v->children; e != NULL; e = e->next) {
			if (!formats_xades_is(e, crl ? "EncapsulatedCRLValue" : "EncapsulatedOCSPValue"))
				continue;
			free(der);
			der = NULL;
			if (++*n > VERIFY_MAX_OCSP)
				break;
			ok = formats_xml_b64(e, &der, &len) == 0 &&
			     (crl ? crl_parse_into(rd->crls, der, len) : ocsp_parse_into(rd->ocsps, der, len)) == 0;
			if (!ok)
				warn_add(x->is, "RevocationValues holds an unreadable %s", crl ? "CRL" : "OCSP response");
		}
	}
	free(der);
	ERR_clear_error();
}

/* ---- B-LTA: archive time-stamps (EN 319 132-1 5.5.2) ---- */

/* The ArchiveTimeStamps of one signature, their tokens decoded. */
struct xats {
	struct xsig *x;
	xmlNodePtr node[VERIFY_MAX_TIMESTAMPS];
	uint8_t *tok[VERIFY_MAX_TIMESTAMPS];
	size_t tok_len[VERIFY_MAX_TIMESTAMPS], n;
};

static int
xats_input(void *arg, size_t k, const uint8_t **tok, size_t *tlen, uint8_t **input, size_t *ilen,
           char *why, size_t whysz)
{
	struct xats *a = arg;
	int r;

	*input = NULL;
	*ilen = 0;
	if (k >= a->n)
		return INK_ERR_NOT_FOUND;
	*tok = a->tok[k];
	*tlen = a->tok_len[k];
	if (a->tok[k] == NULL) {
		snprintf(why, whysz, "its EncapsulatedTimeStamp is not base64");
		return INK_ERR_UNSUPPORTED;
	}
	r = formats_xades_ats_input(a->x->doc, a->x->sig, a->node[k], a->x->in->doc,
	                            a->x->in->doc_len, input, ilen, why, whysz);
	/* an input that cannot be made is not an altered one */
	return r == INK_ERR_INVALID ? INK_ERR_UNSUPPORTED : r;
}

/* Validates the xadesv141:ArchiveTimeStamps of UnsignedSignatureProperties, newest first. */
static void
archives_check(struct xsig *x, xmlNodePtr qp, int64_t *poe, size_t *valid)
{
	xmlNodePtr usp = xchild(xchild(qp, "UnsignedProperties"), "UnsignedSignatureProperties"), n;
	struct xats a = { .x = x };
	size_t k;

	*poe = -1;
	*valid = 0;
	for (n = usp != NULL ? usp->children : NULL; n != NULL; n = n->next) {
		if (!formats_xades_is(n, "ArchiveTimeStamp"))
			continue;
		if (a.n == VERIFY_MAX_TIMESTAMPS) {
			warn_add(x->is, "only the first %d archive time-stamps are read",
			         VERIFY_MAX_TIMESTAMPS);
			break;
		}
		a.node[a.n] = n;
		if (formats_xml_b64(xchild(n, "EncapsulatedTimeStamp"), &a.tok[a.n], &a.tok_len[a.n]) != 0)
			a.tok[a.n] = NULL;
		a.n++;
	}
	if (a.n > 0)
		archive_chain_check(x->ctx, xats_input, &a, x->is, x->obj, poe, valid);
	for (k = 0; k < a.n; k++)
		free(a.tok[k]);
}

/* ---- one ds:Signature ---- */

static void
sig_validate(struct xsig *x)
{
	xmlNodePtr si, cmn, smn, sv, ki, xd, c, ref, qp = NULL, obj, ssp = NULL, root;
	STACK_OF(X509) *certs = sk_X509_new_null(), *chain = NULL;
	struct verify_revdata rd = { NULL, NULL, NULL };
	struct verify_times t = { .poe = -1, .claimed = -1 };
	const struct formats_xml_sigalg *alg = NULL;
	const struct policy_sig_alg *palg;
	struct formats_c14n c14n_alg;
	uint8_t *si_c14n = NULL, *val = NULL, *der = NULL;
	size_t si_len = 0, val_len = 0, der_len = 0, nrefs = 0;
	char *cm = NULL, *sm = NULL, *prefixes = NULL, *sig_id = NULL, *target = NULL;
	json_t *refs = json_array(), *chain_json = NULL;
	const unsigned char *p;
	X509 *signer = NULL, *cert;
	xmlChar *st = NULL;
	int64_t ats_poe = -1;
	size_t archives = 0;
	bool ltv = false, timestamped = false;
	int i;

	x->signed_desc = json_array();
	root = xmlDocGetRootElement(x->doc);
	sig_id = attr(x->sig, "Id");
	json_object_set_new(x->obj, "format", json_string("xmldsig"));
	json_object_set_new(x->obj, "level", json_null());
	json_object_set_new(x->obj, "signature_id", sig_id != NULL ? json_string(sig_id) : json_null());
	json_object_set_new(x->obj, "signature_path", json_path(x->sig));
	if (certs == NULL || refs == NULL || x->signed_desc == NULL || revdata_init(&rd) != 0)
		goto out;
	if (x->ids->dup != NULL)
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the ID \"%s\" is carried by more than one element: references by ID would be "
		          "ambiguous (signature wrapping)", x->ids->dup);
	/* SignedInfo: its canonicalization, signature method and references. */
	if ((si = child(x->sig, FORMATS_XMLDSIG_NS, NULL)) == NULL ||
	    !is_el(si, FORMATS_XMLDSIG_NS, "SignedInfo") ||
	    (cmn = child(si, FORMATS_XMLDSIG_NS, "CanonicalizationMethod")) == NULL ||
	    (smn = child(si, FORMATS_XMLDSIG_NS, "SignatureMethod")) == NULL ||
	    (sv = next_el(si, FORMATS_XMLDSIG_NS, "SignatureValue")) == NULL) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "ds:Signature without SignedInfo, its methods or SignatureValue");
		goto out;
	}
	cm = attr(cmn, "Algorithm");
	sm = attr(smn, "Algorithm");
	if (formats_c14n_by_uri(cm, &c14n_alg) != 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "SignedInfo's canonicalization %s is not allowed (C14N 1.0, 1.1, exclusive)",
		          cm != NULL ? cm : "(none)");
		goto out;
	}
	if ((alg = formats_xml_sigalg_by_uri(sm)) == NULL || (palg = policy_sig_alg_by_oid(alg->oid)) == NULL) {
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_CRYPTO_CONSTRAINTS_FAILURE,
		          "signature method %s is not allowed (RSA PKCS #1 v1.5, RSASSA-PSS or ECDSA with "
		          "SHA-256/384/512)", sm != NULL ? sm : "(none)");
		goto out;
	}
	json_object_set_new(x->obj, "signature_algorithm", json_string(palg->name));
	prefixes = inc_prefixes(cmn);
	if (formats_xml_c14n(x->doc, si, NULL, &c14n_alg, prefixes, &si_c14n, &si_len) != 0 ||
	    formats_xml_b64(sv, &val, &val_len) != 0) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "SignedInfo cannot be canonicalized or SignatureValue is not base64");
		goto out;
	}
	for (ref = child(si, FORMATS_XMLDSIG_NS, "Reference"); ref != NULL;
	     ref = next_el(ref, FORMATS_XMLDSIG_NS, "Reference")) {
		json_t *ro = json_object();

		if (++nrefs > XADES_REFS_MAX) {
			json_decref(ro);
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "more than %d references", XADES_REFS_MAX);
			break;
		}
		if (ro == NULL)
			goto out;
		ref_check(x, ref, ro);
		json_array_append_new(refs, ro);
	}
	if (nrefs == 0)
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE, "SignedInfo has no reference");
	/* What the application reads is the document element: a signature inside the document
	 * that does not cover it signs something else than what is shown (signature wrapping). */
	if (x->sig != root && !x->root_signed)
		issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_SIG_CONSTRAINTS_FAILURE,
		          "the signature does not cover the document element <%s> that the application "
		          "reads: it signs %s (signature wrapping?)", (const char *)root->name,
		          json_array_size(x->signed_desc) > 0 ?
		          json_string_value(json_array_get(x->signed_desc, 0)) : "nothing it could check");
	if (json_array_size(x->signed_desc) > 0)
		json_object_set(x->obj, "signed_content", json_array_get(x->signed_desc, 0));
	/* KeyInfo's certificates. */
	ki = next_el(sv, FORMATS_XMLDSIG_NS, "KeyInfo");
	for (xd = child(ki, FORMATS_XMLDSIG_NS, "X509Data"); xd != NULL;
	     xd = next_el(xd, FORMATS_XMLDSIG_NS, "X509Data")) {
		for (c = child(xd, FORMATS_XMLDSIG_NS, "X509Certificate"); c != NULL;
		     c = next_el(c, FORMATS_XMLDSIG_NS, "X509Certificate")) {
			free(der);
			der = NULL;
			if (sk_X509_num(certs) >= XADES_CERTS_MAX || formats_xml_b64(c, &der, &der_len) != 0)
				continue;
			p = der;
			if ((cert = d2i_X509(NULL, &p, (long)der_len)) == NULL || p != der + der_len ||
			    sk_X509_push(certs, cert) <= 0) {
				X509_free(cert);
				warn_add(x->is, "KeyInfo holds an unreadable certificate");
			}
		}
	}
	/* XAdES: QualifyingProperties in an Object of this signature, pointing back at it. */
	for (obj = child(x->sig, FORMATS_XMLDSIG_NS, "Object"); obj != NULL && qp == NULL;
	     obj = next_el(obj, FORMATS_XMLDSIG_NS, "Object"))
		qp = xchild(obj, "QualifyingProperties");
	if (qp != NULL) {
		json_object_set_new(x->obj, "format", json_string("xades"));
		target = attr(qp, "Target");
		if (target == NULL || target[0] != '#' || sig_id == NULL || strcmp(target + 1, sig_id) != 0)
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "QualifyingProperties' Target is not this signature's Id");
		if (x->sp == NULL || x->sp->parent != qp) {
			issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
			          "the XAdES SignedProperties are not covered by a valid reference of Type "
			          "SignedProperties");
		} else {
			ssp = xchild(x->sp, "SignedSignatureProperties");
			st = xmlNodeGetContent(xchild(ssp, "SigningTime"));
			t.claimed = xs_time((const char *)st);
			json_object_set_new(x->obj, "claimed_signing_time", json_time(t.claimed));
			signer = signing_cert(x, ssp, certs);
		}
	} else {
		/* Plain XMLDSig: the KeyInfo certificate whose key verifies, else the first. */
		for (i = 0; i < sk_X509_num(certs) && signer == NULL; i++)
			if (sig_verifies(X509_get0_pubkey(sk_X509_value(certs, i)), alg, si_c14n, si_len,
			                 val, val_len))
				signer = sk_X509_value(certs, i);
		if (signer == NULL && sk_X509_num(certs) > 0)
			signer = sk_X509_value(certs, 0);
	}
	if (signer == NULL) {
		if (qp == NULL)
			issue_add(x->is, VERIFY_INDETERMINATE, VERIFY_SUB_NO_SIGNING_CERTIFICATE_FOUND,
			          "no X509Certificate in KeyInfo");
		goto out;
	}
	json_object_set_new(x->obj, "signer", json_pack("{s:o, s:o, s:o}", "subject",
	                    json_name(X509_get_subject_name(signer)), "issuer",
	                    json_name(X509_get_issuer_name(signer)), "serial", json_serial(signer)));
	/* The signature over SignedInfo's canonical form. */
	if (X509_get0_pubkey(signer) == NULL) {
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_FORMAT_FAILURE,
		          "the signer's certificate has a key that cannot be read");
		goto out;
	}
	if (!sig_verifies(X509_get0_pubkey(signer), alg, si_c14n, si_len, val, val_len))
		issue_add(x->is, VERIFY_TOTAL_FAILED, VERIFY_SUB_SIG_CRYPTO_FAILURE,
		          "the signature value does not verify with the signer's key over SignedInfo");
	key_check(X509_get0_pubkey(signer), x->ctx->now, "signer", x->is, x->obj);
	if (qp != NULL) {
		ltv = ltv_read(x, qp, certs, &rd);
		/* the time-stamps' chains may be completed, and their revocation decided, by what
		 * the signature carries */
		x->ctx->outer = &rd;
		x->ctx->outer_certs = certs;
		archives_check(x, qp, &ats_poe, &archives);
		/* the signature time-stamps are judged at the time the archive time-stamps prove */
		x->ctx->tsa_poe = ats_poe;
		timestamps_check(x, qp, sv, &t.poe);
		x->ctx->tsa_poe = -1;
		x->ctx->outer = NULL;
		x->ctx->outer_certs = NULL;
		timestamped = t.poe >= 0;
		/* without a valid signature time-stamp, the oldest archive time-stamp still proves
		 * when the signature existed */
		if (t.poe < 0)
			t.poe = ats_poe;
		if (t.poe >= 0 && t.claimed > t.poe + 300)
			warn_add(x->is, "the claimed signing time is later than the time-stamp");
	}
	json_object_set_new(x->obj, "best_signature_time", json_time(t.poe >= 0 ? t.poe : x->ctx->now));
	json_object_set_new(x->obj, "best_signature_time_source",
	                    json_string(t.poe >= 0 ? "time-stamp" : "validation time"));
	path_validate(x->ctx, signer, certs, &rd, &t, VERIFY_USE_SIGNATURE, x->is, &chain_json, &chain);
	json_object_set_new(x->obj, "chain", chain_json != NULL ? chain_json : json_array());
	/* The level the properties reach: B-LT when the validation data that decided the chain
	 * is in the signature (CertificateValues and RevocationValues) and a time-stamp holds. */
	if (ssp != NULL)
		json_object_set_new(x->obj, "level", json_string(!ltv && timestamped ? "B-T" :
		                    level_of(x->obj, timestamped, archives)));
out:
	json_object_set_new(x->obj, "references", refs);
	json_object_set_new(x->obj, "signed", x->signed_desc);
	x->signed_desc = NULL;
	ERR_clear_error();
	xmlFree(st);
	xmlFree(cm);
	xmlFree(sm);
	xmlFree(prefixes);
	xmlFree(sig_id);
	xmlFree(target);
	free(si_c14n);
	free(val);
	free(der);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(certs, X509_free);
	revdata_free(&rd);
}

/* Collects the ds:Signature elements of n's subtree (at most VERIFY_MAX_SIGNATURES). */
static void
collect_sigs(xmlNodePtr n, xmlNodePtr *sigs, size_t *nsigs)
{
	xmlNodePtr c;

	if (is_el(n, FORMATS_XMLDSIG_NS, "Signature")) {
		if (*nsigs < VERIFY_MAX_SIGNATURES)
			sigs[(*nsigs)++] = n;
	}
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			collect_sigs(c, sigs, nsigs);
}

bool
xades_detect(const uint8_t *p, size_t len)
{
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < len && p[i] == '<';
}

int
xades_run(struct verify_ctx *ctx, const struct verify_input *in, struct verify_report *r,
          char *err, size_t errsz)
{
	xmlNodePtr sigs[VERIFY_MAX_SIGNATURES];
	struct id_index ids = { 0 };
	size_t nsigs = 0, i;
	xmlDocPtr doc = NULL;
	struct verify_issues is;
	enum verify_indication ind;
	enum verify_sub sub;
	json_t *obj;
	int ret;

	if (in->digest != NULL) {
		snprintf(err, errsz, "an XML signature is checked against its detached document, not "
		         "a digest of it");
		return INK_ERR_INVALID;
	}
	if ((ret = formats_xml_parse(in->sig, in->sig_len, &doc, err, errsz)) != 0)
		return ret;
	collect_sigs(xmlDocGetRootElement(doc), sigs, &nsigs);
	if (nsigs == 0) {
		snprintf(err, errsz, "no XML signature (ds:Signature) in the document");
		ret = INK_ERR_INVALID;
		goto out;
	}
	if ((ret = ids_build(doc, &ids)) != 0)
		goto out;
	for (i = 0; i < nsigs; i++) {
		struct xsig x = { .ctx = ctx, .in = in, .doc = doc, .sig = sigs[i], .is = &is, .ids = &ids };

		issues_init(&is);
		if ((obj = json_object()) == NULL) {
			issues_free(&is);
			ret = INK_ERR_ALLOC;
			goto out;
		}
		x.obj = obj;
		sig_validate(&x);
		issues_result(&is, &ind, &sub);
		issues_to_json(&is, obj);
		issues_free(&is);
		if ((ret = report_add(r, obj, ind, sub)) != 0)
			goto out;
	}
	ret = 0;
out:
	ids_free(&ids);
	xmlFreeDoc(doc);
	return ret;
}
