/* p11: the PKCS#11 backend. Signers' key pairs are generated inside the token and leave it only
 * wrapped (AES key wrap with padding, RFC 5649) under a session key that the token derives from
 * its own non-extractable master secret and a PIN-derived value; to sign, the blob is unwrapped
 * into a sensitive, non-extractable session object, used, and destroyed. The plain private key
 * never exists outside the token. */
#include "keys/keys.h"
#include "keys/keys_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define P11_MASTER_LABEL "inkan-wrap-master"
#define P11_DATA_LABEL "inkan p11 v1"
#define P11_BLOB_VERSION 0x02      /* soft blobs start with 0x01 */
#define P11_BLOB_MAX (16 * 1024)
#define P11_PIN_MAX 256
#define P11_LABEL_LEN 32           /* CK_TOKEN_INFO.label, blank padded */
#define P11_SIG_MAX 1024           /* RSA-4096: 512 bytes; P-521 r||s: 132 bytes */

struct keys_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	bool finalize;             /* we initialised the module: C_Finalize at close */
	CK_SLOT_ID slot;           /* the token's slot (keys_token_info) */
	CK_SESSION_HANDLE session;
	bool have_session;
	bool logged_in;
	CK_OBJECT_HANDLE master;   /* "inkan-wrap-master": AES-256, token, sensitive, never extractable */
};

static CK_BBOOL ck_true = CK_TRUE, ck_false = CK_FALSE;

#define ATTR(t, v) { (t), (void *)(v), sizeof(*(v)) }
#define ATTR_N(t, p, n) { (t), (void *)(p), (n) }

/* ---- opening: allow-listed module, token by label, user login ---- */

/* The module must be an absolute path listed verbatim in the colon-separated allow-list, and
 * it, every directory above it and every link on the way must be root's and writable by
 * nobody else: loaded, it runs inside the SAM with the master key. canon[canonsz] gets its
 * path with the links resolved, which is what is loaded. */
static int
module_allowed(const char *module, const char *allowed, char *canon, size_t canonsz)
{
	const char *p, *e;
	char why[PATH_MAX + 128];
	size_t n;
	struct stat st;
	int r;

	if (module == NULL || *module != '/') {
		log_error("pkcs11_module must be an absolute path");
		return INK_ERR_CONFIG;
	}
	n = strlen(module);
	for (p = allowed != NULL ? allowed : ""; *p != '\0'; p = *e == ':' ? e + 1 : e) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && memcmp(p, module, n) == 0)
			goto listed;
	}
	log_error("pkcs11_module %s is not in pkcs11_allowed_modules", module);
	return INK_ERR_CONFIG;
listed:
	if ((r = ink_path_trusted(module, 0, INK_TRUST_ROOT_ONLY, canon, canonsz, why,
	                          sizeof(why))) != 0) {
		log_error("pkcs11_module %s refused: %s", module, why);
		return INK_ERR_CONFIG;
	}
	if (stat(canon, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("pkcs11_module %s refused: %s is not a regular file", module, canon);
		return INK_ERR_CONFIG;
	}
	return 0;
}

/* True if st is one of the key store's own files in dir: never a token PIN to send to a
 * module. */
static bool
key_store_file(const char *dir, const struct stat *st)
{
	static const char *const names[] = { KEYS_MASTER_FILE, KEYS_DB_FILE, KEYS_DB_FILE "-wal",
	                                     KEYS_DB_FILE "-shm", KEYS_URL_FILE };
	struct stat ks;
	char path[1024];
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(names); i++)
		if (dir != NULL && ink_path(path, sizeof(path), dir, names[i]) == 0 &&
		    stat(path, &ks) == 0 && ks.st_dev == st->st_dev && ks.st_ino == st->st_ino)
			return true;
	return false;
}

/* Reads the token user PIN (first line of a 0600 file of ours, in directories nobody but root
 * or we can change, and none of the key store's files) into secmem. */
static int
read_pin(const char *dir, const char *path, char **out)
{
	struct stat st;
	char *pin = NULL, canon[PATH_MAX], why[PATH_MAX + 128];
	size_t got = 0;
	ssize_t n;
	int fd, r = INK_ERR_IO;

	*out = NULL;
	if ((r = ink_path_trusted(path, geteuid(), INK_TRUST_STICKY, canon, sizeof(canon), why,
	                          sizeof(why))) != 0) {
		log_error("pkcs11_pin_file %s%s: %s", path, r == INK_ERR_NOT_FOUND ? "" : " refused",
		          why);
		return INK_ERR_CONFIG;
	}
	if ((fd = open(canon, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_error("pkcs11_pin_file %s: %s", path, strerror(errno));
		return INK_ERR_CONFIG;
	}
	r = INK_ERR_IO;
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		log_error("pkcs11_pin_file %s: must be a regular file of ours with mode 0600", path);
		r = INK_ERR_CONFIG;
		goto out;
	}
	if (key_store_file(dir, &st)) {
		log_error("pkcs11_pin_file %s refused: it is a file of the key store", path);
		r = INK_ERR_CONFIG;
		goto out;
	}
	if ((pin = secmem_alloc(P11_PIN_MAX + 1)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	while (got < P11_PIN_MAX) {
		n = read(fd, pin + got, P11_PIN_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	pin[got] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	if (*pin == '\0') {
		log_error("pkcs11_pin_file %s: empty", path);
		r = INK_ERR_CONFIG;
		goto out;
	}
	*out = pin;
	pin = NULL;
	r = 0;
out:
	close(fd);
	secmem_free(pin);
	return r;
}

static int
find_slot(struct keys_p11 *p, const char *label, CK_SLOT_ID *slot)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i, found = 0;
	CK_TOKEN_INFO ti;
	uint8_t want[P11_LABEL_LEN];
	size_t len = strlen(label);
	CK_RV rv;
	int r = INK_ERR_CONFIG;

	if (len == 0 || len > P11_LABEL_LEN) {
		log_error("pkcs11_token_label: 1 to %d bytes", P11_LABEL_LEN);
		return INK_ERR_CONFIG;
	}
	memset(want, ' ', sizeof(want));
	memcpy(want, label, len);
	if ((rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK || n == 0) {
		log_error("PKCS#11: no token present (0x%lx)", (unsigned long)rv);
		return INK_ERR_CONFIG;
	}
	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return INK_ERR_ALLOC;
	if ((rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		log_error("PKCS#11 C_GetSlotList: 0x%lx", (unsigned long)rv);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    memcmp(ti.label, want, sizeof(want)) != 0)
			continue;
		if ((ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		*slot = slots[i];
		found++;
	}
	if (found != 1) {
		log_error("PKCS#11: %lu initialised tokens labelled '%s' (need exactly one)",
		          (unsigned long)found, label);
		goto out;
	}
	r = 0;
out:
	free(slots);
	return r;
}

/* Finds the token's master secret, or makes it on first use. */
static int
find_or_make_master(struct keys_p11 *p)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG vlen = 32, n = 0;
	CK_OBJECT_HANDLE h[2];
	CK_ATTRIBUTE find[] = {
		ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt), ATTR(CKA_TOKEN, &ck_true),
		ATTR_N(CKA_LABEL, P11_MASTER_LABEL, strlen(P11_MASTER_LABEL)),
	};
	CK_ATTRIBUTE make[] = {
		ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt), ATTR(CKA_VALUE_LEN, &vlen),
		ATTR(CKA_TOKEN, &ck_true), ATTR(CKA_PRIVATE, &ck_true),
		ATTR(CKA_SENSITIVE, &ck_true), ATTR(CKA_EXTRACTABLE, &ck_false),
		ATTR(CKA_DERIVE, &ck_true), ATTR(CKA_ENCRYPT, &ck_false), ATTR(CKA_DECRYPT, &ck_false),
		ATTR(CKA_WRAP, &ck_false), ATTR(CKA_UNWRAP, &ck_false), ATTR(CKA_SIGN, &ck_false),
		ATTR(CKA_VERIFY, &ck_false), ATTR(CKA_MODIFIABLE, &ck_false),
		ATTR_N(CKA_LABEL, P11_MASTER_LABEL, strlen(P11_MASTER_LABEL)),
	};
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_RV rv;

	if ((rv = p->f->C_FindObjectsInit(p->session, find, INK_ARRAY_LEN(find))) != CKR_OK)
		goto fail;
	rv = p->f->C_FindObjects(p->session, h, INK_ARRAY_LEN(h), &n);
	(void)p->f->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK)
		goto fail;
	if (n > 1) {
		log_error("PKCS#11: more than one '%s' on the token", P11_MASTER_LABEL);
		return INK_ERR_CONFIG;
	}
	if (n == 1) {
		p->master = h[0];
		return 0;
	}
	if ((rv = p->f->C_GenerateKey(p->session, &mech, make, INK_ARRAY_LEN(make), &p->master)) !=
	    CKR_OK)
		goto fail;
	log_info("PKCS#11: made the token master secret '%s'", P11_MASTER_LABEL);
	return 0;
fail:
	log_error("PKCS#11 master secret: 0x%lx", (unsigned long)rv);
	return INK_ERR_CRYPTO;
}

int
keys_p11_open(const char *dir, const struct keys_params *kp, struct keys_p11 **out)
{
	struct keys_p11 *p = NULL;
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	CK_SLOT_ID slot = 0;
	char *pin = NULL, path[1024], module[PATH_MAX];
	const char *pf = kp->pkcs11_pin_file;
	CK_RV rv;
	int r;

	*out = NULL;
	if ((r = module_allowed(kp->pkcs11_module, kp->pkcs11_allowed_modules, module,
	                        sizeof(module))) != 0)
		return r;
	if (pf == NULL || *pf == '\0') {
		log_error("pkcs11_pin_file is not set");
		return INK_ERR_CONFIG;
	}
	if (*pf != '/') {
		if (dir == NULL || (r = ink_path(path, sizeof(path), dir, pf)) != 0)
			return INK_ERR_CONFIG;
		pf = path;
	}
	if ((r = read_pin(dir, pf, &pin)) != 0)
		return r;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	r = INK_ERR_CONFIG;
	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_error("PKCS#11 module: %s", dlerror());
		goto out;
	}
	getfl = (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList");
	if (getfl == NULL || getfl(&p->f) != CKR_OK || p->f == NULL) {
		log_error("PKCS#11 module %s: no C_GetFunctionList", kp->pkcs11_module);
		goto out;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		log_error("PKCS#11 C_Initialize: 0x%lx", (unsigned long)rv);
		goto out;
	}
	p->finalize = rv == CKR_OK;
	if ((r = find_slot(p, kp->pkcs11_token_label != NULL ? kp->pkcs11_token_label : "", &slot)) != 0)
		goto out;
	p->slot = slot;
	r = INK_ERR_CONFIG;
	if ((rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                              &p->session)) != CKR_OK) {
		log_error("PKCS#11 C_OpenSession: 0x%lx", (unsigned long)rv);
		goto out;
	}
	p->have_session = true;
	rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		log_error("PKCS#11 C_Login: 0x%lx%s", (unsigned long)rv,
		          rv == CKR_PIN_INCORRECT ? " (wrong token PIN in pkcs11_pin_file)" : "");
		goto out;
	}
	p->logged_in = rv == CKR_OK;
	if ((r = find_or_make_master(p)) != 0)
		goto out;
	*out = p;
	p = NULL;
	r = 0;
out:
	secmem_free(pin);
	keys_p11_close(p);
	return r;
}

void
keys_p11_close(struct keys_p11 *p)
{
	if (p == NULL)
		return;
	if (p->f != NULL) {
		if (p->logged_in)
			(void)p->f->C_Logout(p->session);
		if (p->have_session)
			(void)p->f->C_CloseSession(p->session);
		if (p->finalize)
			(void)p->f->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p);
}

/* A blank-padded PKCS#11 text field as a C string, anything but printable ASCII as '?'. */
static void
p11_text(const CK_UTF8CHAR *in, size_t n, char *out)
{
	size_t i;

	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\0'))
		n--;
	for (i = 0; i < n; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? (char)in[i] : '?';
	out[n] = '\0';
}

int
keys_token_info(const struct keys *k, struct keys_token_info *out)
{
	const struct keys_p11 *p = k->p11;
	CK_INFO li;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return INK_ERR_NOT_FOUND;
	if (p->f->C_GetInfo(&li) != CKR_OK || p->f->C_GetSlotInfo(p->slot, &si) != CKR_OK ||
	    p->f->C_GetTokenInfo(p->slot, &ti) != CKR_OK)
		return INK_ERR_CRYPTO;
	p11_text(li.manufacturerID, sizeof(li.manufacturerID), out->library_manufacturer);
	p11_text(li.libraryDescription, sizeof(li.libraryDescription), out->library_description);
	out->library_major = li.libraryVersion.major;
	out->library_minor = li.libraryVersion.minor;
	out->cryptoki_major = li.cryptokiVersion.major;
	out->cryptoki_minor = li.cryptokiVersion.minor;
	p11_text(si.slotDescription, sizeof(si.slotDescription), out->slot_description);
	out->slot_flags = si.flags;
	p11_text(ti.manufacturerID, sizeof(ti.manufacturerID), out->manufacturer);
	p11_text(ti.model, sizeof(ti.model), out->model);
	p11_text(ti.label, sizeof(ti.label), out->label);
	p11_text(ti.serialNumber, sizeof(ti.serialNumber), out->serial);
	out->flags = ti.flags;
	out->hw_major = ti.hardwareVersion.major;
	out->hw_minor = ti.hardwareVersion.minor;
	out->fw_major = ti.firmwareVersion.major;
	out->fw_minor = ti.firmwareVersion.minor;
	return 0;
}

/* ---- the per-credential wrapping key ---- */

int
keys_p11_derive_data(const struct keys *k, const struct keys_kdf *cost, const char *pin,
                     const uint8_t *salt, size_t saltlen,
                     const char *id, const char *owner, const char *algo,
                     uint8_t data[static KEYS_P11_DATA_LEN])
{
	const char *parts[] = { id, owner, algo };
	EVP_MD_CTX *ctx = NULL;
	uint8_t *a = NULL;
	unsigned int dl = 0;
	size_t i;
	int r = INK_ERR_CRYPTO;

	if ((a = secmem_alloc(32)) == NULL)
		return INK_ERR_ALLOC;
	if ((r = keys_pin_stretch(k, cost, pin, salt, saltlen, a)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	/* data = SHA-256("inkan p11 v1" 0 || Argon2id(PIN, salt) || id 0 || owner 0 || algo 0):
	 * bound to the credential like the soft backend's associated data. */
	if ((ctx = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, P11_DATA_LABEL, sizeof(P11_DATA_LABEL)) != 1 ||
	    EVP_DigestUpdate(ctx, a, 32) != 1)
		goto out;
	for (i = 0; i < INK_ARRAY_LEN(parts); i++)
		if (EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, data, &dl) != 1 || dl != KEYS_P11_DATA_LEN)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	secmem_free(a);
	if (r != 0)
		OPENSSL_cleanse(data, KEYS_P11_DATA_LEN);
	return r;
}

static void
destroy(struct keys_p11 *p, CK_OBJECT_HANDLE *h)
{
	if (*h != CK_INVALID_HANDLE && p->f->C_DestroyObject(p->session, *h) != CKR_OK)
		log_error("PKCS#11: cannot destroy a session object");
	*h = CK_INVALID_HANDLE;
}

/* A session AES-256 key AES-ECB(master secret, data), for wrapping and unwrapping only. */
static int
derive_wrap_key(struct keys_p11 *p, const uint8_t data[static KEYS_P11_DATA_LEN],
                CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ULONG vlen = 32;
	CK_KEY_DERIVATION_STRING_DATA sd = { (CK_BYTE_PTR)data, KEYS_P11_DATA_LEN };
	CK_MECHANISM mech = { CKM_AES_ECB_ENCRYPT_DATA, &sd, sizeof(sd) };
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt), ATTR(CKA_VALUE_LEN, &vlen),
		ATTR(CKA_TOKEN, &ck_false), ATTR(CKA_PRIVATE, &ck_true),
		ATTR(CKA_SENSITIVE, &ck_true), ATTR(CKA_EXTRACTABLE, &ck_false),
		ATTR(CKA_WRAP, &ck_true), ATTR(CKA_UNWRAP, &ck_true), ATTR(CKA_ENCRYPT, &ck_false),
		ATTR(CKA_DECRYPT, &ck_false), ATTR(CKA_DERIVE, &ck_false),
	};
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	if ((rv = p->f->C_DeriveKey(p->session, &mech, p->master, t, INK_ARRAY_LEN(t), out)) !=
	    CKR_OK) {
		log_error("PKCS#11 C_DeriveKey: 0x%lx", (unsigned long)rv);
		*out = CK_INVALID_HANDLE;
		return INK_ERR_CRYPTO;
	}
	return 0;
}

/* ---- public keys out of the token ---- */

struct curve_def {
	const char *curve;        /* our name */
	const char *group;        /* OpenSSL group name */
	const uint8_t *oid;       /* DER OBJECT IDENTIFIER for CKA_EC_PARAMS */
	size_t oid_len;
};

static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };

static const struct curve_def curves[] = {
	{ "P-256", "prime256v1", oid_p256, sizeof(oid_p256) },
	{ "P-384", "secp384r1", oid_p384, sizeof(oid_p384) },
	{ "P-521", "secp521r1", oid_p521, sizeof(oid_p521) },
};

static const struct curve_def *
curve_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < INK_ARRAY_LEN(curves); i++)
		if (strcmp(curves[i].curve, name) == 0)
			return &curves[i];
	return NULL;
}

/* One attribute's value, malloc'd. */
static int
get_attr(struct keys_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, uint8_t **out,
         size_t *outlen)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	uint8_t *v = NULL;

	*out = NULL;
	*outlen = 0;
	if (p->f->C_GetAttributeValue(p->session, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION || a.ulValueLen == 0 ||
	    a.ulValueLen > P11_BLOB_MAX || (v = malloc(a.ulValueLen)) == NULL)
		return INK_ERR_CRYPTO;
	a.pValue = v;
	if (p->f->C_GetAttributeValue(p->session, h, &a, 1) != CKR_OK) {
		free(v);
		return INK_ERR_CRYPTO;
	}
	*out = v;
	*outlen = a.ulValueLen;
	return 0;
}

static int
pub_from_params(const char *type, OSSL_PARAM *params, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx = NULL;
	int r = INK_ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) != NULL &&
	    EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int
read_ec_pub(struct keys_p11 *p, CK_OBJECT_HANDLE h, const struct curve_def *c, EVP_PKEY **out)
{
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM params[3];
	const uint8_t *pp;
	uint8_t *v = NULL;
	size_t vlen = 0;
	int r;

	if ((r = get_attr(p, h, CKA_EC_POINT, &v, &vlen)) != 0)
		return r;
	/* CKA_EC_POINT is DER: OCTET STRING holding the uncompressed point. */
	pp = v;
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &pp, (long)vlen)) == NULL || pp != v + vlen) {
		r = INK_ERR_CRYPTO;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)c->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	                                              (void *)ASN1_STRING_get0_data(os),
	                                              (size_t)ASN1_STRING_length(os));
	params[2] = OSSL_PARAM_construct_end();
	r = pub_from_params("EC", params, out);
out:
	ASN1_OCTET_STRING_free(os);
	free(v);
	return r;
}

static int
read_rsa_pub(struct keys_p11 *p, CK_OBJECT_HANDLE h, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t *nv = NULL, *ev = NULL;
	size_t nlen = 0, elen = 0;
	int r;

	if ((r = get_attr(p, h, CKA_MODULUS, &nv, &nlen)) != 0 ||
	    (r = get_attr(p, h, CKA_PUBLIC_EXPONENT, &ev, &elen)) != 0)
		goto out;
	r = INK_ERR_CRYPTO;
	if ((n = BN_bin2bn(nv, (int)nlen, NULL)) == NULL || (e = BN_bin2bn(ev, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	r = pub_from_params("RSA", params, out);
out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nv);
	free(ev);
	return r;
}

/* ---- wrap and unwrap ---- */

static int
wrap(struct keys_p11 *p, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE key, uint8_t **blob, size_t *bloblen)
{
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ULONG n = 0;
	uint8_t *b = NULL;
	CK_RV rv;

	*blob = NULL;
	*bloblen = 0;
	if ((rv = p->f->C_WrapKey(p->session, &mech, wk, key, NULL, &n)) != CKR_OK ||
	    n == 0 || n > P11_BLOB_MAX)
		goto fail;
	if ((b = malloc(n + 1)) == NULL)
		return INK_ERR_ALLOC;
	b[0] = P11_BLOB_VERSION;
	if ((rv = p->f->C_WrapKey(p->session, &mech, wk, key, b + 1, &n)) != CKR_OK)
		goto fail;
	*blob = b;
	*bloblen = n + 1;
	return 0;
fail:
	log_error("PKCS#11 C_WrapKey: 0x%lx", (unsigned long)rv);
	free(b);
	return INK_ERR_CRYPTO;
}

/* Unwraps blob under the key derived from data into a session private key; INK_ERR_AUTH when
 * the wrapping does not check out (wrong PIN, another token, a foreign or altered blob). The
 * key is extractable (wrappable) only for a PIN change. */
static int
unwrap(struct keys_p11 *p, const uint8_t data[static KEYS_P11_DATA_LEN], const uint8_t *blob,
       size_t len, enum policy_key_type type, bool extractable, CK_OBJECT_HANDLE *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = type == POLICY_KEY_RSA ? CKK_RSA : CKK_EC;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_ATTRIBUTE t[] = {
		ATTR(CKA_CLASS, &cls), ATTR(CKA_KEY_TYPE, &kt), ATTR(CKA_TOKEN, &ck_false),
		ATTR(CKA_PRIVATE, &ck_true), ATTR(CKA_SENSITIVE, &ck_true),
		ATTR(CKA_EXTRACTABLE, extractable ? &ck_true : &ck_false), ATTR(CKA_SIGN, &ck_true),
		ATTR(CKA_DECRYPT, &ck_false), ATTR(CKA_DERIVE, &ck_false),
		ATTR(CKA_UNWRAP, &ck_false),
	};
	CK_OBJECT_HANDLE wk = CK_INVALID_HANDLE;
	CK_RV rv;
	int r;

	*out = CK_INVALID_HANDLE;
	if (type != POLICY_KEY_RSA && type != POLICY_KEY_EC)
		return INK_ERR_POLICY;
	if (blob == NULL || len < 2 || len > P11_BLOB_MAX || blob[0] != P11_BLOB_VERSION)
		return INK_ERR_AUTH;
	if ((r = derive_wrap_key(p, data, &wk)) != 0)
		return r;
	rv = p->f->C_UnwrapKey(p->session, &mech, wk, (CK_BYTE_PTR)(blob + 1), len - 1, t,
	                       INK_ARRAY_LEN(t), out);
	destroy(p, &wk);
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_WRAPPED_KEY_INVALID:
	case CKR_WRAPPED_KEY_LEN_RANGE:
	case CKR_ENCRYPTED_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_LEN_RANGE:
	/* SoftHSM 2.6 answers a failed RFC 5649 integrity check with CKR_GENERAL_ERROR. The
	 * derivation just before worked, so the token and session are fine: the wrapping key
	 * is not the one the blob was made under (wrong PIN, another token, altered blob). */
	case CKR_GENERAL_ERROR:
		*out = CK_INVALID_HANDLE;
		return INK_ERR_AUTH;
	default:
		*out = CK_INVALID_HANDLE;
		log_error("PKCS#11 C_UnwrapKey: 0x%lx", (unsigned long)rv);
		return INK_ERR_CRYPTO;
	}
}

int
keys_p11_generate(struct keys *k, enum policy_key_type type, int bits, const char *curve,
                  const uint8_t data[static KEYS_P11_DATA_LEN], EVP_PKEY **pub, uint8_t **blob,
                  size_t *bloblen)
{
	struct keys_p11 *p = k->p11;
	const struct curve_def *c = NULL;
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_ULONG modbits = (CK_ULONG)bits;
	static const uint8_t f4[] = { 0x01, 0x00, 0x01 };
	CK_ATTRIBUTE pubt[4] = {
		ATTR(CKA_TOKEN, &ck_false), ATTR(CKA_VERIFY, &ck_true),
	};
	CK_ATTRIBUTE privt[] = {
		ATTR(CKA_TOKEN, &ck_false), ATTR(CKA_PRIVATE, &ck_true),
		ATTR(CKA_SENSITIVE, &ck_true),
		/* Extractable only so that it can be wrapped; it is sensitive, so never in the clear. */
		ATTR(CKA_EXTRACTABLE, &ck_true), ATTR(CKA_SIGN, &ck_true),
		ATTR(CKA_DECRYPT, &ck_false), ATTR(CKA_DERIVE, &ck_false),
	};
	CK_ULONG npub = 2;
	CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE, wk = CK_INVALID_HANDLE;
	CK_RV rv;
	int r;

	*pub = NULL;
	*blob = NULL;
	*bloblen = 0;
	if (p == NULL)
		return INK_ERR_CONFIG;
	switch (type) {
	case POLICY_KEY_EC:
		if ((c = curve_find(curve)) == NULL)
			return INK_ERR_POLICY;
		pubt[npub++] = (CK_ATTRIBUTE)ATTR_N(CKA_EC_PARAMS, c->oid, c->oid_len);
		break;
	case POLICY_KEY_RSA:
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		pubt[npub++] = (CK_ATTRIBUTE)ATTR(CKA_MODULUS_BITS, &modbits);
		pubt[npub++] = (CK_ATTRIBUTE)ATTR_N(CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
		break;
	default:
		/* Ed25519 stays with the software backend: refused in pkcs11 mode. */
		log_op("key type not available with key_backend = pkcs11");
		return INK_ERR_POLICY;
	}
	if ((rv = p->f->C_GenerateKeyPair(p->session, &mech, pubt, npub, privt, INK_ARRAY_LEN(privt),
	                                  &hpub, &hpriv)) != CKR_OK) {
		log_error("PKCS#11 C_GenerateKeyPair: 0x%lx", (unsigned long)rv);
		hpub = hpriv = CK_INVALID_HANDLE;
		r = INK_ERR_CRYPTO;
		goto out;
	}
	if (type == POLICY_KEY_EC)
		r = read_ec_pub(p, hpub, c, pub);
	else
		r = read_rsa_pub(p, hpub, pub);
	if (r != 0)
		goto out;
	if ((r = derive_wrap_key(p, data, &wk)) != 0 || (r = wrap(p, wk, hpriv, blob, bloblen)) != 0)
		goto out;
	r = 0;
out:
	destroy(p, &wk);
	destroy(p, &hpriv);
	destroy(p, &hpub);
	if (r != 0) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	return r;
}

int
keys_p11_check(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN], const uint8_t *blob,
               size_t len, enum policy_key_type type)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	int r;

	if (k->p11 == NULL)
		return INK_ERR_CONFIG;
	r = unwrap(k->p11, data, blob, len, type, false, &h);
	destroy(k->p11, &h);
	return r;
}

/* ---- signing ---- */

/* DigestInfo ::= SEQUENCE { AlgorithmIdentifier (with NULL parameters), OCTET STRING digest }. */
static int
digest_info(const EVP_MD *md, const uint8_t *dg, size_t dglen, uint8_t **out, int *outlen)
{
	X509_SIG *sig = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *obj;
	int r = INK_ERR_CRYPTO;

	*out = NULL;
	*outlen = 0;
	if ((obj = OBJ_nid2obj(EVP_MD_get_type(md))) == NULL || (sig = X509_SIG_new()) == NULL)
		goto out;
	X509_SIG_getm(sig, &alg, &os);
	if (X509_ALGOR_set0(alg, obj, V_ASN1_NULL, NULL) != 1 ||
	    ASN1_OCTET_STRING_set(os, dg, (int)dglen) != 1 || (*outlen = i2d_X509_SIG(sig, out)) <= 0)
		goto out;
	r = 0;
out:
	X509_SIG_free(sig);
	return r;
}

static int
pss_params(const EVP_MD *md, long salt, CK_RSA_PKCS_PSS_PARAMS *pp)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		pp->hashAlg = CKM_SHA256;
		pp->mgf = CKG_MGF1_SHA256;
		break;
	case NID_sha384:
		pp->hashAlg = CKM_SHA384;
		pp->mgf = CKG_MGF1_SHA384;
		break;
	case NID_sha512:
		pp->hashAlg = CKM_SHA512;
		pp->mgf = CKG_MGF1_SHA512;
		break;
	default:
		return INK_ERR_POLICY;   /* SHA-3 PSS is not offered in pkcs11 mode */
	}
	pp->sLen = (CK_ULONG)salt;
	return 0;
}

/* Raw r || s (PKCS#11 CKM_ECDSA) to DER ECDSA-Sig-Value. */
static int
ecdsa_der(const uint8_t *raw, size_t len, uint8_t **out, size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *rr = NULL, *ss = NULL;
	uint8_t *der = NULL;
	int n, r = INK_ERR_CRYPTO;

	if (len == 0 || len % 2 != 0 || (es = ECDSA_SIG_new()) == NULL ||
	    (rr = BN_bin2bn(raw, (int)(len / 2), NULL)) == NULL ||
	    (ss = BN_bin2bn(raw + len / 2, (int)(len / 2), NULL)) == NULL)
		goto out;
	if (ECDSA_SIG_set0(es, rr, ss) != 1)
		goto out;
	rr = ss = NULL;
	if ((n = i2d_ECDSA_SIG(es, &der)) <= 0)
		goto out;
	if ((*out = malloc((size_t)n)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(*out, der, (size_t)n);
	*outlen = (size_t)n;
	r = 0;
out:
	OPENSSL_free(der);
	BN_free(rr);
	BN_free(ss);
	ECDSA_SIG_free(es);
	return r;
}

static int
sign_one(struct keys_p11 *p, CK_OBJECT_HANDLE key, enum policy_key_type type, long pss_salt,
         const EVP_MD *md, const uint8_t *dg, size_t dglen, uint8_t **sig, size_t *siglen)
{
	CK_RSA_PKCS_PSS_PARAMS pp;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	uint8_t raw[P11_SIG_MAX], *di = NULL, *s = NULL;
	const uint8_t *in = dg;
	CK_ULONG inlen = dglen, rawlen = sizeof(raw);
	int dilen = 0, r;
	CK_RV rv;

	*sig = NULL;
	*siglen = 0;
	if (type == POLICY_KEY_RSA && pss_salt >= 0) {
		if ((r = pss_params(md, pss_salt, &pp)) != 0)
			return r;
		mech.mechanism = CKM_RSA_PKCS_PSS;
		mech.pParameter = &pp;
		mech.ulParameterLen = sizeof(pp);
	} else if (type == POLICY_KEY_RSA) {
		if ((r = digest_info(md, dg, dglen, &di, &dilen)) != 0)
			return r;
		mech.mechanism = CKM_RSA_PKCS;
		in = di;
		inlen = (CK_ULONG)dilen;
	}
	r = INK_ERR_CRYPTO;
	if ((rv = p->f->C_SignInit(p->session, &mech, key)) != CKR_OK ||
	    (rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)in, inlen, raw, &rawlen)) != CKR_OK) {
		log_error("PKCS#11 sign: 0x%lx", (unsigned long)rv);
		goto out;
	}
	if (type == POLICY_KEY_EC) {
		r = ecdsa_der(raw, rawlen, sig, siglen);
		goto out;
	}
	if ((s = malloc(rawlen)) == NULL) {
		r = INK_ERR_ALLOC;
		goto out;
	}
	memcpy(s, raw, rawlen);
	*sig = s;
	*siglen = rawlen;
	r = 0;
out:
	OPENSSL_free(di);
	return r;
}

int
keys_p11_sign(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN], const uint8_t *blob,
              size_t len, enum policy_key_type type, long pss_salt, const EVP_MD *md,
              const uint8_t *const *digests, const size_t *digest_lens, size_t n, uint8_t **sigs,
              size_t *sig_lens)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		sigs[i] = NULL;
		sig_lens[i] = 0;
	}
	if (k->p11 == NULL)
		return INK_ERR_CONFIG;
	if ((r = unwrap(k->p11, data, blob, len, type, false, &h)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = sign_one(k->p11, h, type, pss_salt, md, digests[i], digest_lens[i], &sigs[i],
		                  &sig_lens[i])) != 0)
			goto out;
	r = 0;
out:
	destroy(k->p11, &h);
	if (r != 0) {
		for (i = 0; i < n; i++) {
			free(sigs[i]);
			sigs[i] = NULL;
			sig_lens[i] = 0;
		}
	}
	return r;
}

int
keys_p11_rewrap(struct keys *k, enum policy_key_type type,
                const uint8_t old_data[static KEYS_P11_DATA_LEN],
                const uint8_t new_data[static KEYS_P11_DATA_LEN], const uint8_t *blob, size_t len,
                uint8_t **out, size_t *outlen)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, wk = CK_INVALID_HANDLE;
	int r;

	*out = NULL;
	*outlen = 0;
	if (k->p11 == NULL)
		return INK_ERR_CONFIG;
	if ((r = unwrap(k->p11, old_data, blob, len, type, true, &h)) != 0 ||
	    (r = derive_wrap_key(k->p11, new_data, &wk)) != 0 ||
	    (r = wrap(k->p11, wk, h, out, outlen)) != 0)
		goto out;
	r = 0;
out:
	destroy(k->p11, &wk);
	destroy(k->p11, &h);
	return r;
}

/* ---- test hook ---- */

int
keys_p11_test_probe(struct keys *k, const uint8_t data[static KEYS_P11_DATA_LEN],
                    const uint8_t *blob, size_t len, enum policy_key_type type,
                    struct keys_p11_probe *out)
{
	struct keys_p11 *p = k->p11;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE, wk = CK_INVALID_HANDLE;
	CK_MECHANISM mech = { CKM_AES_KEY_WRAP_PAD, NULL, 0 };
	CK_BBOOL ext = CK_TRUE, sens = CK_FALSE, never = CK_FALSE;
	CK_ATTRIBUTE flags[] = {
		ATTR(CKA_EXTRACTABLE, &ext), ATTR(CKA_SENSITIVE, &sens),
		ATTR(CKA_NEVER_EXTRACTABLE, &never),
	};
	uint8_t buf[P11_BLOB_MAX];
	CK_ATTRIBUTE secret = { type == POLICY_KEY_RSA ? CKA_PRIVATE_EXPONENT : CKA_VALUE, buf,
		                sizeof(buf) };
	CK_ULONG n = sizeof(buf);

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return INK_ERR_CONFIG;
	if ((out->unwrap = unwrap(p, data, blob, len, type, false, &h)) != 0)
		return 0;
	out->flags_rv = p->f->C_GetAttributeValue(p->session, h, flags, INK_ARRAY_LEN(flags));
	out->extractable = ext == CK_TRUE;
	out->sensitive = sens == CK_TRUE;
	out->never_extractable = never == CK_TRUE;
	out->value_rv = p->f->C_GetAttributeValue(p->session, h, &secret, 1);
	out->value_len = secret.ulValueLen;
	if (derive_wrap_key(p, data, &wk) == 0)
		out->wrap_rv = p->f->C_WrapKey(p->session, &mech, wk, h, buf, &n);
	OPENSSL_cleanse(buf, sizeof(buf));
	destroy(p, &wk);
	destroy(p, &h);
	return 0;
}
