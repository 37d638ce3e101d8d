/* xml: untrusted XML parsed with safe settings, document subsets canonicalized, and the XMLDSig
 * algorithm identifiers (RFC 6931) the service knows — what XAdES signing and verification share. */
#include "formats/formats_int.h"

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Prefixes in an exclusive C14N PrefixList at most. */
#define XML_PREFIXES_MAX 32

int
formats_xml_parse(const uint8_t *data, size_t len, struct _xmlDoc **out, char *why, size_t whysz)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	int ret = INK_ERR_INVALID;

	*out = NULL;
	if (len == 0 || len > FORMATS_XML_MAX || len > INT32_MAX) {
		snprintf(why, whysz, "the XML is empty or larger than %u MiB", FORMATS_XML_MAX >> 20);
		return len == 0 ? INK_ERR_INVALID : INK_ERR_TOO_LARGE;
	}
	/* Refused before parsing: a DTD is where entities (XXE, expansion bombs) are declared. */
	if (memmem(data, len, "<!DOCTYPE", 9) != NULL) {
		snprintf(why, whysz, "the XML has a DOCTYPE: DTDs and entity declarations are refused "
		         "(external entities, entity expansion)");
		return INK_ERR_INVALID;
	}
	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return INK_ERR_ALLOC;
	/* No XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE: nothing is loaded or expanded. */
	doc = xmlCtxtReadMemory(ctxt, (const char *)data, (int)len, NULL, NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL || !ctxt->wellFormed) {
		snprintf(why, whysz, "not well-formed XML (line %d)", ctxt->lastError.line);
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		snprintf(why, whysz, "the XML has a DOCTYPE: DTDs and entity declarations are refused");
		goto out;
	}
	if (xmlDocGetRootElement(doc) == NULL) {
		snprintf(why, whysz, "the XML has no document element");
		goto out;
	}
	*out = doc;
	doc = NULL;
	ret = 0;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return ret;
}

int
formats_c14n_by_uri(const char *uri, struct formats_c14n *out)
{
	static const struct {
		const char *uri;
		int mode;
		bool comments;
	} algs[] = {
		{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", XML_C14N_1_0, false },
		{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments", XML_C14N_1_0, true },
		{ "http://www.w3.org/2006/12/xml-c14n11", XML_C14N_1_1, false },
		{ "http://www.w3.org/2006/12/xml-c14n11#WithComments", XML_C14N_1_1, true },
		{ FORMATS_C14N_EXC_URI, XML_C14N_EXCLUSIVE_1_0, false },
		{ "http://www.w3.org/2001/10/xml-exc-c14n#WithComments", XML_C14N_EXCLUSIVE_1_0, true },
	};
	size_t i;

	for (i = 0; uri != NULL && i < INK_ARRAY_LEN(algs); i++) {
		if (strcmp(uri, algs[i].uri) == 0) {
			out->mode = algs[i].mode;
			out->comments = algs[i].comments;
			return 0;
		}
	}
	return INK_ERR_UNSUPPORTED;
}

/* The subset canonicalized: apex's subtree (all when NULL) less exclude's. */
struct c14n_subset {
	xmlNodePtr apex, exclude;
};

static int
subset_visible(void *arg, xmlNodePtr node, xmlNodePtr parent)
{
	const struct c14n_subset *s = arg;
	xmlNodePtr n = node->type == XML_NAMESPACE_DECL || node->type == XML_ATTRIBUTE_NODE ?
	               parent : node;
	bool in_apex = s->apex == NULL;

	for (; n != NULL; n = n->parent) {
		if (n == s->exclude)
			return 0;
		if (n == s->apex)
			in_apex = true;
	}
	return in_apex ? 1 : 0;
}

int
formats_xml_c14n(struct _xmlDoc *doc, struct _xmlNode *apex, struct _xmlNode *exclude,
                 const struct formats_c14n *alg, const char *prefixes, uint8_t **out, size_t *len)
{
	struct c14n_subset s = { apex, exclude };
	xmlOutputBufferPtr buf = NULL;
	xmlChar *list[XML_PREFIXES_MAX + 1], *copy = NULL, *tok, *save = NULL;
	const xmlChar *content;
	size_t n = 0, size;
	int ret = INK_ERR_INVALID;

	*out = NULL;
	*len = 0;
	if (prefixes != NULL && alg->mode == XML_C14N_EXCLUSIVE_1_0) {
		if ((copy = xmlStrdup((const xmlChar *)prefixes)) == NULL)
			return INK_ERR_ALLOC;
		for (tok = (xmlChar *)strtok_r((char *)copy, " \t\r\n", (char **)&save); tok != NULL;
		     tok = (xmlChar *)strtok_r(NULL, " \t\r\n", (char **)&save)) {
			if (n >= XML_PREFIXES_MAX)
				goto out;
			list[n++] = tok;
		}
	}
	list[n] = NULL;
	if ((buf = xmlAllocOutputBuffer(NULL)) == NULL) {
		ret = INK_ERR_ALLOC;
		goto out;
	}
	if (xmlC14NExecute(doc, subset_visible, &s, alg->mode, n > 0 ? list : NULL,
	                   alg->comments ? 1 : 0, buf) < 0)
		goto out;
	content = xmlOutputBufferGetContent(buf);
	size = xmlOutputBufferGetSize(buf);
	if ((*out = malloc(size + 1)) == NULL) {
		ret = INK_ERR_ALLOC;
		goto out;
	}
	if (size > 0)
		memcpy(*out, content, size);
	*len = size;
	ret = 0;
out:
	if (buf != NULL)
		(void)xmlOutputBufferClose(buf);
	xmlFree(copy);
	return ret;
}

static const struct formats_xml_sigalg sigalgs[] = {
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "1.2.840.113549.1.1.11", "SHA256", false, false },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", "1.2.840.113549.1.1.12", "SHA384", false, false },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "1.2.840.113549.1.1.13", "SHA512", false, false },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "1.2.840.10045.4.3.2", "SHA256", true, false },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "1.2.840.10045.4.3.3", "SHA384", true, false },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "1.2.840.10045.4.3.4", "SHA512", true, false },
	{ FORMATS_XML_PSS_SHA256_URI, "1.2.840.113549.1.1.10", "SHA256", false, true },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1", "1.2.840.113549.1.1.10", "SHA384",
	  false, true },
	{ "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", "1.2.840.113549.1.1.10", "SHA512",
	  false, true },
};

int
formats_xml_sigalg_setup(EVP_PKEY_CTX *pctx, const struct formats_xml_sigalg *alg)
{
	const EVP_MD *md = EVP_get_digestbyname(alg->md);

	if (!alg->pss)
		return 0;
	if (md == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EVP_MD_get_size(md)) != 1)
		return INK_ERR_CRYPTO;
	return 0;
}

const struct formats_xml_sigalg *
formats_xml_sigalg_by_uri(const char *uri)
{
	size_t i;

	for (i = 0; uri != NULL && i < INK_ARRAY_LEN(sigalgs); i++)
		if (strcmp(uri, sigalgs[i].uri) == 0)
			return &sigalgs[i];
	return NULL;
}

const char *
formats_xml_digest_by_uri(const char *uri, const char **oid)
{
	static const struct {
		const char *uri, *md, *oid;
	} mds[] = {
		{ FORMATS_XML_SHA256_URI, "SHA256", "2.16.840.1.101.3.4.2.1" },
		{ "http://www.w3.org/2001/04/xmldsig-more#sha384", "SHA384", "2.16.840.1.101.3.4.2.2" },
		{ "http://www.w3.org/2001/04/xmlenc#sha512", "SHA512", "2.16.840.1.101.3.4.2.3" },
	};
	size_t i;

	for (i = 0; uri != NULL && i < INK_ARRAY_LEN(mds); i++) {
		if (strcmp(uri, mds[i].uri) == 0) {
			*oid = mds[i].oid;
			return mds[i].md;
		}
	}
	return NULL;
}

bool
formats_xml_is_el(const xmlNode *n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)ns) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

xmlNodePtr
formats_xml_find_el(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c, f;

	if (formats_xml_is_el(n, ns, name))
		return n;
	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (f = formats_xml_find_el(c, ns, name)) != NULL)
			return f;
	return NULL;
}

xmlNodePtr
formats_xml_find_id(xmlNodePtr n, const char *id)
{
	xmlNodePtr c, f;
	xmlChar *v;
	bool hit;

	if (n == NULL || n->type != XML_ELEMENT_NODE)
		return NULL;
	v = xmlGetNoNsProp(n, (const xmlChar *)"Id");
	hit = v != NULL && xmlStrEqual(v, (const xmlChar *)id);
	xmlFree(v);
	if (hit)
		return n;
	for (c = n->children; c != NULL; c = c->next)
		if ((f = formats_xml_find_id(c, id)) != NULL)
			return f;
	return NULL;
}

int
formats_xml_new_id(char id[static 24])
{
	uint8_t rnd[8];
	char hex[17];
	int r;

	if ((r = ink_random(rnd, sizeof(rnd))) != 0)
		return r;
	hex_encode(rnd, sizeof(rnd), hex);
	snprintf(id, 24, "id-%s", hex);
	return 0;
}
