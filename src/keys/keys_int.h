/* keys_int: what the key manager's own files share; nothing outside src/keys/ includes it. */
#ifndef INKAN_KEYS_INT_H
#define INKAN_KEYS_INT_H

#include <openssl/evp.h>
#include <sqlite3.h>

#include "keys/keys.h"

struct keys {
	uint8_t *master;           /* KEYS_MASTER_LEN bytes of secmem */
	sqlite3 *db;
	struct keys_params params;
	char crl_url[256];
	char policy_oid[128];
	char organization[128];
};

/* Runs one statement with no result rows inside the key store; INK_ERR_STORE on failure. */
int keys_exec(struct keys *k, const char *sql);

/* Issues a signer certificate from the built-in issuing CA for pkey (ca_store.c). */
int keys_ca_issue(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj, uint8_t **der,
                  size_t *len, char serial_hex[static 41], int64_t *not_before,
                  int64_t *not_after) INK_WUR;
/* A PKCS#10 request for an external CA, signed by pkey. */
int keys_ca_csr(struct keys *k, EVP_PKEY *pkey, const struct keys_subject *subj, uint8_t **der,
                size_t *len) INK_WUR;
/* Checks an external certificate for pkey at the configured level. */
int keys_ca_check(struct keys *k, const uint8_t *der, size_t len, EVP_PKEY *pub,
                  char serial_hex[static 41], int64_t *not_before, int64_t *not_after) INK_WUR;
/* Records a revoked serial and renews the CRL. */
int keys_ca_revoke(struct keys *k, const char *serial_hex, int reason, int64_t when) INK_WUR;

#endif
