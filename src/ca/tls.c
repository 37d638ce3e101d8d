/* tls: the self-signed P-256 certificate the embedded default serves HTTPS with on localhost. */
#include "ca/ca.h"
#include "ca/ca_int.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TLS_CN "inkan TLS (localhost)"
#define TLS_DAYS_MAX 3650
/* Accept a client whose clock runs a little behind ours. */
#define TLS_BACKDATE_SECS 300

static int
make_cert(EVP_PKEY *pkey, int days, X509 **out)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	int r = INK_ERR_CRYPTO;

	*out = NULL;
	if ((x = X509_new()) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if ((r = ca_int_set_serial(x)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -TLS_BACKDATE_SECS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL)
		goto out;
	if ((name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)TLS_CN,
	                               -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1)
		goto out;
	if (X509_set_pubkey(x, pkey) != 1)
		goto out;
	if ((r = ca_int_add_ext(x, NULL, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
	    (r = ca_int_add_ext(x, NULL, NID_key_usage, "critical,digitalSignature")) != 0 ||
	    (r = ca_int_add_ext(x, NULL, NID_ext_key_usage, "serverAuth")) != 0 ||
	    (r = ca_int_add_ext(x, NULL, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")) != 0 ||
	    (r = ca_int_add_ext(x, NULL, NID_subject_key_identifier, "hash")) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

/* Writes what bio holds to path with mode, then wipes the bio's copy. */
static int
write_bio(BIO *bio, const char *path, unsigned mode)
{
	char *data = NULL;
	long len;
	int r;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0 || data == NULL)
		return INK_ERR_CRYPTO;
	r = ink_write_file(path, data, (size_t)len, mode);
	OPENSSL_cleanse(data, (size_t)len);
	return r;
}

int
ca_make_tls_cert(const char *cert_path, const char *key_path, int days)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *kbio = NULL, *cbio = NULL;
	bool key_written = false;
	int r = INK_ERR_INTERNAL;

	if (cert_path == NULL || key_path == NULL || days < 1 || days > TLS_DAYS_MAX)
		return INK_ERR_INVALID;
	r = INK_ERR_CRYPTO;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		goto out;
	if ((r = make_cert(pkey, days, &x)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	/* PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("BEGIN PRIVATE KEY"), which both
	 * OpenSSL and GnuTLS (libmicrohttpd) load. */
	if ((kbio = BIO_new(BIO_s_mem())) == NULL || (cbio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_X509(cbio, x) != 1)
		goto out;
	if ((r = write_bio(kbio, key_path, 0600)) != 0)
		goto out;
	key_written = true;
	if ((r = write_bio(cbio, cert_path, 0644)) != 0)
		goto out;
	r = 0;
out:
	/* A key without its certificate is useless and would be mistaken for a pair next time. */
	if (r != 0 && key_written)
		(void)unlink(key_path);
	BIO_free(kbio);
	BIO_free(cbio);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}

void
ca_cert_facts(const char *pem, struct ca_cert_facts *t)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk;
	struct tm tm;

	memset(t, 0, sizeof(*t));
	if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	t->present = true;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		t->not_after = (int64_t)timegm(&tm);
	X509_NAME_oneline(X509_get_subject_name(x), t->subject, sizeof(t->subject));
	if ((pk = X509_get0_pubkey(x)) != NULL)
		snprintf(t->key, sizeof(t->key), "%s-%d", EVP_PKEY_get0_type_name(pk),
		         EVP_PKEY_get_bits(pk));
out:
	X509_free(x);
	BIO_free(bio);
}
