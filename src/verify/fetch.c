/* fetch: revocation data fetched online for certificates — OCSP from the AIA (preferred), CRLs
 * from the distribution points (fallback) — over http(s) only, bounded in size and time, each
 * URL fetched once a run, and every answer checked before anyone uses it. */
#include "verify/verify_int.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* URLs of one kind tried for one certificate, and answers cached for a run. */
#define FETCH_URLS_MAX 4
#define FETCH_CACHE_MAX 256
#define FETCH_URL_MAX 1024
#define FETCH_CERTS_MAX 32
/* Seconds an OCSP thisUpdate may lie in the future (clock skew). */
#define FETCH_SKEW 300
/* Bytes of an OCSP request's nonce (RFC 8954: at least 1, at most 32). */
#define FETCH_NONCE_LEN 16

struct fetch_entry {
	char *key;      /* "GET url", or "OCSP url certid-hex" */
	uint8_t *data;  /* NULL: the fetch failed */
	size_t len;
	bool checked;   /* an OCSP answer: it passed its checks with its own request's nonce */
};

struct verify_fetch {
	struct fetch_entry v[FETCH_CACHE_MAX];
	size_t n;
};

void
verify_vdata_free(struct verify_vdata *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nocsps; i++)
		free(v->ocsps[i].data);
	for (i = 0; i < v->ncrls; i++)
		free(v->crls[i].data);
	for (i = 0; i < v->ncerts; i++)
		free(v->certs[i].data);
	free(v->ocsps);
	free(v->crls);
	free(v->certs);
	memset(v, 0, sizeof(*v));
}

int
vdata_add(struct verify_blob **list, size_t *n, const uint8_t *data, size_t len)
{
	struct verify_blob *nl;
	uint8_t *copy;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*list)[i].len == len && memcmp((*list)[i].data, data, len) == 0)
			return 0;
	if (*n >= VERIFY_MAX_OCSP)
		return INK_ERR_TOO_LARGE;
	if ((copy = malloc(len > 0 ? len : 1)) == NULL)
		return INK_ERR_ALLOC;
	memcpy(copy, data, len);
	if ((nl = realloc(*list, (*n + 1) * sizeof(**list))) == NULL) {
		free(copy);
		return INK_ERR_ALLOC;
	}
	nl[*n].data = copy;
	nl[*n].len = len;
	*list = nl;
	(*n)++;
	return 0;
}

int
verify_fetch_new(struct verify_fetch **out)
{
	struct verify_fetch *f;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return INK_ERR_INTERNAL;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		curl_global_cleanup();
		return INK_ERR_ALLOC;
	}
	*out = f;
	return 0;
}

void
verify_fetch_free(struct verify_fetch *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].key);
		free(f->v[i].data);
	}
	free(f);
	curl_global_cleanup();
}

/* ---- HTTP ---- */

static size_t
http_write(char *p, size_t size, size_t n, void *arg)
{
	struct ink_buf *b = arg;

	return buf_put(b, p, size * n) == 0 ? size * n : 0;
}

/* GETs url (post NULL), or POSTs post as ctype; the 200 answer's body into *out (malloc'd). */
static int
http_fetch(const char *url, const uint8_t *post, size_t post_len, const char *ctype,
           uint8_t **out, size_t *outlen, char *why, size_t whysz)
{
	struct curl_slist *hdrs = NULL;
	struct ink_buf b;
	char hdr[128];
	CURL *c = NULL;
	CURLcode cr = CURLE_FAILED_INIT;
	long status = 0;
	int ret = INK_ERR_NOT_FOUND;

	*out = NULL;
	*outlen = 0;
	buf_init(&b, VERIFY_FETCH_MAX_BYTES, false);
	if ((c = curl_easy_init()) == NULL) {
		ret = INK_ERR_ALLOC;
		goto out;
	}
	/* http and https only, the redirects too; a bounded answer in a bounded time */
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, VERIFY_FETCH_CONNECT_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT, VERIFY_FETCH_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	                     (curl_off_t)VERIFY_FETCH_MAX_BYTES) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_write) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK) {
		ret = INK_ERR_INTERNAL;
		goto out;
	}
	if (post != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype);
		if ((hdrs = curl_slist_append(NULL, hdr)) == NULL) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		if (curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post) != CURLE_OK ||
		    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len) != CURLE_OK) {
			ret = INK_ERR_INTERNAL;
			goto out;
		}
	}
	cr = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cr != CURLE_OK || status != 200 || b.len == 0) {
		snprintf(why, whysz, "%.200s: %s, HTTP %ld", url,
		         cr != CURLE_OK ? curl_easy_strerror(cr) : "no answer", status);
		goto out;
	}
	*out = b.data;
	*outlen = b.len;
	b.data = NULL;
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	buf_free(&b);
	return ret;
}

/* The cached answer for key (*hit), or a new fetch cached under it. */
static int
cached_fetch(struct verify_fetch *f, const char *key, const char *url, const uint8_t *post,
             size_t post_len, const char *ctype, struct fetch_entry **ent, bool *hit, char *why,
             size_t whysz)
{
	struct fetch_entry *e;
	size_t i;
	int r;

	*ent = NULL;
	*hit = false;
	for (i = 0; i < f->n; i++) {
		e = &f->v[i];
		if (strcmp(e->key, key) != 0)
			continue;
		if (e->data == NULL) {
			snprintf(why, whysz, "%.200s: failed earlier in this run", url);
			return INK_ERR_NOT_FOUND;
		}
		*ent = e;
		*hit = true;
		return 0;
	}
	if (f->n >= FETCH_CACHE_MAX) {
		snprintf(why, whysz, "too many URLs fetched in one run");
		return INK_ERR_TOO_LARGE;
	}
	e = &f->v[f->n];
	if ((e->key = strdup(key)) == NULL)
		return INK_ERR_ALLOC;
	f->n++;
	if ((r = http_fetch(url, post, post_len, ctype, &e->data, &e->len, why, whysz)) != 0)
		return r;
	*ent = e;
	return 0;
}

/* ---- checks of what was fetched ---- */

int
fetch_check_ocsp(const uint8_t *der, size_t len, X509 *x, X509 *issuer, OCSP_REQUEST *req,
                 int64_t now, X509 **responder, char *why, size_t whysz)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *single;
	STACK_OF(X509) *certs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	X509 *signer = NULL;
	int64_t tu, nu;
	int status, reason = -1, ret = INK_ERR_INVALID;

	*responder = NULL;
	if (len == 0 || len > VERIFY_FETCH_MAX_BYTES) {
		snprintf(why, whysz, "OCSP response of %zu bytes", len);
		goto out;
	}
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL || p != der + len) {
		snprintf(why, whysz, "not an OCSP response");
		goto out;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
	    (bs = OCSP_response_get1_basic(resp)) == NULL) {
		snprintf(why, whysz, "OCSP response status %s",
		         OCSP_response_status_str(OCSP_response_status(resp)));
		goto out;
	}
	if ((single = ocsp_find(bs, x, issuer)) == NULL) {
		snprintf(why, whysz, "the OCSP response is about another certificate");
		goto out;
	}
	if ((certs = sk_X509_new_null()) == NULL || sk_X509_push(certs, issuer) <= 0) {
		ret = INK_ERR_ALLOC;
		goto out;
	}
	if (OCSP_resp_get0_signer(bs, &signer, certs) != 1 || signer == NULL) {
		snprintf(why, whysz, "the OCSP response names a responder it does not carry");
		goto out;
	}
	if (!ocsp_responder_authorised(signer, issuer, bs)) {
		snprintf(why, whysz, "the OCSP response is signed by a responder the issuer did not "
		         "authorise");
		goto out;
	}
	if (!ocsp_sig_ok(bs, signer) || !ocsp_alg_ok(bs)) {
		snprintf(why, whysz, "the OCSP response's signature is bad or its algorithm refused");
		goto out;
	}
	/* RFC 8954: a nonce sent must come back (1: present and equal; 2, -1: none in the
	 * request) */
	if (req != NULL && OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0 &&
	    OCSP_check_nonce(req, bs) != 1) {
		snprintf(why, whysz, "the OCSP response does not echo the request's nonce");
		goto out;
	}
	status = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
	tu = thisupd != NULL ? asn1_time_secs(thisupd) : -1;
	nu = nextupd != NULL ? asn1_time_secs(nextupd) : INT64_MAX;
	if (tu < 0 || tu > now + FETCH_SKEW || nu < now) {
		snprintf(why, whysz, "the OCSP response is not current");
		goto out;
	}
	if (status != V_OCSP_CERTSTATUS_GOOD && status != V_OCSP_CERTSTATUS_REVOKED) {
		snprintf(why, whysz, "the OCSP responder does not know the certificate");
		goto out;
	}
	if (X509_cmp(signer, issuer) != 0) {
		if (!X509_up_ref(signer)) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		*responder = signer;
	}
	ret = 0;
out:
	ERR_clear_error();
	sk_X509_free(certs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return ret;
}

int
fetch_check_crl(const uint8_t *der, size_t len, X509 *issuer, int64_t now, char *why,
                size_t whysz)
{
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	const ASN1_TIME *nu;
	EVP_PKEY *ipk = X509_get0_pubkey(issuer);
	int ret = INK_ERR_INVALID;

	if (len == 0 || len > VERIFY_FETCH_MAX_BYTES) {
		snprintf(why, whysz, "CRL of %zu bytes", len);
		goto out;
	}
	if ((crl = d2i_X509_CRL(NULL, &p, (long)len)) == NULL || p != der + len) {
		snprintf(why, whysz, "not a CRL (DER)");
		goto out;
	}
	if (ipk == NULL ||
	    X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    X509_CRL_verify(crl, ipk) != 1) {
		snprintf(why, whysz, "the CRL is not its issuer's");
		goto out;
	}
	if (!crl_complete(crl)) {
		snprintf(why, whysz, "the CRL is partial, a delta, or signed with a refused algorithm");
		goto out;
	}
	if ((nu = X509_CRL_get0_nextUpdate(crl)) != NULL && asn1_time_secs(nu) < now) {
		snprintf(why, whysz, "the CRL is past its nextUpdate");
		goto out;
	}
	ret = 0;
out:
	ERR_clear_error();
	X509_CRL_free(crl);
	return ret;
}

/* ---- one certificate ---- */

/* The http(s) URLs of x's AIA OCSP (ocsp true) or CRL distribution points, at most
 * FETCH_URLS_MAX, each shorter than FETCH_URL_MAX. */
static size_t
cert_urls(X509 *x, bool ocsp, char urls[FETCH_URLS_MAX][FETCH_URL_MAX])
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	STACK_OF(DIST_POINT) *dps = NULL;
	STACK_OF(GENERAL_NAME) *names = NULL;
	ACCESS_DESCRIPTION *ad;
	DIST_POINT *dp;
	GENERAL_NAME *gens[FETCH_URLS_MAX * 4];
	size_t ng = 0, n = 0, i;
	int j, k, len;

	if (ocsp && (aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL)) != NULL) {
		for (j = 0; j < sk_ACCESS_DESCRIPTION_num(aia) && ng < INK_ARRAY_LEN(gens); j++) {
			ad = sk_ACCESS_DESCRIPTION_value(aia, j);
			if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
				gens[ng++] = ad->location;
		}
	}
	if (!ocsp && (dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL)) != NULL) {
		for (j = 0; j < sk_DIST_POINT_num(dps); j++) {
			dp = sk_DIST_POINT_value(dps, j);
			if (dp->distpoint == NULL || dp->distpoint->type != 0)
				continue;
			names = dp->distpoint->name.fullname;
			for (k = 0; k < sk_GENERAL_NAME_num(names) && ng < INK_ARRAY_LEN(gens); k++)
				gens[ng++] = sk_GENERAL_NAME_value(names, k);
		}
	}
	for (i = 0; i < ng && n < FETCH_URLS_MAX; i++) {
		if (gens[i]->type != GEN_URI)
			continue;
		len = ASN1_STRING_length(gens[i]->d.uniformResourceIdentifier);
		if (len <= 0 || len >= FETCH_URL_MAX)
			continue;
		memcpy(urls[n], ASN1_STRING_get0_data(gens[i]->d.uniformResourceIdentifier),
		       (size_t)len);
		urls[n][len] = '\0';
		/* a NUL inside, another scheme, or a space or control character: not fetched */
		if (strlen(urls[n]) != (size_t)len ||
		    (strncmp(urls[n], "http://", 7) != 0 && strncmp(urls[n], "https://", 8) != 0) ||
		    strpbrk(urls[n], " \t\r\n\x7f") != NULL)
			continue;
		n++;
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	return n;
}

/* One OCSP request to url about x, checked; what it gives appended to out. */
static int
fetch_ocsp(struct verify_fetch *f, const char *url, X509 *x, X509 *issuer,
           struct verify_vdata *out, char *why, size_t whysz)
{
	OCSP_REQUEST *req = NULL;
	OCSP_CERTID *id = NULL;
	X509 *responder = NULL;
	uint8_t *req_der = NULL, *id_der = NULL, *cert_der = NULL;
	struct fetch_entry *e;
	char *key = NULL, idhex[2 * 128 + 1];
	bool hit;
	int req_len, id_len, cert_len, ret = INK_ERR_ALLOC;

	/* SHA-1 CertIDs are what every responder answers (RFC 5019 2.1.1); a name, not a
	 * signature */
	if ((id = OCSP_cert_to_id(NULL, x, issuer)) == NULL ||
	    (id_len = i2d_OCSP_CERTID(id, &id_der)) <= 0 || (size_t)id_len * 2 >= sizeof(idhex))
		goto out;
	hex_encode(id_der, (size_t)id_len, idhex);
	if ((req = OCSP_REQUEST_new()) == NULL || OCSP_request_add0_id(req, id) == NULL)
		goto out;
	id = NULL;
	if (OCSP_request_add1_nonce(req, NULL, FETCH_NONCE_LEN) != 1 ||
	    (req_len = i2d_OCSP_REQUEST(req, &req_der)) <= 0)
		goto out;
	if ((key = malloc(strlen(url) + strlen(idhex) + 8)) == NULL)
		goto out;
	sprintf(key, "OCSP %s %s", url, idhex);
	if ((ret = cached_fetch(f, key, url, req_der, (size_t)req_len, "application/ocsp-request",
	                        &e, &hit, why, whysz)) != 0)
		goto out;
	/* a cached answer was checked against its own request's nonce when it came */
	if (hit && !e->checked) {
		snprintf(why, whysz, "%.200s: its answer was refused earlier in this run", url);
		ret = INK_ERR_INVALID;
		goto out;
	}
	if ((ret = fetch_check_ocsp(e->data, e->len, x, issuer, hit ? NULL : req, ink_now(),
	                            &responder, why, whysz)) != 0)
		goto out;
	e->checked = true;
	if ((ret = vdata_add(&out->ocsps, &out->nocsps, e->data, e->len)) != 0)
		goto out;
	if (responder != NULL) {
		if ((cert_len = i2d_X509(responder, &cert_der)) <= 0) {
			ret = INK_ERR_ALLOC;
			goto out;
		}
		ret = vdata_add(&out->certs, &out->ncerts, cert_der, (size_t)cert_len);
	}
out:
	ERR_clear_error();
	OPENSSL_free(cert_der);
	X509_free(responder);
	free(key);
	OPENSSL_free(req_der);
	OPENSSL_free(id_der);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	return ret;
}

int
fetch_cert(struct verify_fetch *f, X509 *x, X509 *issuer, struct verify_vdata *out, char *why,
           size_t whysz)
{
	char urls[FETCH_URLS_MAX][FETCH_URL_MAX], key[FETCH_URL_MAX + 8];
	struct fetch_entry *e;
	size_t n, i;
	bool hit;
	int r;

	snprintf(why, whysz, "the certificate names no http(s) OCSP responder or CRL");
	n = cert_urls(x, true, urls);
	for (i = 0; i < n; i++) {
		if ((r = fetch_ocsp(f, urls[i], x, issuer, out, why, whysz)) == 0)
			return 0;
		if (r == INK_ERR_ALLOC)
			return r;
	}
	n = cert_urls(x, false, urls);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "GET %s", urls[i]);
		if ((r = cached_fetch(f, key, urls[i], NULL, 0, NULL, &e, &hit, why, whysz)) != 0) {
			if (r == INK_ERR_ALLOC)
				return r;
			continue;
		}
		if (fetch_check_crl(e->data, e->len, issuer, ink_now(), why, whysz) != 0)
			continue;
		return vdata_add(&out->crls, &out->ncrls, e->data, e->len);
	}
	return INK_ERR_NOT_FOUND;
}

/* ---- a set of certificates ---- */

/* Reads n DER certificates into xs; INK_ERR_INVALID (err[] says which) when one is not. */
static int
blobs_read(const struct verify_blob *certs, size_t n, X509 **xs, char *err, size_t errsz)
{
	const unsigned char *p;
	size_t i;

	for (i = 0; i < n; i++) {
		p = certs[i].data;
		if (certs[i].len > INT32_MAX ||
		    (xs[i] = d2i_X509(NULL, &p, (long)certs[i].len)) == NULL ||
		    p != certs[i].data + certs[i].len) {
			snprintf(err, errsz, "certificate %zu is not a certificate (DER)", i + 1);
			return INK_ERR_INVALID;
		}
	}
	return 0;
}

/* Whether have holds revocation data about x that would be kept if fetched now. */
static bool
covered(const struct verify_vdata *have, X509 *x, X509 *issuer)
{
	X509 *responder = NULL;
	char why[160];
	size_t i;

	for (i = 0; have != NULL && i < have->nocsps; i++) {
		if (fetch_check_ocsp(have->ocsps[i].data, have->ocsps[i].len, x, issuer, NULL,
		                     ink_now(), &responder, why, sizeof(why)) == 0) {
			X509_free(responder);
			return true;
		}
	}
	for (i = 0; have != NULL && i < have->ncrls; i++)
		if (fetch_check_crl(have->crls[i].data, have->crls[i].len, issuer, ink_now(), why,
		                    sizeof(why)) == 0)
			return true;
	return false;
}

int
verify_fetch_chain(struct verify_fetch *f, const struct verify_blob *certs, size_t n,
                   struct verify_vdata *out, char *err, size_t errsz)
{
	return verify_fetch_missing(f, certs, n, NULL, out, err, errsz);
}

int
verify_fetch_missing(struct verify_fetch *f, const struct verify_blob *certs, size_t n,
                     const struct verify_vdata *have, struct verify_vdata *out, char *err,
                     size_t errsz)
{
	struct verify_vdata got = { 0 };
	X509 *xs[FETCH_CERTS_MAX] = { 0 }, *issuer;
	char name[256], why[256];
	size_t i, j;
	int ret = INK_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (n > FETCH_CERTS_MAX) {
		snprintf(err, errsz, "more than %d certificates", FETCH_CERTS_MAX);
		return INK_ERR_TOO_LARGE;
	}
	if ((ret = blobs_read(certs, n, xs, err, errsz)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		/* a root (self-issued) is an anchor: no one answers for it; an OCSP responder with
		 * id-pkix-ocsp-nocheck is trusted for its lifetime (RFC 6960 4.2.2.2.1) */
		if (X509_check_issued(xs[i], xs[i]) == X509_V_OK ||
		    X509_get_ext_by_NID(xs[i], NID_id_pkix_OCSP_noCheck, -1) >= 0)
			continue;
		issuer = NULL;
		for (j = 0; j < n && issuer == NULL; j++) {
			if (j != i && X509_check_issued(xs[j], xs[i]) == X509_V_OK &&
			    X509_verify(xs[i], X509_get0_pubkey(xs[j])) == 1)
				issuer = xs[j];
		}
		name_str(X509_get_subject_name(xs[i]), name, sizeof(name));
		if (issuer == NULL) {
			snprintf(err, errsz, "%s: its issuer's certificate is not given", name);
			ret = INK_ERR_NOT_FOUND;
			goto out;
		}
		if (covered(have, xs[i], issuer))
			continue;
		if ((ret = fetch_cert(f, xs[i], issuer, &got, why, sizeof(why))) != 0) {
			snprintf(err, errsz, "%s: no revocation data (%s)", name, why);
			goto out;
		}
	}
	*out = got;
	memset(&got, 0, sizeof(got));
	ret = 0;
out:
	ERR_clear_error();
	verify_vdata_free(&got);
	for (i = 0; i < n; i++)
		X509_free(xs[i]);
	return ret;
}

/* ---- one certificate ---- */

int
verify_fetch_cert(struct verify_fetch *f, const struct verify_blob *cert,
                  const struct verify_blob *issuer, struct verify_vdata *out, char *err,
                  size_t errsz)
{
	struct verify_vdata got = { 0 };
	const struct verify_blob pair[2] = { *cert, *issuer };
	X509 *xs[2] = { NULL, NULL };
	char name[256], why[256];
	int ret;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if ((ret = blobs_read(pair, 2, xs, err, errsz)) != 0)
		goto out;
	ret = INK_ERR_INVALID;
	name_str(X509_get_subject_name(xs[0]), name, sizeof(name));
	if (X509_check_issued(xs[1], xs[0]) != X509_V_OK ||
	    X509_verify(xs[0], X509_get0_pubkey(xs[1])) != 1) {
		snprintf(err, errsz, "%s: not issued by the issuer given", name);
		goto out;
	}
	if ((ret = fetch_cert(f, xs[0], xs[1], &got, why, sizeof(why))) != 0) {
		snprintf(err, errsz, "%s: no revocation data (%s)", name, why);
		goto out;
	}
	*out = got;
	memset(&got, 0, sizeof(got));
	ret = 0;
out:
	ERR_clear_error();
	verify_vdata_free(&got);
	X509_free(xs[0]);
	X509_free(xs[1]);
	return ret;
}

int
verify_fetch_check(bool ocsp, const uint8_t *data, size_t len, const uint8_t *cert,
                   size_t cert_len, const uint8_t *issuer, size_t issuer_len, int64_t now,
                   char *why, size_t whysz)
{
	const unsigned char *p;
	X509 *x = NULL, *ix = NULL, *responder = NULL;
	int r = INK_ERR_INVALID;

	why[0] = '\0';
	p = cert;
	if (cert_len > INT32_MAX || (x = d2i_X509(NULL, &p, (long)cert_len)) == NULL ||
	    p != cert + cert_len) {
		snprintf(why, whysz, "the certificate is not one (DER)");
		goto out;
	}
	p = issuer;
	if (issuer_len > INT32_MAX || (ix = d2i_X509(NULL, &p, (long)issuer_len)) == NULL ||
	    p != issuer + issuer_len) {
		snprintf(why, whysz, "the issuer's certificate is not one (DER)");
		goto out;
	}
	r = ocsp ? fetch_check_ocsp(data, len, x, ix, NULL, now, &responder, why, whysz) :
	           fetch_check_crl(data, len, ix, now, why, whysz);
out:
	ERR_clear_error();
	X509_free(responder);
	X509_free(x);
	X509_free(ix);
	return r;
}
