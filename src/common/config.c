/* config: every setting in one typed table (name, type, bounds, default, help). */
#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_OID };

struct cfg_entry {
	const char *name;
	enum cfg_type type;
	size_t offset;
	size_t size;        /* CFG_STR: destination array size */
	int64_t min, max;   /* CFG_INT bounds */
	const char *def;    /* default as text; "" for none */
	const char *help;
};

#define STR(n, m, d, h) { n, CFG_STR, offsetof(struct ink_config, m), sizeof(((struct ink_config *)0)->m), 0, 0, d, h }
/* A dotted OID; min 1: required, 0: may be empty. */
#define OID(n, m, req, d, h) { n, CFG_OID, offsetof(struct ink_config, m), sizeof(((struct ink_config *)0)->m), req, 0, d, h }
#define INT(n, m, lo, hi, d, h) { n, CFG_INT, offsetof(struct ink_config, m), 0, lo, hi, d, h }
#define BOOL(n, m, d, h) { n, CFG_BOOL, offsetof(struct ink_config, m), 0, 0, 0, d, h }

static const struct cfg_entry cfg_table[] = {
	STR("listen_signer", listen_signer, "127.0.0.1:8443", "HOST:PORT of the CSC signer API"),
	STR("listen_admin", listen_admin, "", "HOST:PORT of the administration API (empty: same as listen_signer)"),
	STR("listen_public", listen_public, "", "HOST:PORT of the public endpoints (empty: same as listen_signer)"),
	STR("listen_metrics", listen_metrics, "unix:metrics.sock", "where GET /metrics (Prometheus text format) is served, never on the other listeners: unix:PATH (a socket of mode 0660; PATH relative to DATA/inkand/) or a loopback HOST:PORT (plain HTTP); empty: no metrics"),
	BOOL("plain_http", plain_http, "false", "serve plain HTTP instead of HTTPS (refused unless every address is loopback)"),
	STR("tls_cert", tls_cert, "tls/cert.pem", "TLS certificate chain (PEM), relative to DATA/inkand/"),
	STR("tls_key", tls_key, "tls/key.pem", "TLS private key (PEM), relative to DATA/inkand/"),
	INT("max_body", max_body, 1024, 256 * 1024 * 1024, "1048576", "largest accepted request body in bytes"),
	INT("threads", threads, 1, 256, "4", "HTTP worker threads of a listener without signers; SAM channels (at least one per core)"),
	INT("session_ttl", session_ttl, 60, 86400, "3600", "bearer token lifetime in seconds"),
	INT("max_login_failures", max_login_failures, 1, 100, "5", "failed logins before the account locks"),
	INT("password_min_len", password_min_len, 8, 128, "12", "shortest accepted password"),
	INT("argon2_memory_kib", argon2_m_kib, 8192, 4 * 1024 * 1024, "65536", "Argon2id memory cost in KiB"),
	INT("argon2_iterations", argon2_t, 1, 64, "3", "Argon2id time cost"),
	INT("argon2_parallelism", argon2_p, 1, 16, "1", "Argon2id lanes"),
	INT("argon2_slots", argon2_slots, 0, 256, "0", "Argon2id runs (logins, PIN checks) at once, inkand and inkan-sam together (0: the CPU count)"),
	INT("argon2_queue", argon2_queue, 0, 256, "64", "requests that may wait for an Argon2id slot; beyond: 503 with Retry-After"),
	INT("verify_slots", verify_slots, 0, 256, "0", "signature validations (POST /api/v1/verify) at once (0: the CPU count)"),
	INT("verify_queue", verify_queue, 0, 256, "64", "validations that may wait for a slot; beyond: 503 with Retry-After"),
	INT("max_connections", max_connections, 16, 10000, "1000", "concurrent connections per listener"),
	INT("max_connections_per_source", max_connections_per_source, 1, 10000, "64", "concurrent connections from one source address (a trusted proxy: unlimited)"),
	INT("header_timeout", header_timeout, 1, 300, "10", "seconds a connection may take from its start (or its previous reply) to a request's complete header"),
	INT("request_timeout", request_timeout, 1, 3600, "60", "seconds a request body may take to arrive"),
	INT("login_rate", login_rate, 1, 100000, "60", "login attempts per source per minute; beyond: 429 with Retry-After"),
	INT("max_body_total", max_body_total, 1048576, INT64_C(16) * 1024 * 1024 * 1024, "268435456", "bytes all request bodies held at once may take; beyond: 503"),
	STR("trusted_proxies", trusted_proxies, "", "numeric addresses of load balancers whose X-Forwarded-For names the source (space or comma separated)"),
	INT("totp_window", totp_window, 0, 3, "1", "accepted TOTP steps either side of now"),
	INT("assurance_level", assurance_level, 1, 4, "3", "assurance level 1-4: sets the PIN length floor, the SAD lifetime and multisign ceilings, RSA-2048, the key backend (4: PKCS#11 only) and the TSA's clock check at once (docs/configuration.md, \"Assurance levels\")"),
	STR("alert_journal_socket", alert_journal_socket, "/run/systemd/journal/socket", "security alerts go to the journal through this socket where it exists (native protocol, stable MESSAGE_ID)"),
	STR("alert_syslog_socket", alert_syslog_socket, "/dev/log", "... else to syslog through this socket (authpriv.warning, the alert's name in the text); empty: the log line only"),
	BOOL("allow_software_keys", allow_software_keys, "false", "tests only: run assurance level 4 with software keys (key_backend = soft)"),
	INT("cert_days", cert_days, 1, 3650, "730", "signer certificate lifetime in days"),
	INT("cert_minutes", cert_minutes, 0, 525600, "0", "signer certificate lifetime in minutes instead of cert_days (0: cert_days): short-lived certificates; below a day only at assurance levels 1-2 (docs/configuration.md)"),
	OID("cert_policy_oid", cert_policy_oid, 0, "", "certificatePolicies OID written into signer certificates (empty: none)"),
	STR("public_url", public_url, "https://127.0.0.1:8443", "base URL of the public endpoints; the CRL is at PUBLIC_URL/ca/crl"),
	STR("ca_base_url", ca_base_url, "", "base URL written into issued certificates for their CRL (BASE/ca/crl) and OCSP responder (BASE/ocsp), e.g. the address behind a proxy (empty: public_url); read at certificate issuance"),
	STR("ca_organization", ca_organization, "inkan", "organization (O=) of the built-in CA and of signer certificates"),
	OID("tsa_policy_oid", tsa_policy_oid, 1, "0.4.0.2023.1.1", "policy OID of the built-in RFC 3161 time-stamp authority (default: ETSI EN 319 421 best-practices-ts-policy)"),
	BOOL("tsa_require_synced_clock", tsa_require_synced_clock, "false", "refuse time-stamps (RFC 3161 timeNotAvailable) while the kernel reports the clock unsynchronised or its maximum error above the declared accuracy of 1 s; checked by inkan-sam itself"),
	INT("pin_max_failures", pin_max_failures, 1, 100, "5", "wrong signing PINs before a credential locks"),
	INT("pin_min_len", pin_min_len, 0, 64, "0", "shortest signing PIN accepted for a new key or a PIN change, at least the assurance level's (0: the level's; trivial PINs are refused at any length)"),
	INT("sad_ttl", sad_ttl, 10, 3600, "300", "seconds a signature activation data (SAD) stays valid"),
	INT("multisign", multisign, 1, 1000, "100", "most hashes one credentials/authorize may cover"),
	INT("oauth_code_ttl", oauth_code_ttl, 5, 60, "60", "seconds an OAuth authorization code lives before the client must have redeemed it"),
	INT("oauth_service_token_ttl", oauth_service_token_ttl, 60, 3600, "600", "seconds a service-scope OAuth access token (credentials/list and credentials/info only) lives"),
	INT("oauth_refresh_ttl", oauth_refresh_ttl, 300, 2592000, "86400", "seconds a service-scope OAuth grant lives: its refresh tokens, rotated at each use, all end this long after the signer's consent"),
	BOOL("allow_explicit_authorize", allow_explicit_authorize, "true", "accept credentials/authorize, where the client forwards the signer's PIN and OTP (false: only the OAuth consent page of /oauth2/authorize activates a key)"),
	STR("oauth_issuer", oauth_issuer, "", "the OAuth authorization server's issuer URL: a private_key_jwt client assertion must name it, or ISSUER/oauth2/token, as its aud (empty: http(s)://ADDRESS of the signer listener that took the request, as bound)"),
	STR("key_backend", key_backend, "soft", "where signers' keys are made: soft (AES-256-GCM under master key and PIN) or pkcs11 (generated in a token, leave it only wrapped)"),
	STR("pkcs11_module", pkcs11_module, "", "PKCS#11 module for key_backend = pkcs11 (absolute path; must be in pkcs11_allowed_modules; it and every directory above it root's and writable by nobody else)"),
	STR("pkcs11_allowed_modules", pkcs11_allowed_modules, "/usr/lib/softhsm/libsofthsm2.so", "colon-separated PKCS#11 module paths that may be loaded"),
	STR("pkcs11_token_label", pkcs11_token_label, "inkan", "label of the PKCS#11 token holding the wrapping master secret"),
	STR("pkcs11_pin_file", pkcs11_pin_file, "pkcs11.pin", "file holding the token user PIN (mode 0600, inkan-sam's), relative to DATA/sam/"),
	STR("external_ca_file", external_ca_file, "", "PEM bundle of the external CAs (roots and intermediates) whose signer certificates may be linked to pending keys, relative to DATA/sam/; read by inkan-sam only (empty: external certificates are refused)"),
	STR("service_name", service_name, "inkan remote signing service", "name shown by /csc/v2/info"),
	STR("lang", lang, "en-US", "language of /csc/v2/info"),
	STR("log_level", log_level, "info", "debug, info, warn or error"),
	STR("database", database, "", "inkand's database: empty for the SQLite file DATA/inkand/inkan.db, or a libpq URI postgresql://... for PostgreSQL (several nodes; docs/scaling.md); a password in it is refused: libpq reads it from a passfile (passfile=, 0600)"),
	STR("user", user, "", "Unix user inkand runs as once started as root (empty: stay as started); DATA/inkand is handed to it"),
	STR("sam_user", sam_user, "", "Unix user inkan-sam runs as (needs inkand started as root and user set, and differs from it); DATA/sam is handed to it"),
	INT("audit_checkpoint_interval", audit_checkpoint_interval, 1, 86400, "60", "seconds between signed checkpoints of the audit log (one is also made at shutdown and before every export or proof)"),
	INT("backup_max_age_days", backup_max_age_days, 1, 3650, "7", "the compliance report's 12.3.1 is met only when the last key store backup is at most this many days old"),
	INT("audit_retention", audit_retention, 0, 3153600000LL, "0", "age in seconds after which audit records are also copied into a signed archive file in DATA/inkand/audit-archive/ (0: never); records are never deleted"),
	INT("audit_clock_tolerance", audit_clock_tolerance, 0, 3600, "5", "seconds the clock may go back before a clock.backwards audit event is written"),
	INT("audit_refusal_interval", audit_refusal_interval, 1, 86400, "60", "seconds over which refusals of unauthenticated requests are counted per source address; one audit.refusals record per source at the end of each (and at shutdown)"),
	INT("audit_refusal_burst", audit_refusal_burst, 0, 1000, "5", "refusals of one action from one source address written as records of their own in each audit_refusal_interval before the rest are only counted"),
	INT("tsa_rate", tsa_rate, 0, 100000, "100", "time-stamp requests a second (/tsa and signatures/timestamp) for the whole service, with a burst of as many (0: no limit); beyond it 429 with Retry-After"),
	INT("ocsp_validity", ocsp_validity, 300, 7 * 86400, "3600", "seconds from an OCSP response's thisUpdate to its nextUpdate; a pre-produced response (request without nonce) is signed anew after half of it, or at once when the certificate's status changed"),
	INT("ocsp_cache_max_age", ocsp_cache_max_age, 0, 7 * 86400, "60", "seconds an HTTP cache in front of the responder may keep a GET answer without a nonce (RFC 5019 max-age, never past its nextUpdate; 0: no-cache); a cache delays revocations by up to this long for clients that send no nonce"),
	INT("ocsp_rate", ocsp_rate, 0, 100000, "100", "OCSP responses signed a second (requests with a nonce, or not answered from the pre-produced ones) for the whole service, with a burst of as many (0: no limit); beyond it the OCSP answer tryLater"),
	INT("ocsp_client_rate", ocsp_client_rate, 0, 100000, "20", "OCSP responses signed a second for one source address, with a burst of as many (0: no limit); beyond it the OCSP answer tryLater"),
	INT("tsa_client_rate", tsa_client_rate, 0, 100000, "20", "time-stamp requests a second for one client (a signer of signatures/timestamp, else the source address of /tsa), with a burst of as many (0: no limit); beyond it 429 with Retry-After"),
};

/* "0|1|2" then one or more ".digits": the syntax of a dotted OID. */
static bool
oid_syntax_ok(const char *s)
{
	size_t arcs = 0;

	if (s[0] < '0' || s[0] > '2' || s[1] != '.')
		return false;
	for (s++; *s == '.'; arcs++) {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0' && arcs > 0;
}

static int
cfg_apply(struct ink_config *cfg, const struct cfg_entry *e, const char *value, char *err, size_t errsz)
{
	uint8_t *base = (uint8_t *)cfg;
	char *end;
	long long v;

	switch (e->type) {
	case CFG_OID:
		if ((*value != '\0' || e->min == 1) && !oid_syntax_ok(value)) {
			snprintf(err, errsz, "%s: a dotted OID is expected, e.g. 1.2.392.200091.1", e->name);
			return INK_ERR_CONFIG;
		}
		/* fall through */
	case CFG_STR:
		if (strlen(value) >= e->size) {
			snprintf(err, errsz, "%s: value too long (max %zu bytes)", e->name, e->size - 1);
			return INK_ERR_CONFIG;
		}
		memcpy(base + e->offset, value, strlen(value) + 1);
		return 0;
	case CFG_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < e->min || v > e->max) {
			snprintf(err, errsz, "%s: must be an integer in [%lld, %lld]", e->name,
			         (long long)e->min, (long long)e->max);
			return INK_ERR_CONFIG;
		}
		*(int64_t *)(base + e->offset) = v;
		return 0;
	case CFG_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
			*(bool *)(base + e->offset) = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
			*(bool *)(base + e->offset) = false;
		else {
			snprintf(err, errsz, "%s: must be true or false", e->name);
			return INK_ERR_CONFIG;
		}
		return 0;
	}
	return INK_ERR_INTERNAL;
}

int
config_set(struct ink_config *cfg, const char *key, const char *value, char *err, size_t errsz)
{
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(cfg_table); i++)
		if (strcmp(cfg_table[i].name, key) == 0)
			return cfg_apply(cfg, &cfg_table[i], value, err, errsz);
	snprintf(err, errsz, "unknown setting '%.64s'", key);
	return INK_ERR_CONFIG;
}

void
config_defaults(struct ink_config *cfg, const char *dir)
{
	char err[256];
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", dir);
	for (i = 0; i < INK_ARRAY_LEN(cfg_table); i++)
		if (cfg_apply(cfg, &cfg_table[i], cfg_table[i].def, err, sizeof(err)) != 0)
			log_bug("default for %s rejected: %s", cfg_table[i].name, err);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(struct ink_config *cfg, const char *path, char *err, size_t errsz)
{
	char *text = NULL, *line, *save = NULL, *eq, msg[256];
	int r, lineno = 0;

	if ((r = ink_read_file(path, 1 << 20, &text, NULL)) != 0) {
		snprintf(err, errsz, "%s: %s", path, ink_err_str(r));
		return r;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errsz, "%s:%d: expected 'key = value'", path, lineno);
			r = INK_ERR_CONFIG;
			goto out;
		}
		*eq = '\0';
		if ((r = config_set(cfg, trim(line), trim(eq + 1), msg, sizeof(msg))) != 0) {
			snprintf(err, errsz, "%s: %s", path, msg);
			goto out;
		}
	}
	r = 0;
out:
	free(text);
	return r;
}

int
config_write_default(const struct ink_config *cfg, const char *path)
{
	struct ink_buf b;
	char line[512];
	size_t i;
	int r, n;

	(void)cfg;
	buf_init(&b, 1 << 16, false);
	n = snprintf(line, sizeof(line), "# inkan configuration: `key = value`; every key is listed "
	             "with its default. See docs/configuration.md.\n");
	if ((r = buf_put(&b, line, (size_t)n)) != 0)
		goto out;
	for (i = 0; i < INK_ARRAY_LEN(cfg_table); i++) {
		n = snprintf(line, sizeof(line), "\n# %s\n%s%s = %s\n", cfg_table[i].help,
		             cfg_table[i].def[0] == '\0' ? "# " : "", cfg_table[i].name,
		             cfg_table[i].def);
		if (n < 0 || (size_t)n >= sizeof(line)) {
			r = INK_ERR_INTERNAL;
			goto out;
		}
		if ((r = buf_put(&b, line, (size_t)n)) != 0)
			goto out;
	}
	r = ink_write_file(path, b.data, b.len, 0640);
out:
	buf_free(&b);
	return r;
}

int
config_print_table(FILE *f)
{
	static const char *const types[] = {
		[CFG_STR] = "text", [CFG_INT] = "integer", [CFG_BOOL] = "true or false",
		[CFG_OID] = "dotted OID",
	};
	const struct cfg_entry *e;
	size_t i;

	for (i = 0; i < INK_ARRAY_LEN(cfg_table); i++) {
		e = &cfg_table[i];
		if (e->type == CFG_INT)
			fprintf(f, "%s\t%s\t%lld to %lld\t%s\t%s\n", e->name, types[e->type],
			        (long long)e->min, (long long)e->max, e->def, e->help);
		else
			fprintf(f, "%s\t%s\t\t%s\t%s\n", e->name, types[e->type], e->def, e->help);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : INK_ERR_IO;
}

unsigned
config_slots(int64_t setting)
{
	long n;

	if (setting > 0)
		return (unsigned)setting;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)(n < INK_GATE_SLOTS_MAX ? n : INK_GATE_SLOTS_MAX) : 1u;
}
