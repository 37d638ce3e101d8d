/* attest: inkan-sam's own reading of what it enforces (ISO/IEC 27017 report, docs/compliance.md)
 * — the assurance level and what it sets, its attempt limits, its key backend and the PKCS#11
 * token by the token's own description, its identity, its files' modes and what its key store
 * holds — signed with the audit log key, so that inkand relays it and cannot change it. */
#include "sam/sam.h"
#include "sam/sam_int.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <p11-kit/pkcs11.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "keys/keys.h"
#include "policy/policy.h"

#define NONCE_MAX 64

struct text {
	char buf[AUDIT_ATTEST_MAX];
	size_t len;
	bool full;
};

/* Adds "name=value\n"; a control character in the value becomes '?' (one line per claim). */
static void INK_PRINTF(3, 4)
claim(struct text *t, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	size_t i;
	int n;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			v[i] = '?';
	n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s=%s\n", name, v);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->full = true;
	else
		t->len += (size_t)n;
}

/* A file of the SAM's directory: "MODE uid N" in octal, or "absent". */
static void
file_claim(struct text *t, const struct ink_config *cfg, const char *name, const char *file)
{
	char path[1024];
	struct stat sb;

	if (ink_path(path, sizeof(path), cfg->data_dir, file) != 0 || stat(path, &sb) != 0)
		claim(t, name, "absent");
	else
		claim(t, name, "%04o uid %lu", (unsigned)(sb.st_mode & 07777), (unsigned long)sb.st_uid);
}

/* Only a token in a hardware slot that is not a known software token counts as hardware. */
static bool
is_hardware(const struct keys_token_info *ti)
{
	return (ti->slot_flags & CKF_HW_SLOT) != 0 && strcasestr(ti->manufacturer, "softhsm") == NULL &&
	    strcasestr(ti->model, "softhsm") == NULL &&
	    strcasestr(ti->library_manufacturer, "softhsm") == NULL &&
	    strcasestr(ti->library_description, "softhsm") == NULL;
}

static void
token_claims(struct text *t, struct keys *k)
{
	struct keys_token_info ti;
	int r = keys_token_info(k, &ti);

	if (r == INK_ERR_NOT_FOUND) {
		claim(t, "pkcs11_token_kind", "none");
		return;
	}
	if (r != 0) {
		claim(t, "pkcs11_token_kind", "unknown (the module did not describe itself)");
		return;
	}
	claim(t, "pkcs11_token_kind", "%s", is_hardware(&ti) ? "hardware token" :
	      "software token (not an HSM)");
	claim(t, "pkcs11_library_manufacturer", "%s", ti.library_manufacturer);
	claim(t, "pkcs11_library_description", "%s", ti.library_description);
	claim(t, "pkcs11_library_version", "%u.%u", ti.library_major, ti.library_minor);
	claim(t, "pkcs11_cryptoki_version", "%u.%u", ti.cryptoki_major, ti.cryptoki_minor);
	claim(t, "pkcs11_slot_description", "%s", ti.slot_description);
	claim(t, "pkcs11_slot_flags", "0x%lx", ti.slot_flags);
	claim(t, "pkcs11_token_manufacturer", "%s", ti.manufacturer);
	claim(t, "pkcs11_token_model", "%s", ti.model);
	claim(t, "pkcs11_token_label", "%s", ti.label);
	claim(t, "pkcs11_token_serial", "%s", ti.serial);
	claim(t, "pkcs11_token_flags", "0x%lx", ti.flags);
	claim(t, "pkcs11_token_hardware_version", "%u.%u", ti.hw_major, ti.hw_minor);
	claim(t, "pkcs11_token_firmware_version", "%u.%u", ti.fw_major, ti.fw_minor);
}

static int
census_claims(struct text *t, struct keys *k)
{
	static const char *const roles[] = { "security_officer", "system_administrator",
	                                     "system_operator", "system_auditor",
	                                     "registration_officer", "signer" };
	struct keys_census c;
	char name[64];
	size_t i;
	int r;

	if ((r = keys_census(k, &c)) != 0)
		return r;
	claim(t, "persons", "%lld", (long long)c.persons);
	for (i = 0; i < INK_ARRAY_LEN(roles); i++) {
		snprintf(name, sizeof(name), "persons_%s", roles[i]);
		claim(t, name, "%lld", (long long)c.roles[i]);
	}
	claim(t, "privileged_signers", "%lld", (long long)c.privileged_signers);
	claim(t, "all_privileged_roles_held", "%lld", (long long)c.all_privileged);
	claim(t, "security_officer_conflicts", "%lld", (long long)c.officer_conflicts);
	claim(t, "credentials_usable", "%lld", (long long)c.usable_credentials);
	claim(t, "credentials", "%s", c.credentials);
	return 0;
}

/* string nonce (<= 64 bytes, inkand's: the attestation is fresh) -> cstring text, string
 * signature, string log public key (SPKI DER). */
int
sam_handle_attest(struct sam_state *s, struct ink_buf *req, struct ink_buf *rep)
{
	const struct ink_config *cfg = s->cfg;
	const struct policy_level *lv = policy_level_of(cfg->assurance_level);
	struct text *t = NULL;
	struct ink_clock ck;
	struct audit_head h;
	const uint8_t *nonce;
	uint8_t sig[AUDIT_SIG_MAX], *spki = NULL, *spki2 = NULL;
	size_t nlen = 0, sig_len = 0, spki_len = 0, spki2_len = 0;
	char hex[2 * NONCE_MAX + 1], fpr[AUDIT_FPR_HEX];
	bool closed = false;
	int r;

	if (buf_get_string_ptr(req, &nonce, &nlen, NONCE_MAX) != 0 || buf_remaining(req) != 0)
		return INK_ERR_PROTOCOL;
	if (lv == NULL)
		return INK_ERR_CONFIG;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return INK_ERR_ALLOC;
	if ((r = keys_log_head(s->keys, &h, &closed, &spki, &spki_len)) != 0)
		goto out;
	audit_key_fingerprint(spki, spki_len, fpr);
	hex_encode(nonce, nlen, hex);
	t->len = (size_t)snprintf(t->buf, sizeof(t->buf), "%s", AUDIT_ATTEST_PREFIX);
	claim(t, "time", "%lld", (long long)ink_now());
	claim(t, "nonce", "%s", hex);
	claim(t, "log_key_sha256", "%s", fpr);
	claim(t, "pid", "%ld", (long)getpid());
	claim(t, "uid", "%lu", (unsigned long)getuid());
	claim(t, "euid", "%lu", (unsigned long)geteuid());
	claim(t, "gid", "%lu", (unsigned long)getgid());
	claim(t, "assurance_level", "%d", lv->level);
	claim(t, "pin_min_len", "%zu", policy_pin_min(cfg));
	claim(t, "level_pin_min_len", "%zu", lv->pin_min_len);
	claim(t, "pin_max_failures", "%lld", (long long)cfg->pin_max_failures);
	claim(t, "max_login_failures", "%lld", (long long)cfg->max_login_failures);
	claim(t, "totp_window", "%lld", (long long)cfg->totp_window);
	claim(t, "sad_ttl", "%lld", (long long)cfg->sad_ttl);
	claim(t, "level_sad_ttl_max", "%lld", (long long)lv->sad_ttl_max);
	claim(t, "multisign", "%lld", (long long)cfg->multisign);
	claim(t, "level_multisign_max", "%lld", (long long)lv->multisign_max);
	claim(t, "rsa2048", "%s", lv->rsa2048 ? "accepted until 2030 (warning)" : "refused");
	claim(t, "pkcs11_required", "%s", lv->pkcs11_required ? "yes" : "no");
	claim(t, "allow_software_keys", "%s", cfg->allow_software_keys ? "yes" : "no");
	claim(t, "tsa_requires_synced_clock", "%s",
	      policy_tsa_needs_synced_clock(cfg) ? "yes" : "no");
	claim(t, "argon2", "m=%lld KiB t=%lld p=%lld", (long long)cfg->argon2_m_kib,
	      (long long)cfg->argon2_t, (long long)cfg->argon2_p);
	claim(t, "key_backend", "%s", cfg->key_backend);
	claim(t, "pkcs11_module", "%s", cfg->pkcs11_module);
	token_claims(t, s->keys);
	file_claim(t, cfg, "master_key_file", "sam/master.key");
	file_claim(t, cfg, "keystore_file", "sam/keystore.db");
	file_claim(t, cfg, "sam_dir", "sam");
	if ((r = census_claims(t, s->keys)) != 0)
		goto out;
	if (ink_clock_state(&ck) == 0)
		claim(t, "clock", "%s, maximum error %lld us", ck.synced ? "synchronised" :
		      "not synchronised", (long long)ck.maxerror_us);
	else
		claim(t, "clock", "unknown");
	claim(t, "openssl_version", "%s", OpenSSL_version(OPENSSL_VERSION));
	claim(t, "sqlite_version", "%s", sqlite3_libversion());
	if (t->full) {
		r = INK_ERR_TOO_LARGE;
		goto out;
	}
	if ((r = keys_log_attest(s->keys, t->buf, sig, &sig_len, &spki2, &spki2_len)) != 0)
		goto out;
	if (spki2_len != spki_len || memcmp(spki, spki2, spki_len) != 0) {
		r = INK_ERR_CRYPTO;   /* the log key changed under us: ask again */
		goto out;
	}
	if ((r = buf_put_cstring(rep, t->buf)) == 0 && (r = buf_put_string(rep, sig, sig_len)) == 0)
		r = buf_put_string(rep, spki, spki_len);
out:
	free(spki);
	free(spki2);
	free(t);
	return r;
}
