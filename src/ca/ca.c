/* ca: the built-in CA's certificates: root, issuing CA, TSA and signers (RFC 5280 profiles). */
#include "ca/ca_int.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <string.h>

#define URL_MAX 2048
#define OID_TEXT_MAX 128
#define CA_CURVE "P-384"
#define TSA_CURVE "P-256"

/* What one certificate is made of; issuer == NULL makes it self-signed. */
/* The longest lifetime given in minutes (short-lived signer certificates): a year. */
#define CA_MINUTES_MAX 525600

struct cert_spec {
	const struct ca_subject *subj;
	EVP_PKEY *pub;
	EVP_PKEY *issuer_key;
	X509 *issuer;
	int days;
	int minutes;              /* instead of days when not 0 */
	const char *crl_url;
	const char *ocsp_url;     /* authorityInfoAccess id-ad-ocsp; NULL for none */
	bool ocsp_nocheck;        /* id-pkix-ocsp-nocheck (an OCSP responder's certificate) */
	const char *policy_oid;   /* certificatePolicies, dotted; NULL for none */
	const char *basic;        /* basicConstraints, config syntax */
	const char *key_usage;
	const char *ext_key_usage; /* NULL for none */
};

static bool
url_ok(const char *url)
{
	size_t n;
	const char *p;

	if (url == NULL)
		return true;
	n = strlen(url);
	if (n > URL_MAX || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    n <= (url[4] == 's' ? 8u : 7u))
		return false;
	for (p = url; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	}
	return true;
}

/* Numeric dotted OID only, arcs without empty parts or leading zeros, first arc 0-2, at least two
 * arcs; never a name OpenSSL would look up. */
static bool
oid_ok(const char *oid)
{
	ASN1_OBJECT *obj;
	const char *p;
	size_t arcs = 0, digits = 0;

	if (oid == NULL)
		return true;
	if (strlen(oid) > OID_TEXT_MAX || oid[0] < '0' || oid[0] > '2' || oid[1] != '.')
		return false;
	for (p = oid;; p++) {
		if (*p >= '0' && *p <= '9') {
			if (digits == 1 && p[-1] == '0')
				return false;
			digits++;
		} else if (*p == '.' || *p == '\0') {
			if (digits == 0)
				return false;
			arcs++;
			digits = 0;
			if (*p == '\0')
				break;
		} else {
			return false;
		}
	}
	if (arcs < 2)
		return false;
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL) {
		ERR_clear_error();
		return false;
	}
	ASN1_OBJECT_free(obj);
	return true;
}

/* A GeneralName uniformResourceIdentifier holding url as it is (no text parsed from it). */
static GENERAL_NAME *
uri_name(const char *url)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;

	if ((ia5 = ASN1_IA5STRING_new()) == NULL || (gn = GENERAL_NAME_new()) == NULL ||
	    ASN1_STRING_set(ia5, url, (int)strlen(url)) != 1) {
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
	return gn;
}

/* The CRL distribution point, built as a structure so that no text is parsed from the URL. */
static int
add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *cdp = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *gn = NULL;
	int r = INK_ERR_ALLOC;

	if ((gn = uri_name(url)) == NULL ||
	    (dp = DIST_POINT_new()) == NULL || (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (cdp = sk_DIST_POINT_new_null()) == NULL)
		goto out;
	dp->distpoint->type = 0; /* fullName */
	if (sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn) <= 0)
		goto out;
	gn = NULL;
	if (sk_DIST_POINT_push(cdp, dp) <= 0)
		goto out;
	dp = NULL;
	r = INK_ERR_CRYPTO;
	if (X509_add1_ext_i2d(x, NID_crl_distribution_points, cdp, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	CRL_DIST_POINTS_free(cdp);
	DIST_POINT_free(dp);
	GENERAL_NAME_free(gn);
	return r;
}

/* authorityInfoAccess with one id-ad-ocsp URI, built as a structure like the CRL DP. */
static int
add_aia_ocsp(X509 *x, const char *url)
{
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	GENERAL_NAME *gn = NULL;
	int r = INK_ERR_ALLOC;

	if ((gn = uri_name(url)) == NULL || (ad = ACCESS_DESCRIPTION_new()) == NULL ||
	    (aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL)
		goto out;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(NID_ad_OCSP);
	GENERAL_NAME_free(ad->location);
	ad->location = gn;
	gn = NULL;
	if (sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0)
		goto out;
	ad = NULL;
	r = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) == 1 ? 0 : INK_ERR_CRYPTO;
out:
	AUTHORITY_INFO_ACCESS_free(aia);
	ACCESS_DESCRIPTION_free(ad);
	GENERAL_NAME_free(gn);
	return r;
}

static int
add_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	int r = INK_ERR_ALLOC;

	if ((cp = sk_POLICYINFO_new_null()) == NULL || (pi = POLICYINFO_new()) == NULL)
		goto out;
	ASN1_OBJECT_free(pi->policyid);
	if ((pi->policyid = OBJ_txt2obj(oid, 1)) == NULL) {
		r = INK_ERR_INVALID;
		goto out;
	}
	if (sk_POLICYINFO_push(cp, pi) <= 0)
		goto out;
	pi = NULL;
	r = INK_ERR_CRYPTO;
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = 0;
out:
	CERTIFICATEPOLICIES_free(cp);
	POLICYINFO_free(pi);
	return r;
}

static int
make_cert(const struct cert_spec *s, X509 **out, char serial_hex[static 33])
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	const EVP_MD *md = NULL;
	EVP_PKEY *signer = s->issuer != NULL ? s->issuer_key : s->pub;
	int r;

	*out = NULL;
	serial_hex[0] = '\0';
	if (s->days < 1 || s->days > CA_DAYS_MAX || s->minutes < 0 || s->minutes > CA_MINUTES_MAX ||
	    !url_ok(s->crl_url) || !url_ok(s->ocsp_url) ||
	    !oid_ok(s->policy_oid))
		return INK_ERR_INVALID;
	if ((r = ca_int_name(s->subj, &name)) != 0)
		goto out;
	if ((r = ca_int_check_key(signer, NULL, 0)) != 0 || (r = ca_int_digest(signer, &md)) != 0)
		goto out;
	r = INK_ERR_ALLOC;
	if ((x = X509_new()) == NULL)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_set_version(x, X509_VERSION_3) != 1)
		goto out;
	if ((r = ca_int_set_serial(x)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_SECS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), s->minutes > 0 ? 0 : s->days,
	                     s->minutes > 0 ? 60L * s->minutes : 0, NULL) == NULL)
		goto out;
	/* A certificate that outlives its issuer would stop verifying before its own end. */
	if (s->issuer != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(s->issuer)) > 0 &&
	    X509_set1_notAfter(x, X509_get0_notAfter(s->issuer)) != 1)
		goto out;
	if (X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer) : name) != 1 ||
	    X509_set_pubkey(x, s->pub) != 1)
		goto out;
	if ((r = ca_int_add_ext(x, s->issuer, NID_basic_constraints, s->basic)) != 0 ||
	    (r = ca_int_add_ext(x, s->issuer, NID_key_usage, s->key_usage)) != 0 ||
	    (r = ca_int_add_ext(x, s->issuer, NID_subject_key_identifier, "hash")) != 0)
		goto out;
	if (s->issuer != NULL &&
	    (r = ca_int_add_ext(x, s->issuer, NID_authority_key_identifier, "keyid:always")) != 0)
		goto out;
	if (s->ext_key_usage != NULL &&
	    (r = ca_int_add_ext(x, s->issuer, NID_ext_key_usage, s->ext_key_usage)) != 0)
		goto out;
	if (s->policy_oid != NULL && (r = add_policy(x, s->policy_oid)) != 0)
		goto out;
	if (s->crl_url != NULL && (r = add_crl_dp(x, s->crl_url)) != 0)
		goto out;
	if (s->ocsp_url != NULL && (r = add_aia_ocsp(x, s->ocsp_url)) != 0)
		goto out;
	/* RFC 6960 4.2.2.2.1: relying parties need not check the responder's own status. */
	if (s->ocsp_nocheck &&
	    (r = ca_int_add_ext(x, s->issuer, NID_id_pkix_OCSP_noCheck, "ignored")) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if (X509_sign(x, signer, md) <= 0)
		goto out;
	if ((r = ca_int_serial_hex(X509_get0_serialNumber(x), serial_hex, 33)) != 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
out:
	if (r != 0)
		serial_hex[0] = '\0';
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

/* A new key on curve, and a certificate for it following s (s->pub is filled in here). */
static int
make_key_and_cert(struct cert_spec *s, const char *curve, EVP_PKEY **key, X509 **cert)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	char serial[33];
	int r = INK_ERR_CRYPTO;

	*key = NULL;
	*cert = NULL;
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve)) == NULL)
		goto out;
	s->pub = k;
	if (s->issuer == NULL)
		s->issuer_key = k;
	if ((r = make_cert(s, &x, serial)) != 0)
		goto out;
	*key = k;
	k = NULL;
	*cert = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return r;
}

int
ca_make_root(const struct ca_subject *subj, int days, EVP_PKEY **key, X509 **cert)
{
	struct cert_spec s = {
		.subj = subj, .days = days,
		.basic = "critical,CA:TRUE",
		.key_usage = "critical,keyCertSign,cRLSign",
	};

	if (key != NULL)
		*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	if (subj == NULL || key == NULL || cert == NULL)
		return INK_ERR_INVALID;
	return make_key_and_cert(&s, CA_CURVE, key, cert);
}

int
ca_make_issuing(EVP_PKEY *root_key, X509 *root, const struct ca_subject *subj, int days,
                const char *crl_url, EVP_PKEY **key, X509 **cert)
{
	struct cert_spec s = {
		.subj = subj, .issuer_key = root_key, .issuer = root, .days = days,
		.crl_url = crl_url,
		/* anyPolicy: this CA may issue under whatever policy OID the service is configured
		 * with, and RFC 5280 policy processing then still finds a valid policy tree. */
		.policy_oid = "2.5.29.32.0",
		.basic = "critical,CA:TRUE,pathlen:0",
		.key_usage = "critical,keyCertSign,cRLSign",
	};
	int r;

	if (key != NULL)
		*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	if (subj == NULL || key == NULL || cert == NULL)
		return INK_ERR_INVALID;
	if ((r = ca_int_check_issuer(root_key, root, KU_KEY_CERT_SIGN)) != 0)
		return r;
	return make_key_and_cert(&s, CA_CURVE, key, cert);
}

/* A new TSA_CURVE key and an end-entity certificate for it from the issuing CA, after s. */
static int
make_end_entity(struct cert_spec *s, EVP_PKEY **key, X509 **cert)
{
	int r;

	if (key != NULL)
		*key = NULL;
	if (cert != NULL)
		*cert = NULL;
	if (s->subj == NULL || key == NULL || cert == NULL)
		return INK_ERR_INVALID;
	if ((r = ca_int_check_issuer(s->issuer_key, s->issuer, KU_KEY_CERT_SIGN)) != 0)
		return r;
	return make_key_and_cert(s, TSA_CURVE, key, cert);
}

int
ca_make_tsa(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_subject *subj, int days,
            const char *crl_url, EVP_PKEY **key, X509 **cert)
{
	struct cert_spec s = {
		.subj = subj, .issuer_key = issuer_key, .issuer = issuer, .days = days,
		.crl_url = crl_url,
		.basic = "critical,CA:FALSE",
		.key_usage = "critical,digitalSignature,nonRepudiation",
		/* RFC 3161 2.3: exactly one purpose, timeStamping, and the extension critical. */
		.ext_key_usage = "critical,timeStamping",
	};

	return make_end_entity(&s, key, cert);
}

int
ca_make_ocsp(EVP_PKEY *issuer_key, X509 *issuer, const struct ca_subject *subj, int days,
             EVP_PKEY **key, X509 **cert)
{
	/* RFC 6960 4.2.2.2: a delegated responder is named by id-kp-OCSPSigning from the CA that
	 * issued the certificates it answers for; no CRL DP, since nocheck says not to look. */
	struct cert_spec s = {
		.subj = subj, .issuer_key = issuer_key, .issuer = issuer, .days = days,
		.ocsp_nocheck = true,
		.basic = "critical,CA:FALSE",
		.key_usage = "critical,digitalSignature",
		.ext_key_usage = "critical,OCSPSigning",
	};

	return make_end_entity(&s, key, cert);
}

int
ca_issue_signer(EVP_PKEY *issuer_key, X509 *issuer, EVP_PKEY *subject_key,
                const struct ca_subject *subj, int level, const char *policy_oid,
                const char *crl_url, int days, X509 **cert, char serial_hex[static 33])
{
	const struct ca_urls urls = { .crl = crl_url };

	return ca_issue_signer_ex(issuer_key, issuer, subject_key, subj, level, policy_oid, &urls,
	                          days, 0, cert, serial_hex);
}

int
ca_issue_signer_ex(EVP_PKEY *issuer_key, X509 *issuer, EVP_PKEY *subject_key,
                   const struct ca_subject *subj, int level, const char *policy_oid,
                   const struct ca_urls *urls, int days, int minutes, X509 **cert,
                   char serial_hex[static 33])
{
	/* Signing-only keys at every level; level 3-4 (DESIGN.md §1) require exactly this, and
	 * giving lower levels more would only widen what a stolen key could do. */
	struct cert_spec s = {
		.subj = subj, .pub = subject_key, .issuer_key = issuer_key, .issuer = issuer,
		.days = days, .minutes = minutes, .crl_url = urls->crl, .ocsp_url = urls->ocsp,
		.policy_oid = policy_oid,
		.basic = "critical,CA:FALSE",
		.key_usage = "critical,digitalSignature,nonRepudiation",
	};
	char why[256];
	int r;

	serial_hex[0] = '\0';
	if (cert != NULL)
		*cert = NULL;
	if (subj == NULL || subject_key == NULL || cert == NULL || level < 1 || level > 4)
		return INK_ERR_INVALID;
	if ((r = ca_int_check_issuer(issuer_key, issuer, KU_KEY_CERT_SIGN)) != 0)
		return r;
	if (EVP_PKEY_eq(subject_key, issuer_key) == 1) {
		log_bug("refusing to certify the CA's own key as a signer");
		return INK_ERR_INVALID;
	}
	ERR_clear_error();
	if ((r = ca_int_check_key(subject_key, why, sizeof(why))) != 0) {
		log_op("subject key refused: %s", why);
		return r;
	}
	return make_cert(&s, cert, serial_hex);
}
