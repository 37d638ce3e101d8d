/* extcert: a certificate from an external CA is linked to a pending key only when it chains to a
 * CA the security officer configured, is for that key, names exactly the signer the SAM
 * registered, and carries the key usage the assurance level requires. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ca/ca.h"

#define EXTCA_FILE_MAX (1024 * 1024)
#define EXTCA_CERTS_MAX 64
/* The registered subject's columns are at most this long (SAM_CN_MAX, user ids). */
#define EXTCERT_NAME_MAX 256

/* Subject attributes that name no person: where the signer works, not who they are. The
 * commonName and serialNumber are compared with the registered ones; anything else (givenName,
 * surname, pseudonym, emailAddress, uid, title, ...) is a name the SAM did not register. */
static const int neutral_nids[] = {
	NID_countryName, NID_stateOrProvinceName, NID_localityName, NID_organizationName,
	NID_organizationalUnitName, NID_organizationIdentifier,
};

/* Reads the whole file at path into *out (malloc'd, NUL-terminated) after checking that nobody
 * but root or us can have written it: the SAM's trust must not follow a file inkand can edit. */
static int
read_trusted_file(const char *path, char **out, size_t *outlen)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = INK_ERR_CONFIG;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_error("external_ca_file %s: %s", path, strerror(errno));
		return INK_ERR_CONFIG;
	}
	if (fstat(fd, &st) != 0) {
		log_error("external_ca_file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 022) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		log_error("external_ca_file %s: must be a regular file owned by root or by the SAM's "
		          "user and writable by nobody else", path);
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > EXTCA_FILE_MAX) {
		log_error("external_ca_file %s: empty or larger than %d bytes", path, EXTCA_FILE_MAX);
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("external_ca_file %s: short read", path);
			goto out;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*outlen = got;
	data = NULL;
	r = 0;
out:
	free(data);
	close(fd);
	return r;
}

/* The PEM certificates of data into a new store: CA certificates only, one self-signed at least
 * (a chain must end at a root the officer chose; no partial chains). */
static int
store_of_pem(const char *path, const char *data, size_t len, X509_STORE **out)
{
	X509_STORE *store = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	size_t n = 0, roots = 0;
	unsigned long e;
	int r = INK_ERR_ALLOC;

	*out = NULL;
	ERR_clear_error();
	if ((store = X509_STORE_new()) == NULL ||
	    (bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		goto out;
	r = INK_ERR_CONFIG;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (++n > EXTCA_CERTS_MAX) {
			log_error("external_ca_file %s: more than %d certificates", path, EXTCA_CERTS_MAX);
			goto out;
		}
		if (X509_check_ca(x) == 0) {
			log_error("external_ca_file %s: certificate %zu is not a CA certificate", path, n);
			goto out;
		}
		if (X509_check_issued(x, x) == X509_V_OK)
			roots++;
		if (X509_STORE_add_cert(store, x) != 1) {
			log_error("external_ca_file %s: certificate %zu cannot be added", path, n);
			goto out;
		}
		X509_free(x);
		x = NULL;
	}
	/* The loop ends on "no start line" at the end; anything else is a damaged block. */
	e = ERR_peek_last_error();
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		log_error("external_ca_file %s: unreadable after certificate %zu", path, n);
		goto out;
	}
	ERR_clear_error();
	if (n == 0 || roots == 0) {
		log_error("external_ca_file %s: %s", path, n == 0 ? "no PEM certificate in it" :
		          "no self-signed root CA in it (certificates must chain to one)");
		goto out;
	}
	/* RFC 5280 profile checks on every certificate of the chain, times included. */
	if (X509_STORE_set_flags(store, X509_V_FLAG_X509_STRICT) != 1) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	log_info("external_ca_file %s: %zu CA certificate(s), %zu root(s)", path, n, roots);
	*out = store;
	store = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	X509_STORE_free(store);
	return r;
}

int
keys_extca_load(struct keys *k, const char *path)
{
	X509_STORE *store = NULL;
	char full[1024], *data = NULL;
	size_t len = 0;
	int r;

	X509_STORE_free(k->ext_ca);
	k->ext_ca = NULL;
	if (path == NULL || *path == '\0')
		return 0;
	if (path[0] == '/')
		r = snprintf(full, sizeof(full), "%s", path) < (int)sizeof(full) ? 0 : INK_ERR_CONFIG;
	else
		r = ink_path(full, sizeof(full), k->dir, path) == 0 ? 0 : INK_ERR_CONFIG;
	if (r != 0) {
		log_error("external_ca_file: path too long");
		return r;
	}
	if ((r = read_trusted_file(full, &data, &len)) != 0 ||
	    (r = store_of_pem(full, data, len, &store)) != 0)
		goto out;
	k->ext_ca = store;
	store = NULL;
out:
	free(data);
	X509_STORE_free(store);
	return r;
}

/* The registered subject of the pending credential id. */
static int
registered_subject(struct keys *k, const char *id, char cn[static EXTCERT_NAME_MAX],
                   char sn[static EXTCERT_NAME_MAX])
{
	struct ksdb_stmt *st = NULL;
	const char *a, *b;
	int rc, r = INK_ERR_STORE;

	cn[0] = sn[0] = '\0';
	if (ksdb_prepare(k->db, "SELECT subject_cn, subject_serial FROM credentials "
	                       "WHERE id = ?1 AND status = ?2", &st) != KSDB_OK)
		return r;
	ksdb_bind_text(st, 1, id, -1);
	ksdb_bind_int64(st, 2, KEYS_PENDING);
	if ((rc = ksdb_step(st)) == KSDB_DONE) {
		r = INK_ERR_NOT_FOUND;
		goto out;
	}
	if (rc != KSDB_ROW)
		goto out;
	a = ksdb_column_text(st, 0);
	b = ksdb_column_text(st, 1);
	if (a == NULL || b == NULL || *a == '\0' || *b == '\0' ||
	    snprintf(cn, EXTCERT_NAME_MAX, "%s", a) >= EXTCERT_NAME_MAX ||
	    snprintf(sn, EXTCERT_NAME_MAX, "%s", b) >= EXTCERT_NAME_MAX) {
		log_bug("credential %s has no usable registered subject", id);
		goto out;
	}
	r = 0;
out:
	ksdb_finalize(st);
	return r;
}

/* True when the entry's value, as UTF-8, is exactly want. */
static bool
entry_is(const X509_NAME_ENTRY *e, const char *want)
{
	unsigned char *utf8 = NULL;
	int n;
	bool same;

	if ((n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		return false;
	}
	same = (size_t)n == strlen(want) && memcmp(utf8, want, (size_t)n) == 0;
	OPENSSL_free(utf8);
	return same;
}

/* The subject must carry exactly one commonName and one serialNumber, the registered ones,
 * and nothing else that names a person. Only attribute names are logged, never values. */
static int
check_subject(X509 *cert, const char *cn, const char *sn)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	const X509_NAME_ENTRY *e;
	int i, nid, ncn = 0, nsn = 0;
	size_t j;
	bool neutral;

	for (i = 0; i < X509_NAME_entry_count(name); i++) {
		e = X509_NAME_get_entry(name, i);
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		if (nid == NID_commonName) {
			if (ncn++ > 0 || !entry_is(e, cn)) {
				log_op("external certificate refused: commonName is not the registered one");
				return INK_ERR_WRONG_SUBJECT;
			}
			continue;
		}
		if (nid == NID_serialNumber) {
			if (nsn++ > 0 || !entry_is(e, sn)) {
				log_op("external certificate refused: serialNumber is not the registered "
				       "signer's");
				return INK_ERR_WRONG_SUBJECT;
			}
			continue;
		}
		neutral = false;
		for (j = 0; j < INK_ARRAY_LEN(neutral_nids); j++)
			neutral = neutral || nid == neutral_nids[j];
		if (!neutral) {
			log_op("external certificate refused: subject attribute %s names someone the SAM "
			       "did not register", nid != NID_undef ? OBJ_nid2sn(nid) : "(unknown OID)");
			return INK_ERR_WRONG_SUBJECT;
		}
	}
	if (ncn != 1 || nsn != 1) {
		log_op("external certificate refused: subject lacks the registered %s",
		       ncn != 1 ? "commonName" : "serialNumber");
		return INK_ERR_WRONG_SUBJECT;
	}
	if (X509_get_ext_by_NID(cert, NID_subject_alt_name, -1) >= 0) {
		log_op("external certificate refused: a subjectAltName names an identity the SAM did "
		       "not register");
		return INK_ERR_WRONG_SUBJECT;
	}
	return 0;
}

/* X509_verify_cert against the configured CAs, at the current time. */
static int
check_chain(struct keys *k, X509 *cert)
{
	X509_STORE_CTX *ctx = NULL;
	int err, depth, r = INK_ERR_ALLOC;

	if ((ctx = X509_STORE_CTX_new()) == NULL)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_STORE_CTX_init(ctx, k->ext_ca, cert, NULL) != 1)
		goto out;
	if (X509_verify_cert(ctx) == 1) {
		r = 0;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	depth = X509_STORE_CTX_get_error_depth(ctx);
	if (depth == 0 && (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)) {
		log_op("external certificate refused: %s", X509_verify_cert_error_string(err));
		r = INK_ERR_EXPIRED;
		goto out;
	}
	log_op("external certificate refused: no chain to a CA of external_ca_file (depth %d: %s)",
	       depth, X509_verify_cert_error_string(err));
	r = INK_ERR_UNTRUSTED;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return r;
}

int
keys_extcert_check(struct keys *k, const char *id, const uint8_t *der, size_t len,
                   EVP_PKEY *pub, char serial_hex[static 41], int64_t *not_before,
                   int64_t *not_after)
{
	X509 *cert = NULL;
	EVP_PKEY *cpub;
	char cn[EXTCERT_NAME_MAX], sn[EXTCERT_NAME_MAX], why[160], sd[512], isd[512];
	int r;

	serial_hex[0] = '\0';
	*not_before = *not_after = 0;
	if (k->ext_ca == NULL) {
		log_op("external certificate refused: external CAs are not accepted (set "
		       "external_ca_file in the SAM's configuration)");
		return INK_ERR_UNSUPPORTED;
	}
	if ((r = registered_subject(k, id, cn, sn)) != 0)
		return r;
	if (ca_cert_from_der(der, len, &cert) != 0) {
		log_op("external certificate refused: not one DER certificate");
		return INK_ERR_INVALID;
	}
	if ((cpub = X509_get0_pubkey(cert)) == NULL || EVP_PKEY_eq(cpub, pub) != 1) {
		ERR_clear_error();
		log_op("external certificate refused: it is for another key than the pending "
		       "credential %s", id);
		r = INK_ERR_WRONG_KEY;
		goto out;
	}
	if ((r = check_subject(cert, cn, sn)) != 0)
		goto out;
	if (ca_check_usage(cert, k->params.level, why, sizeof(why)) != 0) {
		log_op("external certificate refused: %s (assurance level %d)", why, k->params.level);
		r = INK_ERR_KEY_USAGE;
		goto out;
	}
	if ((r = check_chain(k, cert)) != 0)
		goto out;
	/* Version, signature algorithm and digest, key strength: the algorithm policy. */
	if (ca_check_issued(cert, pub, k->params.level, why, sizeof(why)) != 0) {
		log_op("external certificate refused: %s", why);
		r = INK_ERR_POLICY;
		goto out;
	}
	r = ca_cert_info(cert, sd, sizeof(sd), isd, sizeof(isd), serial_hex, not_before, not_after);
	if (r == 0)
		log_info("external certificate for credential %s accepted: serial %s", id, serial_hex);
out:
	X509_free(cert);
	return r;
}
