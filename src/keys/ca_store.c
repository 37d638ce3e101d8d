/* ca_store: the built-in CA's keys, sealed in the key store under the master key, and the
 * revocation list; the certificate mechanics themselves are in ca/. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/ca.h"
#include "formats/formats.h"
#include "policy/policy.h"

#define CA_PURPOSE "ca-key"
#define CA_ROOT_DAYS 7300
#define CA_ISSUING_DAYS 3650
#define CA_TSA_DAYS 1825
#define CA_CRL_NEXT_DAYS 7
#define CA_CRL_REFRESH (24 * 3600)   /* a CRL older than this is made afresh when asked for */
#define CA_KEY_MAX 4096

int
keys_set_params(struct keys *k, const struct keys_params *p)
{
	int r;

	k->params = *p;
	snprintf(k->crl_url, sizeof(k->crl_url), "%s", p->crl_url != NULL ? p->crl_url : "");
	snprintf(k->arl_url, sizeof(k->arl_url), "%s", p->arl_url != NULL ? p->arl_url : "");
	snprintf(k->ocsp_url, sizeof(k->ocsp_url), "%s", p->ocsp_url != NULL ? p->ocsp_url : "");
	snprintf(k->policy_oid, sizeof(k->policy_oid), "%s", p->policy_oid != NULL ? p->policy_oid : "");
	snprintf(k->organization, sizeof(k->organization), "%s",
	         p->organization != NULL && *p->organization != '\0' ? p->organization : "inkan");
	k->params.crl_url = k->crl_url[0] != '\0' ? k->crl_url : NULL;
	k->params.arl_url = k->arl_url[0] != '\0' ? k->arl_url : NULL;
	k->params.ocsp_url = k->ocsp_url[0] != '\0' ? k->ocsp_url : NULL;
	k->params.policy_oid = k->policy_oid[0] != '\0' ? k->policy_oid : NULL;
	k->params.organization = k->organization;
	if (k->params.level < 1 || k->params.level > 4 || k->params.cert_days < 1 ||
	    k->params.cert_minutes < 0 ||
	    k->params.max_pin_failures < 1 || (k->params.pin_min_len != 0 &&
	    (k->params.pin_min_len < POLICY_PIN_MIN_LEN || k->params.pin_min_len > POLICY_PIN_MAX)))
		return INK_ERR_CONFIG;
	k->params.external_ca_file = NULL;
	if ((r = keys_extca_load(k, p->external_ca_file)) != 0)
		return r;
	/* inkan p11: key_backend = pkcs11 opens the token session here (keys_close closes it). */
	k->params.key_backend = "soft";
	k->params.pkcs11_module = k->params.pkcs11_allowed_modules = NULL;
	k->params.pkcs11_token_label = k->params.pkcs11_pin_file = NULL;
	keys_p11_close(k->p11);
	k->p11 = NULL;
	if (p->key_backend == NULL || *p->key_backend == '\0' || strcmp(p->key_backend, "soft") == 0)
		return 0;
	if (strcmp(p->key_backend, "pkcs11") != 0) {
		log_error("key_backend must be soft or pkcs11");
		return INK_ERR_CONFIG;
	}
	k->params.key_backend = "pkcs11";
	return keys_p11_open(k->dir, p, &k->p11);
}

static int
store_ca(struct keys *k, const char *name, EVP_PKEY *key, X509 *cert)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	uint8_t *der = NULL, *sealed = NULL, *cder = NULL;
	size_t sealed_len = 0, clen = 0;
	struct ksdb_stmt *st = NULL;
	int n = 0, r = INK_ERR_CRYPTO;

	if ((p8 = EVP_PKEY2PKCS8(key)) == NULL || (n = i2d_PKCS8_PRIV_KEY_INFO(p8, &der)) <= 0 ||
	    n > CA_KEY_MAX)
		goto out;
	if ((sealed = malloc((size_t)n + KEYS_SEAL_OVERHEAD)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if ((r = keys_seal(k, CA_PURPOSE, (const uint8_t *)name, strlen(name), der, (size_t)n,
	                   sealed, &sealed_len)) != 0 ||
	    (r = ca_cert_der(cert, &cder, &clen)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_prepare(k->db, "INSERT INTO ca (name, blob, cert) VALUES (?1, ?2, ?3) ON CONFLICT (name) "
	                       "DO UPDATE SET blob = excluded.blob, cert = excluded.cert", &st) != KSDB_OK)
		goto out;
	ksdb_bind_text(st, 1, name, -1);
	ksdb_bind_blob(st, 2, sealed, sealed_len);
	ksdb_bind_blob(st, 3, cder, clen);
	if (ksdb_step(st) != KSDB_DONE)
		goto out;
	r = 0;
out:
	ksdb_finalize(st);
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)n);
	PKCS8_PRIV_KEY_INFO_free(p8);
	free(sealed);
	free(cder);
	return r;
}

int
keys_ca_store(struct keys *k, const char *name, EVP_PKEY *key, X509 *cert)
{
	return store_ca(k, name, key, cert);
}

/* Loads one CA's certificate, and its private key when key != NULL. */
static int
load_ca(struct keys *k, const char *name, EVP_PKEY **key, X509 **cert)
{
	struct ksdb_stmt *st = NULL;
	const uint8_t *blob;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	int blen, rc, r = INK_ERR_STORE;

	if (key != NULL)
		*key = NULL;
	*cert = NULL;
	if (ksdb_prepare(k->db, "SELECT blob, cert FROM ca WHERE name = ?1", &st) !=
	    KSDB_OK)
		goto out;
	ksdb_bind_text(st, 1, name, -1);
	rc = ksdb_step(st);
	if (rc == KSDB_DONE) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != KSDB_ROW)
		goto out;
	if ((r = ca_cert_from_der(ksdb_column_blob(st, 1), ksdb_column_bytes(st, 1),
	                          cert)) != 0)
		goto out;
	if (key != NULL) {
		blob = ksdb_column_blob(st, 0);
		blen = ksdb_column_bytes(st, 0);
		if (blob == NULL || blen <= 0 || blen > CA_KEY_MAX + KEYS_SEAL_OVERHEAD ||
		    (pt = secmem_alloc((size_t)blen)) == NULL) {
			r = INK_ERR_STORE;
			goto out;
		}
		if ((r = keys_unseal(k, CA_PURPOSE, (const uint8_t *)name, strlen(name), blob,
		                     (size_t)blen, pt, &ptlen)) != 0)
			goto out;
		if ((r = keys_decode_private(k, KEYS_DEC_ANY, pt, ptlen, key)) != 0)
			goto out;
	}
	r = 0;
out:
	if (r != 0) {
		X509_free(*cert);
		*cert = NULL;
	}
	secmem_free(pt);
	ksdb_finalize(st);
	return r;
}

int
keys_ca_load(struct keys *k, const char *name, EVP_PKEY **key, X509 **cert)
{
	return load_ca(k, name, key, cert);
}

static int
save_crl(struct keys *k, int64_t number, const uint8_t *der, size_t len)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, "INSERT INTO crl (id, number, made_at, der) VALUES (1, ?1, ?2, ?3) "
	                       "ON CONFLICT(id) DO UPDATE SET number = excluded.number, "
	                       "made_at = excluded.made_at, der = excluded.der", &st) !=
	    KSDB_OK)
		return r;
	ksdb_bind_int64(st, 1, number);
	ksdb_bind_int64(st, 2, ink_now());
	ksdb_bind_blob(st, 3, der, len);
	if (ksdb_step(st) == KSDB_DONE)
		r = 0;
	ksdb_finalize(st);
	return r;
}

int
keys_ca_crl_renew(struct keys *k, int64_t after)
{
	struct ksdb_stmt *st = NULL;
	struct ca_revoked *list = NULL, *nl;
	char **serials = NULL, **ns;
	size_t n = 0, i;
	int64_t number = 1;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_CRL *crl = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int rc, r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, "SELECT number FROM crl WHERE id = 1", &st) != KSDB_OK)
		goto out;
	if (ksdb_step(st) == KSDB_ROW)
		number = ksdb_column_int64(st, 0) + 1;
	if (after >= number)
		number = after + 1;
	ksdb_finalize(st);
	st = NULL;
	if (ksdb_prepare(k->db, "SELECT serial, revoked_at, reason FROM revoked ORDER BY serial", &st) != KSDB_OK)
		goto out;
	while ((rc = ksdb_step(st)) == KSDB_ROW) {
		if ((nl = realloc(list, (n + 1) * sizeof(*list))) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		list = nl;
		if ((ns = realloc(serials, (n + 1) * sizeof(*serials))) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		serials = ns;
		if ((serials[n] = strdup(ksdb_column_text(st, 0))) == NULL) {
			r = INK_ERR_ALLOC;
			goto out;
		}
		list[n].serial_hex = serials[n];
		list[n].revoked_at = ksdb_column_int64(st, 1);
		list[n].reason = ksdb_column_int(st, 2);
		n++;
	}
	if (rc != KSDB_DONE)
		goto out;
	if ((r = load_ca(k, "issuing", &key, &cert)) != 0 ||
	    (r = ca_make_crl(key, cert, list, n, number, CA_CRL_NEXT_DAYS, &crl)) != 0 ||
	    (r = ca_crl_der(crl, &der, &derlen)) != 0 || (r = save_crl(k, number, der, derlen)) != 0)
		goto out;
	r = 0;
out:
	ksdb_finalize(st);
	for (i = 0; i < n; i++)
		free(serials[i]);
	free(serials);
	free(list);
	free(der);
	X509_CRL_free(crl);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

int
keys_ca_init(struct keys *k)
{
	struct ca_subject subj = { .organization = k->organization, .country = "JP" };
	EVP_PKEY *rk = NULL, *ik = NULL, *tk = NULL;
	X509 *rc = NULL, *ic = NULL, *tc = NULL;
	char cn[3][96];
	int r;

	if ((r = load_ca(k, "root", NULL, &rc)) != INK_ERR_NOT_FOUND) {
		X509_free(rc);
		return r == 0 ? INK_ERR_EXISTS : r;
	}
	snprintf(cn[0], sizeof(cn[0]), "%.60s Root CA", k->organization);
	snprintf(cn[1], sizeof(cn[1]), "%.60s Issuing CA", k->organization);
	snprintf(cn[2], sizeof(cn[2]), "%.60s TSA", k->organization);
	subj.common_name = cn[0];
	if ((r = ca_make_root(&subj, CA_ROOT_DAYS, &rk, &rc)) != 0)
		goto out;
	subj.common_name = cn[1];
	/* The issuing CA's own revocation is on the root's list, not on the one it signs. */
	if ((r = ca_make_issuing(rk, rc, &subj, CA_ISSUING_DAYS, k->params.arl_url, &ik, &ic)) != 0)
		goto out;
	subj.common_name = cn[2];
	if ((r = ca_make_tsa(ik, ic, &subj, CA_TSA_DAYS, k->params.crl_url, &tk, &tc)) != 0)
		goto out;
	if ((r = keys_begin(k)) != 0)
		goto out;
	if ((r = store_ca(k, "root", rk, rc)) != 0 || (r = store_ca(k, "issuing", ik, ic)) != 0 ||
	    (r = store_ca(k, "tsa", tk, tc)) != 0 || (r = keys_ca_crl_renew(k, 0)) != 0 ||
	    (r = keys_ocsp_ensure(k)) != 0) {
		(void)keys_exec(k, "ROLLBACK");
		goto out;
	}
	r = keys_exec(k, "COMMIT");
out:
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(tk);
	X509_free(rc);
	X509_free(ic);
	X509_free(tc);
	return r;
}

static int
append_pem(BIO *bio, struct keys *k, const char *name)
{
	X509 *c = NULL;
	int r;

	if ((r = load_ca(k, name, NULL, &c)) != 0)
		return r;
	r = PEM_write_bio_X509(bio, c) == 1 ? 0 : INK_ERR_CRYPTO;
	X509_free(c);
	return r;
}

static int
pem_of(struct keys *k, const char *const *names, size_t n, char **pem)
{
	BIO *bio = NULL;
	char *data;
	long len;
	size_t i;
	int r = INK_ERR_ALLOC;

	*pem = NULL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return INK_ERR_ALLOC;
	for (i = 0; i < n; i++)
		if ((r = append_pem(bio, k, names[i])) != 0)
			goto out;
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || (*pem = malloc((size_t)len + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*pem, data, (size_t)len);
	(*pem)[len] = '\0';
	r = 0;
out:
	BIO_free(bio);
	return r;
}

int
keys_ca_chain_pem(struct keys *k, char **pem)
{
	static const char *const names[] = { "issuing", "root" };

	return pem_of(k, names, 2, pem);
}

int
keys_ca_root_pem(struct keys *k, char **pem)
{
	static const char *const names[] = { "root" };

	return pem_of(k, names, 1, pem);
}

int
keys_ca_tsa_pem(struct keys *k, char **pem)
{
	static const char *const names[] = { "tsa" };

	return pem_of(k, names, 1, pem);
}

int
keys_ca_crl(struct keys *k, uint8_t **der, size_t *len)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE, rc;
	bool stale = true;

	*der = NULL;
	*len = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (ksdb_prepare(k->db, "SELECT der, made_at FROM crl WHERE id = 1", &st) != KSDB_OK)
			return INK_ERR_STORE;
		rc = ksdb_step(st);
		if (rc == KSDB_ROW) {
			stale = ink_now() - ksdb_column_int64(st, 1) > CA_CRL_REFRESH;
			if (!stale || pass == 1) {
				int n = ksdb_column_bytes(st, 0);

				if (n <= 0 || (*der = malloc((size_t)n)) == NULL) {
					r = INK_ERR_ALLOC;
					break;
				}
				memcpy(*der, ksdb_column_blob(st, 0), (size_t)n);
				*len = (size_t)n;
				r = 0;
				break;
			}
		} else if (rc != KSDB_DONE || pass == 1) {
			r = rc == KSDB_DONE ? INK_ERR_NOT_FOUND : INK_ERR_STORE;
			break;
		}
		ksdb_finalize(st);
		st = NULL;
		/* Missing or old: a fresh one, so nextUpdate is always ahead of relying parties. */
		if ((r = keys_ca_crl_renew(k, 0)) != 0)
			return r;
	}
	ksdb_finalize(st);
	return r;
}

int
keys_ca_arl(struct keys *k, uint8_t **der, size_t *len)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_CRL *crl = NULL;
	uint8_t *fresh = NULL;
	size_t flen = 0;
	int64_t now = ink_now();
	int r;

	*der = NULL;
	*len = 0;
	if (k->arl == NULL || now - k->arl_made > CA_CRL_REFRESH || now < k->arl_made) {
		/* The time as crlNumber: increasing without any state kept. */
		if ((r = load_ca(k, "root", &key, &cert)) != 0 ||
		    (r = ca_make_crl(key, cert, NULL, 0, now, CA_CRL_NEXT_DAYS, &crl)) != 0 ||
		    (r = ca_crl_der(crl, &fresh, &flen)) != 0)
			goto out;
		free(k->arl);
		k->arl = fresh;
		k->arl_len = flen;
		k->arl_made = now;
		fresh = NULL;
	}
	if ((*der = malloc(k->arl_len)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*der, k->arl, k->arl_len);
	*len = k->arl_len;
	r = 0;
out:
	free(fresh);
	X509_CRL_free(crl);
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

int
keys_ca_issue(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj, uint8_t **der,
              size_t *len, char serial_hex[static 41], int64_t *not_before, int64_t *not_after)
{
	struct ca_subject cs = {
		.common_name = subj->common_name,
		.organization = k->organization,
		.country = "JP",
		.serial_number = subj->serial_number,
	};
	const struct ca_urls urls = { .crl = k->params.crl_url, .ocsp = k->params.ocsp_url };
	EVP_PKEY *ik = NULL;
	X509 *ic = NULL, *cert = NULL;
	char s33[33], sd[512], id[512], ser[41];
	int r;

	*der = NULL;
	*len = 0;
	serial_hex[0] = '\0';
	if ((r = load_ca(k, "issuing", &ik, &ic)) != 0)
		goto out;
	if ((r = ca_issue_signer_ex(ik, ic, pkey, &cs, k->params.level, k->params.policy_oid, &urls,
	                            k->params.cert_days, k->params.cert_minutes, &cert, s33)) != 0)
		goto out;
	if ((r = ca_cert_der(cert, der, len)) != 0 ||
	    (r = ca_cert_info(cert, sd, sizeof(sd), id, sizeof(id), ser, not_before, not_after)) != 0)
		goto out;
	snprintf(serial_hex, 41, "%s", s33);
out:
	if (r != 0) {
		free(*der);
		*der = NULL;
		*len = 0;
	}
	X509_free(cert);
	X509_free(ic);
	EVP_PKEY_free(ik);
	return r;
}

int
keys_ca_csr(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj,
            const struct ca_signer *ext, uint8_t **der, size_t *len)
{
	struct ca_subject cs = {
		.common_name = subj->common_name,
		.organization = k->organization,
		.country = "JP",
		.serial_number = subj->serial_number,
	};
	X509_REQ *req = NULL;
	uint8_t *p = NULL;
	int n, r;

	*der = NULL;
	*len = 0;
	if ((r = ca_make_csr(pkey, &cs, ext, &req)) != 0)
		return r;
	if ((n = i2d_X509_REQ(req, &p)) <= 0 || (*der = malloc((size_t)n)) == NULL) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	r = 0;
out:
	OPENSSL_free(p);
	X509_REQ_free(req);
	return r;
}

int
keys_ca_revoke(struct keys *k, const char *serial_hex, int reason, int64_t when)
{
	struct ksdb_stmt *st = NULL;
	int r = INK_ERR_STORE;

	if (ksdb_prepare(k->db, "INSERT INTO revoked (serial, revoked_at, reason) "
	                       "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", &st) != KSDB_OK)
		return r;
	ksdb_bind_text(st, 1, serial_hex, -1);
	ksdb_bind_int64(st, 2, when);
	ksdb_bind_int64(st, 3, reason);
	if (ksdb_step(st) == KSDB_DONE)
		r = 0;
	ksdb_finalize(st);
	if (r != 0)
		return r;
	keys_ocsp_forget(k);
	return keys_ca_crl_renew(k, 0);
}

int
keys_ca_crl_witness(struct keys *k, const uint8_t *der, size_t len, size_t *added,
                    int64_t *number)
{
	struct ca_crl_entry *v = NULL;
	struct ksdb_stmt *st = NULL;
	X509 *cert = NULL;
	int64_t now = ink_now();
	size_t n = 0, i;
	int r;

	*added = 0;
	*number = 0;
	if ((r = load_ca(k, "issuing", NULL, &cert)) != 0 ||
	    (r = ca_crl_read(der, len, cert, &v, &n, number)) != 0)
		goto out;
	r = INK_ERR_STORE;
	if (ksdb_prepare(k->db, "INSERT INTO revoked (serial, revoked_at, reason) "
	                       "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING", &st) != KSDB_OK)
		goto out;
	for (i = 0; i < n; i++) {
		ksdb_reset(st);
		ksdb_bind_text(st, 1, v[i].serial_hex, -1);
		/* Another node's clock may run ahead: the CRL we make refuses future dates. */
		ksdb_bind_int64(st, 2, v[i].revoked_at < now ? v[i].revoked_at : now);
		ksdb_bind_int64(st, 3, v[i].reason);
		if (ksdb_step(st) != KSDB_DONE)
			goto out;
		*added += (size_t)ksdb_changes(k->db);
	}
	keys_ocsp_forget(k);
	r = 0;
out:
	if (r != 0) {
		*added = 0;
		*number = 0;
	}
	ksdb_finalize(st);
	X509_free(cert);
	free(v);
	return r;
}

/* The TSA's key and certificates, loaded under the caller's lock and used without it. */
struct keys_tsa {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
};

void
keys_tsa_free(struct keys_tsa *t)
{
	if (t == NULL)
		return;
	EVP_PKEY_free(t->key);
	X509_free(t->cert);
	sk_X509_pop_free(t->chain, X509_free);
	free(t);
}

int
keys_tsa_open(struct keys *k, struct keys_tsa **out)
{
	struct keys_tsa *t;
	X509 *issuing = NULL;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return INK_ERR_ALLOC;
	if ((rc = load_ca(k, "tsa", &t->key, &t->cert)) != 0 ||
	    (rc = load_ca(k, "issuing", NULL, &issuing)) != 0)
		goto out;
	if ((t->chain = sk_X509_new_null()) == NULL || sk_X509_push(t->chain, issuing) <= 0) {
		rc = INK_ERR_ALLOC;
		goto out;
	}
	issuing = NULL;
	*out = t;
	t = NULL;
out:
	X509_free(issuing);
	keys_tsa_free(t);
	return rc;
}

int
keys_tsa_respond(const struct keys_tsa *t, const char *policy_oid, const struct formats_tsa_req *r,
                 uint8_t **resp, size_t *len, char serial_hex[static 65], int64_t *gen_time)
{
	*resp = NULL;
	*len = 0;
	return formats_tsa_respond(t->key, t->cert, t->chain, policy_oid, r, resp, len, serial_hex,
	                           gen_time);
}

int
keys_tsa_stamp(struct keys *k, const char *policy_oid, const struct formats_tsa_req *r,
               uint8_t **resp, size_t *len, char serial_hex[static 65], int64_t *gen_time)
{
	struct keys_tsa *t = NULL;
	int rc;

	*resp = NULL;
	*len = 0;
	if ((rc = keys_tsa_open(k, &t)) != 0)
		return rc;
	rc = keys_tsa_respond(t, policy_oid, r, resp, len, serial_hex, gen_time);
	keys_tsa_free(t);
	return rc;
}
