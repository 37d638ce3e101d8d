/* ltv: PAdES B-LT and B-LTA for `inkan sign` and `inkan extend` — every signature and document
 * time-stamp of a PDF gets the certificates of its chains and revocation data for each of
 * them in the document security store (a further incremental update), then, for B-LTA, a
 * document time-stamp over the whole file. Revocation data: what the caller supplies, and
 * unless offline what each certificate's own URLs give (verify_fetch_cert: OCSP preferred,
 * CRL otherwise) and the service's current CRLs, each checked as the fetch module checks. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/formats.h"
#include "verify/verify.h"

/* Bytes the document time-stamp's /Contents holds: a token with its TSA's chain. */
#define LTV_TOKEN_MAX 16384
/* Blobs of each kind in one signature's VRI entry at most. */
#define LTV_ENTRY_MAX 64

/* Everything gathered for one signature's VRI entry (pointers into the pool and the chains). */
struct ltv_entry {
	struct formats_blob certs[LTV_ENTRY_MAX], ocsps[LTV_ENTRY_MAX], crls[LTV_ENTRY_MAX];
	size_t ncerts, nocsps, ncrls;
	struct verify_vdata fetched[FORMATS_LTV_CERTS_MAX];   /* per certificate; owned */
};

/* The service's current CRLs, owned here. */
struct ltv_pool {
	uint8_t *crl[8];
	size_t crl_len[8];
	size_t ncrl;
};

static void
pool_free(struct ltv_pool *p)
{
	while (p->ncrl > 0)
		free(p->crl[--p->ncrl]);
}

/* The service's current CRLs (issuing CA, root): its certificates' revocation data. */
static void
pool_service(struct cli_ctx *c, struct ltv_pool *p)
{
	static const char *const lists[] = { "/ca/crl", "/ca/arl" };
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(lists) && p->ncrl < INK_ARRAY_LEN(p->crl); i++) {
		if (cli_http_raw(c, lists[i], "application/pkix-crl", CLI_AUTH_NONE, &p->crl[p->ncrl],
		                 &p->crl_len[p->ncrl]) == 0)
			p->ncrl++;
	}
	c->reported = false;   /* a service without CRLs is not an error here: data may be supplied */
}

static bool
entry_has(const struct formats_blob *v, size_t n, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].len == len && memcmp(v[i].data, p, len) == 0)
			return true;
	return false;
}

static int
entry_add(struct formats_blob *v, size_t *n, const uint8_t *p, size_t len)
{
	if (entry_has(v, *n, p, len))
		return 0;
	if (*n == LTV_ENTRY_MAX)
		return INK_ERR_TOO_LARGE;
	v[*n].data = p;
	v[(*n)++].len = len;
	return 0;
}

/* Adds an OCSP response (ocsp) or a CRL to e when it speaks for x (issued by iss) now, as the
 * fetch module checks what a URL serves: about x, signed by iss or a responder it authorised,
 * current. */
static int
consider(struct ltv_entry *e, bool ocsp, const uint8_t *d, size_t len,
         const struct formats_ltv_cert *x, const struct formats_ltv_cert *iss, bool *found)
{
	char why[256];

	if (verify_fetch_check(ocsp, d, len, x->der, x->len, iss->der, iss->len, ink_now(), why,
	                       sizeof(why)) != 0)
		return 0;
	*found = true;
	return ocsp ? entry_add(e->ocsps, &e->nocsps, d, len) : entry_add(e->crls, &e->ncrls, d, len);
}

/* One signature's entry: its chains' certificates, and for each certificate but a root an
 * OCSP response (preferred) or a CRL that speaks for it. */
static int
entry_build(struct cli_ctx *c, const struct formats_ltv *l, const struct cli_ltv *o,
            const struct ltv_pool *pool, struct verify_fetch *f, size_t which, struct ltv_entry *e)
{
	const struct formats_ltv_cert *x, *iss;
	const struct verify_vdata *vd;
	struct verify_blob pair[2];
	char fetch_err[256];
	size_t i, k;
	bool found;
	int r = 0;

	for (i = 0; i < l->n; i++) {
		x = &l->v[i];
		vd = &e->fetched[i];
		fetch_err[0] = '\0';
		if ((r = entry_add(e->certs, &e->ncerts, x->der, x->len)) != 0)
			return r;
		if (x->self_signed)
			continue;
		if (x->issuer < 0)
			return cli_fail(c, INK_ERR_NOT_FOUND, "a certificate of signature %zu has no issuer "
			                "in the signature or the data given (--cert)", which);
		iss = &l->v[x->issuer];
		/* Online: what the certificate's own URLs say (OCSP preferred). */
		if (f != NULL) {
			pair[0].data = x->der;
			pair[0].len = x->len;
			pair[1].data = iss->der;
			pair[1].len = iss->len;
			if (verify_fetch_cert(f, &pair[0], &pair[1], &e->fetched[i], fetch_err,
			                      sizeof(fetch_err)) != 0)
				verify_vdata_free(&e->fetched[i]);
		}
		/* OCSP first (fetched, then given), CRLs when there is none (given, fetched, the
		 * service's). */
		found = false;
		for (k = 0; r == 0 && !found && k < vd->nocsps; k++)
			r = consider(e, true, vd->ocsps[k].data, vd->ocsps[k].len, x, iss, &found);
		for (k = 0; r == 0 && k < o->nocsps; k++)
			r = consider(e, true, o->ocsps[k].data, o->ocsps[k].len, x, iss, &found);
		for (k = 0; r == 0 && !found && k < o->ncrls; k++)
			r = consider(e, false, o->crls[k].data, o->crls[k].len, x, iss, &found);
		for (k = 0; r == 0 && !found && k < vd->ncrls; k++)
			r = consider(e, false, vd->crls[k].data, vd->crls[k].len, x, iss, &found);
		for (k = 0; r == 0 && !found && k < pool->ncrl; k++)
			r = consider(e, false, pool->crl[k], pool->crl_len[k], x, iss, &found);
		if (r != 0)
			return r;
		if (!found)
			return cli_fail(c, INK_ERR_NOT_FOUND, "no revocation data for a certificate of "
			                "signature %zu%s%s (give it with --ocsp or --crl)", which,
			                fetch_err[0] != '\0' ? ": " : "", fetch_err);
		/* The delegated OCSP responders' certificates the fetch brought. */
		for (k = 0; k < vd->ncerts; k++)
			if ((r = entry_add(e->certs, &e->ncerts, vd->certs[k].data, vd->certs[k].len)) != 0)
				return r;
	}
	return 0;
}

/* in + the DSS for every signature -> out. */
static int
add_dss(struct cli_ctx *c, const char *in, const char *out, const struct cli_ltv *o)
{
	struct formats_pdf_sig *sigs = NULL;
	struct formats_ltv *chains = NULL, *first = NULL;
	struct formats_blob *extra = NULL;
	struct formats_dss_entry *de = NULL;
	struct ltv_entry *le = NULL;
	struct ltv_pool pool = { 0 };
	struct verify_fetch *f = NULL;
	size_t n = 0, i, k, nextra = 0;
	char why[256];
	int r;

	/* The bound inkan verify puts on a PDF before qpdf reads it (a compressed-stream bomb). */
	if ((r = formats_pdf_precheck_path(in, why, sizeof(why))) != 0)
		return cli_fail(c, r, "%s: %s", in, why);
	if ((r = formats_pdf_signatures(in, &sigs, &n)) != 0)
		return cli_fail(c, r, "%s: not a readable, unencrypted PDF", in);
	if (n == 0) {
		r = cli_fail(c, INK_ERR_INVALID, "%s holds no signature to extend", in);
		goto out;
	}
	if (!o->offline && c->server_given)
		pool_service(c, &pool);
	if ((chains = calloc(n, sizeof(*chains))) == NULL || (de = calloc(n, sizeof(*de))) == NULL ||
	    (le = calloc(n, sizeof(*le))) == NULL || (first = calloc(n, sizeof(*first))) == NULL ||
	    (extra = calloc(o->ncerts + n * FORMATS_LTV_CERTS_MAX, sizeof(*extra))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	/* The certificates of every signature serve the chains of all: a document time-stamp's
	 * token often carries its TSA's certificate alone, whose issuer a signature carries. */
	if (o->ncerts > 0)
		memcpy(extra, o->certs, o->ncerts * sizeof(*extra));
	nextra = o->ncerts;
	for (i = 0; i < n; i++) {
		if (sigs[i].der_len == 0 ||
		    formats_ltv_chains(sigs[i].contents, sigs[i].der_len, o->certs, o->ncerts,
		                       &first[i]) != 0) {
			r = cli_fail(c, INK_ERR_INVALID, "%s: signature %zu is not a CMS signature with "
			             "its signer's certificate", in, i + 1);
			goto out;
		}
		for (k = 0; k < first[i].n; k++) {
			extra[nextra].data = first[i].v[k].der;
			extra[nextra++].len = first[i].v[k].len;
		}
	}
	if (!o->offline && (r = verify_fetch_new(&f)) != 0) {
		r = cli_fail(c, r, "cannot start fetching validation data: %s", ink_err_str(r));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = formats_ltv_chains(sigs[i].contents, sigs[i].der_len, extra, nextra,
		                            &chains[i])) != 0) {
			r = cli_fail(c, r, "%s: signature %zu: cannot build its chains: %s", in, i + 1,
			             ink_err_str(r));
			goto out;
		}
		if ((r = entry_build(c, &chains[i], o, &pool, f, i + 1, &le[i])) != 0)
			goto out;
		memcpy(de[i].vri_key, sigs[i].vri_key, sizeof(de[i].vri_key));
		de[i].certs = le[i].certs;
		de[i].ncerts = le[i].ncerts;
		de[i].ocsps = le[i].ocsps;
		de[i].nocsps = le[i].nocsps;
		de[i].crls = le[i].crls;
		de[i].ncrls = le[i].ncrls;
	}
	if ((r = formats_pdf_add_dss(in, out, de, n)) != 0)
		r = cli_fail(c, r, "cannot add the validation data to %s: %s", out, ink_err_str(r));
out:
	for (i = 0; chains != NULL && i < n; i++)
		formats_ltv_free(&chains[i]);
	for (i = 0; first != NULL && i < n; i++)
		formats_ltv_free(&first[i]);
	free(first);
	free(extra);
	for (i = 0; le != NULL && i < n; i++)
		for (k = 0; k < FORMATS_LTV_CERTS_MAX; k++)
			verify_vdata_free(&le[i].fetched[k]);
	verify_fetch_free(f);
	free(chains);
	free(de);
	free(le);
	pool_free(&pool);
	formats_pdf_signatures_free(sigs, n);
	return r;
}

/* in + a document time-stamp over all of it -> out. */
static int
add_doc_timestamp(struct cli_ctx *c, const char *in, const char *out, const char *tsa)
{
	struct formats_pdf_opts po = { .contents_max = LTV_TOKEN_MAX, .doc_timestamp = true };
	struct formats_pdf *pdf = NULL;
	uint8_t md[FORMATS_SHA256_LEN], *tok = NULL;
	size_t tok_len = 0;
	bool made = false;
	int r;

	if ((r = formats_pdf_prepare(in, out, &po, &pdf)) != 0) {
		r = cli_fail(c, r, "cannot prepare the document time-stamp in %s: %s", out, ink_err_str(r));
		goto out;
	}
	made = true;
	if ((r = formats_pdf_digest(pdf, NULL, NULL, md)) != 0 ||
	    (r = cli_timestamp(c, tsa, md, &tok, &tok_len)) != 0)
		goto out;
	if ((r = formats_pdf_embed(pdf, tok, tok_len)) != 0) {
		r = cli_fail(c, r, "cannot write the document time-stamp into %s: %s", out, ink_err_str(r));
		goto out;
	}
	made = false;
out:
	if (made)
		(void)unlink(out);
	formats_pdf_free(pdf);
	free(tok);
	return r;
}

int
cli_pades_ltv(struct cli_ctx *c, const char *in, const char *out, const struct cli_ltv *o)
{
	char tmp[4200];
	int r;

	if (access(out, F_OK) == 0)
		return cli_fail(c, INK_ERR_EXISTS, "%s exists: choose another name with --output", out);
	if (!o->lta)
		return add_dss(c, in, out, o);
	/* The DSS goes to a name of its own first; the time-stamp over it makes out. */
	if (snprintf(tmp, sizeof(tmp), "%s.dss-%ld.tmp", out, (long)getpid()) >= (int)sizeof(tmp))
		return cli_fail(c, INK_ERR_INVALID, "%s: name too long", out);
	if ((r = add_dss(c, in, tmp, o)) != 0)
		return r;
	r = add_doc_timestamp(c, tmp, out, o->tsa);
	(void)unlink(tmp);
	return r;
}
